// SPDX-License-Identifier: MIT OR Apache-2.0
//! How kbuild is called for one kernel tree: ARCH, CROSS_COMPILE and CC.

use crate::run::sh::cmd;
use std::process::Command;

/// How kbuild is called for one kernel tree.
pub(super) struct Toolchain {
    pub(super) arch: String,
    pub(super) cross: String,
    /// A `CC=` override, or `None` for kbuild's `$(CROSS_COMPILE)gcc`.
    pub(super) cc: Option<String>,
}

impl Toolchain {
    /// The Debian trees': `ARCH=arch` and Debian's cross gcc `cross` as
    /// it is.
    pub(super) fn debian(arch: &str, cross: &str) -> Toolchain {
        Toolchain {
            arch: arch.into(),
            cross: cross.into(),
            cc: None,
        }
    }

    /// `make ARCH=... CROSS_COMPILE=... [CC=...]`.
    pub(super) fn make(&self) -> Command {
        let mut c = cmd("make", [format!("ARCH={}", self.arch)]);
        c.arg(format!("CROSS_COMPILE={}", self.cross));
        if let Some(cc) = &self.cc {
            c.arg(format!("CC={cc}"));
        }
        c
    }
}
