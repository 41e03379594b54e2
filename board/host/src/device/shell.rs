// SPDX-License-Identifier: MIT OR Apache-2.0
//! The board's shell over a console (the emulated board's serial port or a
//! real board's): wait for the prompt, log in, run a command and get what
//! it printed and its exit status. Every suite (smoke, stress, bench,
//! packaging) talks to the board through this.

use crate::device::console::Console;
use anyhow::{bail, Result};
use std::time::Duration;

/// Marker the shell prints once it is ready (computed, so that the echo of
/// the typed command does not match it).
const READY: &str = "NLCHAN_READY_42";
const PROBE: &str = "echo NLCHAN_READY_$((40+2))";

/// Waits for a shell on the console, probing every two seconds.
pub fn wait_for_shell(c: &mut Console, timeout: Duration) -> Result<()> {
    c.send_line(PROBE)?;
    let mut next_probe = Duration::from_secs(2);
    c.wait_for(READY, timeout, |c, waited| {
        if waited >= next_probe {
            next_probe = waited + Duration::from_secs(2);
            eprintln!("      ... waiting for the shell ({}s)", waited.as_secs());
            c.send_line(PROBE)?;
        }
        Ok(())
    })?;
    // Swallow what the remaining probes may still print.
    c.send_line("echo NLCHAN_SYNC_$((1+1))")?;
    c.wait_for("NLCHAN_SYNC_2", Duration::from_secs(30), |_, _| Ok(()))?;
    Ok(())
}

/// Runs `command` in the board's shell and returns what it printed and its
/// exit status.
pub fn run(c: &mut Console, command: &str, timeout: Duration) -> Result<(String, i32)> {
    c.send_line(&format!("{command}; echo NLCHAN_EXIT=$?"))?;
    // The echo of the typed line ends with "$?"; the real one with digits.
    let mut text = String::new();
    loop {
        let chunk = c.wait_for("NLCHAN_EXIT=", timeout, |_, _| Ok(()))?;
        text.push_str(&chunk);
        let rest = c.wait_for("\n", Duration::from_secs(10), |_, _| Ok(()))?;
        let code = rest.trim();
        if let Ok(code) = code.parse::<i32>() {
            let text = text.trim_end_matches("NLCHAN_EXIT=").to_string();
            // Drop the echoed command line.
            let body = match text.find('\n') {
                Some(i) => text[i + 1..].to_string(),
                None => String::new(),
            };
            return Ok((body, code));
        }
        text.push_str(&rest);
    }
}

/// Logs in on a board that shows a login prompt: waits for `login:`
/// (pressing Enter every two seconds), types `user`, then `password` when
/// asked for one.
pub fn login(c: &mut Console, user: &str, password: Option<&str>, timeout: Duration) -> Result<()> {
    c.send_line("")?;
    let mut next = Duration::from_secs(2);
    c.wait_for("login:", timeout, |c, waited| {
        if waited >= next {
            next = waited + Duration::from_secs(2);
            c.send_line("")?;
        }
        Ok(())
    })?;
    c.send_line(user)?;
    if let Some(pw) = password {
        c.wait_for("assword:", Duration::from_secs(30), |_, _| Ok(()))?;
        c.send_line(pw)?;
    }
    Ok(())
}

/// Runs `command` on the board and fails unless it exits 0; returns what
/// it printed.
pub fn must(c: &mut Console, command: &str, timeout: Duration) -> Result<String> {
    let (out, code) = run(c, command, timeout)?;
    if code != 0 {
        bail!("`{command}` exited {code} on the board:\n{out}");
    }
    Ok(out)
}

/// A shell command that waits `secs` seconds on the board. Not `sleep`:
/// the emulated board's kernel lacks CONFIG_COMPAT_32BIT_TIME, so glibc's
/// nanosleep() fails there with ENOSYS and busybox sleep returns at once;
/// `read -t` on a FIFO nobody writes waits with poll(). A fraction is
/// rounded up to whole seconds where the shell's `read -t` refuses it
/// (status 2: busybox without FEATURE_SH_READ_FRAC, which OpenWrt's
/// defaults and so the emulated image's busybox lack).
pub fn pause(secs: &str) -> String {
    let fifo = "/tmp/nlchan.pause";
    let mut c =
        format!("{{ [ -p {fifo} ] || mkfifo {fifo}; read -r -t {secs} _ <>{fifo} 2>/dev/null");
    if let Some((whole, _)) = secs.split_once('.') {
        let up = whole.parse::<u64>().unwrap_or(0) + 1;
        c.push_str(&format!("; [ $? -ne 2 ] || read -r -t {up} _ <>{fifo}"));
    }
    c.push_str("; }");
    c
}
