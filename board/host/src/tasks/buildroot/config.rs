// SPDX-License-Identifier: MIT OR Apache-2.0
//! The offline defconfig: the project's minus what the offline build
//! replaces, plus its settings, configured into a fresh output folder and
//! checked to come out whole.

use super::make::buildroot_make;
use super::toolchain::{GCC, GCC_VERSION};
use super::DEFCONFIG;
use crate::build::kernel::{self, Kernel};
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::Path;

/// Defconfig options the offline build replaces or drops (a trailing `*`:
/// every option with that prefix).
const REPLACED: &[&str] = &[
    "BR2_TOOLCHAIN_BUILDROOT*",
    "BR2_PACKAGE_HOST_LINUX_HEADERS_CUSTOM*",
    "BR2_GLOBAL_PATCH_DIR",
    "BR2_LINUX_KERNEL_DEFCONFIG",
    "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES",
    "BR2_TARGET_ROOTFS_EXT2*",
    "BR2_TARGET_UBOOT*",
    "BR2_PACKAGE_HOST_GENIMAGE",
    "BR2_ROOTFS_POST_IMAGE_SCRIPT",
    "BR2_SYSTEM_DHCP",
];

/// Whether [`REPLACED`] names `option`.
fn replaced(option: &str) -> bool {
    REPLACED.iter().any(|r| match r.strip_suffix('*') {
        Some(prefix) => option.starts_with(prefix),
        None => option == *r,
    })
}

/// The project's defconfig minus what [`REPLACED`] names, plus the offline
/// settings; `make defconfig` with it, then a check that every option
/// asked for is in the resulting `.config`.
pub(super) fn configure(
    p: &Project,
    tree: &Path,
    work: &Path,
    tc: &Path,
    k: &Kernel,
) -> Result<()> {
    let base = fs::read_to_string(p.root.join(DEFCONFIG))?;
    let offline = offline_options(work, tc, k);
    let text = offline_defconfig(&base, &offline);
    let defconfig = work.join("nlchan_offline_defconfig");
    fs::write(&defconfig, &text)?;
    // The project's defconfig itself must also come out whole.
    let check = work.join("defconfig-check");
    defconfig_into(p, tree, &check, &p.root.join(DEFCONFIG), work)?;
    lost_in(&check, &base, DEFCONFIG)?;
    let _ = fs::remove_dir_all(&check);
    let out = work.join("output");
    fresh_output(
        p,
        &out,
        &text,
        &fs::read_to_string(work.join("nlchan-offline.mk"))?,
    )?;
    defconfig_into(p, tree, &out, &defconfig, work)?;
    lost_in(&out, &text, &defconfig.display().to_string())?;
    // Nothing may be left to download.
    let deps = sh::output(buildroot_make(&out).args(["-s", "external-deps"]))?;
    let missing: Vec<&str> = deps.lines().filter(|l| !l.starts_with("file://")).collect();
    if !missing.is_empty() {
        bail!(
            "this Buildroot would download:\n  {}\nadd those packages to SHIMS in board/host/src/tasks/buildroot/shims.rs \
             (or their sources to the override file)",
            missing.join("\n  ")
        );
    }
    eprintln!("    {}", defconfig.display());
    Ok(())
}

/// The settings of the offline build: the relocated external toolchain
/// `tc`, nothing to download, the override file, the board's kernel
/// configuration from `k`, a cpio root filesystem and the on-target tests.
fn offline_options(work: &Path, tc: &Path, k: &Kernel) -> [String; 20] {
    let q = |p: &Path| format!("\"{}\"", p.display());
    [
        "BR2_TOOLCHAIN_EXTERNAL=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_CUSTOM=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_PREINSTALLED=y".into(),
        format!("BR2_TOOLCHAIN_EXTERNAL_PATH={}", q(tc)),
        format!("BR2_TOOLCHAIN_EXTERNAL_CUSTOM_PREFIX=\"{GCC}\""),
        format!("BR2_TOOLCHAIN_EXTERNAL_GCC_{GCC_VERSION}=y"),
        "BR2_TOOLCHAIN_EXTERNAL_HEADERS_6_1=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_HAS_SSP=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_OPENMP=y".into(),
        "# BR2_TOOLCHAIN_EXTERNAL_INET_RPC is not set".into(),
        "# BR2_TOOLCHAIN_EXTERNAL_CXX is not set".into(),
        format!("BR2_DL_DIR={}", q(&work.join("dl"))),
        "BR2_PRIMARY_SITE=\"file:///nlchan-offline-nothing-to-download\"".into(),
        "BR2_PRIMARY_SITE_ONLY=y".into(),
        format!(
            "BR2_PACKAGE_OVERRIDE_FILE={}",
            q(&work.join("nlchan-offline.mk"))
        ),
        "BR2_LINUX_KERNEL_USE_CUSTOM_CONFIG=y".into(),
        format!(
            "BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE={}",
            q(&k.build.join(".config"))
        ),
        "BR2_TARGET_ROOTFS_CPIO=y".into(),
        "BR2_PACKAGE_NLCHAN_TESTS=y".into(),
    ]
}

/// `make defconfig` of `defconfig` into the output folder `out`.
fn defconfig_into(
    p: &Project,
    tree: &Path,
    out: &Path,
    defconfig: &Path,
    work: &Path,
) -> Result<()> {
    fs::create_dir_all(out)?;
    let mut c = cmd("make", ["-C"]);
    c.arg(tree)
        .arg(format!("O={}", out.display()))
        .arg(format!(
            "BR2_EXTERNAL={}",
            p.root.join("buildroot").display()
        ))
        .arg(format!("BR2_DEFCONFIG={}", defconfig.display()))
        .arg("defconfig");
    sh::logged("make defconfig", &mut c, &work.join("defconfig.log"))?;
    Ok(())
}

/// Fails unless `out/.config` has every option line of `asked` verbatim.
fn lost_in(out: &Path, asked: &str, name: &str) -> Result<()> {
    let config = fs::read_to_string(out.join(".config"))?;
    let lost = lost_options(asked, &config);
    if !lost.is_empty() {
        bail!(
            "Buildroot dropped or changed these options of {name} (a dependency is off in this Buildroot version):\n  {}",
            lost.join("\n  ")
        );
    }
    Ok(())
}

/// Buildroot rebuilds nothing when the toolchain, an override source or
/// the configuration changes under it: the output folder is removed when
/// any of them differs from the last build's (`out/.nlchan-inputs`).
fn fresh_output(p: &Project, out: &Path, defconfig: &str, overrides: &str) -> Result<()> {
    let (_, linux) = kernel::source(p)?;
    let busybox = fs::read_to_string(p.cache.join("busybox-src/.complete")).unwrap_or_default();
    let inputs = format!("{defconfig}\n{overrides}\nlinux-source {linux}\nbusybox {busybox}\n");
    let stamp = out.join(".nlchan-inputs");
    match fs::read_to_string(&stamp) {
        Ok(old) if old == inputs => return Ok(()),
        Ok(_) => eprintln!("    inputs changed since the last build: a full rebuild"),
        Err(_) => {}
    }
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| {
            format!(
                "cannot remove {} (is a build still running there?)",
                out.display()
            )
        })?;
    }
    fs::create_dir_all(out)?;
    fs::write(&stamp, inputs)?;
    Ok(())
}

/// The project's defconfig `base` without the options [`REPLACED`] names,
/// followed by `offline`.
fn offline_defconfig(base: &str, offline: &[String]) -> String {
    let mut out = String::new();
    let kept = base
        .lines()
        .filter(|l| !option_name(l).is_some_and(replaced));
    for l in kept.chain(offline.iter().map(String::as_str)) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The option a defconfig line sets (`BR2_X=...` or `# BR2_X is not set`).
fn option_name(line: &str) -> Option<&str> {
    let l = line.strip_prefix("# ").unwrap_or(line);
    let name = l.split(['=', ' ']).next()?;
    name.starts_with("BR2_").then_some(name)
}

/// The option lines of `asked` that `config` (the resulting `.config`)
/// does not have verbatim.
fn lost_options<'a>(asked: &'a str, config: &str) -> Vec<&'a str> {
    asked
        .lines()
        .filter(|l| option_name(l).is_some())
        .filter(|l| !config.lines().any(|c| c == *l))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_defconfig_replaces_whole_option_names_only() {
        let base = "BR2_arm=y\nBR2_TARGET_UBOOT=y\nBR2_TARGET_UBOOT_FORMAT_CUSTOM=y\n\
                    BR2_SYSTEM_DHCP=\"eth0\"\nBR2_SYSTEM_DHCP_X=y\n\
                    # BR2_TARGET_ROOTFS_EXT2 is not set\nBR2_PACKAGE_NLCHAN=y\n";
        let out = offline_defconfig(base, &["BR2_TARGET_ROOTFS_CPIO=y".into()]);
        assert_eq!(
            out,
            "BR2_arm=y\nBR2_SYSTEM_DHCP_X=y\nBR2_PACKAGE_NLCHAN=y\nBR2_TARGET_ROOTFS_CPIO=y\n"
        );
    }

    #[test]
    fn an_option_kconfig_dropped_or_changed_is_reported() {
        let asked = "BR2_A=y\n# BR2_B is not set\nBR2_C=\"x\"\n# a comment\n";
        let config = "BR2_A=y\nBR2_B=y\nBR2_C=\"x\"\n";
        assert_eq!(lost_options(asked, config), vec!["# BR2_B is not set"]);
        assert!(lost_options(asked, "BR2_A=y\n# BR2_B is not set\nBR2_C=\"x\"\n").is_empty());
    }
}
