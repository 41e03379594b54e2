// SPDX-License-Identifier: MIT OR Apache-2.0
//! Buildroot's kernel and root filesystem booted on the emulated board,
//! checked to be that image, and smoke-tested over its serial console.

use crate::build::kernel::{self, Kernel};
use crate::device::console::Console;
use crate::device::{checks, qemu, shell};
use crate::run::sh;
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// Boots Buildroot's kernel, device tree and root filesystem, logs in on
/// its getty,
/// checks it is that image, checks the init script, runs the smoke test,
/// then the smoke test again with the module on the seed's unit 30. The console and
/// QEMU logs go to `work`.
pub(super) fn boot_and_smoke(work: &Path, version: &str, verbose: bool) -> Result<bool> {
    let out = work.join("output");
    let images = out.join("images");
    // The device tree the defconfig's post-build script gave the nlchan
    // node (it checks the node itself).
    let dtb = &out.join("target/boot/sun8i-h3-orangepi-pc.dtb");
    let release = fs::read_to_string(out.join("build/linux-custom/include/config/kernel.release"))
        .context("Buildroot's kernel has no include/config/kernel.release")?;
    let built = Kernel {
        build: out.join("build/linux-custom"),
        release: release.trim().to_string(),
        image: images.join("zImage"),
        dtb: dtb.to_path_buf(),
        make_vars: Vec::new(),
        arch: &crate::build::arch::ARMV7,
    };
    let rootfs = images.join("rootfs.cpio");
    let (_emu, mut c): (qemu::Emulator, Console) = sh::step(
        "boot Buildroot's kernel and rootfs.cpio (QEMU orangepi-pc)",
        || boot(&built, &rootfs, work, verbose),
    )?;
    sh::step(
        &format!("the board runs Buildroot {version} and {}", built.release),
        || runs(&mut c, version, &built.release),
    )?;
    sh::step(
        "init script S50nlchan (ran at boot; status, stop, start)",
        || checks::check_sysv_init(&mut c),
    )?;
    let (report, _) = sh::step("smoke test over the serial console", || {
        checks::smoke(&mut c)
    })?;
    let unit30 = sh::step(
        "smoke test again, module on the seed's unit 30 (modprobe.d)",
        || checks::smoke_on_unit(&mut c, 30),
    )?;
    Ok(report.ok() && unit30.ok())
}

/// Boots `built` with `rootfs` and logs in as root on its getty.
fn boot(
    built: &Kernel,
    rootfs: &Path,
    work: &Path,
    verbose: bool,
) -> Result<(qemu::Emulator, Console)> {
    let start = Instant::now();
    let (emu, mut c) = qemu::boot(
        &kernel::ORANGEPI_PC,
        built,
        &built.dtb,
        rootfs,
        work,
        verbose,
    )?;
    shell::login(&mut c, "root", None, Duration::from_secs(180))?;
    shell::wait_for_shell(&mut c, Duration::from_secs(60))?;
    eprintln!(
        "    logged in as root after {} (console log: {})",
        sh::dur(start.elapsed()),
        work.join("console.log").display()
    );
    Ok((emu, c))
}

/// Fails unless the board runs Buildroot `version` and kernel `release`.
fn runs(c: &mut Console, version: &str, release: &str) -> Result<()> {
    let want = format!("VERSION_ID={version}");
    shell::must(
        c,
        &format!("grep -qx '{want}' /usr/lib/os-release"),
        Duration::from_secs(30),
    )?;
    let uname = shell::must(c, "uname -r", Duration::from_secs(30))?;
    if !crate::report::ktap::lines(&uname)
        .iter()
        .any(|l| *l == release)
    {
        bail!("uname -r says {uname:?}, want {release}");
    }
    Ok(())
}
