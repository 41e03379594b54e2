// SPDX-License-Identifier: MIT OR Apache-2.0
//! cross kept away from the user's rustup: cross installed into the cache,
//! the environment of its own it runs in ([`CrossEnv`]), and the host's
//! toolchains as compared before and after.

use super::images::build_args;
use super::{CARGO, CROSS_VERSION, RUSTC};
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The host's CA bundle, mounted read-only into the containers: crates.io
/// is only reachable with it here.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The toolchain name cross derives from Debian's sysroot `/usr`.
const TOOLCHAIN: &str = "usr";

/// The user's rustup: in PATH, else where rustup-init puts it (sudo resets
/// PATH).
fn rustup() -> Option<PathBuf> {
    sh::which("rustup").or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
        Some(home.join("bin/rustup")).filter(|p| p.is_file())
    })
}

/// Installs cross into the cache (not ~/.cargo/bin); returns its path.
pub(super) fn install_cross(dir: &Path) -> Result<PathBuf> {
    let root = dir.join(format!("cross-{CROSS_VERSION}"));
    let bin = root.join("bin/cross");
    // Never run `cross --version` to check: cross checks toolchains first.
    let installed = fs::read_to_string(root.join(".crates.toml"))
        .is_ok_and(|t| t.contains(&format!("\"cross {CROSS_VERSION} ")));
    if installed && bin.is_file() {
        eprintln!("    {} exists", bin.display());
        return Ok(bin);
    }
    let mut c = cmd(
        "nice",
        [
            "-n".as_ref(),
            "10".as_ref(),
            CARGO.as_ref(),
            "install".as_ref(),
            "cross".as_ref(),
            "--locked".as_ref(),
            "--version".as_ref(),
            CROSS_VERSION.as_ref(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
    );
    c.env("CARGO_HOME", dir.join("cargo-home"))
        .env("RUSTC", RUSTC)
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO_TARGET_DIR");
    sh::logged(
        &format!("cargo install cross {CROSS_VERSION}"),
        &mut c,
        &dir.join("cargo-install.log"),
    )?;
    Ok(bin)
}

/// The whole environment cross runs in: nothing of the caller's but PATH's
/// system folders, HOME, the terminal, the locale, proxies and DOCKER_HOST.
pub(super) struct CrossEnv {
    vars: Vec<(String, String)>,
}

impl CrossEnv {
    pub(super) fn new(p: &Project, dir: &Path, engine: &Path, rust: &str) -> Result<CrossEnv> {
        let bin = dir.join("bin");
        fs::create_dir_all(&bin)?;
        let rustup_home = dir.join("rustup");
        let vars = own_vars(p, dir, engine, rust);
        if rust.contains([' ', '\'', '"']) {
            bail!("unexpected rustc-web version {rust:?}");
        }
        let env = CrossEnv { vars };
        env.rustup(&bin, &rustup_home)?;
        Ok(env)
    }

    /// A command that runs in this environment only.
    pub(super) fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear().envs(self.vars.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Gives cross a rustup of its own: the machine's rustup with a rustup
    /// home in the cache holding only `usr` (a link to Debian's /usr), or
    /// without rustup a stand-in that answers `rustup toolchain list`.
    fn rustup(&self, bin: &Path, home: &Path) -> Result<()> {
        let link = bin.join("rustup");
        if link.symlink_metadata().is_ok() {
            fs::remove_file(&link)?;
        }
        let Some(real) = rustup() else {
            return stand_in(&link);
        };
        std::os::unix::fs::symlink(&real, &link)?;
        fs::create_dir_all(home)?;
        let list = |env: &CrossEnv| {
            sh::output(env.command(&link).args(["toolchain", "list"])).map(|s| s.trim().to_string())
        };
        if list(self)? != TOOLCHAIN {
            sh::run(
                self.command(&link)
                    .args(["toolchain", "link", TOOLCHAIN, "/usr"])
                    .stdout(Stdio::null()),
            )?;
            sh::run(
                self.command(&link)
                    .args(["set", "auto-self-update", "disable"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            )?;
        }
        let got = list(self)?;
        if got != TOOLCHAIN {
            bail!(
                "the rustup home for cross ({}) should list `{TOOLCHAIN}` only, not {got:?}",
                home.display()
            );
        }
        eprintln!(
            "    rustup home {} with toolchain `{TOOLCHAIN}` -> /usr (Debian's rustc {})",
            home.display(),
            sh::output(&mut cmd(RUSTC, ["--version"]))?.trim()
        );
        Ok(())
    }
}

/// The variables of [`CrossEnv`]: its own PATH, rustup and cargo homes,
/// cross's settings, and the few of the caller's it keeps.
fn own_vars(p: &Project, dir: &Path, engine: &Path, rust: &str) -> Vec<(String, String)> {
    let bin = dir.join("bin");
    let rustup_home = dir.join("rustup");
    let mut vars: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            format!(
                "{}:/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin",
                bin.display()
            ),
        ),
        ("RUSTUP_HOME".into(), rustup_home.display().to_string()),
        ("RUSTUP_AUTO_INSTALL".into(), "0".into()),
        (
            "CARGO_HOME".into(),
            dir.join("cargo-home").display().to_string(),
        ),
        ("XARGO_HOME".into(), dir.join("xargo").display().to_string()),
        ("RUSTC".into(), RUSTC.into()),
        (
            "CARGO_TARGET_DIR".into(),
            p.root.join("target/cross").display().to_string(),
        ),
        (
            "CROSS_CONTAINER_ENGINE".into(),
            engine.display().to_string(),
        ),
        ("CROSS_CUSTOM_TOOLCHAIN".into(), "1".into()),
        ("DOCKER_BUILDKIT".into(), "0".into()),
        (
            "CROSS_BUILD_OPTS".into(),
            format!("--network host {}", build_args(rust).join(" ")),
        ),
        (
            "CROSS_CONTAINER_OPTS".into(),
            format!("--network host -v {CA_BUNDLE}:{CA_BUNDLE}:ro"),
        ),
    ];
    for k in [
        "HOME",
        "USER",
        "TERM",
        "LANG",
        "DOCKER_HOST",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
    ] {
        if let Ok(v) = std::env::var(k) {
            vars.push((k.into(), v));
        }
    }
    vars
}

/// The rustup stand-in for a machine without rustup: it answers
/// `rustup toolchain list` (and an empty component list) only.
fn stand_in(link: &Path) -> Result<()> {
    let mut f = File::create(link)?;
    writeln!(
        f,
        "#!/bin/sh\n\
         # rustup stand-in for cross {CROSS_VERSION} (board/host/src/tasks/cross/toolchain.rs): Debian's\n\
         # compiler is the only toolchain; anything else is refused.\n\
         case \"$*\" in\n\
         \"toolchain list\") echo {TOOLCHAIN} ;;\n\
         \"component list --toolchain {TOOLCHAIN}\") ;;\n\
         *) echo \"rustup stand-in: refusing 'rustup $*'\" >&2; exit 1 ;;\n\
         esac"
    )?;
    drop(f);
    sh::run(&mut cmd("chmod", ["755".as_ref(), link.as_os_str()]))?;
    eprintln!("    no rustup here: cross gets a stand-in that answers `toolchain list` only");
    Ok(())
}

/// `rustup toolchain list` as the user sees it, with each toolchain's
/// `rustc --version` and components (read from the toolchain's folder, not
/// through rustup's proxies); "no rustup" without rustup.
pub(super) fn host_toolchains() -> Result<String> {
    let Some(rustup) = rustup() else {
        return Ok("no rustup".into());
    };
    let list = sh::output(
        cmd(&rustup.display().to_string(), ["toolchain", "list", "-v"]).current_dir("/"),
    )?;
    let mut out = String::new();
    for line in list.lines() {
        let path = line.split_whitespace().last().unwrap_or("");
        let version = if path.starts_with('/') {
            let v = sh::output(&mut cmd(&format!("{path}/bin/rustc"), ["--version"]))
                .unwrap_or_else(|e| format!("({e})"));
            let components = fs::read_to_string(Path::new(path).join("lib/rustlib/components"))
                .unwrap_or_default();
            format!(
                "{} [{}]",
                v.trim(),
                components.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        } else {
            String::new()
        };
        out.push_str(&format!("{line}: {version}\n"));
    }
    Ok(out)
}
