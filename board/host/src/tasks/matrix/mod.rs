// SPDX-License-Identifier: MIT OR Apache-2.0
//! The module's compatibility matrix: nlchan.ko built out of tree, with
//! `W=1`, against each kernel source Debian's archive offers (5.10 from
//! bullseye, 6.1 from bookworm, 6.12 from bookworm-backports) for
//! `ARCH=arm` (`multi_v7_defconfig` with `CONFIG_KUNIT=y`, so that the
//! KUnit suite nlchan-kunit.ko is built too, + `modules_prepare`, cached),
//! and against 6.1 for arm64 and riscv64 (`defconfig`, the same way), then
//! sparse (`C=2`, the issue asks for 6.1; it is clean on all three) and the
//! module's metadata read back with `modinfo`.
//!
//! A tree prepared with `modules_prepare` has no `Module.symvers`, so
//! modpost runs with `KBUILD_MODPOST_WARN=1` and cannot tell whether the
//! module's imports exist (it lists only the first ten, or none on 5.10).
//! Instead every undefined symbol of nlchan.ko (`nm -u`) must be exported
//! (`EXPORT_SYMBOL*`) by that kernel's source.
//!
//! `--kernel-tree DIR` runs the same checks (W=1, imports, modinfo; no
//! sparse) against kernel trees a board team has instead, e.g. a Tina SDK's
//! `lichee/linux-4.9`: see [`run_trees`].
//!
//! The jobs: [`debian`] (Debian's kernel sources, unpacked and prepared),
//! [`trees`] (kernel trees given on the command line), [`module`] (the
//! checks every kernel gets) with [`warnings`], [`symbols`] and
//! [`modinfo`], [`toolchain`] (how kbuild is called) and [`table`] (the
//! result table).

mod boot;
mod debian;
mod modinfo;
mod module;
mod symbols;
mod table;
mod toolchain;
mod trees;

use crate::run::project::Project;
use crate::run::sh;
use anyhow::Result;
use table::{print_table, Row};
pub use trees::Trees;

/// Runs the matrix, prints its table; returns whether every kernel passed.
pub fn run(p: &Project) -> Result<bool> {
    let mut rows = Vec::new();
    for t in &debian::TARGETS {
        rows.push(debian_row(p, t, &debian::ARM));
    }
    for arch in &debian::OTHER_ARCHES {
        rows.push(debian_row(p, crate::build::kernel::source::BOOKWORM, arch));
    }
    print_table(&rows, "release (Debian package)");
    Ok(rows.iter().all(Row::ok))
}

/// The row of Debian's kernel `t` for `arch`.
fn debian_row(p: &Project, t: &debian::Target, arch: &debian::Arch) -> Row {
    let mut row = Row {
        kernel: t.version.to_string(),
        arch: arch.what.to_string(),
        strict: true,
        // Debian 12's sparse (0.6.4) refuses 6.1's riscv -march string
        // ("invalid argument to '-march': '_zicsr_zifencei...'").
        run_sparse: arch.name != "riscv",
        ..Row::default()
    };
    let step = format!("kernel {} {} ({})", t.version, arch.what, t.pkg);
    if let Err(e) = sh::step(&step, || debian::check(p, t, arch, &mut row)) {
        eprintln!("    {e:#}");
        row.error = Some(format!("{e:#}"));
    }
    row
}

/// Runs the matrix's checks (W=1 build, imports, modinfo; not sparse,
/// which old kernels' headers flood) against kernel trees a board team has,
/// e.g. a Tina SDK's `lichee/linux-4.9`, preparing each one first if it is
/// not (`modules_prepare`, in the tree). Prints a table row per tree;
/// returns whether every tree passed.
///
/// Warnings a tree itself raises in any module (vendor trees have some, see
/// [`crate::build::warnings::split_warnings`]) are listed and counted apart; they do not
/// fail a tree's row. The Debian trees, which are mainline, have none and
/// stay strict about them.
pub fn run_trees(p: &Project, trees: &Trees) -> Result<bool> {
    let mut rows = Vec::new();
    for (i, dir) in trees.dirs.iter().enumerate() {
        let mut row = Row {
            kernel: "?".into(),
            ..Row::default()
        };
        if let Err(e) = sh::step(&format!("kernel tree {}", dir.display()), || {
            trees::check_tree(p, trees, i + 1, dir, &mut row)
        }) {
            eprintln!("    {e:#}");
            // The table has room for the cause, not for the step's name.
            let cause: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
            row.error = Some(cause.join(": "));
        }
        rows.push(row);
    }
    print_table(&rows, "release (tree)");
    Ok(rows.iter().all(Row::ok))
}

/// `--kernel-tree DIR --boot`: builds each tree for a machine QEMU runs,
/// boots it with the module and the emulated image, runs the smoke job
/// ([`boot`]); returns whether every tree passed.
pub fn boot_trees(p: &Project, trees: &Trees, verbose: bool) -> Result<bool> {
    let mut all = true;
    for (i, dir) in trees.dirs.iter().enumerate() {
        let ok = sh::step(&format!("boot kernel tree {}", dir.display()), || {
            boot::boot_tree(p, i + 1, dir, trees.fragment.as_deref(), verbose)
        });
        match ok {
            Ok(true) => eprintln!("    {}: PASS", dir.display()),
            Ok(false) => {
                eprintln!("    {}: FAIL", dir.display());
                all = false;
            }
            Err(e) => {
                eprintln!("    {}: FAIL: {e:#}", dir.display());
                all = false;
            }
        }
    }
    Ok(all)
}
