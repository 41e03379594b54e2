// SPDX-License-Identifier: MIT OR Apache-2.0
//! The module's imports (`nm -u`) checked against the kernel's exports:
//! `EXPORT_SYMBOL*()` in its source, or its `Module.symvers`.

use super::toolchain::Toolchain;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Stdio;

/// The module's imports: its undefined symbols (`nm -u`).
pub(super) fn undefined_symbols(tc: &Toolchain, ko: &Path) -> Result<BTreeSet<String>> {
    let out = sh::output(cmd(&format!("{}nm", tc.cross), ["-u"]).arg(ko))?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(str::to_string)
        .collect())
}

/// The symbols of `syms` that no `EXPORT_SYMBOL*()` of the source exports.
pub(super) fn unexported(src: &Path, syms: &BTreeSet<String>) -> Result<BTreeSet<String>> {
    if syms.is_empty() {
        return Ok(BTreeSet::new());
    }
    let names: Vec<&str> = syms.iter().map(String::as_str).collect();
    // param_ops_<type> are exported by STANDARD_PARAM_DEF(<type>, ...).
    let types: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_prefix("param_ops_"))
        .collect();
    let mut pattern = format!(r"EXPORT_SYMBOL[A-Z_]*\(\s*({})\s*[,)]", names.join("|"));
    if !types.is_empty() {
        pattern += &format!(r"|STANDARD_PARAM_DEF\(\s*({})\s*,", types.join("|"));
    }
    let found: BTreeSet<String> = grep_exports(&pattern, src)?
        .lines()
        .filter_map(|l| l.split_once('('))
        .map(|(macro_name, rest)| {
            let sym = rest.trim_start().trim_end_matches([')', ',']).trim();
            if macro_name == "STANDARD_PARAM_DEF" {
                format!("param_ops_{sym}")
            } else {
                sym.to_string()
            }
        })
        .collect();
    Ok(syms.difference(&found).cloned().collect())
}

/// What `grep -rhoE pattern` finds in the kernel's C, header and assembly
/// sources under `src` (no match: nothing).
fn grep_exports(pattern: &str, src: &Path) -> Result<String> {
    let out = cmd(
        "grep",
        [
            "-rhoE",
            "--include=*.c",
            "--include=*.h",
            "--include=*.S",
            "--exclude-dir=Documentation",
            "--exclude-dir=tools",
            "--exclude-dir=samples",
        ],
    )
    .arg(pattern)
    .arg(src)
    .stderr(Stdio::inherit())
    .output()
    .context("cannot run grep")?;
    // 1 is "no match": then every symbol is missing.
    if out.status.code().is_none_or(|c| c > 1) {
        bail!("grep for the kernel's exports failed ({})", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The symbols of `syms` that the `Module.symvers` file does not list
/// (`<crc> <symbol> <module> <export macro> ...`, tab-separated).
pub(super) fn unlisted(symvers: &Path, syms: &BTreeSet<String>) -> Result<BTreeSet<String>> {
    let text = fs::read_to_string(symvers)
        .with_context(|| format!("cannot read {}", symvers.display()))?;
    let listed: BTreeSet<&str> = text.lines().filter_map(|l| l.split('\t').nth(1)).collect();
    Ok(syms
        .iter()
        .filter(|s| !listed.contains(s.as_str()))
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_symbols_missing_from_symvers() {
        let file = std::env::temp_dir().join(format!("nlchan-symvers-{}", std::process::id()));
        fs::write(
            &file,
            "0x00000000\tnetlink_ack\tvmlinux\tEXPORT_SYMBOL\n\
             0x1234abcd\tgenl_register_family\tvmlinux\tEXPORT_SYMBOL_GPL\t\n",
        )
        .unwrap();
        let syms: BTreeSet<String> = ["netlink_ack", "genl_register_family", "vmlinux"]
            .map(String::from)
            .into();
        let missing: Vec<String> = unlisted(&file, &syms).unwrap().into_iter().collect();
        fs::remove_file(&file).unwrap();
        assert_eq!(missing, ["vmlinux"]);
    }

    #[test]
    fn finds_unexported_symbols() {
        let dir = std::env::temp_dir().join(format!("nlchan-matrix-{}", std::process::id()));
        fs::create_dir_all(dir.join("net")).unwrap();
        fs::write(
            dir.join("net/a.c"),
            "EXPORT_SYMBOL(netlink_ack);\nEXPORT_SYMBOL_NS_GPL(foo, BAR);\n// netlink_rcv_skb\n\
             STANDARD_PARAM_DEF(uint,\tunsigned int, \"%u\", kstrtouint);\n",
        )
        .unwrap();
        let syms: BTreeSet<String> = [
            "netlink_ack",
            "foo",
            "netlink_rcv_skb",
            "param_ops_uint",
            "param_ops_ulong",
        ]
        .map(String::from)
        .into();
        let missing: Vec<String> = unexported(&dir, &syms).unwrap().into_iter().collect();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(missing, ["netlink_rcv_skb", "param_ops_ulong"]);
    }
}
