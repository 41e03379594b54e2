// SPDX-License-Identifier: MIT OR Apache-2.0
//! The command line of `cargo board`: one [`Command`] variant per task,
//! each with the options it takes, parsed from `std::env::args`.

use crate::build::kernel::source::{self, Source};
use crate::tasks::matrix::Trees;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

pub const USAGE: &str = "\
usage: cargo board <command> [options]

Run through `sudo board/bootstrap.sh <command>` on a fresh Debian 12 machine:
it installs what is needed first.

commands:
  build                 build the kernel, the module, the app (armv7 musl, static)
                        and the image
  smoke                 build, boot the emulated Orange Pi PC, run the smoke test
        [--kernel VERSION]  on the board's kernel built from Debian's 5.10, 6.1
                        (the default) or 6.12 source
  smoke --pty           boot the emulated board with its UART0 on a pseudo-terminal
                        and a login prompt, and run `smoke --serial /dev/pts/N
                        --login root` through it (the path a USB adapter takes)
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
        [--boot]        build each (clean) tree for QEMU instead (the emulated
                        H3 if the tree supports it, else `virt`), boot it with
                        the module and the image, run the smoke job on it
        [--arch ARCH]   (default: from DIR/.config)
        [--cross-compile PREFIX]  (default: arm-linux-gnueabihf- for arm,
                        aarch64-linux-gnu- for arm64)
  stress                the stress and hostile-input suite (fuzzer, concurrency,
                        flood, insmod/rmmod cycles, privileges) on the emulated
                        board's debug kernel (KASAN, UBSAN, kmemleak, lockdep);
                        fails on any kernel splat or kmemleak leak
  stress --kernel VERSION  the smoke job, then the stress cases that need no
                        debug option, on the normal kernel from Debian's 5.10,
                        6.1 or 6.12 source (what `test` runs on each kernel)
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

/// A real board's serial console (`smoke --serial DEV`).
pub struct Serial {
    pub dev: PathBuf,
    pub baud: u32,
    /// `USER` or `USER:PASSWORD`, to log in first.
    pub login: Option<String>,
}

/// What `cargo board` was asked to do.
pub enum Command {
    Build,
    Smoke {
        /// A real board instead of the emulated one.
        serial: Option<Serial>,
        junit: Option<PathBuf>,
        /// The emulated board's kernel.
        kernel: &'static Source,
        /// The emulated board on a pseudo-terminal, through `--serial`.
        pty: bool,
    },
    Test,
    /// Debian's kernels, or the given trees when `trees.dirs` is not empty.
    Matrix {
        trees: Trees,
    },
    /// On the debug kernel (all cases), or on a normal kernel (the cases
    /// every kernel runs, after the smoke job).
    Stress {
        kernel: Option<&'static Source>,
    },
    Fuzz,
    Bench,
    Cross,
    Packaging,
    Buildroot {
        tree: PathBuf,
    },
    Vendor,
}

impl Command {
    /// The command's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Build => "build",
            Command::Smoke { .. } => "smoke",
            Command::Test => "test",
            Command::Matrix { .. } => "matrix",
            Command::Stress { .. } => "stress",
            Command::Fuzz => "fuzz",
            Command::Bench => "bench",
            Command::Cross => "cross",
            Command::Packaging => "packaging",
            Command::Buildroot { .. } => "buildroot",
            Command::Vendor => "vendor",
        }
    }
}

/// The parsed command line.
pub struct Cli {
    pub command: Command,
    /// Copy the board's console to stderr.
    pub verbose: bool,
}

/// Every flag as given, before it is checked against the command.
#[derive(Default)]
struct Flags {
    command: Option<String>,
    verbose: bool,
    serial: Option<PathBuf>,
    baud: Option<u32>,
    junit: Option<PathBuf>,
    login: Option<String>,
    trees: Trees,
    tree: Option<PathBuf>,
    kernel: Option<&'static Source>,
    pty: bool,
}

/// Parses the arguments (without the program's name); `None` for `--help`.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Cli>> {
    let Some(f) = flags(args)? else {
        return Ok(None);
    };
    let Some(name) = f.command.clone() else {
        bail!("no command given\n\n{USAGE}");
    };
    check_combinations(&f, &name)?;
    let command = match name.as_str() {
        "build" => Command::Build,
        "smoke" => Command::Smoke {
            serial: f.serial.map(|dev| Serial {
                dev,
                baud: f.baud.unwrap_or(115200),
                login: f.login,
            }),
            junit: f.junit,
            kernel: f.kernel.unwrap_or(source::BOOKWORM),
            pty: f.pty,
        },
        "test" => Command::Test,
        "matrix" => Command::Matrix { trees: f.trees },
        "stress" => Command::Stress { kernel: f.kernel },
        "fuzz" => Command::Fuzz,
        "bench" => Command::Bench,
        "cross" => Command::Cross,
        "packaging" => Command::Packaging,
        "buildroot" => Command::Buildroot {
            tree: f.tree.expect("checked: buildroot has --tree"),
        },
        "vendor" => Command::Vendor,
        _ => unreachable!("flags() accepts known commands only"),
    };
    Ok(Some(Cli {
        command,
        verbose: f.verbose,
    }))
}

const COMMANDS: [&str; 11] = [
    "build",
    "smoke",
    "test",
    "matrix",
    "stress",
    "fuzz",
    "bench",
    "cross",
    "packaging",
    "buildroot",
    "vendor",
];

/// Reads the flags and the command word; `None` for `--help`.
fn flags(args: impl IntoIterator<Item = String>) -> Result<Option<Flags>> {
    let mut f = Flags::default();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let mut value = |what: &str, example: &str| -> Result<String> {
            match args.next() {
                Some(v) if !v.is_empty() => Ok(v),
                _ => bail!("{a} needs {what}, e.g. {example}"),
            }
        };
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--verbose" => f.verbose = true,
            "--pty" => f.pty = true,
            "--boot" => f.trees.boot = true,
            "--serial" => f.serial = Some(value("a device", "/dev/ttyUSB0")?.into()),
            "--junit" => f.junit = Some(value("a file name", "smoke.xml")?.into()),
            "--login" => f.login = Some(value("USER or USER:PASSWORD", "root")?),
            "--kernel-tree" => {
                let d = value("a kernel tree", "lichee/linux-4.9")?;
                f.trees.dirs.push(folder(&a, &d)?);
            }
            "--tree" => {
                let d = value("a Buildroot tree", "~/src/buildroot")?;
                f.tree = Some(folder(&a, &d)?);
            }
            "--kernel" => f.kernel = Some(source::by_version(&value("a version", "5.10")?)?),
            "--arch" => f.trees.arch = Some(value("a kernel architecture", "arm")?),
            "--cross-compile" => {
                f.trees.cross_compile = Some(value("a prefix", "arm-linux-gnueabihf-")?)
            }
            "--baud" => match value("a number", "115200")?.parse() {
                Ok(b) => f.baud = Some(b),
                Err(_) => bail!("--baud needs a number, e.g. 115200"),
            },
            c if COMMANDS.contains(&c) && f.command.is_none() => f.command = Some(a),
            _ => bail!("unexpected argument '{a}'\n\n{USAGE}"),
        }
    }
    Ok(Some(f))
}

fn folder(flag: &str, d: &str) -> Result<PathBuf> {
    std::fs::canonicalize(d).with_context(|| format!("{flag} {d}: no such folder"))
}

/// The flags that go with one command only.
fn check_combinations(f: &Flags, command: &str) -> Result<()> {
    if f.serial.is_some() && command != "smoke" {
        bail!("--serial only goes with the smoke command");
    }
    if f.junit.is_some() && command != "smoke" {
        bail!("--junit only goes with the smoke command");
    }
    if f.trees.dirs.is_empty() && (f.trees.arch.is_some() || f.trees.cross_compile.is_some()) {
        bail!("--arch and --cross-compile only go with --kernel-tree");
    }
    if f.trees.boot && (f.trees.dirs.is_empty() || f.trees.arch.is_some()) {
        bail!("--boot goes with --kernel-tree (ARCH=arm), without --arch");
    }
    if !f.trees.dirs.is_empty() && command != "matrix" {
        bail!("--kernel-tree only goes with the matrix command");
    }
    if f.tree.is_some() != (command == "buildroot") {
        bail!("the buildroot command needs --tree DIR, and --tree goes with it only");
    }
    if f.kernel.is_some() && !(command == "smoke" && f.serial.is_none() || command == "stress") {
        bail!("--kernel only goes with the stress command and the smoke command on the emulated board");
    }
    if f.pty && (command != "smoke" || f.serial.is_some() || f.junit.is_some()) {
        bail!("--pty only goes with the smoke command, without --serial and --junit");
    }
    if f.login.is_some() && f.serial.is_none() {
        bail!("--login only goes with --serial (the emulated board has no login prompt)");
    }
    if f.baud.is_some() && f.serial.is_none() {
        bail!("--baud only goes with --serial");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn error(a: &[&str]) -> String {
        match parse(args(a)) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{a:?} parsed"),
        }
    }

    #[test]
    fn each_command_gets_its_options() {
        let cli = parse(args(&[
            "smoke",
            "--serial",
            "/dev/ttyUSB0",
            "--login",
            "root",
        ]))
        .unwrap()
        .unwrap();
        match cli.command {
            Command::Smoke {
                serial: Some(s),
                junit: None,
                ..
            } => {
                assert_eq!(s.dev, PathBuf::from("/dev/ttyUSB0"));
                assert_eq!(s.baud, 115200);
                assert_eq!(s.login.as_deref(), Some("root"));
            }
            _ => panic!("not smoke --serial"),
        }
        let cli = parse(args(&["--verbose", "stress"])).unwrap().unwrap();
        assert!(cli.verbose);
        assert!(matches!(cli.command, Command::Stress { kernel: None }));
        let cli = parse(args(&["stress", "--kernel", "6.12"]))
            .unwrap()
            .unwrap();
        match cli.command {
            Command::Stress { kernel: Some(k) } => assert_eq!(k.version, "6.12"),
            _ => panic!("not stress --kernel 6.12"),
        }
        assert!(parse(args(&["--help"])).unwrap().is_none());
    }

    #[test]
    fn options_of_another_command_are_refused() {
        assert!(error(&["test", "--serial", "/dev/x"]).contains("only goes with the smoke"));
        assert!(error(&["smoke", "--login", "root"]).contains("only goes with --serial"));
        assert!(error(&["smoke", "--baud", "9600"]).contains("only goes with --serial"));
        assert!(error(&["buildroot"]).contains("needs --tree"));
        assert!(error(&["matrix", "--arch", "arm"]).contains("only go with --kernel-tree"));
        assert!(error(&["smoke", "--kernel", "4.9"]).contains("5.10, 6.1, 6.12"));
        assert!(error(&["test", "--kernel", "5.10"]).contains("only goes with the stress"));
        assert!(
            error(&["smoke", "--serial", "/dev/x", "--kernel", "5.10"]).contains("--kernel only")
        );
        assert!(error(&["smoke", "--pty", "--serial", "/dev/x"]).contains("--pty only"));
        assert!(error(&["smoke", "--baud", "fast"]).contains("needs a number"));
        assert!(error(&["smoke", "--serial"]).contains("needs a device"));
        assert!(error(&["frobnicate"]).contains("unexpected argument"));
        assert!(error(&[]).contains("no command given"));
        assert!(error(&["build", "test"]).contains("unexpected argument 'test'"));
    }
}
