// SPDX-License-Identifier: MIT OR Apache-2.0
//! Checks of a built `nlchan` binary, whoever built it (the image's build,
//! cross-rs): static, the right architecture (`file`), and `nlchan
//! --version` under qemu-user.

use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::Path;
use std::process::Stdio;

/// A target the app is cross-built for, and how its binary is checked.
pub struct Target {
    pub triple: &'static str,
    /// What `file` says about the architecture.
    pub arch: &'static str,
    /// The qemu-user emulator that runs it.
    pub qemu: &'static str,
}

pub const TARGETS: [Target; 3] = [
    Target {
        triple: "armv7-unknown-linux-gnueabihf",
        arch: "ARM, EABI5",
        qemu: "qemu-arm-static",
    },
    Target {
        triple: "armv7-unknown-linux-musleabihf",
        arch: "ARM, EABI5",
        qemu: "qemu-arm-static",
    },
    Target {
        triple: "aarch64-unknown-linux-musl",
        arch: "ARM aarch64",
        qemu: "qemu-aarch64-static",
    },
];

/// What [`inspect`] found; `errors` says what is wrong, if anything.
pub struct Found {
    pub size: u64,
    pub is_static: bool,
    pub arch: bool,
    pub version: Option<String>,
    pub errors: Vec<String>,
}

/// Checks a binary built for `triple` (one of [`TARGETS`]): static, the
/// right architecture, `nlchan --version` under qemu-user. Returns what was
/// found, e.g. "169096 bytes, static, ARM, EABI5, nlchan 0.1.0 (protocol 2)".
pub fn check_binary(bin: &Path, triple: &str) -> Result<String> {
    let t = TARGETS
        .iter()
        .find(|t| t.triple == triple)
        .with_context(|| format!("no binary check for {triple}"))?;
    let found = inspect(bin, t)?;
    if !found.errors.is_empty() {
        bail!("{}: {}", bin.display(), found.errors.join("; "));
    }
    Ok(format!(
        "{} bytes, static, {}, {}",
        found.size,
        t.arch,
        found.version.unwrap_or_default()
    ))
}

/// Inspects `bin` as built for `t`; an error only when it cannot be looked
/// at (no file, no emulator), what is wrong with it goes in `errors`.
pub fn inspect(bin: &Path, t: &Target) -> Result<Found> {
    let meta = fs::metadata(bin).with_context(|| format!("no binary at {}", bin.display()))?;
    let file = sh::output(cmd("file", ["-b".as_ref(), bin.as_os_str()]).stderr(Stdio::null()))?;
    let mut found = Found {
        size: meta.len(),
        is_static: file.contains("statically linked") || file.contains("static-pie linked"),
        arch: file.contains(t.arch),
        version: None,
        errors: Vec::new(),
    };
    if !found.is_static {
        found.errors.push(format!("not static: {}", file.trim()));
    }
    if !found.arch {
        found
            .errors
            .push(format!("not {}: {}", t.arch, file.trim()));
    }
    let out = cmd(
        "timeout",
        [
            "60".as_ref(),
            t.qemu.as_ref(),
            bin.as_os_str(),
            "--version".as_ref(),
        ],
    )
    .stderr(Stdio::piped())
    .output()
    .with_context(|| {
        format!(
            "cannot run {} (Debian package qemu-user-static): run `sudo ./board/bootstrap.sh`",
            t.qemu
        )
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.starts_with("nlchan ") {
        found.version = Some(stdout.lines().next().unwrap_or("").to_string());
    } else {
        found.errors.push(format!(
            "`{} {} --version` failed ({}): {}{}",
            t.qemu,
            bin.display(),
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(found)
}
