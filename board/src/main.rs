//! `cargo board`: builds the nlchan board image, boots the emulated
//! Orange Pi PC (or opens a real board's serial console), runs the
//! on-target smoke test, and runs the project's whole test suite.

mod console;
mod cpio;
mod image;
mod kernel;
mod ktap;
mod project;
mod qemu;
mod sh;
mod smoke;
mod suite;

use anyhow::{bail, Result};
use console::Console;
use kernel::{Board, Kernel, ORANGEPI_PC};
use project::Project;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: cargo board <command> [options]

Run through `sudo board/bootstrap.sh <command>` on a fresh Debian 12 machine:
it installs what is needed first.

commands:
  build                 build the kernel, the module, the app and the image
  smoke                 build, boot the emulated Orange Pi PC, run the smoke test
  smoke --serial DEV    run the smoke test on a real board's console instead
        [--baud N]      (default 115200); the board must run an image with
                        nlchan installed and give a root shell on that port
  test                  every test: lints, host and armv7 unit tests, module
                        build (W=1) and checkpatch, smoke test on the emulated board

options:
  --verbose             copy the board's console to stderr
  -h, --help            this help

exit status: 0 all passed, 1 a test failed, 2 usage or set-up error";

struct Options {
    command: String,
    serial: Option<PathBuf>,
    baud: u32,
    verbose: bool,
}

fn parse_args() -> Result<Option<Options>> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        command: String::new(),
        serial: None,
        baud: 115200,
        verbose: false,
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--verbose" => o.verbose = true,
            "--serial" => match args.next() {
                Some(d) => o.serial = Some(d.into()),
                None => bail!("--serial needs a device, e.g. /dev/ttyUSB0"),
            },
            "--baud" => match args.next().map(|b| b.parse()) {
                Some(Ok(b)) => o.baud = b,
                _ => bail!("--baud needs a number, e.g. 115200"),
            },
            "build" | "smoke" | "test" if o.command.is_empty() => o.command = a,
            _ => bail!("unexpected argument '{a}'\n\n{USAGE}"),
        }
    }
    if o.command.is_empty() {
        bail!("no command given\n\n{USAGE}");
    }
    if o.serial.is_some() && o.command != "smoke" {
        bail!("--serial only goes with the smoke command");
    }
    Ok(Some(o))
}

/// Everything the emulated board boots from.
pub struct Built {
    board: &'static Board,
    kernel: Kernel,
    dtb: PathBuf,
    initramfs: PathBuf,
    app: PathBuf,
}

/// Builds the kernel, the module, the app and the image.
pub fn build_all(p: &Project) -> Result<Built> {
    let board = &ORANGEPI_PC;
    let kernel = sh::step("kernel (linux-source-6.1, orangepi-pc)", || {
        kernel::build(p, board)
    })?;
    sh::step("module nlchan.ko (W=1)", || image::module(p, &kernel))?;
    let app = sh::step("app nlchan (armv7, static)", || image::app(p))?;
    let dtb = sh::step("device tree + nlchan overlay", || {
        image::device_tree(p, board, &kernel.dtb)
    })?;
    let initramfs = sh::step("initramfs (DESTDIR install recipes)", || {
        let root = image::stage(p, board, &kernel, &app)?;
        let out = p.out.join("rootfs.cpio");
        image::initramfs(&root, &out)?;
        Ok(out)
    })?;
    Ok(Built {
        board,
        kernel,
        dtb,
        initramfs,
        app,
    })
}

/// Boots the emulated board and runs the smoke test; returns whether it passed.
pub fn smoke_emulated(p: &Project, b: &Built, verbose: bool) -> Result<bool> {
    let (_emu, mut console) =
        sh::step("boot the emulated Orange Pi PC (QEMU orangepi-pc)", || {
            let start = Instant::now();
            let (emu, mut c) =
                qemu::boot(b.board, &b.kernel, &b.dtb, &b.initramfs, &p.out, verbose)?;
            smoke::wait_for_shell(&mut c, Duration::from_secs(180))?;
            eprintln!("    shell on ttyS0 after {}", sh::dur(start.elapsed()));
            Ok((emu, c))
        })?;
    run_smoke(&mut console)
}

fn run_smoke(console: &mut Console) -> Result<bool> {
    let report = sh::step("smoke test over the serial console", || {
        smoke::smoke(console)
    })?;
    Ok(report.ok())
}

fn smoke_serial(p: &Project, dev: &std::path::Path, baud: u32, verbose: bool) -> Result<bool> {
    let mut console = Console::open_serial(dev, baud, &p.out.join("console.log"), verbose)?;
    sh::step("wait for the board's shell", || {
        smoke::wait_for_shell(&mut console, Duration::from_secs(60))
    })?;
    run_smoke(&mut console)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(Some(o)) => o,
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
    let result = Project::locate().and_then(|p| match opts.command.as_str() {
        "build" => build_all(&p).map(|b| {
            eprintln!(
                "image: {} + {} + {}",
                b.kernel.zimage.display(),
                b.dtb.display(),
                b.initramfs.display()
            );
            eprintln!("app:   {}", b.app.display());
            true
        }),
        "smoke" => match &opts.serial {
            Some(dev) => smoke_serial(&p, dev, opts.baud, opts.verbose),
            None => build_all(&p).and_then(|b| smoke_emulated(&p, &b, opts.verbose)),
        },
        "test" => suite::run(&p, opts.verbose),
        _ => unreachable!("parse_args accepts known commands only"),
    });
    let took = sh::dur(start.elapsed());
    match result {
        // The suite prints its own tally as the very last line.
        Ok(ok) if opts.command == "test" => ExitCode::from(if ok { 0 } else { 1 }),
        Ok(true) => {
            eprintln!("cargo board {}: PASS in {took}", opts.command);
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("cargo board {}: FAIL in {took}", opts.command);
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("cargo board {}: error: {e:#}", opts.command);
            ExitCode::from(2)
        }
    }
}
