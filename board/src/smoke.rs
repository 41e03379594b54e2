//! Drives the on-target smoke test over a serial console: wait for the
//! shell, run `nlchan-smoke` and, where the image has it, the coexistence
//! suite `nlchan-coexist`, read their KTAP, print a summary.

use crate::console::Console;
use crate::ktap::Report;
use anyhow::{bail, Result};
use std::time::Duration;

/// Marker the shell prints once it is ready (computed, so that the echo of
/// the typed command does not match it).
const READY: &str = "NLCHAN_READY_42";
const PROBE: &str = "echo NLCHAN_READY_$((40+2))";

/// Waits for a shell on the console, probing every two seconds.
pub fn wait_for_shell(c: &mut Console, timeout: Duration) -> Result<()> {
    c.send_line(PROBE)?;
    let mut next_probe = Duration::from_secs(2);
    c.wait_for(READY, timeout, |c, waited| {
        if waited >= next_probe {
            next_probe = waited + Duration::from_secs(2);
            eprintln!("      ... waiting for the shell ({}s)", waited.as_secs());
            c.send_line(PROBE)?;
        }
        Ok(())
    })?;
    // Swallow what the remaining probes may still print.
    c.send_line("echo NLCHAN_SYNC_$((1+1))")?;
    c.wait_for("NLCHAN_SYNC_2", Duration::from_secs(30), |_, _| Ok(()))?;
    Ok(())
}

/// Runs `command` in the board's shell and returns what it printed and its
/// exit status.
pub fn run(c: &mut Console, command: &str, timeout: Duration) -> Result<(String, i32)> {
    c.send_line(&format!("{command}; echo NLCHAN_EXIT=$?"))?;
    // The echo of the typed line ends with "$?"; the real one with digits.
    let mut text = String::new();
    loop {
        let chunk = c.wait_for("NLCHAN_EXIT=", timeout, |_, _| Ok(()))?;
        text.push_str(&chunk);
        let rest = c.wait_for("\n", Duration::from_secs(10), |_, _| Ok(()))?;
        let code = rest.trim();
        if let Ok(code) = code.parse::<i32>() {
            let text = text.trim_end_matches("NLCHAN_EXIT=").to_string();
            // Drop the echoed command line.
            let body = match text.find('\n') {
                Some(i) => text[i + 1..].to_string(),
                None => String::new(),
            };
            return Ok((body, code));
        }
        text.push_str(&rest);
    }
}

/// Logs in on a board that shows a login prompt: waits for `login:`
/// (pressing Enter every two seconds), types `user`, then `password` when
/// asked for one.
pub fn login(c: &mut Console, user: &str, password: Option<&str>, timeout: Duration) -> Result<()> {
    c.send_line("")?;
    let mut next = Duration::from_secs(2);
    c.wait_for("login:", timeout, |c, waited| {
        if waited >= next {
            next = waited + Duration::from_secs(2);
            c.send_line("")?;
        }
        Ok(())
    })?;
    c.send_line(user)?;
    if let Some(pw) = password {
        c.wait_for("assword:", Duration::from_secs(30), |_, _| Ok(()))?;
        c.send_line(pw)?;
    }
    Ok(())
}

/// The coexistence suite (nlchan next to a driver squatting units 30 and
/// 31), installed with the test tools (board/rootfs `install-tests`): the
/// emulated board's image has it, a product image need not.
const COEXIST: &str = "/usr/lib/nlchan/tests/nlchan-coexist";

/// Runs one KTAP suite on the board; returns its report and output.
fn suite(
    c: &mut Console,
    command: &str,
    title: &str,
    timeout: Duration,
) -> Result<(Report, String)> {
    let (out, code) = run(c, command, timeout)?;
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
        crate::ktap::lines(text)
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
    let (_, code) = run(c, &format!("[ -x {COEXIST} ]"), Duration::from_secs(30))?;
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

#[cfg(test)]
mod tests {
    use super::concat;
    use crate::ktap::Report;

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
