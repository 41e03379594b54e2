// SPDX-License-Identifier: MIT OR Apache-2.0
//! The images cross builds in: the debootstrap base image and the cross
//! image from `board/cross/Dockerfile`, tagged with a hash of its inputs.

use super::daemon::{docker, image_exists, is_root, quiet_ok};
use super::FIX;
use crate::build::kernel::fnv;
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The base image made with debootstrap.
const BASE_IMAGE: &str = "nlchan/bookworm-minbase:latest";
/// The cross image, tagged with the hash of its inputs.
const CROSS_IMAGE: &str = "nlchan/cross";
/// Where the build context (and the Dockerfile) lives in the checkout.
const CONTEXT: &str = "board/cross";

/// Debian bookworm (minbase) from the system's Debian mirror, imported as
/// [`BASE_IMAGE`]; kept while the image exists.
pub(super) fn base_image(engine: &Path, dir: &Path) -> Result<()> {
    if image_exists(engine, BASE_IMAGE) {
        eprintln!("    {BASE_IMAGE} exists");
        return Ok(());
    }
    if !is_root() {
        bail!("debootstrap needs root: {FIX}");
    }
    let mirror = std::env::var("NLCHAN_DEBIAN_MIRROR")
        .unwrap_or_else(|_| "http://deb.debian.org/debian".into());
    let root = dir.join("bookworm-rootfs");
    remove_rootfs(&root)?;
    eprintln!("    debootstrap from {mirror}");
    sh::logged(
        "debootstrap",
        &mut cmd(
            "nice",
            [
                "-n".as_ref(),
                "10".as_ref(),
                "debootstrap".as_ref(),
                "--variant=minbase".as_ref(),
                "bookworm".as_ref(),
                root.as_os_str(),
                mirror.as_ref(),
            ],
        ),
        &dir.join("debootstrap.log"),
    )?;
    import_rootfs(engine, &root)?;
    remove_rootfs(&root)?;
    eprintln!("    imported as {BASE_IMAGE}");
    Ok(())
}

/// `tar -C root -c . | docker import - BASE_IMAGE`.
fn import_rootfs(engine: &Path, root: &Path) -> Result<()> {
    let mut tar = cmd(
        "tar",
        [
            "--numeric-owner".as_ref(),
            "-C".as_ref(),
            root.as_os_str(),
            "-c".as_ref(),
            ".".as_ref(),
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .context("cannot run tar")?;
    let stdin = tar.stdout.take().expect("piped");
    let import = docker(engine, ["import", "-", BASE_IMAGE])
        .stdin(stdin)
        .stdout(Stdio::null())
        .status();
    let tar_status = tar.wait()?;
    match import {
        Ok(s) if s.success() && tar_status.success() => {}
        Ok(s) => bail!(
            "`tar -C {} -c . | docker import - {BASE_IMAGE}` failed (tar {tar_status}, import {s})",
            root.display()
        ),
        Err(e) => bail!("cannot run {} import: {e}", engine.display()),
    }
    Ok(())
}

/// Removes a debootstrap tree, unless something is still mounted in it.
fn remove_rootfs(root: &Path) -> Result<()> {
    if !root.exists() {
        return Ok(());
    }
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let prefix = format!("{}/", root.display());
    if let Some(m) = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .find(|m| m.starts_with(&prefix))
    {
        bail!(
            "{m} is still mounted: unmount it, then remove {}",
            root.display()
        );
    }
    fs::remove_dir_all(root).with_context(|| format!("cannot remove {}", root.display()))
}

/// The host's Debian Rust (rustc-web) version, which the image installs too.
pub(super) fn debian_rust_version() -> Result<String> {
    let v = sh::output(&mut cmd("dpkg-query", ["-W", "-f=${Version}", "rustc-web"]))
        .with_context(|| format!("Debian's rustc-web is not installed: {FIX}"))?;
    if v.trim().is_empty() {
        bail!("Debian's rustc-web is not installed: {FIX}");
    }
    Ok(v.trim().to_string())
}

/// The `--build-arg`s of the cross image, for `docker build` and (through
/// `CROSS_BUILD_OPTS`) for cross's own build of it.
pub(super) fn build_args(rust: &str) -> [String; 4] {
    [
        "--build-arg".into(),
        format!("BASE_IMAGE={BASE_IMAGE}"),
        "--build-arg".into(),
        format!("RUST_VERSION={rust}"),
    ]
}

/// Builds the cross image unless the one for these inputs exists; returns
/// its tag.
pub(super) fn cross_image(p: &Project, engine: &Path, dir: &Path, rust: &str) -> Result<String> {
    let context = p.root.join(CONTEXT);
    let tag = image_tag(engine, &context, rust)?;
    if image_exists(engine, &tag) {
        eprintln!("    {tag} exists");
        return Ok(tag);
    }
    let mut build = cmd("nice", ["-n", "10"]);
    build
        .arg(engine)
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "--network", "host"])
        .args(build_args(rust))
        .args(["--tag", &tag])
        .arg(&context);
    sh::logged("docker build", &mut build, &dir.join("docker-build.log"))?;
    // Older tags of the image are outdated now.
    let tags = sh::output(&mut docker(
        engine,
        [
            "image",
            "ls",
            CROSS_IMAGE,
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ],
    ))?;
    for old in tags.lines().filter(|t| *t != tag) {
        let _ = quiet_ok(&mut docker(engine, ["image", "rm", old]));
    }
    eprintln!("    built {tag} (Debian's Rust {rust})");
    Ok(tag)
}

/// The cross image's tag: [`CROSS_IMAGE`] and a hash of the base image's
/// ID, Debian's Rust version and the build context's files.
fn image_tag(engine: &Path, context: &Path, rust: &str) -> Result<String> {
    let base = sh::output(&mut docker(
        engine,
        ["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE],
    ))?;
    let mut files: Vec<PathBuf> = fs::read_dir(context)
        .with_context(|| format!("cannot read {}", context.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut parts: Vec<Vec<u8>> = vec![base.trim().into(), rust.into()];
    for f in &files {
        parts.push(
            f.file_name()
                .unwrap_or_default()
                .as_encoded_bytes()
                .to_vec(),
        );
        parts.push(fs::read(f).with_context(|| format!("cannot read {}", f.display()))?);
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Ok(format!("{CROSS_IMAGE}:{:016x}", fnv(&refs)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::elf::TARGETS;

    /// Every target the command builds has its section in Cross.toml, on
    /// the repository's Dockerfile, and the musl ones build their std.
    #[test]
    fn cross_toml_covers_the_targets() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let toml = fs::read_to_string(root.join("Cross.toml")).unwrap();
        assert!(root.join(CONTEXT).join("Dockerfile").is_file());
        let dockerfile =
            format!("dockerfile = {{ file = \"{CONTEXT}/Dockerfile\", context = \"{CONTEXT}\" }}");
        for t in &TARGETS {
            let head = format!("[target.{}]", t.triple);
            let start = toml.find(&head).unwrap_or_else(|| panic!("no {head}"));
            let body = &toml[start + head.len()..];
            let body = &body[..body.find("\n[").unwrap_or(body.len())];
            assert!(body.contains(&dockerfile), "{head}: {body}");
            let build_std = body.contains("CARGO_UNSTABLE_BUILD_STD=std panic_abort")
                && body.contains("RUSTC_BOOTSTRAP=1");
            assert_eq!(build_std, t.triple.contains("musl"), "{head}: {body}");
        }
    }
}
