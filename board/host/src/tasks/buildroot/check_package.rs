// SPDX-License-Identifier: MIT OR Apache-2.0
//! Buildroot's own `utils/check-package` on the project's external tree.

use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Buildroot's `utils/check-package` on every file of the external tree
/// but the OpenWrt package (Debian's python3, with python3-magic and
/// flake8, which it imports).
pub(super) fn check_package(p: &Project, tree: &Path) -> Result<()> {
    let ext = p.root.join("buildroot");
    let found = sh::output(
        cmd("find", [".", "-type", "f", "-not", "-path", "./openwrt/*"]).current_dir(&ext),
    )?;
    let mut files: Vec<&str> = found.lines().collect();
    files.sort();
    let mut c = cmd("/usr/bin/python3", Vec::<&str>::new());
    c.arg(tree.join("utils/check-package"))
        .arg("--br2-external")
        .args(&files)
        .current_dir(&ext);
    let text = sh::logged("check-package", &mut c, &p.out.join("check-package.log"))
        .context("check-package failed (python3-magic and flake8 missing? run `sudo board/bootstrap.sh buildroot`)")?;
    if !text.lines().any(|l| l.trim() == "0 warnings generated") {
        bail!("check-package warns:\n{text}");
    }
    eprintln!("    {} files: 0 warnings", files.len());
    Ok(())
}
