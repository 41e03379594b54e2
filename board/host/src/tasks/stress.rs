// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board stress`: the stress and hostile-input suite
//! (board/target-tests/nlchan-stress) on the emulated board's debug kernel
//! (KASAN, UBSAN, kmemleak, lockdep, atomic-sleep and object debugging).
//!
//! Builds the image around the debug kernel (outputs under
//! `target/board/debug`), boots it, takes a kmemleak baseline, runs the
//! suite over the serial console and parses its KTAP, then scans kmemleak
//! and the whole kernel log. The verdict is the suite's KTAP and a clean
//! kernel log: any BUG, WARNING, KASAN/UBSAN report, lockdep splat or
//! kmemleak leak fails it.

use crate::build::kernel;
use crate::device::console::Console;
use crate::device::shell::{self, pause};
use crate::device::stress;
use crate::report::ktap::Report;
use crate::run::project::Project;
use crate::{device::qemu, run::sh};
use anyhow::{bail, Context, Result};
use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The suite takes about 12 minutes on an idle 2-core machine (under TCG,
/// with KASAN and lockdep); this hard limit leaves room for a loaded one.
const SUITE_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const KMEMLEAK: &str = "/sys/kernel/debug/kmemleak";

/// Kernel log lines that fail the run: the reports of the debug options
/// (and of plain BUG/WARN/oops). Matched case-sensitively, as printed.
const SPLATS: &[&str] = &[
    "BUG:",                    // BUG: KASAN ..., BUG: sleeping function ..., spinlock bugs
    "kernel BUG",              // BUG()
    "WARNING:",                // WARN(), lockdep "WARNING: possible circular locking ..."
    "KASAN:",                  // KASAN report headers
    "UBSAN:",                  // UBSAN reports
    "ODEBUG:",                 // debug objects
    "Oops:",                   // oops
    "Unable to handle kernel", // ARM faults
    "Internal error",
    "possible recursive locking",
    "possible circular locking",
    "inconsistent lock state",
    "lock held when returning",
    "suspicious RCU usage",
    "INFO: trying to register non-static key",
    "suspected memory leak", // kmemleak: N new suspected memory leaks
    "Kernel panic",
    "turning off the locking correctness validator",
];

/// The board-side filter: a superset of [`SPLATS`], so only candidate
/// lines cross the serial line (the log holds a whole fuzzing run).
const PREFILTER: &str = "BUG|WARNING|KASAN|UBSAN|ODEBUG|Oops|Unable to handle|Internal error|locking|lock state|lock held|RCU usage|non-static key|memory leak|panic|correctness validator";

/// Lines of `log` that are kernel splats.
pub fn splats(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| SPLATS.iter().any(|s| l.contains(s)))
        .collect()
}

/// The kmemleak reports after two scans (an object must be unreferenced
/// in consecutive scans and older than 5 s to be reported).
fn kmemleak_scan(c: &mut Console) -> Result<String> {
    let t = Duration::from_secs(600);
    shell::must(c, &format!("echo scan >{KMEMLEAK}"), t)
        .context("kmemleak does not accept a scan: is it disabled? see dmesg")?;
    // Not `sleep 6`: see [`pause`].
    shell::must(c, &format!("{}; echo scan >{KMEMLEAK}", pause("6")), t)?;
    shell::must(c, &format!("cat {KMEMLEAK}"), t)
}

/// The KUnit suite's own cases, from the results file the stress suite
/// prints (`# kunit: ` lines): the suite's subtest, one level in, read by
/// the same KTAP parser as every other report. None when it printed none.
fn kunit_report(out: &str) -> Option<Report> {
    let sub: Vec<&str> = out
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter_map(|l| l.strip_prefix("# kunit: "))
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| !l.starts_with(' '))
        .collect();
    (!sub.is_empty()).then(|| Report::parse(&sub.join("\n")))
}

/// Paths an allocation is planted in (app/src/plant.rs `PATHS`).
const PLANTED: [&str; 5] = ["request", "batch", "lost", "listen", "listen-json"];

/// Runs the planted-allocation checker (image::PLANTED_CHECKER) once per
/// path: each run must fail, and name that path with a non-zero count.
fn planted(c: &mut Console) -> Result<bool> {
    let checker = format!("/{}", crate::build::image::PLANTED_CHECKER);
    shell::must(c, "modprobe nlchan", Duration::from_secs(60))?;
    let mut ok = true;
    for path in PLANTED {
        let (out, code) = shell::run(
            c,
            &format!("{checker} --count 200 --plant {path}"),
            Duration::from_secs(300),
        )?;
        let count = out
            .lines()
            .find_map(|l| l.strip_prefix(&format!("nlchan-alloc-check: {path}: ")))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<u64>().ok());
        let verdict = out
            .lines()
            .find_map(|l| l.strip_prefix("nlchan-alloc-check: FAILED: "))
            .unwrap_or("");
        let caught =
            code == 1 && count.is_some_and(|n| n > 0) && verdict.split(' ').any(|p| p == path);
        eprintln!(
            "    planted in {path}: exit {code}, {path}: {} allocations, failed phases: {verdict} -> {}",
            count.map_or("?".to_string(), |n| n.to_string()),
            if caught { "caught" } else { "NOT CAUGHT" }
        );
        if !caught {
            eprintln!("{out}");
            ok = false;
        }
    }
    Ok(ok)
}

/// Builds the debug image, boots it, runs the suite; returns the verdict.
pub fn run(p: &Project, verbose: bool) -> Result<bool> {
    let dp = p.variant("debug")?;
    let b = crate::build::image::build_with(&dp, &kernel::DEBUG)?;
    let (_emu, mut console) = sh::step("boot the debug kernel (QEMU orangepi-pc)", || {
        let start = Instant::now();
        let (emu, mut c) = qemu::boot(b.board, &b.kernel, &b.dtb, &b.initramfs, &dp.out, verbose)?;
        shell::wait_for_shell(&mut c, Duration::from_secs(600))?;
        eprintln!("    shell on ttyS0 after {}", sh::dur(start.elapsed()));
        Ok((emu, c))
    })?;
    let c = &mut console;
    sh::step(
        "kmemleak baseline (leaks from boot, before the suite)",
        || kmemleak_baseline(c),
    )?;
    let (out, mut ok) = sh::step("stress suite over the serial console", || suite(c))?;
    ok &= kunit_verdict(&out);
    ok &= sh::step(
        "planted allocations: the zero-allocation proof fails on each path",
        || planted(c),
    )?;
    ok &= sh::step("kmemleak scan after the suite", || kmemleak_after(c))?;
    ok &= sh::step("kernel log scan", || kernel_log_clean(c))?;
    eprintln!("    figures:");
    for f in stress::figures(&out) {
        eprintln!("      {f}");
    }
    Ok(ok)
}

/// The suite run by a child `cargo board stress` while the caller boots
/// other kernels: on two cores each QEMU (one vCPU under TCG) has one.
/// The child's output goes to a log, printed whole when it is awaited, so
/// the two runs' lines never interleave. The child leads a process group
/// of its own (its QEMU included), killed if it is dropped unawaited.
pub struct Background {
    child: Option<Child>,
    log: PathBuf,
    start: Instant,
}

/// Starts [`run`] in the background; see [`Background`].
pub fn start(p: &Project, verbose: bool) -> Result<Background> {
    fs::create_dir_all(&p.out)?;
    let log = p.out.join("stress-background.log");
    let file = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut c = Command::new(std::env::current_exe().context("cannot find this program")?);
    if verbose {
        c.arg("--verbose");
    }
    c.arg("stress")
        .current_dir(&p.root)
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .process_group(0);
    let child = c.spawn().context("cannot start `cargo board stress`")?;
    eprintln!(
        "    stress suite on the debug kernel: started in the background (pid {}), its output: {}",
        child.id(),
        log.display()
    );
    Ok(Background {
        child: Some(child),
        log,
        start: Instant::now(),
    })
}

impl Background {
    /// Waits for the suite, prints its output; whether it passed.
    pub fn wait(mut self) -> Result<bool> {
        let mut child = self.child.take().context("already awaited")?;
        let status = child
            .wait()
            .context("cannot wait for `cargo board stress`")?;
        let out = fs::read_to_string(&self.log)
            .with_context(|| format!("cannot read {}", self.log.display()))?;
        eprint!("{out}");
        eprintln!(
            "    (run in the background: {} in all, {status})",
            sh::dur(self.start.elapsed())
        );
        if !status.success() {
            // Repeated last: a CI excerpt keeps the tail of a long log.
            eprintln!("    what failed in the background suite:");
            for line in failures(&out) {
                eprintln!("      {line}");
            }
        }
        Ok(status.success())
    }
}

/// The lines of a suite's log that report a failure (case verdicts, step
/// verdicts, kernel log and kmemleak findings, errors), each with the
/// detail lines under it (deeper indented, or `#` diagnostics), in order.
fn failures(log: &str) -> Vec<&str> {
    const DETAIL_LINES: usize = 20;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let is_failure = |l: &str| {
        l.starts_with("FAIL")
            || l.starts_with("not ok")
            || l.starts_with("error")
            || l.starts_with("Caused by")
            || l.contains(": FAILED")
            || (l.starts_with("kernel log: ") && l != "kernel log: clean")
            || (l.starts_with("kmemleak") && l.contains("nlchan"))
    };
    let mut out = Vec::new();
    let mut under: Option<(usize, usize)> = None; // (indent, lines kept)
    for line in log.lines() {
        let t = line.trim();
        if let Some((depth, kept)) = under {
            if kept < DETAIL_LINES && !t.is_empty() && (indent(line) > depth || t.starts_with('#'))
            {
                out.push(t);
                under = Some((depth, kept + 1));
                continue;
            }
            under = None;
        }
        if is_failure(t) {
            out.push(t);
            under = Some((indent(line), 0));
        }
    }
    out
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
        }
    }
}

/// Mounts debugfs, scans, and clears what boot left (the verdict is about
/// what the suite leaks); fails if nlchan objects are among them.
fn kmemleak_baseline(c: &mut Console) -> Result<()> {
    shell::must(
        c,
        "grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug",
        Duration::from_secs(30),
    )?;
    let boot = kmemleak_scan(c)?;
    let objects = boot.matches("unreferenced object").count();
    eprintln!("    {objects} object(s) reported before the suite ran");
    if boot.contains("nlchan") {
        bail!("kmemleak reports nlchan objects from boot:\n{boot}");
    }
    shell::must(
        c,
        &format!("echo clear >{KMEMLEAK}"),
        Duration::from_secs(60),
    )?;
    Ok(())
}

/// Runs the suite (only the cases NLCHAN_STRESS_CASES names, if set: the
/// others are then SKIP and the verdict a failure); returns its output
/// and whether its KTAP passed.
fn suite(c: &mut Console) -> Result<(String, bool)> {
    let cases = std::env::var("NLCHAN_STRESS_CASES").unwrap_or_default();
    let words: Vec<&str> = cases.split_whitespace().collect();
    let command = stress::command(&words, &[]).context("NLCHAN_STRESS_CASES")?;
    let (out, code) = shell::run(c, &command, SUITE_TIMEOUT)?;
    let report = Report::parse(&out);
    report.print("stress suite");
    let ok = report.ok();
    if ok != (code == 0) {
        bail!(
            "nlchan-stress exited {code} but its KTAP says {}:\n{out}",
            if ok { "pass" } else { "fail" }
        );
    }
    Ok((out, ok))
}

/// Whether the KUnit suite's own results, printed by the stress suite,
/// are complete and passed.
fn kunit_verdict(out: &str) -> bool {
    let Some(k) = kunit_report(out) else {
        eprintln!("    KUnit: the suite printed no results");
        return false;
    };
    k.print("KUnit suite nlchan (request parsing)");
    let complete = k.header && k.plan == Some(k.cases.len() as u32);
    if !complete {
        eprintln!("    KUnit: the results are incomplete (plan {:?})", k.plan);
    }
    k.ok() && complete
}

/// Whether kmemleak finds nothing after the suite.
fn kmemleak_after(c: &mut Console) -> Result<bool> {
    let leaks = kmemleak_scan(c)?;
    let leaked = leaks.matches("unreferenced object").count();
    if leaked > 0 {
        eprintln!("    kmemleak: {leaked} unreferenced object(s):\n{leaks}");
        return Ok(false);
    }
    eprintln!("    kmemleak: no leak");
    Ok(true)
}

/// Whether the whole kernel log, from boot, is free of splats.
fn kernel_log_clean(c: &mut Console) -> Result<bool> {
    // The log must still start at boot, or the scan would miss lines.
    let first = shell::must(c, "dmesg | head -n 1", Duration::from_secs(60))?;
    if !first.contains("Booting Linux") {
        bail!("the kernel log wrapped (first line: {first:?}); enlarge CONFIG_LOG_BUF_SHIFT");
    }
    // Filter into a file first: the echo of a command line that holds
    // the pattern must not count as a match.
    shell::run(
        c,
        &format!("dmesg | grep -E '{PREFILTER}' >/tmp/splats"),
        Duration::from_secs(300),
    )?;
    let lines = shell::must(c, "cat /tmp/splats", Duration::from_secs(300))?;
    let found = splats(&lines);
    if found.is_empty() {
        eprintln!("    kernel log: clean");
        return Ok(true);
    }
    eprintln!("    kernel log: {} splat line(s):", found.len());
    for l in &found {
        eprintln!("      {l}");
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn failures_keep_their_detail_lines() {
        let log = "==> stress suite\n    PASS  1 a\n    FAIL  2 b\n    # want 1, got 0\n\
                   \x20   PASS  3 c\n    kernel log: clean\n    kernel log: 1 splat line(s):\n\
                   \x20     WARNING: at x\n    figures:\n      n=1\n";
        assert_eq!(
            super::failures(log),
            [
                "FAIL  2 b",
                "# want 1, got 0",
                "kernel log: 1 splat line(s):",
                "WARNING: at x"
            ]
        );
    }

    #[test]
    fn kunit_cases_from_the_results_file() {
        let out = "ok 15 fault_injection\r\n# kunit results begin\n\
                   # kunit: KTAP version 1\n# kunit: 1..1\n\
                   # kunit:     KTAP version 1\n# kunit:     # Subtest: nlchan\n\
                   # kunit:     1..2\n# kunit:     ok 1 nlchan_test_step\n\
                   # kunit:         # a nested line\n\
                   # kunit:     not ok 2 nlchan_test_parse\n# kunit: ok 1 nlchan\n\
                   # kunit results end\nok 16 kunit_request_parsing\n";
        let k = kunit_report(out).unwrap();
        assert!(k.header);
        assert_eq!(k.plan, Some(2));
        assert_eq!(k.cases.len(), 2);
        assert_eq!(k.passed(), 1);
        assert!(!k.ok());
        assert!(kunit_report("ok 1 x\n").is_none());
    }

    #[test]
    fn pause_rounds_a_refused_fraction_up() {
        let p = super::pause("0.1");
        assert!(p.contains("read -r -t 0.1 _"), "{p}");
        assert!(p.contains("[ $? -ne 2 ] || read -r -t 1 _"), "{p}");
        let p = super::pause("6");
        assert!(p.contains("read -r -t 6 _"), "{p}");
        assert!(!p.contains("$?"), "{p}");
    }

    use super::*;

    #[test]
    fn reports_of_every_checker_are_splats() {
        let log = "\
[    1.0] Booting Linux on physical CPU 0x0
[    2.0] kmemleak: Kernel memory leak detector initialized (mem pool available: 62000)
[    2.1] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
[    9.0] nlchan: netlink unit 30 ready
[   10.0] BUG: KASAN: slab-out-of-bounds in nlchan_input+0x10/0x20 [nlchan]
[   11.0] UBSAN: shift-out-of-bounds in nlchan_netlink.c:42:10
[   12.0] WARNING: CPU: 0 PID: 1 at kmod/nlchan_main.c:10 nlchan_init+0x1/0x2
[   13.0] WARNING: possible circular locking dependency detected
[   14.0] BUG: sleeping function called from invalid context at mm/slab.h:1
[   15.0] ODEBUG: free active (active state 0) object type: timer_list
[   16.0] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
";
        let found = splats(log);
        assert_eq!(found.len(), 7, "{found:?}");
        assert!(found[0].contains("KASAN"));
        assert!(found[6].contains("suspected memory leaks"));
    }

    #[test]
    fn ordinary_lines_are_not_splats() {
        let log = "[ 2.0] kmemleak: Kernel memory leak detector initialized\n\
            [ 9.0] nlchan: port 12 sent 5 bytes: \"hello\"\n\
            [ 9.1] coldplug: netlink-test bound to nlchan\n";
        assert!(splats(log).is_empty());
    }
}
