// SPDX-License-Identifier: MIT OR Apache-2.0
//! Kernel trees given with `--kernel-tree DIR`: each one's architecture,
//! cross compiler and config checked, prepared in the tree if need be,
//! then checked like the Debian ones.

use super::module::{check_module, Exports};
use super::table::Row;
use super::toolchain::Toolchain;
use crate::run::project::{Project, CROSS_COMPILE};
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The kernel trees of `cargo board matrix --kernel-tree DIR ...`.
#[derive(Default)]
pub struct Trees {
    /// Configured kernel trees (`make O=` build folders work too).
    pub dirs: Vec<PathBuf>,
    /// `--arch`; by default the tree's `.config` tells (arm, arm64).
    pub arch: Option<String>,
    /// `--cross-compile`; by default Debian's cross gcc for the arch.
    pub cross_compile: Option<String>,
    /// `--boot`: build each tree for QEMU and boot it instead
    /// ([`super::boot`]).
    pub boot: bool,
    /// `--kernel-config`: a fragment merged last into each booted tree's
    /// configuration.
    pub fragment: Option<PathBuf>,
}

/// The row of the `n`th tree, `dir`.
pub(super) fn check_tree(
    p: &Project,
    trees: &Trees,
    n: usize,
    dir: &Path,
    row: &mut Row,
) -> Result<()> {
    let name = dir
        .file_name()
        .map_or("tree".into(), |s| s.to_string_lossy().into_owned());
    row.release = format!("? ({name})");
    if !dir.join("Makefile").is_file() {
        bail!("{} is not a kernel tree (no Makefile)", dir.display());
    }
    let config = fs::read_to_string(dir.join(".config")).ok();
    let tc = toolchain(trees, dir, config.as_deref())?;
    require_config(dir, &tc, config.as_deref())?;

    let scratch = p.out.join("matrix").join(format!("tree{n}-{name}"));
    fs::create_dir_all(&scratch)?;
    prepare_tree(dir, &tc, &scratch)?;
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

/// The tree's toolchain: `--arch` or its `.config`'s, `--cross-compile` or
/// Debian's cross gcc for that arch, and a soft-float `CC=` if need be.
fn toolchain(trees: &Trees, dir: &Path, config: Option<&str>) -> Result<Toolchain> {
    let arch = match (&trees.arch, config) {
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
    Ok(tc)
}

/// Fails unless the tree has a `.config` with module support and
/// networking, saying how to configure it.
fn require_config(dir: &Path, tc: &Toolchain, config: Option<&str>) -> Result<()> {
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
    Ok(())
}

/// Runs `modules_prepare` in the tree unless it is [`prepared`] already.
fn prepare_tree(dir: &Path, tc: &Toolchain, scratch: &Path) -> Result<()> {
    if prepared(dir) {
        eprintln!("    prepared already: {}", dir.display());
        return Ok(());
    }
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
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_from_config() {
        assert_eq!(config_arch("CONFIG_ARM=y\nCONFIG_NET=y\n"), Some("arm"));
        assert_eq!(
            config_arch("# CONFIG_ARM is not set\nCONFIG_ARM64=y\n"),
            Some("arm64")
        );
        assert_eq!(config_arch("CONFIG_ARMV7=y\n"), None);
    }
}
