// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board cross`: the app built by cross-rs in a container, the way a
//! user with Docker builds it (`Cross.toml`, `board/cross/Dockerfile`), but
//! from Debian's archive only, then each binary checked.
//!
//! 1. A container engine, Debian's docker.io. When no daemon answers,
//!    `dockerd` is started here with host networking only (`--bridge=none`,
//!    no iptables rules) and stopped again at the end, by its PID.
//! 2. A base image, as no image registry is reachable: `debootstrap
//!    --variant=minbase bookworm` from the system's Debian mirror, then
//!    `docker import` (once, kept while the image exists).
//! 3. The cross image from `board/cross/Dockerfile`, built with `docker
//!    build --network host` and tagged with a hash of what goes into it (the
//!    build context, the base image, Debian's Rust version), so a warm run
//!    skips it. cross then builds the same Dockerfile from `Cross.toml`,
//!    with the same arguments: the layer cache answers that at once.
//! 4. cross 0.2.5 (`cargo install --locked`) into the cache.
//! 5. `cross build --release --locked -p nlchan --target T` per target into
//!    `target/cross`, and each binary checked: static, the right
//!    architecture, `nlchan --version` under qemu-user.
//! 6. The armv7 musl binary in a real image: once the container engine is
//!    stopped, the emulated board's image is built again (under
//!    `target/board/musl`, beside the normal one) with the cross-built
//!    `armv7-unknown-linux-musleabihf` `nlchan` as `/usr/bin/nlchan`,
//!    through the same install recipe (`app/Makefile install NLCHAN_BIN=`,
//!    which takes the on-target test tool `nlchan-alloc-check` from the same
//!    folder: cross builds it too, so the zero-allocation proof runs on musl
//!    as well), booted, and the smoke test run on it. Its failure fails the
//!    command.
//!
//! cross 0.2.5 manages rustup toolchains itself: it misreads rustup 1.29's
//! `rustup toolchain list` ("(active, default)") and runs `rustup toolchain
//! add stable`, which updates the host's stable toolchain. So cross never
//! sees the user's rustup home: it runs with an environment of its own
//! ([`CrossEnv`]), whose rustup home (in the cache) holds one toolchain,
//! `usr`, linked to Debian's compiler (cross names the toolchain after the
//! sysroot, `/usr`), and `CROSS_CUSTOM_TOOLCHAIN=1` (no `rustup target add`).
//! On a machine without rustup a stand-in answers the one question cross
//! asks. The host's toolchains (`rustup toolchain list`, each one's `rustc
//! --version` and components) are compared before and after: any change
//! fails the command. Never run cross here outside that environment (even
//! `cross --version` goes through the toolchain check).

use crate::build::elf::{self, Target, TARGETS};
use crate::build::kernel::fnv;
use crate::run::project::{Project, MUSL_TARGET};
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The cross-rs release the project is tested with.
const CROSS_VERSION: &str = "0.2.5";
/// The base image made with debootstrap.
const BASE_IMAGE: &str = "nlchan/bookworm-minbase:latest";
/// The cross image, tagged with the hash of its inputs.
const CROSS_IMAGE: &str = "nlchan/cross";
/// Where the build context (and the Dockerfile) lives in the checkout.
const CONTEXT: &str = "board/cross";
/// The host's CA bundle, mounted read-only into the containers: crates.io
/// is only reachable with it here.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// Debian's compiler and cargo (rustc-web, cargo-web: the MSRV).
const RUSTC: &str = "/usr/bin/rustc";
const CARGO: &str = "/usr/bin/cargo";
/// The toolchain name cross derives from Debian's sysroot `/usr`.
const TOOLCHAIN: &str = "usr";
/// What fixes a missing prerequisite.
const FIX: &str = "run `sudo ./board/bootstrap.sh cross`";

/// Builds the app with cross for every target and checks the binaries;
/// returns whether all of them passed. Fails when the host's Rust
/// toolchains changed on the way, whatever else happened.
pub fn run(p: &Project, verbose: bool) -> Result<bool> {
    let dir = p.cache.join("cross");
    fs::create_dir_all(&dir)?;
    let _lock = sh::lock(&dir.join("lock"), "cargo board cross")?;
    let before = host_toolchains()?;
    eprintln!("    host Rust toolchains before:\n{}", indent(&before));
    let result = build_and_check(p, &dir).and_then(|(all, musl)| {
        if !musl {
            eprintln!("    the {MUSL_TARGET} build failed: no image booted with it");
            return Ok(false);
        }
        let smoked = smoke_musl(p, verbose)?;
        Ok(all && smoked)
    });
    let after = host_toolchains()?;
    if after != before {
        let what = match &result {
            Ok(_) => String::new(),
            Err(e) => format!("\n(and the cross step failed: {e:#})"),
        };
        bail!(
            "the HOST'S RUST TOOLCHAINS CHANGED during the cross step (they must not):\n\
             before:\n{}\nafter:\n{}{what}",
            indent(&before),
            indent(&after)
        );
    }
    eprintln!("    host Rust toolchains unchanged");
    result
}

/// Where cross puts `target`'s `nlchan`.
pub fn binary(p: &Project, target: &str) -> PathBuf {
    p.root
        .join("target/cross")
        .join(target)
        .join("release/nlchan")
}

/// Builds the emulated board's image with the cross-built armv7 musl
/// binary as `/usr/bin/nlchan` (and its `nlchan-alloc-check`), boots it
/// and runs the smoke test; returns whether it passed.
fn smoke_musl(p: &Project, verbose: bool) -> Result<bool> {
    let bin = binary(p, MUSL_TARGET);
    let check = bin.with_file_name("nlchan-alloc-check");
    for b in [&bin, &check] {
        if !b.is_file() {
            eprintln!("    no {}: the musl image is not built", b.display());
            return Ok(false);
        }
    }
    let mp = p.variant("musl")?;
    eprintln!(
        "==> image with the cross-built {MUSL_TARGET} nlchan ({}, {} bytes) in {}",
        bin.display(),
        fs::metadata(&bin)?.len(),
        mp.out.display()
    );
    let built = crate::build::image::build_image(&mp, &crate::build::kernel::NORMAL, Some(&bin))?;
    // The staging folder the initramfs was packed from holds exactly the
    // cross-built binaries.
    let root = mp.out.join("rootfs");
    for (staged, want) in [
        ("usr/bin/nlchan", &bin),
        ("usr/lib/nlchan/tests/nlchan-alloc-check", &check),
    ] {
        let got = root.join(staged);
        if fs::read(&got).ok() != Some(fs::read(want)?) {
            bail!(
                "the musl image's /{staged} ({}) is not {}",
                got.display(),
                want.display()
            );
        }
    }
    eprintln!("    /usr/bin/nlchan and nlchan-alloc-check of the image are the {MUSL_TARGET} ones");
    let ok = crate::device::checks::smoke_emulated(&mp, &built, verbose)?;
    eprintln!(
        "    {MUSL_TARGET} nlchan on the emulated Orange Pi PC: smoke test {}",
        if ok { "PASSED" } else { "FAILED" }
    );
    Ok(ok)
}

/// Builds and checks every target; returns whether all passed and whether
/// the [`MUSL_TARGET`] one did.
fn build_and_check(p: &Project, dir: &Path) -> Result<(bool, bool)> {
    prerequisites()?;
    let engine = engine();
    let daemon = sh::step("container engine (Debian's docker.io)", || {
        Daemon::ensure(&engine, dir)
    })?;
    sh::step("base image (debootstrap bookworm minbase)", || {
        base_image(&engine, dir)
    })?;
    let rust = debian_rust_version()?;
    sh::step("cross image (board/cross/Dockerfile)", || {
        cross_image(p, &engine, dir, &rust)
    })?;
    let cross = sh::step(&format!("cross {CROSS_VERSION}"), || install_cross(dir))?;
    let env = sh::step("an environment of its own for cross", || {
        CrossEnv::new(p, dir, &engine, &rust)
    })?;
    let rows: Vec<Row> = TARGETS
        .iter()
        .map(|t| build_target(p, dir, &env, &cross, t))
        .collect();
    eprintln!("{}", table(&rows));
    // cross tags its build of the image anew each time; what an older
    // Dockerfile gave is left dangling.
    let label = format!("label=org.cross-rs.workspace_root={}", p.root.display());
    let _ = quiet_ok(&mut docker(
        &engine,
        ["image", "prune", "-f", "--filter", &label],
    ));
    // The engine (when started here) stops before the emulated board boots.
    drop(daemon);
    let musl = rows.iter().any(|r| r.triple == MUSL_TARGET && r.ok());
    Ok((rows.iter().all(Row::ok), musl))
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn prerequisites() -> Result<()> {
    let needed = [
        ("dockerd", "docker.io"),
        ("debootstrap", "debootstrap"),
        ("file", "file"),
        ("qemu-arm-static", "qemu-user-static"),
        ("qemu-aarch64-static", "qemu-user-static"),
        (RUSTC, "rustc-web"),
        (CARGO, "cargo-web"),
        ("dpkg-query", "dpkg"),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|(prog, _)| sh::which(prog).is_none())
        .map(|(prog, pkg)| format!("{prog} (Debian package {pkg})"))
        .collect();
    if sh::which("docker").is_none() && !Path::new("/usr/bin/docker").is_file() {
        bail!("no docker client (Debian package docker.io): {FIX}");
    }
    if !missing.is_empty() {
        bail!("missing: {}: {FIX}", missing.join(", "));
    }
    Ok(())
}

fn is_root() -> bool {
    sh::output(&mut cmd("id", ["-u"])).is_ok_and(|u| u.trim() == "0")
}

/// The user's rustup: in PATH, else where rustup-init puts it (sudo resets
/// PATH).
fn rustup() -> Option<PathBuf> {
    sh::which("rustup").or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
        Some(home.join("bin/rustup")).filter(|p| p.is_file())
    })
}

/// The Docker client: Debian's (the same release as its daemon) first.
fn engine() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/docker");
    if debian.is_file() {
        debian
    } else {
        sh::which("docker").unwrap_or_else(|| "docker".into())
    }
}

/// A Docker command that uses the classic builder (its `--network host`
/// needs no BuildKit entitlement; the BuildKit of Debian's 20.10 is not
/// always there).
fn docker<I, S>(engine: &Path, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut c = Command::new(engine);
    c.args(args).env("DOCKER_BUILDKIT", "0");
    c
}

fn quiet_ok(c: &mut Command) -> bool {
    c.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn daemon_answers(engine: &Path) -> bool {
    quiet_ok(&mut docker(
        engine,
        ["version", "--format", "{{.Server.Version}}"],
    ))
}

fn image_exists(engine: &Path, image: &str) -> bool {
    quiet_ok(&mut docker(engine, ["image", "inspect", image]))
}

/// The Docker daemon for this run: one that answers already, or `dockerd`
/// started here (and stopped when this is dropped).
struct Daemon {
    child: Option<Child>,
}

impl Daemon {
    fn ensure(engine: &Path, dir: &Path) -> Result<Daemon> {
        if daemon_answers(engine) {
            eprintln!("    a Docker daemon answers already: using it (and leaving it running)");
            return Ok(Daemon { child: None });
        }
        if std::env::var_os("DOCKER_HOST").is_some() {
            bail!("no Docker daemon answers at DOCKER_HOST; start it, or unset DOCKER_HOST");
        }
        if !is_root() {
            bail!("no Docker daemon answers and starting dockerd needs root: {FIX}");
        }
        let dockerd = sh::which("dockerd")
            .with_context(|| format!("no dockerd (Debian package docker.io): {FIX}"))?;
        let log = dir.join("dockerd.log");
        let out = File::create(&log)?;
        // Host networking only: no bridge, no NAT, no iptables rules. The
        // containers' processes inherit the niceness.
        let child = cmd(
            "nice",
            [
                "-n".as_ref(),
                "10".as_ref(),
                dockerd.as_os_str(),
                "--bridge=none".as_ref(),
                "--iptables=false".as_ref(),
                "--ip-masq=false".as_ref(),
            ],
        )
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("cannot start {}", dockerd.display()))?;
        let mut d = Daemon { child: Some(child) };
        let pid = d.pid();
        let start = Instant::now();
        loop {
            if daemon_answers(engine) {
                eprintln!(
                    "    started dockerd (PID {pid}, --bridge=none, log {}), ready after {}",
                    log.display(),
                    sh::dur(start.elapsed())
                );
                return Ok(d);
            }
            let exited = d.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                d.child = None;
                // Another process may have started a daemon meanwhile.
                if daemon_answers(engine) {
                    eprintln!("    another Docker daemon came up: using it");
                    return Ok(d);
                }
                let text = fs::read_to_string(&log).unwrap_or_default();
                bail!(
                    "dockerd exited ({status}); last lines of {}:\n{}",
                    log.display(),
                    crate::run::sh::tail(&text, 20)
                );
            }
            if start.elapsed() > Duration::from_secs(60) {
                bail!(
                    "dockerd (PID {pid}) did not answer within 60 s; see {}",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.pid();
        let Some(child) = self.child.as_mut() else {
            return;
        };
        // The shell's kill: procps' is not always installed.
        let _ = cmd("sh", ["-c", "kill -TERM \"$1\"", "sh", &pid.to_string()]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = child.try_wait() {
                eprintln!("    stopped dockerd (PID {pid})");
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!("    dockerd (PID {pid}) ignored SIGTERM for 30 s: killing it");
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Debian bookworm (minbase) from the system's Debian mirror, imported as
/// [`BASE_IMAGE`]; kept while the image exists.
fn base_image(engine: &Path, dir: &Path) -> Result<()> {
    if image_exists(engine, BASE_IMAGE) {
        eprintln!("    {BASE_IMAGE} exists");
        return Ok(());
    }
    if !is_root() {
        bail!("debootstrap needs root: {FIX}");
    }
    let mirror = std::env::var("NLCHAN_DEBIAN_MIRROR")
        .unwrap_or_else(|_| "http://deb.debian.org/debian".into());
    let root = dir.join("bookworm-rootfs");
    remove_rootfs(&root)?;
    eprintln!("    debootstrap from {mirror}");
    sh::logged(
        "debootstrap",
        &mut cmd(
            "nice",
            [
                "-n".as_ref(),
                "10".as_ref(),
                "debootstrap".as_ref(),
                "--variant=minbase".as_ref(),
                "bookworm".as_ref(),
                root.as_os_str(),
                mirror.as_ref(),
            ],
        ),
        &dir.join("debootstrap.log"),
    )?;
    // tar -C root -c . | docker import - BASE_IMAGE
    let mut tar = cmd(
        "tar",
        [
            "--numeric-owner".as_ref(),
            "-C".as_ref(),
            root.as_os_str(),
            "-c".as_ref(),
            ".".as_ref(),
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .context("cannot run tar")?;
    let stdin = tar.stdout.take().expect("piped");
    let import = docker(engine, ["import", "-", BASE_IMAGE])
        .stdin(stdin)
        .stdout(Stdio::null())
        .status();
    let tar_status = tar.wait()?;
    match import {
        Ok(s) if s.success() && tar_status.success() => {}
        Ok(s) => bail!(
            "`tar -C {} -c . | docker import - {BASE_IMAGE}` failed (tar {tar_status}, import {s})",
            root.display()
        ),
        Err(e) => bail!("cannot run {} import: {e}", engine.display()),
    }
    remove_rootfs(&root)?;
    eprintln!("    imported as {BASE_IMAGE}");
    Ok(())
}

/// Removes a debootstrap tree, unless something is still mounted in it.
fn remove_rootfs(root: &Path) -> Result<()> {
    if !root.exists() {
        return Ok(());
    }
    let mounts = fs::read_to_string("/proc/mounts").unwrap_or_default();
    let prefix = format!("{}/", root.display());
    if let Some(m) = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .find(|m| m.starts_with(&prefix))
    {
        bail!(
            "{m} is still mounted: unmount it, then remove {}",
            root.display()
        );
    }
    fs::remove_dir_all(root).with_context(|| format!("cannot remove {}", root.display()))
}

/// The host's Debian Rust (rustc-web) version, which the image installs too.
fn debian_rust_version() -> Result<String> {
    let v = sh::output(&mut cmd("dpkg-query", ["-W", "-f=${Version}", "rustc-web"]))
        .with_context(|| format!("Debian's rustc-web is not installed: {FIX}"))?;
    if v.trim().is_empty() {
        bail!("Debian's rustc-web is not installed: {FIX}");
    }
    Ok(v.trim().to_string())
}

/// The `--build-arg`s of the cross image, for `docker build` and (through
/// `CROSS_BUILD_OPTS`) for cross's own build of it.
fn build_args(rust: &str) -> [String; 4] {
    [
        "--build-arg".into(),
        format!("BASE_IMAGE={BASE_IMAGE}"),
        "--build-arg".into(),
        format!("RUST_VERSION={rust}"),
    ]
}

/// Builds the cross image unless the one for these inputs exists; returns
/// its tag.
fn cross_image(p: &Project, engine: &Path, dir: &Path, rust: &str) -> Result<String> {
    let context = p.root.join(CONTEXT);
    let base = sh::output(&mut docker(
        engine,
        ["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE],
    ))?;
    let mut files: Vec<PathBuf> = fs::read_dir(&context)
        .with_context(|| format!("cannot read {}", context.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut parts: Vec<Vec<u8>> = vec![base.trim().into(), rust.into()];
    for f in &files {
        parts.push(
            f.file_name()
                .unwrap_or_default()
                .as_encoded_bytes()
                .to_vec(),
        );
        parts.push(fs::read(f).with_context(|| format!("cannot read {}", f.display()))?);
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let tag = format!("{CROSS_IMAGE}:{:016x}", fnv(&refs));
    if image_exists(engine, &tag) {
        eprintln!("    {tag} exists");
        return Ok(tag);
    }
    let mut build = cmd("nice", ["-n", "10"]);
    build
        .arg(engine)
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "--network", "host"])
        .args(build_args(rust))
        .args(["--tag", &tag])
        .arg(&context);
    sh::logged("docker build", &mut build, &dir.join("docker-build.log"))?;
    // Older tags of the image are outdated now.
    let tags = sh::output(&mut docker(
        engine,
        [
            "image",
            "ls",
            CROSS_IMAGE,
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ],
    ))?;
    for old in tags.lines().filter(|t| *t != tag) {
        let _ = quiet_ok(&mut docker(engine, ["image", "rm", old]));
    }
    eprintln!("    built {tag} (Debian's Rust {rust})");
    Ok(tag)
}

/// Installs cross into the cache (not ~/.cargo/bin); returns its path.
fn install_cross(dir: &Path) -> Result<PathBuf> {
    let root = dir.join(format!("cross-{CROSS_VERSION}"));
    let bin = root.join("bin/cross");
    // Never run `cross --version` to check: cross checks toolchains first.
    let installed = fs::read_to_string(root.join(".crates.toml"))
        .is_ok_and(|t| t.contains(&format!("\"cross {CROSS_VERSION} ")));
    if installed && bin.is_file() {
        eprintln!("    {} exists", bin.display());
        return Ok(bin);
    }
    let mut c = cmd(
        "nice",
        [
            "-n".as_ref(),
            "10".as_ref(),
            CARGO.as_ref(),
            "install".as_ref(),
            "cross".as_ref(),
            "--locked".as_ref(),
            "--version".as_ref(),
            CROSS_VERSION.as_ref(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
    );
    c.env("CARGO_HOME", dir.join("cargo-home"))
        .env("RUSTC", RUSTC)
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO_TARGET_DIR");
    sh::logged(
        &format!("cargo install cross {CROSS_VERSION}"),
        &mut c,
        &dir.join("cargo-install.log"),
    )?;
    Ok(bin)
}

/// The whole environment cross runs in: nothing of the caller's but PATH's
/// system folders, HOME, the terminal, the locale, proxies and DOCKER_HOST.
struct CrossEnv {
    vars: Vec<(String, String)>,
}

impl CrossEnv {
    fn new(p: &Project, dir: &Path, engine: &Path, rust: &str) -> Result<CrossEnv> {
        let bin = dir.join("bin");
        fs::create_dir_all(&bin)?;
        let rustup_home = dir.join("rustup");
        let mut vars: Vec<(String, String)> = vec![
            (
                "PATH".into(),
                format!(
                    "{}:/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin",
                    bin.display()
                ),
            ),
            ("RUSTUP_HOME".into(), rustup_home.display().to_string()),
            ("RUSTUP_AUTO_INSTALL".into(), "0".into()),
            (
                "CARGO_HOME".into(),
                dir.join("cargo-home").display().to_string(),
            ),
            ("XARGO_HOME".into(), dir.join("xargo").display().to_string()),
            ("RUSTC".into(), RUSTC.into()),
            (
                "CARGO_TARGET_DIR".into(),
                p.root.join("target/cross").display().to_string(),
            ),
            (
                "CROSS_CONTAINER_ENGINE".into(),
                engine.display().to_string(),
            ),
            ("CROSS_CUSTOM_TOOLCHAIN".into(), "1".into()),
            ("DOCKER_BUILDKIT".into(), "0".into()),
            (
                "CROSS_BUILD_OPTS".into(),
                format!("--network host {}", build_args(rust).join(" ")),
            ),
            (
                "CROSS_CONTAINER_OPTS".into(),
                format!("--network host -v {CA_BUNDLE}:{CA_BUNDLE}:ro"),
            ),
        ];
        for k in [
            "HOME",
            "USER",
            "TERM",
            "LANG",
            "DOCKER_HOST",
            "http_proxy",
            "https_proxy",
            "no_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "NO_PROXY",
        ] {
            if let Ok(v) = std::env::var(k) {
                vars.push((k.into(), v));
            }
        }
        if rust.contains([' ', '\'', '"']) {
            bail!("unexpected rustc-web version {rust:?}");
        }
        let env = CrossEnv { vars };
        env.rustup(&bin, &rustup_home)?;
        Ok(env)
    }

    /// A command that runs in this environment only.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear().envs(self.vars.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Gives cross a rustup of its own: the machine's rustup with a rustup
    /// home in the cache holding only `usr` (a link to Debian's /usr), or
    /// without rustup a stand-in that answers `rustup toolchain list`.
    fn rustup(&self, bin: &Path, home: &Path) -> Result<()> {
        let link = bin.join("rustup");
        if link.symlink_metadata().is_ok() {
            fs::remove_file(&link)?;
        }
        let Some(real) = rustup() else {
            let mut f = File::create(&link)?;
            writeln!(
                f,
                "#!/bin/sh\n\
                 # rustup stand-in for cross {CROSS_VERSION} (board/host/src/tasks/cross.rs): Debian's\n\
                 # compiler is the only toolchain; anything else is refused.\n\
                 case \"$*\" in\n\
                 \"toolchain list\") echo {TOOLCHAIN} ;;\n\
                 \"component list --toolchain {TOOLCHAIN}\") ;;\n\
                 *) echo \"rustup stand-in: refusing 'rustup $*'\" >&2; exit 1 ;;\n\
                 esac"
            )?;
            drop(f);
            sh::run(&mut cmd("chmod", ["755".as_ref(), link.as_os_str()]))?;
            eprintln!(
                "    no rustup here: cross gets a stand-in that answers `toolchain list` only"
            );
            return Ok(());
        };
        std::os::unix::fs::symlink(&real, &link)?;
        fs::create_dir_all(home)?;
        let list = |env: &CrossEnv| {
            sh::output(env.command(&link).args(["toolchain", "list"])).map(|s| s.trim().to_string())
        };
        if list(self)? != TOOLCHAIN {
            sh::run(
                self.command(&link)
                    .args(["toolchain", "link", TOOLCHAIN, "/usr"])
                    .stdout(Stdio::null()),
            )?;
            sh::run(
                self.command(&link)
                    .args(["set", "auto-self-update", "disable"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            )?;
        }
        let got = list(self)?;
        if got != TOOLCHAIN {
            bail!(
                "the rustup home for cross ({}) should list `{TOOLCHAIN}` only, not {got:?}",
                home.display()
            );
        }
        eprintln!(
            "    rustup home {} with toolchain `{TOOLCHAIN}` -> /usr (Debian's rustc {})",
            home.display(),
            sh::output(&mut cmd(RUSTC, ["--version"]))?.trim()
        );
        Ok(())
    }
}

/// `rustup toolchain list` as the user sees it, with each toolchain's
/// `rustc --version` and components (read from the toolchain's folder, not
/// through rustup's proxies); "no rustup" without rustup.
fn host_toolchains() -> Result<String> {
    let Some(rustup) = rustup() else {
        return Ok("no rustup".into());
    };
    let list = sh::output(
        cmd(&rustup.display().to_string(), ["toolchain", "list", "-v"]).current_dir("/"),
    )?;
    let mut out = String::new();
    for line in list.lines() {
        let path = line.split_whitespace().last().unwrap_or("");
        let version = if path.starts_with('/') {
            let v = sh::output(&mut cmd(&format!("{path}/bin/rustc"), ["--version"]))
                .unwrap_or_else(|e| format!("({e})"));
            let components = fs::read_to_string(Path::new(path).join("lib/rustlib/components"))
                .unwrap_or_default();
            format!(
                "{} [{}]",
                v.trim(),
                components.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        } else {
            String::new()
        };
        out.push_str(&format!("{line}: {version}\n"));
    }
    Ok(out)
}

/// One target's result.
struct Row {
    triple: &'static str,
    size: Option<u64>,
    is_static: bool,
    arch: bool,
    version: Option<String>,
    took: Duration,
    errors: Vec<String>,
}

impl Row {
    fn new(triple: &'static str) -> Row {
        Row {
            triple,
            size: None,
            is_static: false,
            arch: false,
            version: None,
            took: Duration::ZERO,
            errors: Vec::new(),
        }
    }

    fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

fn build_target(p: &Project, dir: &Path, env: &CrossEnv, cross: &Path, t: &Target) -> Row {
    let mut row = Row::new(t.triple);
    let what = format!(
        "cross build --release --locked -p nlchan --target {}",
        t.triple
    );
    eprintln!("==> {what}");
    let start = Instant::now();
    let mut c = env.command("nice");
    c.args(["-n", "10"])
        .arg(cross)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "nlchan",
            "--target",
            t.triple,
        ])
        .current_dir(&p.root);
    let log = dir.join(format!("build-{}.log", t.triple));
    let built = sh::logged(&what, &mut c, &log);
    row.took = start.elapsed();
    if let Err(e) = built {
        eprintln!("    {what}: FAILED ({})", sh::dur(row.took));
        row.errors.push(format!("{e:#}"));
        return row;
    }
    eprintln!("    {what}: done in {}", sh::dur(row.took));
    let bin = binary(p, t.triple);
    if let Err(e) = check(&bin, t, &mut row) {
        row.errors.push(format!("{e:#}"));
    }
    row
}

fn check(bin: &Path, t: &Target, row: &mut Row) -> Result<()> {
    let found = elf::inspect(bin, t)?;
    row.size = Some(found.size);
    row.is_static = found.is_static;
    row.arch = found.arch;
    row.version = found.version;
    row.errors.extend(found.errors);
    Ok(())
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "NO"
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = format!(
        "\ncross builds (target/cross/<target>/release/nlchan):\n\
         {:<32} {:>10} {:>7} {:>5} {:>10} {:>8}\n",
        "target", "size (B)", "static", "arch", "version", "build"
    );
    for r in rows {
        let built = r.size.is_some();
        s.push_str(&format!(
            "{:<32} {:>10} {:>7} {:>5} {:>10} {:>8}\n",
            r.triple,
            r.size.map_or("-".into(), |n| n.to_string()),
            if built { yes(r.is_static) } else { "-" },
            if built { yes(r.arch) } else { "-" },
            if built { yes(r.version.is_some()) } else { "-" },
            sh::dur(r.took),
        ));
    }
    if let Some(v) = rows.iter().find_map(|r| r.version.as_deref()) {
        s.push_str(&format!("`nlchan --version` under qemu-user: {v}\n"));
    }
    for r in rows.iter().filter(|r| !r.ok()) {
        s.push_str(&format!("{} FAILED:\n", r.triple));
        for e in &r.errors {
            s.push_str(&format!("{}\n", indent(e)));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every target the command builds has its section in Cross.toml, on
    /// the repository's Dockerfile, and the musl ones build their std.
    #[test]
    fn cross_toml_covers_the_targets() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let toml = fs::read_to_string(root.join("Cross.toml")).unwrap();
        assert!(root.join(CONTEXT).join("Dockerfile").is_file());
        let dockerfile =
            format!("dockerfile = {{ file = \"{CONTEXT}/Dockerfile\", context = \"{CONTEXT}\" }}");
        for t in &TARGETS {
            let head = format!("[target.{}]", t.triple);
            let start = toml.find(&head).unwrap_or_else(|| panic!("no {head}"));
            let body = &toml[start + head.len()..];
            let body = &body[..body.find("\n[").unwrap_or(body.len())];
            assert!(body.contains(&dockerfile), "{head}: {body}");
            let build_std = body.contains("CARGO_UNSTABLE_BUILD_STD=std panic_abort")
                && body.contains("RUSTC_BOOTSTRAP=1");
            assert_eq!(build_std, t.triple.contains("musl"), "{head}: {body}");
        }
    }

    #[test]
    fn table_marks_failures() {
        let rows = [
            Row {
                triple: "armv7-unknown-linux-musleabihf",
                size: Some(361692),
                is_static: true,
                arch: true,
                version: Some("nlchan 0.1.0".into()),
                took: Duration::from_secs(3),
                errors: Vec::new(),
            },
            Row {
                triple: "aarch64-unknown-linux-musl",
                size: None,
                is_static: false,
                arch: false,
                version: None,
                took: Duration::from_secs(1),
                errors: vec!["cross build failed".into()],
            },
        ];
        let t = table(&rows);
        assert!(t.contains("361692"), "{t}");
        assert!(
            t.contains("aarch64-unknown-linux-musl FAILED:\n      cross build failed"),
            "{t}"
        );
        assert!(rows[0].ok() && !rows[1].ok());
    }
}
