// SPDX-License-Identifier: MIT OR Apache-2.0
//! Where things are: the source tree, the cache of downloads and builds
//! (survives `cargo clean`), and the build outputs under `target/board/`.

use crate::run::sh;
use anyhow::{bail, Context, Result};
use std::env;
use std::path::{Path, PathBuf};

/// The target the board's binaries are built for (`nlchan`,
/// `nlchan-alloc-check`, the planted-allocation checker): static musl, as
/// Tina's and OpenWrt's user space, with the std rebuilt from Debian's
/// rust-web-src and musl's C runtime from the sysroot of
/// `crate::build::musl`.
pub const MUSL_TARGET: &str = "armv7-unknown-linux-musleabihf";
/// The armv7 glibc target, for which Debian ships a prebuilt std
/// (`libstd-rust-web-dev:armhf`, [`Project::armhf_sysroot`]): the armv7
/// unit tests under qemu-user and Buildroot's pkg-cargo build use it, and
/// the benchmark compares its static build's size with the board's.
pub const GLIBC_TARGET: &str = "armv7-unknown-linux-gnueabihf";
/// The cross compiler prefix for the kernel and the module.
pub const CROSS_COMPILE: &str = "arm-linux-gnueabihf-";

/// Paths of one checkout.
pub struct Project {
    /// The workspace root.
    pub root: PathBuf,
    /// Cache of unpacked sources and kernel builds (`NLCHAN_CACHE`).
    pub cache: PathBuf,
    /// Build outputs of the host program (`target/board`).
    pub out: PathBuf,
    /// Where the module is built: the checkout's `kmod/`, or for a kernel
    /// variant a copy of its sources under the variant's `out`, so builds
    /// for different kernels never overwrite each other's objects.
    pub kmod: PathBuf,
}

/// The make variable giving the module its version where the build has no
/// Cargo.toml above `kmod/` (a copy of its sources): the workspace's
/// version, the project's one, which this program was built with.
pub fn module_version_arg() -> String {
    format!("NLCHAN_VERSION={}", env!("CARGO_PKG_VERSION"))
}

impl Project {
    /// Locates the checkout and the cache, creating the output folders.
    pub fn locate() -> Result<Project> {
        // This crate is board/host/ in the checkout.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("board/host/ is two folders below the checkout")
            .to_path_buf();
        let cache = match env::var_os("NLCHAN_CACHE") {
            Some(c) => PathBuf::from(c),
            None => match env::var_os("XDG_CACHE_HOME") {
                Some(x) => PathBuf::from(x).join("nlchan"),
                None => PathBuf::from(env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                    .join(".cache/nlchan"),
            },
        };
        let out = root.join("target/board");
        std::fs::create_dir_all(&cache)?;
        std::fs::create_dir_all(&out)?;
        let kmod = root.join("kmod");
        Ok(Project {
            root,
            cache,
            out,
            kmod,
        })
    }

    /// The same checkout with outputs under `target/board/<name>` and the
    /// module built from a copy of `kmod/`'s sources there (refreshed; files
    /// whose content did not change keep their time stamps).
    pub fn variant(&self, name: &str) -> Result<Project> {
        let out = self.out.join(name);
        let kmod = out.join("kmod");
        copy_sources(&self.kmod, &kmod, false)?;
        Ok(Project {
            root: self.root.clone(),
            cache: self.cache.clone(),
            out,
            kmod,
        })
    }

    /// The cargo that runs us (`$CARGO`), for nested builds and tests.
    pub fn cargo(&self) -> String {
        env::var("CARGO").unwrap_or_else(|_| "cargo".into())
    }

    /// The armhf Rust std unpacked by board/bootstrap.sh into the cache
    /// (`armhf-std-<version>`, the version of the installed rustc-web, which
    /// it must match); its `usr` folder, given to rustc as `--sysroot`.
    pub fn armhf_sysroot(&self) -> Result<PathBuf> {
        let version = sh::output(&mut sh::cmd(
            "dpkg-query",
            ["-W", "-f=${Version}", "rustc-web"],
        ))
        .context("Debian's rustc-web is not installed: run `sudo ./board/bootstrap.sh`")?;
        let top = self.cache.join(format!("armhf-std-{}", version.trim()));
        let usr = top.join("usr");
        if !top.join(".complete").exists()
            || !usr.join(format!("lib/rustlib/{GLIBC_TARGET}")).is_dir()
        {
            bail!(
                "the armhf Rust std of rustc-web {} (Debian's libstd-rust-web-dev:armhf) is not \
                 unpacked in {}: run `sudo ./board/bootstrap.sh`",
                version.trim(),
                top.display()
            );
        }
        Ok(usr)
    }

    /// Environment for cargo commands that build or run for the board.
    pub fn cross_env(&self) -> Result<Vec<(String, String)>> {
        let sysroot = self.armhf_sysroot()?;
        Ok(vec![(
            "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS".into(),
            format!(
                "--sysroot {} -C target-feature=+crt-static",
                sysroot.display()
            ),
        )])
    }
}

/// Copies the module's sources (Kbuild, Makefile, *.c, *.h, recursively)
/// from `from` to `to`, leaving files with the same content untouched.
/// Only `include/` is descended into at the top (`deep` below it).
fn copy_sources(from: &Path, to: &Path, deep: bool) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        let (src, dst) = (e.path(), to.join(&*name));
        if e.file_type()?.is_dir() {
            if deep || name == "include" {
                copy_sources(&src, &dst, true)?;
            }
        } else if (name.ends_with(".c") && !name.ends_with(".mod.c"))
            || name.ends_with(".h")
            || name == "Kbuild"
            || name == "Makefile"
        {
            let data = std::fs::read(&src)?;
            if std::fs::read(&dst).ok().as_deref() != Some(&data[..]) {
                std::fs::write(&dst, &data)?;
            }
        }
    }
    Ok(())
}
