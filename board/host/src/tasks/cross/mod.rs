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

mod daemon;
mod images;
mod report;
mod toolchain;

use crate::build::elf::TARGETS;
use crate::run::project::{Project, MUSL_TARGET};
use crate::run::sh;
use anyhow::{bail, Result};
use daemon::{docker, engine, quiet_ok, Daemon};
use images::{base_image, cross_image, debian_rust_version};
use report::{build_target, indent, table, Row};
use std::fs;
use std::path::{Path, PathBuf};
use toolchain::{host_toolchains, install_cross, CrossEnv};

/// The cross-rs release the project is tested with.
const CROSS_VERSION: &str = "0.2.5";
/// Debian's compiler and cargo (rustc-web, cargo-web: the MSRV).
const RUSTC: &str = "/usr/bin/rustc";
const CARGO: &str = "/usr/bin/cargo";
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
    let built = crate::build::image::build_image(
        &mp,
        &crate::build::kernel::NORMAL,
        crate::build::kernel::source::BOOKWORM,
        Some(&bin),
    )?;
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
    let ok = crate::device::checks::smoke_emulated(
        &mp,
        &built,
        verbose,
        crate::device::checks::Then::Done,
    )?;
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
