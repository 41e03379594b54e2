// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board`: builds the nlchan board image, boots the emulated
//! Orange Pi PC (or opens a real board's serial console), runs the
//! on-target smoke test, and runs the project's whole test suite.

mod bench;
mod buildroot;
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
mod shell;
mod smoke;
mod stress;
mod suite;
mod vendor;

use anyhow::{bail, Context, Result};
use project::Project;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "\
usage: cargo board <command> [options]

Run through `sudo board/bootstrap.sh <command>` on a fresh Debian 12 machine:
it installs what is needed first.

commands:
  build                 build the kernel, the module, the app (armv7 musl, static)
                        and the image
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
                        emulated board: latency, batching, size (and an armv7
                        glibc build's for comparison), peak RSS, broadcast
                        fan-out; prints figures and ratios
  cross                 the app built by cross-rs in containers (Cross.toml,
                        board/cross/Dockerfile) from Debian's archive only, for
                        armv7 gnueabihf and musleabihf and aarch64 musl; checks
                        each binary (static, arch, --version under qemu-user),
                        then boots an image whose /usr/bin/nlchan is cross's
                        armv7 musl one and runs the smoke test on it
  packaging             build, then run the packaging front ends (Buildroot,
                        OpenWrt, Tina) through board/fake-frameworks and compare
                        what each installs with the emulated image (no boot)
  buildroot --tree DIR  build the Buildroot packages (buildroot/) in your Buildroot
                        tree DIR, offline (Debian's cross gcc as an external
                        toolchain, the kernel from Debian's linux-source, crates
                        from vendor/), boot the root filesystem it makes on the
                        emulated board and run the smoke test there; output in
                        the cache (buildroot/<version>/output)
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
    tree: Option<PathBuf>,
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
        tree: None,
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
            "--tree" => match args.next() {
                Some(d) => {
                    o.tree = Some(
                        std::fs::canonicalize(&d)
                            .with_context(|| format!("--tree {d}: no such folder"))?,
                    )
                }
                None => bail!("--tree needs a Buildroot tree, e.g. ~/src/buildroot"),
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
            | "vendor" | "packaging" | "buildroot"
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
    if o.tree.is_some() != (o.command == "buildroot") {
        bail!("the buildroot command needs --tree DIR, and --tree goes with it only");
    }
    if o.login.is_some() && o.serial.is_none() {
        bail!("--login only goes with --serial (the emulated board has no login prompt)");
    }
    Ok(Some(o))
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
        "build" => image::build_all(&p).map(|b| {
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
            Some(dev) => smoke::serial(
                &p,
                dev,
                opts.baud,
                opts.login.as_deref(),
                opts.verbose,
                opts.junit.as_deref(),
            ),
            None => image::build_all(&p).and_then(|b| {
                smoke::smoke_emulated_to(&p, &b, opts.verbose, opts.junit.as_deref())
            }),
        },
        "stress" => stress::run(&p, opts.verbose),
        "test" => suite::run(&p, opts.verbose),
        "matrix" if opts.trees.dirs.is_empty() => matrix::run(&p),
        "matrix" => matrix::run_trees(&p, &opts.trees),
        "bench" => bench::run(&p, opts.verbose),
        "fuzz" => Ok(fuzz::run(&p)? & fuzz::planted(&p)?),
        "cross" => cross::run(&p, opts.verbose),
        "vendor" => vendor::run(&p),
        "buildroot" => match &opts.tree {
            Some(tree) => buildroot::run(&p, tree, opts.verbose),
            None => unreachable!("parse_args requires --tree with buildroot"),
        },
        "packaging" => image::build_all(&p).and_then(|b| packaging::check(&p, &b.kernel, &b.app)),
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
