// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board test`: every test of the project, in one run. Each check
//! runs even when an earlier one failed (except what needs a build that
//! failed); the last line is the tally.

use crate::build::image::Built;
use crate::run::project::{Project, GLIBC_TARGET};
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::time::Instant;

struct Tally {
    results: Vec<(String, bool, String)>,
}

impl Tally {
    fn check(&mut self, name: &str, f: impl FnOnce() -> Result<bool>) -> bool {
        let start = Instant::now();
        eprintln!("==> {name}");
        let (ok, why) = match f() {
            Ok(true) => (true, String::new()),
            Ok(false) => (false, "failed".to_string()),
            Err(e) => (false, format!("{e:#}")),
        };
        let took = sh::dur(start.elapsed());
        if ok {
            eprintln!("    {name}: ok ({took})");
        } else {
            eprintln!("    {name}: FAILED ({took}): {why}");
        }
        self.results.push((name.to_string(), ok, why));
        ok
    }
}

fn cargo(p: &Project, args: &[&str]) -> std::process::Command {
    let mut c = cmd(&p.cargo(), args);
    c.current_dir(&p.root);
    c
}

/// `reuse lint` on the checkout (PyPI's reuse, in a venv of the cache):
/// every file has its license and copyright, every license used has its
/// text in LICENSES/ and no text is unused.
fn reuse_lint(p: &Project) -> Result<bool> {
    let reuse = crate::build::pytools::reuse(p)?;
    let out = std::process::Command::new(&reuse)
        .arg("--root")
        .arg(&p.root)
        .arg("lint")
        .output()
        .context("cannot run reuse")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "reuse lint:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let summary = text
        .lines()
        .filter(|l| l.starts_with("* Files with"))
        .map(|l| l.trim_start_matches("* "))
        .collect::<Vec<_>>()
        .join("; ");
    eprintln!("    {summary}");
    Ok(true)
}

/// Shell scripts of the checkout (tracked files starting with a sh shebang).
fn shell_scripts(p: &Project) -> Result<Vec<String>> {
    let files = sh::output(
        cmd(
            "git",
            ["ls-files", "--cached", "--others", "--exclude-standard"],
        )
        .current_dir(&p.root),
    )?;
    Ok(files
        .lines()
        .filter(|f| {
            std::fs::read(p.root.join(f)).is_ok_and(|b| {
                b.starts_with(b"#!/bin/sh")
                    || b.starts_with(b"#!/usr/bin/env bash")
                    || b.starts_with(b"#!/bin/bash")
            })
        })
        .map(str::to_string)
        .collect())
}

/// The kernel C sources: the module's and the test modules'.
fn kmod_sources(p: &Project) -> Result<Vec<std::path::PathBuf>> {
    let mut v = Vec::new();
    for dir in [
        "kmod",
        "kmod/include/linux",
        "kmod/include/uapi/linux",
        "board/target-tests/modules",
    ] {
        for e in std::fs::read_dir(p.root.join(dir))? {
            let path = e?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if (name.ends_with(".c") || name.ends_with(".h")) && !name.ends_with(".mod.c") {
                v.push(path);
            }
        }
    }
    v.sort();
    Ok(v)
}

/// checkpatch.pl --strict (the 6.1 source's) on every kernel C file.
fn checkpatch(p: &Project) -> Result<bool> {
    let (src, _) = crate::build::kernel::source(p)?;
    let script = src.join("scripts/checkpatch.pl");
    let mut report = String::new();
    for file in kmod_sources(p)? {
        let mut c = cmd("perl", [&script]);
        c.args(["--strict", "--no-tree", "--terse", "--show-types"]);
        // compat.h is where the design puts every LINUX_VERSION_CODE test.
        if file.ends_with("compat.h") {
            c.args(["--ignore", "LINUX_VERSION_CODE"]);
        }
        let out = c.arg("-f").arg(&file).current_dir(&p.root).output()?;
        if !out.status.success() {
            report.push_str(&String::from_utf8_lossy(&out.stdout));
        }
    }
    if !report.is_empty() {
        bail!("checkpatch.pl --strict reports:\n{report}");
    }
    Ok(true)
}

/// Runs every check and prints the tally; returns whether all passed.
pub fn run(p: &Project, verbose: bool) -> Result<bool> {
    let start = Instant::now();
    let mut t = Tally {
        results: Vec::new(),
    };
    lints(&mut t, p);
    unit_tests_and_fuzzing(&mut t, p);
    let built = build_and_static_checks(&mut t, p);
    on_emulated_boards(&mut t, p, built.as_ref(), verbose);
    Ok(t.summary(start))
}

/// Formatting, lints, the library alone and as a dependency, shell scripts,
/// import graphs, licensing.
fn lints(t: &mut Tally, p: &Project) {
    t.check("rustfmt", || {
        sh::run(&mut cargo(p, &["fmt", "--all", "--", "--check"]))?;
        Ok(true)
    });
    t.check("clippy -D warnings", || {
        let all = ["--workspace", "--all-targets"];
        sh::run(&mut cargo(p, &clippy(&all)))?;
        Ok(true)
    });
    t.check(
        "the library alone: clippy without the cli feature, examples, rustdoc",
        || library_alone(p),
    );
    t.check(
        "the crate as a dependency: cargo package, cargo vendor, offline build",
        || crate::tasks::vendor::run(p),
    );
    t.check("shellcheck", || shellcheck(p));
    t.check(
        "import graphs: no cycle between modules (app library, host program)",
        || {
            let app = p.root.join("app/src");
            crate::tasks::imports::check("app library", &app, &["bin", "main.rs"])?;
            crate::tasks::imports::check("host program", &p.root.join("board/host/src"), &[])?;
            Ok(true)
        },
    );
    t.check(
        "sizes: no source file over 600 lines outside the tests; the longest functions",
        || crate::tasks::sizes::check(&p.root),
    );
    t.check(
        "licensing: reuse lint (LICENSES/, SPDX headers, REUSE.toml)",
        || reuse_lint(p),
    );
}

/// `cargo clippy --locked WHAT -- -D warnings`.
fn clippy<'a>(what: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["clippy", "--locked"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["--", "-D", "warnings"]);
    args
}

/// The library without the command line's feature: clippy on it and its
/// examples, rustdoc with warnings denied.
fn library_alone(p: &Project) -> Result<bool> {
    let lib = [
        "-p",
        "nlchan",
        "--no-default-features",
        "--lib",
        "--examples",
    ];
    sh::run(&mut cargo(p, &clippy(&lib)))?;
    sh::run(
        cargo(p, &["doc", "--locked", "--no-deps", "-p", "nlchan"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    Ok(true)
}

fn shellcheck(p: &Project) -> Result<bool> {
    let scripts = shell_scripts(p)?;
    if scripts.is_empty() {
        bail!("found no shell script to check");
    }
    eprintln!("    {}", scripts.join(" "));
    sh::run(cmd("shellcheck", &scripts).current_dir(&p.root))?;
    Ok(true)
}

/// Host and armv7 unit tests, the fuzz targets and their planted bugs.
fn unit_tests_and_fuzzing(t: &mut Tally, p: &Project) {
    t.check("host unit tests (cargo test --workspace)", || {
        sh::run(&mut cargo(p, &["test", "--locked", "--workspace"]))?;
        Ok(true)
    });
    t.check("armv7 unit tests under qemu-user", || {
        // qemu-user has no NETLINK_GENERIC: the live generic netlink tests
        // are left out here (reported as filtered out), and run on the host
        // and on the board.
        let mut c = cargo(
            p,
            &[
                "test",
                "--locked",
                "-p",
                "nlchan",
                "--target",
                GLIBC_TARGET,
                "--",
                "--skip",
                "live_genl_",
            ],
        );
        c.envs(p.cross_env()?);
        c.env("NLCHAN_TEST_QEMU_USER", "1");
        sh::run(&mut c)?;
        Ok(true)
    });
    t.check(
        "fuzz: decoder and command line (rustfmt, clippy, libFuzzer 2 x 20 s)",
        || crate::tasks::fuzz::run(p),
    );
    t.check("fuzz targets catch 3 planted bugs", || {
        crate::tasks::fuzz::planted(p)
    });
}

/// The build, then the checks that need it but no boot: checkpatch, the
/// module matrix, the device tree, the packages. Returns the build.
fn build_and_static_checks(t: &mut Tally, p: &Project) -> Option<Built> {
    let mut built = None;
    t.check(
        "build: kernel, module (W=1), app, device tree, image",
        || {
            built = Some(crate::build::image::build_all(p)?);
            Ok(true)
        },
    );
    t.check(
        "checkpatch --strict on the module and the test modules",
        || checkpatch(p),
    );
    t.check(
        "module compatibility matrix (armv7: 5.10, 6.1, 6.12; arm64, riscv64: 6.1; W=1, sparse, modinfo)",
        || crate::tasks::matrix::run(p),
    );
    t.check(
        "device tree: overlay on Allwinner H3/V3s/T3 DTBs, .dtsi, dtschema binding",
        || match &built {
            Some(b) => crate::build::devicetree::check(p, &b.kernel),
            None => bail!("the build failed, no kernel to take DTBs from"),
        },
    );
    t.check(
        "packages (Buildroot, OpenWrt, Tina) install what the emulated image has",
        || match &built {
            Some(b) => crate::tasks::packaging::check(p, &b.kernel, &b.app),
            None => bail!("the build failed, no image to compare with"),
        },
    );
    built
}

/// What boots: the smoke job on each Debian kernel, through a pty, on the
/// aarch64 board, the stress suite, the cross-built binaries.
fn on_emulated_boards(t: &mut Tally, p: &Project, built: Option<&Built>, verbose: bool) {
    use crate::device::checks::Then;
    // The longest check, in the background from here on (it builds its
    // own kernel, module and image); awaited after the other boots.
    let mut stress = None;
    t.check("stress suite on the debug kernel: start it", || {
        stress = Some(crate::tasks::stress::start(p, verbose)?);
        Ok(true)
    });
    t.check(
        "smoke test + stress cases on the emulated Orange Pi PC",
        || match built {
            Some(b) => {
                crate::device::checks::smoke_emulated(p, b, verbose, Then::EveryKernelStress)
            }
            None => bail!("the build failed, nothing to boot"),
        },
    );
    t.check(
        "smoke test through a pty: smoke --serial /dev/pts/N --login root",
        || match built {
            Some(b) => crate::tasks::smoke::through_pty(p, b, verbose),
            None => bail!("the build failed, nothing to boot"),
        },
    );
    for from in &crate::build::kernel::source::DEBIAN {
        if from == crate::build::kernel::source::BOOKWORM {
            continue; // the smoke test above
        }
        t.check(
            &format!(
                "smoke test + coexistence + stress cases on Debian {} (emulated Orange Pi PC)",
                from.version
            ),
            || crate::tasks::smoke::emulated(p, from, verbose, None, Then::EveryKernelStress),
        );
    }
    t.check(
        "smoke test + coexistence on aarch64 (QEMU virt, Cortex-A53, Debian 6.1 arm64)",
        || {
            let board = &crate::build::kernel::QEMU_VIRT_ARM64;
            crate::tasks::smoke::emulated_board(p, board, verbose, None, Then::Done)
        },
    );
    t.check(
        "packages (Buildroot, OpenWrt, Tina) install what the aarch64 image has",
        || crate::tasks::packaging::check_board(p, &crate::build::kernel::QEMU_VIRT_ARM64),
    );
    t.check(
        "cross-rs in containers: armv7 gnueabihf/musleabihf, aarch64 musl; armv7 musl image smoke",
        || crate::tasks::cross::run(p, verbose),
    );
    t.check("stress suite on the debug kernel", || match stress.take() {
        Some(s) => s.wait(),
        None => bail!("it did not start"),
    });
}

impl Tally {
    /// Prints each check's verdict and the tally; whether all passed.
    fn summary(&self, start: Instant) -> bool {
        let passed = self.results.iter().filter(|r| r.1).count();
        let failed = self.results.len() - passed;
        eprintln!();
        for (name, ok, why) in &self.results {
            eprintln!(
                "  {} {name}{}",
                if *ok { "ok  " } else { "FAIL" },
                if *ok {
                    String::new()
                } else {
                    format!(": {}", why.lines().next().unwrap_or(""))
                }
            );
        }
        eprintln!(
            "cargo board test: {} in {}",
            if failed == 0 { "PASS" } else { "FAIL" },
            sh::dur(start.elapsed())
        );
        println!("summary: {passed} passed, {failed} failed");
        failed == 0
    }
}
