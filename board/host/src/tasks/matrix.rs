// SPDX-License-Identifier: MIT OR Apache-2.0
//! The module's compatibility matrix: nlchan.ko built out of tree, with
//! `W=1`, against each kernel source Debian's archive offers (5.10 from
//! bullseye, 6.1 from bookworm, 6.12 from bookworm-backports) for
//! `ARCH=arm` (`multi_v7_defconfig` with `CONFIG_KUNIT=y`, so that the
//! KUnit suite nlchan-kunit.ko is built too, + `modules_prepare`, cached), then
//! sparse (`C=2`, the issue asks for 6.1; it is clean on all three) and the
//! module's metadata read back with `modinfo`.
//!
//! A tree prepared with `modules_prepare` has no `Module.symvers`, so
//! modpost runs with `KBUILD_MODPOST_WARN=1` and cannot tell whether the
//! module's imports exist (it lists only the first ten, or none on 5.10).
//! Instead every undefined symbol of nlchan.ko (`nm -u`) must be exported
//! (`EXPORT_SYMBOL*`) by that kernel's source.
//!
//! `--kernel-tree DIR` runs the same checks (W=1, imports, modinfo; no
//! sparse) against kernel trees a board team has instead, e.g. a Tina SDK's
//! `lichee/linux-4.9`: see [`run_trees`].

use crate::build::kernel::{self, fnv};
use crate::run::project::{Project, CROSS_COMPILE};
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Bump when the preparation recipe below changes, to redo cached trees.
const RECIPE: &str = "2";
/// A real ARM config: the one multi-platform ARMv7 kernels (and the
/// Orange Pi PC's H3) are built from.
const CONFIG: &str = "multi_v7_defconfig";

/// A kernel of the matrix and where its source comes from.
struct Target {
    /// Short version, as in the table.
    version: &'static str,
    /// Debian's source package.
    pkg: &'static str,
}

const TARGETS: [Target; 3] = [
    Target {
        version: "5.10",
        pkg: "linux-source-5.10",
    },
    Target {
        version: "6.1",
        pkg: "linux-source-6.1",
    },
    Target {
        version: "6.12",
        pkg: "linux-source-6.12",
    },
];

/// The module parameters `modinfo` must list, each with a description.
const PARAMS: [&str; 3] = ["unit", "allow_unprivileged", "own_device"];
/// Aliases for the device-tree node: its compatible alone, or followed by
/// more (the vendor-prefixed one, and the seed's "test-netlink").
const OF_ALIASES: [&str; 4] = [
    "of:N*T*Cnlchan,netlink-channel",
    "of:N*T*Cnlchan,netlink-channelC*",
    "of:N*T*Ctest-netlink",
    "of:N*T*Ctest-netlinkC*",
];
/// Alias for a look-up of the generic netlink family (PF_NETLINK is 16,
/// NETLINK_GENERIC 16).
const GENL_ALIAS: &str = "net-pf-16-proto-16-family-nlchan";
/// Aliases of classic units start so (`net-pf-16-proto-30` loads a module
/// on `socket(AF_NETLINK, ..., 30)`); the module must have none.
const UNIT_ALIAS_PREFIX: &str = "net-pf-16-proto-";

/// One row of the table.
#[derive(Default)]
struct Row {
    /// First column: the kernel's version (`6.1`, `4.9`).
    kernel: String,
    /// `uname -r` of the prepared tree and where it comes from (the Debian
    /// package version, or the tree's folder).
    release: String,
    /// W=1 diagnostics of the module's own code (see [`split_warnings`]).
    warnings: Option<usize>,
    /// W=1 warnings the kernel tree itself raises in any module.
    tree_warnings: Option<usize>,
    /// Whether the tree's own warnings fail the row too.
    strict: bool,
    undefined: Option<usize>,
    /// sparse reports; `None` when sparse does not run (kernel trees).
    sparse: Option<usize>,
    run_sparse: bool,
    modinfo: Option<bool>,
    error: Option<String>,
}

impl Row {
    fn ok(&self) -> bool {
        self.error.is_none()
            && self.warnings == Some(0)
            && (!self.strict || self.tree_warnings == Some(0))
            && (!self.run_sparse || self.sparse == Some(0))
            && self.modinfo == Some(true)
    }
}

/// How kbuild is called for one kernel tree.
struct Toolchain {
    arch: String,
    cross: String,
    /// A `CC=` override, or `None` for kbuild's `$(CROSS_COMPILE)gcc`.
    cc: Option<String>,
}

impl Toolchain {
    /// The Debian trees': `ARCH=arm` and Debian's cross gcc as it is.
    fn debian() -> Toolchain {
        Toolchain {
            arch: "arm".into(),
            cross: CROSS_COMPILE.into(),
            cc: None,
        }
    }

    /// `make ARCH=... CROSS_COMPILE=... [CC=...]`.
    fn make(&self) -> Command {
        let mut c = cmd("make", [format!("ARCH={}", self.arch)]);
        c.arg(format!("CROSS_COMPILE={}", self.cross));
        if let Some(cc) = &self.cc {
            c.arg(format!("CC={cc}"));
        }
        c
    }
}

/// Runs the matrix, prints its table; returns whether every kernel passed.
pub fn run(p: &Project) -> Result<bool> {
    let mut rows = Vec::new();
    for t in &TARGETS {
        let mut row = Row {
            kernel: t.version.to_string(),
            strict: true,
            run_sparse: true,
            ..Row::default()
        };
        if let Err(e) = sh::step(&format!("kernel {} ({})", t.version, t.pkg), || {
            check(p, t, &mut row)
        }) {
            eprintln!("    {e:#}");
            row.error = Some(format!("{e:#}"));
        }
        rows.push(row);
    }
    print_table(&rows, "release (Debian package)");
    Ok(rows.iter().all(Row::ok))
}

fn check(p: &Project, t: &Target, row: &mut Row) -> Result<()> {
    let (src, version) = if t.pkg == "linux-source-6.1" {
        kernel::source(p)?
    } else {
        deb_source(p, t.pkg)?
    };
    let kdir = prepare(p, t, &src, &version)?;
    let release = fs::read_to_string(kdir.join("include/config/kernel.release"))?
        .trim()
        .to_string();
    row.release = release.clone();
    let dir = p.out.join("matrix").join(t.version).join("kmod");
    let exports = Exports::Source(&src, format!("{} {version}", t.pkg));
    check_module(
        p,
        &dir,
        &kdir,
        &Toolchain::debian(),
        &exports,
        &release,
        row,
    )?;
    row.release = format!("{release} ({version})");
    Ok(())
}

/// The kernel trees of `cargo board matrix --kernel-tree DIR ...`.
#[derive(Default)]
pub struct Trees {
    /// Configured kernel trees (`make O=` build folders work too).
    pub dirs: Vec<PathBuf>,
    /// `--arch`; by default the tree's `.config` tells (arm, arm64).
    pub arch: Option<String>,
    /// `--cross-compile`; by default Debian's cross gcc for the arch.
    pub cross_compile: Option<String>,
}

/// Runs the matrix's checks (W=1 build, imports, modinfo; not sparse,
/// which old kernels' headers flood) against kernel trees a board team has,
/// e.g. a Tina SDK's `lichee/linux-4.9`, preparing each one first if it is
/// not (`modules_prepare`, in the tree). Prints a table row per tree;
/// returns whether every tree passed.
///
/// Warnings a tree itself raises in any module (vendor trees have some, see
/// [`split_warnings`]) are listed and counted apart; they do not fail a
/// tree's row. The Debian trees, which are mainline, have none and
/// stay strict about them.
pub fn run_trees(p: &Project, trees: &Trees) -> Result<bool> {
    let mut rows = Vec::new();
    for (i, dir) in trees.dirs.iter().enumerate() {
        let mut row = Row {
            kernel: "?".into(),
            ..Row::default()
        };
        if let Err(e) = sh::step(&format!("kernel tree {}", dir.display()), || {
            check_tree(p, trees, i + 1, dir, &mut row)
        }) {
            eprintln!("    {e:#}");
            // The table has room for the cause, not for the step's name.
            let cause: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
            row.error = Some(cause.join(": "));
        }
        rows.push(row);
    }
    print_table(&rows, "release (tree)");
    Ok(rows.iter().all(Row::ok))
}

fn check_tree(p: &Project, trees: &Trees, n: usize, dir: &Path, row: &mut Row) -> Result<()> {
    let name = dir
        .file_name()
        .map_or("tree".into(), |s| s.to_string_lossy().into_owned());
    row.release = format!("? ({name})");
    if !dir.join("Makefile").is_file() {
        bail!("{} is not a kernel tree (no Makefile)", dir.display());
    }
    let config = fs::read_to_string(dir.join(".config")).ok();
    let arch = match (&trees.arch, &config) {
        (Some(a), _) => a.clone(),
        (None, Some(c)) => config_arch(c)
            .with_context(|| {
                format!(
                    "cannot tell the architecture from {}/.config: pass --arch",
                    dir.display()
                )
            })?
            .to_string(),
        (None, None) => "arm".to_string(),
    };
    let cross = match &trees.cross_compile {
        Some(c) => c.clone(),
        None => match arch.as_str() {
            "arm" => CROSS_COMPILE.to_string(),
            "arm64" => "aarch64-linux-gnu-".to_string(),
            _ => bail!("no default cross compiler for ARCH={arch}: pass --cross-compile"),
        },
    };
    let cc = soft_float_cc(&arch, &cross)?;
    let tc = Toolchain { arch, cross, cc };
    if let Some(cc) = &tc.cc {
        eprintln!(
            "    {}gcc defaults to hard float: building with CC=\"{cc}\"",
            tc.cross
        );
    }
    let Some(config) = config else {
        let mut make = format!(
            "make -C {} ARCH={} CROSS_COMPILE={}",
            dir.display(),
            tc.arch,
            tc.cross
        );
        if let Some(cc) = &tc.cc {
            make += &format!(" CC=\"{cc}\"");
        }
        bail!(
            "{} has no .config: configure it first, with your board's kernel config \
             (copied to {}/.config) or with `{make} {}`",
            dir.display(),
            dir.display(),
            defconfig(dir, &tc.arch)
        );
    };
    for (option, what) in [
        ("CONFIG_MODULES", "module support"),
        ("CONFIG_NET", "networking"),
    ] {
        if !config.lines().any(|l| l == format!("{option}=y")) {
            bail!(
                "the tree's .config has no {what} ({option}=y): nlchan cannot be built against it"
            );
        }
    }

    let scratch = p.out.join("matrix").join(format!("tree{n}-{name}"));
    fs::create_dir_all(&scratch)?;
    if prepared(dir) {
        eprintln!("    prepared already: {}", dir.display());
    } else {
        let jobs = format!(
            "-j{}",
            std::thread::available_parallelism().map_or(2, |n| n.get())
        );
        sh::logged(
            "modules_prepare (in the tree)",
            tc.make()
                .arg("-C")
                .arg(dir)
                .args([jobs.as_str(), "modules_prepare"])
                .stdin(Stdio::null()),
            &scratch.join("prepare.log"),
        )?;
    }
    let release = fs::read_to_string(dir.join("include/config/kernel.release"))?
        .trim()
        .to_string();
    row.kernel = release.split('.').take(2).collect::<Vec<_>>().join(".");
    row.release = format!("{release} ({name})");

    // A `make O=` build folder links its source as `source`.
    let src = if dir.join("source/Makefile").is_file() {
        dir.join("source")
    } else {
        dir.to_path_buf()
    };
    let symvers = dir.join("Module.symvers");
    let exports = match fs::read_to_string(&symvers) {
        Ok(t) if t.contains("\tvmlinux\t") => Exports::Symvers(symvers),
        _ => Exports::Source(&src, src.display().to_string()),
    };
    check_module(p, &scratch.join("kmod"), dir, &tc, &exports, &release, row)
}

/// The architecture a kernel `.config` is for.
fn config_arch(config: &str) -> Option<&'static str> {
    [
        ("CONFIG_ARM64=y", "arm64"),
        ("CONFIG_ARM=y", "arm"),
        ("CONFIG_X86=y", "x86"),
        ("CONFIG_RISCV=y", "riscv"),
        ("CONFIG_MIPS=y", "mips"),
    ]
    .into_iter()
    .find(|(line, _)| config.lines().any(|l| l == *line))
    .map(|(_, arch)| arch)
}

/// The defconfig to suggest for an unconfigured tree: the vendor's
/// `sunxi_defconfig` when it has module support (Tina's 4.9 does;
/// mainline's does not), else `multi_v7_defconfig` for arm, else
/// `defconfig`.
fn defconfig(dir: &Path, arch: &str) -> &'static str {
    let sunxi = fs::read_to_string(dir.join(format!("arch/{arch}/configs/sunxi_defconfig")));
    match (arch, sunxi) {
        (_, Ok(c)) if c.lines().any(|l| l == "CONFIG_MODULES=y") => "sunxi_defconfig",
        ("arm", _) => "multi_v7_defconfig",
        _ => "defconfig",
    }
}

/// A `CC=` with `-mfloat-abi=soft` for ARM trees when the cross gcc
/// defaults to the hard-float ABI, as Debian's arm-linux-gnueabihf-gcc does.
///
/// Kernels before 5.10 probe `$(call cc-option,-march=armv7-a,...)` in
/// arch/arm/Makefile before `-msoft-float` is added; with a hard-float gcc
/// that probe fails ("selected architecture lacks an FPU"), the kernel falls
/// back to `-march=armv5t` and the assembler rejects `ldrex`/`pldw`. Every
/// ARM kernel compiles with `-msoft-float` anyway, so adding it to `CC`
/// changes no generated code, only makes such probes answer as they would
/// with a soft-float gcc. That holds whatever the kernel's version, so the
/// test is on the compiler (does it define `__ARM_PCS_VFP`?), not on the
/// tree's Makefile or version.
fn soft_float_cc(arch: &str, cross: &str) -> Result<Option<String>> {
    if arch != "arm" {
        return Ok(None);
    }
    let gcc = format!("{cross}gcc");
    let macros = sh::output(&mut cmd(&gcc, ["-dM", "-E", "-x", "c", "/dev/null"]))?;
    let hard = macros
        .lines()
        .any(|l| l.starts_with("#define __ARM_PCS_VFP "));
    Ok(hard.then(|| format!("{gcc} -mfloat-abi=soft")))
}

/// Whether `modules_prepare` (or a full build) has run in the tree since
/// its `.config` last changed.
fn prepared(dir: &Path) -> bool {
    let modified = |f: &str| fs::metadata(dir.join(f)).and_then(|m| m.modified()).ok();
    let (Some(config), Some(auto)) = (modified(".config"), modified("include/config/auto.conf"))
    else {
        return false;
    };
    auto >= config
        && [
            "include/config/kernel.release",
            "include/generated/autoconf.h",
            "include/generated/asm-offsets.h",
            "scripts/mod/modpost",
        ]
        .iter()
        .all(|f| modified(f).is_some())
}

/// Where a kernel's exported symbols are read from.
enum Exports<'a> {
    /// `EXPORT_SYMBOL*()` in the source tree (no `Module.symvers`), and
    /// what to call it.
    Source(&'a Path, String),
    /// The symbols a built tree's `Module.symvers` lists.
    Symvers(PathBuf),
}

/// The checks every kernel gets: the module built out of tree with W=1
/// into `dir` (a fresh copy of kmod/'s sources), its imports, sparse when
/// the row asks for it, and its metadata (`modinfo`).
fn check_module(
    p: &Project,
    dir: &Path,
    kdir: &Path,
    tc: &Toolchain,
    exports: &Exports,
    release: &str,
    row: &mut Row,
) -> Result<()> {
    copy_kmod(&p.root.join("kmod"), dir)?;
    let log = sh::logged(
        "module build (W=1)",
        &mut module_make(dir, kdir, tc, &["W=1"]),
        &dir.join("../build.log"),
    )?;
    let (own, tree) = split_warnings(&log, dir);
    row.warnings = Some(own.len());
    row.tree_warnings = Some(tree.len());
    for w in &own {
        eprintln!("    {w}");
    }
    for w in &tree {
        eprintln!("    from the kernel tree: {w}");
    }

    let undefined = undefined_symbols(tc, &dir.join("nlchan.ko"))?;
    row.undefined = Some(undefined.len());
    let (missing, from) = match exports {
        Exports::Source(src, name) => (unexported(src, &undefined)?, name.clone()),
        Exports::Symvers(file) => (unlisted(file, &undefined)?, file.display().to_string()),
    };
    if !missing.is_empty() {
        bail!(
            "the module imports symbols that {from} does not export: {}",
            missing.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    eprintln!(
        "    imports: {} undefined symbols (nm -u), all exported by {from}",
        undefined.len(),
    );

    if row.run_sparse {
        row.sparse = Some(sparse(dir, kdir, tc)?);
    }

    let info = sh::output(&mut cmd("modinfo", [dir.join("nlchan.ko")]))?;
    let missing = modinfo_gaps(&info, release);
    for m in &missing {
        eprintln!("    modinfo: {m}");
    }
    row.modinfo = Some(missing.is_empty());
    Ok(())
}

/// Runs sparse on every source of the module (`C=2` checks them all, built
/// or not); returns how many reports it printed.
fn sparse(dir: &Path, kdir: &Path, tc: &Toolchain) -> Result<usize> {
    let log = sh::logged(
        "sparse (C=2)",
        &mut module_make(dir, kdir, tc, &["W=1", "C=2"]),
        &dir.join("../sparse.log"),
    )?;
    let checked = log
        .lines()
        .filter(|l| l.trim_start().starts_with("CHECK"))
        .count();
    let sources = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".c") && !n.ends_with(".mod.c"))
        .count();
    if checked < sources {
        bail!("sparse checked {checked} of {sources} source files (is sparse installed?)");
    }
    let reports = warnings(&log);
    for w in &reports {
        eprintln!("    {w}");
    }
    Ok(reports.len())
}

/// Finds the downloaded package of `pkg` and unpacks its source into the
/// cache (once per version).
fn deb_source(p: &Project, pkg: &str) -> Result<(PathBuf, String)> {
    let debs = p.cache.join("kernel-debs");
    let prefix = format!("{pkg}_");
    let deb = fs::read_dir(&debs)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .max()
        .with_context(|| {
            format!(
                "no {pkg} package in {}: run `sudo board/bootstrap.sh matrix`, which downloads it",
                debs.display()
            )
        })?;
    let version = sh::output(cmd("dpkg-deb", ["-f"]).arg(&deb).arg("Version"))?
        .trim()
        .to_string();
    let top = p.cache.join("src");
    let src = top.join(pkg);
    let stamp = top.join(format!("{pkg}.unpacked"));
    if fs::read_to_string(&stamp).ok().as_deref() == Some(version.as_str()) {
        return Ok((src, version));
    }
    eprintln!("    unpacking {pkg} {version}");
    let _ = fs::remove_dir_all(&src);
    fs::create_dir_all(&top)?;
    // dpkg-deb --fsys-tarfile | tar -xO <tarball> | tar -xJ, without a shell.
    let mut deb_tar = cmd("dpkg-deb", ["--fsys-tarfile"])
        .arg(&deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run dpkg-deb")?;
    let mut inner = cmd("tar", ["-xO"])
        .arg(format!("./usr/src/{pkg}.tar.xz"))
        .stdin(deb_tar.stdout.take().expect("piped"))
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run tar")?;
    let unpacked = cmd("tar", ["-xJ", "-C"])
        .arg(&top)
        .stdin(inner.stdout.take().expect("piped"))
        .status()
        .context("cannot run tar")?;
    let (a, b) = (deb_tar.wait()?, inner.wait()?);
    if !(a.success() && b.success() && unpacked.success()) {
        bail!("unpacking {} failed", deb.display());
    }
    if !src.join("Makefile").exists() {
        bail!("{} did not unpack into {}", deb.display(), src.display());
    }
    fs::write(&stamp, &version)?;
    Ok((src, version))
}

fn kbuild(src: &Path, build: &Path) -> Command {
    let mut c = Toolchain::debian().make();
    c.args(["-s", "-C"])
        .arg(src)
        .arg(format!("O={}", build.display()));
    c
}

/// Configures the tree and runs `modules_prepare` into a cached `O=`
/// folder keyed on the source version, the config and this recipe.
fn prepare(p: &Project, t: &Target, src: &Path, version: &str) -> Result<PathBuf> {
    let key = fnv(&[version.as_bytes(), CONFIG.as_bytes(), RECIPE.as_bytes()]);
    let build = p
        .cache
        .join(format!("kernel/matrix-{}-{key:016x}", t.version));
    let stamp = build.join(".nlchan-prepared");
    if stamp.exists() {
        eprintln!("    cached: {}", build.display());
        return Ok(build);
    }
    eprintln!(
        "    {CONFIG} + modules_prepare of {} {version} (about a minute, cached afterwards)",
        t.pkg
    );
    let _ = fs::remove_dir_all(&build);
    fs::create_dir_all(&build)?;
    sh::logged(
        CONFIG,
        kbuild(src, &build).arg(CONFIG),
        &build.join("config.log"),
    )?;
    // KUnit on, so that nlchan-kunit.ko is built (W=1, sparse) too.
    sh::logged(
        "CONFIG_KUNIT=y",
        Command::new(src.join("scripts/config"))
            .arg("--file")
            .arg(build.join(".config"))
            .args(["--enable", "KUNIT"]),
        &build.join("kunit.log"),
    )?;
    sh::logged(
        "olddefconfig",
        kbuild(src, &build).arg("olddefconfig"),
        &build.join("olddefconfig.log"),
    )?;
    let jobs = format!(
        "-j{}",
        std::thread::available_parallelism().map_or(2, |n| n.get() + 1)
    );
    sh::logged(
        "modules_prepare",
        kbuild(src, &build).args([jobs.as_str(), "modules_prepare"]),
        &build.join("prepare.log"),
    )?;
    fs::write(&stamp, key.to_string())?;
    Ok(build)
}

/// Copies what kbuild needs of kmod/ (Kbuild, Makefile, sources, headers
/// and the include/ tree) into a fresh `dest`, so that builds never see the
/// main build's objects.
fn copy_kmod(from: &Path, dest: &Path) -> Result<()> {
    let _ = fs::remove_dir_all(dest);
    fs::create_dir_all(dest)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.starts_with('.') {
            continue;
        }
        if e.file_type()?.is_dir() {
            // include/ and every folder below it.
            if name == "include" || from.ancestors().any(|a| a.ends_with("include")) {
                copy_kmod(&path, &dest.join(&name))?;
            }
        } else if name == "Kbuild"
            || name == "Makefile"
            || (name.ends_with(".c") && !name.ends_with(".mod.c"))
            || name.ends_with(".h")
        {
            fs::copy(&path, dest.join(&name))
                .with_context(|| format!("cannot copy {}", path.display()))?;
        }
    }
    Ok(())
}

/// `make -C <kmod copy> KDIR=... ARCH=... CROSS_COMPILE=... [CC=...] <extra>`
/// (kmod/Makefile hands ARCH and CROSS_COMPILE on; a `CC=` given on
/// make's command line reaches kbuild through `MAKEFLAGS`).
fn module_make(dir: &Path, kdir: &Path, tc: &Toolchain, extra: &[&str]) -> Command {
    let mut c = tc.make();
    c.arg("-C")
        .arg(dir)
        .arg(format!("KDIR={}", kdir.display()))
        .arg(crate::run::project::module_version_arg())
        .args(extra)
        // No Module.symvers after modules_prepare: see the module docs.
        .env("KBUILD_MODPOST_WARN", "1");
    c
}

/// Compiler and sparse diagnostics, and any modpost warning other than
/// those about unresolved symbols (checked against the kernel's exports).
fn warnings(log: &str) -> Vec<&str> {
    log.lines().filter(|l| is_diagnostic(l)).collect()
}

/// Whether a line of a build log is one that [`warnings`] counts.
fn is_diagnostic(l: &str) -> bool {
    const UNRESOLVED: [&str; 3] = [
        "undefined!",
        "unresolved symbol warnings because there were too many",
        "Symbol info of vmlinux is missing",
    ];
    l.contains("warning:")
        || l.contains("error:")
        || (l.contains("modpost:") && !UNRESOLVED.iter().any(|u| l.contains(u)))
}

/// Splits the W=1 diagnostics of a module build (see [`warnings`]) into
/// the module's own and the kernel tree's: a compiler warning located
/// outside the module's folder `dir` (in the tree's headers, or `cc1:` about
/// kbuild's own flags) is the tree's unless a note under it points back
/// into `dir` (a macro expanded there, a function declared there: then the
/// module can avoid it). Vendor trees raise some in every module, e.g.
/// Allwinner's 4.9 `sched.h` with `-Wignored-qualifiers`, or 4.9's kbuild
/// with `O=` (`-Wmissing-include-dirs`).
fn split_warnings<'a>(log: &'a str, dir: &Path) -> (Vec<&'a str>, Vec<&'a str>) {
    let dir = dir.to_string_lossy();
    let dir = dir.trim_end_matches('/');
    let in_module = |l: &str| {
        l.strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    let lines: Vec<&str> = log.lines().collect();
    let (mut own, mut tree) = (Vec::new(), Vec::new());
    for (i, l) in lines.iter().enumerate() {
        if !is_diagnostic(l) {
            continue;
        }
        // A compiler diagnostic starts with its file; modpost's do not.
        let compiler = l.contains(": warning:") || l.contains(": error:");
        if !compiler || in_module(l) {
            own.push(*l);
            continue;
        }
        // The notes and source excerpts below it, up to the next diagnostic
        // or the next "In file included from" chain.
        let noted_here = lines[i + 1..]
            .iter()
            .take_while(|n| {
                // kbuild's "  CC [M]  x.o" lines; not "  133 | ..." excerpts.
                let kbuild = n.starts_with("  ")
                    && n.trim_start().starts_with(|c: char| c.is_ascii_uppercase());
                !is_diagnostic(n) && !kbuild && !n.starts_with("In file included from")
            })
            .any(|n| n.contains(": note:") && in_module(n));
        if noted_here {
            own.push(*l);
        } else {
            tree.push(*l);
        }
    }
    (own, tree)
}

/// The module's imports: its undefined symbols (`nm -u`).
fn undefined_symbols(tc: &Toolchain, ko: &Path) -> Result<BTreeSet<String>> {
    let out = sh::output(cmd(&format!("{}nm", tc.cross), ["-u"]).arg(ko))?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(str::to_string)
        .collect())
}

/// The symbols of `syms` that no `EXPORT_SYMBOL*()` of the source exports.
fn unexported(src: &Path, syms: &BTreeSet<String>) -> Result<BTreeSet<String>> {
    if syms.is_empty() {
        return Ok(BTreeSet::new());
    }
    let names: Vec<&str> = syms.iter().map(String::as_str).collect();
    // param_ops_<type> are exported by STANDARD_PARAM_DEF(<type>, ...).
    let types: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_prefix("param_ops_"))
        .collect();
    let mut pattern = format!(r"EXPORT_SYMBOL[A-Z_]*\(\s*({})\s*[,)]", names.join("|"));
    if !types.is_empty() {
        pattern += &format!(r"|STANDARD_PARAM_DEF\(\s*({})\s*,", types.join("|"));
    }
    let out = cmd(
        "grep",
        [
            "-rhoE",
            "--include=*.c",
            "--include=*.h",
            "--include=*.S",
            "--exclude-dir=Documentation",
            "--exclude-dir=tools",
            "--exclude-dir=samples",
        ],
    )
    .arg(&pattern)
    .arg(src)
    .stderr(Stdio::inherit())
    .output()
    .context("cannot run grep")?;
    // 1 is "no match": then every symbol is missing.
    if out.status.code().is_none_or(|c| c > 1) {
        bail!("grep for the kernel's exports failed ({})", out.status);
    }
    let found: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('('))
        .map(|(macro_name, rest)| {
            let sym = rest.trim_start().trim_end_matches([')', ',']).trim();
            if macro_name == "STANDARD_PARAM_DEF" {
                format!("param_ops_{sym}")
            } else {
                sym.to_string()
            }
        })
        .collect();
    Ok(syms.difference(&found).cloned().collect())
}

/// The symbols of `syms` that the `Module.symvers` file does not list
/// (`<crc> <symbol> <module> <export macro> ...`, tab-separated).
fn unlisted(symvers: &Path, syms: &BTreeSet<String>) -> Result<BTreeSet<String>> {
    let text = fs::read_to_string(symvers)
        .with_context(|| format!("cannot read {}", symvers.display()))?;
    let listed: BTreeSet<&str> = text.lines().filter_map(|l| l.split('\t').nth(1)).collect();
    Ok(syms
        .iter()
        .filter(|s| !listed.contains(s.as_str()))
        .cloned()
        .collect())
}

/// Checks what `modinfo` shows for a module built against `release`;
/// returns what is missing (empty: all there).
fn modinfo_gaps(text: &str, release: &str) -> Vec<String> {
    let fields: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let values = |key: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .collect()
    };
    let mut missing = Vec::new();
    for key in ["description", "author", "license", "version"] {
        if values(key).iter().all(|v| v.is_empty()) {
            missing.push(format!("no {key}"));
        }
    }
    // The one version of the project: the workspace's (Cargo.toml).
    let version = values("version");
    if !version.is_empty() && version != [env!("CARGO_PKG_VERSION")] {
        missing.push(format!(
            "version is {:?}, not the workspace's {}",
            version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    if values("license") != ["GPL"] {
        missing.push(format!("license is {:?}, not GPL", values("license")));
    }
    // parm: <name>:<description> (<type>)
    let parms = values("parm");
    for name in PARAMS {
        let described = parms.iter().any(|v| {
            v.strip_prefix(name)
                .and_then(|r| r.strip_prefix(':'))
                .and_then(|r| r.rsplit_once(" ("))
                .is_some_and(|(desc, ty)| !desc.trim().is_empty() && ty.ends_with(')'))
        });
        if !described {
            missing.push(format!("parameter {name} with a description and a type"));
        }
    }
    let vermagic = values("vermagic");
    if !vermagic
        .iter()
        .any(|v| v.split(' ').next() == Some(release))
    {
        missing.push(format!("vermagic of {release} (has {vermagic:?})"));
    }
    let aliases = values("alias");
    for want in OF_ALIASES.into_iter().chain([GENL_ALIAS]) {
        if !aliases.contains(&want) {
            missing.push(format!("alias {want} (has {aliases:?})"));
        }
    }
    for a in &aliases {
        if a.starts_with(UNIT_ALIAS_PREFIX) && *a != GENL_ALIAS {
            missing.push(format!(
                "no alias {a}: any user's socket on that unit would load the module"
            ));
        }
    }
    missing
}

fn print_table(rows: &[Row], release_heading: &str) {
    let count = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
    eprintln!();
    eprintln!(
        "  {:<7} {:<29} {:<9} {:<9} {:<9} {:<8} {:<8} result",
        "kernel", release_heading, "W=1 warn", "in tree", "imports", "sparse", "modinfo"
    );
    for r in rows {
        let sparse = match r.sparse {
            Some(0) => "clean".to_string(),
            None if !r.run_sparse => "not run".to_string(),
            n => count(n),
        };
        let modinfo = match r.modinfo {
            Some(true) => "ok",
            Some(false) => "FAIL",
            None => "-",
        };
        let result = match &r.error {
            Some(e) => {
                let first = e.lines().next().unwrap_or("");
                format!("ERROR: {}", first.chars().take(70).collect::<String>())
            }
            None if r.ok() => "pass".to_string(),
            None => "FAIL".to_string(),
        };
        eprintln!(
            "  {:<7} {:<29} {:<9} {:<9} {:<9} {:<8} {:<8} {result}",
            r.kernel,
            if r.release.is_empty() {
                "-"
            } else {
                &r.release
            },
            count(r.warnings),
            count(r.tree_warnings),
            count(r.undefined),
            sparse,
            modinfo,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
  CC [M]  /x/nlchan_main.o
/x/nlchan_main.c:3:1: warning: unused variable 'a' [-Wunused-variable]
  MODPOST /x/Module.symvers
WARNING: modpost: \"netlink_ack\" [/x/nlchan.ko] undefined!
WARNING: modpost: suppressed 14 unresolved symbol warnings because there were too many)
WARNING: modpost: Symbol info of vmlinux is missing. Unresolved symbol check will be entirely skipped.
WARNING: modpost: /x/nlchan.o: section mismatch in reference: a (section: .text) -> b (section: .init.text)
";

    #[test]
    fn finds_warnings_but_not_unresolved_symbols() {
        let w = warnings(LOG);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("unused variable"));
        assert!(w[1].contains("section mismatch"));
    }

    /// A W=1 build against Tina's 4.9 tree with gcc 12 (shortened).
    const TINA_LOG: &str = "\
  CC [M]  /m/kmod/nlchan_main.o
In file included from ./include/linux/ratelimit.h:5,
                 from /m/kmod/nlchan_main.c:17:
./include/linux/sched.h:1260:1: warning: type qualifiers ignored on function return type [-Wignored-qualifiers]
 1260 | const struct sched_group_energy * const(*sched_domain_energy_f)(int cpu);
      | ^~~~~
In file included from /m/kmod/nlchan_main.c:14:
./include/linux/module.h:133:13: warning: 'init_module' specifies less restrictive attribute than its target 'nlchan_init': 'cold' [-Wmissing-attributes]
  133 |         int init_module(void) __attribute__((alias(#initfn)));
      |             ^~~~~~~~~~~
/m/kmod/nlchan_main.c:138:1: note: in expansion of macro 'module_init'
  138 | module_init(nlchan_init);
      | ^~~~~~~~~~~
  CC [M]  /m/kmod/nlchan_unit.o
/m/kmod/nlchan_unit.c:3:1: warning: unused variable 'a' [-Wunused-variable]
/m/kmod-old/x.c:3:1: warning: not in the module's folder [-Wfoo]
  CC [M]  /m/kmod/nlchan_genl.o
./include/net/genetlink.h:9:1: warning: tree only [-Wbar]
  CC      /m/kmod/nlchan.mod.o
WARNING: modpost: /m/kmod/nlchan.o: section mismatch in reference: a (section: .text) -> b (section: .init.text)
";

    #[test]
    fn splits_module_and_tree_warnings() {
        let (own, tree) = split_warnings(TINA_LOG, Path::new("/m/kmod/"));
        assert_eq!(own.len(), 3, "{own:?}");
        assert!(own[0].contains("init_module"));
        assert!(own[1].contains("unused variable"));
        assert!(own[2].contains("section mismatch"));
        assert_eq!(tree.len(), 3, "{tree:?}");
        assert!(tree[0].contains("sched.h"));
        assert!(tree[1].contains("kmod-old"));
        assert!(tree[2].contains("tree only"));
    }

    #[test]
    fn finds_symbols_missing_from_symvers() {
        let file = std::env::temp_dir().join(format!("nlchan-symvers-{}", std::process::id()));
        fs::write(
            &file,
            "0x00000000\tnetlink_ack\tvmlinux\tEXPORT_SYMBOL\n\
             0x1234abcd\tgenl_register_family\tvmlinux\tEXPORT_SYMBOL_GPL\t\n",
        )
        .unwrap();
        let syms: BTreeSet<String> = ["netlink_ack", "genl_register_family", "vmlinux"]
            .map(String::from)
            .into();
        let missing: Vec<String> = unlisted(&file, &syms).unwrap().into_iter().collect();
        fs::remove_file(&file).unwrap();
        assert_eq!(missing, ["vmlinux"]);
    }

    #[test]
    fn arch_from_config() {
        assert_eq!(config_arch("CONFIG_ARM=y\nCONFIG_NET=y\n"), Some("arm"));
        assert_eq!(
            config_arch("# CONFIG_ARM is not set\nCONFIG_ARM64=y\n"),
            Some("arm64")
        );
        assert_eq!(config_arch("CONFIG_ARMV7=y\n"), None);
    }

    fn modinfo() -> String {
        MODINFO.replace("@VERSION@", env!("CARGO_PKG_VERSION"))
    }

    const MODINFO: &str = "\
filename:       /x/nlchan.ko
alias:          net-pf-16-proto-16-family-nlchan
version:        @VERSION@
license:        GPL
author:         nlchan developers
description:    Netlink channel between user space and the kernel
alias:          of:N*T*Ctest-netlinkC*
alias:          of:N*T*Ctest-netlink
alias:          of:N*T*Cnlchan,netlink-channelC*
alias:          of:N*T*Cnlchan,netlink-channel
depends:        
name:           nlchan
vermagic:       6.1.176 SMP mod_unload ARMv7 p2v8 
parm:           unit:Netlink unit, below 32 (default 30) (uint)
parm:           allow_unprivileged:Accept requests from senders without CAP_NET_ADMIN (default: no) (bool)
parm:           own_device:Register an \"nlchan\" platform device (default: no) (bool)
";

    #[test]
    fn modinfo_complete() {
        assert_eq!(modinfo_gaps(&modinfo(), "6.1.176"), Vec::<String>::new());
    }

    #[test]
    fn modinfo_gaps_found() {
        let text = modinfo()
            .replace(
                &format!("version:        {}\n", env!("CARGO_PKG_VERSION")),
                "",
            )
            .replace(
                "alias:          net-pf-16-proto-16-family-nlchan\n",
                "alias:          net-pf-16-proto-30\n",
            )
            .replace(
                "own_device:Register an \"nlchan\" platform device (default: no) (bool)",
                "own_device: (bool)",
            );
        let gaps = modinfo_gaps(&text, "6.12.95");
        assert_eq!(gaps.len(), 5, "{gaps:?}");
        assert!(gaps[0].contains("version"));
        assert!(gaps[1].contains("own_device"));
        assert!(gaps[2].contains("vermagic"));
        assert!(gaps[3].contains("alias net-pf-16-proto-16-family-nlchan"));
        assert!(gaps[4].contains("no alias net-pf-16-proto-30"));
    }

    #[test]
    fn modinfo_version_is_the_workspace_one() {
        let text = modinfo().replace(
            &format!("version:        {}\n", env!("CARGO_PKG_VERSION")),
            "version:        0.0.0-other\n",
        );
        let gaps = modinfo_gaps(&text, "6.1.176");
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(gaps[0].contains("not the workspace's"), "{gaps:?}");
    }

    #[test]
    fn finds_unexported_symbols() {
        let dir = std::env::temp_dir().join(format!("nlchan-matrix-{}", std::process::id()));
        fs::create_dir_all(dir.join("net")).unwrap();
        fs::write(
            dir.join("net/a.c"),
            "EXPORT_SYMBOL(netlink_ack);\nEXPORT_SYMBOL_NS_GPL(foo, BAR);\n// netlink_rcv_skb\n\
             STANDARD_PARAM_DEF(uint,\tunsigned int, \"%u\", kstrtouint);\n",
        )
        .unwrap();
        let syms: BTreeSet<String> = [
            "netlink_ack",
            "foo",
            "netlink_rcv_skb",
            "param_ops_uint",
            "param_ops_ulong",
        ]
        .map(String::from)
        .into();
        let missing: Vec<String> = unexported(&dir, &syms).unwrap().into_iter().collect();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(missing, ["netlink_rcv_skb", "param_ops_ulong"]);
    }
}
