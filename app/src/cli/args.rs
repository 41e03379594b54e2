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
//! This file depends on the library and lexopt alone (the fuzz target
//! `cli_args` compiles it as is).

#![forbid(unsafe_code)]

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::Duration;

use lexopt::{Arg, Parser};
use nlchan::proto;
use nlchan::transport::Kind as TransportKind;

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

/// A usage error with message `args`. Every message of this file goes
/// through here: one formatting call, not one per message.
#[inline(never)]
fn bad(args: fmt::Arguments<'_>) -> UsageError {
    UsageError(fmt::format(args))
}

/// `{name} {value:?}: {what}`, the error of a refused option value.
#[inline(never)]
fn bad_value(name: &str, value: &str, what: fmt::Arguments<'_>) -> UsageError {
    bad(format_args!("{name} {value:?}: {what}"))
}

/// Splits `args` (without the program name) into the command and its
/// options.
pub fn parse(args: &[OsString]) -> Result<(Command, Options), UsageError> {
    let mut p = Parser::from_args(args);
    // `-s=0` is not `-s 0`: the value "=0" is refused below.
    p.set_short_equals(false);
    let mut opts = Options::default();
    let mut name: Option<Name> = None;
    // Options given before the command (bits of `Id`), checked once it
    // is known.
    let mut early = 0u16;
    // The first argument after the command, and how many there are.
    let mut text: Option<OsString> = None;
    let mut texts = 0usize;
    while let Some(arg) = p.next().map_err(lexopt_error)? {
        let (row, spelled) = match arg {
            Arg::Value(v) => {
                match name {
                    Some(_) => {
                        texts += 1;
                        text.get_or_insert(v);
                    }
                    None => {
                        let Some(n) = Name::find(&v) else {
                            return Err(bad(format_args!(
                                "unknown command {:?}",
                                v.to_string_lossy()
                            )));
                        };
                        for row in OPTIONS.iter().filter(|o| early & (1 << o.id as u16) != 0) {
                            accepted(row, n)?;
                        }
                        name = Some(n);
                    }
                }
                continue;
            }
            Arg::Short(c) => (
                OPTIONS.iter().find(|o| o.short == Some(c)),
                dashed("-", c.encode_utf8(&mut [0; 4])),
            ),
            Arg::Long(l) => (OPTIONS.iter().find(|o| o.long == l), dashed("--", l)),
        };
        let Some(row) = row else {
            let (place, colon, hint) = match name {
                Some(n) => (
                    n.as_str(),
                    ": ",
                    " (put -- before a text that starts with '-')",
                ),
                None => ("", "", ""),
            };
            return Err(bad(format_args!(
                "{place}{colon}unknown option {spelled:?}{hint}"
            )));
        };
        match name {
            Some(n) => accepted(row, n)?,
            None if takers(row.id) & GLOBAL == 0 => {
                return Err(bad(format_args!("--{} goes after the command", row.long)))
            }
            None => early |= 1 << row.id as u16,
        }
        match row.id {
            Id::Help => return Ok((Command::Help(name), opts)),
            Id::Version => return Ok((Command::Version, opts)),
            Id::Json => opts.json = true,
            Id::NoGather => opts.no_gather = true,
            id => {
                let value = p.value().map_err(lexopt_error)?;
                let value = value.to_string_lossy();
                if spelled.len() == 2 && value.starts_with('=') {
                    return Err(bad_value(
                        &spelled,
                        &value,
                        format_args!(
                            "write {spelled} VALUE, {spelled}VALUE or --{}=VALUE",
                            row.long
                        ),
                    ));
                }
                opts.set(id, &spelled, &value)?;
            }
        }
    }
    let Some(name) = name else {
        return Err(bad(format_args!("no command given")));
    };
    let n = name.as_str();
    let text = match (name.takes_text(), text) {
        (true, Some(text)) if texts == 1 => text.into_vec(),
        (false, None) => Vec::new(),
        (true, None) => return Err(bad(format_args!("{n}: missing <text>"))),
        (true, _) => {
            return Err(bad(format_args!(
                "{n}: one <text> argument expected, got {texts} (quote the text)"
            )))
        }
        (false, _) => return Err(bad(format_args!("{n}: takes no arguments"))),
    };
    if opts.transport == Some(TransportKind::Genl) && opts.unit.is_some() {
        return Err(bad(format_args!(
            "--unit is the classic unit's; it cannot go with --transport genl"
        )));
    }
    let command = match name {
        Name::Send => Command::Send(text),
        Name::Echo => Command::Echo(text),
        Name::Trigger => Command::Trigger(text),
        Name::Listen => Command::Listen,
        Name::Status => Command::Status,
        Name::Ping => Command::Ping,
        Name::Bench => Command::Bench,
    };
    Ok((command, opts))
}

/// `dashes` then `name`: an option as spelled on the command line.
fn dashed(dashes: &str, name: &str) -> String {
    let mut s = String::from(dashes);
    s.push_str(name);
    s
}

/// Fails unless command `name` takes option `row`.
fn accepted(row: &Opt, name: Name) -> Result<(), UsageError> {
    if takers(row.id) & name.bit() != 0 {
        return Ok(());
    }
    let n = name.as_str();
    Err(bad(format_args!(
        "{n} does not take --{} (see nlchan {n} --help)",
        row.long
    )))
}

/// lexopt's errors, in this command's words.
fn lexopt_error(e: lexopt::Error) -> UsageError {
    match e {
        lexopt::Error::MissingValue {
            option: Some(option),
        } => bad(format_args!("{option} needs a value")),
        lexopt::Error::UnexpectedValue { option, .. } => {
            bad(format_args!("{option} takes no value"))
        }
        // Not produced by the calls made here (no parse(), unexpected()
        // or string()); no text from lexopt keeps its formatting out.
        _ => bad(format_args!("bad command line")),
    }
}

impl Options {
    /// Sets option `id` (spelled `name`) from its value `value`.
    fn set(&mut self, id: Id, name: &str, value: &str) -> Result<(), UsageError> {
        match id {
            Id::Unit => self.unit = Some(parse_unit(value)?),
            Id::Transport => {
                self.transport = Some(TransportKind::parse(value).ok_or_else(|| {
                    bad_value("--transport", value, format_args!("expected unit or genl"))
                })?)
            }
            Id::Timeout => self.timeout = Some(parse_secs(name, value)?),
            Id::Idle => self.idle = Some(parse_secs(name, value)?),
            Id::Size => {
                self.size = Some(parse_range(name, value, 0, proto::MSG_LEN as u64)? as usize)
            }
            Id::Batch => self.batch = Some(parse_range(name, value, 1, MAX_BATCH as u64)? as usize),
            Id::Repeat => self.repeat = Some(parse_count(name, value)?),
            Id::Count => self.count = Some(parse_count(name, value)?),
            Id::Json | Id::NoGather | Id::Help | Id::Version => {}
        }
        Ok(())
    }
}

fn parse_unit(value: &str) -> Result<u32, UsageError> {
    match value.parse::<u32>() {
        Ok(unit) if unit <= MAX_UNIT => Ok(unit),
        _ => Err(bad_value(
            "--unit",
            value,
            format_args!("expected a netlink unit from 0 to {MAX_UNIT}"),
        )),
    }
}

/// Parses `SECS` as `<digits>[.<digits>]` (up to nanoseconds), above 0.
pub fn parse_secs(name: &str, value: &str) -> Result<Duration, UsageError> {
    let (whole, frac) = match value.bytes().position(|b| b == b'.') {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let parsed = if (whole.is_empty() && frac.is_empty())
        || !digits(whole)
        || !digits(frac)
        || frac.len() > 9
    {
        None
    } else {
        let secs = if whole.is_empty() {
            Some(0)
        } else {
            whole.parse::<u64>().ok()
        };
        // "5" -> 500_000_000 ns: pad the fraction to nine digits.
        let nanos = frac.bytes().chain(std::iter::repeat(b'0')).take(9);
        let nanos = nanos.fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
        secs.map(|secs| Duration::new(secs, nanos))
    };
    match parsed {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(bad_value(
            name,
            value,
            format_args!("expected a number of seconds above 0"),
        )),
    }
}

fn parse_count(name: &str, value: &str) -> Result<u64, UsageError> {
    parse_range(name, value, 1, u64::MAX)
}

/// Parses a whole number from `min` to `max`.
fn parse_range(name: &str, value: &str, min: u64, max: u64) -> Result<u64, UsageError> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ if max == u64::MAX => Err(bad_value(
            name,
            value,
            format_args!("expected a whole number above {}", min - 1),
        )),
        _ => Err(bad_value(
            name,
            value,
            format_args!("expected a whole number from {min} to {max}"),
        )),
    }
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
  {\"time\":T,\"seq\":S,\"len\":N,\"payload\":\"...\",\"lost\":L}
(T: Unix time in seconds, S: its sequence number, 0 from a module without
them, payload: printable ASCII as is, other bytes as \\u00NN, L: total lost
so far), losses found are {\"time\":T,\"event\":\"lost\",\"count\":N,\"lost\":L},
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn parsed(list: &[&str]) -> Result<(Command, Options), UsageError> {
        parse(&args(list))
    }

    #[test]
    fn parses_commands_and_options() {
        let (cmd, opts) = parsed(&["--unit", "29", "send", "hi there"]).unwrap();
        assert_eq!(cmd, Command::Send(b"hi there".to_vec()));
        assert_eq!(opts.unit, Some(29));
        let (cmd, opts) = parsed(&["listen", "--count=3", "--timeout", "1.5"]).unwrap();
        assert_eq!(cmd, Command::Listen);
        assert_eq!(opts.count, Some(3));
        assert_eq!(opts.timeout, Some(Duration::from_millis(1500)));
        for (text, d) in [
            ("2", Duration::from_secs(2)),
            ("0.25", Duration::from_millis(250)),
            (".5", Duration::from_millis(500)),
            ("3.", Duration::from_secs(3)),
            ("0.000000001", Duration::from_nanos(1)),
        ] {
            assert_eq!(parse_secs("--timeout", text), Ok(d), "{text}");
        }
        let (cmd, _) = parsed(&["echo", "--", "-x"]).unwrap();
        assert_eq!(cmd, Command::Echo(b"-x".to_vec()));
        let (cmd, _) = parsed(&["send", "--", "-x"]).unwrap();
        assert_eq!(cmd, Command::Send(b"-x".to_vec()));
        let (cmd, _) = parsed(&["trigger", "-"]).unwrap();
        assert_eq!(cmd, Command::Trigger(b"-".to_vec()));
        assert_eq!(parsed(&["status"]).unwrap().0, Command::Status);
        let (cmd, opts) = parsed(&["ping", "-c", "5", "-s0", "--batch", "64", "--json"]).unwrap();
        assert_eq!(cmd, Command::Ping);
        assert_eq!(
            (opts.count, opts.size, opts.batch, opts.json),
            (Some(5), Some(0), Some(64), true)
        );
        for form in [
            &["-c5"][..],
            &["-c", "5"],
            &["--count=5"],
            &["--count", "5"],
        ] {
            let mut line = vec!["ping"];
            line.extend_from_slice(form);
            assert_eq!(parsed(&line).unwrap().1.count, Some(5), "{form:?}");
        }
        let (cmd, opts) = parsed(&["listen", "--json", "--idle", "0.5"]).unwrap();
        assert_eq!(cmd, Command::Listen);
        assert_eq!(
            (opts.json, opts.idle),
            (true, Some(Duration::from_millis(500)))
        );
        let (cmd, opts) = parsed(&["trigger", "--repeat", "3", "x"]).unwrap();
        assert_eq!(
            (cmd, opts.repeat),
            (Command::Trigger(b"x".to_vec()), Some(3))
        );
        let (cmd, opts) = parsed(&["bench", "--count=7", "--size", "125"]).unwrap();
        assert_eq!(
            (cmd, opts.count, opts.size),
            (Command::Bench, Some(7), Some(125))
        );
        let (_, opts) = parsed(&["--timeout", "3", "bench"]).unwrap();
        assert_eq!(opts.timeout, Some(Duration::from_secs(3)));
        assert_eq!(
            parsed(&["ping", "--help"]).unwrap().0,
            Command::Help(Some(Name::Ping))
        );
        assert_eq!(parsed(&["-V", "junk"]).unwrap().0, Command::Version);
        assert_eq!(parsed(&["--help"]).unwrap().0, Command::Help(None));
        assert_eq!(
            parsed(&["listen", "-h"]).unwrap().0,
            Command::Help(Some(Name::Listen))
        );
    }

    #[test]
    fn payloads_need_not_be_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let line = vec![
            OsString::from("send"),
            OsString::from("--"),
            OsString::from_vec(vec![0xff, b'-', 0x80]),
        ];
        assert_eq!(
            parse(&line).unwrap().0,
            Command::Send(vec![0xff, b'-', 0x80])
        );
        let line = vec![OsString::from("echo"), OsString::from_vec(vec![0xfe])];
        assert_eq!(parse(&line).unwrap().0, Command::Echo(vec![0xfe]));
    }

    #[test]
    fn rejects_bad_command_lines() {
        for bad in [
            &[][..],
            &["frobnicate"],
            &["--bogus", "send", "x"],
            &["send"],
            &["send", "a", "b"],
            &["send", "-x"],
            &["status", "extra"],
            &["status", "--timeout", "1"],
            &["--timeout", "1", "status"],
            &["--timeout", "1", "trigger", "x"],
            &["trigger", "--timeout=1", "x"],
            &["send", "--count", "1", "x"],
            &["--count", "1", "listen"],
            &["--unit", "32", "send", "x"],
            &["--transport", "both", "send", "x"],
            &["--unit", "-1", "send", "x"],
            &["--unit"],
            &["--timeout", "0", "send", "x"],
            &["--timeout", "-1", "send", "x"],
            &["--timeout", "nan", "send", "x"],
            &["--timeout", ".", "send", "x"],
            &["--timeout", "0.0000000001", "send", "x"],
            &["--timeout", "1e3", "send", "x"],
            &["--timeout", "99999999999999999999", "send", "x"],
            &["--timeout", "+1", "send", "x"],
            &["listen", "--count", "0"],
            &["listen", "--json=1"],
            &["listen", "--idle", "0"],
            &["listen", "--batch", "2"],
            &["send", "--json", "x"],
            &["send", "-V", "x"],
            &["ping", "-s", "126"],
            &["ping", "-s=0"],
            &["ping", "-c=5"],
            &["ping", "--size", "-1"],
            &["ping", "--batch", "0"],
            &["ping", "--batch", "65"],
            &["ping", "-c", "0"],
            &["ping", "-c"],
            &["ping", "extra"],
            &["bench", "--batch", "2"],
            &["trigger", "--repeat", "0", "x"],
            &["status", "--json"],
        ] {
            let e = parsed(bad).unwrap_err();
            assert!(!e.0.is_empty(), "{bad:?}");
        }
        assert_eq!(
            parsed(&["--timeout", "1", "status"]).unwrap_err().0,
            "status does not take --timeout (see nlchan status --help)"
        );
        assert_eq!(
            parsed(&["listen", "--json=1"]).unwrap_err().0,
            "--json takes no value"
        );
        assert_eq!(
            parsed(&["send", "--transport"]).unwrap_err().0,
            "--transport needs a value"
        );
        assert!(parsed(&["ping", "-s=0"])
            .unwrap_err()
            .0
            .starts_with("-s \"=0\": "));
    }

    #[test]
    fn transport_option() {
        let (cmd, opts) = parsed(&["--transport", "genl", "send", "x"]).unwrap();
        assert_eq!(cmd, Command::Send(b"x".to_vec()));
        assert_eq!(opts.transport, Some(TransportKind::Genl));
        let (_, opts) = parsed(&["listen", "--transport=unit", "--unit", "30"]).unwrap();
        assert_eq!(
            (opts.transport, opts.unit),
            (Some(TransportKind::Unit), Some(30))
        );
        for bad in [
            &["--transport", "udp", "send", "x"][..],
            &["--transport"],
            &["--transport", "", "status"],
            &["--transport", "genl", "--unit", "30", "status"],
            &["status", "--unit=30", "--transport=genl"],
        ] {
            assert!(parsed(bad).is_err(), "{bad:?}");
        }
    }

    /// Every option of the table is accepted by the commands of its rows
    /// and refused by the others, after the command and (global ones)
    /// before it.
    #[test]
    fn the_table_decides() {
        for name in Name::ALL {
            for o in &OPTIONS {
                if matches!(o.id, Id::Help | Id::Version) {
                    continue;
                }
                let mut line = vec![name.as_str().to_string(), format!("--{}", o.long)];
                if let Some(v) = o.value {
                    line.push(match v {
                        "unit|genl" => "unit".into(),
                        "N" if o.id == Id::Unit => "30".into(),
                        _ => "1".into(),
                    });
                }
                if name.takes_text() {
                    line.push("x".into());
                }
                let list: Vec<&str> = line.iter().map(String::as_str).collect();
                let ok = takers(o.id) & name.bit() != 0;
                assert_eq!(parsed(&list).is_ok(), ok, "{list:?}");
                if takers(o.id) & GLOBAL != 0 {
                    let mut before = list[1..].to_vec();
                    before.retain(|a| *a != "x");
                    before.push(name.as_str());
                    if name.takes_text() {
                        before.push("x");
                    }
                    assert_eq!(parsed(&before).is_ok(), ok, "{before:?}");
                }
            }
        }
    }

    #[test]
    fn help_lists_every_command_and_option() {
        let text = help();
        assert!(text.starts_with(
            "usage: nlchan [--transport unit|genl] [--unit N] [--timeout SECS] <command> \
             [args]\n"
        ));
        for doc in &COMMANDS {
            assert!(text.contains(&format!("\n  {} ", doc.name)), "{}", doc.name);
        }
        for name in Name::ALL {
            let page = command_help(name);
            assert!(page.contains(name.doc().synopsis));
            for o in OPTIONS
                .iter()
                .filter(|o| o.cmds & name.bit() != 0 && o.id != Id::Help)
            {
                assert!(
                    page.contains(&format!("--{}", o.long)),
                    "{name:?} {}",
                    o.long
                );
            }
        }
        assert!(text.contains("\n  --transport unit|genl\n"));
        assert!(text.contains("\\\\ and any other byte as \\xNN"));
        assert!(command_help(Name::Status)
            .starts_with("usage: nlchan [--transport unit|genl] [--unit N] status\n"));
    }
}
