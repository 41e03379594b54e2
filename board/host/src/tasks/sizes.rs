// SPDX-License-Identifier: MIT OR Apache-2.0
//! File and function sizes of the checkout's sources: no source file over
//! [`MAX_FILE_LINES`] lines outside the tests, and the longest function of
//! each part printed (Rust `fn`s, kernel-style C functions, shell
//! functions), so that a function growing long shows in every test run.

use crate::run::sh::{self, cmd};
use anyhow::{bail, Result};
use std::fs;
use std::path::Path;

/// The longest a source file may be, tests apart.
pub const MAX_FILE_LINES: usize = 600;

/// The parts of the checkout, by path prefix, first match wins; `None`:
/// tests, whose files may be longer.
const PARTS: &[(&str, Option<&str>)] = &[
    ("app/fuzz/", None),
    ("app/examples/", Some("app examples")),
    ("app/src/cli/", Some("command line")),
    ("app/src/bin/", Some("command line")),
    ("app/src/main.rs", Some("command line")),
    ("app/", Some("app library")),
    ("kmod/", Some("kernel module")),
    ("board/target-tests/", None),
    ("board/fake-frameworks/", None),
    ("board/host/", Some("host program")),
    ("board/rootfs/", Some("files on the target")),
    ("board/", Some("board support")),
    ("buildroot/", Some("packaging")),
];

/// A function: where it is and how many lines it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// The line it starts on (1-based).
    pub line: usize,
    /// Lines from its head to its closing brace.
    pub lines: usize,
}

/// The part `path` belongs to (`None` for tests and files of no part).
fn part(path: &str) -> Option<&'static str> {
    let test = path.split('/').any(|c| c == "tests" || c == "tests.rs");
    if test {
        return None;
    }
    PARTS
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .and_then(|(_, part)| *part)
}

/// The functions of a source file, by its name's ending; empty for a file
/// of no language known here.
pub fn functions(path: &str, text: &str) -> Vec<Function> {
    if path.ends_with(".rs") {
        rust_functions(text)
    } else if path.ends_with(".c") || path.ends_with(".h") {
        c_functions(text)
    } else if text.starts_with("#!/bin/sh") || text.starts_with("#!/usr/bin/env bash") {
        shell_functions(text)
    } else {
        Vec::new()
    }
}

/// Rust functions outside `#[cfg(test)]` modules: from the `fn` line to
/// the brace closing its body (strings, characters and comments skipped).
fn rust_functions(text: &str) -> Vec<Function> {
    let code = blank_literals(text);
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    let mut skip_to = 0;
    for (i, line) in lines.iter().enumerate() {
        if i < skip_to {
            continue;
        }
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            if let Some(end) = block_end(&lines, i + 1) {
                skip_to = end + 1;
            }
            continue;
        }
        let Some(name) = fn_name(t) else { continue };
        if let Some(end) = block_end(&lines, i) {
            out.push(Function {
                name: name.to_string(),
                line: i + 1,
                lines: end - i + 1,
            });
        }
    }
    out
}

/// The name in a line that declares a function (`pub(crate) async fn x(`).
fn fn_name(line: &str) -> Option<&str> {
    let at = line.find("fn ")?;
    let head = &line[..at];
    let words_ok = head.split_whitespace().all(|w| {
        w.starts_with("pub") || ["const", "async", "unsafe", "extern", "\"C\""].contains(&w)
    });
    if !words_ok {
        return None;
    }
    let rest = &line[at + 3..];
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    (end > 0).then(|| &rest[..end])
}

/// The line of the brace that closes the first block opened at or after
/// line `from`; `None` when a `;` ends the item first (a declaration).
fn block_end(lines: &[&str], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut opened = false;
    for (i, line) in lines.iter().enumerate().skip(from) {
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' if opened => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(i);
                    }
                }
                ';' if !opened => return None,
                _ => {}
            }
        }
    }
    None
}

/// `text` with the contents of string and character literals and of
/// comments replaced by spaces (newlines kept), so that braces in them do
/// not count. Lifetimes (`'a`) are left alone.
fn blank_literals(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        let rest = &c[i..];
        let skip = if rest.starts_with(&['/', '/']) {
            rest.iter().position(|&x| x == '\n').unwrap_or(rest.len())
        } else if rest.starts_with(&['/', '*']) {
            find(rest, &['*', '/']).map_or(rest.len(), |e| e + 2)
        } else if rest[0] == 'r' && matches!(rest.get(1), Some('"') | Some('#')) {
            raw_string_len(rest)
        } else if rest[0] == '"' {
            quoted_len(rest, '"')
        } else if rest[0] == '\'' && is_char_literal(rest) {
            quoted_len(rest, '\'')
        } else {
            0
        };
        if skip == 0 {
            out.push(rest[0]);
            i += 1;
        } else {
            out.extend(
                rest[..skip]
                    .iter()
                    .map(|&x| if x == '\n' { '\n' } else { ' ' }),
            );
            i += skip;
        }
    }
    out
}

fn find(hay: &[char], needle: &[char]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Length of the literal quoted by `q` at the start of `s` (escapes kept
/// inside).
fn quoted_len(s: &[char], q: char) -> usize {
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            '\\' => i += 2,
            x if x == q => return i + 1,
            _ => i += 1,
        }
    }
    s.len()
}

/// Length of the raw string `r#"..."#` at the start of `s`; 0 if it is not
/// one (an identifier starting with `r`).
fn raw_string_len(s: &[char]) -> usize {
    let hashes = s[1..].iter().take_while(|&&x| x == '#').count();
    if s.get(1 + hashes) != Some(&'"') {
        return 0;
    }
    let mut close = vec!['"'];
    close.extend(std::iter::repeat_n('#', hashes));
    let body = 2 + hashes;
    find(&s[body..], &close).map_or(s.len(), |e| body + e + close.len())
}

/// Whether the `'` at the start of `s` opens a character literal (`'x'`,
/// `'\n'`, `'{'`) rather than a lifetime or a label.
fn is_char_literal(s: &[char]) -> bool {
    match s.get(1) {
        Some('\\') => true,
        Some(_) => s.get(2) == Some(&'\''),
        None => false,
    }
}

/// Kernel-style C functions: a head line at column 0 ending in `)`, then
/// `{` alone on a line, to the first `}` at column 0.
fn c_functions(text: &str) -> Vec<Function> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for i in 1..lines.len() {
        if lines[i] != "{" {
            continue;
        }
        // The head may span lines: go up to the line with the name.
        let mut h = i - 1;
        while h > 0 && lines[h].starts_with(|c: char| c.is_whitespace()) {
            h -= 1;
        }
        let head = lines[h];
        let Some(paren) = head.find('(') else {
            continue;
        };
        let name = head[..paren]
            .rsplit(|c: char| c.is_whitespace() || c == '*')
            .next()
            .unwrap_or("");
        if name.is_empty() || head.starts_with('#') {
            continue;
        }
        if let Some(end) = lines[i..].iter().position(|l| l.starts_with('}')) {
            out.push(Function {
                name: name.to_string(),
                line: h + 1,
                lines: i + end - h + 1,
            });
        }
    }
    out
}

/// Shell functions: `name() {` at column 0 to the first `}` at column 0.
fn shell_functions(text: &str) -> Vec<Function> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = line.strip_suffix("() {") else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = lines[i..].iter().position(|l| l.starts_with('}')) {
            out.push(Function {
                name: name.to_string(),
                line: i + 1,
                lines: end + 1,
            });
        }
    }
    out
}

/// Checks the file sizes of the checkout `root` and prints the longest
/// function of each part.
pub fn check(root: &Path) -> Result<bool> {
    let files = sh::output(cmd("git", ["ls-files"]).current_dir(root))?;
    let mut too_long = Vec::new();
    let mut longest: Vec<(&str, String, Function)> = Vec::new();
    for path in files.lines() {
        let Some(part) = part(path) else { continue };
        let Ok(text) = fs::read_to_string(root.join(path)) else {
            continue; // not text
        };
        let n = text.lines().count();
        if n > MAX_FILE_LINES && is_source(path, &text) {
            too_long.push(format!("{path} ({n} lines)"));
        }
        for f in functions(path, &text) {
            match longest.iter_mut().find(|(q, _, _)| *q == part) {
                Some(l) if l.2.lines >= f.lines => {}
                Some(l) => *l = (part, path.to_string(), f),
                None => longest.push((part, path.to_string(), f)),
            }
        }
    }
    longest.sort_by_key(|(part, _, _)| *part);
    for (part, path, f) in &longest {
        eprintln!(
            "    {part}: longest function {} ({} lines, {path}:{})",
            f.name, f.lines, f.line
        );
    }
    if !too_long.is_empty() {
        bail!(
            "source files over {MAX_FILE_LINES} lines outside the tests: {}",
            too_long.join(", ")
        );
    }
    eprintln!("    no source file over {MAX_FILE_LINES} lines outside the tests");
    Ok(true)
}

/// Whether `path` is source code (not a document or a data file).
fn is_source(path: &str, text: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    [".rs", ".c", ".h", ".mk", ".sh", ".dts", ".dtsi", ".dtso"]
        .iter()
        .any(|x| name.ends_with(x))
        || name == "Makefile"
        || text.starts_with("#!")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_functions_span_their_body_braces_in_literals_aside() {
        let src = "fn a() {\n    let s = \"}\";\n    let c = '{';\n}\n\
                   pub(crate) fn b<'x>(v: &'x str) -> &'x str {\n    // }\n    v\n}\n\
                   fn decl();\n\
                   #[cfg(test)]\nmod tests {\n    fn t() {\n    }\n}\n";
        let f = rust_functions(src);
        let got: Vec<(&str, usize, usize)> = f
            .iter()
            .map(|f| (f.name.as_str(), f.line, f.lines))
            .collect();
        assert_eq!(got, [("a", 1, 4), ("b", 5, 4)]);
    }

    #[test]
    fn raw_strings_and_lifetimes() {
        let src = "fn a() {\n    let s = r#\"{{\"#;\n}\nfn b<'a>() {}\n";
        let f = rust_functions(src);
        assert_eq!((f[0].lines, f[1].lines), (3, 1));
    }

    #[test]
    fn c_functions_kernel_style() {
        let src = "static int\nnlchan_x(struct a *a,\n\t int b)\n{\n\tif (b) {\n\t\treturn 1;\n\t}\n\treturn 0;\n}\n\
                   #define Y(x) \\\n{\n}\n";
        let f = c_functions(src);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].name.as_str(), f[0].line, f[0].lines),
            ("nlchan_x", 2, 8)
        );
    }

    #[test]
    fn shell_functions_and_parts() {
        let f = shell_functions("#!/bin/sh\nx() {\n\techo\n}\nnot a() {\n}\n");
        assert_eq!((f[0].name.as_str(), f[0].lines), ("x", 3));
        assert_eq!(f.len(), 1);
        assert_eq!(part("app/src/cli/listen.rs"), Some("command line"));
        assert_eq!(part("app/src/exchange.rs"), Some("app library"));
        assert_eq!(part("app/src/tests/genl.rs"), None);
        assert_eq!(part("app/src/cli/args/tests.rs"), None);
        assert_eq!(part("app/tests/cli.rs"), None);
        assert_eq!(part("board/host/src/main.rs"), Some("host program"));
        assert_eq!(part("board/target-tests/nlchan-stress"), None);
    }
}
