// SPDX-License-Identifier: MIT OR Apache-2.0
//! `matrix --kernel-tree DIR --boot`: a kernel tree a board team has (a
//! Tina SDK's `lichee/linux-4.9`), built out of tree into the cache for a
//! machine QEMU can run, booted with the module built against it and the
//! emulated board's image, and the smoke job run on it (smoke test,
//! coexistence suite, smoke test on unit 30, the stress suite's cases
//! every kernel runs).
//!
//! The machine: the emulated Orange Pi PC when the tree has mainline
//! Allwinner H3 support (its device tree, clock driver and a mainline
//! `mach-sunxi`), QEMU `virt` otherwise when the tree has `ARCH_VIRT`
//! (vendor trees: their `mach-sunxi` needs the vendor's boot loader
//! and does not build for QEMU's H3); the reason is printed.

use crate::build::image;
use crate::build::kernel::{self, Board, Tree};
use crate::device::checks::{smoke_emulated_to, Then};
use crate::run::project::{Project, CROSS_COMPILE};
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::Path;

/// Builds, boots and checks the tree `dir`; returns whether every case
/// passed.
/// `fragment` (`--kernel-config`) is merged last into its configuration.
pub(super) fn boot_tree(
    p: &Project,
    n: usize,
    dir: &Path,
    fragment: Option<&Path>,
    verbose: bool,
) -> Result<bool> {
    let version = tree_version(dir)?;
    eprintln!("    {}: Linux {version}", dir.display());
    if dir.join(".config").exists() {
        bail!(
            "{} has an in-tree build (.config): --boot builds out of tree into the cache, \
             which kbuild refuses then; give a clean checkout (or run `make mrproper` in it)",
            dir.display()
        );
    }
    let (board, why) = machine_for(dir)?;
    eprintln!("    machine: QEMU {} ({why})", board.machine);
    let name = dir
        .file_name()
        .map_or("tree".into(), |s| s.to_string_lossy().into_owned());
    let mut tree = Tree {
        src: dir,
        what: format!("{} (Linux {version})", dir.display()),
        label: format!("tree{n}-{name}"),
        make_vars: make_vars(&version)?,
        fragment,
        files: Vec::new(),
    };
    if let Some(lds) = panic_hooks(dir, board) {
        tree.make_vars.push(format!("KBUILD_LDS={PANIC_HOOKS_LDS}"));
        tree.files.push((PANIC_HOOKS_LDS.to_string(), lds));
    }
    if let Some(f) = fragment {
        eprintln!(
            "    configuration: board/{}/kernel.config, then {}",
            board.name,
            f.display()
        );
    }
    if !tree.make_vars.is_empty() {
        eprintln!("    make {}", tree.make_vars.join(" "));
    }
    let k = sh::step(&format!("kernel ({name}, {})", board.name), || {
        kernel::build_tree(p, board, &kernel::NORMAL, &tree)
    })?;
    let vp = p.variant(&format!("tree{n}-{name}"))?;
    let b = image::build_around(&vp, board, k)?;
    smoke_emulated_to(&vp, &b, verbose, None, Then::EveryKernelStress)
}

/// `VERSION.PATCHLEVEL.SUBLEVEL` from the tree's Makefile.
fn tree_version(dir: &Path) -> Result<String> {
    let makefile = dir.join("Makefile");
    let text = fs::read_to_string(&makefile)
        .with_context(|| format!("{} is not a kernel tree (no Makefile)", dir.display()))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .trim()
                    .strip_prefix('=')
                    .map(str::trim)
            })
            .filter(|v| v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty())
    };
    match (field("VERSION"), field("PATCHLEVEL"), field("SUBLEVEL")) {
        (Some(v), Some(p), Some(s)) => Ok(format!("{v}.{p}.{s}")),
        _ => bail!("{} has no VERSION/PATCHLEVEL/SUBLEVEL", makefile.display()),
    }
}

/// (major, minor) of `a.b.c`.
fn major_minor(version: &str) -> (u32, u32) {
    let mut it = version.split('.').map(|n| n.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// The machine to boot the tree on, and why.
fn machine_for(dir: &Path) -> Result<(&'static Board, String)> {
    let has = |f: &str| dir.join(f).exists();
    let h3_dts = has("arch/arm/boot/dts/sun8i-h3-orangepi-pc.dts")
        || has("arch/arm/boot/dts/allwinner/sun8i-h3-orangepi-pc.dts");
    let h3_clocks = has("drivers/clk/sunxi-ng/ccu-sun8i-h3.c");
    let vendor_mach = vendor_mach_sunxi(dir);
    if h3_dts && h3_clocks && vendor_mach.is_none() {
        return Ok((
            &kernel::ORANGEPI_PC,
            "the tree has mainline H3 support: sun8i-h3-orangepi-pc.dts, ccu-sun8i-h3.c".into(),
        ));
    }
    let lacks = match (h3_dts, h3_clocks, vendor_mach) {
        (_, _, Some(why)) => why,
        (false, _, None) => "no sun8i-h3-orangepi-pc.dts".into(),
        _ => "no drivers/clk/sunxi-ng/ccu-sun8i-h3.c".into(),
    };
    let kconfig = fs::read_to_string(dir.join("arch/arm/Kconfig")).unwrap_or_default();
    if kconfig.lines().any(|l| l.trim() == "config ARCH_VIRT") {
        return Ok((
            &kernel::QEMU_VIRT,
            format!("not the emulated H3: {lacks}; the tree has ARCH_VIRT"),
        ));
    }
    bail!(
        "{} cannot be booted here: not on QEMU's H3 ({lacks}) and no ARCH_VIRT in arch/arm/Kconfig",
        dir.display()
    )
}

/// Why the tree's `arch/arm/mach-sunxi` is the vendor's (it needs the
/// vendor's boot loader's UART and SoC name), or `None` for mainline's.
fn vendor_mach_sunxi(dir: &Path) -> Option<String> {
    let mach = dir.join("arch/arm/mach-sunxi");
    let entries = fs::read_dir(&mach).ok()?;
    for e in entries.flatten() {
        let text = fs::read_to_string(e.path()).unwrap_or_default();
        for marker in ["SUNXI_UART_PBASE", "CONFIG_SUNXI_SOC_NAME"] {
            if text.contains(marker) {
                return Some(format!(
                    "vendor arch/arm/mach-sunxi ({} uses {marker})",
                    e.file_name().to_string_lossy()
                ));
            }
        }
    }
    None
}

/// Make variables an older tree needs with Debian's compilers: its `dtc`
/// defines `yylloc` twice, which gcc 10+ refuses without `-fcommon`
/// (before 5.7); its arch/arm/Makefile probes `-march=armv7-a` with the
/// compiler as given, which a hard-float gcc fails (before 5.10; see
/// [`super::trees::soft_float_cc`]); gcc 12 breaks trees before 5.4 where
/// Debian's gcc 11 does not (`arm-linux-gnueabihf-gcc-11`, package
/// gcc-11-arm-linux-gnueabihf).
fn make_vars(version: &str) -> Result<Vec<String>> {
    let v = major_minor(version);
    let mut vars = Vec::new();
    if v < (5, 7) {
        vars.push("HOSTCFLAGS=-fcommon".to_string());
    }
    let gcc = if v < (5, 4) {
        let gcc11 = format!("{CROSS_COMPILE}gcc-11");
        if sh::output(&mut cmd(&gcc11, ["--version"])).is_err() {
            bail!(
                "Linux {version} needs gcc 11: {gcc11} is missing (run `sudo board/bootstrap.sh`, \
                 which installs gcc-11-arm-linux-gnueabihf)"
            );
        }
        gcc11
    } else {
        format!("{CROSS_COMPILE}gcc")
    };
    if v < (5, 10) {
        vars.push(format!("CC={gcc} -mfloat-abi=soft"));
    }
    Ok(vars)
}

/// The functions of the vendor's `drivers/soc/sunxi` that the vendor's
/// `kernel/panic.c` calls (Tina 4.9).
const SUNXI_PANIC_HOOKS: [&str; 2] = ["sunxi_dump_group_dump", "arisc_set_crashdump_mode"];

/// The linker script that defines them, in the build folder.
const PANIC_HOOKS_LDS: &str = "nlchan-panic-hooks.lds";

/// For a vendor tree whose `kernel/panic.c` calls [`SUNXI_PANIC_HOOKS`]
/// though `drivers/soc/sunxi` is built only for `ARCH_SUNXI`, which a
/// kernel for QEMU `virt` cannot have (Tina 4.9: vmlinux does not link),
/// a linker script for vmlinux (kbuild's `KBUILD_LDS`, which the
/// decompressor does not use) that gives them the address 0 and then
/// includes the kernel's own `vmlinux.lds`. panic() calls them only when
/// the vendor's `sunxi_dump` is set, which is 0 without
/// `CONFIG_SUNXI_DUMP` (left out here); the tree is not changed. `None`
/// for any other tree or machine.
fn panic_hooks(dir: &Path, board: &Board) -> Option<String> {
    let panic = fs::read_to_string(dir.join("kernel/panic.c")).unwrap_or_default();
    let soc = fs::read_to_string(dir.join("drivers/soc/Makefile")).unwrap_or_default();
    let only_for_sunxi = soc.lines().any(|l| {
        let l: String = l.split_whitespace().collect();
        l == "obj-$(CONFIG_ARCH_SUNXI)+=sunxi/"
    });
    let calls = SUNXI_PANIC_HOOKS
        .iter()
        .all(|f| panic.contains(&format!("{f}();")));
    if board.machine != kernel::QEMU_VIRT.machine || !only_for_sunxi || !calls {
        return None;
    }
    eprintln!(
        "    kernel/panic.c calls {} of drivers/soc/sunxi (built only for ARCH_SUNXI): \
         linked as address 0 ({PANIC_HOOKS_LDS}), called only when sunxi_dump is set \
         (CONFIG_SUNXI_DUMP, off)",
        SUNXI_PANIC_HOOKS.join(", ")
    );
    let mut lds = String::from(
        "/* nlchan: the vendor's panic hooks, never called without CONFIG_SUNXI_DUMP */\n",
    );
    for f in SUNXI_PANIC_HOOKS {
        lds.push_str(&format!("{f} = 0;\n"));
    }
    lds.push_str("INCLUDE arch/arm/kernel/vmlinux.lds\n");
    Some(lds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_trees_get_the_compiler_settings_they_need() {
        assert_eq!(make_vars("6.1.0").unwrap(), Vec::<String>::new());
        let v = make_vars("5.4.61").unwrap();
        assert_eq!(
            v,
            vec![
                "HOSTCFLAGS=-fcommon".to_string(),
                format!("CC={CROSS_COMPILE}gcc -mfloat-abi=soft")
            ]
        );
        assert_eq!(major_minor("4.9.118"), (4, 9));
    }
}
