// SPDX-License-Identifier: MIT OR Apache-2.0
//! The help texts, written from the option table ([`super::OPTIONS`]).

#![forbid(unsafe_code)]

use super::*;

const HELP_ABOUT: &str = "\
Talk to the nlchan kernel module over netlink: over its generic netlink
family \"nlchan\" or, when the module was loaded with unit=N (the seed's
clients use 30), over that classic netlink unit. Without --transport, the
unit the module reports in /sys/module/nlchan/parameters/unit, else
(\"none\", the default) generic netlink. A unit the module does not own is
never used.";

const HELP_MORE: &str = "\
When the module is not loaded, looking up its generic netlink family lets
the kernel load it (module alias net-pf-16-proto-16-family-nlchan).

Payloads are at most 125 bytes. Received payloads are printed one per line,
printable ASCII as is, backslash as \\\\ and any other byte as \\xNN.

Environment: RUST_LOG=debug shows debug logs on stderr;
NLCHAN_SYSFS_ROOT replaces /sys (for tests); NLCHAN_NO_SO_MEMINFO=1 makes
listen count losses from sequence gaps alone, as before Linux 4.12.

Exit status: 0 success (also when stdout is closed early, as by head),
64 usage error, 65 payload too long or rejected, 69 module, transport or
device missing, 74 I/O error, 75 timeout, 76 malformed reply or kernel
error, 77 permission denied.
";

/// Appends `piece` to `text` (the help pages are built with plain pushes:
/// no padding formats).
fn push(text: &mut String, pieces: &[&str]) {
    for piece in pieces {
        text.push_str(piece);
    }
}

/// Pads the line that started at `start` in `text` with spaces up to
/// `column`.
fn pad(text: &mut String, start: usize, column: usize) {
    const SPACES: &str = "                   ";
    let used = text.len() - start;
    if used < column {
        text.push_str(&SPACES[..column - used]);
    }
}

/// `usage: nlchan [--transport unit|genl] [--unit N] ...` with the options
/// that may come before the command and that `name` takes (all of them
/// when `None`), then `tail`.
fn usage_line(text: &mut String, name: Option<Name>, tail: &str) {
    text.push_str("usage: nlchan");
    let mut seen = 0u16;
    for o in &OPTIONS {
        let (Some(value), bit) = (o.value, 1u16 << o.id as u16) else {
            continue;
        };
        let taken = name.is_none_or(|n| takers(o.id) & n.bit() != 0);
        if o.cmds & GLOBAL != 0 && taken && seen & bit == 0 {
            seen |= bit;
            push(text, &[" [--", o.long, " ", value, "]"]);
        }
    }
    push(text, &[" ", tail]);
}

/// The short usage printed after a usage error.
pub fn short_usage() -> String {
    let mut text = String::new();
    usage_line(&mut text, None, "<command> [args]");
    text
}

/// Appends `Options:` and the list of the rows for `bit` (a command's, or
/// [`bits::GLOBAL`]) that `global` says are global or not; nothing when
/// there are none.
fn option_list(text: &mut String, global: bool, bit: u8) {
    let mut title = "\nOptions:\n";
    for o in OPTIONS
        .iter()
        .filter(|o| (o.cmds & GLOBAL != 0) == global && o.cmds & bit != 0)
    {
        text.push_str(title);
        title = "";
        let mut start = text.len();
        text.push_str("  ");
        if let Some(c) = o.short {
            text.push('-');
            text.push(c);
            text.push_str(", ");
        }
        push(text, &["--", o.long]);
        if let Some(v) = o.value {
            push(text, &[" ", v]);
        }
        if text.len() - start >= HELP_COLUMN - 1 {
            text.push('\n');
            start = text.len();
        }
        pad(text, start, HELP_COLUMN);
        // Continuation lines start at the help column.
        let mut rest = o.help;
        while let Some(i) = rest.bytes().position(|b| b == b'\n') {
            text.push_str(&rest[..=i]);
            pad(text, text.len(), HELP_COLUMN);
            rest = &rest[i + 1..];
        }
        push(text, &[rest, "\n"]);
    }
}

/// `nlchan --help` (`None`) or `nlchan <command> --help`.
#[inline(never)]
fn help_page(name: Option<Name>) -> String {
    let mut text = String::new();
    match name {
        None => {
            usage_line(&mut text, None, "<command> [args]");
            push(&mut text, &["\n\n", HELP_ABOUT, "\n\nCommands:\n"]);
            for name in Name::ALL {
                let start = text.len();
                push(&mut text, &["  ", name.as_str()]);
                if name.takes_text() {
                    text.push_str(" <text>");
                }
                pad(&mut text, start, 19);
                push(&mut text, &[name.doc().summary, "\n"]);
            }
            option_list(&mut text, true, GLOBAL);
            push(&mut text, &["\n", HELP_MORE]);
        }
        Some(name) => {
            let doc = name.doc();
            usage_line(&mut text, Some(name), doc.synopsis);
            push(&mut text, &["\n\n", doc.about, "\n"]);
            option_list(&mut text, false, name.bit());
            if !doc.more.is_empty() {
                push(&mut text, &["\n", doc.more, "\n"]);
            }
        }
    }
    text
}

/// `nlchan --help`.
pub fn help() -> String {
    help_page(None)
}

/// `nlchan <command> --help`.
pub fn command_help(name: Name) -> String {
    help_page(Some(name))
}
