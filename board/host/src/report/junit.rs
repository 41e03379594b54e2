// SPDX-License-Identifier: MIT OR Apache-2.0
//! JUnit XML from the smoke test's KTAP, for CI systems that show test
//! reports (GitLab `artifacts:reports:junit`, Jenkins `junit`).
//!
//! One `<testcase>` per KTAP result line; a `not ok` case is a `<failure>`
//! carrying the `# ` diagnostics printed before its result line; a SKIP is
//! `<skipped>`; a case the plan announced but that never reported is a
//! failure named `missing_case_<n>`.

use crate::report::ktap::{Case, Report};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Escapes text for XML 1.0 content and attribute values. Characters XML
/// 1.0 cannot carry at all (control characters other than tab, newline
/// and carriage return) are written as `\xNN`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The `# ` lines printed before each result line, by case number.
fn diagnostics(ktap: &str) -> BTreeMap<u32, Vec<String>> {
    let mut by_case = BTreeMap::new();
    let mut pending = Vec::new();
    for line in ktap.lines().map(|l| l.trim_end_matches('\r').trim()) {
        if let Some(d) = line.strip_prefix("# ") {
            pending.push(d.to_string());
            continue;
        }
        let rest = line
            .strip_prefix("not ok ")
            .or_else(|| line.strip_prefix("ok "));
        let number = rest.and_then(|r| r.split(' ').next()?.parse::<u32>().ok());
        if let Some(n) = number {
            by_case.insert(n, std::mem::take(&mut pending));
        }
    }
    by_case
}

/// The JUnit XML document for one smoke-test run. `ktap` is the captured
/// output the report was parsed from, `seconds` how long the run took.
pub fn xml(suite: &str, report: &Report, ktap: &str, seconds: f64) -> String {
    let diags = diagnostics(ktap);
    let classname = escape(suite);
    let mut cases = String::new();
    let (mut failures, mut skipped) = (0, 0);
    for c in &report.cases {
        let text = diags
            .get(&c.number)
            .map(|d| d.join("\n"))
            .unwrap_or_default();
        failures += usize::from(!c.passed && !c.skipped);
        skipped += usize::from(c.skipped);
        cases.push_str(&testcase(&classname, c, &text));
    }
    let plan = report.plan.unwrap_or(0);
    let reported = report.cases.len() as u32;
    for n in reported + 1..=plan {
        failures += 1;
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{classname}\" name=\"missing_case_{n}\">\n      \
             <failure message=\"the plan announced {plan} cases, case {n} never reported\"/>\n    \
             </testcase>"
        );
    }
    let errors = usize::from(!report.header || report.plan.is_none());
    if errors > 0 {
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{classname}\" name=\"ktap_stream\">\n      \
             <error message=\"no KTAP header or plan in the output\"/>\n    </testcase>"
        );
    }
    let missing = (plan as usize).saturating_sub(report.cases.len());
    let total = report.cases.len() + missing + errors;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites>\n  \
         <testsuite name=\"{classname}\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" \
         skipped=\"{skipped}\" time=\"{seconds:.3}\">\n{cases}    <system-out>{}</system-out>\n  \
         </testsuite>\n</testsuites>\n",
        escape(ktap)
    )
}

/// One `<testcase>`: empty when it passed, with `<skipped/>`, or with a
/// `<failure>` holding the case's diagnostics `text`.
fn testcase(classname: &str, c: &Case, text: &str) -> String {
    let name = escape(&c.name);
    let head = format!("    <testcase classname=\"{classname}\" name=\"{name}\"");
    if c.passed {
        format!("{head}/>\n")
    } else if c.skipped {
        format!("{head}>\n      <skipped/>\n    </testcase>\n")
    } else {
        format!(
            "{head}>\n      <failure message=\"not ok {} {name}\">{}</failure>\n    </testcase>\n",
            c.number,
            escape(text)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("tab\there\nnl"), "tab\there\nnl");
        assert_eq!(escape("bell\x07 esc\x1b[0m"), "bell\\x07 esc\\x1b[0m");
        assert_eq!(escape("ünï €"), "ünï €");
    }

    const RUN: &str = "KTAP version 1\n1..4\nok 1 loads\n\
        # reply: got '<x>', want 'hello & \"bye\"'\nnot ok 2 send\n\
        ok 3 echo # SKIP no module\nok 4 rmmod\n";

    #[test]
    fn one_testcase_per_result_with_its_diagnostics() {
        let r = Report::parse(RUN);
        let x = xml("nlchan-smoke", &r, RUN, 1.5);
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>"));
        assert!(x.contains(
            "<testsuite name=\"nlchan-smoke\" tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\" time=\"1.500\">"
        ));
        assert!(x.contains("<testcase classname=\"nlchan-smoke\" name=\"loads\"/>"));
        assert!(x.contains(
            "<failure message=\"not ok 2 send\">reply: got &apos;&lt;x&gt;&apos;, want &apos;hello &amp; &quot;bye&quot;&apos;</failure>"
        ));
        assert!(x.contains("name=\"echo\">\n      <skipped/>"));
        assert_eq!(x.matches("<testcase ").count(), 4);
        // Nothing unescaped from the raw output leaks into the document.
        assert!(!x.contains("'<x>'"));
    }

    #[test]
    fn missing_cases_and_missing_plan_are_reported() {
        let text = "KTAP version 1\n1..3\nok 1 a\n";
        let x = xml("s", &Report::parse(text), text, 0.0);
        assert!(x.contains("tests=\"3\" failures=\"2\" errors=\"0\""));
        assert!(x.contains("name=\"missing_case_2\""));
        assert!(x.contains("name=\"missing_case_3\""));
        let x = xml("s", &Report::parse("garbage\n"), "garbage\n", 0.0);
        assert!(x.contains("tests=\"1\" failures=\"0\" errors=\"1\""));
        assert!(x.contains("name=\"ktap_stream\""));
    }
}
