// SPDX-License-Identifier: MIT OR Apache-2.0
//! The app's coverage-guided fuzz targets (app/fuzz, libFuzzer through
//! libfuzzer-sys): linted like the rest, run from the corpus kept in the
//! repository, and shown to catch bugs by planting some in a copy of the
//! library and checking that the fuzzer crashes on each.

use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Coverage flags of cargo-fuzz, which work on the stable compiler.
const RUSTFLAGS: &str = "-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing \
    -Cdebug-assertions -Coverflow-checks";

const HOST: &str = "x86_64-unknown-linux-gnu";
const TARGETS: [&str; 2] = ["decode", "cli_args"];
/// Seconds each target runs in the test command.
const RUN_SECS: u32 = 20;
/// Seconds a fuzzer gets to find a planted bug.
const CATCH_SECS: u32 = 90;

/// `cargo <args>` on app/fuzz (its own workspace) with the fuzzing flags.
fn cargo(p: &Project, manifest: &Path, target_dir: &Path, args: &[&str]) -> Command {
    let mut c = cmd(&p.cargo(), args);
    c.args(["--release", "--locked", "--target", HOST])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .env("RUSTFLAGS", RUSTFLAGS)
        .current_dir(&p.root);
    c
}

fn binary(target_dir: &Path, target: &str) -> PathBuf {
    target_dir.join(HOST).join("release").join(target)
}

/// Runs libFuzzer's `target` on `corpora` (the first gets new inputs) for
/// `secs`; returns whether it exited 0 and its log.
fn fuzz_run(
    p: &Project,
    bin: &Path,
    corpora: &[PathBuf],
    artifacts: &Path,
    secs: u32,
    log: &str,
) -> Result<(bool, String)> {
    for dir in [&corpora[0], artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let log = p.out.join(log);
    let f = std::fs::File::create(&log)?;
    let status = Command::new(bin)
        .arg(format!("-max_total_time={secs}"))
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .args(corpora)
        .stdout(f.try_clone()?)
        .stderr(f)
        .status()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    Ok((status.success(), std::fs::read_to_string(&log)?))
}

/// Formats (rustfmt), lints (clippy -D warnings), builds and runs each
/// target for [`RUN_SECS`] from the repository's corpus; new inputs go to a
/// scratch folder. Any crash fails (the input is kept under
/// target/fuzz/artifacts).
pub fn run(p: &Project) -> Result<bool> {
    let manifest = p.root.join("app/fuzz/Cargo.toml");
    let dir = p.root.join("target/fuzz");
    sh::run(
        cmd(&p.cargo(), ["fmt", "--manifest-path"])
            .arg(&manifest)
            .args(["--", "--check"])
            .current_dir(&p.root),
    )
    .context("rustfmt on app/fuzz")?;
    sh::logged(
        "fuzz build",
        &mut cargo(p, &manifest, &dir, &["build"]),
        &p.out.join("fuzz-build.log"),
    )?;
    sh::run(cargo(p, &manifest, &dir, &["clippy", "--bins"]).args(["--", "-D", "warnings"]))
        .context("clippy on app/fuzz")?;
    for target in TARGETS {
        let corpora = [
            dir.join("corpus").join(target),
            p.root.join("app/fuzz/corpus").join(target),
        ];
        let artifacts = dir.join("artifacts").join(target);
        let (ok, log) = fuzz_run(
            p,
            &binary(&dir, target),
            &corpora,
            &artifacts,
            RUN_SECS,
            &format!("fuzz-{target}.log"),
        )?;
        if !ok {
            bail!(
                "fuzz target {target} crashed (input under {}):\n{}",
                artifacts.display(),
                crate::run::sh::tail(&log, 30)
            );
        }
        let runs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map_or("?", str::trim);
        eprintln!("    {target}: {runs} inputs in {RUN_SECS} s, no crash");
    }
    Ok(true)
}

/// A bug planted in a copy of the library: `from` replaced by `to` in
/// `file` (relative to app/), which fuzz target `target` must catch.
struct Plant {
    name: &'static str,
    target: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
    /// Start from the repository's corpus (as the test command does), or
    /// from nothing (coverage guidance alone).
    with_corpus: bool,
}

const PLANTS: [Plant; 3] = [
    Plant {
        name: "decoder trusts nlmsg_len (the seed's bug class)",
        target: "decode",
        file: "src/netlink.rs",
        from: "if len < NLMSG_HDRLEN || len > rest.len() {",
        to: "if len < NLMSG_HDRLEN {",
        with_corpus: false,
    },
    Plant {
        name: "decoder accepts a 126-byte payload (off by one)",
        target: "decode",
        file: "src/v1.rs",
        from: "payload.len() > proto::MSG_LEN {\n        return Err(DecodeError::PayloadTooLong",
        to: "payload.len() > proto::MSG_LEN + 1 {\n        return Err(DecodeError::PayloadTooLong",
        with_corpus: false,
    },
    Plant {
        name: "--timeout pads its fraction to 10 digits (overflow)",
        target: "cli_args",
        file: "src/cli/args/parse.rs",
        from: ".take(9)",
        to: ".take(10)",
        with_corpus: true,
    },
];

/// Copies the app (sources, fuzz targets) under `dest`, with a workspace
/// manifest of the app alone, so that it builds outside the checkout.
fn copy_app(p: &Project, dest: &Path) -> Result<()> {
    if dest.exists() {
        std::fs::remove_dir_all(dest)?;
    }
    let app = dest.join("app");
    std::fs::create_dir_all(app.join("fuzz"))?;
    sh::run(
        cmd("cp", ["-a", "--"])
            .args(["Cargo.toml", "build.rs", "src"].map(|f| p.root.join("app").join(f)))
            .arg(&app),
    )?;
    sh::run(
        cmd("cp", ["-a", "--"])
            .args(
                ["Cargo.toml", "Cargo.lock", "fuzz_targets"]
                    .map(|f| p.root.join("app/fuzz").join(f)),
            )
            .arg(app.join("fuzz")),
    )?;
    let root = std::fs::read_to_string(p.root.join("Cargo.toml"))?;
    let members = "members = [\"app\", \"board/host\"]";
    if !root.contains(members) {
        bail!("Cargo.toml: no line `{members}` to rewrite for the planted copies");
    }
    std::fs::write(
        dest.join("Cargo.toml"),
        root.replace(members, "members = [\"app\"]"),
    )?;
    Ok(())
}

/// Plants each bug of [`PLANTS`] in its own copy of the app, builds the
/// fuzz targets there (one target dir, so libFuzzer is built once) and
/// runs the target that must catch it for at most [`CATCH_SECS`]. Fails
/// when a planted bug survives, or when a mutation no longer applies.
pub fn planted(p: &Project) -> Result<bool> {
    let base = p.root.join("target/fuzz-planted");
    let mut all = true;
    for (i, plant) in PLANTS.iter().enumerate() {
        all &= catches(p, &base, i, plant)?;
    }
    Ok(all)
}

/// Plants bug `i` in a copy of the app under `base`, builds its fuzz
/// target and fuzzes it for CATCH_SECS; returns whether it crashed.
fn catches(p: &Project, base: &Path, i: usize, plant: &Plant) -> Result<bool> {
    let target_dir = base.join("target");
    let copy = base.join(format!("plant-{i}"));
    copy_app(p, &copy)?;
    let file = copy.join("app").join(plant.file);
    let text = std::fs::read_to_string(&file)?;
    if text.matches(plant.from).count() != 1 {
        bail!(
            "planted bug {:?}: `{}` is not in app/{} exactly once; update board/host/src/tasks/fuzz.rs",
            plant.name,
            plant.from,
            plant.file
        );
    }
    std::fs::write(&file, text.replace(plant.from, plant.to))?;
    let manifest = copy.join("app/fuzz/Cargo.toml");
    sh::logged(
        &format!("fuzz build with planted bug {i}"),
        cargo(p, &manifest, &target_dir, &["build", "--bin", plant.target]).env(
            "NLCHAN_UAPI_HEADER",
            p.root.join("kmod/include/uapi/linux/nlchan.h"),
        ),
        &p.out.join(format!("fuzz-planted-{i}-build.log")),
    )?;
    let mut corpora = vec![copy.join("corpus")];
    let from = if plant.with_corpus {
        corpora.push(p.root.join("app/fuzz/corpus").join(plant.target));
        "from the corpus"
    } else {
        "from an empty corpus"
    };
    let start = Instant::now();
    let log_name = format!("fuzz-planted-{i}.log");
    let (ok, log) = fuzz_run(
        p,
        &binary(&target_dir, plant.target),
        &corpora,
        &copy.join("artifacts"),
        CATCH_SECS,
        &log_name,
    )?;
    let took = sh::dur(start.elapsed());
    let Some(why) = log.lines().find(|l| l.contains("panicked")).filter(|_| !ok) else {
        eprintln!(
            "    NOT caught in {CATCH_SECS} s: {} ({}, {from}); log {}",
            plant.name,
            plant.target,
            p.out.join(log_name).display()
        );
        return Ok(false);
    };
    eprintln!(
        "    caught: {} ({}, {from}, {took}): {}",
        plant.name,
        plant.target,
        why.trim()
    );
    Ok(true)
}
