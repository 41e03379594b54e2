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
use anyhow::{bail, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when the preparation recipe below changes, to redo cached trees.
const RECIPE: &str = "2";

/// An architecture the matrix builds the module for: kbuild's `ARCH`, the
/// configuration and Debian's cross compiler.
pub(super) struct Arch {
    /// kbuild's `ARCH`.
    pub(super) name: &'static str,
    /// What the boards are (for the table).
    pub(super) what: &'static str,
    /// A real config of that architecture.
    pub(super) config: &'static str,
    /// Debian's cross compiler's prefix.
    pub(super) cross: &'static str,
}

/// 32-bit ARM: the one multi-platform ARMv7 kernels (and the Orange Pi
/// PC's H3, the V83x and T113) are built from.
pub(super) const ARM: Arch = Arch {
    name: "arm",
    what: "armv7",
    config: "multi_v7_defconfig",
    cross: crate::run::project::CROSS_COMPILE,
};

/// The other architectures of Allwinner's boards, on 6.1 only: arm64
/// (H616/H618, A133) and riscv64 (D1), each from its `defconfig`.
pub(super) const OTHER_ARCHES: [Arch; 2] = [
    Arch {
        name: "arm64",
        what: "arm64",
        config: "defconfig",
        cross: "aarch64-linux-gnu-",
    },
    Arch {
        name: "riscv",
        what: "riscv64",
        config: "defconfig",
        cross: "riscv64-linux-gnu-",
    },
];

/// The matrix's kernels: Debian's kernel sources.
pub(super) use crate::build::kernel::source::{Source as Target, DEBIAN as TARGETS};

/// The row of one Debian kernel for `arch`: its source, prepared, and the
/// module's checks against it.
pub(super) fn check(p: &Project, t: &Target, arch: &Arch, row: &mut Row) -> Result<()> {
    let (src, version) = kernel::source::unpack(p, t)?;
    let kdir = prepare(p, t, arch, &src, &version)?;
    let release = fs::read_to_string(kdir.join("include/config/kernel.release"))?
        .trim()
        .to_string();
    row.release = release.clone();
    let dir = p.out.join("matrix").join(label(t, arch)).join("kmod");
    let exports = Exports::Source(&src, format!("{} {version}", t.pkg));
    check_module(p, &dir, &kdir, &toolchain(arch), &exports, &release, row)?;
    row.release = format!("{release} ({version})");
    Ok(())
}

/// `5.10`, or `6.1-arm64` for another architecture than ARM.
fn label(t: &Target, arch: &Arch) -> String {
    if arch.name == ARM.name {
        t.version.to_string()
    } else {
        format!("{}-{}", t.version, arch.name)
    }
}

fn toolchain(arch: &Arch) -> Toolchain {
    Toolchain::debian(arch.name, arch.cross)
}

fn kbuild(arch: &Arch, src: &Path, build: &Path) -> Command {
    let mut c = toolchain(arch).make();
    c.args(["-s", "-C"])
        .arg(src)
        .arg(format!("O={}", build.display()));
    c
}

/// Configures the tree and runs `modules_prepare` into a cached `O=`
/// folder keyed on the source version, the config and this recipe.
fn prepare(p: &Project, t: &Target, arch: &Arch, src: &Path, version: &str) -> Result<PathBuf> {
    let gcc = format!("{}gcc", arch.cross);
    if sh::which(&gcc).is_none() {
        bail!(
            "{gcc} is missing, for the {} rows (run `sudo ./board/bootstrap.sh`)",
            arch.what
        );
    }
    let config = arch.config;
    let mut parts = vec![version.as_bytes(), config.as_bytes(), RECIPE.as_bytes()];
    if arch.name != ARM.name {
        parts.push(arch.name.as_bytes());
    }
    let key = fnv(&parts);
    let build = p
        .cache
        .join(format!("kernel/matrix-{}-{key:016x}", label(t, arch)));
    let stamp = build.join(".nlchan-prepared");
    if stamp.exists() {
        eprintln!("    cached: {}", build.display());
        return Ok(build);
    }
    eprintln!(
        "    ARCH={} {config} + modules_prepare of {} {version} (about a minute, cached afterwards)",
        arch.name, t.pkg
    );
    let _ = fs::remove_dir_all(&build);
    fs::create_dir_all(&build)?;
    sh::logged(
        config,
        kbuild(arch, src, &build).arg(config),
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
        kbuild(arch, src, &build).arg("olddefconfig"),
        &build.join("olddefconfig.log"),
    )?;
    let jobs = format!(
        "-j{}",
        std::thread::available_parallelism().map_or(2, |n| n.get() + 1)
    );
    sh::logged(
        "modules_prepare",
        kbuild(arch, src, &build).args([jobs.as_str(), "modules_prepare"]),
        &build.join("prepare.log"),
    )?;
    fs::write(&stamp, key.to_string())?;
    Ok(build)
}
