// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board smoke`: the smoke job on the emulated board (the image
//! built first) or on a real board's serial console.

use crate::build::image::{self, Built};
use crate::build::kernel::source::{Source, BOOKWORM};
use crate::build::kernel::Board;
use crate::device::checks::{run_smoke, smoke_emulated_to, Then};
use crate::device::console::Console;
use crate::device::{qemu, shell};
use crate::run::project::Project;
use crate::run::sh;
use anyhow::{Context, Result};
use std::path::Path;
use std::time::Duration;

/// Builds the image around the kernel of Debian's source `from`, boots
/// the emulated board and runs the smoke job. A kernel other than
/// bookworm's gets outputs of its own (`target/board/linux-<version>`).
/// `then`: what runs after the smoke tests in the same boot.
pub fn emulated(
    p: &Project,
    from: &Source,
    verbose: bool,
    junit: Option<&Path>,
    then: Then,
) -> Result<bool> {
    let own = outputs_for(p, from)?;
    let p = own.as_ref().unwrap_or(p);
    let b = image::build_on(p, from)?;
    smoke_emulated_to(p, &b, verbose, junit, then)
}

/// Builds the image of another emulated `board` (QEMU `virt` with a
/// Cortex-A53: everything built for its architecture) around its kernel
/// from bookworm's source, in outputs of its own (`target/board/<board>`),
/// boots it and runs the smoke job; `then` as for [`emulated`].
pub fn emulated_board(
    p: &Project,
    board: &'static Board,
    verbose: bool,
    junit: Option<&Path>,
    then: Then,
) -> Result<bool> {
    let p = &p.variant(board.name)?;
    let b = image::build_for(p, board)?;
    smoke_emulated_to(p, &b, verbose, junit, then)
}

/// Builds the image around the kernel of `from` and runs [`through_pty`].
pub fn pty(p: &Project, from: &Source, verbose: bool) -> Result<bool> {
    let own = outputs_for(p, from)?;
    let p = own.as_ref().unwrap_or(p);
    let b = image::build_on(p, from)?;
    through_pty(p, &b, verbose)
}

/// The outputs of a kernel other than bookworm's: `target/board/linux-<version>`.
fn outputs_for(p: &Project, from: &Source) -> Result<Option<Project>> {
    if from == BOOKWORM {
        return Ok(None);
    }
    p.variant(&format!("linux-{}", from.version)).map(Some)
}

/// The smoke test on a real board's serial console `dev` at `baud`,
/// logging in first when `login` (`user` or `user:password`) is given.
pub fn serial(
    p: &Project,
    dev: &Path,
    baud: u32,
    login: Option<&str>,
    verbose: bool,
    junit: Option<&Path>,
) -> Result<bool> {
    let log = p.out.join("console.log");
    let mut console = Console::open_serial(dev, baud, &log, verbose)?;
    if let Some(login) = login {
        let (user, password) = match login.split_once(':') {
            Some((u, pw)) => (u, Some(pw)),
            None => (login, None),
        };
        sh::step(&format!("log in as {user}"), || {
            shell::login(&mut console, user, password, Duration::from_secs(120))
        })?;
    }
    sh::step("wait for the board's shell", || {
        shell::wait_for_shell(&mut console, Duration::from_secs(60))
    })?;
    run_smoke(&mut console, junit)
}

/// The smoke test through a pseudo-terminal: the emulated board's UART0
/// on QEMU's `-serial pty` with a login prompt, driven by this program's
/// own `smoke --serial /dev/pts/N --login root` in a child process, the
/// code path (open, termios, baud, login, KTAP among kernel messages) a
/// board team's USB adapter gets.
pub fn through_pty(p: &Project, b: &Built, verbose: bool) -> Result<bool> {
    let (_emu, dev) = sh::step("boot the emulated Orange Pi PC on a pty", || {
        qemu::boot_pty(b.board, &b.kernel, &b.dtb, &b.initramfs, &p.out)
    })?;
    eprintln!("    UART0 is {}", dev.display());
    let mut c = std::process::Command::new(std::env::current_exe()?);
    c.arg("smoke")
        .arg("--serial")
        .arg(&dev)
        .args(["--login", "root"]);
    if verbose {
        c.arg("--verbose");
    }
    eprintln!("    running: {c:?}");
    let status = c.status().context("cannot run this program again")?;
    Ok(status.success())
}
