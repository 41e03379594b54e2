// SPDX-License-Identifier: MIT OR Apache-2.0
//! Running host commands: argv (never a shell string), a clear error that
//! names the command, and long steps logged to a file with a progress line.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Builds a command from a program and arguments.
pub fn cmd<I, S>(program: &str, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut c = Command::new(program);
    c.args(args);
    c
}

fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn spawn_error(c: &Command, e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot run `{}`: {e} (is it installed? run board/bootstrap.sh)",
        describe(c)
    )
}

/// Runs a command with inherited output; fails unless it exits 0.
pub fn run(c: &mut Command) -> Result<()> {
    let status = c.status().map_err(|e| spawn_error(c, e))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(c));
    }
    Ok(())
}

/// Runs a command and returns its stdout; fails unless it exits 0.
pub fn output(c: &mut Command) -> Result<String> {
    let out = c
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| spawn_error(c, e))?;
    if !out.status.success() {
        bail!("`{}` failed ({})", describe(c), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a long command with its output (stdout and stderr) going to `log`,
/// printing a progress line every 30 s; on failure, shows the log's tail.
/// Returns the log's content.
pub fn logged(what: &str, c: &mut Command, log: &Path) -> Result<String> {
    let f = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    logged_to(what, c, log, f)
}

/// The same as [`logged`], appending to `log`: the steps of one build in
/// one log. Returns the whole log's content.
pub fn logged_append(what: &str, c: &mut Command, log: &Path) -> Result<String> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    logged_to(what, c, log, f)
}

fn logged_to(what: &str, c: &mut Command, log: &Path, f: File) -> Result<String> {
    c.stdout(f.try_clone()?).stderr(f);
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let ticker = {
        let done = done.clone();
        let what = what.to_string();
        thread::spawn(move || {
            let mut next = 30;
            while !done.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(250));
                if start.elapsed().as_secs() >= next {
                    eprintln!("      ... {what}: {}s", start.elapsed().as_secs());
                    next += 30;
                }
            }
        })
    };
    let status = c.status().map_err(|e| spawn_error(c, e));
    done.store(true, Ordering::Relaxed);
    let _ = ticker.join();
    let status = status?;
    let text = std::fs::read_to_string(log).unwrap_or_default();
    if !status.success() {
        bail!(
            "{what} failed ({status}); last lines of {}:\n{}",
            log.display(),
            tail(&text, 30)
        );
    }
    Ok(text)
}

/// Formats a duration as `1m05s` / `3.2s`.
pub fn dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{s:.1}s")
    }
}

/// Runs one named step, printing its start and how long it took.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    eprintln!("==> {name}");
    let start = Instant::now();
    let r = f().with_context(|| format!("step '{name}' failed"))?;
    eprintln!("    {name}: done in {}", dur(start.elapsed()));
    Ok(r)
}

/// A program's path: `name` looked up in PATH (and the sbin folders, for
/// dockerd when not run as root).
pub fn which(name: &str) -> Option<PathBuf> {
    if name.starts_with('/') {
        return Path::new(name).is_file().then(|| name.into());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// One `what` at a time on the lock file `path`: cross processes share the
/// daemon, the images and the target folder; Buildroot builds an output
/// folder. A second one waits, and says so.
pub fn lock(path: &Path, what: &str) -> Result<nix::fcntl::Flock<std::fs::File>> {
    use nix::fcntl::{Flock, FlockArg};
    let f =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
        Ok(l) => Ok(l),
        Err((f, _)) => {
            eprintln!("    waiting for another `{what}` ({})", path.display());
            Flock::lock(f, FlockArg::LockExclusive)
                .map_err(|(_, e)| anyhow::anyhow!("cannot lock {}: {e}", path.display()))
        }
    }
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
