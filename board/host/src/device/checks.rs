// SPDX-License-Identifier: MIT OR Apache-2.0
//! The on-target checks, run in the board's shell
//! ([`crate::device::shell`]) by every task that has a booted image: the
//! smoke test `nlchan-smoke` and, where the image has it, the coexistence
//! suite `nlchan-coexist` (their KTAP read, a summary printed), the smoke
//! test again with the module on a unit, the init script's check; and the
//! smoke job on the emulated board.

use crate::build::image::Built;
use crate::device::console::Console;
use crate::device::shell;
use crate::report::ktap::Report;
use crate::run::project::Project;
use crate::{device::qemu, report::junit, run::sh};
use anyhow::Context;
use anyhow::{bail, Result};
use std::path::Path;
use std::time::Duration;
use std::time::Instant;

/// The coexistence suite (nlchan next to a driver squatting units 30 and
/// 31), installed with the test tools (board/target-tests `install-tests`):
/// the emulated board's image has it, a product image need not.
const COEXIST: &str = "/usr/lib/nlchan/tests/nlchan-coexist";

/// Runs one KTAP suite on the board; returns its report and output.
fn suite(
    c: &mut Console,
    command: &str,
    title: &str,
    timeout: Duration,
) -> Result<(Report, String)> {
    let (out, code) = shell::run(c, command, timeout)?;
    let report = Report::parse(&out);
    report.print(title);
    if report.ok() != (code == 0) {
        bail!(
            "{command} exited {code} but its KTAP says {}:\n{out}",
            if report.ok() { "pass" } else { "fail" }
        );
    }
    Ok((report, out))
}

/// One KTAP stream made of two: `second`'s results numbered after
/// `first`'s plan and named `prefix` + name, under one plan (the sum of
/// both, so that a case missing from either still fails it).
pub fn concat(first: &str, second: &str, prefix: &str) -> String {
    let plan = |r: &Report| r.plan.unwrap_or(r.cases.len() as u32 + 1);
    let (a, b) = (Report::parse(first), Report::parse(second));
    let offset = plan(&a);
    let mut out = format!("KTAP version 1\n1..{}\n", offset + plan(&b));
    let body = |text: &str| -> Vec<String> {
        crate::report::ktap::lines(text)
            .into_iter()
            .filter(|l| l.starts_with("ok ") || l.starts_with("not ok ") || l.starts_with("# "))
            .collect()
    };
    for l in body(first) {
        out.push_str(&l);
        out.push('\n');
    }
    for l in body(second) {
        let (verdict, rest) = match l.strip_prefix("not ok ") {
            Some(r) => ("not ok", r),
            None => match l.strip_prefix("ok ") {
                Some(r) => ("ok", r),
                None => {
                    out.push_str(&l);
                    out.push('\n');
                    continue;
                }
            },
        };
        match rest.split_once(' ') {
            Some((num, name)) if num.parse::<u32>().is_ok() => {
                let num: u32 = num.parse().unwrap_or(0);
                out.push_str(&format!("{verdict} {} {prefix}{name}\n", num + offset));
            }
            _ => {
                out.push_str(&l);
                out.push('\n');
            }
        }
    }
    out
}

/// Runs the smoke test, then the coexistence suite where the image has
/// it; returns their parsed report (one KTAP stream, the coexistence
/// cases numbered after the smoke test's and named `coexist.*`) and the
/// output it was parsed from.
pub fn smoke(c: &mut Console) -> Result<(Report, String)> {
    let (_, out) = suite(c, "nlchan-smoke", "smoke test", Duration::from_secs(300))?;
    let (_, code) = shell::run(c, &format!("[ -x {COEXIST} ]"), Duration::from_secs(30))?;
    if code != 0 {
        eprintln!("    ({COEXIST} is not installed: coexistence suite not run)");
        return Ok((Report::parse(&out), out));
    }
    let (_, co) = suite(c, COEXIST, "coexistence suite", Duration::from_secs(900))?;
    let merged = concat(&out, &co, "coexist.");
    let report = Report::parse(&merged);
    eprintln!(
        "    smoke test + coexistence suite: {} passed, {} failed (plan {})",
        report.passed(),
        report.failed(),
        report.plan.map_or("missing".to_string(), |p| p.to_string())
    );
    Ok((report, merged))
}

/// Where the second smoke run sets the module's unit: a file of its own in
/// the folder modprobe reads (the packages ship `nlchan.conf` there, which
/// stays as it is).
const UNIT_CONF: &str = "/etc/modprobe.d/nlchan-smoke-unit.conf";

/// The smoke test's second run, as on an image that wants the seed's
/// clients: `options nlchan unit=N` in modprobe.d, the module unloaded, then
/// `nlchan-smoke`, which loads it itself through modprobe and must find it
/// on unit `unit`; then the init script must load it there too. Afterwards
/// the option is removed and the module reloaded: `S50nlchan status` must
/// say what it said before.
pub fn smoke_on_unit(c: &mut Console, unit: u32) -> Result<Report> {
    let t = Duration::from_secs(60);
    let status = |c: &mut Console| -> Result<String> {
        let (out, _) = shell::run(c, "/etc/init.d/S50nlchan status", t)?;
        let lines = crate::report::ktap::lines(&out);
        Ok(lines
            .into_iter()
            .find(|l| l.starts_with("nlchan: "))
            .unwrap_or_default())
    };
    let before = status(c)?;
    shell::must(
        c,
        &format!("echo 'options nlchan unit={unit}' >{UNIT_CONF} && /etc/init.d/S50nlchan stop"),
        t,
    )?;
    let (report, out) = suite(
        c,
        "nlchan-smoke",
        &format!("smoke test, unit={unit}"),
        Duration::from_secs(300),
    )?;
    if !out.contains(&format!("# module unit: {unit}")) {
        bail!("nlchan-smoke did not load the module on unit {unit}:\n{out}");
    }
    shell::must(
        c,
        "/etc/init.d/S50nlchan stop && /etc/init.d/S50nlchan start",
        t,
    )?;
    let by_init = status(c)?;
    if by_init != format!("nlchan: loaded, unit {unit}") {
        bail!("S50nlchan start with {UNIT_CONF}: status says {by_init:?}");
    }
    shell::must(
        c,
        &format!("rm {UNIT_CONF} && /etc/init.d/S50nlchan stop && /etc/init.d/S50nlchan start"),
        t,
    )?;
    let after = status(c)?;
    if after != before {
        bail!(
            "after the unit={unit} run, S50nlchan status says {after:?}; before it said {before:?}"
        );
    }
    eprintln!("    S50nlchan with unit={unit}: {by_init}; restored: {after}");
    Ok(report)
}

/// What the smoke job on the emulated board runs after its smoke tests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Then {
    /// Nothing: the smoke job alone (`cargo board smoke`).
    Done,
    /// The stress suite's cases every kernel runs
    /// ([`crate::device::stress::EVERY_KERNEL`]), in the same boot.
    EveryKernelStress,
}

/// Boots the emulated board and runs the smoke test (the module as it
/// loads by default: generic netlink only), then again with the module on
/// the seed's unit 30, asked for in modprobe.d, then what `then` says;
/// returns whether all passed.
pub fn smoke_emulated(p: &Project, b: &Built, verbose: bool, then: Then) -> Result<bool> {
    smoke_emulated_to(p, b, verbose, None, then)
}

/// The same, also writing the smoke test's result as JUnit XML to `junit`.
pub fn smoke_emulated_to(
    p: &Project,
    b: &Built,
    verbose: bool,
    junit: Option<&Path>,
    then: Then,
) -> Result<bool> {
    let board = b.board;
    let machine = [&[board.machine][..], board.qemu_args].concat().join(" ");
    let what = format!("boot the emulated {} (QEMU {machine})", board.name);
    let (_emu, mut console) = sh::step(&what, || {
        let start = Instant::now();
        let (emu, mut c) = qemu::boot(board, &b.kernel, &b.dtb, &b.initramfs, &p.out, verbose)?;
        shell::wait_for_shell(&mut c, Duration::from_secs(180))?;
        let took = sh::dur(start.elapsed());
        eprintln!("    shell on {} after {took}", board.console);
        Ok((emu, c))
    })?;
    sh::step(
        "init script S50nlchan (ran at boot; status, stop, start)",
        || check_sysv_init(&mut console),
    )?;
    let ok = run_smoke(&mut console, junit)?;
    let unit30 = sh::step(
        "smoke test again, module on the seed's unit 30 (modprobe.d)",
        || smoke_on_unit(&mut console, 30),
    )?;
    let stress = match then {
        Then::Done => true,
        Then::EveryKernelStress => sh::step("stress suite, the cases every kernel runs", || {
            crate::device::stress::every_kernel(&mut console)
        })?,
    };
    Ok(ok && unit30.ok() && stress)
}

/// The smoke job on a console with a shell: the smoke test (and the
/// coexistence suite), its result also written as JUnit XML to `junit`.
pub fn run_smoke(console: &mut Console, junit: Option<&Path>) -> Result<bool> {
    let start = Instant::now();
    let (report, ktap) = sh::step("smoke test over the serial console", || smoke(console))?;
    if let Some(file) = junit {
        let xml = junit::xml(
            "nlchan-smoke",
            &report,
            &ktap,
            start.elapsed().as_secs_f64(),
        );
        std::fs::write(file, xml)
            .with_context(|| format!("cannot write JUnit report {}", file.display()))?;
        eprintln!("    JUnit XML: {}", file.display());
    }
    Ok(report.ok())
}

/// On the booted emulated board: /init ran `S50nlchan start`, so the
/// module is loaded; `stop` unloads it, `start` loads it again (through
/// modprobe and depmod's lists), and `status` says so each time (LSB exit
/// codes: 0 loaded, 3 not loaded).
pub fn check_sysv_init(c: &mut Console) -> Result<()> {
    let script = "/etc/init.d/S50nlchan";
    let steps: [(&str, i32, &str); 5] = [
        ("status", 0, "nlchan: loaded, unit none"),
        ("stop", 0, "Unloading nlchan: OK"),
        ("status", 3, "nlchan: not loaded"),
        ("start", 0, "Loading nlchan: OK"),
        ("status", 0, "nlchan: loaded, unit none"),
    ];
    for (action, want_code, want_text) in steps {
        let (raw, code) = shell::run(c, &format!("{script} {action}"), Duration::from_secs(30))?;
        // A real console also carries the kernel's messages, even inside
        // the script's lines.
        let out = crate::report::ktap::lines(&raw).join("\n");
        if code != want_code || !out.contains(want_text) {
            bail!("`{script} {action}` exited {code} printing {out:?}; want {want_code} and {want_text:?}");
        }
        let said = out
            .lines()
            .find(|l| l.contains(want_text))
            .unwrap_or_default();
        eprintln!("    {script} {action}: {said}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::concat;
    use crate::report::ktap::Report;

    #[test]
    fn second_suite_is_numbered_after_the_first() {
        let a = "nlchan-smoke; echo\r\nKTAP version 1\r\n1..2\r\nok 1 a\r\n# why\r\nnot ok 2 b\r\n";
        let b = "KTAP version 1\n1..2\nok 1 x\n[ 1.0] kernel line\nok 2 y # SKIP no\n";
        let m = concat(a, b, "coexist.");
        let r = Report::parse(&m);
        assert_eq!(r.plan, Some(4));
        let names: Vec<_> = r
            .cases
            .iter()
            .map(|c| (c.number, c.name.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![(1, "a"), (2, "b"), (3, "coexist.x"), (4, "coexist.y")]
        );
        assert!(r.cases[3].skipped);
        assert_eq!(r.failed(), 2);
        assert!(m.contains("# why\n"));
    }

    #[test]
    fn a_case_missing_from_either_suite_fails_the_whole() {
        let a = "KTAP version 1\n1..2\nok 1 a\n";
        let b = "KTAP version 1\n1..1\nok 1 x\n";
        let r = Report::parse(&concat(a, b, "c."));
        assert_eq!(r.plan, Some(3));
        assert!(!r.ok());
        let r = Report::parse(&concat("KTAP version 1\n1..1\nok 1 a\n", "garbage", "c."));
        assert!(!r.ok());
    }
}
