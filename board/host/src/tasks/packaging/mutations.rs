// SPDX-License-Identifier: MIT OR Apache-2.0
//! The mutations: each bug the packages once had, put back one at a time
//! into a copy of its package file; the front end it concerns must fail.

use super::fronts::{Front, Run};
use super::tree::{diff, Tree};
use anyhow::{bail, Result};
use std::fs;

/// A bug a package once had, put back into a copy of the package file:
/// `from` replaced by `to`. The front end must then fail, saying `expect`.
struct Mutation {
    finding: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
    front: Front,
    expect: &'static str,
}

const BR_APP: &str = "buildroot/package/nlchan/nlchan.mk";
const BR_KMOD: &str = "buildroot/package/nlchan-kmod/nlchan-kmod.mk";
const OPENWRT: &str = "buildroot/openwrt/nlchan/Makefile";

const MUTATIONS: [Mutation; 9] = [
    Mutation {
        finding: "1: NLCHAN_TESTS installs no test tools",
        file: BR_APP,
        // The app's line: board/target-tests has no `install` to call by
        // mistake (make fails at once).
        from:
            "/app NLCHAN_BIN=$(NLCHAN_BIN_DIR)/nlchan \\\n\t\tDESTDIR=$(TARGET_DIR) install-tests",
        to: "/app NLCHAN_BIN=$(NLCHAN_BIN_DIR)/nlchan \\\n\t\tDESTDIR=$(TARGET_DIR) install",
        front: Front::Buildroot { tests: true },
        expect: "missing usr/lib/nlchan/tests/",
    },
    Mutation {
        finding: "3: Tina's kbuild call uses KERNEL_MAKE_FLAGS",
        file: OPENWRT,
        from: "+$(MAKE) $(NLCHAN_KBUILD_FLAGS) -C $(LINUX_DIR) M=",
        to: "+$(MAKE) $(KERNEL_MAKE_FLAGS) -C $(LINUX_DIR) M=",
        front: Front::Tina,
        expect: "ARCH is ''",
    },
    Mutation {
        finding: "4: cargo install without --no-track and --bin",
        file: OPENWRT,
        from: "--no-track $(addprefix --bin ,$(NLCHAN_CARGO_BINS))",
        to: "",
        front: Front::OpenWrt,
        expect: "extra .crates.toml",
    },
    Mutation {
        finding: "4: no PKG_BUILD_PARALLEL",
        file: OPENWRT,
        from: "PKG_BUILD_PARALLEL:=1\n",
        to: "",
        front: Front::OpenWrt,
        expect: "PKG_BUILD_PARALLEL",
    },
    Mutation {
        finding: "4: DEPENDS without RUST_ARCH_DEPENDS",
        file: OPENWRT,
        from: "DEPENDS:=+kmod-nlchan $(RUST_ARCH_DEPENDS)",
        to: "DEPENDS:=+kmod-nlchan",
        front: Front::OpenWrt,
        expect: "lacks $(RUST_ARCH_DEPENDS)",
    },
    Mutation {
        finding: "5: the module installed by the package and by kbuild",
        file: BR_KMOD,
        from: "$(eval $(kernel-module))",
        to: "define NLCHAN_KMOD_INSTALL_TARGET_CMDS\n\
             \t$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/kmod KDIR=$(LINUX_DIR) \\\n\
             \t\tDESTDIR=$(TARGET_DIR) install\n\
             endef\n\n$(eval $(kernel-module))",
        front: Front::Buildroot { tests: false },
        expect: "installed twice",
    },
    Mutation {
        finding: "5: the header installed into the target",
        file: BR_KMOD,
        from: "DESTDIR=$(STAGING_DIR)",
        to: "DESTDIR=$(TARGET_DIR)",
        front: Front::Buildroot { tests: false },
        expect: "missing usr/include/linux/nlchan.h",
    },
    Mutation {
        finding: "6: no PKG_EXTMOD_SUBDIRS",
        file: OPENWRT,
        from: "PKG_EXTMOD_SUBDIRS:=kmod\n",
        to: "",
        front: Front::OpenWrt,
        expect: "did not publish",
    },
    Mutation {
        finding: "7: a check-package rule broken",
        file: BR_APP,
        from: "NLCHAN_LICENSE = ",
        to: "NLCHAN_LICENSE=",
        front: Front::Lint,
        expect: "one space each side",
    },
];

/// Puts each bug back (`MUTATIONS`) into a copy of its package file and
/// runs the front end it concerns; returns the mutations not caught.
pub(super) fn uncaught(
    run: &Run,
    want_no_tests: &Tree,
    want_tests: &Tree,
    procd: &Tree,
) -> Vec<String> {
    let mut missed = Vec::new();
    for (i, m) in MUTATIONS.iter().enumerate() {
        let want = match m.front {
            Front::Buildroot { tests: false } => want_no_tests,
            Front::OpenWrt => procd,
            _ => want_tests,
        };
        if !caught(m, apply(run, i, m, want)) {
            missed.push(m.finding.to_string());
        }
    }
    missed
}

/// Runs the front end of mutation `m` (the `i`th) with it applied, then
/// puts the file back; returns the differences from `want`, or the error.
fn apply(run: &Run, i: usize, m: &Mutation, want: &Tree) -> Result<Vec<String>> {
    let file = run.src.join(m.file);
    let text = fs::read_to_string(&file)?;
    if !text.contains(m.from) {
        bail!(
            "the mutation no longer applies: {} has no {:?}",
            m.file,
            m.from
        );
    }
    fs::write(&file, text.replace(m.from, m.to))?;
    let got = run.run(m.front, &format!("mutation-{i}"));
    fs::write(&file, text)?;
    Ok(match got {
        Ok(got) => diff(want, &got),
        Err(e) => vec![format!("{e:#}")],
    })
}

/// Reports what the mutation's run gave; returns whether it was caught.
fn caught(m: &Mutation, result: Result<Vec<String>>) -> bool {
    match result {
        Ok(d) if d.iter().any(|l| l.contains(m.expect)) => {
            let line = d
                .iter()
                .flat_map(|l| l.lines())
                .find(|l| l.contains(m.expect))
                .unwrap_or_default();
            eprintln!(
                "    mutation {}: caught by {}: {}",
                m.finding,
                m.front.name(),
                line.trim()
            );
            true
        }
        Ok(d) => {
            eprintln!(
                "    mutation {}: NOT caught by {} (want {:?}):\n      {}",
                m.finding,
                m.front.name(),
                m.expect,
                d.join("\n      ")
            );
            false
        }
        Err(e) => {
            eprintln!("    mutation {}: {e:#}", m.finding);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn mutations_apply_to_the_package_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for m in &MUTATIONS {
            let text = fs::read_to_string(root.join(m.file)).unwrap();
            assert!(text.contains(m.from), "{}: {:?}", m.finding, m.from);
        }
    }
}
