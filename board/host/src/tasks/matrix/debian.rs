// SPDX-License-Identifier: MIT OR Apache-2.0
//! Debian's kernel sources for the matrix: found among the downloaded
//! packages, unpacked into the cache, configured and prepared
//! (`modules_prepare`, cached), then checked.

use super::module::{check_module, Exports};
use super::table::Row;
use super::toolchain::Toolchain;
use crate::build::kernel::{self, fnv};
use crate::run::project::Project;
use crate::run::sh;
use anyhow::Result;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when the preparation recipe below changes, to redo cached trees.
const RECIPE: &str = "2";
/// A real ARM config: the one multi-platform ARMv7 kernels (and the
/// Orange Pi PC's H3) are built from.
const CONFIG: &str = "multi_v7_defconfig";

/// The matrix's kernels: Debian's kernel sources.
pub(super) use crate::build::kernel::source::{Source as Target, DEBIAN as TARGETS};

/// The row of one Debian kernel: its source, prepared, and the module's
/// checks against it.
pub(super) fn check(p: &Project, t: &Target, row: &mut Row) -> Result<()> {
    let (src, version) = kernel::source::unpack(p, t)?;
    let kdir = prepare(p, t, &src, &version)?;
    let release = fs::read_to_string(kdir.join("include/config/kernel.release"))?
        .trim()
        .to_string();
    row.release = release.clone();
    let dir = p.out.join("matrix").join(t.version).join("kmod");
    let exports = Exports::Source(&src, format!("{} {version}", t.pkg));
    check_module(
        p,
        &dir,
        &kdir,
        &Toolchain::debian(),
        &exports,
        &release,
        row,
    )?;
    row.release = format!("{release} ({version})");
    Ok(())
}

fn kbuild(src: &Path, build: &Path) -> Command {
    let mut c = Toolchain::debian().make();
    c.args(["-s", "-C"])
        .arg(src)
        .arg(format!("O={}", build.display()));
    c
}

/// Configures the tree and runs `modules_prepare` into a cached `O=`
/// folder keyed on the source version, the config and this recipe.
fn prepare(p: &Project, t: &Target, src: &Path, version: &str) -> Result<PathBuf> {
    let key = fnv(&[version.as_bytes(), CONFIG.as_bytes(), RECIPE.as_bytes()]);
    let build = p
        .cache
        .join(format!("kernel/matrix-{}-{key:016x}", t.version));
    let stamp = build.join(".nlchan-prepared");
    if stamp.exists() {
        eprintln!("    cached: {}", build.display());
        return Ok(build);
    }
    eprintln!(
        "    {CONFIG} + modules_prepare of {} {version} (about a minute, cached afterwards)",
        t.pkg
    );
    let _ = fs::remove_dir_all(&build);
    fs::create_dir_all(&build)?;
    sh::logged(
        CONFIG,
        kbuild(src, &build).arg(CONFIG),
        &build.join("config.log"),
    )?;
    // KUnit on, so that nlchan-kunit.ko is built (W=1, sparse) too.
    sh::logged(
        "CONFIG_KUNIT=y",
        Command::new(src.join("scripts/config"))
            .arg("--file")
            .arg(build.join(".config"))
            .args(["--enable", "KUNIT"]),
        &build.join("kunit.log"),
    )?;
    sh::logged(
        "olddefconfig",
        kbuild(src, &build).arg("olddefconfig"),
        &build.join("olddefconfig.log"),
    )?;
    let jobs = format!(
        "-j{}",
        std::thread::available_parallelism().map_or(2, |n| n.get() + 1)
    );
    sh::logged(
        "modules_prepare",
        kbuild(src, &build).args([jobs.as_str(), "modules_prepare"]),
        &build.join("prepare.log"),
    )?;
    fs::write(&stamp, key.to_string())?;
    Ok(build)
}
