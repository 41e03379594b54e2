// SPDX-License-Identifier: MIT OR Apache-2.0
//! The sysroot of the board's musl target. The board's binaries (nlchan,
//! nlchan-alloc-check) are armv7 musl, static, as Tina's and OpenWrt's user
//! space. Debian ships no Rust std for musl: cargo builds it from
//! rust-web-src with the app (build-std), and rustc links musl's C runtime
//! from the "self-contained" folder of the sysroot it is given for that
//! target (`--sysroot`, the target's flags only). That sysroot is made here
//! in the cache, never in /usr/lib/rustlib: Debian's musl-dev:armhf
//! (unpacked by board/bootstrap.sh into the cache's `armhf-musl-dev`), then
//! board/cross/musl-self-contained.sh (which the cross image uses as well)
//! adds gcc's crt files and unwinder. Keyed by musl-dev's version, the
//! cross gcc's and the helper's files; made only when the app is built.

use crate::build::kernel::fnv;
use crate::run::project::{Project, MUSL_TARGET};
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

/// Makes (or reuses) the sysroot and returns it: its
/// `lib/rustlib/<MUSL_TARGET>/lib/self-contained` holds musl's crt files
/// and `libc.a` from Debian's musl-dev:armhf, gcc's crtbegin/crtend, and
/// gcc's `libgcc_eh.a` as `libunwind.a`. The std itself is built with the app.
pub fn sysroot(p: &Project) -> Result<PathBuf> {
    let dev = p.cache.join("armhf-musl-dev");
    let stamp = fs::read(dev.join(".complete")).with_context(|| {
        format!(
            "Debian's musl-dev:armhf is not unpacked in {}: run `sudo ./board/bootstrap.sh` (it unpacks it)",
            dev.display()
        )
    })?;
    let (helper, helper_c) = (p.root.join(HELPER), p.root.join(HELPER_C));
    let gcc = sh::output(&mut cmd("arm-linux-gnueabihf-gcc", ["--version"]))?;
    let key = fnv(&[
        &stamp,
        &fs::read(&helper).with_context(|| format!("cannot read {}", helper.display()))?,
        &fs::read(&helper_c).with_context(|| format!("cannot read {}", helper_c.display()))?,
        gcc.as_bytes(),
    ]);
    let out = p.cache.join(format!("armv7-musl-sysroot-{key:016x}"));
    let dir = out.join(format!("lib/rustlib/{MUSL_TARGET}/lib/self-contained"));
    let _lock = sh::lock(&p.cache.join(".musl-sysroot.lock"), "musl sysroot")?;
    if !out.join(".complete").exists() {
        eprintln!("    making the {MUSL_TARGET} sysroot in {}", out.display());
        let _ = fs::remove_dir_all(&out);
        let log = p.cache.join(format!("armv7-musl-sysroot-{key:016x}.log"));
        let mut c = cmd("sh", [&helper]);
        c.arg(&dev)
            .args(["arm-linux-musleabihf", "arm-linux-gnueabihf"])
            .arg(&dir);
        if let Err(e) = sh::logged(&format!("making the {MUSL_TARGET} sysroot"), &mut c, &log) {
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
