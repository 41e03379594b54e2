// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board smoke`: the smoke job on the emulated board (the image
//! built first) or on a real board's serial console.

use crate::build::image;
use crate::build::kernel::source::{Source, BOOKWORM};
use crate::device::checks::{run_smoke, smoke_emulated_to};
use crate::device::console::Console;
use crate::device::shell;
use crate::run::project::Project;
use crate::run::sh;
use anyhow::Result;
use std::path::Path;
use std::time::Duration;

/// Builds the image around the kernel of Debian's source `from`, boots
/// the emulated board and runs the smoke job. A kernel other than
/// bookworm's gets outputs of its own (`target/board/linux-<version>`).
pub fn emulated(p: &Project, from: &Source, verbose: bool, junit: Option<&Path>) -> Result<bool> {
    let kp;
    let p = if from == BOOKWORM {
        p
    } else {
        kp = p.variant(&format!("linux-{}", from.version))?;
        &kp
    };
    let b = image::build_on(p, from)?;
    smoke_emulated_to(p, &b, verbose, junit)
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
