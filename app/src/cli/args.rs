// SPDX-License-Identifier: MIT OR Apache-2.0
//! The command line: one table of options ([`OPTIONS`]) drives the parser
//! (lexopt), the help texts and the "not accepted here" errors.
//!
//! Standard syntax: `-c5`, `-c 5`, `--count=5`, `--count 5`; `--` ends the
//! options (`nlchan send -- -x` sends "-x"). Options that go with every
//! command (`--transport`, `--unit`, `--timeout`) may also come before the
//! command; a command refuses, with exit 64, every option it does not use.
//! Payloads are taken as bytes, UTF-8 or not. Parsing runs once, at
//! start-up.
//!
//! The table is here; the parser is in `args/parse.rs`, the help texts in
//! `args/help.rs`. They depend on the library and lexopt alone (the fuzz
//! target `cli_args` runs them).

#![forbid(unsafe_code)]

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use crate::proto;
use crate::transport::Kind as TransportKind;

/// Netlink units are numbered below `MAX_LINKS` (32).
pub const MAX_UNIT: u32 = proto::UNIT_LIMIT - 1;

/// Largest `--batch` (the ping engine's `MAX_BATCH`: its replies fit one
/// `u64` bit mask).
pub const MAX_BATCH: usize = 64;

/// A bad command line: the message printed after `nlchan: error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The seven commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// `send <text>`
    Send,
    /// `echo <text>`
    Echo,
    /// `listen`
    Listen,
    /// `trigger <text>`
    Trigger,
    /// `status`
    Status,
    /// `ping`
    Ping,
    /// `bench`
    Bench,
}

/// Sets of commands, as bits (an [`Opt`]'s `cmds`).
mod bits {
    pub const SEND: u8 = 1;
    pub const ECHO: u8 = 1 << 1;
    pub const LISTEN: u8 = 1 << 2;
    pub const TRIGGER: u8 = 1 << 3;
    pub const STATUS: u8 = 1 << 4;
    pub const PING: u8 = 1 << 5;
    pub const BENCH: u8 = 1 << 6;
    /// May come before the command; listed by `nlchan --help`.
    pub const GLOBAL: u8 = 1 << 7;
    pub const ALL: u8 = SEND | ECHO | LISTEN | TRIGGER | STATUS | PING | BENCH;
}
use bits::*;

impl Name {
    const ALL: [Name; 7] = [
        Name::Send,
        Name::Echo,
        Name::Listen,
        Name::Trigger,
        Name::Status,
        Name::Ping,
        Name::Bench,
    ];

    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The command's name on the command line.
    pub fn as_str(self) -> &'static str {
        self.doc().name
    }

    fn doc(self) -> &'static CommandDoc {
        &COMMANDS[self as usize]
    }

    fn takes_text(self) -> bool {
        matches!(self, Name::Send | Name::Echo | Name::Trigger)
    }

    fn find(name: &OsStr) -> Option<Name> {
        Name::ALL
            .into_iter()
            .find(|n| n.as_str().as_bytes() == name.as_bytes())
    }
}

/// What an option sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    /// `--transport unit|genl`
    Transport,
    /// `--unit N`
    Unit,
    /// `--timeout SECS`
    Timeout,
    /// `-c, --count N`
    Count,
    /// `-s, --size SIZE`
    Size,
    /// `--batch B`
    Batch,
    /// `--idle SECS`
    Idle,
    /// `--repeat N`
    Repeat,
    /// `--json`
    Json,
    /// `--no-gather`
    NoGather,
    /// `-h, --help`
    Help,
    /// `-V, --version`
    Version,
}

/// One row of the option table: an option, its value's name (`None`: a
/// flag), the commands that take it with this meaning, and its help text
/// (continuation lines start at the help column). An option may have one
/// row per meaning; it is accepted by the commands of all its rows.
#[derive(Debug)]
pub struct Opt {
    /// What it sets.
    pub id: Id,
    /// Long name, without the dashes.
    pub long: &'static str,
    /// Short name.
    pub short: Option<char>,
    /// Name of its value in the help.
    pub value: Option<&'static str>,
    /// Commands (and [`bits::GLOBAL`]) of this row.
    pub cmds: u8,
    /// Help text.
    pub help: &'static str,
}

const fn opt(
    id: Id,
    long: &'static str,
    short: Option<char>,
    value: Option<&'static str>,
    cmds: u8,
    help: &'static str,
) -> Opt {
    Opt {
        id,
        long,
        short,
        value,
        cmds,
        help,
    }
}

/// Every option of every command.
pub const OPTIONS: [Opt; 18] = [
    opt(
        Id::Transport,
        "transport",
        None,
        Some("unit|genl"),
        GLOBAL | ALL,
        "unit: the module's classic netlink unit (exit 69 when it\n\
         has none); genl: its generic netlink family; trigger: check\n\
         that the module serves it",
    ),
    opt(
        Id::Unit,
        "unit",
        None,
        Some("N"),
        GLOBAL | ALL,
        "the classic unit, which must be the one the module owns\n\
         (implies --transport unit)",
    ),
    opt(
        Id::Timeout,
        "timeout",
        None,
        Some("SECS"),
        GLOBAL,
        "reply timeout (default 2); listen: stop after SECS;\n\
         not taken by trigger and status",
    ),
    opt(
        Id::Timeout,
        "timeout",
        None,
        Some("SECS"),
        SEND | ECHO,
        "wait this long for the reply (default 2)",
    ),
    opt(
        Id::Timeout,
        "timeout",
        None,
        Some("SECS"),
        LISTEN,
        "stop after SECS (success unless --count is given)",
    ),
    opt(
        Id::Timeout,
        "timeout",
        None,
        Some("SECS"),
        PING | BENCH,
        "wait this long for a datagram's replies (default 2);\n\
         replies not in by then count as lost",
    ),
    opt(
        Id::Count,
        "count",
        Some('c'),
        Some("N"),
        LISTEN,
        "exit after N broadcasts (75 if a timeout ends first)",
    ),
    opt(
        Id::Count,
        "count",
        Some('c'),
        Some("N"),
        PING,
        "requests to send (default 1000)",
    ),
    opt(
        Id::Count,
        "count",
        Some('c'),
        Some("N"),
        BENCH,
        "round trips per run (default 10000)",
    ),
    opt(
        Id::Size,
        "size",
        Some('s'),
        Some("SIZE"),
        PING | BENCH,
        "payload bytes, 0 to 125 (default 64)",
    ),
    opt(
        Id::Batch,
        "batch",
        None,
        Some("B"),
        PING,
        "requests per datagram, 1 to 64 (default 1); on the\n\
         classic unit the requests carry NLCHAN_F_GATHER, so the\n\
         module gathers their replies into few datagrams (generic\n\
         netlink sends one per reply); taken up to 16 per system\n\
         call (recvmmsg)",
    ),
    opt(
        Id::NoGather,
        "no-gather",
        None,
        None,
        PING,
        "do not set NLCHAN_F_GATHER: one reply per datagram",
    ),
    opt(
        Id::Idle,
        "idle",
        None,
        Some("SECS"),
        LISTEN,
        "stop after SECS without a broadcast",
    ),
    opt(
        Id::Repeat,
        "repeat",
        None,
        Some("N"),
        TRIGGER,
        "write it N times through one open file (N broadcasts)",
    ),
    opt(
        Id::Json,
        "json",
        None,
        None,
        LISTEN,
        "one JSON object per line on stdout (see below)",
    ),
    opt(
        Id::Json,
        "json",
        None,
        None,
        PING | BENCH,
        "one JSON object instead of the text report; its\n\
         \"transport\" is \"unit\" or \"genl\"",
    ),
    opt(
        Id::Help,
        "help",
        Some('h'),
        None,
        GLOBAL | ALL,
        "show this help; `nlchan <command> --help` for a command",
    ),
    opt(
        Id::Version,
        "version",
        Some('V'),
        None,
        GLOBAL,
        "show the version",
    ),
];

/// Column of the help texts in an option list.
const HELP_COLUMN: usize = 19;

/// The commands that take option `id`, as bits.
fn takers(id: Id) -> u8 {
    OPTIONS
        .iter()
        .filter(|o| o.id == id)
        .fold(0, |acc, o| acc | o.cmds)
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `--help`, of one command or of all.
    Help(Option<Name>),
    /// `--version`
    Version,
    /// `send <text>`
    Send(Vec<u8>),
    /// `echo <text>`
    Echo(Vec<u8>),
    /// `listen`
    Listen,
    /// `trigger <text>`
    Trigger(Vec<u8>),
    /// `status`
    Status,
    /// `ping`
    Ping,
    /// `bench`
    Bench,
}

/// Options given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--transport`
    pub transport: Option<TransportKind>,
    /// `--unit`
    pub unit: Option<u32>,
    /// `--timeout`
    pub timeout: Option<Duration>,
    /// `--count`
    pub count: Option<u64>,
    /// `--size`
    pub size: Option<usize>,
    /// `--batch`
    pub batch: Option<usize>,
    /// `--idle`
    pub idle: Option<Duration>,
    /// `--repeat`
    pub repeat: Option<u64>,
    /// `--json`
    pub json: bool,
    /// `--no-gather`
    pub no_gather: bool,
}

/// One command: name, synopsis, one-line summary and its manual page
/// (`about`, then its options from [`OPTIONS`], then `more`).
struct CommandDoc {
    name: &'static str,
    synopsis: &'static str,
    summary: &'static str,
    about: &'static str,
    more: &'static str,
}

/// In the order of [`Name`].
const COMMANDS: [CommandDoc; 7] = [
    CommandDoc {
        name: "send",
        synopsis: "send <text>",
        summary: "send <text> to the module and print its reply",
        about: "\
Send <text> as a SEND request and print the module's reply (its greeting,
\"hello users!!!\"). The module logs the text with its exact length.",
        more: "\
Exit status: 0 reply printed, 65 text over 125 bytes (nothing sent),
69 module not loaded, 75 no reply in time, 77 not allowed (CAP_NET_ADMIN).

Example: nlchan send \"hello netlink!!\"",
    },
    CommandDoc {
        name: "echo",
        synopsis: "echo <text>",
        summary: "have the module echo <text> and print the echo",
        about: "\
Send <text> as an ECHO request and print the echo; it must match the text
sent byte for byte (else exit 76).",
        more: "Example: nlchan echo -- -starts-with-a-dash",
    },
    CommandDoc {
        name: "listen",
        synopsis: "listen [--count N] [--timeout SECS] [--idle SECS] [--json]",
        summary: "print the module's broadcasts, one per line (--json)",
        about: "\
Join the broadcast group (group 1 of the classic unit, or the generic
netlink group \"broadcast\"), announce it on stderr (\"nlchan: listening on
unit 30 group 1\", or \"... on genl family 0x1a group 5\") and print each
broadcast as it arrives, one line each. Broadcasts this listener missed are
counted and reported, never hidden: plain output warns on stderr
(\"nlchan: warning: N broadcasts lost\"). Where the kernel has SO_MEMINFO
(Linux 4.12+), the count is the socket's drop counter, read again at the
end so that received + lost = sent; before 4.12 it comes from gaps in the
broadcasts' sequence numbers (a lower number than expected is a late
arrival, not a loss; broadcasts missed after the last one received leave
no gap). SIGINT or SIGTERM ends it as the count, timeout or idle time
does (final figures, exit 0).",
        more: "\
With --json, each broadcast is
  {\"time\":T,\"event\":\"broadcast\",\"seq\":S,\"len\":N,\"payload\":\"...\",
   \"hex\":\"...\",\"lost\":L}
(T: Unix time in seconds, S: its sequence number, 0 from a module without
them, payload: the text, UTF-8 kept, control characters as \\u00NN and
bytes that are not UTF-8 as \\ufffd; hex: every byte, two hex digits each;
L: total lost so far), losses found are {\"time\":T,\"event\":\"lost\",\"count\":N,\"lost\":L},
and the last line is
  {\"time\":T,\"missed\":M,\"late\":K,\"loss_from\":F,\"event\":\"end\",
   \"received\":R,\"lost\":L}
(M: missing from sequence gaps, K: late arrivals, F: \"so_meminfo\" or
\"seq_gaps\", what L counts).

Example: nlchan listen --json --idle 5 | jq .payload",
    },
    CommandDoc {
        name: "trigger",
        synopsis: "trigger [--repeat N] <text>",
        summary: "broadcast <text> through the device's sysfs send_msg",
        about: "\
Write <text> to the device's sysfs send_msg (no newline added), which
broadcasts it on both transports. Needs root. With --transport or --unit,
first check that the module serves that transport (exit 69 if not).",
        more: "Example: nlchan trigger --repeat 1000 tick",
    },
    CommandDoc {
        name: "status",
        synopsis: "status",
        summary: "show the module, its device and its counters",
        about: "\
Print one \"key: value\" line each:
  module: loaded | not loaded
  unit: 30 | none (generic netlink only)
  transports: unit 30, generic netlink family 0x1a (group 5)
  selected: the transport this command line would use (or none)
  device: the sysfs device directory (or none)
then, when the device exists, its counters: received, replied, errors,
dropped (unicast replies dropped, so received = replied + errors +
dropped), broadcast, broadcast_lost (broadcasts some listener missed),
log_suppressed (rate-limited SEND log lines). Looking the family up does
not load the module.",
        more: "\
Exit status 69 when the module is not loaded, serves no transport, or
lacks the one --transport or --unit asks for.",
    },
    CommandDoc {
        name: "ping",
        synopsis: "ping [-c N] [-s SIZE] [--batch B] [--no-gather] [--json]",
        summary: "round-trip latency and throughput, like ping(8)",
        about: "\
Send N ECHO requests carrying SIZE bytes, B per datagram, wait for every
reply of a datagram before sending the next, and report round-trip times
(min/p50/p99/max, from the datagram's send to the reply's arrival) and
throughput, like ping(8). Replies are checked byte for byte; replies for
other sequence numbers and datagrams not from the kernel are dropped and
counted. Percentiles come from a fixed histogram (within 0.4 %). SIGINT
or SIGTERM stops it early with the report of what was sent (requests
still unanswered count as lost).",
        more: "\
Exit status: 0 every reply arrived intact (stopped by a signal: at least
one reply arrived), 75 some were lost, 76 an echo differed, 69 module not
loaded, 77 not allowed.

Example: nlchan ping -c 10000 -s 64 --batch 16",
    },
    CommandDoc {
        name: "bench",
        synopsis: "bench [-c N] [-s SIZE] [--json]",
        summary: "unbatched and batched round trips, as a table (--json)",
        about: "\
Measure this build against itself: N round trips one request per
datagram, then N in batches of 16 (their replies gathered with
NLCHAN_F_GATHER on the classic unit), and print a table of latency
(min/p50/p99/max) and throughput with the batched/unbatched ratio.
Run it once per transport (--transport unit, --transport genl) to
compare them. The comparison with the C baselines, sizes, memory and
broadcast fan-out is `cargo board bench` on the build host (see the
README).",
        more: "",
    },
];

mod help;
mod parse;

pub use help::{command_help, help, short_usage};
pub use parse::{parse, parse_secs};

#[cfg(test)]
mod tests;
