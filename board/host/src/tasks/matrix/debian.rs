// SPDX-License-Identifier: MIT OR Apache-2.0
//! Debian's kernel sources for the matrix: found among the downloaded
//! packages, unpacked into the cache, configured and prepared
//! (`modules_prepare`, cached), then checked.

use super::module::{check_module, Exports};
use super::table::Row;
use super::toolchain::Toolchain;
use crate::build::kernel::{self, fnv};
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Bump when the preparation recipe below changes, to redo cached trees.
const RECIPE: &str = "2";
/// A real ARM config: the one multi-platform ARMv7 kernels (and the
/// Orange Pi PC's H3) are built from.
const CONFIG: &str = "multi_v7_defconfig";

/// A kernel of the matrix and where its source comes from.
pub(super) struct Target {
    /// Short version, as in the table.
    pub(super) version: &'static str,
    /// Debian's source package.
    pub(super) pkg: &'static str,
}

pub(super) const TARGETS: [Target; 3] = [
    Target {
        version: "5.10",
        pkg: "linux-source-5.10",
    },
    Target {
        version: "6.1",
        pkg: "linux-source-6.1",
    },
    Target {
        version: "6.12",
        pkg: "linux-source-6.12",
    },
];

/// The row of one Debian kernel: its source, prepared, and the module's
/// checks against it.
pub(super) fn check(p: &Project, t: &Target, row: &mut Row) -> Result<()> {
    let (src, version) = if t.pkg == "linux-source-6.1" {
        kernel::source(p)?
    } else {
        deb_source(p, t.pkg)?
    };
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

/// Finds the downloaded package of `pkg` and unpacks its source into the
/// cache (once per version).
fn deb_source(p: &Project, pkg: &str) -> Result<(PathBuf, String)> {
    let deb = find_deb(p, pkg)?;
    let version = sh::output(cmd("dpkg-deb", ["-f"]).arg(&deb).arg("Version"))?
        .trim()
        .to_string();
    let top = p.cache.join("src");
    let src = top.join(pkg);
    let stamp = top.join(format!("{pkg}.unpacked"));
    if fs::read_to_string(&stamp).ok().as_deref() == Some(version.as_str()) {
        return Ok((src, version));
    }
    eprintln!("    unpacking {pkg} {version}");
    let _ = fs::remove_dir_all(&src);
    fs::create_dir_all(&top)?;
    unpack(&deb, pkg, &top)?;
    if !src.join("Makefile").exists() {
        bail!("{} did not unpack into {}", deb.display(), src.display());
    }
    fs::write(&stamp, &version)?;
    Ok((src, version))
}

/// The newest downloaded `.deb` of `pkg` in the cache.
fn find_deb(p: &Project, pkg: &str) -> Result<PathBuf> {
    let debs = p.cache.join("kernel-debs");
    let prefix = format!("{pkg}_");
    fs::read_dir(&debs)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .max()
        .with_context(|| {
            format!(
                "no {pkg} package in {}: run `sudo board/bootstrap.sh matrix`, which downloads it",
                debs.display()
            )
        })
}

/// Unpacks the source tarball the package `deb` holds into `top`.
fn unpack(deb: &Path, pkg: &str, top: &Path) -> Result<()> {
    // dpkg-deb --fsys-tarfile | tar -xO <tarball> | tar -xJ, without a shell.
    let mut deb_tar = cmd("dpkg-deb", ["--fsys-tarfile"])
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run dpkg-deb")?;
    let mut inner = cmd("tar", ["-xO"])
        .arg(format!("./usr/src/{pkg}.tar.xz"))
        .stdin(deb_tar.stdout.take().expect("piped"))
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run tar")?;
    let unpacked = cmd("tar", ["-xJ", "-C"])
        .arg(top)
        .stdin(inner.stdout.take().expect("piped"))
        .status()
        .context("cannot run tar")?;
    let (a, b) = (deb_tar.wait()?, inner.wait()?);
    if !(a.success() && b.success() && unpacked.success()) {
        bail!("unpacking {} failed", deb.display());
    }
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
