// SPDX-License-Identifier: MIT OR Apache-2.0
//! The board's kernel: one of Debian's kernel sources ([`source`]; bookworm's
//! `linux-source-6.1` unless another is asked for), `tinyconfig` plus the
//! board's config fragment (and a variant's extra fragment, such as the debug
//! kernel's), cross-built once and cached under a key made of the source
//! version, the fragments and this recipe.

pub mod source;

use crate::build::arch::{Arch, AARCH64, ARMV7};
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use source::Source;
use std::fs;
use std::path::{Path, PathBuf};

/// Bump when the build recipe below changes, to rebuild cached kernels.
const RECIPE: &str = "1";

/// A board the project can emulate.
pub struct Board {
    /// Folder under `board/` (its `kernel.config`) and name of the build.
    pub name: &'static str,
    /// QEMU machine.
    pub machine: &'static str,
    /// More QEMU options of the machine (CPU, cores), the same for the
    /// device tree QEMU dumps and for the boot.
    pub qemu_args: &'static [&'static str],
    /// The upstream device tree, built from the kernel source; `None`:
    /// the machine's own, as QEMU generates it (`-machine dumpdtb`).
    pub dtb: Option<&'static str>,
    /// The kernel's name of the serial console.
    pub console: &'static str,
    /// Its architecture: what builds and boots it.
    pub arch: &'static Arch,
    /// The board whose folder holds the image's busybox fragments (every
    /// board runs the Orange Pi PC's user space, built for its own arch).
    pub userspace: &'static str,
}

/// The emulated Orange Pi PC (Allwinner H3, Cortex-A7).
pub const ORANGEPI_PC: Board = Board {
    name: "orangepi-pc",
    machine: "orangepi-pc",
    qemu_args: &[],
    dtb: Some("sun8i-h3-orangepi-pc.dtb"),
    console: "ttyS0",
    arch: &ARMV7,
    userspace: "orangepi-pc",
};

/// QEMU's `virt` machine with two Cortex-A7 cores and a PL011 UART: for
/// kernel trees whose own platform code QEMU cannot run (board/qemu-virt).
pub const QEMU_VIRT: Board = Board {
    name: "qemu-virt",
    machine: "virt",
    qemu_args: &["-cpu", "cortex-a7", "-smp", "2"],
    dtb: None,
    console: "ttyAMA0",
    arch: &ARMV7,
    userspace: "orangepi-pc",
};

/// QEMU's `virt` machine with two Cortex-A53 cores and a PL011 UART: the
/// aarch64 board (board/qemu-virt-arm64), an arm64 kernel from Debian's
/// source and the aarch64 musl user space.
pub const QEMU_VIRT_ARM64: Board = Board {
    name: "qemu-virt-arm64",
    machine: "virt",
    qemu_args: &["-cpu", "cortex-a53", "-smp", "2"],
    dtb: None,
    console: "ttyAMA0",
    arch: &AARCH64,
    userspace: "orangepi-pc",
};

/// The boards `smoke --board NAME` can boot.
pub const BOARDS: [&Board; 2] = [&ORANGEPI_PC, &QEMU_VIRT_ARM64];

/// The board named `name` (one of [`BOARDS`]).
pub fn board_by_name(name: &str) -> Result<&'static Board> {
    BOARDS
        .iter()
        .copied()
        .find(|b| b.name == name)
        .with_context(|| {
            let known: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
            format!("no board {name:?}: the boards are {}", known.join(", "))
        })
}

/// A kernel configuration of a board: its `kernel.config`, plus for a
/// variant one more fragment merged after it.
pub struct Variant {
    /// Name in the build folder (empty for the board's normal kernel).
    pub name: &'static str,
    /// Extra fragment in the board's folder, merged after `kernel.config`.
    pub fragment: Option<&'static str>,
}

/// The board's normal kernel: `kernel.config` only.
pub const NORMAL: Variant = Variant {
    name: "",
    fragment: None,
};

/// The debug kernel the stress suite runs on: KASAN, UBSAN, kmemleak,
/// lockdep, atomic-sleep and object debugging (`kernel-debug.config`).
pub const DEBUG: Variant = Variant {
    name: "debug",
    fragment: Some("kernel-debug.config"),
};

/// A built kernel.
pub struct Kernel {
    /// Kbuild output folder (`O=`): the `KDIR` for out-of-tree modules.
    pub build: PathBuf,
    /// `uname -r` of the kernel.
    pub release: String,
    /// The bootable image (`zImage`, arm64's `Image`).
    pub image: PathBuf,
    /// The board's device tree blob (upstream, or the machine's own).
    pub dtb: PathBuf,
    /// More make variables the kernel was built with (`CC=`), for the
    /// modules built against it.
    pub make_vars: Vec<String>,
    /// Its architecture (the board's), for the modules built against it.
    pub arch: &'static Arch,
}

/// How a tree's kbuild is called for one build folder.
struct Kbuild<'a> {
    tree: &'a Tree<'a>,
    build: &'a Path,
    arch: &'a Arch,
}

impl Kbuild<'_> {
    fn make(&self) -> std::process::Command {
        let mut c = cmd("make", ["-s"]);
        c.current_dir(self.tree.src)
            .arg(format!("O={}", self.build.display()))
            .arg(self.arch.make_arch())
            .arg(self.arch.make_cross())
            .args(&self.tree.make_vars);
        c
    }
}

/// 64-bit FNV-1a, enough to key a cache on a few inputs.
pub fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.iter().chain(b"\0") {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        }
    }
    h
}

/// Bookworm's kernel source (the board's), unpacked into the cache.
pub fn source(p: &Project) -> Result<(PathBuf, String)> {
    source::unpack(p, source::BOOKWORM)
}

/// Builds (or reuses) bookworm's kernel for `board` in configuration `variant`.
pub fn build_variant(p: &Project, board: &Board, variant: &Variant) -> Result<Kernel> {
    build(p, board, variant, source::BOOKWORM)
}

/// Builds (or reuses) the kernel of Debian's source `from` for `board` in
/// configuration `variant`.
pub fn build(p: &Project, board: &Board, variant: &Variant, from: &Source) -> Result<Kernel> {
    let (src, version) = source::unpack(p, from)?;
    let tree = Tree {
        src: &src,
        what: format!("{} {version}", from.pkg),
        label: if from == source::BOOKWORM {
            String::new()
        } else {
            from.version.to_string()
        },
        make_vars: Vec::new(),
        fragment: None,
        files: Vec::new(),
    };
    build_tree(p, board, variant, &tree)
}

/// A kernel source to build and how to call its kbuild.
pub struct Tree<'a> {
    /// The source (never written: builds go to the cache, `O=`).
    pub src: &'a Path,
    /// What it is, for messages and the cache key: package or tree and
    /// its version.
    pub what: String,
    /// In the build folder's name (empty: none, the board's own kernel).
    pub label: String,
    /// More make variables (`CC=`, `HOSTCFLAGS=`), also in the cache key.
    pub make_vars: Vec<String>,
    /// A fragment of the user's, merged last (`matrix --boot
    /// --kernel-config`).
    pub fragment: Option<&'a Path>,
    /// Files written into the build folder before the build (name,
    /// contents), also in the cache key: what a make variable points to.
    pub files: Vec<(String, String)>,
}

/// Builds (or reuses) the kernel of `tree` for `board` in configuration
/// `variant`, into a cache folder keyed on the tree, the fragments, the
/// make variables and this recipe.
pub fn build_tree(p: &Project, board: &Board, variant: &Variant, tree: &Tree) -> Result<Kernel> {
    let dir = p.root.join("board").join(board.name);
    let mut fragments = vec![dir.join("kernel.config")];
    fragments.extend(variant.fragment.map(|f| dir.join(f)));
    fragments.extend(tree.fragment.map(Path::to_path_buf));
    let mut texts = Vec::new();
    for f in &fragments {
        texts.push(fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?);
    }
    let name = build_name(board, variant, &tree.label);
    let key = cache_key(tree, &texts);
    let build = p.cache.join(format!("kernel/{name}-{key:016x}"));
    let stamp = build.join(".nlchan-built");
    let dtb_target = board.dtb.map(|d| dtb_target(tree.src, d));
    if stamp.exists() {
        eprintln!("    cached: {}", build.display());
    } else {
        eprintln!(
            "    building {} for {name} (a few minutes, cached afterwards)",
            tree.what
        );
        let kbuild = Kbuild {
            tree,
            build: &build,
            arch: board.arch,
        };
        make_kernel(&kbuild, &fragments, &texts, &dtb_target)?;
        fs::write(&stamp, key.to_string())?;
    }
    let release = fs::read_to_string(build.join("include/config/kernel.release"))?
        .trim()
        .to_string();
    let dtb = match &dtb_target {
        Some(t) => build.join(format!("arch/{}/boot/dts/{t}", board.arch.kernel_arch)),
        None => dump_dtb(board, &build)?,
    };
    Ok(Kernel {
        image: build.join(board.arch.image_path()),
        dtb,
        build,
        release,
        make_vars: tree.make_vars.clone(),
        arch: board.arch,
    })
}

/// The cache key of a kernel build: the tree, the fragments' `texts`, the
/// make variables, the files written into the build folder, this recipe.
fn cache_key(tree: &Tree, texts: &[String]) -> u64 {
    let mut parts: Vec<&[u8]> = vec![tree.what.as_bytes()];
    parts.extend(texts.iter().map(|t| t.as_bytes()));
    parts.extend(tree.make_vars.iter().map(|v| v.as_bytes()));
    for (name, text) in &tree.files {
        parts.extend([name.as_bytes(), text.as_bytes()]);
    }
    parts.push(RECIPE.as_bytes());
    fnv(&parts)
}

/// Configures and builds the kernel into a fresh `k.build`: the tree's
/// files, the `fragments` (read as `texts`), then the image, the modules
/// and the device tree `dtb_target` if any.
fn make_kernel(
    k: &Kbuild,
    fragments: &[PathBuf],
    texts: &[String],
    dtb_target: &Option<String>,
) -> Result<()> {
    let _ = fs::remove_dir_all(k.build);
    fs::create_dir_all(k.build)?;
    for (name, text) in &k.tree.files {
        fs::write(k.build.join(name), text)?;
    }
    configure(k, fragments, texts)?;
    let jobs = format!(
        "-j{}",
        std::thread::available_parallelism().map_or(2, |n| n.get() + 1)
    );
    let mut c = k.make();
    c.args([jobs.as_str(), k.arch.kernel_image, "modules"]);
    c.args(dtb_target);
    sh::logged("kernel build", &mut c, &k.build.join("build.log"))?;
    Ok(())
}

/// QEMU's arguments for the board's machine: `-M`, its options, memory.
pub fn qemu_machine(board: &Board) -> Vec<&'static str> {
    let mut v = vec!["-M", board.machine];
    v.extend(board.qemu_args);
    v.extend(["-m", "1G"]);
    v
}

/// The device tree QEMU generates for a machine that has no upstream one
/// (`virt`), dumped once into the kernel's build folder.
fn dump_dtb(board: &Board, build: &Path) -> Result<PathBuf> {
    let dtb = build.join(format!("{}.dtb", board.name));
    if dtb.exists() {
        return Ok(dtb);
    }
    let mut c = cmd(board.arch.qemu_system, qemu_machine(board));
    c.args(["-display", "none", "-nic", "none", "-machine"])
        .arg(format!("dumpdtb={}", dtb.display()));
    sh::logged("qemu dumpdtb", &mut c, &build.join("dumpdtb.log"))?;
    Ok(dtb)
}

/// The make target of the board's device tree: its file name, under the
/// vendor's folder from 6.5 on (`allwinner/sun8i-h3-orangepi-pc.dtb`).
fn dtb_target(src: &Path, dtb: &str) -> String {
    let vendor = "allwinner";
    if src.join("arch/arm/boot/dts").join(vendor).is_dir() {
        format!("{vendor}/{dtb}")
    } else {
        dtb.to_string()
    }
}

/// The build's folder name: the board, the kernel unless bookworm's, the
/// variant unless the normal one (`orangepi-pc-6.12-debug`).
fn build_name(board: &Board, variant: &Variant, label: &str) -> String {
    let mut name = board.name.to_string();
    if !label.is_empty() {
        name = format!("{name}-{label}");
    }
    if !variant.name.is_empty() {
        name = format!("{name}-{}", variant.name);
    }
    name
}

fn configure(k: &Kbuild, fragments: &[PathBuf], texts: &[String]) -> Result<()> {
    let log = k.build.join("config.log");
    sh::logged("tinyconfig", k.make().arg("tinyconfig"), &log)?;
    let config = k.build.join(".config");
    sh::logged(
        "merge_config",
        cmd("scripts/kconfig/merge_config.sh", ["-m", "-O"])
            .current_dir(k.tree.src)
            .arg(k.build)
            .arg(&config)
            .args(fragments),
        &k.build.join("merge.log"),
    )?;
    sh::logged("olddefconfig", k.make().arg("olddefconfig"), &log)?;
    let merged = fs::read_to_string(&config)?;
    let mut known = None;
    for (fragment, text) in fragments.iter().zip(texts) {
        let missing: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("CONFIG_"))
            .filter(|l| !merged.lines().any(|m| m == *l))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let known = match &mut known {
            Some(k) => k,
            None => known.insert(kconfig_symbols(k.tree.src)?),
        };
        let (refused, unknown): (Vec<&str>, Vec<&str>) = missing
            .into_iter()
            .partition(|l| known.contains(option_name(l)));
        if !unknown.is_empty() {
            eprintln!(
                "    {}: not options of {}, left out: {}",
                fragment.display(),
                k.tree.what,
                unknown
                    .iter()
                    .map(|l| option_name(l))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        if !refused.is_empty() {
            bail!(
                "{} asks for options the kernel did not take (a dependency is missing):\n  {}",
                fragment.display(),
                refused.join("\n  ")
            );
        }
    }
    Ok(())
}

/// `NAME` of a fragment line `CONFIG_NAME=value`.
fn option_name(line: &str) -> &str {
    let name = line.split('=').next().unwrap_or(line);
    name.strip_prefix("CONFIG_").unwrap_or(name)
}

/// Every symbol the tree's Kconfig files define (`config NAME`,
/// `menuconfig NAME`).
fn kconfig_symbols(src: &Path) -> Result<std::collections::HashSet<String>> {
    let mut symbols = std::collections::HashSet::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in fs::read_dir(&dir)? {
            let e = e?;
            let path = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            if e.file_type()?.is_dir() {
                if !name.starts_with('.') {
                    dirs.push(path);
                }
            } else if name.starts_with("Kconfig") {
                let text = fs::read_to_string(&path).unwrap_or_default();
                for l in text.lines() {
                    let mut w = l.split_whitespace();
                    if let (Some("config" | "menuconfig"), Some(s)) = (w.next(), w.next()) {
                        symbols.insert(s.to_string());
                    }
                }
            }
        }
    }
    Ok(symbols)
}
