// SPDX-License-Identifier: MIT OR Apache-2.0
//! The checks' tools from PyPI (Debian packages neither at the pinned
//! version), each installed on first use in a venv of its own in the cache
//! (`<name>-venv`, its stamp `.<name>-<version>` naming the pinned
//! version): dtschema (dt-doc-validate, dt-validate, dt-mk-schema) for the
//! device-tree binding, reuse (`reuse lint`) for the licensing information.
//! Needs Debian's python3-venv (installed by board/bootstrap.sh) and PyPI.

use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Result};
use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// A pinned PyPI package.
struct Tool {
    name: &'static str,
    version: &'static str,
}

const DTSCHEMA: Tool = Tool {
    name: "dtschema",
    version: "2026.9",
};
const REUSE: Tool = Tool {
    name: "reuse",
    version: "6.2.0",
};

/// The `bin` folder of dtschema's venv (dt-doc-validate, dt-validate,
/// dt-mk-schema).
pub fn dtschema(p: &Project) -> Result<PathBuf> {
    venv(p, &DTSCHEMA).map(|v| v.join("bin"))
}

/// The `reuse` program.
pub fn reuse(p: &Project) -> Result<PathBuf> {
    venv(p, &REUSE).map(|v| v.join("bin/reuse"))
}

/// Installs (or reuses) `tool` in `<cache>/<name>-venv` and returns it.
fn venv(p: &Project, tool: &Tool) -> Result<PathBuf> {
    let Tool { name, version } = tool;
    let venv = p.cache.join(format!("{name}-venv"));
    let stamp = venv.join(format!(".{name}-{version}"));
    let _lock = sh::lock(&p.cache.join(format!(".{name}-venv.lock")), name)?;
    if stamp.exists() {
        return Ok(venv);
    }
    eprintln!(
        "    installing {name} {version} from PyPI into {}",
        venv.display()
    );
    let _ = fs::remove_dir_all(&venv);
    let log = p.cache.join(format!("{name}-venv.log"));
    if let Err(e) = sh::logged(
        "python3 -m venv",
        cmd("python3", ["-m", "venv"]).arg(&venv),
        &log,
    ) {
        bail!("{e:#}\n(package python3-venv: run `sudo ./board/bootstrap.sh`)");
    }
    if let Err(e) = sh::logged_append(
        &format!("pip install {name}=={version}"),
        Command::new(venv.join("bin/pip"))
            .args(["install", "-q"])
            .arg(format!("{name}=={version}")),
        &log,
    ) {
        let _ = fs::remove_dir_all(&venv);
        bail!("{e:#}\n(is PyPI reachable?)");
    }
    fs::write(&stamp, "")?;
    Ok(venv)
}
