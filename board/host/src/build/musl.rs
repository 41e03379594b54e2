// SPDX-License-Identifier: MIT OR Apache-2.0
//! The sysroot of the board's musl target. The board's binaries (nlchan,
//! nlchan-alloc-check) are musl, static, as Tina's and OpenWrt's user
//! space: armv7 (`armv7-unknown-linux-musleabihf`) or aarch64
//! (`aarch64-unknown-linux-musl`), the board's [`Arch`]. Debian ships no Rust std for musl: cargo builds it from
//! rust-web-src with the app (build-std), and rustc links musl's C runtime
//! from the "self-contained" folder of the sysroot it is given for that
//! target (`--sysroot`, the target's flags only). That sysroot is made here
//! in the cache, never in /usr/lib/rustlib: Debian's musl-dev of the
//! architecture (unpacked by board/bootstrap.sh into the cache's
//! `armhf-musl-dev`, `arm64-musl-dev`), then
//! board/cross/musl-self-contained.sh (which the cross image uses as well)
//! adds gcc's crt files and unwinder (and, for aarch64's gcc 12
//! `libgcc_eh.a`, the `_dl_find_object` musl lacks). Keyed by musl-dev's
//! version, the cross gcc's and the helper's files; made only when the app
//! is built.

use crate::build::arch::Arch;
use crate::build::kernel::fnv;
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::PathBuf;

/// The helper (and the C file it compiles where needed), in the checkout.
const HELPER: &str = "board/cross/musl-self-contained.sh";
const HELPER_C: &str = "board/cross/dl_find_object.c";
/// What rustc links a static musl binary with, in the self-contained folder.
const FILES: [&str; 7] = [
    "crt1.o",
    "crti.o",
    "crtn.o",
    "crtbeginT.o",
    "crtend.o",
    "libc.a",
    "libunwind.a",
];

/// Makes (or reuses) the sysroot of `arch` and returns it: its
/// `lib/rustlib/<musl target>/lib/self-contained` holds musl's crt files
/// and `libc.a` from Debian's musl-dev, gcc's crtbegin/crtend, and
/// gcc's `libgcc_eh.a` as `libunwind.a`. The std itself is built with the app.
pub fn sysroot(p: &Project, arch: &Arch) -> Result<PathBuf> {
    let deb = arch.deb_arch;
    let dev = p.cache.join(format!("{deb}-musl-dev"));
    let stamp = fs::read(dev.join(".complete")).with_context(|| {
        format!(
            "Debian's musl-dev:{deb} is not unpacked in {}: run `sudo ./board/bootstrap.sh` (it unpacks it)",
            dev.display()
        )
    })?;
    let (helper, helper_c) = (p.root.join(HELPER), p.root.join(HELPER_C));
    let gcc = sh::output(&mut cmd(&arch.gcc(), ["--version"])).with_context(|| {
        format!(
            "{} is missing: run `sudo ./board/bootstrap.sh` (it installs gcc-{})",
            arch.gcc(),
            arch.gnu_triple()
        )
    })?;
    let key = fnv(&[
        &stamp,
        &fs::read(&helper).with_context(|| format!("cannot read {}", helper.display()))?,
        &fs::read(&helper_c).with_context(|| format!("cannot read {}", helper_c.display()))?,
        gcc.as_bytes(),
    ]);
    let (name, target) = (arch.name, arch.musl_target);
    let out = p.cache.join(format!("{name}-musl-sysroot-{key:016x}"));
    let dir = out.join(format!("lib/rustlib/{target}/lib/self-contained"));
    let _lock = sh::lock(&p.cache.join(".musl-sysroot.lock"), "musl sysroot")?;
    if !out.join(".complete").exists() {
        eprintln!("    making the {target} sysroot in {}", out.display());
        let _ = fs::remove_dir_all(&out);
        let log = p.cache.join(format!("{name}-musl-sysroot-{key:016x}.log"));
        let mut c = cmd("sh", [&helper]);
        c.arg(&dev)
            .args([arch.musl_triple, arch.gnu_triple()])
            .arg(&dir);
        if let Err(e) = sh::logged(&format!("making the {target} sysroot"), &mut c, &log) {
            let _ = fs::remove_dir_all(&out);
            bail!(
                "{e:#}\n(if {} is damaged, remove it and run `sudo ./board/bootstrap.sh` again)",
                dev.display()
            );
        }
        fs::write(out.join(".complete"), "")?;
    }
    for f in FILES {
        if !dir.join(f).is_file() {
            bail!(
                "{} is missing: remove {} and run the command again",
                dir.join(f).display(),
                out.display()
            );
        }
    }
    Ok(out)
}
