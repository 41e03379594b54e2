// SPDX-License-Identifier: MIT OR Apache-2.0
//! The protocol constants are generated from the kernel module's uapi
//! header `kmod/include/uapi/linux/nlchan.h`, the single source of truth,
//! and committed as `src/proto/generated.rs`, so that the crate builds from
//! its own package directory (vendored, or as a git or path dependency).
//! This test regenerates them and fails when the committed file drifted
//! from the header. `NLCHAN_BLESS=1` rewrites the file instead.
//!
//! Every `#define NLCHAN_<NAME> <literal>` line becomes `pub const <NAME>`,
//! documented with the comment above it in the header. Literals are decimal
//! or hex integers (optionally with `U`/`L` suffixes) or plain strings.
//! Anything else on an `NLCHAN_` define, or a constant the library needs
//! that is missing, fails with a message naming the line.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

#[test]
fn generated_constants_match_the_uapi_header() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = root.join("../kmod/include/uapi/linux/nlchan.h");
    let committed = root.join("src/proto/generated.rs");
    let text = fs::read_to_string(&header).unwrap_or_else(|e| {
        panic!(
            "cannot read the protocol header {}: {e} (this test runs in the \
             nlchan repository, next to kmod/)",
            header.display()
        )
    });
    let defines = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", header.display()));
    let code = generate(&defines).unwrap_or_else(|e| panic!("{}: {e}", header.display()));
    if env::var_os("NLCHAN_BLESS").is_some_and(|v| v == "1") {
        fs::write(&committed, &code)
            .unwrap_or_else(|e| panic!("writing {}: {e}", committed.display()));
        return;
    }
    let old = fs::read_to_string(&committed).unwrap_or_default();
    if old != code {
        let line = old
            .lines()
            .zip(code.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(old.lines().count().min(code.lines().count()));
        panic!(
            "{} is out of date with {} (first difference at line {}): \
             regenerate it with `NLCHAN_BLESS=1 cargo test -p nlchan --test proto_generated` \
             and commit it",
            committed.display(),
            header.display(),
            line + 1
        );
    }
}

/// Constants the library uses, with the Rust type each one gets.
const REQUIRED: &[(&str, &str)] = &[
    ("NLCHAN_PROTO_VERSION", "u32"),
    ("NLCHAN_UNIT_SEED", "u32"),
    ("NLCHAN_UNIT_MIN", "u32"),
    ("NLCHAN_UNIT_LIMIT", "u32"),
    ("NLCHAN_GROUP", "u32"),
    ("NLCHAN_MSG_LEN", "usize"),
    ("NLCHAN_MSG_SEND", "u16"),
    ("NLCHAN_MSG_ECHO", "u16"),
    ("NLCHAN_MSG_REPLY", "u16"),
    ("NLCHAN_MSG_BROADCAST", "u16"),
    ("NLCHAN_MSG_SEED", "u16"),
    ("NLCHAN_F_GATHER", "u16"),
    ("NLCHAN_GATHER_MAX", "usize"),
    ("NLCHAN_GREETING", "&str"),
    // Version 2, generic netlink: genlmsghdr.version and .cmd are u8,
    // nla_type is u16.
    ("NLCHAN_GENL_NAME", "&str"),
    ("NLCHAN_GENL_VERSION", "u8"),
    ("NLCHAN_GENL_MCGRP", "&str"),
    ("NLCHAN_CMD_UNSPEC", "u8"),
    ("NLCHAN_CMD_SEND", "u8"),
    ("NLCHAN_CMD_ECHO", "u8"),
    ("NLCHAN_CMD_REPLY", "u8"),
    ("NLCHAN_CMD_BROADCAST", "u8"),
    ("NLCHAN_ATTR_UNSPEC", "u16"),
    ("NLCHAN_ATTR_PAYLOAD", "u16"),
    ("NLCHAN_ATTR_MAX", "u16"),
];

/// A parsed literal.
enum Value {
    Int(u64),
    Str(String),
}

/// One `#define NLCHAN_*` line with the comment that documents it.
struct Define {
    name: String,
    value: Value,
    doc: String,
    line: usize,
}

/// Collects every `NLCHAN_` define of the header.
fn parse(text: &str) -> Result<Vec<Define>, String> {
    let mut defines = Vec::new();
    let mut comment: Vec<String> = Vec::new();
    let mut in_comment = false;
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if in_comment || line.starts_with("/*") {
            // Cut the closing "*/" first: a lone " */" line is no text.
            let body = line.strip_suffix("*/").unwrap_or(line);
            let body = body.trim_start_matches("/*").trim_start_matches('*').trim();
            if !in_comment {
                comment.clear();
            }
            if !body.is_empty() {
                comment.push(body.to_string());
            }
            in_comment = !line.ends_with("*/");
            continue;
        }
        if line.is_empty() {
            comment.clear();
            continue;
        }
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let mut words = rest.trim_start().splitn(2, char::is_whitespace);
        if words.next() != Some("define") {
            continue;
        }
        let rest = words.next().unwrap_or("").trim_start();
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        if !name.starts_with("NLCHAN_") {
            continue;
        }
        let value = parse_literal(strip_comment(&rest[name_end..]).trim()).map_err(|e| {
            format!(
                "line {}: #define {name}: {e} (keep every NLCHAN_ value a plain literal)",
                idx + 1
            )
        })?;
        if defines.iter().any(|d: &Define| d.name == name) {
            return Err(format!("line {}: {name} is defined twice", idx + 1));
        }
        defines.push(Define {
            name: name.to_string(),
            value,
            doc: comment.join(" "),
            line: idx + 1,
        });
    }
    Ok(defines)
}

/// Drops a trailing `/* ... */` or `// ...` comment.
fn strip_comment(value: &str) -> &str {
    if value.trim_start().starts_with('"') {
        // A string may contain "/*"; only cut after its closing quote.
        let start = value.find('"').unwrap_or(0);
        return match value[start + 1..].find('"') {
            Some(end) => &value[..start + end + 2],
            None => value,
        };
    }
    let cut = [value.find("/*"), value.find("//")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(value.len());
    &value[..cut]
}

/// Parses a decimal/hex integer (with optional `U`/`L` suffixes) or a plain
/// string without escapes.
fn parse_literal(value: &str) -> Result<Value, String> {
    if let Some(inner) = value.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| format!("unterminated string {value}"))?;
        if inner.contains(['"', '\\']) || !inner.is_ascii() {
            return Err(format!("string {value} has escapes or non-ASCII bytes"));
        }
        return Ok(Value::Str(inner.to_string()));
    }
    let digits = value.trim_end_matches(['u', 'U', 'l', 'L']);
    let parsed = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16),
        None if digits.len() > 1 && digits.starts_with('0') => {
            return Err(format!("octal literal {value} is not supported"))
        }
        None => digits.parse::<u64>(),
    };
    parsed
        .map(Value::Int)
        .map_err(|_| format!("{value:?} is not an integer or string literal"))
}

/// Writes the Rust source: one typed constant per define plus `DEFINES`.
fn generate(defines: &[Define]) -> Result<String, String> {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !defines.iter().any(|d| d.name == *name))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the library needs these defines, which are missing: {}",
            missing.join(", ")
        ));
    }
    // The generated file's license tag, not this file's: REUSE-IgnoreStart
    let mut out = String::from(
        "// SPDX-License-Identifier: MIT OR Apache-2.0\n\
         //\n\
         // Generated from kmod/include/uapi/linux/nlchan.h by tests/proto_generated.rs.\n\
         // Do not edit: run `NLCHAN_BLESS=1 cargo test -p nlchan --test proto_generated`.\n\n\
         use super::Define;\n\n",
    );
    // REUSE-IgnoreEnd
    let mut table = String::from(
        "/// Every `NLCHAN_*` define of the header, by its C name, in header order.\n\
         pub const DEFINES: &[(&str, Define)] = &[\n",
    );
    for d in defines {
        let rust_name = &d.name["NLCHAN_".len()..];
        let required = REQUIRED.iter().find(|(n, _)| *n == d.name).map(|(_, t)| *t);
        let (ty, literal, entry) = match (&d.value, required) {
            (Value::Str(s), None | Some("&str")) => {
                ("&str", format!("{s:?}"), format!("Define::Str({s:?})"))
            }
            (Value::Int(n), Some(ty)) if ty != "&str" => {
                check_range(d, *n, ty)?;
                (ty, n.to_string(), format!("Define::Int({n})"))
            }
            (Value::Int(n), None) => {
                let ty = if *n > u64::from(u32::MAX) {
                    "u64"
                } else {
                    "u32"
                };
                (ty, n.to_string(), format!("Define::Int({n})"))
            }
            (_, Some(ty)) => {
                let kind = if ty == "&str" {
                    "a string"
                } else {
                    "an integer"
                };
                return Err(format!("line {}: {} must be {kind}", d.line, d.name));
            }
        };
        let doc = format!("`{}` (uapi header line {}): {}", d.name, d.line, d.doc);
        let _ = writeln!(
            out,
            "#[doc = {doc:?}]\npub const {rust_name}: {ty} = {literal};\n"
        );
        let _ = writeln!(table, "    ({:?}, {entry}),", d.name);
    }
    table.push_str("];\n");
    out.push_str(&table);
    Ok(out)
}

/// Fails when an integer does not fit the Rust type it is given.
fn check_range(d: &Define, n: u64, ty: &str) -> Result<(), String> {
    let max = match ty {
        "u8" => u64::from(u8::MAX),
        "u16" => u64::from(u16::MAX),
        "u32" => u64::from(u32::MAX),
        // usize is 32 bits on the board.
        "usize" => u64::from(u32::MAX),
        _ => u64::MAX,
    };
    if n > max {
        return Err(format!(
            "line {}: {} = {n} does not fit {ty}",
            d.line, d.name
        ));
    }
    Ok(())
}
