// SPDX-License-Identifier: MIT OR Apache-2.0
//! The matrix's result table: one row per kernel, and how it is printed.

/// One row of the table.
#[derive(Default)]
pub(super) struct Row {
    /// First column: the kernel's version (`6.1`, `4.9`).
    pub(super) kernel: String,
    /// The architecture built for (`armv7`, `arm64`, `riscv64`; empty for
    /// a tree: its own).
    pub(super) arch: String,
    /// `uname -r` of the prepared tree and where it comes from (the Debian
    /// package version, or the tree's folder).
    pub(super) release: String,
    /// W=1 diagnostics of the module's own code (see
    /// [`crate::build::warnings::split_warnings`]).
    pub(super) warnings: Option<usize>,
    /// W=1 warnings the kernel tree itself raises in any module.
    pub(super) tree_warnings: Option<usize>,
    /// Whether the tree's own warnings fail the row too.
    pub(super) strict: bool,
    pub(super) undefined: Option<usize>,
    /// sparse reports; `None` when sparse does not run (kernel trees).
    pub(super) sparse: Option<usize>,
    pub(super) run_sparse: bool,
    pub(super) modinfo: Option<bool>,
    pub(super) error: Option<String>,
}

impl Row {
    pub(super) fn ok(&self) -> bool {
        self.error.is_none()
            && self.warnings == Some(0)
            && (!self.strict || self.tree_warnings == Some(0))
            && (!self.run_sparse || self.sparse == Some(0))
            && self.modinfo == Some(true)
    }

    /// The sparse, modinfo and result columns.
    fn verdicts(&self) -> (String, &'static str, String) {
        let sparse = match self.sparse {
            Some(0) => "clean".to_string(),
            None if !self.run_sparse => "not run".to_string(),
            n => count(n),
        };
        let modinfo = match self.modinfo {
            Some(true) => "ok",
            Some(false) => "FAIL",
            None => "-",
        };
        let result = match &self.error {
            Some(e) => {
                let first = e.lines().next().unwrap_or("");
                format!("ERROR: {}", first.chars().take(70).collect::<String>())
            }
            None if self.ok() => "pass".to_string(),
            None => "FAIL".to_string(),
        };
        (sparse, modinfo, result)
    }
}

fn count(n: Option<usize>) -> String {
    n.map_or("-".to_string(), |n| n.to_string())
}

pub(super) fn print_table(rows: &[Row], release_heading: &str) {
    eprintln!();
    eprintln!(
        "  {:<7} {:<8} {:<29} {:<9} {:<9} {:<9} {:<8} {:<8} result",
        "kernel", "arch", release_heading, "W=1 warn", "in tree", "imports", "sparse", "modinfo"
    );
    for r in rows {
        let (sparse, modinfo, result) = r.verdicts();
        eprintln!(
            "  {:<7} {:<8} {:<29} {:<9} {:<9} {:<9} {:<8} {:<8} {result}",
            r.kernel,
            if r.arch.is_empty() { "-" } else { &r.arch },
            if r.release.is_empty() {
                "-"
            } else {
                &r.release
            },
            count(r.warnings),
            count(r.tree_warnings),
            count(r.undefined),
            sparse,
            modinfo,
        );
    }
}
