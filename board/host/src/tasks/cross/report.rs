// SPDX-License-Identifier: MIT OR Apache-2.0
//! Each target built by cross and its binary checked, and the table of
//! the results.

use super::binary;
use super::toolchain::CrossEnv;
use crate::build::elf::{self, Target};
use crate::run::project::Project;
use crate::run::sh;
use anyhow::Result;
use std::path::Path;
use std::time::{Duration, Instant};

pub(super) fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One target's result.
pub(super) struct Row {
    pub(super) triple: &'static str,
    size: Option<u64>,
    is_static: bool,
    arch: bool,
    version: Option<String>,
    took: Duration,
    errors: Vec<String>,
}

impl Row {
    fn new(triple: &'static str) -> Row {
        Row {
            triple,
            size: None,
            is_static: false,
            arch: false,
            version: None,
            took: Duration::ZERO,
            errors: Vec::new(),
        }
    }

    pub(super) fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

pub(super) fn build_target(
    p: &Project,
    dir: &Path,
    env: &CrossEnv,
    cross: &Path,
    t: &Target,
) -> Row {
    let mut row = Row::new(t.triple);
    let what = format!(
        "cross build --release --locked -p nlchan --target {}",
        t.triple
    );
    eprintln!("==> {what}");
    let start = Instant::now();
    let mut c = env.command("nice");
    c.args(["-n", "10"])
        .arg(cross)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "nlchan",
            "--target",
            t.triple,
        ])
        .current_dir(&p.root);
    let log = dir.join(format!("build-{}.log", t.triple));
    let built = sh::logged(&what, &mut c, &log);
    row.took = start.elapsed();
    if let Err(e) = built {
        eprintln!("    {what}: FAILED ({})", sh::dur(row.took));
        row.errors.push(format!("{e:#}"));
        return row;
    }
    eprintln!("    {what}: done in {}", sh::dur(row.took));
    let bin = binary(p, t.triple);
    if let Err(e) = check(&bin, t, &mut row) {
        row.errors.push(format!("{e:#}"));
    }
    row
}

fn check(bin: &Path, t: &Target, row: &mut Row) -> Result<()> {
    let found = elf::inspect(bin, t)?;
    row.size = Some(found.size);
    row.is_static = found.is_static;
    row.arch = found.arch;
    row.version = found.version;
    row.errors.extend(found.errors);
    Ok(())
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "NO"
    }
}

pub(super) fn table(rows: &[Row]) -> String {
    let mut s = format!(
        "\ncross builds (target/cross/<target>/release/nlchan):\n\
         {:<32} {:>10} {:>7} {:>5} {:>10} {:>8}\n",
        "target", "size (B)", "static", "arch", "version", "build"
    );
    for r in rows {
        let built = r.size.is_some();
        s.push_str(&format!(
            "{:<32} {:>10} {:>7} {:>5} {:>10} {:>8}\n",
            r.triple,
            r.size.map_or("-".into(), |n| n.to_string()),
            if built { yes(r.is_static) } else { "-" },
            if built { yes(r.arch) } else { "-" },
            if built { yes(r.version.is_some()) } else { "-" },
            sh::dur(r.took),
        ));
    }
    if let Some(v) = rows.iter().find_map(|r| r.version.as_deref()) {
        s.push_str(&format!("`nlchan --version` under qemu-user: {v}\n"));
    }
    for r in rows.iter().filter(|r| !r.ok()) {
        s.push_str(&format!("{} FAILED:\n", r.triple));
        for e in &r.errors {
            s.push_str(&format!("{}\n", indent(e)));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_marks_failures() {
        let rows = [
            Row {
                triple: "armv7-unknown-linux-musleabihf",
                size: Some(361692),
                is_static: true,
                arch: true,
                version: Some("nlchan 0.1.0".into()),
                took: Duration::from_secs(3),
                errors: Vec::new(),
            },
            Row {
                triple: "aarch64-unknown-linux-musl",
                size: None,
                is_static: false,
                arch: false,
                version: None,
                took: Duration::from_secs(1),
                errors: vec!["cross build failed".into()],
            },
        ];
        let t = table(&rows);
        assert!(t.contains("361692"), "{t}");
        assert!(
            t.contains("aarch64-unknown-linux-musl FAILED:\n      cross build failed"),
            "{t}"
        );
        assert!(rows[0].ok() && !rows[1].ok());
    }
}
