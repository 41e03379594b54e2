// SPDX-License-Identifier: MIT OR Apache-2.0
//! A small KTAP parser: the on-target smoke test's verdict, read from lines
//! captured on the serial console (which may interleave other output).

/// One test result line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Test number as printed.
    pub number: u32,
    /// Test name.
    pub name: String,
    /// Whether the line said `ok` without a SKIP/TODO directive.
    pub passed: bool,
    /// A `# SKIP` directive (never counted as passed).
    pub skipped: bool,
}

/// What a KTAP stream said.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Number of cases announced by the plan line, if one was seen.
    pub plan: Option<u32>,
    /// The result lines, in order.
    pub cases: Vec<Case>,
    /// Diagnostic lines (`# ...`) that follow a failed case.
    pub diagnostics: Vec<String>,
    /// Whether the `KTAP version 1` header was seen.
    pub header: bool,
}

impl Report {
    /// Parses the KTAP lines found in `text`; lines that are not KTAP (the
    /// shell echoing the command, kernel messages) are ignored.
    pub fn parse(text: &str) -> Report {
        let mut r = Report::default();
        let lines = lines(text);
        for line in lines.iter().map(|l| l.as_str()) {
            if line == "KTAP version 1" || line == "TAP version 14" {
                r.header = true;
            } else if let Some(n) = line.strip_prefix("1..") {
                r.plan = n.parse().ok();
            } else if let Some(c) = parse_result(line) {
                r.cases.push(c);
            } else if let Some(d) = line.strip_prefix("# ") {
                r.diagnostics.push(d.to_string());
            }
        }
        r
    }

    /// Number of cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }

    /// Number of cases that did not pass (failed or skipped), plus the
    /// cases the plan announced but that never reported.
    pub fn failed(&self) -> usize {
        let missing = self
            .plan
            .map_or(0, |p| (p as usize).saturating_sub(self.cases.len()));
        self.cases.len() - self.passed() + missing
    }

    /// Number of cases that reported a `# SKIP` directive.
    pub fn skipped(&self) -> usize {
        self.cases.iter().filter(|c| c.skipped).count()
    }

    /// Prints one line per case, the diagnostics and a tally headed `title`.
    pub fn print(&self, title: &str) {
        for case in &self.cases {
            let verdict = if case.passed {
                "PASS"
            } else if case.skipped {
                "SKIP"
            } else {
                "FAIL"
            };
            eprintln!("    {verdict} {:>2} {}", case.number, case.name);
        }
        for d in &self.diagnostics {
            eprintln!("         # {d}");
        }
        let skipped = self.skipped();
        eprintln!(
            "    {title}: {} passed, {} failed, {skipped} skipped (plan {})",
            self.passed(),
            self.failed() - skipped,
            self.plan.map_or("missing".to_string(), |p| p.to_string())
        );
    }

    /// The verdict: a header and a plan were seen, every announced case
    /// reported, and all passed.
    pub fn ok(&self) -> bool {
        self.header
            && self.plan == Some(self.cases.len() as u32)
            && !self.cases.is_empty()
            && self.failed() == 0
    }
}

/// The lines of `text` (trimmed, without `\r`) with kernel messages taken
/// out of the KTAP lines they interrupted. The kernel writes to the
/// console directly, so a printk can land in the middle of a line the
/// shell is writing: `ok 3 sen[   12.34] nlchan: ...` then `d_greeting` on
/// the next line. A line whose kernel timestamp (`[ seconds.micros]`) does
/// not start it is cut there and its head joined to the next line. A head
/// that is a diagnostic (`#`, which may quote the kernel log) stays a
/// line of its own.
pub fn lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut head = String::new();
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        let line = format!("{head}{line}");
        head.clear();
        match kernel_timestamp(&line) {
            Some(at) if at > 0 && !line.trim_start().starts_with('#') => {
                head = line[..at].trim_start().to_string();
            }
            _ => out.push(line.trim().to_string()),
        }
    }
    if !head.is_empty() {
        out.push(head.trim().to_string());
    }
    out
}

/// Where the first kernel log timestamp (`[` spaces digits `.` digits `]`)
/// of `line` starts.
fn kernel_timestamp(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut from = 0;
    while let Some(i) = line[from..].find('[').map(|i| i + from) {
        let mut j = i + 1;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        let digits = |mut k: usize| {
            let start = k;
            while k < b.len() && b[k].is_ascii_digit() {
                k += 1;
            }
            (k > start).then_some(k)
        };
        if let Some(k) = digits(j) {
            if b.get(k) == Some(&b'.') {
                if let Some(m) = digits(k + 1) {
                    if b.get(m) == Some(&b']') {
                        return Some(i);
                    }
                }
            }
        }
        from = i + 1;
    }
    None
}

fn parse_result(line: &str) -> Option<Case> {
    let (passed, rest) = if let Some(r) = line.strip_prefix("not ok ") {
        (false, r)
    } else if let Some(r) = line.strip_prefix("ok ") {
        (true, r)
    } else {
        return None;
    };
    let (num, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let number = num.parse().ok()?;
    let (name, directive) = match rest.split_once(" # ") {
        Some((n, d)) => (n, d),
        None => (rest, ""),
    };
    let upper = directive.to_ascii_uppercase();
    let skipped = upper.starts_with("SKIP");
    let todo = upper.starts_with("TODO");
    Some(Case {
        number,
        name: name.trim().to_string(),
        passed: passed && !skipped && !todo,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "nlchan-smoke; echo NLCHAN_EXIT=$?\r\nKTAP version 1\r\n1..3\r\n\
        ok 1 module_loads\r\n[   12.3] nlchan: something\r\nok 2 send\r\nok 3 rmmod\r\n\
        # nlchan-smoke: 3 passed, 0 failed\r\n";

    #[test]
    fn all_passing_stream_is_ok() {
        let r = Report::parse(GOOD);
        assert!(r.header);
        assert_eq!(r.plan, Some(3));
        assert_eq!(r.passed(), 3);
        assert_eq!(r.failed(), 0);
        assert!(r.ok());
        assert_eq!(r.cases[1].name, "send");
    }

    #[test]
    fn a_failure_fails_the_verdict() {
        let r = Report::parse("KTAP version 1\n1..2\nok 1 a\nnot ok 2 b\n# b: got 'x'\n");
        assert_eq!((r.passed(), r.failed()), (1, 1));
        assert!(!r.ok());
        assert_eq!(r.diagnostics, vec!["b: got 'x'".to_string()]);
    }

    #[test]
    fn a_skip_is_not_a_pass() {
        let r = Report::parse("KTAP version 1\n1..1\nok 1 a # SKIP no module\n");
        assert!(r.cases[0].skipped);
        assert_eq!(r.passed(), 0);
        assert!(!r.ok());
    }

    #[test]
    fn missing_cases_count_as_failures() {
        let r = Report::parse("KTAP version 1\n1..4\nok 1 a\nok 2 b\n");
        assert_eq!(r.failed(), 2);
        assert!(!r.ok());
    }

    #[test]
    fn kernel_messages_inside_ktap_lines_are_taken_out() {
        let text = "KTAP version 1\r\n1..3\r\nok 1 modu[   12.345678] nlchan: loaded\r\n\
            le_loads\r\nnot ok 2 b[    3.1] x: y\r\n[    3.2] z: w\r\n # SKIP no\r\n\
            # [   12.3] nlchan: quoted in a diagnostic\r\nok 3 c\r\n";
        let r = Report::parse(text);
        let cases: Vec<_> = r
            .cases
            .iter()
            .map(|c| (c.number, c.name.as_str(), c.passed, c.skipped))
            .collect();
        assert_eq!(
            cases,
            vec![
                (1, "module_loads", true, false),
                (2, "b", false, true),
                (3, "c", true, false)
            ]
        );
        assert_eq!(r.plan, Some(3));
        assert_eq!(
            r.diagnostics,
            vec!["[   12.3] nlchan: quoted in a diagnostic".to_string()]
        );
    }

    #[test]
    fn kernel_timestamps_are_recognised_exactly() {
        assert_eq!(kernel_timestamp("ab[ 1.2] x"), Some(2));
        assert_eq!(kernel_timestamp("[12345.678901] x"), Some(0));
        assert_eq!(kernel_timestamp("ok 1 a[1] [x.1] [ .2] [3.]"), None);
        assert_eq!(kernel_timestamp("ok 1 [a] b[ 7.0]"), Some(10));
        assert_eq!(lines("ok 1 a[ 1.0] k\n"), vec!["ok 1 a".to_string()]);
    }

    #[test]
    fn no_header_or_no_cases_is_not_ok() {
        assert!(!Report::parse("1..1\nok 1 a\n").ok());
        assert!(!Report::parse("KTAP version 1\n1..0\n").ok());
        assert!(!Report::parse("").ok());
    }
}
