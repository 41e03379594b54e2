// SPDX-License-Identifier: MIT OR Apache-2.0
//! The stress suite (board/target-tests/nlchan-stress) run in the board's
//! shell: all its cases (on the debug kernel, `cargo board stress`) or a
//! named set, the others reported as SKIP; its KTAP read and its figures.
//!
//! The set every booted kernel runs, [`EVERY_KERNEL`], is the cases that
//! need no debug option: the protocol's answers to malformed requests,
//! privilege, unit collision, floods, load/unload, broadcasts from every
//! context. Fuzzing, fault injection, tracepoints and KUnit need the debug
//! kernel's options and run there.

use crate::device::console::Console;
use crate::device::shell;
use crate::report::ktap::Report;
use anyhow::{bail, Result};
use std::time::Duration;

/// Where the suite is installed on the board (board/target-tests install-tests).
pub const SUITE: &str = "/usr/lib/nlchan/tests/nlchan-stress";

/// The cases every kernel the emulated board boots runs (named as the
/// suite's `run` lines name them).
pub const EVERY_KERNEL: &[&str] = &[
    "dt_coldplug_loaded_module_at_boot",
    "dt_modalias_autoloads_module",
    "genl_malformed_requests_documented_errors",
    "concurrent_writers_echoers_listeners_both_transports",
    "flood_stopped_listener",
    "flood_stopped_genl_listener_seq_gaps",
    "flood_sender_not_reading_both_transports",
    "lifecycle_insmod_rmmod_cycles",
    "unit_collision_clean_error",
    "privilege_unprivileged_user",
    "broadcast_from_every_context_with_nlmon",
];

/// Load/unload cycles of the [`EVERY_KERNEL`] run (the debug kernel's
/// run keeps the suite's default).
const EVERY_KERNEL_CYCLES: u32 = 10;

/// The shell command running the suite: every case, or only `cases`
/// (checked to be case names), with `env` (`NAME=value` words) first.
pub fn command(cases: &[&str], env: &[String]) -> Result<String> {
    if let Some(bad) = cases
        .iter()
        .find(|w| w.is_empty() || !w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        bail!("{bad:?} is not a stress case name (letters, digits, _)");
    }
    let mut words: Vec<String> = env.to_vec();
    if !cases.is_empty() {
        words.push(format!("NLCHAN_STRESS_CASES='{}'", cases.join(" ")));
    }
    words.push(SUITE.to_string());
    Ok(words.join(" "))
}

/// The figures the suite printed (fuzzer counts, flood accounting, the
/// malformed requests' answers).
pub fn figures(out: &str) -> Vec<&str> {
    const FIGURES: &[&str] = &[
        "nlchan-fuzz: ",
        "fuzz total: ",
        "flood: ",
        "nlchan-stall: ",
        "lifecycle: ",
        "nlchan-genl-check: ",
        "fault injection, ",
    ];
    out.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| FIGURES.iter().any(|f| l.starts_with(f)))
        .collect()
}

/// The answer to each named malformed generic netlink request, as the
/// first run of nlchan-genl-check (as root) printed it
/// (`ok NAME_ERRNO (extended ack: ...)`).
pub fn genl_answers(out: &str) -> Vec<&str> {
    let mut inside = false;
    let mut answers = Vec::new();
    for l in out.lines().map(|l| l.trim_end_matches('\r')) {
        let Some(d) = l.strip_prefix("# ") else {
            continue;
        };
        if d.starts_with("nlchan-genl-check: expect ") {
            break;
        } else if d.starts_with("nlchan-genl-check: ") {
            inside = true;
        } else if inside && (d.starts_with("ok ") || d.starts_with("not ok ")) {
            answers.push(d);
        }
    }
    answers
}

/// Whether a run of only `cases` passed: each of them ran and passed,
/// every other case was skipped, and the plan was complete.
pub fn only_these_passed(report: &Report, cases: &[&str]) -> bool {
    let complete = report.header && report.plan == Some(report.cases.len() as u32);
    let ran_right = report.cases.iter().all(|c| {
        if cases.contains(&c.name.as_str()) {
            c.passed && !c.skipped
        } else {
            c.skipped
        }
    });
    let all_there = cases
        .iter()
        .all(|n| report.cases.iter().any(|c| c.name == *n));
    complete && ran_right && all_there
}

/// Runs [`EVERY_KERNEL`] on the booted board; returns whether they all
/// passed. The answers to the malformed requests are printed (the errno
/// table of the kernel).
pub fn every_kernel(c: &mut Console) -> Result<bool> {
    let env = [format!("NLCHAN_CYCLES={EVERY_KERNEL_CYCLES}")];
    let command = command(EVERY_KERNEL, &env)?;
    let (out, _) = shell::run(c, &command, Duration::from_secs(20 * 60))?;
    let report = Report::parse(&out);
    report.print("stress suite, the cases every kernel runs");
    eprintln!("    malformed generic netlink requests, answers on this kernel:");
    for a in genl_answers(&out) {
        eprintln!("      {a}");
    }
    for f in figures(&out) {
        eprintln!("      {f}");
    }
    let ok = only_these_passed(&report, EVERY_KERNEL);
    if !ok && report.failed() == report.skipped() {
        eprintln!("    stress suite: not every named case ran (or others did):\n{out}");
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_checks_case_names() {
        assert_eq!(command(&[], &[]).unwrap(), SUITE);
        let c = command(&["a_b", "c1"], &["NLCHAN_CYCLES=10".into()]).unwrap();
        assert_eq!(
            c,
            format!("NLCHAN_CYCLES=10 NLCHAN_STRESS_CASES='a_b c1' {SUITE}")
        );
        assert!(command(&["x'; reboot"], &[]).is_err());
        assert!(command(&[""], &[]).is_err());
    }

    #[test]
    fn a_named_run_needs_its_cases_passed_and_the_rest_skipped() {
        let ok = Report::parse("KTAP version 1\n1..3\nok 1 a\nok 2 b # SKIP not in\nok 3 c\n");
        assert!(only_these_passed(&ok, &["a", "c"]));
        assert!(
            !only_these_passed(&ok, &["a"]),
            "c ran but was not asked for"
        );
        assert!(!only_these_passed(&ok, &["a", "b", "c"]), "b was skipped");
        assert!(
            !only_these_passed(&ok, &["a", "c", "d"]),
            "d does not exist"
        );
        let short = Report::parse("KTAP version 1\n1..3\nok 1 a\n");
        assert!(!only_these_passed(&short, &["a"]), "the plan is incomplete");
        let failed = Report::parse("KTAP version 1\n1..1\nnot ok 1 a\n");
        assert!(!only_these_passed(&failed, &["a"]));
    }

    #[test]
    fn genl_answers_are_the_checkers_lines() {
        let out = "# nlchan-genl-check: family nlchan id 0x15\r\n\
                   # ok command_0_eopnotsupp\r\n\
                   # ok payload_126_bytes_emsgsize (extended ack: \"x\")\n\
                   # nlchan-genl-check: expect received=12 replied=8 errors=4\n\
                   # ok 3 something_else\nok 4 genl_malformed\n\
                   # nlchan-genl-check: family nlchan id 0x15\n# ok unprivileged_run\n";
        assert_eq!(
            genl_answers(out),
            [
                "ok command_0_eopnotsupp",
                "ok payload_126_bytes_emsgsize (extended ack: \"x\")"
            ]
        );
    }

    #[test]
    fn figures_are_the_suites_counts() {
        let out = "ok 3 fuzz\n# nlchan-fuzz: sent datagrams=5 bytes=9\r\n# other\n\
            # flood: sent=1020 received=300 lost=720 reported_lost=720\n";
        assert_eq!(
            figures(out),
            vec![
                "nlchan-fuzz: sent datagrams=5 bytes=9",
                "flood: sent=1020 received=300 lost=720 reported_lost=720"
            ]
        );
    }
}
