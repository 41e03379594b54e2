// SPDX-License-Identifier: MIT OR Apache-2.0
//! The home-grown lint of Buildroot's conventions for `buildroot/package/*`
//! (a subset of Buildroot's `utils/check-package`).

use anyhow::{bail, Result};
use std::fs;
use std::path::Path;

/// Buildroot's conventions for `buildroot/package/*` (a subset of
/// Buildroot's `utils/check-package`, which CI cannot fetch): the 80-`#`
/// header naming the package, variables prefixed with the package's name,
/// `$()` rather than `${}`, `=` with one space each side, and Config.in
/// help text as a tab, two spaces and at most 62 characters.
pub(super) fn lint_buildroot_package(name: &str, mk: &str, config_in: &str) -> Vec<String> {
    let mut out = lint_mk(name, mk);
    out.extend(lint_config_in(config_in));
    out
}

/// The `<name>.mk` rules: header, `$()`, `VAR = value` and the prefix.
fn lint_mk(name: &str, mk: &str) -> Vec<String> {
    let mut out = Vec::new();
    let prefix = format!("{}_", name.to_uppercase().replace('-', "_"));
    let rule = "#".repeat(80);
    let header = [
        rule.as_str(),
        "#",
        &format!("# {name}"),
        "#",
        rule.as_str(),
        "",
    ];
    if !mk.lines().take(6).eq(header.iter().copied()) {
        out.push(format!(
            "{name}.mk: header is not the 80-# block naming {name}"
        ));
    }
    let mut in_define = false;
    for (i, line) in mk.lines().enumerate() {
        let at = format!("{name}.mk:{}", i + 1);
        if line.contains("${") {
            out.push(format!("{at}: use $() rather than ${{}}"));
        }
        if let Some(var) = line.strip_prefix("define ") {
            in_define = true;
            if !var.starts_with(&prefix) {
                out.push(format!("{at}: {var} lacks the {prefix} prefix"));
            }
            continue;
        }
        if line == "endef" {
            in_define = false;
            continue;
        }
        if in_define || line.starts_with(['#', '\t', '$']) || line.is_empty() {
            continue;
        }
        let Some((var, _)) = line.split_once('=') else {
            continue;
        };
        let var = var.trim_end_matches(['+', '?', ':']);
        if !var.ends_with(' ') || var.ends_with("  ") || !line[var.len()..].contains("= ") {
            out.push(format!("{at}: write `VAR = value`, one space each side"));
        }
        if !var.trim().starts_with(&prefix) {
            out.push(format!("{at}: {} lacks the {prefix} prefix", var.trim()));
        }
    }
    out
}

/// The Config.in rules: tab indents, help text's indent and width.
fn lint_config_in(config_in: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_help = false;
    for (i, line) in config_in.lines().enumerate() {
        let at = format!("Config.in:{}", i + 1);
        if line == "\thelp" {
            in_help = true;
        } else if in_help && !line.is_empty() && !line.starts_with('\t') {
            in_help = false;
        } else if in_help && !line.is_empty() {
            let text = line.strip_prefix("\t  ");
            match text {
                Some(t) if t.chars().count() <= 62 || !t.contains(' ') => {}
                _ => out.push(format!(
                    "{at}: help text is <tab><2 spaces><at most 62 chars>"
                )),
            }
        } else if line.starts_with(' ') {
            out.push(format!("{at}: indent with a tab"));
        }
    }
    out
}

/// Lints `buildroot/package/*` of the checkout (or a copy) at `root`.
pub(super) fn lint_buildroot(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let dir = root.join("buildroot/package");
    let mut n = 0;
    for e in fs::read_dir(&dir)? {
        let pkg = e?.path();
        let name = pkg.file_name().unwrap().to_string_lossy().into_owned();
        let mk = fs::read_to_string(pkg.join(format!("{name}.mk")))?;
        let config_in = fs::read_to_string(pkg.join("Config.in"))?;
        out.extend(lint_buildroot_package(&name, &mk, &config_in));
        n += 1;
    }
    if n == 0 {
        bail!("no package in {}", dir.display());
    }
    eprintln!("    Buildroot conventions: {n} packages checked");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildroot_lint() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../buildroot/package");
        for name in ["nlchan", "nlchan-kmod"] {
            let mk = fs::read_to_string(root.join(name).join(format!("{name}.mk"))).unwrap();
            let cfg = fs::read_to_string(root.join(name).join("Config.in")).unwrap();
            assert_eq!(
                lint_buildroot_package(name, &mk, &cfg),
                Vec::<String>::new()
            );
        }
        let rule = "#".repeat(80);
        let bad_mk = format!(
            "{rule}\n#\n# foo\n#\n{rule}\n\nFOO_SITE  = x\nBAR_X = ${{Y}}\ndefine OTHER\nendef\n"
        );
        let bad_cfg = "config BR2_PACKAGE_FOO\n\tbool \"foo\"\n\thelp\n\t foo\n\t  \
            a line of help text that is much longer than sixty-two characters\n";
        assert_eq!(
            lint_buildroot_package("foo", &bad_mk, bad_cfg),
            [
                "foo.mk:7: write `VAR = value`, one space each side",
                "foo.mk:8: use $() rather than ${}",
                "foo.mk:8: BAR_X lacks the FOO_ PREFIX"
                    .replace("PREFIX", "prefix")
                    .as_str(),
                "foo.mk:9: OTHER lacks the FOO_ prefix",
                "Config.in:4: help text is <tab><2 spaces><at most 62 chars>",
                "Config.in:5: help text is <tab><2 spaces><at most 62 chars>",
            ]
        );
        assert!(!lint_buildroot_package("bar", &bad_mk, "").is_empty());
    }
}
