// SPDX-License-Identifier: MIT OR Apache-2.0
//! The canaries: one more file that each shared recipe's `install` or
//! `install-tests` installs in the second round, so that a front end copying
//! files by a list of its own is caught.

use super::tree::{Entry, Tree};
use anyhow::Result;
use std::fs;
use std::path::Path;

/// The recipes the front ends must call: folder, canary name, the make
/// target that gains the canary in the second round, and where it goes.
/// kmod's hangs on `install-headers` (which `install` runs): Buildroot's
/// package lets kbuild install the module and stages the header alone.
const CANARIES: [(&str, &str, &str, &str); 5] = [
    ("kmod", "kmod", "install-headers", "usr/share/nlchan"),
    ("app", "app", "install", "usr/share/nlchan"),
    ("board/rootfs", "rootfs", "install", "usr/share/nlchan"),
    ("app", "app-tests", "install-tests", "usr/lib/nlchan/tests"),
    (
        "board/target-tests",
        "target-tests",
        "install-tests",
        "usr/lib/nlchan/tests",
    ),
];

/// Makes every shared recipe's `install` and `install-tests` install one
/// more file.
pub(super) fn add_canaries(src: &Path) -> Result<Tree> {
    let mut added = Tree::new();
    for (dir, name, target, to) in CANARIES {
        let makefile = src.join(dir).join("Makefile");
        let mut text = fs::read_to_string(&makefile)?;
        text.push_str(&format!(
            "\n{target}: nlchan-canary-{name}\nnlchan-canary-{name}:\n\
             \tmkdir -p $(DESTDIR)/{to}\n\
             \techo {name} >$(DESTDIR)/{to}/canary-{name}\n\
             \tchmod 0644 $(DESTDIR)/{to}/canary-{name}\n"
        ));
        fs::write(&makefile, text)?;
        added.insert(
            format!("{to}/canary-{name}"),
            Entry {
                mode: 0o644,
                data: format!("{name}\n").into_bytes(),
            },
        );
    }
    Ok(added)
}
