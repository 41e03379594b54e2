//! `cargo board`: builds the nlchan board image, boots the emulated
//! Orange Pi PC (or opens a real board's serial console), runs the
//! on-target smoke test, and runs the project's whole test suite.

mod bench;
mod console;
mod cpio;
mod cross;
mod devicetree;
mod fuzz;
mod image;
mod junit;
mod kernel;
mod ktap;
mod matrix;
mod packaging;
mod project;
mod qemu;
mod sh;
mod smoke;
mod stress;
mod suite;
mod vendor;

use anyhow::{bail, Context, Result};
use console::Console;
use kernel::{Board, Kernel, ORANGEPI_PC};
use project::Project;
use std::path::{Path, PathBuf};
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
        [--login USER[:PASSWORD]]  log in first, for boards showing a login prompt
  smoke --junit FILE    also write the smoke test's result as JUnit XML (GitLab,
                        Jenkins), emulated board or --serial
  test                  every test: lints, host and armv7 unit tests, module
                        build (W=1) and checkpatch, smoke test on the emulated board
  matrix                build the module (W=1) against Debian's 5.10, 6.1 and 6.12
                        kernel sources (ARCH=arm), sparse on 6.1, check modinfo
  matrix --kernel-tree DIR  the same checks (no sparse) against your configured
                        kernel tree instead, e.g. a Tina SDK's lichee/linux-4.9,
                        prepared first if needed; repeat for more trees
        [--arch ARCH]   (default: from DIR/.config)
        [--cross-compile PREFIX]  (default: arm-linux-gnueabihf- for arm,
                        aarch64-linux-gnu- for arm64)
  stress                the stress and hostile-input suite (fuzzer, concurrency,
                        flood, insmod/rmmod cycles, privileges) on the emulated
                        board's debug kernel (KASAN, UBSAN, kmemleak, lockdep);
                        fails on any kernel splat or kmemleak leak
  fuzz                  the app's fuzz targets (libFuzzer): lint, 2 x 20 s from
                        the corpus, then 3 planted bugs each must catch
  bench                 the app against the C baselines in one boot of the
                        emulated board: latency, batching, size, peak RSS,
                        broadcast fan-out; prints figures and ratios
  cross                 the app built by cross-rs in containers (Cross.toml,
                        board/cross/Dockerfile) from Debian's archive only, for
                        armv7 gnueabihf and musleabihf and aarch64 musl; checks
                        each binary (static, arch, --version under qemu-user),
                        then boots an image whose /usr/bin/nlchan is the armv7
                        musl one and runs the smoke test on it
  packaging             build, then run the packaging front ends (Buildroot,
                        OpenWrt, Tina) through board/fake-frameworks and compare
                        what each installs with the emulated image (no boot)
  vendor                the library as a dependency: cargo package, a scratch
                        crate depending on it (default-features = false),
                        cargo vendor, offline build and run from vendor/ only

options:
  --verbose             copy the board's console to stderr
  -h, --help            this help

exit status: 0 all passed, 1 a test failed, 2 usage or set-up error";

struct Options {
    command: String,
    serial: Option<PathBuf>,
    baud: u32,
    verbose: bool,
    junit: Option<PathBuf>,
    login: Option<String>,
    trees: matrix::Trees,
}

fn parse_args() -> Result<Option<Options>> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        command: String::new(),
        serial: None,
        baud: 115200,
        verbose: false,
        junit: None,
        login: None,
        trees: matrix::Trees::default(),
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--verbose" => o.verbose = true,
            "--serial" => match args.next() {
                Some(d) => o.serial = Some(d.into()),
                None => bail!("--serial needs a device, e.g. /dev/ttyUSB0"),
            },
            "--junit" => match args.next() {
                Some(f) => o.junit = Some(f.into()),
                None => bail!("--junit needs a file name, e.g. smoke.xml"),
            },
            "--login" => match args.next() {
                Some(u) if !u.is_empty() => o.login = Some(u),
                _ => bail!("--login needs USER or USER:PASSWORD, e.g. root"),
            },
            "--kernel-tree" => match args.next() {
                Some(d) => o.trees.dirs.push(
                    std::fs::canonicalize(&d)
                        .with_context(|| format!("--kernel-tree {d}: no such folder"))?,
                ),
                None => bail!("--kernel-tree needs a kernel tree, e.g. lichee/linux-4.9"),
            },
            "--arch" => match args.next() {
                Some(a) if !a.is_empty() => o.trees.arch = Some(a),
                _ => bail!("--arch needs a kernel architecture, e.g. arm"),
            },
            "--cross-compile" => match args.next() {
                Some(c) => o.trees.cross_compile = Some(c),
                None => bail!("--cross-compile needs a prefix, e.g. arm-linux-gnueabihf-"),
            },
            "--baud" => match args.next().map(|b| b.parse()) {
                Some(Ok(b)) => o.baud = b,
                _ => bail!("--baud needs a number, e.g. 115200"),
            },
            "build" | "smoke" | "test" | "matrix" | "stress" | "bench" | "fuzz" | "cross"
            | "vendor" | "packaging"
                if o.command.is_empty() =>
            {
                o.command = a
            }
            _ => bail!("unexpected argument '{a}'\n\n{USAGE}"),
        }
    }
    if o.command.is_empty() {
        bail!("no command given\n\n{USAGE}");
    }
    if o.serial.is_some() && o.command != "smoke" {
        bail!("--serial only goes with the smoke command");
    }
    if o.junit.is_some() && o.command != "smoke" {
        bail!("--junit only goes with the smoke command");
    }
    if o.trees.dirs.is_empty() && (o.trees.arch.is_some() || o.trees.cross_compile.is_some()) {
        bail!("--arch and --cross-compile only go with --kernel-tree");
    }
    if !o.trees.dirs.is_empty() && o.command != "matrix" {
        bail!("--kernel-tree only goes with the matrix command");
    }
    if o.login.is_some() && o.serial.is_none() {
        bail!("--login only goes with --serial (the emulated board has no login prompt)");
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
    build_with(p, &kernel::NORMAL)
}

/// Builds the image around the board's kernel in configuration `variant`.
pub fn build_with(p: &Project, variant: &kernel::Variant) -> Result<Built> {
    build_image(p, variant, None)
}

/// The same, with `app_bin` as `/usr/bin/nlchan` when given (installed by
/// the same recipe, `app/Makefile install NLCHAN_BIN=`, which takes
/// `nlchan-alloc-check` from the same folder) instead of the app built
/// here. Give such an image a [`Project::variant`] of its own, so that it
/// does not overwrite the normal one.
pub fn build_image(
    p: &Project,
    variant: &kernel::Variant,
    app_bin: Option<&Path>,
) -> Result<Built> {
    let board = &ORANGEPI_PC;
    let what = match variant.name {
        "" => format!("kernel (linux-source-6.1, {})", board.name),
        v => format!("kernel (linux-source-6.1, {}, {v})", board.name),
    };
    let kernel = sh::step(&what, || kernel::build_variant(p, board, variant))?;
    sh::step("module nlchan.ko (W=1)", || image::module(p, &kernel))?;
    let app = match app_bin {
        None => sh::step("app nlchan (armv7, static)", || image::app(p))?,
        Some(bin) => {
            if !bin.is_file() {
                bail!("no app binary at {}", bin.display());
            }
            eprintln!("    app nlchan: {} (given, not built)", bin.display());
            bin.to_path_buf()
        }
    };
    let dtb = sh::step("device tree + nlchan overlay", || {
        image::device_tree(p, board, &kernel.dtb)
    })?;
    // The debug image (stress suite) also carries the planted-allocation
    // checker, which is in no package.
    let planted = match variant.name {
        "debug" => Some(sh::step("planted-allocation checker (armv7)", || {
            image::planted_checker(p)
        })?),
        _ => None,
    };
    let initramfs = sh::step("initramfs (DESTDIR install recipes)", || {
        let root = image::stage(p, board, &kernel, &app)?;
        if let Some(planted) = &planted {
            let to = root.join(image::PLANTED_CHECKER);
            std::fs::create_dir_all(to.parent().context("planted checker path")?)?;
            std::fs::copy(planted, &to)
                .with_context(|| format!("cannot copy {}", planted.display()))?;
        }
        let out = p.out.join("rootfs.cpio");
        image::initramfs(p, &root, &out)?;
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
    smoke_emulated_to(p, b, verbose, None)
}

/// The same, also writing the result as JUnit XML to `junit`.
fn smoke_emulated_to(p: &Project, b: &Built, verbose: bool, junit: Option<&Path>) -> Result<bool> {
    let (_emu, mut console) =
        sh::step("boot the emulated Orange Pi PC (QEMU orangepi-pc)", || {
            let start = Instant::now();
            let (emu, mut c) =
                qemu::boot(b.board, &b.kernel, &b.dtb, &b.initramfs, &p.out, verbose)?;
            smoke::wait_for_shell(&mut c, Duration::from_secs(180))?;
            eprintln!("    shell on ttyS0 after {}", sh::dur(start.elapsed()));
            Ok((emu, c))
        })?;
    sh::step(
        "init script S50nlchan (ran at boot; status, stop, start)",
        || packaging::check_sysv_init(&mut console),
    )?;
    run_smoke(&mut console, junit)
}

fn run_smoke(console: &mut Console, junit: Option<&Path>) -> Result<bool> {
    let start = Instant::now();
    let (report, ktap) = sh::step("smoke test over the serial console", || {
        smoke::smoke(console)
    })?;
    if let Some(file) = junit {
        let xml = junit::xml(
            "nlchan-smoke",
            &report,
            &ktap,
            start.elapsed().as_secs_f64(),
        );
        std::fs::write(file, xml)
            .with_context(|| format!("cannot write JUnit report {}", file.display()))?;
        eprintln!("    JUnit XML: {}", file.display());
    }
    Ok(report.ok())
}

fn smoke_serial(p: &Project, o: &Options, dev: &Path) -> Result<bool> {
    let log = p.out.join("console.log");
    let mut console = Console::open_serial(dev, o.baud, &log, o.verbose)?;
    if let Some(login) = &o.login {
        let (user, password) = match login.split_once(':') {
            Some((u, pw)) => (u, Some(pw)),
            None => (login.as_str(), None),
        };
        sh::step(&format!("log in as {user}"), || {
            smoke::login(&mut console, user, password, Duration::from_secs(120))
        })?;
    }
    sh::step("wait for the board's shell", || {
        smoke::wait_for_shell(&mut console, Duration::from_secs(60))
    })?;
    run_smoke(&mut console, o.junit.as_deref())
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
            Some(dev) => smoke_serial(&p, &opts, dev),
            None => build_all(&p)
                .and_then(|b| smoke_emulated_to(&p, &b, opts.verbose, opts.junit.as_deref())),
        },
        "stress" => stress::run(&p, opts.verbose),
        "test" => suite::run(&p, opts.verbose),
        "matrix" if opts.trees.dirs.is_empty() => matrix::run(&p),
        "matrix" => matrix::run_trees(&p, &opts.trees),
        "bench" => bench::run(&p, opts.verbose),
        "fuzz" => Ok(fuzz::run(&p)? & fuzz::planted(&p)?),
        "cross" => cross::run(&p, opts.verbose),
        "vendor" => vendor::run(&p),
        "packaging" => build_all(&p).and_then(|b| packaging::check(&p, &b.kernel, &b.app)),
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
