// SPDX-License-Identifier: MIT OR Apache-2.0
//! The stand-in runners: the Buildroot, OpenWrt and Tina install steps of
//! a copy of the checkout run through `board/fake-frameworks/`, each
//! returning what it installed in the recipes' layout.

use super::lint::lint_buildroot;
use super::tree::TESTS_DIR;
use super::tree::{from_buildroot, from_openwrt, is_depmod_output, merge, read_tree, Tree};
use crate::build::kernel::Kernel;
use crate::run::project::{Project, GLIBC_TARGET};
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// The app's binaries (cargo builds both; `install-tests` takes the second).
const APP_BINS: &str = "nlchan nlchan-alloc-check";

/// Copies the checkout (tracked and untracked, not ignored) and the
/// module built for `p` (in `p.kmod`: the checkout's `kmod/`, or another
/// board's copy) into `src`, as a framework's build folder would hold them.
fn copy_checkout(p: &Project, src: &Path) -> Result<()> {
    if src.exists() {
        fs::remove_dir_all(src)?;
    }
    fs::create_dir_all(src)?;
    let files = sh::output(
        cmd(
            "git",
            [
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
        )
        .current_dir(&p.root),
    )?;
    for f in files.split('\0').filter(|f| !f.is_empty()) {
        let from = p.root.join(f);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let to = src.join(f);
        fs::create_dir_all(to.parent().expect("a file has a parent"))?;
        fs::copy(&from, &to).with_context(|| format!("cannot copy {f}"))?;
        // Keep mtimes, so that cargo's offline build stays incremental.
        fs::File::options()
            .write(true)
            .open(&to)?
            .set_modified(fs::metadata(&from)?.modified()?)?;
    }
    for e in fs::read_dir(&p.kmod)? {
        let path = e?.path();
        if path.is_file() {
            fs::copy(&path, src.join("kmod").join(path.file_name().unwrap()))?;
        }
    }
    Ok(())
}

/// A packaging front end as the test runs it.
#[derive(Clone, Copy)]
pub(super) enum Front {
    /// Buildroot, busybox init, with or without BR2_PACKAGE_NLCHAN_TESTS.
    Buildroot { tests: bool },
    /// OpenWrt with procd, the app from source through rust-package.mk.
    OpenWrt,
    /// Tina without procd, the app prebuilt (Tina has no Rust).
    Tina,
    /// Buildroot's check-package rules only.
    Lint,
}

impl Front {
    pub(super) fn name(self) -> &'static str {
        match self {
            Front::Buildroot { tests: false } => "Buildroot (busybox init)",
            Front::Buildroot { tests: true } => "Buildroot (busybox init, NLCHAN_TESTS)",
            Front::OpenWrt => "OpenWrt (procd, rust-package.mk, nlchan-tests)",
            Front::Tina => "Tina (no procd, prebuilt app, nlchan-tests)",
            Front::Lint => "Buildroot's check-package rules",
        }
    }
}

/// A run of the stand-ins: the project, the built kernel and app, the
/// checkout's copy (`src`) and the scratch folder.
pub(super) struct Run<'a> {
    pub(super) p: &'a Project,
    pub(super) k: &'a Kernel,
    pub(super) app: &'a Path,
    pub(super) src: PathBuf,
    pub(super) work: PathBuf,
}

impl<'a> Run<'a> {
    /// A run in `p`'s `packaging` folder: the checkout copied there with the
    /// module built for `k` ([`copy_checkout`]), the crates vendored
    /// ([`Run::vendor`]).
    pub(super) fn prepare(p: &'a Project, k: &'a Kernel, app: &'a Path) -> Result<Run<'a>> {
        let work = p.out.join("packaging");
        let run = Run {
            p,
            k,
            app,
            src: work.join("src"),
            work,
        };
        copy_checkout(p, &run.src)?;
        run.vendor()?;
        Ok(run)
    }

    fn fakes(&self) -> PathBuf {
        self.p.root.join("board/fake-frameworks")
    }

    /// The stand-in kernel tree (`board/fake-frameworks/linux`) in front of
    /// the real one: checks ARCH and CROSS_COMPILE, reuses the built module.
    fn fake_linux(&self) -> Result<PathBuf> {
        let dir = self.work.join("linux");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        fs::write(
            dir.join("Makefile"),
            format!(
                "FAKE_REAL_LINUX_DIR := {}\nFAKE_ARCH := {}\ninclude {}\n",
                self.k.build.display(),
                self.k.arch.kernel_arch,
                self.fakes().join("linux/kbuild.mk").display()
            ),
        )?;
        std::os::unix::fs::symlink(self.k.build.join("include"), dir.join("include"))?;
        Ok(dir)
    }

    /// Runs `front` in a folder named after `tag`; returns what it installed.
    pub(super) fn run(&self, front: Front, tag: &str) -> Result<Tree> {
        match front {
            Front::Buildroot { tests } => self.buildroot(tests, tag),
            Front::OpenWrt => self.openwrt("openwrt", true, tag),
            Front::Tina => self.openwrt("tina", false, tag),
            Front::Lint => {
                let lint = lint_buildroot(&self.src)?;
                if !lint.is_empty() {
                    bail!("{}", lint.join("\n"));
                }
                Ok(Tree::new())
            }
        }
    }

    /// The Buildroot packages' install steps and target-finalize; returns
    /// TARGET_DIR and STAGING_DIR merged, mapped to the recipes' layout.
    fn buildroot(&self, tests: bool, tag: &str) -> Result<Tree> {
        let w = self.work.join(format!("buildroot-{tag}"));
        let _ = fs::remove_dir_all(&w);
        let target = w.join("target");
        let staging = w.join("staging");
        fs::create_dir_all(&staging)?;
        let arch = self.k.arch;
        let mut c = cmd("make", ["-s", "-f"]);
        c.arg(self.fakes().join("buildroot.mk"))
            .arg(format!(
                "BR2_EXTERNAL_NLCHAN_PATH={}",
                self.src.join("buildroot").display()
            ))
            .arg(format!("BUILD_DIR={}", w.join("build").display()))
            .arg(format!("TARGET_DIR={}", target.display()))
            .arg(format!("STAGING_DIR={}", staging.display()))
            .arg(format!("LINUX_DIR={}", self.fake_linux()?.display()))
            .arg(format!("KERNEL_ARCH={}", arch.kernel_arch))
            .arg(format!("TARGET_CROSS={}", arch.cross_compile))
            .arg(format!(
                "LINUX_MAKE_FLAGS={} {} INSTALL_MOD_PATH={}",
                arch.make_arch(),
                arch.make_cross(),
                target.display()
            ))
            .arg(format!("RUSTC_TARGET_NAME={}", arch.musl_target))
            .arg(format!("FAKE_APP_BIN={}", self.app.display()))
            .arg(format!(
                "BR2_PACKAGE_NLCHAN_TESTS={}",
                if tests { "y" } else { "" }
            ))
            .arg("target-finalize");
        sh::logged("buildroot packages", &mut c, &w.with_extension("log"))?;
        let mut t = read_tree(&target)?;
        t.retain(|path, _| !is_depmod_output(path));
        let staged = read_tree(&staging)?;
        from_buildroot(merge(&[("target".into(), t), ("staging".into(), staged)])?)
    }

    /// Vendors the workspace's crates (`cargo vendor --locked`, as the
    /// README tells Buildroot users; once per Cargo.lock, in the checkout's
    /// `target/cargo-vendor`) and links them as the copy's `vendor/`.
    fn vendor(&self) -> Result<()> {
        let vendor = self.p.root.join("target/cargo-vendor");
        let lock = fs::read(self.p.root.join("Cargo.lock"))?;
        let key = format!("{:016x}", crate::build::kernel::fnv(&[&lock]));
        let stamp = vendor.join(".nlchan-vendored");
        if fs::read_to_string(&stamp).ok().as_deref() != Some(key.as_str()) {
            let _ = fs::remove_dir_all(&vendor);
            let mut c = cmd(&self.p.cargo(), ["vendor", "--locked"]);
            c.arg(&vendor).current_dir(&self.p.root);
            sh::logged("cargo vendor", &mut c, &self.work.join("cargo-vendor.log"))?;
            fs::write(&stamp, &key)?;
        }
        std::os::unix::fs::symlink(&vendor, self.src.join("vendor"))?;
        Ok(())
    }

    /// Runs pkg-cargo's build command for the `nlchan` package with the
    /// crates vendored ([`Run::vendor`]) and an empty CARGO_HOME: it must
    /// build without touching the network. Returns the binary.
    pub(super) fn buildroot_cargo(&self) -> Result<PathBuf> {
        let w = self.work.join("buildroot-cargo");
        let home = w.join("cargo-home");
        let _ = fs::remove_dir_all(w.join("build"));
        let _ = fs::remove_dir_all(&home);
        fs::create_dir_all(&home)?;
        let target_dir = self.work.join("vendored-target");
        let mut c = cmd("make", ["-s", "-f"]);
        c.arg(self.fakes().join("buildroot.mk"))
            .arg(format!(
                "BR2_EXTERNAL_NLCHAN_PATH={}",
                self.src.join("buildroot").display()
            ))
            .arg(format!("BUILD_DIR={}", w.join("build").display()))
            .arg(format!("FAKE_CARGO_HOME={}", home.display()))
            .arg(format!("CARGO={}", self.p.cargo()))
            .arg("cargo-build")
            .env("CARGO_BUILD_TARGET", GLIBC_TARGET)
            .env("CARGO_TARGET_DIR", &target_dir)
            .envs(self.p.cross_env()?);
        sh::logged("pkg-cargo build", &mut c, &w.with_extension("log"))?;
        // Cargo keeps its lock files there; a download would add these.
        for d in ["registry", "git"] {
            if home.join(d).exists() {
                bail!("the offline build filled CARGO_HOME/{d}: it did not use vendor/");
            }
        }
        let bin = target_dir.join(GLIBC_TARGET).join("release/nlchan");
        if !bin.is_file() {
            bail!("pkg-cargo's build left no {}", bin.display());
        }
        Ok(bin)
    }

    /// The OpenWrt package in upstream (`openwrt`: procd, the app through
    /// the stand-in of rust-package.mk) or Tina (`tina`: no procd, the app
    /// prebuilt) layout, nlchan-tests selected; returns the packages' trees
    /// merged and mapped to the recipes' layout.
    fn openwrt(&self, layout: &str, upstream: bool, tag: &str) -> Result<Tree> {
        let w = self.work.join(format!("{layout}-{tag}"));
        let _ = fs::remove_dir_all(&w);
        let out = w.join("out");
        let mut c = cmd("make", ["-s", "-C"]);
        c.arg(self.src.join("buildroot/openwrt/nlchan"))
            .arg(format!("TOPDIR={}", self.fakes().join(layout).display()))
            .arg(format!("FAKE_WORK={}", w.display()))
            .arg(format!("FAKE_OUT={}", out.display()))
            .arg(format!("LINUX_DIR={}", self.fake_linux()?.display()))
            .arg(format!("LINUX_VERSION={}", self.k.release))
            .arg(format!("FAKE_ARCH_USER={}", self.k.arch.openwrt_arch))
            .arg(format!("FAKE_TARGET_CROSS={}", self.k.arch.cross_compile))
            .arg("CONFIG_PACKAGE_nlchan-tests=y")
            .arg(format!(
                "CONFIG_PACKAGE_procd={}",
                if upstream { "y" } else { "" }
            ));
        if upstream {
            let bins = self.app.parent().expect("the app is in a folder");
            c.arg(format!("FAKE_CARGO_OUT={}", bins.display()))
                .arg(format!("FAKE_CARGO_BINS={APP_BINS}"));
        } else {
            c.arg(format!("NLCHAN_PREBUILT_BIN={}", self.app.display()));
        }
        c.arg("fake-all");
        sh::logged(layout, &mut c, &w.with_extension("log"))?;
        let mut packages = Vec::new();
        for name in ["kmod-nlchan", "nlchan", "nlchan-tests", "dev"] {
            packages.push((name.to_string(), read_tree(&out.join(name))?));
        }
        let only = |i: usize, ok: &dyn Fn(&str) -> bool, what: &str| -> Result<()> {
            let (name, t) = &packages[i];
            let stray: Vec<&String> = t.keys().filter(|k| !ok(k)).collect();
            if !stray.is_empty() {
                bail!("{name} ships more than {what}: {stray:?}");
            }
            Ok(())
        };
        only(
            0,
            &|k| k.starts_with("lib/modules/") || k.starts_with("etc/modules.d/"),
            "the module",
        )?;
        only(
            1,
            &|k| !k.starts_with(TESTS_DIR),
            "what nlchan-tests does not",
        )?;
        only(2, &|k| k.starts_with(TESTS_DIR), TESTS_DIR)?;
        from_openwrt(merge(&packages)?)
    }
}
