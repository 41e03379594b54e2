// SPDX-License-Identifier: MIT OR Apache-2.0
//! The packaging front ends against the emulated image: the install steps
//! of the Buildroot packages (`buildroot/package/*/*.mk`) and of the
//! OpenWrt/Tina package (`buildroot/openwrt/nlchan/Makefile`) are run
//! through stand-ins for those frameworks (`board/fake-frameworks/`), and
//! what they install is compared file by file (path, mode, bytes) with the
//! emulated image's staging folder.
//!
//! A package that copied files by a list of its own could still match
//! today's image, so the same runs are repeated after each shared recipe
//! (`kmod/`, `app/`, `board/rootfs/` `make install` and `install-tests`)
//! has been made to install one more file: every front end must then ship
//! it too. Last, each bug the packages once had is put back, one at a time,
//! into a copy of the package file: the stand-ins must then fail.

use crate::build::kernel::Kernel;
use crate::run::project::{Project, CROSS_COMPILE, GLIBC_TARGET, MUSL_TARGET};
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// One installed file: permission bits and content (a symlink's target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    mode: u32,
    data: Vec<u8>,
}

/// Installed files by path relative to the root, without a leading `/`.
pub type Tree = BTreeMap<String, Entry>;

/// The recipes the front ends must call: folder, canary name, the make
/// target that gains the canary in the second round, and where it goes.
/// kmod's hangs on `install-headers` (which `install` runs): Buildroot's
/// package lets kbuild install the module and stages the header alone.
const CANARIES: [(&str, &str, &str, &str); 5] = [
    ("kmod", "kmod", "install-headers", "usr/share/nlchan"),
    ("app", "app", "install", "usr/share/nlchan"),
    ("board/rootfs", "rootfs", "install", "usr/share/nlchan"),
    ("app", "app-tests", "install-tests", "usr/lib/nlchan/tests"),
    (
        "board/rootfs",
        "rootfs-tests",
        "install-tests",
        "usr/lib/nlchan/tests",
    ),
];

/// The app's binaries (cargo builds both; `install-tests` takes the second).
const APP_BINS: &str = "nlchan nlchan-alloc-check";

/// Where `install-tests` puts the on-target test tools (Buildroot's
/// BR2_PACKAGE_NLCHAN_TESTS, OpenWrt's nlchan-tests).
const TESTS_DIR: &str = "usr/lib/nlchan/tests/";

/// Reads every file and symlink below `root`.
pub fn read_tree(root: &Path) -> Result<Tree> {
    let mut t = Tree::new();
    walk(root, root, &mut t)?;
    Ok(t)
}

fn walk(base: &Path, dir: &Path, t: &mut Tree) -> Result<()> {
    for e in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = e?.path();
        let meta = fs::symlink_metadata(&path)?;
        let name = path.strip_prefix(base)?.to_string_lossy().into_owned();
        if meta.is_dir() {
            walk(base, &path, t)?;
        } else if meta.file_type().is_symlink() {
            let target = fs::read_link(&path)?;
            let data = target.to_string_lossy().into_owned().into_bytes();
            t.insert(name, Entry { mode: 0o777, data });
        } else {
            let mode = meta.permissions().mode() & 0o7777;
            t.insert(
                name,
                Entry {
                    mode,
                    data: fs::read(&path)?,
                },
            );
        }
    }
    Ok(())
}

/// What only the emulated image has: busybox and its /init, the kernel's
/// own modules and depmod's output.
pub fn emulated_only(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(path, "init" | "bin/busybox" | "bin/sh")
        || (parts.len() >= 4 && parts[..2] == ["lib", "modules"] && parts[3] == "kernel")
        || is_depmod_output(path)
}

/// depmod's files and kbuild's build/source links in /lib/modules/<release>.
fn is_depmod_output(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == 4
        && parts[..2] == ["lib", "modules"]
        && (parts[3].starts_with("modules.") || parts[3] == "build" || parts[3] == "source")
}

/// Differences between two trees, one line each (empty when equal).
pub fn diff(want: &Tree, got: &Tree) -> Vec<String> {
    let mut out = Vec::new();
    for (path, w) in want {
        match got.get(path) {
            None => out.push(format!("missing {path}")),
            Some(g) if g.mode != w.mode => {
                out.push(format!("{path}: mode {:o}, want {:o}", g.mode, w.mode))
            }
            Some(g) if g.data != w.data => out.push(format!("{path}: content differs")),
            Some(_) => {}
        }
    }
    for path in got.keys().filter(|p| !want.contains_key(*p)) {
        out.push(format!("extra {path}"));
    }
    out
}

/// Merges package trees into one image, failing when two packages ship
/// the same file.
pub fn merge(packages: &[(String, Tree)]) -> Result<Tree> {
    let mut all = Tree::new();
    for (name, t) in packages {
        for (path, e) in t {
            if all.insert(path.clone(), e.clone()).is_some() {
                bail!("{path} is in two packages (one is {name})");
            }
        }
    }
    Ok(all)
}

/// OpenWrt's layout mapped back to the recipes' one: kmodloader loads from
/// /lib/modules/<version>/ (flat), and AUTOLOAD's /etc/modules.d/nlchan is
/// the framework's (checked here, then dropped).
pub fn from_openwrt(mut t: Tree) -> Result<Tree> {
    match t.remove("etc/modules.d/nlchan") {
        Some(e) if e.data == b"nlchan\n" => {}
        Some(e) => bail!(
            "etc/modules.d/nlchan holds {:?}, want \"nlchan\\n\"",
            String::from_utf8_lossy(&e.data)
        ),
        None => bail!("kmod-nlchan has no etc/modules.d/nlchan (AUTOLOAD)"),
    }
    let mut out = Tree::new();
    for (path, e) in t {
        let parts: Vec<&str> = path.split('/').collect();
        let path = match parts.as_slice() {
            ["lib", "modules", release, ko] if ko.ends_with(".ko") => {
                format!("lib/modules/{release}/extra/{ko}")
            }
            _ => path,
        };
        out.insert(path, e);
    }
    Ok(out)
}

/// Buildroot's layout mapped back to the recipes' one: kbuild's
/// modules_install puts the module in updates/ (Linux 6.3 and later; the
/// stand-in runs it so), the recipes in extra/. Both at once is a module
/// installed twice.
pub fn from_buildroot(t: Tree) -> Result<Tree> {
    let mut out = Tree::new();
    for (path, e) in t {
        let parts: Vec<&str> = path.split('/').collect();
        let path = match parts.as_slice() {
            ["lib", "modules", release, "updates", ko] if ko.ends_with(".ko") => {
                format!("lib/modules/{release}/extra/{ko}")
            }
            _ => path,
        };
        if out.insert(path.clone(), e).is_some() {
            bail!("{path} is installed twice (extra/ and kbuild's updates/)");
        }
    }
    Ok(out)
}

/// The files of the emulated image that every front end must install.
fn reference(p: &Project) -> Result<Tree> {
    let mut t = read_tree(&p.out.join("rootfs"))?;
    t.retain(|path, _| !emulated_only(path));
    Ok(t)
}

/// The same, for a procd image: /etc/init.d/nlchan instead of S50nlchan.
fn procd_reference(p: &Project, sysv: &Tree) -> Result<Tree> {
    let mut t = sysv.clone();
    if t.remove("etc/init.d/S50nlchan").is_none() {
        bail!("the emulated image has no etc/init.d/S50nlchan (INIT=sysv)");
    }
    let data = fs::read(p.root.join("board/rootfs/init.d/nlchan.init"))?;
    t.insert("etc/init.d/nlchan".into(), Entry { mode: 0o755, data });
    Ok(t)
}

/// Copies the checkout (tracked and untracked, not ignored) and the built
/// module into `src`, as a framework's build folder would hold them.
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
    for e in fs::read_dir(p.root.join("kmod"))? {
        let path = e?.path();
        if path.is_file() {
            fs::copy(&path, src.join("kmod").join(path.file_name().unwrap()))?;
        }
    }
    Ok(())
}

/// Makes every shared recipe's `install` and `install-tests` install one
/// more file.
fn add_canaries(src: &Path) -> Result<Tree> {
    let mut added = Tree::new();
    for (dir, name, target, to) in CANARIES {
        let makefile = src.join(dir).join("Makefile");
        let mut text = fs::read_to_string(&makefile)?;
        text.push_str(&format!(
            "\n{target}: nlchan-canary-{name}\nnlchan-canary-{name}:\n\
             \tmkdir -p $(DESTDIR)/{to}\n\
             \techo {name} >$(DESTDIR)/{to}/canary-{name}\n\
             \tchmod 0644 $(DESTDIR)/{to}/canary-{name}\n"
        ));
        fs::write(&makefile, text)?;
        added.insert(
            format!("{to}/canary-{name}"),
            Entry {
                mode: 0o644,
                data: format!("{name}\n").into_bytes(),
            },
        );
    }
    Ok(added)
}

/// A packaging front end as the test runs it.
#[derive(Clone, Copy)]
enum Front {
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
    fn name(self) -> &'static str {
        match self {
            Front::Buildroot { tests: false } => "Buildroot (busybox init)",
            Front::Buildroot { tests: true } => "Buildroot (busybox init, NLCHAN_TESTS)",
            Front::OpenWrt => "OpenWrt (procd, rust-package.mk, nlchan-tests)",
            Front::Tina => "Tina (no procd, prebuilt app, nlchan-tests)",
            Front::Lint => "Buildroot's check-package rules",
        }
    }
}

/// A bug a package once had, put back into a copy of the package file:
/// `from` replaced by `to`. The front end must then fail, saying `expect`.
struct Mutation {
    finding: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
    front: Front,
    expect: &'static str,
}

const BR_APP: &str = "buildroot/package/nlchan/nlchan.mk";
const BR_KMOD: &str = "buildroot/package/nlchan-kmod/nlchan-kmod.mk";
const OPENWRT: &str = "buildroot/openwrt/nlchan/Makefile";

const MUTATIONS: [Mutation; 9] = [
    Mutation {
        finding: "1: NLCHAN_TESTS installs no test tools",
        file: BR_APP,
        from: "DESTDIR=$(TARGET_DIR) install-tests",
        to: "DESTDIR=$(TARGET_DIR) install",
        front: Front::Buildroot { tests: true },
        expect: "missing usr/lib/nlchan/tests/",
    },
    Mutation {
        finding: "3: Tina's kbuild call uses KERNEL_MAKE_FLAGS",
        file: OPENWRT,
        from: "+$(MAKE) $(NLCHAN_KBUILD_FLAGS) -C $(LINUX_DIR) M=",
        to: "+$(MAKE) $(KERNEL_MAKE_FLAGS) -C $(LINUX_DIR) M=",
        front: Front::Tina,
        expect: "ARCH is ''",
    },
    Mutation {
        finding: "4: cargo install without --no-track and --bin",
        file: OPENWRT,
        from: "--no-track $(addprefix --bin ,$(NLCHAN_CARGO_BINS))",
        to: "",
        front: Front::OpenWrt,
        expect: "extra .crates.toml",
    },
    Mutation {
        finding: "4: no PKG_BUILD_PARALLEL",
        file: OPENWRT,
        from: "PKG_BUILD_PARALLEL:=1\n",
        to: "",
        front: Front::OpenWrt,
        expect: "PKG_BUILD_PARALLEL",
    },
    Mutation {
        finding: "4: DEPENDS without RUST_ARCH_DEPENDS",
        file: OPENWRT,
        from: "DEPENDS:=+kmod-nlchan $(RUST_ARCH_DEPENDS)",
        to: "DEPENDS:=+kmod-nlchan",
        front: Front::OpenWrt,
        expect: "lacks $(RUST_ARCH_DEPENDS)",
    },
    Mutation {
        finding: "5: the module installed by the package and by kbuild",
        file: BR_KMOD,
        from: "$(eval $(kernel-module))",
        to: "define NLCHAN_KMOD_INSTALL_TARGET_CMDS\n\
             \t$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/kmod KDIR=$(LINUX_DIR) \\\n\
             \t\tDESTDIR=$(TARGET_DIR) install\n\
             endef\n\n$(eval $(kernel-module))",
        front: Front::Buildroot { tests: false },
        expect: "installed twice",
    },
    Mutation {
        finding: "5: the header installed into the target",
        file: BR_KMOD,
        from: "DESTDIR=$(STAGING_DIR)",
        to: "DESTDIR=$(TARGET_DIR)",
        front: Front::Buildroot { tests: false },
        expect: "missing usr/include/linux/nlchan.h",
    },
    Mutation {
        finding: "6: no PKG_EXTMOD_SUBDIRS",
        file: OPENWRT,
        from: "PKG_EXTMOD_SUBDIRS:=kmod\n",
        to: "",
        front: Front::OpenWrt,
        expect: "did not publish",
    },
    Mutation {
        finding: "7: a check-package rule broken",
        file: BR_APP,
        from: "NLCHAN_LICENSE = ",
        to: "NLCHAN_LICENSE=",
        front: Front::Lint,
        expect: "one space each side",
    },
];

struct Run<'a> {
    p: &'a Project,
    k: &'a Kernel,
    app: &'a Path,
    src: PathBuf,
    work: PathBuf,
}

impl Run<'_> {
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
                "FAKE_REAL_LINUX_DIR := {}\nFAKE_ARCH := arm\ninclude {}\n",
                self.k.build.display(),
                self.fakes().join("linux/kbuild.mk").display()
            ),
        )?;
        std::os::unix::fs::symlink(self.k.build.join("include"), dir.join("include"))?;
        Ok(dir)
    }

    fn run(&self, front: Front, tag: &str) -> Result<Tree> {
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
            .arg(format!(
                "LINUX_MAKE_FLAGS=ARCH=arm CROSS_COMPILE={CROSS_COMPILE} INSTALL_MOD_PATH={}",
                target.display()
            ))
            .arg(format!("RUSTC_TARGET_NAME={MUSL_TARGET}"))
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
    /// README tells Buildroot users) and runs pkg-cargo's build command for
    /// the `nlchan` package with an empty CARGO_HOME: it must build without
    /// touching the network. Returns the binary.
    fn buildroot_cargo(&self) -> Result<PathBuf> {
        let vendor = self.work.join("vendor");
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

    /// Puts each bug back (`MUTATIONS`) into a copy of its package file and
    /// runs the front end it concerns; returns the mutations not caught.
    fn mutations(&self, want_no_tests: &Tree, want_tests: &Tree, procd: &Tree) -> Vec<String> {
        let mut missed = Vec::new();
        for (i, m) in MUTATIONS.iter().enumerate() {
            let file = self.src.join(m.file);
            let result = (|| -> Result<Vec<String>> {
                let text = fs::read_to_string(&file)?;
                if !text.contains(m.from) {
                    bail!(
                        "the mutation no longer applies: {} has no {:?}",
                        m.file,
                        m.from
                    );
                }
                fs::write(&file, text.replace(m.from, m.to))?;
                let want = match m.front {
                    Front::Buildroot { tests: false } => want_no_tests,
                    Front::OpenWrt => procd,
                    _ => want_tests,
                };
                let got = self.run(m.front, &format!("mutation-{i}"));
                fs::write(&file, text)?;
                Ok(match got {
                    Ok(got) => diff(want, &got),
                    Err(e) => vec![format!("{e:#}")],
                })
            })();
            match result {
                Ok(d) if d.iter().any(|l| l.contains(m.expect)) => {
                    let line = d
                        .iter()
                        .flat_map(|l| l.lines())
                        .find(|l| l.contains(m.expect))
                        .unwrap_or_default();
                    eprintln!(
                        "    mutation {}: caught by {}: {}",
                        m.finding,
                        m.front.name(),
                        line.trim()
                    );
                }
                Ok(d) => {
                    eprintln!(
                        "    mutation {}: NOT caught by {} (want {:?}):\n      {}",
                        m.finding,
                        m.front.name(),
                        m.expect,
                        d.join("\n      ")
                    );
                    missed.push(m.finding.to_string());
                }
                Err(e) => {
                    eprintln!("    mutation {}: {e:#}", m.finding);
                    missed.push(m.finding.to_string());
                }
            }
        }
        missed
    }
}

/// Runs every front end twice (as is, then with a file added to each
/// recipe) and compares, then checks that each mutation is caught; returns
/// whether everything matched.
pub fn check(p: &Project, k: &Kernel, app: &Path) -> Result<bool> {
    let lint = lint_buildroot(&p.root)?;
    if !lint.is_empty() {
        bail!(
            "buildroot/package breaks Buildroot's conventions:\n{}",
            lint.join("\n")
        );
    }
    let sysv = reference(p)?;
    let procd = procd_reference(p, &sysv)?;
    let mut sysv_no_tests = sysv.clone();
    sysv_no_tests.retain(|path, _| !path.starts_with(TESTS_DIR));
    if sysv_no_tests.len() == sysv.len() {
        bail!("the emulated image has no {TESTS_DIR} (install-tests)");
    }
    eprintln!(
        "    emulated image, package files: {}",
        sysv.keys().cloned().collect::<Vec<_>>().join(" ")
    );
    let work = p.out.join("packaging");
    let run = Run {
        p,
        k,
        app,
        src: work.join("src"),
        work: work.clone(),
    };
    copy_checkout(p, &run.src)?;
    let bin = run.buildroot_cargo()?;
    eprintln!(
        "    Buildroot nlchan: built offline from vendored crates: {}",
        bin.display()
    );
    let mut failures = Vec::new();
    let missed = run.mutations(&sysv_no_tests, &sysv, &procd);
    if !missed.is_empty() {
        failures.push(format!("mutations not caught: {}", missed.join("; ")));
    }
    let mut canaries = Tree::new();
    for round in ["as-is", "canary"] {
        if round == "canary" {
            canaries = add_canaries(&run.src)?;
        }
        let with = |t: &Tree, tests: bool| -> Tree {
            let mut t = t.clone();
            t.extend(canaries.clone());
            if !tests {
                t.retain(|path, _| !path.starts_with(TESTS_DIR));
            }
            t
        };
        // Buildroot without the tests as is, with them after the canaries.
        let br_tests = round == "canary";
        let fronts = [
            (Front::Buildroot { tests: br_tests }, with(&sysv, br_tests)),
            (Front::OpenWrt, with(&procd, true)),
            (Front::Tina, with(&sysv, true)),
        ];
        for (front, want) in fronts {
            let name = front.name();
            let d = match run.run(front, round) {
                Ok(got) => diff(&want, &got),
                Err(e) => vec![format!("{e:#}")],
            };
            if d.is_empty() {
                eprintln!("    {round}: {name}: {} files match", want.len());
            } else {
                eprintln!(
                    "    {round}: {name}: DIFFERS:\n      {}",
                    d.join("\n      ")
                );
                failures.push(format!("{round}: {name}"));
            }
        }
    }
    if !failures.is_empty() {
        bail!(
            "front ends that do not install what the shared recipes install, or \
             that a bug put back does not break: {}\n\
             (a file only the emulated image should have belongs in \
             packaging::emulated_only)",
            failures.join(", ")
        );
    }
    Ok(true)
}

/// Buildroot's conventions for `buildroot/package/*` (a subset of
/// Buildroot's `utils/check-package`, which CI cannot fetch): the 80-`#`
/// header naming the package, variables prefixed with the package's name,
/// `$()` rather than `${}`, `=` with one space each side, and Config.in
/// help text as a tab, two spaces and at most 62 characters.
pub fn lint_buildroot_package(name: &str, mk: &str, config_in: &str) -> Vec<String> {
    let mut out = Vec::new();
    let prefix = format!("{}_", name.to_uppercase().replace('-', "_"));
    let rule = "#".repeat(80);
    let header = [
        rule.as_str(),
        "#",
        &format!("# {name}"),
        "#",
        rule.as_str(),
        "",
    ];
    if !mk.lines().take(6).eq(header.iter().copied()) {
        out.push(format!(
            "{name}.mk: header is not the 80-# block naming {name}"
        ));
    }
    let mut in_define = false;
    for (i, line) in mk.lines().enumerate() {
        let at = format!("{name}.mk:{}", i + 1);
        if line.contains("${") {
            out.push(format!("{at}: use $() rather than ${{}}"));
        }
        if let Some(var) = line.strip_prefix("define ") {
            in_define = true;
            if !var.starts_with(&prefix) {
                out.push(format!("{at}: {var} lacks the {prefix} prefix"));
            }
            continue;
        }
        if line == "endef" {
            in_define = false;
            continue;
        }
        if in_define || line.starts_with(['#', '\t', '$']) || line.is_empty() {
            continue;
        }
        let Some((var, _)) = line.split_once('=') else {
            continue;
        };
        let var = var.trim_end_matches(['+', '?', ':']);
        if !var.ends_with(' ') || var.ends_with("  ") || !line[var.len()..].contains("= ") {
            out.push(format!("{at}: write `VAR = value`, one space each side"));
        }
        if !var.trim().starts_with(&prefix) {
            out.push(format!("{at}: {} lacks the {prefix} prefix", var.trim()));
        }
    }
    let mut in_help = false;
    for (i, line) in config_in.lines().enumerate() {
        let at = format!("Config.in:{}", i + 1);
        if line == "\thelp" {
            in_help = true;
        } else if in_help && !line.is_empty() && !line.starts_with('\t') {
            in_help = false;
        } else if in_help && !line.is_empty() {
            let text = line.strip_prefix("\t  ");
            match text {
                Some(t) if t.chars().count() <= 62 || !t.contains(' ') => {}
                _ => out.push(format!(
                    "{at}: help text is <tab><2 spaces><at most 62 chars>"
                )),
            }
        } else if line.starts_with(' ') {
            out.push(format!("{at}: indent with a tab"));
        }
    }
    out
}

/// Lints `buildroot/package/*` of the checkout (or a copy) at `root`.
fn lint_buildroot(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let dir = root.join("buildroot/package");
    let mut n = 0;
    for e in fs::read_dir(&dir)? {
        let pkg = e?.path();
        let name = pkg.file_name().unwrap().to_string_lossy().into_owned();
        let mk = fs::read_to_string(pkg.join(format!("{name}.mk")))?;
        let config_in = fs::read_to_string(pkg.join("Config.in"))?;
        out.extend(lint_buildroot_package(&name, &mk, &config_in));
        n += 1;
    }
    if n == 0 {
        bail!("no package in {}", dir.display());
    }
    eprintln!("    Buildroot conventions: {n} packages checked");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(mode: u32, data: &str) -> Entry {
        Entry {
            mode,
            data: data.as_bytes().to_vec(),
        }
    }

    #[test]
    fn emulated_only_files() {
        for p in [
            "init",
            "bin/busybox",
            "lib/modules/6.1/kernel/drivers/x.ko",
            "lib/modules/6.1/modules.dep",
            "lib/modules/6.1/build",
        ] {
            assert!(emulated_only(p), "{p}");
        }
        for p in [
            "usr/bin/nlchan",
            "lib/modules/6.1/extra/nlchan.ko",
            "etc/init.d/S50nlchan",
            "usr/include/linux/nlchan.h",
            "usr/lib/nlchan/tests/nlchan-alloc-check",
        ] {
            assert!(!emulated_only(p), "{p}");
        }
    }

    #[test]
    fn diff_reports_missing_extra_mode_and_content() {
        let want: Tree = [("a".into(), e(0o755, "x")), ("b".into(), e(0o644, "y"))].into();
        assert!(diff(&want, &want).is_empty());
        let got: Tree = [("a".into(), e(0o644, "x")), ("c".into(), e(0o644, "z"))].into();
        assert_eq!(
            diff(&want, &got),
            ["a: mode 644, want 755", "missing b", "extra c"]
        );
        let got: Tree = [("a".into(), e(0o755, "X")), ("b".into(), e(0o644, "y"))].into();
        assert_eq!(diff(&want, &got), ["a: content differs"]);
    }

    #[test]
    fn openwrt_layout_maps_back() {
        let t: Tree = [
            ("lib/modules/6.1.1/nlchan.ko".into(), e(0o644, "ko")),
            ("etc/modules.d/nlchan".into(), e(0o644, "nlchan\n")),
            ("usr/bin/nlchan".into(), e(0o755, "bin")),
        ]
        .into();
        let m = from_openwrt(t.clone()).unwrap();
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            ["lib/modules/6.1.1/extra/nlchan.ko", "usr/bin/nlchan"]
        );
        let mut no_autoload = t.clone();
        no_autoload.remove("etc/modules.d/nlchan");
        assert!(from_openwrt(no_autoload).is_err());
        let mut wrong = t;
        wrong.insert("etc/modules.d/nlchan".into(), e(0o644, "other\n"));
        assert!(from_openwrt(wrong).is_err());
    }

    #[test]
    fn buildroot_lint() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../buildroot/package");
        for name in ["nlchan", "nlchan-kmod"] {
            let mk = fs::read_to_string(root.join(name).join(format!("{name}.mk"))).unwrap();
            let cfg = fs::read_to_string(root.join(name).join("Config.in")).unwrap();
            assert_eq!(
                lint_buildroot_package(name, &mk, &cfg),
                Vec::<String>::new()
            );
        }
        let rule = "#".repeat(80);
        let bad_mk = format!(
            "{rule}\n#\n# foo\n#\n{rule}\n\nFOO_SITE  = x\nBAR_X = ${{Y}}\ndefine OTHER\nendef\n"
        );
        let bad_cfg = "config BR2_PACKAGE_FOO\n\tbool \"foo\"\n\thelp\n\t foo\n\t  \
            a line of help text that is much longer than sixty-two characters\n";
        assert_eq!(
            lint_buildroot_package("foo", &bad_mk, bad_cfg),
            [
                "foo.mk:7: write `VAR = value`, one space each side",
                "foo.mk:8: use $() rather than ${}",
                "foo.mk:8: BAR_X lacks the FOO_ PREFIX"
                    .replace("PREFIX", "prefix")
                    .as_str(),
                "foo.mk:9: OTHER lacks the FOO_ prefix",
                "Config.in:4: help text is <tab><2 spaces><at most 62 chars>",
                "Config.in:5: help text is <tab><2 spaces><at most 62 chars>",
            ]
        );
        assert!(!lint_buildroot_package("bar", &bad_mk, "").is_empty());
    }

    #[test]
    fn buildroot_layout_maps_back_and_catches_two_copies() {
        let t: Tree = [
            ("lib/modules/6.12/updates/nlchan.ko".into(), e(0o644, "ko")),
            ("usr/bin/nlchan".into(), e(0o755, "bin")),
        ]
        .into();
        let m = from_buildroot(t.clone()).unwrap();
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            ["lib/modules/6.12/extra/nlchan.ko", "usr/bin/nlchan"]
        );
        let mut twice = t;
        twice.insert("lib/modules/6.12/extra/nlchan.ko".into(), e(0o644, "ko"));
        assert!(from_buildroot(twice).is_err());
    }

    #[test]
    fn mutations_apply_to_the_package_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for m in &MUTATIONS {
            let text = fs::read_to_string(root.join(m.file)).unwrap();
            assert!(text.contains(m.from), "{}: {:?}", m.finding, m.from);
        }
    }

    #[test]
    fn a_file_in_two_packages_is_an_error() {
        let a: Tree = [("usr/bin/x".into(), e(0o755, "1"))].into();
        assert!(merge(&[("p".into(), a.clone()), ("q".into(), Tree::new())]).is_ok());
        assert!(merge(&[("p".into(), a.clone()), ("q".into(), a)]).is_err());
    }
}
