// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board bench`: the app against the project's C baselines, all in
//! one boot of the emulated board, printed as a table of figures and
//! ratios measured in this run. A benchmark, not a timed test: the targets
//! are shown as met or not; the command fails only when something did not
//! run or the broadcast accounting (delivered + lost = sent) is wrong.
//! The size row is the image's `nlchan` (the board's build: armv7 musl,
//! static) against the static C client; below it, for comparison, the same
//! app built the same way for armv7 glibc (static, std rebuilt too), built
//! here on the host.

use crate::device::console::Console;
use crate::device::shell;
use crate::device::shell::pause;
use crate::run::project::{Project, GLIBC_TARGET};
use crate::{device::qemu, run::sh};
use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant};

const T: &str = "/usr/lib/nlchan/tests";
const ROUND_TRIPS: u32 = 10_000;
const LISTENERS: u32 = 8;
const BROADCASTS: u64 = 10_000;
/// Listeners stopped during the fan-out, so that they lose broadcasts.
const STOPPED: u32 = 4;
/// Round trips of the whole-process comparison (4-byte ECHOs).
const PROCESS_ROUND_TRIPS: u32 = 2000;
/// Interleaved runs of each whole-process figure; the minimum counts.
const PROCESS_REPEATS: u32 = 7;
/// One-shot processes per timed batch (as a script sending one event each).
const ONE_SHOTS: u32 = 200;
/// Interleaved batches of each one-shot figure; the minimum counts.
const ONE_SHOT_REPEATS: u32 = 5;

/// The number after `"key":` in a JSON line.
fn field(json: &str, key: &str) -> Option<f64> {
    let pat = format!("\"{key}\":");
    let rest = &json[json.find(&pat)? + pat.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The JSON line a round-trip client printed.
fn rtt(c: &mut Console, command: &str) -> Result<String> {
    let out = shell::must(c, command, Duration::from_secs(600))?;
    let line = out
        .lines()
        .find(|l| l.starts_with("{\"client\""))
        .with_context(|| format!("`{command}` printed no result line:\n{out}"))?;
    Ok(line.to_string())
}

fn num(json: &str, key: &str) -> Result<f64> {
    field(json, key).with_context(|| format!("no {key} in {json}"))
}

/// Peak RSS (kB) of a listener that receives 1000 broadcasts: its
/// `VmHWM` at exit, as `nlchan-bench-peak` reads it from `wait4()`.
fn listener_peak(c: &mut Console, listener: &str) -> Result<u64> {
    let script = format!(
        "{T}/nlchan-bench-peak {listener} >/dev/null 2>/tmp/l.err & p=$!; {}; \
         nlchan trigger --repeat 1000 rss-probe; wait $p; grep peak_rss_kb= /tmp/l.err",
        pause("1")
    );
    let out = shell::must(c, &script, Duration::from_secs(60))?;
    out.lines()
        .find_map(|l| l.trim().strip_prefix("peak_rss_kb="))
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no peak RSS for `{listener}`:\n{out}"))
}

/// 8 `nlchan listen --json` processes, 10,000 broadcasts, the first
/// [`STOPPED`] of them stopped (SIGSTOP) while the broadcasts are sent, so
/// that their queues overflow. For each, the end line's received + lost
/// must equal what was sent, and each stopped one must have lost some.
/// busybox's `wait` returns for a job that was stopped even once it runs
/// again (status 147), so the end lines are waited for too.
fn fan_out(c: &mut Console) -> Result<(bool, Vec<(u64, u64)>)> {
    let script = format!(
        "b0=$(cat /sys/bus/platform/drivers/nlchan/*/broadcast); pids=; \
         for i in $(seq {LISTENERS}); do \
         nlchan listen --json --idle 20 >/tmp/fan$i 2>/tmp/fan$i.err & pids=\"$pids $!\"; done; \
         i=0; until [ $(cat /tmp/fan*.err 2>/dev/null | grep -c listening) -eq {LISTENERS} ]; do \
         i=$((i+1)); [ $i -lt 600 ] || break; {}; done; \
         stop=$(echo $pids | cut -d' ' -f1-{STOPPED}); kill -STOP $stop; \
         nlchan trigger --repeat {BROADCASTS} fan-out-broadcast; kill -CONT $stop; wait; \
         i=0; until [ $(grep -l '\"event\":\"end\"' /tmp/fan[0-9]* | wc -l) -eq {LISTENERS} ]; do \
         i=$((i+1)); [ $i -lt 1200 ] || break; {}; done; \
         echo sent=$(( $(cat /sys/bus/platform/drivers/nlchan/*/broadcast) - b0 )); \
         for i in $(seq {LISTENERS}); do tail -n 1 /tmp/fan$i; done",
        pause("0.1"),
        pause("0.1")
    );
    let out = shell::must(c, &script, Duration::from_secs(900))?;
    let sent = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("sent="))
        .and_then(|v| v.parse::<u64>().ok())
        .with_context(|| format!("no sent count:\n{out}"))?;
    let ends: Vec<(u64, u64)> = out
        .lines()
        .filter(|l| l.contains("\"event\":\"end\""))
        .filter_map(|l| Some((field(l, "received")? as u64, field(l, "lost")? as u64)))
        .collect();
    let ok = sent == BROADCASTS
        && ends.len() == LISTENERS as usize
        && ends.iter().all(|(r, l)| r + l == sent)
        && ends[..STOPPED as usize].iter().all(|&(_, l)| l > 0);
    if !ok {
        eprintln!("    fan-out output (the first {STOPPED} listeners were stopped):\n{out}");
    }
    Ok((ok, ends))
}

/// Process wall times in ns, each the smallest over the repeats.
#[derive(Debug, Clone, Copy)]
struct ProcessTimes {
    /// All runs of one repeat together.
    total: f64,
    /// The fastest run: the cost without the host's stalls.
    min: f64,
    /// The median run.
    p50: f64,
}

/// Runs `commands` one after the other, `repeats` times over (so that each
/// sees the same board load), each under `nlchan-bench-time -n runs`, and
/// returns for each command the smallest over the repeats of each figure
/// `nlchan-bench-time` printed.
fn process_times(
    c: &mut Console,
    commands: &[&str],
    runs: u32,
    repeats: u32,
) -> Result<Vec<ProcessTimes>> {
    let mut body = String::new();
    for (i, cmd) in commands.iter().enumerate() {
        body += &format!("printf 'cmd{i} '; {T}/nlchan-bench-time -n {runs} {cmd}; ");
    }
    let script = format!("for r in $(seq {repeats}); do {body}done");
    let out = shell::must(c, &script, Duration::from_secs(1800))?;
    let inf = f64::INFINITY;
    let mut best = vec![
        ProcessTimes {
            total: inf,
            min: inf,
            p50: inf
        };
        commands.len()
    ];
    let mut seen = vec![0u32; commands.len()];
    for line in out.lines() {
        let Some((tag, json)) = line.trim().split_once(' ') else {
            continue;
        };
        let Some(i) = tag
            .strip_prefix("cmd")
            .and_then(|i| i.parse::<usize>().ok())
        else {
            continue;
        };
        let figures = (
            field(json, "total_ns"),
            field(json, "min_ns"),
            field(json, "p50_ns"),
        );
        if let (Some(b), (Some(total), Some(min), Some(p50))) = (best.get_mut(i), figures) {
            b.total = b.total.min(total);
            b.min = b.min.min(min);
            b.p50 = b.p50.min(p50);
            seen[i] += 1;
        }
    }
    if seen.iter().any(|&n| n != repeats) {
        bail!("`{script}` did not time every run:\n{out}");
    }
    Ok(best)
}

/// The comparison row: the size of the same app built for armv7 glibc
/// (static, std rebuilt with it as for the board), or why it is missing.
fn glibc_size_row(glibc: &Result<u64, String>, c_size: f64) -> String {
    match glibc {
        Ok(n) => format!(
            "{:<52} {:>8.2} {:>8}  (shown)",
            format!("size nlchan glibc {n} / C {c_size} bytes"),
            *n as f64 / c_size,
            ""
        ),
        Err(e) => format!(
            "{:<52} {:>8} {:>8}  no armv7 glibc build: {e}",
            "size nlchan glibc / C", "-", ""
        ),
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// The JSON result lines of the round-trip clients, each run
/// [`ROUND_TRIPS`] times; taken back to back, each transport's classic unit
/// first, so that both see the same board load.
struct RoundTrips {
    c_loop: String,
    c_loop_genl: String,
    ping: String,
    ping_genl: String,
    seed: String,
    batch: String,
    scatter: String,
}

/// Everything one boot measured.
struct Measured {
    /// Sizes in bytes of the image's `nlchan` and the static C client.
    app_size: f64,
    c_size: f64,
    /// The armv7 glibc build's size, or why it is missing.
    glibc: Result<u64, String>,
    rt: RoundTrips,
    /// Peak RSS (kB) of `nlchan listen` and of the C listener.
    app_hwm: u64,
    c_hwm: u64,
    /// The fan-out's accounting held, and each listener's (received, lost).
    fan_ok: bool,
    ends: Vec<(u64, u64)>,
    /// Whole processes: the C loop, then `nlchan ping`.
    whole: Vec<ProcessTimes>,
    /// One-shot processes: C send, `nlchan send`, `nlchan --version`.
    once: Vec<ProcessTimes>,
}

/// Builds, boots once, runs every measurement and prints the table.
pub fn run(p: &Project, verbose: bool) -> Result<bool> {
    let b = crate::build::image::build_all(p)?;
    let glibc = glibc_size(p);
    let (_emu, mut c) = sh::step("boot the emulated Orange Pi PC", || {
        let start = Instant::now();
        let (emu, mut c) = qemu::boot(b.board, &b.kernel, &b.dtb, &b.initramfs, &p.out, verbose)?;
        shell::wait_for_shell(&mut c, Duration::from_secs(180))?;
        eprintln!("    shell on ttyS0 after {}", sh::dur(start.elapsed()));
        Ok((emu, c))
    })?;
    let m = measure(&mut c, glibc)?;
    print_table(&m)?;
    Ok(m.fan_ok)
}

/// The size of the app built for armv7 glibc (static, std rebuilt as for
/// the board), or why not: only its size is used, so a failed build
/// leaves that row without a figure.
fn glibc_size(p: &Project) -> Result<u64, String> {
    sh::step(
        "app nlchan for the size comparison (armv7 glibc, static)",
        || crate::build::image::app_for(p, GLIBC_TARGET, "glibc app build"),
    )
    .and_then(|bin| Ok(std::fs::metadata(&bin)?.len()))
    .map_err(|e| format!("{e:#}"))
}

/// Loads the module with a classic unit, then runs every measurement.
fn measure(c: &mut Console, glibc: Result<u64, String>) -> Result<Measured> {
    // The classic unit's figures need a unit, which the module takes only
    // when asked (the image's init script loaded it without one).
    shell::must(
        c,
        "{ [ ! -d /sys/module/nlchan ] || rmmod nlchan; } && modprobe nlchan unit=30",
        Duration::from_secs(30),
    )?;
    let (app_size, c_size) = sizes(c)?;
    let rt = sh::step(
        "round trips (C and nlchan on each transport, C seed, nlchan batch 16)",
        || round_trips(c),
    )?;
    let (app_hwm, c_hwm) = sh::step("peak RSS of the listeners", || {
        Ok((
            listener_peak(c, "nlchan listen --idle 2")?,
            listener_peak(c, &format!("{T}/nlchan-bench-listen -i 2"))?,
        ))
    })?;
    let (fan_ok, ends) = sh::step("broadcast fan-out", || fan_out(c))?;
    let whole = sh::step("whole processes: ping vs the C loop (interleaved)", || {
        whole_processes(c)
    })?;
    let once = sh::step(
        "one-shot processes: send vs C, --version (interleaved)",
        || one_shots(c),
    )?;
    Ok(Measured {
        app_size,
        c_size,
        glibc,
        rt,
        app_hwm,
        c_hwm,
        fan_ok,
        ends,
        whole,
        once,
    })
}

/// The sizes in bytes of the image's `nlchan` and of the static C client.
fn sizes(c: &mut Console) -> Result<(f64, f64)> {
    let sizes = shell::must(
        c,
        // wc, not stat: the image's busybox, like Buildroot's and
        // OpenWrt's defaults, has no stat.
        &format!("wc -c /usr/bin/nlchan {T}/nlchan-bench-loop {T}/nlchan-bench-seed"),
        Duration::from_secs(10),
    )?;
    let size_of = |name: &str| -> Result<f64> {
        sizes
            .lines()
            .find(|l| l.trim_end().ends_with(name))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .with_context(|| format!("no size for {name}:\n{sizes}"))
    };
    Ok((size_of("/usr/bin/nlchan")?, size_of("nlchan-bench-loop")?))
}

/// Runs the round-trip clients (see [`RoundTrips`]).
fn round_trips(c: &mut Console) -> Result<RoundTrips> {
    let n = ROUND_TRIPS;
    Ok(RoundTrips {
        c_loop: rtt(c, &format!("{T}/nlchan-bench-loop -c {n} -s 64"))?,
        c_loop_genl: rtt(c, &format!("{T}/nlchan-bench-loop -g -c {n} -s 64"))?,
        ping: rtt(
            c,
            &format!("nlchan ping --transport unit -c {n} -s 64 --json"),
        )?,
        ping_genl: rtt(
            c,
            &format!("nlchan ping --transport genl -c {n} -s 64 --json"),
        )?,
        seed: rtt(c, &format!("{T}/nlchan-bench-seed -c {n}"))?,
        batch: rtt(c, &format!("nlchan ping -c {n} -s 64 --batch 16 --json"))?,
        scatter: rtt(
            c,
            &format!("nlchan ping -c {n} -s 64 --batch 16 --no-gather --json"),
        )?,
    })
}

/// `nlchan ping` against the C loop as whole processes, interleaved.
fn whole_processes(c: &mut Console) -> Result<Vec<ProcessTimes>> {
    let pn = PROCESS_ROUND_TRIPS;
    process_times(
        c,
        &[
            &format!("{T}/nlchan-bench-loop -c {pn} -s 4"),
            &format!("/usr/bin/nlchan ping -c {pn} -s 4"),
        ],
        1,
        PROCESS_REPEATS,
    )
}

/// One-shot processes (C send, `nlchan send`, `nlchan --version`),
/// interleaved.
fn one_shots(c: &mut Console) -> Result<Vec<ProcessTimes>> {
    process_times(
        c,
        &[
            &format!("{T}/nlchan-bench-send-once x"),
            "/usr/bin/nlchan send x",
            "/usr/bin/nlchan --version",
        ],
        ONE_SHOTS,
        ONE_SHOT_REPEATS,
    )
}

/// The ratios of the table, computed before anything is printed.
struct Ratios {
    latency: f64,
    genl: f64,
    genl_c: f64,
    throughput: f64,
    size: f64,
    rss: f64,
    whole: f64,
}

fn ratios(m: &Measured) -> Result<Ratios> {
    let rt = &m.rt;
    let best_c = num(&rt.c_loop, "p50_ns")?.min(num(&rt.seed, "p50_ns")?);
    Ok(Ratios {
        genl: num(&rt.ping_genl, "p50_ns")? / num(&rt.ping, "p50_ns")?,
        genl_c: num(&rt.c_loop_genl, "p50_ns")? / num(&rt.c_loop, "p50_ns")?,
        latency: num(&rt.ping, "p50_ns")? / best_c,
        throughput: num(&rt.batch, "msgs_per_s")? / num(&rt.ping, "msgs_per_s")?,
        size: m.app_size / m.c_size,
        rss: m.app_hwm as f64 / m.c_hwm as f64,
        whole: m.whole[1].total / m.whole[0].total,
    })
}

/// Prints the round-trip table, then the ratios against their targets.
fn print_table(m: &Measured) -> Result<()> {
    let r = ratios(m)?;
    print_round_trips(&m.rt)?;
    println!();
    println!("{:<52} {:>8} {:>8}  target", "ratio", "measured", "");
    print_transport_ratios(&r);
    print_size_ratios(m, &r);
    print_process_ratios(m, &r);
    print_fan_out(m);
    Ok(())
}

fn print_round_trips(rt: &RoundTrips) -> Result<()> {
    println!();
    println!(
        "{} ECHO round trips of 64 bytes per client (seed: SEND of 15 bytes), same boot; \
         classic unit 30 unless marked genl (generic netlink):",
        ROUND_TRIPS
    );
    println!(
        "{:<26} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "client", "min us", "p50 us", "p99 us", "max us", "msgs/s"
    );
    for (name, r) in [
        ("C seed client (fixed)", &rt.seed),
        ("C tight loop", &rt.c_loop),
        ("nlchan ping", &rt.ping),
        ("nlchan ping --batch 16", &rt.batch),
        ("  same, --no-gather", &rt.scatter),
        ("C tight loop, genl", &rt.c_loop_genl),
        ("nlchan ping, genl", &rt.ping_genl),
    ] {
        let us = |k| num(r, k).map(|v| v / 1000.0);
        println!(
            "{:<26} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>10.0}",
            name,
            us("min_ns")?,
            us("p50_ns")?,
            us("p99_ns")?,
            us("max_ns")?,
            num(r, "msgs_per_s")?
        );
    }
    Ok(())
}

/// Latency, the generic netlink against the classic unit, and batching.
fn print_transport_ratios(r: &Ratios) {
    println!(
        "{:<52} {:>8.3} {:>8}  <= 1.10 {}",
        "p50 latency nlchan / best C client",
        r.latency,
        "",
        verdict(r.latency <= 1.10)
    );
    println!(
        "{:<52} {:>8.3} {:>8}  (shown)",
        "p50 round trip genl / classic unit, nlchan ping", r.genl, ""
    );
    println!(
        "{:<52} {:>8.3} {:>8}  (shown)",
        "p50 round trip genl / classic unit, C loop", r.genl_c, ""
    );
    println!(
        "{:<52} {:>8.2} {:>8}  >= 4    {}",
        "throughput batch 16 gathered / one per syscall",
        r.throughput,
        "",
        verdict(r.throughput >= 4.0)
    );
}

/// Binary sizes (musl, and glibc for comparison) and peak RSS.
fn print_size_ratios(m: &Measured, r: &Ratios) {
    println!(
        "{:<52} {:>8.2} {:>8}  <= 1.5  {}",
        format!("size nlchan musl {} / C {} bytes", m.app_size, m.c_size),
        r.size,
        "",
        verdict(r.size <= 1.5)
    );
    println!("{}", glibc_size_row(&m.glibc, m.c_size));
    println!(
        "{:<52} {:>8.2} {:>8}  <= 1.5  {}",
        format!(
            "VmHWM at exit nlchan listen {} / C {} kB",
            m.app_hwm, m.c_hwm
        ),
        r.rss,
        "",
        verdict(r.rss <= 1.5)
    );
}

/// Whole processes and one-shot processes against their C counterparts.
fn print_process_ratios(m: &Measured, r: &Ratios) {
    let (whole, once) = (&m.whole, &m.once);
    println!(
        "{:<52} {:>8.3} {:>8}  <= 1.10 {}",
        format!("process ping -c {PROCESS_ROUND_TRIPS} -s 4 / C loop, min of {PROCESS_REPEATS}"),
        r.whole,
        "",
        verdict(r.whole <= 1.10)
    );
    println!(
        "{:<52} {:>8.3} {:>8.3}  (shown)",
        "process nlchan send / C one-shot: min, median",
        once[1].min / once[0].min,
        once[1].p50 / once[0].p50
    );
    println!(
        "{:<52} {:>8.3} {:>8.3}  (shown)",
        "process nlchan --version / C one-shot: min, median",
        once[2].min / once[0].min,
        once[2].p50 / once[0].p50
    );
    println!(
        "  whole ping {:.1} ms, C loop {:.1} ms; one-shot processes ({ONE_SHOT_REPEATS} x \
         {ONE_SHOTS}), min/median us: nlchan send {:.0}/{:.0}, C send {:.0}/{:.0}, \
         nlchan --version {:.0}/{:.0}",
        whole[1].total / 1e6,
        whole[0].total / 1e6,
        once[1].min / 1e3,
        once[1].p50 / 1e3,
        once[0].min / 1e3,
        once[0].p50 / 1e3,
        once[2].min / 1e3,
        once[2].p50 / 1e3
    );
}

/// The fan-out's accounting: received + lost = sent for each listener.
fn print_fan_out(m: &Measured) {
    let lost: u64 = m.ends.iter().map(|e| e.1).sum();
    println!(
        "{:<52} {:>8} {:>8}  {}",
        format!("fan-out {LISTENERS} x {BROADCASTS} ({STOPPED} stopped): received + lost = sent"),
        if m.fan_ok { "yes" } else { "NO" },
        format!("lost {lost}"),
        m.ends
            .iter()
            .map(|(r, l)| format!("{r}+{l}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

#[cfg(test)]
mod tests {
    use super::{field, glibc_size_row};

    #[test]
    fn glibc_size_is_shown_or_why_not() {
        let row = glibc_size_row(&Ok(509_808), 600_000.0);
        assert!(
            row.contains("size nlchan glibc 509808 / C 600000 bytes"),
            "{row}"
        );
        assert!(row.contains("0.85") && row.contains("(shown)"), "{row}");
        let none = glibc_size_row(&Err("app build failed".into()), 600_000.0);
        assert!(
            none.contains("size nlchan glibc / C") && none.contains("app build failed"),
            "{none}"
        );
    }

    #[test]
    fn fields_are_read_from_json_lines() {
        let l = r#"{"client":"c-loop","count":10,"p50_ns":51234,"rate":1.5}"#;
        assert_eq!(field(l, "p50_ns"), Some(51234.0));
        assert_eq!(field(l, "rate"), Some(1.5));
        assert_eq!(field(l, "count"), Some(10.0));
        assert_eq!(field(l, "missing"), None);
    }
}
