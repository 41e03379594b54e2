// SPDX-License-Identifier: MIT OR Apache-2.0
//! Where things are: the source tree, the cache of downloads and builds
//! (survives `cargo clean`), and the build outputs under `target/board/`.

use anyhow::{bail, Result};
use std::env;
use std::path::{Path, PathBuf};

/// The target the board's binaries are built for (`nlchan`,
/// `nlchan-alloc-check`, the planted-allocation checker): static musl, as
/// Tina's and OpenWrt's user space, with the std rebuilt from Debian's
/// rust-web-src and musl's C runtime from [`Project::musl_sysroot`].
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

    /// The armhf Rust std unpacked by board/bootstrap.sh (its `usr` folder,
    /// given to rustc as `--sysroot`).
    pub fn armhf_sysroot(&self) -> Result<PathBuf> {
        prerequisite(
            "NLCHAN_ARMHF_STD",
            "the armhf Rust std (Debian's libstd-rust-web-dev:armhf)",
        )
        .and_then(|p| {
            if p.join(format!("lib/rustlib/{GLIBC_TARGET}")).is_dir() {
                Ok(p)
            } else {
                bail!(
                    "{} holds no lib/rustlib/{GLIBC_TARGET}: run `sudo board/bootstrap.sh` again",
                    p.display()
                )
            }
        })
    }

    /// The sysroot of the board's musl target made by board/bootstrap.sh
    /// in the cache (given to rustc as `--sysroot` for that target only):
    /// its `lib/rustlib/<MUSL_TARGET>/lib/self-contained` holds what rustc
    /// links a static musl binary with (musl's crt files and `libc.a` from
    /// Debian's musl-dev:armhf, gcc's crtbegin/crtend, gcc's `libgcc_eh.a`
    /// as `libunwind.a`). The std itself is built with the app.
    pub fn musl_sysroot(&self) -> Result<PathBuf> {
        let p = prerequisite(
            "NLCHAN_MUSL_SYSROOT",
            "the armv7 musl sysroot (from Debian's musl-dev:armhf)",
        )?;
        let dir = p.join(format!("lib/rustlib/{MUSL_TARGET}/lib/self-contained"));
        for f in [
            "crt1.o",
            "crti.o",
            "crtn.o",
            "crtbeginT.o",
            "crtend.o",
            "libc.a",
            "libunwind.a",
        ] {
            if !dir.join(f).is_file() {
                bail!(
                    "{} is missing: run `sudo ./board/bootstrap.sh` again",
                    dir.join(f).display()
                );
            }
        }
        Ok(p)
    }

    /// The static armhf busybox built by board/bootstrap.sh (with only the
    /// options of board/orangepi-pc/busybox.config). Next to it:
    /// `busybox.links` (its applets, one absolute path a line, as busybox's
    /// `make install` links them), `modutils` and `modutils.links` (the
    /// separate module tools build).
    pub fn busybox(&self) -> Result<PathBuf> {
        prerequisite("NLCHAN_BUSYBOX", "a static armhf busybox")
    }

    /// A file next to the busybox binary (see [`Project::busybox`]).
    pub fn busybox_file(&self, name: &str) -> Result<PathBuf> {
        let bb = self.busybox()?;
        let f = bb.with_file_name(name);
        if !f.exists() {
            bail!(
                "{} is missing next to {}: run `sudo board/bootstrap.sh` again (it builds busybox)",
                f.display(),
                bb.display()
            );
        }
        Ok(f)
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

fn prerequisite(var: &str, what: &str) -> Result<PathBuf> {
    match env::var_os(var) {
        Some(p) if Path::new(&p).exists() => Ok(PathBuf::from(p)),
        Some(p) => bail!(
            "{var}={} does not exist: run `sudo board/bootstrap.sh <command>`, which installs {what}",
            Path::new(&p).display()
        ),
        None => bail!(
            "{var} is not set: run this through `sudo board/bootstrap.sh <command>`, which installs {what} and sets it"
        ),
    }
}
