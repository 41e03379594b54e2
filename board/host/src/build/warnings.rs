// SPDX-License-Identifier: MIT OR Apache-2.0
//! The diagnostics of a module build log: which lines count, and which are
//! the module's own rather than the kernel tree's.

use std::path::Path;

/// Compiler and sparse diagnostics, and any modpost warning other than
/// those about unresolved symbols (checked against the kernel's exports).
pub fn warnings(log: &str) -> Vec<&str> {
    log.lines().filter(|l| is_diagnostic(l)).collect()
}

/// Whether a line of a build log is one that [`warnings`] counts.
fn is_diagnostic(l: &str) -> bool {
    const UNRESOLVED: [&str; 3] = [
        "undefined!",
        "unresolved symbol warnings because there were too many",
        "Symbol info of vmlinux is missing",
    ];
    l.contains("warning:")
        || l.contains("error:")
        || (l.contains("modpost:") && !UNRESOLVED.iter().any(|u| l.contains(u)))
}

/// Splits the W=1 diagnostics of a module build (see [`warnings`]) into
/// the module's own and the kernel tree's: a compiler warning located
/// outside the module's folder `dir` (in the tree's headers, or `cc1:` about
/// kbuild's own flags) is the tree's unless a note under it points back
/// into `dir` (a macro expanded there, a function declared there: then the
/// module can avoid it). Vendor trees raise some in every module, e.g.
/// Allwinner's 4.9 `sched.h` with `-Wignored-qualifiers`, or 4.9's kbuild
/// with `O=` (`-Wmissing-include-dirs`).
pub fn split_warnings<'a>(log: &'a str, dir: &Path) -> (Vec<&'a str>, Vec<&'a str>) {
    let dir = dir.to_string_lossy();
    let dir = dir.trim_end_matches('/');
    let in_module = |l: &str| {
        l.strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    let lines: Vec<&str> = log.lines().collect();
    let (mut own, mut tree) = (Vec::new(), Vec::new());
    for (i, l) in lines.iter().enumerate() {
        if !is_diagnostic(l) {
            continue;
        }
        // A compiler diagnostic starts with its file; modpost's do not.
        let compiler = l.contains(": warning:") || l.contains(": error:");
        if !compiler || in_module(l) {
            own.push(*l);
            continue;
        }
        // The notes and source excerpts below it, up to the next diagnostic
        // or the next "In file included from" chain.
        let noted_here = lines[i + 1..]
            .iter()
            .take_while(|n| {
                // kbuild's "  CC [M]  x.o" lines; not "  133 | ..." excerpts.
                let kbuild = n.starts_with("  ")
                    && n.trim_start().starts_with(|c: char| c.is_ascii_uppercase());
                !is_diagnostic(n) && !kbuild && !n.starts_with("In file included from")
            })
            .any(|n| n.contains(": note:") && in_module(n));
        if noted_here {
            own.push(*l);
        } else {
            tree.push(*l);
        }
    }
    (own, tree)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const LOG: &str = "\
  CC [M]  /x/nlchan_main.o
/x/nlchan_main.c:3:1: warning: unused variable 'a' [-Wunused-variable]
  MODPOST /x/Module.symvers
WARNING: modpost: \"netlink_ack\" [/x/nlchan.ko] undefined!
WARNING: modpost: suppressed 14 unresolved symbol warnings because there were too many)
WARNING: modpost: Symbol info of vmlinux is missing. Unresolved symbol check will be entirely skipped.
WARNING: modpost: /x/nlchan.o: section mismatch in reference: a (section: .text) -> b (section: .init.text)
";

    #[test]
    fn finds_warnings_but_not_unresolved_symbols() {
        let w = warnings(LOG);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("unused variable"));
        assert!(w[1].contains("section mismatch"));
    }

    /// A W=1 build against Tina's 4.9 tree with gcc 12 (shortened).
    const TINA_LOG: &str = "\
  CC [M]  /m/kmod/nlchan_main.o
In file included from ./include/linux/ratelimit.h:5,
                 from /m/kmod/nlchan_main.c:17:
./include/linux/sched.h:1260:1: warning: type qualifiers ignored on function return type [-Wignored-qualifiers]
 1260 | const struct sched_group_energy * const(*sched_domain_energy_f)(int cpu);
      | ^~~~~
In file included from /m/kmod/nlchan_main.c:14:
./include/linux/module.h:133:13: warning: 'init_module' specifies less restrictive attribute than its target 'nlchan_init': 'cold' [-Wmissing-attributes]
  133 |         int init_module(void) __attribute__((alias(#initfn)));
      |             ^~~~~~~~~~~
/m/kmod/nlchan_main.c:138:1: note: in expansion of macro 'module_init'
  138 | module_init(nlchan_init);
      | ^~~~~~~~~~~
  CC [M]  /m/kmod/nlchan_unit.o
/m/kmod/nlchan_unit.c:3:1: warning: unused variable 'a' [-Wunused-variable]
/m/kmod-old/x.c:3:1: warning: not in the module's folder [-Wfoo]
  CC [M]  /m/kmod/nlchan_genl.o
./include/net/genetlink.h:9:1: warning: tree only [-Wbar]
  CC      /m/kmod/nlchan.mod.o
WARNING: modpost: /m/kmod/nlchan.o: section mismatch in reference: a (section: .text) -> b (section: .init.text)
";

    #[test]
    fn splits_module_and_tree_warnings() {
        let (own, tree) = split_warnings(TINA_LOG, Path::new("/m/kmod/"));
        assert_eq!(own.len(), 3, "{own:?}");
        assert!(own[0].contains("init_module"));
        assert!(own[1].contains("unused variable"));
        assert!(own[2].contains("section mismatch"));
        assert_eq!(tree.len(), 3, "{tree:?}");
        assert!(tree[0].contains("sched.h"));
        assert!(tree[1].contains("kmod-old"));
        assert!(tree[2].contains("tree only"));
    }
}
