// SPDX-License-Identifier: MIT OR Apache-2.0
//! Debian's kernel sources: `linux-source-6.1` installed from bookworm,
//! `linux-source-5.10` (bullseye) and `linux-source-6.12`
//! (bookworm-backports) downloaded as packages into the cache by
//! board/bootstrap.sh; each unpacked into the cache once per version.

use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// One of Debian's kernel source packages.
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    /// Short version, as tables and build folders name it.
    pub version: &'static str,
    /// Debian's source package.
    pub pkg: &'static str,
}

/// The kernels the project boots and checks, oldest first.
pub const DEBIAN: [Source; 3] = [
    Source {
        version: "5.10",
        pkg: "linux-source-5.10",
    },
    Source {
        version: "6.1",
        pkg: "linux-source-6.1",
    },
    Source {
        version: "6.12",
        pkg: "linux-source-6.12",
    },
];

/// The board's kernel: bookworm's own, installed as a Debian package.
pub const BOOKWORM: &Source = &DEBIAN[1];

/// The Debian kernel of short version `v` ("5.10", "6.1", "6.12").
pub fn by_version(v: &str) -> Result<&'static Source> {
    DEBIAN.iter().find(|s| s.version == v).with_context(|| {
        let known: Vec<&str> = DEBIAN.iter().map(|s| s.version).collect();
        format!(
            "no Debian kernel {v:?}: the kernels are {}",
            known.join(", ")
        )
    })
}

/// Unpacks `s` into the cache (once per version); returns the source
/// folder and the package's version.
pub fn unpack(p: &Project, s: &Source) -> Result<(PathBuf, String)> {
    if s == BOOKWORM {
        installed(p, s.pkg)
    } else {
        downloaded(p, s.pkg)
    }
}

/// The installed package's tarball (/usr/src/<pkg>.tar.xz), unpacked.
fn installed(p: &Project, pkg: &str) -> Result<(PathBuf, String)> {
    let version = sh::output(&mut cmd("dpkg-query", ["-W", "-f=${Version}", pkg]))
        .with_context(|| format!("{pkg} is not installed: run `sudo board/bootstrap.sh`"))?;
    let tarball = PathBuf::from(format!("/usr/src/{pkg}.tar.xz"));
    cached(p, pkg, &version, |top| {
        sh::run(cmd("tar", ["-C"]).arg(top).arg("-xf").arg(&tarball))
    })
}

/// The newest downloaded `.deb` of `pkg`, its tarball unpacked.
fn downloaded(p: &Project, pkg: &str) -> Result<(PathBuf, String)> {
    let deb = find_deb(p, pkg)?;
    let version = sh::output(cmd("dpkg-deb", ["-f"]).arg(&deb).arg("Version"))?
        .trim()
        .to_string();
    cached(p, pkg, &version, |top| unpack_deb(&deb, pkg, top))
}

/// `<cache>/src/<pkg>`, made by `unpack` unless its stamp names `version`.
fn cached(
    p: &Project,
    pkg: &str,
    version: &str,
    unpack: impl FnOnce(&Path) -> Result<()>,
) -> Result<(PathBuf, String)> {
    let top = p.cache.join("src");
    let src = top.join(pkg);
    let stamp = top.join(format!("{pkg}.unpacked"));
    if fs::read_to_string(&stamp).ok().as_deref() == Some(version) {
        return Ok((src, version.to_string()));
    }
    eprintln!("    unpacking {pkg} {version}");
    let _ = fs::remove_dir_all(&src);
    fs::create_dir_all(&top)?;
    unpack(&top)?;
    if !src.join("Makefile").exists() {
        bail!("{pkg} {version} did not unpack into {}", src.display());
    }
    fs::write(&stamp, version)?;
    Ok((src, version.to_string()))
}

/// The newest downloaded `.deb` of `pkg` in the cache.
fn find_deb(p: &Project, pkg: &str) -> Result<PathBuf> {
    let debs = p.cache.join("kernel-debs");
    let prefix = format!("{pkg}_");
    fs::read_dir(&debs)
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
                "no {pkg} package in {}: run `sudo board/bootstrap.sh`, which downloads it",
                debs.display()
            )
        })
}

/// Unpacks the source tarball the package `deb` holds into `top`.
fn unpack_deb(deb: &Path, pkg: &str, top: &Path) -> Result<()> {
    // dpkg-deb --fsys-tarfile | tar -xO <tarball> | tar -xJ, without a shell.
    let mut deb_tar = cmd("dpkg-deb", ["--fsys-tarfile"])
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run dpkg-deb")?;
    let mut inner = cmd("tar", ["-xO"])
        .arg(format!("./usr/src/{pkg}.tar.xz"))
        .stdin(deb_tar.stdout.take().context("dpkg-deb's output")?)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run tar")?;
    let unpacked = cmd("tar", ["-xJ", "-C"])
        .arg(top)
        .stdin(inner.stdout.take().context("tar's output")?)
        .status()
        .context("cannot run tar")?;
    let (a, b) = (deb_tar.wait()?, inner.wait()?);
    if !(a.success() && b.success() && unpacked.success()) {
        bail!("unpacking {} failed", deb.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_name_their_package() {
        assert_eq!(by_version("5.10").unwrap().pkg, "linux-source-5.10");
        assert_eq!(by_version("6.1").unwrap(), BOOKWORM);
        let e = by_version("4.9").unwrap_err().to_string();
        assert!(e.contains("5.10, 6.1, 6.12"), "{e}");
    }
}
