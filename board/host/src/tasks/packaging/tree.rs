// SPDX-License-Identifier: MIT OR Apache-2.0
//! The file-tree model of what a front end installs: trees read from disk,
//! compared, merged, mapped back from each framework's layout, and the
//! emulated image's trees every front end must match.

use crate::run::project::Project;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// One installed file: permission bits and content (a symlink's target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) mode: u32,
    pub(super) data: Vec<u8>,
}

/// Installed files by path relative to the root, without a leading `/`.
pub(super) type Tree = BTreeMap<String, Entry>;

/// Where `install-tests` puts the on-target test tools (Buildroot's
/// BR2_PACKAGE_NLCHAN_TESTS, OpenWrt's nlchan-tests).
pub(super) const TESTS_DIR: &str = "usr/lib/nlchan/tests/";

/// Reads every file and symlink below `root`.
pub(super) fn read_tree(root: &Path) -> Result<Tree> {
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
pub(super) fn emulated_only(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(path, "init" | "bin/busybox" | "bin/sh")
        || (parts.len() >= 4 && parts[..2] == ["lib", "modules"] && parts[3] == "kernel")
        || is_depmod_output(path)
}

/// depmod's files and kbuild's build/source links in /lib/modules/<release>.
pub(super) fn is_depmod_output(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == 4
        && parts[..2] == ["lib", "modules"]
        && (parts[3].starts_with("modules.") || parts[3] == "build" || parts[3] == "source")
}

/// Differences between two trees, one line each (empty when equal).
pub(super) fn diff(want: &Tree, got: &Tree) -> Vec<String> {
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
pub(super) fn merge(packages: &[(String, Tree)]) -> Result<Tree> {
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
pub(super) fn from_openwrt(mut t: Tree) -> Result<Tree> {
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
pub(super) fn from_buildroot(t: Tree) -> Result<Tree> {
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
pub(super) fn reference(p: &Project) -> Result<Tree> {
    let mut t = read_tree(&p.out.join("rootfs"))?;
    t.retain(|path, _| !emulated_only(path));
    Ok(t)
}

/// The same, for a procd image: /etc/init.d/nlchan instead of S50nlchan.
pub(super) fn procd_reference(p: &Project, sysv: &Tree) -> Result<Tree> {
    let mut t = sysv.clone();
    if t.remove("etc/init.d/S50nlchan").is_none() {
        bail!("the emulated image has no etc/init.d/S50nlchan (INIT=sysv)");
    }
    let data = fs::read(p.root.join("board/rootfs/init.d/nlchan.init"))?;
    t.insert("etc/init.d/nlchan".into(), Entry { mode: 0o755, data });
    Ok(t)
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
    fn a_file_in_two_packages_is_an_error() {
        let a: Tree = [("usr/bin/x".into(), e(0o755, "1"))].into();
        assert!(merge(&[("p".into(), a.clone()), ("q".into(), Tree::new())]).is_ok());
        assert!(merge(&[("p".into(), a.clone()), ("q".into(), a)]).is_err());
    }
}
