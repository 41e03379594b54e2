// SPDX-License-Identifier: MIT OR Apache-2.0
//! The checks every kernel of the matrix gets: the module built out of tree
//! with W=1 from a fresh copy of kmod/, its imports, sparse and `modinfo`.

use super::modinfo::modinfo_gaps;
use super::symbols::{undefined_symbols, unexported, unlisted};
use super::table::Row;
use super::toolchain::Toolchain;
use crate::build::warnings::{split_warnings, warnings};
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where a kernel's exported symbols are read from.
pub(super) enum Exports<'a> {
    /// `EXPORT_SYMBOL*()` in the source tree (no `Module.symvers`), and
    /// what to call it.
    Source(&'a Path, String),
    /// The symbols a built tree's `Module.symvers` lists.
    Symvers(PathBuf),
}

/// The checks every kernel gets: the module built out of tree with W=1
/// into `dir` (a fresh copy of kmod/'s sources), its imports, sparse when
/// the row asks for it, and its metadata (`modinfo`).
pub(super) fn check_module(
    p: &Project,
    dir: &Path,
    kdir: &Path,
    tc: &Toolchain,
    exports: &Exports,
    release: &str,
    row: &mut Row,
) -> Result<()> {
    copy_kmod(&p.root.join("kmod"), dir)?;
    let log = sh::logged(
        "module build (W=1)",
        &mut module_make(dir, kdir, tc, &["W=1"]),
        &dir.join("../build.log"),
    )?;
    let (own, tree) = split_warnings(&log, dir);
    row.warnings = Some(own.len());
    row.tree_warnings = Some(tree.len());
    for w in &own {
        eprintln!("    {w}");
    }
    for w in &tree {
        eprintln!("    from the kernel tree: {w}");
    }
    check_imports(dir, tc, exports, row)?;
    if row.run_sparse {
        row.sparse = Some(sparse(dir, kdir, tc)?);
    }
    let info = sh::output(&mut cmd("modinfo", [dir.join("nlchan.ko")]))?;
    let missing = modinfo_gaps(&info, release);
    for m in &missing {
        eprintln!("    modinfo: {m}");
    }
    row.modinfo = Some(missing.is_empty());
    Ok(())
}

/// Fails unless the kernel exports every undefined symbol of the module
/// built in `dir`.
fn check_imports(dir: &Path, tc: &Toolchain, exports: &Exports, row: &mut Row) -> Result<()> {
    let undefined = undefined_symbols(tc, &dir.join("nlchan.ko"))?;
    row.undefined = Some(undefined.len());
    let (missing, from) = match exports {
        Exports::Source(src, name) => (unexported(src, &undefined)?, name.clone()),
        Exports::Symvers(file) => (unlisted(file, &undefined)?, file.display().to_string()),
    };
    if !missing.is_empty() {
        bail!(
            "the module imports symbols that {from} does not export: {}",
            missing.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    eprintln!(
        "    imports: {} undefined symbols (nm -u), all exported by {from}",
        undefined.len(),
    );
    Ok(())
}

/// Runs sparse on every source of the module (`C=2` checks them all, built
/// or not); returns how many reports it printed.
fn sparse(dir: &Path, kdir: &Path, tc: &Toolchain) -> Result<usize> {
    let log = sh::logged(
        "sparse (C=2)",
        &mut module_make(dir, kdir, tc, &["W=1", "C=2"]),
        &dir.join("../sparse.log"),
    )?;
    let checked = log
        .lines()
        .filter(|l| l.trim_start().starts_with("CHECK"))
        .count();
    let sources = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".c") && !n.ends_with(".mod.c"))
        .count();
    if checked < sources {
        bail!("sparse checked {checked} of {sources} source files (is sparse installed?)");
    }
    let reports = warnings(&log);
    for w in &reports {
        eprintln!("    {w}");
    }
    Ok(reports.len())
}

/// Copies what kbuild needs of kmod/ (Kbuild, Makefile, sources, headers
/// and the include/ tree) into a fresh `dest`, so that builds never see the
/// main build's objects.
fn copy_kmod(from: &Path, dest: &Path) -> Result<()> {
    let _ = fs::remove_dir_all(dest);
    fs::create_dir_all(dest)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.starts_with('.') {
            continue;
        }
        if e.file_type()?.is_dir() {
            // include/ and every folder below it.
            if name == "include" || from.ancestors().any(|a| a.ends_with("include")) {
                copy_kmod(&path, &dest.join(&name))?;
            }
        } else if name == "Kbuild"
            || name == "Makefile"
            || (name.ends_with(".c") && !name.ends_with(".mod.c"))
            || name.ends_with(".h")
        {
            fs::copy(&path, dest.join(&name))
                .with_context(|| format!("cannot copy {}", path.display()))?;
        }
    }
    Ok(())
}

/// `make -C <kmod copy> KDIR=... ARCH=... CROSS_COMPILE=... [CC=...] <extra>`
/// (kmod/Makefile hands ARCH and CROSS_COMPILE on; a `CC=` given on
/// make's command line reaches kbuild through `MAKEFLAGS`).
fn module_make(dir: &Path, kdir: &Path, tc: &Toolchain, extra: &[&str]) -> Command {
    let mut c = tc.make();
    c.arg("-C")
        .arg(dir)
        .arg(format!("KDIR={}", kdir.display()))
        .arg(crate::run::project::module_version_arg())
        .args(extra)
        // No Module.symvers after modules_prepare: see the matrix's docs.
        .env("KBUILD_MODPOST_WARN", "1");
    c
}
