// SPDX-License-Identifier: MIT OR Apache-2.0
//! The offline build itself (vendored crates, `make`) and what the nlchan
//! packages installed in the root filesystem.

use super::toolchain::GCC;
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::Path;
use std::time::Instant;

/// Files the nlchan packages must put in the root filesystem.
const SHIPPED: &[&str] = &[
    "usr/bin/nlchan",
    "usr/bin/nlchan-smoke",
    "etc/init.d/S50nlchan",
    "usr/lib/nlchan/tests/nlchan-alloc-check",
];

/// `vendor/` in the checkout, where the nlchan package points cargo.
pub(super) fn vendor(p: &Project) -> Result<()> {
    let mut c = cmd(&p.cargo(), ["vendor", "--locked", "--offline", "vendor"]);
    c.current_dir(&p.root);
    sh::logged("cargo vendor", &mut c, &p.out.join("vendor.log"))
        .context("cargo vendor --offline failed (crates not in cargo's cache?): run `cargo vendor --locked` in the checkout once, with crates.io reachable")?;
    Ok(())
}

/// `make -C out`, without the Rust and cargo settings this program runs
/// with (RUSTC would bypass the host-rust package's compiler).
pub(super) fn buildroot_make(out: &Path) -> std::process::Command {
    let mut c = cmd("make", ["-C"]);
    c.arg(out);
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name.starts_with("CARGO") || name.starts_with("RUST") {
            c.env_remove(&k);
        }
    }
    c
}

/// A clean build of the nlchan packages, then the rest of the image.
pub(super) fn make(out: &Path) -> Result<()> {
    let mut clean = buildroot_make(out);
    clean.args(["nlchan-dirclean", "nlchan-kmod-dirclean"]);
    sh::logged(
        "make dirclean",
        &mut clean,
        &out.join("nlchan-dirclean.log"),
    )?;
    let log = out.join("nlchan-build.log");
    let start = Instant::now();
    sh::logged("make", &mut buildroot_make(out), &log)?;
    eprintln!(
        "    built in {} (log: {})",
        sh::dur(start.elapsed()),
        log.display()
    );
    Ok(())
}

/// What the nlchan packages installed, by Buildroot's own record
/// (`build/packages-file-list.txt`, rewritten each time a package
/// installs, so files left in `target/` by an earlier build do not count):
/// the [`SHIPPED`] files by nlchan, `nlchan.ko` once by nlchan-kmod, no
/// RPATH in any of their ELF files (the patchelf shim cannot sanitise
/// one), no test tool copied from the checkout's own build, and the uapi
/// header in staging only.
pub(super) fn check_target(p: &Project, out: &Path) -> Result<()> {
    let list = fs::read_to_string(out.join("build/packages-file-list.txt"))
        .context("Buildroot wrote no build/packages-file-list.txt")?;
    let of = |pkg: &str| -> Vec<String> {
        list.lines()
            .filter_map(|l| l.strip_prefix(pkg)?.strip_prefix(",./"))
            .map(str::to_string)
            .collect()
    };
    let (app, kmod) = (of("nlchan"), of("nlchan-kmod"));
    for f in SHIPPED {
        if !app.iter().any(|a| a == f) {
            bail!("the nlchan package did not install /{f}");
        }
    }
    let kos: Vec<&String> = kmod.iter().filter(|f| f.ends_with("/nlchan.ko")).collect();
    if kos.len() != 1 {
        bail!(
            "nlchan-kmod installed nlchan.ko {} times: {kos:?}",
            kos.len()
        );
    }
    let target = out.join("target");
    let readelf = out.join(format!("host/bin/{GCC}-readelf"));
    for f in app.iter().chain(&kmod) {
        let path = target.join(f);
        let bytes = fs::read(&path).unwrap_or_default();
        if !bytes.starts_with(b"\x7fELF") {
            continue; // scripts and data come from the checkout as they are
        }
        let dynamic = sh::output(cmd(readelf.to_str().unwrap_or("readelf"), ["-d"]).arg(&path))?;
        if dynamic.contains("(RPATH)") || dynamic.contains("(RUNPATH)") {
            bail!("/{f} has an RPATH:\n{dynamic}");
        }
        let name = f.rsplit('/').next().unwrap_or(f);
        let checkout = p.root.join("board/target-tests").join(name);
        if fs::read(&checkout).ok().as_ref() == Some(&bytes) {
            bail!(
                "/{f} is the checkout's own build ({}), not Buildroot's",
                checkout.display()
            );
        }
    }
    if !out.join("staging/usr/include/linux/nlchan.h").is_file() {
        bail!("the uapi header is not in staging (usr/include/linux/nlchan.h)");
    }
    if target.join("usr/include/linux/nlchan.h").exists() {
        bail!("the uapi header is in the target");
    }
    let bin = target.join("usr/bin/nlchan");
    let size = fs::metadata(&bin)?.len();
    let file = sh::output(cmd("file", ["-b"]).arg(&bin))?;
    eprintln!("    nlchan: {} files; nlchan-kmod: /{}", app.len(), kos[0]);
    eprintln!("    /usr/bin/nlchan: {size} bytes, {}", file.trim());
    Ok(())
}
