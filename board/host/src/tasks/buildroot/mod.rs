// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board buildroot --tree DIR`: the project's Buildroot packages
//! (buildroot/, a BR2_EXTERNAL tree) built by a real Buildroot tree the
//! user has, offline, then the resulting root filesystem booted on the
//! emulated board and smoke-tested over its serial console.
//!
//! What makes the board image is Buildroot's own: its external-toolchain,
//! linux, busybox, skeleton, init scripts and rootfs-cpio packages, and
//! nlchan-kmod and nlchan built by its kernel-module and cargo-package
//! infrastructures from `buildroot/configs/nlchan_orangepi_pc_defconfig`,
//! with these offline substitutes, all outside the project:
//! - toolchain: Debian's `gcc-arm-linux-gnueabihf` 12 as an external
//!   toolchain, in a relocated copy (Buildroot refuses a distribution
//!   toolchain configured `--with-sysroot=/`);
//! - linux: Debian's `linux-source-6.1` (`LINUX_OVERRIDE_SRCDIR`) with the
//!   emulated board's kernel configuration;
//! - busybox: Debian's busybox source (`BUSYBOX_OVERRIDE_SRCDIR`), built
//!   with Buildroot's default busybox configuration;
//! - host-rust-bin: Debian's rustc-web and cargo-web (the project's MSRV)
//!   and the armhf std, installed by a small `install.sh` tree;
//! - the other host tools Buildroot would download (tar, m4, autotools,
//!   gettext-tiny, bison, flex, attr, acl, fakeroot, kmod, patchelf,
//!   pkgconf, dtc): shim source trees whose `make install` links Debian's
//!   installed tools into the host folder. Buildroot's patches to them are
//!   not applied, and Debian's patchelf lacks Buildroot's
//!   `--make-rpath-relative`, so RPATH sanitising does nothing (the nlchan
//!   files are checked for an RPATH instead);
//! - the crates: `vendor/` in the checkout (`cargo vendor --locked`).
//!
//! The SD-card parts of the defconfig (U-Boot, genimage, ext4) are left
//! out: the emulated board boots what Buildroot made directly, its kernel,
//! its device tree from `/boot` (to which the defconfig's post-build
//! script applied the nlchan overlay) and a cpio root filesystem.

mod boot;
mod check_package;
mod config;
mod make;
mod shims;
mod toolchain;

use crate::build::kernel;
use crate::run::project::Project;
use crate::run::sh;
use anyhow::{bail, Context, Result};
use boot::boot_and_smoke;
use check_package::check_package;
use config::configure;
use make::{check_target, make, vendor};
use shims::substitutes;
use std::fs;
use std::path::Path;
use toolchain::relocated_toolchain;

/// The project's Buildroot defconfig the build starts from.
const DEFCONFIG: &str = "buildroot/configs/nlchan_orangepi_pc_defconfig";

/// Runs the whole job; returns whether the smoke test passed.
pub fn run(p: &Project, tree: &Path, verbose: bool) -> Result<bool> {
    let version = tree_version(tree)?;
    let work = p.cache.join("buildroot").join(&version);
    let out = work.join("output");
    fs::create_dir_all(&work)?;
    // One build per output folder at a time.
    let _lock = sh::lock(&work.join("lock"), "cargo board buildroot")?;
    eprintln!(
        "buildroot: {} ({version}), output in {}",
        tree.display(),
        out.display()
    );
    sh::step(
        "check-package on the nlchan packages (the tree's own)",
        || check_package(p, tree),
    )?;
    let toolchain = sh::step("external toolchain (Debian's cross gcc, relocated)", || {
        relocated_toolchain(p)
    })?;
    let k = sh::step("the board's kernel configuration", || {
        kernel::build_variant(p, &kernel::ORANGEPI_PC, &kernel::NORMAL)
    })?;
    sh::step(
        "offline substitutes (override file, shims, host Rust)",
        || substitutes(p, tree, &work),
    )?;
    sh::step(
        "crates vendored in the checkout (cargo vendor --locked)",
        || vendor(p),
    )?;
    sh::step(
        &format!("configure {DEFCONFIG} for the offline build"),
        || configure(p, tree, &work, &toolchain, &k),
    )?;
    sh::step("make (a clean build of nlchan-kmod and nlchan)", || {
        make(&out)
    })?;
    sh::step("what the packages installed in the root filesystem", || {
        check_target(p, &out)
    })?;
    boot_and_smoke(&work, &version, verbose)
}

/// The tree's version (`BR2_VERSION` in its top Makefile).
fn tree_version(tree: &Path) -> Result<String> {
    let mk = tree.join("Makefile");
    let text = fs::read_to_string(&mk).with_context(|| {
        format!(
            "--tree {}: no Makefile; give the top folder of a Buildroot tree \
             (git clone https://gitlab.com/buildroot.org/buildroot.git)",
            tree.display()
        )
    })?;
    let v = text
        .lines()
        .find_map(|l| l.strip_prefix("export BR2_VERSION :="))
        .map(str::trim)
        .filter(|v| !v.is_empty());
    match v {
        Some(v) if tree.join("package/pkg-cargo.mk").is_file() => Ok(v.to_string()),
        Some(v) => bail!(
            "--tree {}: Buildroot {v} has no package/pkg-cargo.mk (cargo packages need 2021.11 or later)",
            tree.display()
        ),
        None => bail!(
            "--tree {}: {} sets no BR2_VERSION; not a Buildroot tree",
            tree.display(),
            mk.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_version_needs_a_buildroot_tree_with_cargo_support() {
        let d = std::env::temp_dir().join(format!("nlchan-br-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("package")).unwrap();
        let e = tree_version(&d).unwrap_err().to_string();
        assert!(e.contains("no Makefile"), "{e}");
        fs::write(d.join("Makefile"), "export BR2_VERSION := 2026.02.3\n").unwrap();
        let e = tree_version(&d).unwrap_err().to_string();
        assert!(e.contains("pkg-cargo.mk"), "{e}");
        fs::write(d.join("package/pkg-cargo.mk"), "").unwrap();
        assert_eq!(tree_version(&d).unwrap(), "2026.02.3");
        fs::write(d.join("Makefile"), "all:\n").unwrap();
        assert!(tree_version(&d)
            .unwrap_err()
            .to_string()
            .contains("no BR2_VERSION"));
        fs::remove_dir_all(&d).unwrap();
    }
}
