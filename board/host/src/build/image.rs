// SPDX-License-Identifier: MIT OR Apache-2.0
//! The board image: the module and the app cross-built for the board's
//! architecture (the app armv7 or aarch64 musl, static, on the host: see
//! [`app`]), installed into a
//! staging folder by the same DESTDIR recipes the packages use, plus static
//! busybox (see [`crate::build::busybox`]: only what Buildroot's and
//! OpenWrt's defaults both enable), its applet
//! links, separate module tools and the emulated board's /init, packed as an
//! initramfs; and the board's device tree with the nlchan overlay applied.

use crate::build::arch::Arch;
use crate::build::busybox::{self, Busybox};
use crate::build::kernel::source::{Source, BOOKWORM};
use crate::build::kernel::{Board, Kernel};
use crate::build::warnings::split_warnings;
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Applies the nlchan overlay (board/dts/nlchan.dtso) to the board's
/// upstream device tree and checks the node is there.
pub fn device_tree(p: &Project, board: &Board, base: &Path) -> Result<PathBuf> {
    let dtbo = p.out.join("nlchan.dtbo");
    let dtb = p.out.join(format!("{}-nlchan.dtb", board.name));
    let dtso = p.root.join("board/dts/nlchan.dtso");
    sh::run(
        cmd("dtc", ["-q", "-@", "-I", "dts", "-O", "dtb", "-o"])
            .arg(&dtbo)
            .arg(&dtso),
    )?;
    crate::build::devicetree::apply_overlay(base, &dtbo, &dtb)?;
    let compat = sh::output(&mut cmd(
        "fdtget",
        [
            dtb.as_os_str(),
            "/netlink-test".as_ref(),
            "compatible".as_ref(),
        ],
    ))?;
    if compat.trim() != crate::build::devicetree::COMPATIBLE {
        bail!("{}: /netlink-test compatible is {compat:?}", dtb.display());
    }
    Ok(dtb)
}

/// Debian's Rust std sources (rust-web-src), which the board's builds
/// rebuild the std from.
const STD_SOURCES: &str = "/usr/lib/rustlib/src/rust/library";

/// `cargo build --release -p nlchan --target <target>` with the std rebuilt
/// from Debian's rust-web-src, static. Size: LTO then sees the std, and
/// panic_immediate_abort drops the panic message and backtrace machinery
/// (~250 KB of a static binary). For a musl target (a board's) rustc
/// gets the cache's musl sysroot ([`crate::build::musl::sysroot`]) for the
/// target only, whose self-contained folder it links the C runtime from.
/// `cfg` is added to the target's rustflags. -Z flags on Debian's stable
/// compiler need RUSTC_BOOTSTRAP.
fn build_std(p: &Project, target: &str, cfg: &str) -> Result<Command> {
    let library = Path::new(STD_SOURCES);
    if !library.join("std").is_dir() {
        bail!(
            "{} is missing: install Debian's rust-web-src (run `sudo ./board/bootstrap.sh`)",
            library.display()
        );
    }
    let mut flags = String::from("-C target-feature=+crt-static");
    if let Some(arch) = crate::build::arch::by_musl_target(target) {
        flags = format!(
            "--sysroot {} {flags}",
            crate::build::musl::sysroot(p, arch)?.display()
        );
    }
    if !cfg.is_empty() {
        flags = format!("{flags} {cfg}");
    }
    let var = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        target.to_uppercase().replace('-', "_")
    );
    let mut c = cmd(
        &p.cargo(),
        [
            "build",
            "--release",
            "--locked",
            "-p",
            "nlchan",
            "--target",
            target,
            "-Zbuild-std=std,panic_abort",
            "-Zbuild-std-features=panic_immediate_abort",
        ],
    );
    c.current_dir(&p.root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env(var, flags);
    Ok(c)
}

/// Builds the board's `nlchan` and `nlchan-alloc-check` (musl of `arch`,
/// static, release), checks the binary (static, the arch, `--version`
/// under qemu-user) and returns its path.
pub fn app(p: &Project, arch: &Arch) -> Result<PathBuf> {
    let target = arch.musl_target;
    let bin = app_for(p, target, "app build")?;
    let what = crate::build::elf::check_binary(&bin, target)?;
    eprintln!("    {}: {what}", bin.display());
    Ok(bin)
}

/// The same app built for `target` (a board's musl target, or
/// [`crate::run::project::GLIBC_TARGET`] for the benchmark's size comparison);
/// returns the `nlchan` binary.
pub fn app_for(p: &Project, target: &str, what: &str) -> Result<PathBuf> {
    let mut c = build_std(p, target, "")?;
    let log = p.out.join(format!("{}.log", what.replace(' ', "-")));
    sh::logged(what, &mut c, &log)?;
    Ok(p.root.join("target").join(target).join("release/nlchan"))
}

/// Where the planted-allocation checker goes on the debug image only (it
/// is in no package): `nlchan-alloc-check` built with
/// `--cfg nlchan_plant_alloc`, whose `--plant PATH` adds one heap
/// allocation to PATH (app/src/plant.rs) so that the stress suite can show
/// the zero-allocation proof failing on each path.
pub const PLANTED_CHECKER: &str = "usr/lib/nlchan/planted/nlchan-alloc-check";

/// Builds the planted-allocation checker exactly as the board's binaries
/// (musl of `arch`, static, std rebuilt; a target folder of its own), so
/// that the zero-allocation proof is about the shipped libc, and returns it.
pub fn planted_checker(p: &Project, arch: &Arch) -> Result<PathBuf> {
    let target_dir = p.root.join("target/planted");
    let mut c = build_std(p, arch.musl_target, "--cfg nlchan_plant_alloc")?;
    c.args(["--bin", "nlchan-alloc-check", "--target-dir"])
        .arg(&target_dir);
    sh::logged(
        "planted checker build",
        &mut c,
        &p.out.join("planted-build.log"),
    )?;
    Ok(target_dir
        .join(arch.musl_target)
        .join("release/nlchan-alloc-check"))
}

/// Builds the module against `k` with W=1 and fails on any warning.
pub fn module(p: &Project, k: &Kernel) -> Result<PathBuf> {
    let kmod = &p.kmod;
    let mut c = cmd("make", ["-C"]);
    c.arg(kmod)
        .arg(format!("KDIR={}", k.build.display()))
        .arg(k.arch.make_arch())
        .arg(k.arch.make_cross())
        .arg(crate::run::project::module_version_arg())
        .args(&k.make_vars)
        .arg("W=1");
    let log = sh::logged("module build", &mut c, &p.out.join("kmod-build.log"))?;
    own_warnings_fail("module", &log, kmod)?;
    Ok(kmod.join("nlchan.ko"))
}

/// Builds the test modules (board/target-tests `make test-modules`: the squatter
/// of units 30 and 31, the caller of nlchan_broadcast() from every context)
/// against `k` with W=1 and the module's Module.symvers (the module is
/// built first), in a folder of their own for this kernel, and fails on
/// any warning. Returns that folder.
pub fn test_modules(p: &Project, k: &Kernel) -> Result<PathBuf> {
    let dir = p.out.join("test-modules");
    let mut c = cmd("make", ["-C"]);
    c.arg(p.root.join("board/target-tests"))
        .arg("test-modules")
        .arg(format!("KDIR={}", k.build.display()))
        .arg(format!("TEST_MODULES_BUILD={}", dir.display()))
        .arg(format!(
            "NLCHAN_SYMVERS={}",
            p.kmod.join("Module.symvers").display()
        ))
        .arg(k.arch.make_arch())
        .arg(k.arch.make_cross())
        .args(&k.make_vars);
    let log = sh::logged(
        "test modules build",
        &mut c,
        &p.out.join("test-modules-build.log"),
    )?;
    own_warnings_fail("test modules", &log, &dir)?;
    Ok(dir)
}

/// Fails when the W=1 build `log` of `what` (sources in `src`) has a
/// warning of its own; prints those the kernel tree raises in any module
/// ([`split_warnings`]: a vendor tree's headers, an old kbuild's flags).
fn own_warnings_fail(what: &str, log: &str, src: &Path) -> Result<()> {
    let (own, tree) = split_warnings(log, src);
    for w in &tree {
        eprintln!("      from the kernel tree: {w}");
    }
    if !own.is_empty() {
        bail!("the {what} build (W=1) has warnings:\n{}", own.join("\n"));
    }
    Ok(())
}

/// Installs everything into a fresh staging folder with the project's
/// DESTDIR recipes, plus `bb`'s busybox, and returns it.
pub fn stage(p: &Project, k: &Kernel, app_bin: &Path, bb: &Busybox) -> Result<PathBuf> {
    let test_modules = test_modules(p, k)?;
    let root = p.out.join("rootfs");
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    fs::create_dir_all(&root)?;
    let destdir = format!("DESTDIR={}", root.display());
    // The kernel's own modules and module lists, as on any image.
    sh::run(
        cmd("make", ["-s"])
            .current_dir(&k.build)
            .arg(k.arch.make_arch())
            .arg("modules_install")
            .arg(format!("INSTALL_MOD_PATH={}", root.display())),
    )?;
    sh::run(
        cmd("make", ["-s", "-C"])
            .arg(&p.kmod)
            .arg(format!("KDIR={}", k.build.display()))
            .args([destdir.as_str(), "install"]),
    )?;
    sh::run(
        cmd("make", ["-s", "-C"])
            .arg(p.root.join("app"))
            .arg(format!("NLCHAN_BIN={}", app_bin.display()))
            .args([destdir.as_str(), "install", "install-tests"]),
    )?;
    sh::run(
        cmd("make", ["-s", "-C"])
            .arg(p.root.join("board/rootfs"))
            // The emulated board boots like a busybox-init board.
            .args([destdir.as_str(), "INIT=sysv", "install"]),
    )?;
    sh::run(
        cmd("make", ["-s", "-C"])
            .arg(p.root.join("board/target-tests"))
            .arg(k.arch.make_cross())
            // The C helpers of each image's outputs (each architecture's).
            .arg(format!(
                "TEST_PROGRAMS_BUILD={}",
                p.out.join("test-programs").display()
            ))
            .arg(format!("TEST_MODULES_BUILD={}", test_modules.display()))
            .args([destdir.as_str(), "install-tests"]),
    )?;
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "root", "etc",
    ] {
        fs::create_dir_all(root.join(d))?;
    }
    fs::copy(bb.file("busybox"), root.join("bin/busybox"))?;
    std::os::unix::fs::symlink("busybox", root.join("bin/sh"))?;
    let init = p.root.join(EMULATED_INIT);
    fs::copy(&init, root.join("init"))
        .with_context(|| format!("cannot copy {}", init.display()))?;
    sh::run(cmd("depmod", ["-b"]).arg(&root).arg(&k.release))?;
    Ok(root)
}

/// The /init of every emulated board's image (the Orange Pi PC's and
/// QEMU `virt`'s): mount, coldplug, init scripts, a shell on the console.
const EMULATED_INIT: &str = "board/orangepi-pc/init";

/// Packs a staging folder as an uncompressed initramfs (cpio "newc"),
/// every file owned by root, plus /dev/console and what only the emulated
/// image has beyond the staging folder's /bin/busybox: the busybox applet
/// links and the module tools of `bb` (see [`busybox_extras`]). They stay
/// out of the staging folder, which is the reference every package front
/// end is compared with.
pub fn initramfs(bb: &Busybox, root: &Path, out: &Path) -> Result<()> {
    let mut w = crate::build::cpio::Writer::default();
    w.node("dev/console", 0o020600, (5, 1));
    add_tree(&mut w, root, root)?;
    let links = fs::read_to_string(bb.file("busybox.links"))?;
    let mod_links = fs::read_to_string(bb.file("modutils.links"))?;
    let modutils = fs::read(bb.file("modutils"))?;
    for e in busybox_extras(&links, &mod_links)? {
        if root.join(&e.path).symlink_metadata().is_ok() {
            continue; // the staging folder has it (bin/sh)
        }
        match e.target {
            Some(t) => w.symlink(&e.path, t),
            None => w.file(&e.path, 0o755, &modutils),
        }
    }
    fs::write(out, w.finish())?;
    Ok(())
}

/// Where the module tools binary goes in the emulated image.
pub const MODUTILS: &str = "sbin/modutils";

/// One entry [`initramfs`] adds: a symbolic link to `target`, or (no
/// target) the module tools binary.
#[derive(Debug, PartialEq, Eq)]
pub struct Extra {
    /// Path in the image, without the leading slash.
    pub path: String,
    /// Link target.
    pub target: Option<&'static str>,
}

/// The applet links of busybox (`links`: busybox.links, one absolute path
/// a line) pointing at /bin/busybox, the module tools binary, and its
/// applet links (`mod_links`) pointing at it. An applet in both lists is
/// an error: the two builds must not overlap.
pub fn busybox_extras(links: &str, mod_links: &str) -> Result<Vec<Extra>> {
    let parse = |text: &str| -> Result<Vec<String>> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| match l.strip_prefix('/') {
                Some(p) if !p.is_empty() && !p.split('/').any(|c| c == ".." || c.is_empty()) => {
                    Ok(p.to_string())
                }
                _ => bail!("busybox.links: {l:?} is not an absolute path"),
            })
            .collect()
    };
    let (bb, mods) = (parse(links)?, parse(mod_links)?);
    let mut out = Vec::new();
    for path in &bb {
        if path != "bin/busybox" {
            out.push(Extra {
                path: path.clone(),
                target: Some("/bin/busybox"),
            });
        }
    }
    out.push(Extra {
        path: MODUTILS.to_string(),
        target: None,
    });
    for path in mods {
        if bb.contains(&path) {
            bail!("/{path} is both a busybox applet and a module tool");
        }
        out.push(Extra {
            path,
            target: Some("/sbin/modutils"),
        });
    }
    Ok(out)
}

fn add_tree(w: &mut crate::build::cpio::Writer, base: &Path, dir: &Path) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = path.strip_prefix(base)?.to_string_lossy().into_owned();
        let meta = fs::symlink_metadata(&path)?;
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&path)?;
            w.symlink(&name, &target.to_string_lossy());
        } else if meta.is_dir() {
            w.dir(&name, mode);
            add_tree(w, base, &path)?;
        } else if meta.is_file() {
            w.file(&name, mode, &fs::read(&path)?);
        } else {
            bail!(
                "{}: unsupported file type in the staging folder",
                path.display()
            );
        }
    }
    Ok(())
}

/// Everything the emulated board boots from.
pub struct Built {
    /// The board emulated.
    pub board: &'static Board,
    /// Its kernel.
    pub kernel: Kernel,
    /// Its device tree, with the nlchan node.
    pub dtb: PathBuf,
    /// The initramfs.
    pub initramfs: PathBuf,
    /// The app binary in it.
    pub app: PathBuf,
}

/// Builds the kernel, the module, the app and the image.
pub fn build_all(p: &Project) -> Result<Built> {
    build_with(p, &crate::build::kernel::NORMAL)
}

/// Builds the image around the board's kernel in configuration `variant`.
pub fn build_with(p: &Project, variant: &crate::build::kernel::Variant) -> Result<Built> {
    build_image(p, variant, BOOKWORM, None)
}

/// The same, around the board's normal kernel built from Debian's source
/// `from`. Give each kernel a [`Project::variant`] of its own.
pub fn build_on(p: &Project, from: &Source) -> Result<Built> {
    build_image(p, &crate::build::kernel::NORMAL, from, None)
}

/// The image of `board` (e.g. [`crate::build::kernel::QEMU_VIRT_ARM64`])
/// around its normal kernel from bookworm's source, everything built for
/// its architecture. Give each board but the Orange Pi PC a
/// [`Project::variant`] of its own.
pub fn build_for(p: &Project, board: &'static Board) -> Result<Built> {
    image_of(p, board, &crate::build::kernel::NORMAL, BOOKWORM, None)
}

/// The image around a kernel built elsewhere (a kernel tree's) for `board`.
pub fn build_around(p: &Project, board: &'static Board, kernel: Kernel) -> Result<Built> {
    assemble(p, board, &crate::build::kernel::NORMAL, kernel, None)
}

/// The same, with `app_bin` as `/usr/bin/nlchan` when given (installed by
/// the same recipe, `app/Makefile install NLCHAN_BIN=`, which takes
/// `nlchan-alloc-check` from the same folder) instead of the app built
/// here. Give such an image a [`Project::variant`] of its own, so that it
/// does not overwrite the normal one.
pub fn build_image(
    p: &Project,
    variant: &crate::build::kernel::Variant,
    from: &Source,
    app_bin: Option<&Path>,
) -> Result<Built> {
    let board = &crate::build::kernel::ORANGEPI_PC;
    image_of(p, board, variant, from, app_bin)
}

/// The kernel of `board` in configuration `variant` from Debian's source
/// `from`, and the image around it.
fn image_of(
    p: &Project,
    board: &'static Board,
    variant: &crate::build::kernel::Variant,
    from: &Source,
    app_bin: Option<&Path>,
) -> Result<Built> {
    let what = match variant.name {
        "" => format!("kernel ({}, {})", from.pkg, board.name),
        v => format!("kernel ({}, {}, {v})", from.pkg, board.name),
    };
    let kernel = sh::step(&what, || {
        crate::build::kernel::build(p, board, variant, from)
    })?;
    assemble(p, board, variant, kernel, app_bin)
}

/// The module, the app and the image around `kernel`.
fn assemble(
    p: &Project,
    board: &'static Board,
    variant: &crate::build::kernel::Variant,
    kernel: Kernel,
    app_bin: Option<&Path>,
) -> Result<Built> {
    let arch = board.arch;
    let what = format!("module nlchan.ko (W=1, ARCH={})", arch.kernel_arch);
    sh::step(&what, || module(p, &kernel))?;
    let app = match app_bin {
        None => sh::step(&format!("app nlchan ({} musl, static)", arch.name), || {
            app(p, arch)
        })?,
        Some(bin) => {
            if !bin.is_file() {
                bail!("no app binary at {}", bin.display());
            }
            eprintln!("    app nlchan: {} (given, not built)", bin.display());
            bin.to_path_buf()
        }
    };
    let dtb = sh::step("device tree + nlchan overlay", || {
        device_tree(p, board, &kernel.dtb)
    })?;
    // The debug image (stress suite) also carries the planted-allocation
    // checker, which is in no package.
    let planted = match variant.name {
        "debug" => Some(sh::step(
            &format!("planted-allocation checker ({} musl)", arch.name),
            || planted_checker(p, arch),
        )?),
        _ => None,
    };
    // Every emulated board runs the Orange Pi PC's user space, built for
    // its own architecture.
    let bb = sh::step(&format!("busybox (static {})", arch.name), || {
        busybox::build(p, board)
    })?;
    let initramfs = sh::step("initramfs (DESTDIR install recipes)", || {
        let root = stage(p, &kernel, &app, &bb)?;
        if let Some(planted) = &planted {
            let to = root.join(PLANTED_CHECKER);
            std::fs::create_dir_all(to.parent().context("planted checker path")?)?;
            std::fs::copy(planted, &to)
                .with_context(|| format!("cannot copy {}", planted.display()))?;
        }
        let out = p.out.join("rootfs.cpio");
        initramfs(&bb, &root, &out)?;
        Ok(out)
    })?;
    Ok(Built {
        board,
        kernel,
        dtb,
        initramfs,
        app,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applet_links_point_at_their_binary() {
        let e = busybox_extras("/bin/sh\n/usr/bin/awk\n", "/sbin/modprobe\n/sbin/rmmod\n").unwrap();
        let got: Vec<(&str, Option<&str>)> =
            e.iter().map(|e| (e.path.as_str(), e.target)).collect();
        assert_eq!(
            got,
            vec![
                ("bin/sh", Some("/bin/busybox")),
                ("usr/bin/awk", Some("/bin/busybox")),
                ("sbin/modutils", None),
                ("sbin/modprobe", Some("/sbin/modutils")),
                ("sbin/rmmod", Some("/sbin/modutils")),
            ]
        );
    }

    #[test]
    fn overlapping_or_odd_links_are_refused() {
        assert!(busybox_extras("/sbin/modprobe\n", "/sbin/modprobe\n").is_err());
        assert!(busybox_extras("bin/sh\n", "").is_err());
        assert!(busybox_extras("/usr/../etc/x\n", "").is_err());
    }
}
