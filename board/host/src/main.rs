// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board`: builds the nlchan board image, boots the emulated
//! Orange Pi PC (or opens a real board's serial console), runs the
//! on-target smoke test, and runs the project's whole test suite.
//!
//! Layers, each using only those above it in this list: `run` (commands,
//! steps, the checkout and its cache), `report` (KTAP, JUnit), `build`
//! (kernel, device tree, busybox, musl sysroot, initramfs, image, binary
//! checks, the checks' PyPI tools), `device` (QEMU, console, shell,
//! on-target checks), `tasks` (one module per command), and `cli` (the
//! typed command line).

mod build;
mod cli;
mod device;
mod report;
mod run;
mod tasks;

use build::{image, kernel};
use cli::{Cli, Command, USAGE};
use run::project::Project;
use run::sh;
use std::process::ExitCode;
use std::time::Instant;
use tasks::{
    bench, buildroot, cross, fuzz, matrix, packaging, sizes, smoke, stress, suite, vendor,
};

/// Runs the command; `Ok(passed)`, or an error for a set-up problem.
fn run(p: &Project, cli: &Cli) -> anyhow::Result<bool> {
    let verbose = cli.verbose;
    match &cli.command {
        Command::Build => image::build_all(p).map(|b| {
            eprintln!(
                "image: {} + {} + {}",
                b.kernel.image.display(),
                b.dtb.display(),
                b.initramfs.display()
            );
            eprintln!("app:   {}", b.app.display());
            true
        }),
        Command::Smoke { junit, board, .. } if board.name != build::kernel::ORANGEPI_PC.name => {
            smoke::emulated_board(
                p,
                board,
                verbose,
                junit.as_deref(),
                device::checks::Then::Done,
            )
        }
        Command::Smoke {
            serial,
            junit,
            kernel,
            pty,
            ..
        } => smoke_command(p, serial.as_ref(), junit.as_deref(), kernel, *pty, verbose),
        Command::Stress { kernel: None } => stress::run(p, verbose),
        Command::Stress { kernel: Some(k) } => smoke::emulated(
            p,
            k,
            verbose,
            None,
            crate::device::checks::Then::EveryKernelStress,
        ),
        Command::Test => suite::run(p, verbose),
        Command::Matrix { trees } if trees.dirs.is_empty() => matrix::run(p),
        Command::Matrix { trees } if trees.boot => matrix::boot_trees(p, trees, verbose),
        Command::Matrix { trees } => matrix::run_trees(p, trees),
        Command::Bench => bench::run(p, verbose),
        Command::Fuzz => Ok(fuzz::run(p)? & fuzz::planted(p)?),
        Command::Cross => cross::run(p, verbose),
        Command::Vendor => vendor::run(p),
        Command::Sizes { checkout } => sizes::check(checkout.as_deref().unwrap_or(&p.root)),
        Command::Buildroot { tree } => buildroot::run(p, tree, verbose),
        Command::Packaging { board } if board.name == kernel::ORANGEPI_PC.name => {
            image::build_all(p).and_then(|b| packaging::check(p, &b.kernel, &b.app))
        }
        Command::Packaging { board } => packaging::check_board(p, board),
    }
}

/// `smoke`: on a real board's console, through a pty, or on the emulated
/// board.
fn smoke_command(
    p: &Project,
    serial: Option<&cli::Serial>,
    junit: Option<&std::path::Path>,
    kernel: &'static build::kernel::source::Source,
    pty: bool,
    verbose: bool,
) -> anyhow::Result<bool> {
    match serial {
        Some(s) => smoke::serial(p, &s.dev, s.baud, s.login.as_deref(), verbose, junit),
        None if pty => smoke::pty(p, kernel, verbose),
        None => smoke::emulated(p, kernel, verbose, junit, device::checks::Then::Done),
    }
}

fn main() -> ExitCode {
    let cli = match cli::parse(std::env::args().skip(1)) {
        Ok(Some(c)) => c,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cargo board: error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let result = Project::locate().and_then(|p| run(&p, &cli));
    let took = sh::dur(start.elapsed());
    let name = cli.command.name();
    match result {
        // The suite prints its own tally as the very last line.
        Ok(ok) if matches!(cli.command, Command::Test) => ExitCode::from(if ok { 0 } else { 1 }),
        Ok(true) => {
            eprintln!("cargo board {name}: PASS in {took}");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("cargo board {name}: FAIL in {took}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("cargo board {name}: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
