// SPDX-License-Identifier: MIT OR Apache-2.0
//! The command line of `cargo board`: one [`Command`] variant per task,
//! each with the options it takes, parsed from `std::env::args`.

use crate::build::kernel::source::{self, Source};
use crate::build::kernel::{self, Board};
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
        [--board NAME]  another emulated board: qemu-virt-arm64 (QEMU virt,
                        Cortex-A53, arm64 kernel from Debian's 6.1 source,
                        aarch64 musl user space; outputs in
                        target/board/qemu-virt-arm64); default orangepi-pc
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
        [--kernel-config FILE]  with --boot: a config fragment merged
                        last (what the tree needs to build for QEMU)
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
        [--board NAME]  against another emulated board's image, e.g.
                        qemu-virt-arm64 (the front ends as is, built for aarch64)
  buildroot --tree DIR  build the Buildroot packages (buildroot/) in your Buildroot
                        tree DIR, offline (Debian's cross gcc as an external
                        toolchain, the kernel from Debian's linux-source, crates
                        from vendor/), boot the root filesystem it makes on the
                        emulated board and run the smoke test there; output in
                        the cache (buildroot/<version>/output)
  vendor                the library as a dependency: cargo package, a scratch
                        crate depending on it (default-features = false),
                        cargo vendor, offline build and run from vendor/ only
  sizes                 no source file over 600 lines outside the tests; the
                        longest function of each part of the checkout
        [--checkout DIR]  of another git checkout (e.g. an older commit's)

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
        /// The emulated board (`--board`).
        board: &'static Board,
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
    Packaging {
        /// The emulated board whose image the front ends are compared with.
        board: &'static Board,
    },
    Buildroot {
        tree: PathBuf,
    },
    Vendor,
    /// File and function sizes (also part of `test`), of this checkout
    /// or of another one (e.g. an older commit's worktree).
    Sizes {
        checkout: Option<PathBuf>,
    },
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
            Command::Packaging { .. } => "packaging",
            Command::Buildroot { .. } => "buildroot",
            Command::Vendor => "vendor",
            Command::Sizes { .. } => "sizes",
        }
    }
}

/// The parsed command line.
pub struct Cli {
    pub command: Command,
    /// Copy the board's console to stderr.
    pub verbose: bool,
}

/// Parses the arguments (without the program's name); `None` for `--help`.
/// `--verbose` and `--help` go anywhere; the command word comes first of
/// the rest, then the options of that command only.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Cli>> {
    let mut verbose = false;
    let mut rest = Vec::new();
    for a in args {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--verbose" => verbose = true,
            _ => rest.push(a),
        }
    }
    let mut rest = rest.into_iter();
    let Some(name) = rest.next() else {
        bail!("no command given\n\n{USAGE}");
    };
    let mut o = Options {
        command: name.clone(),
        args: rest,
    };
    let command = match name.as_str() {
        "build" => o.none(Command::Build)?,
        "smoke" => smoke(&mut o)?,
        "test" => o.none(Command::Test)?,
        "matrix" => matrix(&mut o)?,
        "stress" => stress(&mut o)?,
        "fuzz" => o.none(Command::Fuzz)?,
        "bench" => o.none(Command::Bench)?,
        "cross" => o.none(Command::Cross)?,
        "packaging" => packaging(&mut o)?,
        "buildroot" => buildroot(&mut o)?,
        "vendor" => o.none(Command::Vendor)?,
        "sizes" => sizes(&mut o)?,
        _ => bail!("unknown command '{name}'\n\n{USAGE}"),
    };
    Ok(Some(Cli { command, verbose }))
}

/// The options after a command word.
struct Options {
    command: String,
    args: std::vec::IntoIter<String>,
}

impl Options {
    /// The next option, if any.
    fn next(&mut self) -> Option<String> {
        self.args.next()
    }

    /// The value of option `flag`: the next argument, not empty.
    fn value(&mut self, flag: &str, what: &str, example: &str) -> Result<String> {
        match self.args.next() {
            Some(v) if !v.is_empty() => Ok(v),
            _ => bail!("{flag} needs {what}, e.g. {example}"),
        }
    }

    /// A folder given to `flag`, made absolute.
    fn folder(&mut self, flag: &str, what: &str, example: &str) -> Result<PathBuf> {
        let d = self.value(flag, what, example)?;
        std::fs::canonicalize(&d).with_context(|| format!("{flag} {d}: no such folder"))
    }

    /// The error for `a`, which the command does not take.
    fn unexpected(&self, a: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "the {} command does not take '{a}'\n\n{USAGE}",
            self.command
        )
    }

    /// `command`, for a command without options.
    fn none(&mut self, command: Command) -> Result<Command> {
        match self.next() {
            Some(a) => Err(self.unexpected(&a)),
            None => Ok(command),
        }
    }
}

/// `smoke [--kernel V | --board B | --pty | --serial DEV [--baud N]
/// [--login U]] [--junit F]`.
fn smoke(o: &mut Options) -> Result<Command> {
    let (mut dev, mut baud, mut login) = (None, None, None);
    let (mut junit, mut kernel, mut pty) = (None, None, false);
    let mut board = &kernel::ORANGEPI_PC;
    while let Some(a) = o.next() {
        match a.as_str() {
            "--serial" => dev = Some(o.value(&a, "a device", "/dev/ttyUSB0")?.into()),
            "--baud" => match o.value(&a, "a number", "115200")?.parse() {
                Ok(b) => baud = Some(b),
                Err(_) => bail!("--baud needs a number, e.g. 115200"),
            },
            "--login" => login = Some(o.value(&a, "USER or USER:PASSWORD", "root")?),
            "--junit" => junit = Some(o.value(&a, "a file name", "smoke.xml")?.into()),
            "--kernel" => kernel = Some(source::by_version(&o.value(&a, "a version", "5.10")?)?),
            "--pty" => pty = true,
            "--board" => {
                board = kernel::board_by_name(&o.value(&a, "a board", "qemu-virt-arm64")?)?
            }
            _ => return Err(o.unexpected(&a)),
        }
    }
    if board.name != kernel::ORANGEPI_PC.name && (dev.is_some() || kernel.is_some() || pty) {
        bail!("--board goes without --serial, --kernel and --pty (its kernel is Debian's 6.1)");
    }
    if dev.is_none() && (login.is_some() || baud.is_some()) {
        bail!("--login and --baud only go with --serial (the emulated board has no login prompt)");
    }
    if dev.is_some() && kernel.is_some() {
        bail!("--kernel only goes with the emulated board, not with --serial");
    }
    if pty && (dev.is_some() || junit.is_some()) {
        bail!("--pty goes without --serial and --junit");
    }
    Ok(Command::Smoke {
        serial: dev.map(|dev| Serial {
            dev,
            baud: baud.unwrap_or(115200),
            login,
        }),
        junit,
        kernel: kernel.unwrap_or(source::BOOKWORM),
        pty,
        board,
    })
}

/// `matrix [--kernel-tree DIR... [--boot [--kernel-config FILE]] [--arch A]
/// [--cross-compile P]]`.
fn matrix(o: &mut Options) -> Result<Command> {
    let mut trees = Trees::default();
    while let Some(a) = o.next() {
        match a.as_str() {
            "--kernel-tree" => {
                let d = o.folder(&a, "a kernel tree", "lichee/linux-4.9")?;
                trees.dirs.push(d);
            }
            "--boot" => trees.boot = true,
            "--kernel-config" => {
                let f = o.value(&a, "a config fragment", "my-board.config")?;
                let f = std::fs::canonicalize(&f)
                    .with_context(|| format!("--kernel-config {f}: no such file"))?;
                trees.fragment = Some(f);
            }
            "--arch" => trees.arch = Some(o.value(&a, "a kernel architecture", "arm")?),
            "--cross-compile" => {
                trees.cross_compile = Some(o.value(&a, "a prefix", "arm-linux-gnueabihf-")?)
            }
            _ => return Err(o.unexpected(&a)),
        }
    }
    if trees.dirs.is_empty() && (trees.arch.is_some() || trees.cross_compile.is_some()) {
        bail!("--arch and --cross-compile only go with --kernel-tree");
    }
    if trees.boot && (trees.dirs.is_empty() || trees.arch.is_some()) {
        bail!("--boot goes with --kernel-tree (ARCH=arm), without --arch");
    }
    if trees.fragment.is_some() && !trees.boot {
        bail!("--kernel-config only goes with --boot");
    }
    Ok(Command::Matrix { trees })
}

/// `stress [--kernel VERSION]`.
fn stress(o: &mut Options) -> Result<Command> {
    let mut kernel = None;
    while let Some(a) = o.next() {
        match a.as_str() {
            "--kernel" => kernel = Some(source::by_version(&o.value(&a, "a version", "5.10")?)?),
            _ => return Err(o.unexpected(&a)),
        }
    }
    Ok(Command::Stress { kernel })
}

/// `sizes [--checkout DIR]`.
fn sizes(o: &mut Options) -> Result<Command> {
    let mut checkout = None;
    while let Some(a) = o.next() {
        match a.as_str() {
            "--checkout" => checkout = Some(o.folder(&a, "a git checkout", "/tmp/old")?),
            _ => return Err(o.unexpected(&a)),
        }
    }
    Ok(Command::Sizes { checkout })
}

/// `packaging [--board NAME]`.
fn packaging(o: &mut Options) -> Result<Command> {
    let mut board = &kernel::ORANGEPI_PC;
    while let Some(a) = o.next() {
        match a.as_str() {
            "--board" => {
                board = kernel::board_by_name(&o.value(&a, "a board", "qemu-virt-arm64")?)?
            }
            _ => return Err(o.unexpected(&a)),
        }
    }
    Ok(Command::Packaging { board })
}

/// `buildroot --tree DIR`.
fn buildroot(o: &mut Options) -> Result<Command> {
    let mut tree = None;
    while let Some(a) = o.next() {
        match a.as_str() {
            "--tree" => tree = Some(o.folder(&a, "a Buildroot tree", "~/src/buildroot")?),
            _ => return Err(o.unexpected(&a)),
        }
    }
    let tree = tree.context("the buildroot command needs --tree DIR")?;
    Ok(Command::Buildroot { tree })
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
        let cli = parse(args(&["smoke", "--board", "qemu-virt-arm64"]))
            .unwrap()
            .unwrap();
        match cli.command {
            Command::Smoke { board, .. } => assert_eq!(board.arch.kernel_arch, "arm64"),
            _ => panic!("not smoke --board"),
        }
    }

    #[test]
    fn options_of_another_command_are_refused() {
        assert!(error(&["test", "--serial", "/dev/x"])
            .contains("test command does not take '--serial'"));
        assert!(error(&["smoke", "--login", "root"]).contains("only go with --serial"));
        assert!(error(&["smoke", "--baud", "9600"]).contains("only go with --serial"));
        assert!(error(&["buildroot"]).contains("needs --tree"));
        assert!(error(&["matrix", "--arch", "arm"]).contains("only go with --kernel-tree"));
        assert!(
            error(&["matrix", "--kernel-config", "Cargo.toml"]).contains("only goes with --boot")
        );
        assert!(error(&["smoke", "--kernel", "4.9"]).contains("5.10, 6.1, 6.12"));
        assert!(error(&["test", "--kernel", "5.10"]).contains("does not take '--kernel'"));
        assert!(
            error(&["smoke", "--serial", "/dev/x", "--kernel", "5.10"]).contains("--kernel only")
        );
        assert!(error(&["smoke", "--pty", "--serial", "/dev/x"]).contains("--pty goes without"));
        assert!(error(&["smoke", "--board", "pi"]).contains("the boards are orangepi-pc"));
        assert!(
            error(&["smoke", "--board", "qemu-virt-arm64", "--kernel", "5.10"])
                .contains("--board goes without")
        );
        assert!(error(&["smoke", "--baud", "fast"]).contains("needs a number"));
        assert!(error(&["smoke", "--serial"]).contains("needs a device"));
        assert!(error(&["frobnicate"]).contains("unknown command 'frobnicate'"));
        assert!(error(&[]).contains("no command given"));
        assert!(error(&["build", "test"]).contains("does not take 'test'"));
        assert!(error(&["--kernel", "5.10", "stress"]).contains("unknown command '--kernel'"));
    }
}
