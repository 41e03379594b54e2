// SPDX-License-Identifier: MIT OR Apache-2.0
//! The packaging front ends against the emulated image: the install steps
//! of the Buildroot packages (`buildroot/package/*/*.mk`) and of the
//! OpenWrt/Tina package (`buildroot/openwrt/nlchan/Makefile`) are run
//! through stand-ins for those frameworks (`board/fake-frameworks/`), and
//! what they install is compared file by file (path, mode, bytes) with the
//! emulated image's staging folder.
//!
//! A package that copied files by a list of its own could still match
//! today's image, so the same runs are repeated after each shared recipe
//! (`kmod/`, `app/`, `board/rootfs/` `make install`, `app/` and
//! `board/target-tests/` `make install-tests`) has been made to install
//! one more file: every front end must then ship it too. Last, each bug the packages once had is put back, one at a time,
//! into a copy of the package file: the stand-ins must then fail.
//!
//! The jobs: [`tree`] (the file-tree model), [`fronts`] (the stand-in
//! runners), [`canary`] (the second round's extra files), [`mutations`]
//! (the bugs put back) and [`lint`] (Buildroot's conventions).

mod canary;
mod fronts;
mod lint;
mod mutations;
mod tree;

use crate::build::kernel::{Board, Kernel};
use crate::run::project::Project;
use anyhow::{bail, Result};
use fronts::{Front, Run};
use std::path::Path;
use tree::{diff, procd_reference, reference, Tree, TESTS_DIR};

/// What the front ends must install: the emulated image's files (busybox
/// init), the same without the test tools, and the procd image's.
struct Wanted {
    sysv: Tree,
    sysv_no_tests: Tree,
    procd: Tree,
}

impl Wanted {
    fn read(p: &Project) -> Result<Wanted> {
        let sysv = reference(p)?;
        let procd = procd_reference(p, &sysv)?;
        let mut sysv_no_tests = sysv.clone();
        sysv_no_tests.retain(|path, _| !path.starts_with(TESTS_DIR));
        if sysv_no_tests.len() == sysv.len() {
            bail!("the emulated image has no {TESTS_DIR} (install-tests)");
        }
        eprintln!(
            "    emulated image, package files: {}",
            sysv.keys().cloned().collect::<Vec<_>>().join(" ")
        );
        Ok(Wanted {
            sysv,
            sysv_no_tests,
            procd,
        })
    }
}

/// Runs every front end twice (as is, then with a file added to each
/// recipe) and compares, then checks that each mutation is caught; returns
/// whether everything matched.
pub fn check(p: &Project, k: &Kernel, app: &Path) -> Result<bool> {
    let lint = lint::lint_buildroot(&p.root)?;
    if !lint.is_empty() {
        bail!(
            "buildroot/package breaks Buildroot's conventions:\n{}",
            lint.join("\n")
        );
    }
    let wanted = Wanted::read(p)?;
    let run = Run::prepare(p, k, app)?;
    let bin = run.buildroot_cargo()?;
    eprintln!(
        "    Buildroot nlchan: built offline from vendored crates: {}",
        bin.display()
    );
    let mut failures = Vec::new();
    let missed = mutations::uncaught(&run, &wanted.sysv_no_tests, &wanted.sysv, &wanted.procd);
    if !missed.is_empty() {
        failures.push(format!("mutations not caught: {}", missed.join("; ")));
    }
    let mut canaries = Tree::new();
    for round in ["as-is", "canary"] {
        if round == "canary" {
            canaries = canary::add_canaries(&run.src)?;
        }
        failures.extend(compare(&run, round, &wanted, &canaries));
    }
    if !failures.is_empty() {
        bail!(
            "front ends that do not install what the shared recipes install, or \
             that a bug put back does not break: {}\n\
             (a file only the emulated image should have belongs in \
             packaging::emulated_only)",
            failures.join(", ")
        );
    }
    Ok(true)
}

/// The front ends as is, against the image of another emulated `board`
/// (built first, in outputs of its own): each must install what that
/// image has, built for its architecture. The canaries, the mutations and
/// the offline cargo build are the same on every architecture: [`check`]
/// runs them.
pub fn check_board(p: &Project, board: &'static Board) -> Result<bool> {
    let p = &p.variant(board.name)?;
    let b = crate::build::image::build_for(p, board)?;
    let (k, app) = (&b.kernel, b.app.as_path());
    let wanted = Wanted::read(p)?;
    let run = Run::prepare(p, k, app)?;
    let failures = compare(&run, "as-is", &wanted, &Tree::new());
    if !failures.is_empty() {
        bail!(
            "front ends that do not install what the {} image has: {}",
            k.arch.name,
            failures.join(", ")
        );
    }
    Ok(true)
}

/// One round: every front end run and compared with what it must install
/// (the image's files and the canaries added so far); returns the front
/// ends that differ.
fn compare(run: &Run, round: &str, wanted: &Wanted, canaries: &Tree) -> Vec<String> {
    let with = |t: &Tree, tests: bool| -> Tree {
        let mut t = t.clone();
        t.extend(canaries.clone());
        if !tests {
            t.retain(|path, _| !path.starts_with(TESTS_DIR));
        }
        t
    };
    // Buildroot without the tests as is, with them after the canaries.
    let br_tests = round == "canary";
    let fronts = [
        (
            Front::Buildroot { tests: br_tests },
            with(&wanted.sysv, br_tests),
        ),
        (Front::OpenWrt, with(&wanted.procd, true)),
        (Front::Tina, with(&wanted.sysv, true)),
    ];
    let mut failures = Vec::new();
    for (front, want) in fronts {
        let name = front.name();
        let d = match run.run(front, round) {
            Ok(got) => diff(&want, &got),
            Err(e) => vec![format!("{e:#}")],
        };
        if d.is_empty() {
            eprintln!("    {round}: {name}: {} files match", want.len());
        } else {
            eprintln!(
                "    {round}: {name}: DIFFERS:\n      {}",
                d.join("\n      ")
            );
            failures.push(format!("{round}: {name}"));
        }
    }
    failures
}
