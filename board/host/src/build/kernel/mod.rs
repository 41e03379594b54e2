// SPDX-License-Identifier: MIT OR Apache-2.0
//! The board's kernel: one of Debian's kernel sources ([`source`]; bookworm's
//! `linux-source-6.1` unless another is asked for), `tinyconfig` plus the
//! board's config fragment (and a variant's extra fragment, such as the debug
//! kernel's), cross-built once and cached under a key made of the source
//! version, the fragments and this recipe.

pub mod source;

use crate::run::project::{Project, CROSS_COMPILE};
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use source::Source;
use std::fs;
use std::path::{Path, PathBuf};

/// Bump when the build recipe below changes, to rebuild cached kernels.
const RECIPE: &str = "1";

/// A board the project can emulate.
pub struct Board {
    /// Folder under `board/` and name of the build.
    pub name: &'static str,
    /// QEMU machine.
    pub machine: &'static str,
    /// The upstream device tree, built from the kernel source.
    pub dtb: &'static str,
}

/// The emulated Orange Pi PC (Allwinner H3, Cortex-A7).
pub const ORANGEPI_PC: Board = Board {
    name: "orangepi-pc",
    machine: "orangepi-pc",
    dtb: "sun8i-h3-orangepi-pc.dtb",
};

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
    /// The bootable image.
    pub zimage: PathBuf,
    /// The board's upstream device tree blob.
    pub dtb: PathBuf,
}

fn make(build: &Path) -> std::process::Command {
    let mut c = cmd("make", ["-s"]);
    c.arg(format!("O={}", build.display()))
        .arg("ARCH=arm")
        .arg(format!("CROSS_COMPILE={CROSS_COMPILE}"));
    c
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
    let pkg = from.pkg;
    let dir = p.root.join("board").join(board.name);
    let mut fragments = vec![dir.join("kernel.config")];
    fragments.extend(variant.fragment.map(|f| dir.join(f)));
    let mut texts = Vec::new();
    for f in &fragments {
        texts.push(fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?);
    }
    let mut parts: Vec<&[u8]> = vec![version.as_bytes()];
    parts.extend(texts.iter().map(|t| t.as_bytes()));
    parts.push(RECIPE.as_bytes());
    let key = fnv(&parts);
    let name = build_name(board, variant, from);
    let build = p.cache.join(format!("kernel/{name}-{key:016x}"));
    let stamp = build.join(".nlchan-built");
    let dtb_target = dtb_target(&src, board);
    let dtb = build.join("arch/arm/boot/dts").join(&dtb_target);
    if !stamp.exists() {
        eprintln!("    building {pkg} {version} for {name} (a few minutes, cached afterwards)");
        let _ = fs::remove_dir_all(&build);
        fs::create_dir_all(&build)?;
        configure(&src, &build, &fragments, &texts)?;
        let jobs = format!(
            "-j{}",
            std::thread::available_parallelism().map_or(2, |n| n.get() + 1)
        );
        sh::logged(
            "kernel build",
            make(&build)
                .current_dir(&src)
                .args([jobs.as_str(), "zImage", "modules", &dtb_target]),
            &build.join("build.log"),
        )?;
        fs::write(&stamp, key.to_string())?;
    } else {
        eprintln!("    cached: {}", build.display());
    }
    let release = fs::read_to_string(build.join("include/config/kernel.release"))?
        .trim()
        .to_string();
    Ok(Kernel {
        zimage: build.join("arch/arm/boot/zImage"),
        dtb,
        build,
        release,
    })
}

/// The make target of the board's device tree: its file name, under the
/// vendor's folder from 6.5 on (`allwinner/sun8i-h3-orangepi-pc.dtb`).
fn dtb_target(src: &Path, board: &Board) -> String {
    let vendor = "allwinner";
    if src.join("arch/arm/boot/dts").join(vendor).is_dir() {
        format!("{vendor}/{}", board.dtb)
    } else {
        board.dtb.to_string()
    }
}

/// The build's folder name: the board, the kernel unless bookworm's, the
/// variant unless the normal one (`orangepi-pc-6.12-debug`).
fn build_name(board: &Board, variant: &Variant, from: &Source) -> String {
    let mut name = board.name.to_string();
    if from != source::BOOKWORM {
        name = format!("{name}-{}", from.version);
    }
    if !variant.name.is_empty() {
        name = format!("{name}-{}", variant.name);
    }
    name
}

fn configure(src: &Path, build: &Path, fragments: &[PathBuf], texts: &[String]) -> Result<()> {
    sh::logged(
        "tinyconfig",
        make(build).current_dir(src).arg("tinyconfig"),
        &build.join("config.log"),
    )?;
    let config = build.join(".config");
    sh::logged(
        "merge_config",
        cmd("scripts/kconfig/merge_config.sh", ["-m", "-O"])
            .current_dir(src)
            .arg(build)
            .arg(&config)
            .args(fragments),
        &build.join("merge.log"),
    )?;
    sh::logged(
        "olddefconfig",
        make(build).current_dir(src).arg("olddefconfig"),
        &build.join("config.log"),
    )?;
    let merged = fs::read_to_string(&config)?;
    for (fragment, text) in fragments.iter().zip(texts) {
        let missing: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("CONFIG_"))
            .filter(|l| !merged.lines().any(|m| m == *l))
            .collect();
        if !missing.is_empty() {
            bail!(
                "{} asks for options the kernel did not take (a dependency is missing):\n  {}",
                fragment.display(),
                missing.join("\n  ")
            );
        }
    }
    Ok(())
}
