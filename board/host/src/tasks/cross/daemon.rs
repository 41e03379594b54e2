// SPDX-License-Identifier: MIT OR Apache-2.0
//! The Docker daemon cross uses: Debian's client, one daemon that answers
//! already or `dockerd` started (and stopped) here, and the small Docker
//! queries the other steps make.

use super::FIX;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(super) fn is_root() -> bool {
    sh::output(&mut cmd("id", ["-u"])).is_ok_and(|u| u.trim() == "0")
}

/// The Docker client: Debian's (the same release as its daemon) first.
pub(super) fn engine() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/docker");
    if debian.is_file() {
        debian
    } else {
        sh::which("docker").unwrap_or_else(|| "docker".into())
    }
}

/// A Docker command that uses the classic builder (its `--network host`
/// needs no BuildKit entitlement; the BuildKit of Debian's 20.10 is not
/// always there).
pub(super) fn docker<I, S>(engine: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut c = Command::new(engine);
    c.args(args).env("DOCKER_BUILDKIT", "0");
    c
}

pub(super) fn quiet_ok(c: &mut Command) -> bool {
    c.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn daemon_answers(engine: &Path) -> bool {
    quiet_ok(&mut docker(
        engine,
        ["version", "--format", "{{.Server.Version}}"],
    ))
}

pub(super) fn image_exists(engine: &Path, image: &str) -> bool {
    quiet_ok(&mut docker(engine, ["image", "inspect", image]))
}

/// The Docker daemon for this run: one that answers already, or `dockerd`
/// started here (and stopped when this is dropped).
pub(super) struct Daemon {
    child: Option<Child>,
}

impl Daemon {
    pub(super) fn ensure(engine: &Path, dir: &Path) -> Result<Daemon> {
        if daemon_answers(engine) {
            eprintln!("    a Docker daemon answers already: using it (and leaving it running)");
            return Ok(Daemon { child: None });
        }
        if std::env::var_os("DOCKER_HOST").is_some() {
            bail!("no Docker daemon answers at DOCKER_HOST; start it, or unset DOCKER_HOST");
        }
        if !is_root() {
            bail!("no Docker daemon answers and starting dockerd needs root: {FIX}");
        }
        let dockerd = sh::which("dockerd")
            .with_context(|| format!("no dockerd (Debian package docker.io): {FIX}"))?;
        let log = dir.join("dockerd.log");
        let child = spawn_dockerd(&dockerd, &log)?;
        Daemon { child: Some(child) }.wait_ready(engine, &log)
    }

    /// Waits up to 60 s for the `dockerd` started here to answer.
    fn wait_ready(mut self, engine: &Path, log: &Path) -> Result<Daemon> {
        let pid = self.pid();
        let start = Instant::now();
        loop {
            if daemon_answers(engine) {
                eprintln!(
                    "    started dockerd (PID {pid}, --bridge=none, log {}), ready after {}",
                    log.display(),
                    sh::dur(start.elapsed())
                );
                return Ok(self);
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                // Another process may have started a daemon meanwhile.
                if daemon_answers(engine) {
                    eprintln!("    another Docker daemon came up: using it");
                    return Ok(self);
                }
                let text = fs::read_to_string(log).unwrap_or_default();
                bail!(
                    "dockerd exited ({status}); last lines of {}:\n{}",
                    log.display(),
                    crate::run::sh::tail(&text, 20)
                );
            }
            if start.elapsed() > Duration::from_secs(60) {
                bail!(
                    "dockerd (PID {pid}) did not answer within 60 s; see {}",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }
}

/// Starts `dockerd` with host networking only, its output into `log`.
fn spawn_dockerd(dockerd: &Path, log: &Path) -> Result<Child> {
    let out = File::create(log)?;
    // Host networking only: no bridge, no NAT, no iptables rules. The
    // containers' processes inherit the niceness.
    cmd(
        "nice",
        [
            "-n".as_ref(),
            "10".as_ref(),
            dockerd.as_os_str(),
            "--bridge=none".as_ref(),
            "--iptables=false".as_ref(),
            "--ip-masq=false".as_ref(),
        ],
    )
    .stdin(Stdio::null())
    .stdout(out.try_clone()?)
    .stderr(out)
    .spawn()
    .with_context(|| format!("cannot start {}", dockerd.display()))
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.pid();
        let Some(child) = self.child.as_mut() else {
            return;
        };
        // The shell's kill: procps' is not always installed.
        let _ = cmd("sh", ["-c", "kill -TERM \"$1\"", "sh", &pid.to_string()]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = child.try_wait() {
                eprintln!("    stopped dockerd (PID {pid})");
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!("    dockerd (PID {pid}) ignored SIGTERM for 30 s: killing it");
        let _ = child.kill();
        let _ = child.wait();
    }
}
