//! The `nlchan` command line: argument parsing, the seven commands, the
//! choice of transport ([`crate::transport`]), and the mapping of every
//! failure to a message and a sysexits exit code.
//!
//! Output goes to the writers passed in, so tests can capture it; `main.rs`
//! only passes stdout/stderr and turns an [`Error`] into the exit code.
//! The output format is a contract with the on-target smoke test.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::codec::{Payload, PayloadTooLong, Received};
use crate::escape::{Escaped, JsonEscaped};
use crate::genl;
use crate::ping;
use crate::proto;
use crate::seqgap::{Seq, SeqGaps};
use crate::socket::{self, RecvMany, Slot};
use crate::sysfs::{trigger_on, Device, ModuleUnit, Sysfs};
use crate::transport::{
    self, Choice, Endpoint, Kind as TransportKind, Preference, Request, Transport,
};

/// Environment variable that replaces `/sys` (used by the tests).
pub const SYSFS_ROOT_ENV: &str = "NLCHAN_SYSFS_ROOT";

/// Environment variable that, set to `1`, makes `listen` count lost
/// broadcasts from sequence gaps alone, as on kernels without `SO_MEMINFO`
/// (before 4.12).
pub const NO_SO_MEMINFO_ENV: &str = "NLCHAN_NO_SO_MEMINFO";

/// Reply timeout of `send` and `echo` unless `--timeout` is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the generic netlink family look-up may take: nlctrl answers at
/// once, unless the look-up loads the module (modprobe runs first, which
/// can take seconds on a small board).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Netlink units are numbered below `MAX_LINKS` (32).
const MAX_UNIT: u32 = proto::UNIT_LIMIT - 1;

const USAGE: &str =
    "usage: nlchan [--transport unit|genl] [--unit N] [--timeout SECS] <command> [args]";

const HELP: &str = "\
usage: nlchan [--transport unit|genl] [--unit N] [--timeout SECS] <command> [args]

Talk to the nlchan kernel module over netlink: over its classic netlink
unit (30 when it was free) or over its generic netlink family \"nlchan\".
Without --transport, the unit the module reports in
/sys/module/nlchan/parameters/unit, else (\"none\": another driver holds
the unit) generic netlink. A unit the module does not own is never used.

Commands:
  send <text>      send <text> to the module and print its reply
  echo <text>      have the module echo <text> and print the echo
  listen           print the module's broadcasts, one per line (--json)
  trigger <text>   broadcast <text> through the device's sysfs send_msg
  status           show the module, its device and its counters
  ping             round-trip latency and throughput, like ping(8)
  bench            unbatched and batched round trips, as a table (--json)

Options:
  --transport unit|genl
                   unit: the module's classic netlink unit (exit 69 when it
                   has none); genl: its generic netlink family
  --unit N         the classic unit, which must be the one the module owns
                   (implies --transport unit)
  --timeout SECS   reply timeout (default 2); listen: stop after SECS
  -h, --help       show this help; `nlchan <command> --help` for a command
  -V, --version    show the version

When the module is not loaded, looking up its generic netlink family lets
the kernel load it (module alias net-pf-16-proto-16-family-nlchan).

Payloads are at most 125 bytes. Received payloads are printed one per line,
printable ASCII as is, backslash as \\\\ and any other byte as \\xNN.

Environment: RUST_LOG=debug shows debug logs on stderr;
NLCHAN_SYSFS_ROOT replaces /sys (for tests); NLCHAN_NO_SO_MEMINFO=1 makes
listen count losses from sequence gaps alone, as before Linux 4.12.

Exit status: 0 success, 64 usage error, 65 payload too long or rejected,
69 module, transport or device missing, 74 I/O error, 75 timeout,
76 malformed reply or kernel error, 77 permission denied.
";

/// What kind of failure an [`Error`] is; the discriminant is the exit code
/// (`<sysexits.h>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `EX_USAGE`: bad command line.
    Usage = 64,
    /// `EX_DATAERR`: payload too long, empty or rejected; nothing was sent.
    DataErr = 65,
    /// `EX_UNAVAILABLE`: module not loaded, or no sysfs device.
    Unavailable = 69,
    /// `EX_IOERR`: any other I/O failure.
    IoErr = 74,
    /// `EX_TEMPFAIL`: no answer in time.
    TempFail = 75,
    /// `EX_PROTOCOL`: malformed reply, or an unexpected kernel errno.
    Protocol = 76,
    /// `EX_NOPERM`: permission denied.
    NoPerm = 77,
}

/// A command failure: its kind and a message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Kind, hence exit code.
    pub kind: Kind,
    /// The message, printed after `nlchan: error: `.
    pub message: String,
}

impl Error {
    fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    fn usage(message: impl Into<String>) -> Error {
        Error::new(Kind::Usage, message)
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        self.kind as u8
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<PayloadTooLong> for Error {
    fn from(e: PayloadTooLong) -> Error {
        Error::new(Kind::DataErr, format!("{e}; nothing was sent"))
    }
}

/// Writes `e` to `stderr` as `nlchan: error: ...`, with a usage hint for
/// usage errors.
pub fn report(e: &Error, stderr: &mut impl Write) {
    let _ = writeln!(stderr, "nlchan: error: {e}");
    if e.kind == Kind::Usage {
        let _ = writeln!(stderr, "{USAGE}\n(see nlchan --help)");
    }
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Help(Option<&'static str>),
    Version,
    Send(Vec<u8>),
    Echo(Vec<u8>),
    Listen,
    Trigger(Vec<u8>),
    Status,
    Ping,
    Bench,
}

/// Options given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Options {
    transport: Option<TransportKind>,
    unit: Option<u32>,
    timeout: Option<Duration>,
    count: Option<u64>,
    size: Option<usize>,
    batch: Option<usize>,
    idle: Option<Duration>,
    repeat: Option<u64>,
    json: bool,
    no_gather: bool,
}

/// One command: name, synopsis and its manual page.
struct CommandDoc {
    name: &'static str,
    synopsis: &'static str,
    text: &'static str,
}

const COMMANDS: [CommandDoc; 7] = [
    CommandDoc {
        name: "send",
        synopsis: "send <text>",
        text: "\
Send <text> as a SEND request and print the module's reply (its greeting,
\"hello users!!!\"). The module logs the text with its exact length.

Options:
  --timeout SECS   wait this long for the reply (default 2)

Exit status: 0 reply printed, 65 text over 125 bytes (nothing sent),
69 module not loaded, 75 no reply in time, 77 not allowed (CAP_NET_ADMIN).

Example: nlchan send \"hello netlink!!\"",
    },
    CommandDoc {
        name: "echo",
        synopsis: "echo <text>",
        text: "\
Send <text> as an ECHO request and print the echo; it must match the text
sent byte for byte (else exit 76).

Options:
  --timeout SECS   wait this long for the reply (default 2)

Example: nlchan echo -- -starts-with-a-dash",
    },
    CommandDoc {
        name: "listen",
        synopsis: "listen [--count N] [--timeout SECS] [--idle SECS] [--json]",
        text: "\
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
no gap).

Options:
  --count N        exit after N broadcasts (75 if a timeout ends first)
  --timeout SECS   stop after SECS (success unless --count is given)
  --idle SECS      stop after SECS without a broadcast
  --json           one JSON object per line on stdout:
                   {\"time\":T,\"seq\":S,\"len\":N,\"payload\":\"...\",\"lost\":L}
                   for each broadcast (T: Unix time in seconds, S: its
                   sequence number, 0 from a module without them, payload:
                   printable ASCII as is, other bytes as \\u00NN, L: total
                   lost so far), {\"time\":T,\"event\":\"lost\",\"count\":N,
                   \"lost\":L} when losses are found, and last
                   {\"time\":T,\"missed\":M,\"late\":K,\"loss_from\":F,
                   \"event\":\"end\",\"received\":R,\"lost\":L}
                   (M: missing from sequence gaps, K: late arrivals,
                   F: \"so_meminfo\" or \"seq_gaps\", what L counts).

Example: nlchan listen --json --idle 5 | jq .payload",
    },
    CommandDoc {
        name: "trigger",
        synopsis: "trigger [--repeat N] <text>",
        text: "\
Write <text> to the device's sysfs send_msg (no newline added), which
broadcasts it on both transports. Needs root.

Options:
  --repeat N       write it N times through one open file (N broadcasts)

Example: nlchan trigger --repeat 1000 tick",
    },
    CommandDoc {
        name: "status",
        synopsis: "status",
        text: "\
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
not load the module.
Exit status 69 when the module is not loaded, serves no transport, or
lacks the one --transport or --unit asks for.",
    },
    CommandDoc {
        name: "ping",
        synopsis: "ping [-c N] [-s SIZE] [--batch B] [--no-gather] [--json]",
        text: "\
Send N ECHO requests carrying SIZE bytes, B per datagram, wait for every
reply of a datagram before sending the next, and report round-trip times
(min/p50/p99/max, from the datagram's send to the reply's arrival) and
throughput, like ping(8). Replies are checked byte for byte; replies for
other sequence numbers and datagrams not from the kernel are dropped and
counted. Percentiles come from a fixed histogram (within 0.4 %).

Options:
  -c, --count N    requests to send (default 1000)
  -s, --size SIZE  payload bytes, 0 to 125 (default 64)
  --batch B        requests per datagram, 1 to 64 (default 1); on the
                   classic unit the requests carry NLCHAN_F_GATHER, so the
                   module gathers their replies into few datagrams (generic
                   netlink sends one per reply); taken up to 16 per system
                   call (recvmmsg)
  --no-gather      do not set NLCHAN_F_GATHER: one reply per datagram
  --timeout SECS   wait this long for a datagram's replies (default 2);
                   replies not in by then count as lost
  --json           one JSON object instead of the text report; its
                   \"transport\" is \"unit\" or \"genl\"

Exit status: 0 every reply arrived intact, 75 some were lost, 76 an echo
differed, 69 module not loaded, 77 not allowed.

Example: nlchan ping -c 10000 -s 64 --batch 16",
    },
    CommandDoc {
        name: "bench",
        synopsis: "bench [-c N] [-s SIZE] [--json]",
        text: "\
Measure this build against itself: N round trips one request per
datagram, then N in batches of 16 (their replies gathered with
NLCHAN_F_GATHER on the classic unit), and print a table of latency
(min/p50/p99/max) and throughput with the batched/unbatched ratio.
Run it once per transport (--transport unit, --transport genl) to
compare them. The comparison with the C baselines, sizes, memory and
broadcast fan-out is `cargo board bench` on the build host (see the
README).

Options:
  -c, --count N    round trips per run (default 10000)
  -s, --size SIZE  payload bytes (default 64)
  --json           one JSON object instead of the table",
    },
];

/// Runs the command line `args` (without the program name), with sysfs at
/// `$NLCHAN_SYSFS_ROOT` or `/sys`.
pub fn run(args: &[OsString], out: &mut impl Write, err: &mut impl Write) -> Result<(), Error> {
    let sysfs = match std::env::var_os(SYSFS_ROOT_ENV) {
        Some(root) => Sysfs::new(root),
        None => Sysfs::default(),
    };
    run_with(args, &sysfs, out, err)
}

/// [`run`] with an explicit sysfs tree.
fn run_with(
    args: &[OsString],
    sysfs: &Sysfs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), Error> {
    let (command, opts) = parse(args)?;
    let ctx = Ctx {
        sysfs,
        pref: Preference {
            kind: opts.transport,
            unit: opts.unit,
        },
    };
    let timeout = opts.timeout.unwrap_or(DEFAULT_TIMEOUT);
    match command {
        Command::Help(None) => write_out(out, format_args!("{HELP}")),
        Command::Help(Some(name)) => write_out(out, format_args!("{}", command_help(name))),
        Command::Version => write_out(
            out,
            format_args!(
                "nlchan {} (protocol {})\n",
                env!("CARGO_PKG_VERSION"),
                proto::PROTO_VERSION
            ),
        ),
        Command::Send(text) => request(&ctx, Request::Send, &text, timeout, out),
        Command::Echo(text) => request(&ctx, Request::Echo, &text, timeout, out),
        Command::Listen => listen(&ctx, &opts, out, err),
        Command::Trigger(text) => trigger(sysfs, &text, opts.repeat.unwrap_or(1)),
        Command::Status => status(&ctx, out),
        Command::Ping => ping(&ctx, &opts, out),
        Command::Bench => bench(&ctx, &opts, out),
    }
}

/// What every command needs to reach the module.
struct Ctx<'a> {
    sysfs: &'a Sysfs,
    pref: Preference,
}

impl Ctx<'_> {
    /// Opens the transport the module and the command line call for
    /// ([`transport::open`]).
    fn open(&self) -> Result<Transport, Error> {
        transport::open(self.sysfs, self.pref, LOOKUP_TIMEOUT).map_err(|e| self.open_error(e))
    }

    /// Maps a failure to choose or open a transport to a message and exit
    /// code.
    fn open_error(&self, e: transport::Error) -> Error {
        let param = self.sysfs.unit_param_path();
        match e {
            transport::Error::NotLoaded => not_loaded(self.sysfs),
            transport::Error::NoUnit => Error::new(
                Kind::Unavailable,
                format!(
                    "the nlchan module has no classic netlink unit: it serves generic netlink \
                     only ({} is \"none\": unit {} was taken by another driver); leave out \
                     --transport unit and --unit, or reload the module with unit=N for a free \
                     unit N from {} to {}",
                    param.display(),
                    proto::UNIT_DEFAULT,
                    proto::UNIT_MIN,
                    MAX_UNIT
                ),
            ),
            transport::Error::OtherUnit { asked, owned } => Error::new(
                Kind::Unavailable,
                format!(
                    "netlink unit {asked} is not nlchan's: the loaded nlchan module uses unit \
                     {owned}; pass --unit {owned} or leave --unit out"
                ),
            ),
            transport::Error::UnitUnknown => Error::new(
                Kind::Unavailable,
                format!(
                    "cannot tell which netlink unit the nlchan module owns ({} is missing or \
                     unreadable); use --transport genl",
                    param.display()
                ),
            ),
            transport::Error::Conflict => {
                Error::usage("--unit is the classic unit's; it cannot go with --transport genl")
            }
            transport::Error::Socket(e) => net_error(e, None, &Payload::default()),
        }
    }
}

/// Checks a command line the way `nlchan` would, without running it
/// (for the fuzzer): never panics, whatever the arguments.
#[doc(hidden)]
pub fn check_args(args: &[OsString]) -> Result<(), Error> {
    let (command, _) = parse(args)?;
    if let Command::Help(Some(name)) = command {
        let _ = command_help(name);
    }
    Ok(())
}

/// Splits `args` into the command and its options.
fn parse(args: &[OsString]) -> Result<(Command, Options), Error> {
    let mut opts = Options::default();
    let mut iter = args.iter();
    // Global options, up to the command name.
    let name = loop {
        let Some(arg) = iter.next() else {
            return Err(Error::usage("no command given"));
        };
        let arg = arg.to_string_lossy();
        match arg.as_ref() {
            "-h" | "--help" => return Ok((Command::Help(None), opts)),
            "-V" | "--version" => return Ok((Command::Version, opts)),
            a if a.starts_with('-') => parse_option(a, &mut iter, &mut opts, None)?,
            a => match COMMANDS.iter().find(|c| c.name == a) {
                Some(c) => break c.name,
                None => return Err(Error::usage(format!("unknown command {a:?}"))),
            },
        }
    };
    let mut texts: Vec<&OsString> = Vec::new();
    while let Some(arg) = iter.next() {
        let lossy = arg.to_string_lossy();
        match lossy.as_ref() {
            "-h" | "--help" => return Ok((Command::Help(Some(name)), opts)),
            "--" => {
                texts.extend(iter.by_ref());
                break;
            }
            a if a.starts_with('-') && a.len() > 1 => {
                parse_option(a, &mut iter, &mut opts, Some(name))?
            }
            _ => texts.push(arg),
        }
    }
    let wants_text = matches!(name, "send" | "echo" | "trigger");
    let text = match (wants_text, texts.as_slice()) {
        (true, [text]) => text.as_bytes().to_vec(),
        (false, []) => Vec::new(),
        (true, []) => return Err(Error::usage(format!("{name}: missing <text>"))),
        (true, _) => {
            return Err(Error::usage(format!(
                "{name}: one <text> argument expected, got {} (quote the text)",
                texts.len()
            )))
        }
        (false, _) => return Err(Error::usage(format!("{name}: takes no arguments"))),
    };
    let command = match name {
        "send" => Command::Send(text),
        "echo" => Command::Echo(text),
        "trigger" => Command::Trigger(text),
        "listen" => Command::Listen,
        "ping" => Command::Ping,
        "bench" => Command::Bench,
        _ => Command::Status,
    };
    if opts.transport == Some(TransportKind::Genl) && opts.unit.is_some() {
        return Err(Error::usage(
            "--unit is the classic unit's; it cannot go with --transport genl",
        ));
    }
    Ok((command, opts))
}

/// The commands each option goes with (`""`: before the command).
fn option_allowed(name: &str, command: Option<&str>) -> bool {
    let c = command.unwrap_or("");
    match name {
        "--unit" | "--transport" => true,
        "--timeout" => !matches!(c, "trigger" | "status" | "bench"),
        "--count" | "-c" => matches!(c, "listen" | "ping" | "bench"),
        "--size" | "-s" => matches!(c, "ping" | "bench"),
        "--batch" => c == "ping",
        "--idle" => c == "listen",
        "--repeat" => c == "trigger",
        "--json" => matches!(c, "listen" | "ping" | "bench"),
        "--no-gather" => c == "ping",
        _ => false,
    }
}

/// Parses one option `arg` (`--name VALUE`, `--name=VALUE`, `-c VALUE` or
/// the flag `--json`) given before the command (`command` None) or after it.
fn parse_option<'a>(
    arg: &str,
    rest: &mut impl Iterator<Item = &'a OsString>,
    opts: &mut Options,
    command: Option<&str>,
) -> Result<(), Error> {
    let (name, inline) = match arg.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (arg, None),
    };
    if !option_allowed(name, command) {
        let hint = if command.is_some() {
            " (put -- before a text that starts with '-')"
        } else {
            ""
        };
        let place = command.map_or(String::new(), |c| format!("{c}: "));
        return Err(Error::usage(format!("{place}unknown option {arg:?}{hint}")));
    }
    if let Some(flag) = match name {
        "--json" => Some(&mut opts.json),
        "--no-gather" => Some(&mut opts.no_gather),
        _ => None,
    } {
        if inline.is_some() {
            return Err(Error::usage(format!("{name} takes no value")));
        }
        *flag = true;
        return Ok(());
    }
    let value = match inline {
        Some(v) => v,
        None => rest
            .next()
            .map(|v| v.to_string_lossy().into_owned())
            .ok_or_else(|| Error::usage(format!("{name} needs a value")))?,
    };
    match name {
        "--unit" => opts.unit = Some(parse_unit(&value)?),
        "--transport" => {
            opts.transport = Some(TransportKind::parse(&value).ok_or_else(|| {
                Error::usage(format!("--transport {value:?}: expected unit or genl"))
            })?)
        }
        "--timeout" => opts.timeout = Some(parse_secs(name, &value)?),
        "--idle" => opts.idle = Some(parse_secs(name, &value)?),
        "--size" | "-s" => {
            opts.size = Some(parse_range(name, &value, 0, proto::MSG_LEN as u64)? as usize)
        }
        "--batch" => {
            opts.batch = Some(parse_range(name, &value, 1, ping::MAX_BATCH as u64)? as usize)
        }
        "--repeat" => opts.repeat = Some(parse_count(name, &value)?),
        _ => opts.count = Some(parse_count(name, &value)?),
    }
    Ok(())
}

fn parse_unit(value: &str) -> Result<u32, Error> {
    match value.parse::<u32>() {
        Ok(unit) if unit <= MAX_UNIT => Ok(unit),
        _ => Err(Error::usage(format!(
            "--unit {value:?}: expected a netlink unit from 0 to {MAX_UNIT}"
        ))),
    }
}

/// Parses `SECS` as `<digits>[.<digits>]` (up to nanoseconds), above 0.
fn parse_secs(name: &str, value: &str) -> Result<Duration, Error> {
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
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
        _ => Err(Error::usage(format!(
            "{name} {value:?}: expected a number of seconds above 0"
        ))),
    }
}

fn parse_count(name: &str, value: &str) -> Result<u64, Error> {
    parse_range(name, value, 1, u64::MAX)
}

/// Parses a whole number from `min` to `max`.
fn parse_range(name: &str, value: &str, min: u64, max: u64) -> Result<u64, Error> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ if max == u64::MAX => Err(Error::usage(format!(
            "{name} {value:?}: expected a whole number above {}",
            min - 1
        ))),
        _ => Err(Error::usage(format!(
            "{name} {value:?}: expected a whole number from {min} to {max}"
        ))),
    }
}

/// Help text of one command.
fn command_help(name: &str) -> String {
    let doc = COMMANDS
        .iter()
        .find(|c| c.name == name)
        .unwrap_or(&COMMANDS[0]);
    format!(
        "usage: nlchan [--transport unit|genl] [--unit N] [--timeout SECS] {}\n\n{}\n",
        doc.synopsis, doc.text
    )
}

/// `send` and `echo`: one request, one reply printed escaped.
fn request(
    ctx: &Ctx<'_>,
    req: Request,
    text: &[u8],
    timeout: Duration,
    out: &mut impl Write,
) -> Result<(), Error> {
    let payload = Payload::new(text)?;
    let mut t = ctx.open()?;
    let endpoint = t.endpoint();
    let reply = t.request(req, &payload, timeout).map_err(|e| match e {
        socket::Error::Timeout => Error::new(
            Kind::TempFail,
            format!("no reply from the kernel within {timeout:?} (netlink {endpoint})"),
        ),
        e => net_error(e, Some(&endpoint), &payload),
    })?;
    write_out(out, format_args!("{}\n", Escaped(&reply)))?;
    if req == Request::Echo && reply.as_bytes() != payload.as_bytes() {
        return Err(Error::new(
            Kind::Protocol,
            format!(
                "malformed reply: the echo ({} bytes) differs from the {} bytes sent",
                reply.len(),
                payload.len()
            ),
        ));
    }
    Ok(())
}

/// Datagrams `listen` takes per system call.
const LISTEN_SLOTS: usize = 16;
/// Receive slot of `listen`: a broadcast is at most 152 bytes; anything
/// larger is reported as truncated, never misread.
const LISTEN_SLOT_LEN: usize = 512;
/// Room for the output of one datagram: a JSON line of a 125-byte payload
/// with every byte escaped is under 900 bytes, a `lost` event under 100.
const LINE_MAX: usize = 1280;

/// Wall-clock time as seconds and microseconds since the Unix epoch.
fn unix_time() -> (u64, u32) {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (t.as_secs(), t.subsec_micros())
}

/// How long `listen` may wait for the next datagram: `None` forever,
/// `Some(None)` when the deadline has passed.
fn listen_wait(deadline: Option<Instant>, idle: Option<Duration>) -> Option<Option<Duration>> {
    let left = match deadline {
        None => return Some(idle),
        Some(d) => d
            .checked_duration_since(Instant::now())
            .filter(|l| !l.is_zero()),
    };
    match (left, idle) {
        (None, _) => None,
        (Some(l), Some(i)) => Some(Some(l.min(i))),
        (Some(l), None) => Some(Some(l)),
    }
}

/// Reports `n` newly lost broadcasts (`total` so far) on stderr, or as a
/// JSON event on `json_out` (stdout, or the pending output of a datagram).
fn report_lost(
    json: bool,
    n: u64,
    total: u64,
    json_out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), Error> {
    if n == 0 {
        return Ok(());
    }
    if json {
        let (s, us) = unix_time();
        write_out(
            json_out,
            format_args!(
                "{{\"time\":{s}.{us:06},\"event\":\"lost\",\"count\":{n},\"lost\":{total}}}\n"
            ),
        )
    } else {
        write_out(err, format_args!("nlchan: warning: {n} broadcasts lost\n"))
    }
}

/// How `listen` counts lost broadcasts.
struct Losses {
    /// The socket's drop counter (`SO_MEMINFO`) is there: exact. Else the
    /// sequence gaps are all there is.
    exact: bool,
    gaps: SeqGaps,
}

impl Losses {
    /// Total lost so far.
    fn total(&self, t: &Transport) -> u64 {
        if self.exact {
            t.socket().lost()
        } else {
            self.gaps.missed()
        }
    }
}

/// `listen`: print broadcasts until the count, the timeout or the idle
/// time is reached; losses are counted and reported, never fatal.
fn listen(
    ctx: &Ctx<'_>,
    opts: &Options,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), Error> {
    let empty = Payload::default();
    let mut t = ctx.open()?;
    let endpoint = t.endpoint();
    let net = |e| net_error(e, Some(&endpoint), &empty);
    if std::env::var_os(NO_SO_MEMINFO_ENV).is_some_and(|v| v == "1") {
        t.socket_mut().ignore_drop_counter();
    }
    let group = t.join_broadcasts().map_err(net)?;
    write_out(
        err,
        format_args!("nlchan: listening on {endpoint} group {group}\n"),
    )?;
    let mut losses = Losses {
        exact: t.socket().has_drop_counter(),
        gaps: SeqGaps::new(),
    };
    log::debug!(
        "listen: losses counted from {}",
        if losses.exact {
            "SO_MEMINFO"
        } else {
            "sequence gaps"
        }
    );
    let deadline = opts.timeout.map(|t| Instant::now() + t);
    let mut bufs = [[0u8; LISTEN_SLOT_LEN]; LISTEN_SLOTS];
    let mut slots = [Slot::Empty; LISTEN_SLOTS];
    let mut text = [0u8; LISTEN_SLOTS * LINE_MAX];
    let mut seen = 0u64;
    let done = loop {
        let Some(wait) = listen_wait(deadline, opts.idle) else {
            break false;
        };
        let sock = t.socket_mut();
        let got = match sock
            .set_recv_timeout(wait)
            .and_then(|()| sock.recv_many(&mut bufs, &mut slots))
        {
            Ok(RecvMany::Datagrams(got)) => got,
            Ok(RecvMany::Lost(n)) if losses.exact => {
                report_lost(opts.json, n, losses.total(&t), out, err)?;
                continue;
            }
            // Without the drop counter, the next sequence number tells.
            Ok(RecvMany::Lost(_)) => continue,
            Err(socket::Error::Timeout) => break false,
            Err(e) => return Err(net(e)),
        };
        // Format every line of this call, then write them in one go.
        let mut cur = io::Cursor::new(&mut text[..]);
        let mut reached = false;
        'datagrams: for (buf, &slot) in bufs.iter().zip(&slots[..got]) {
            let len = match slot {
                Slot::Datagram(len) => len,
                Slot::Truncated { len } => {
                    write_out(
                        err,
                        format_args!(
                            "nlchan: dropped a datagram of {len} bytes, over the \
                             {LISTEN_SLOT_LEN}-byte buffer\n"
                        ),
                    )?;
                    continue;
                }
                _ => continue,
            };
            for item in endpoint.messages(&buf[..len]) {
                let item = item.map_err(|e| net(e.into()))?;
                let Received::Broadcast { seq, payload } = item else {
                    log::debug!("listen: ignored {item:?}");
                    continue;
                };
                match losses.gaps.observe(seq) {
                    Seq::Gap(n) if !losses.exact => {
                        report_lost(opts.json, n, losses.gaps.missed(), &mut cur, err)?
                    }
                    Seq::Late => log::debug!("listen: broadcast {seq} arrived late"),
                    _ => {}
                }
                let line = if opts.json {
                    let (s, us) = unix_time();
                    writeln!(
                        cur,
                        "{{\"time\":{s}.{us:06},\"seq\":{seq},\"len\":{},\"payload\":\"{}\",\
                         \"lost\":{}}}",
                        payload.len(),
                        JsonEscaped(payload),
                        losses.total(&t)
                    )
                } else {
                    writeln!(cur, "{}", Escaped(payload))
                };
                line.map_err(|e| Error::new(Kind::IoErr, format!("formatting output: {e}")))?;
                seen += 1;
                if opts.count == Some(seen) {
                    reached = true;
                    break 'datagrams;
                }
            }
        }
        let used = cur.position() as usize;
        out.write_all(&text[..used])
            .and_then(|()| out.flush())
            .map_err(|e| Error::new(Kind::IoErr, format!("writing output: {e}")))?;
        if reached {
            break true;
        }
    };
    if losses.exact {
        // Drops after the last ENOBUFS raise no new error: read the counter.
        let new = t.socket_mut().sync_lost();
        report_lost(opts.json, new, losses.total(&t), out, err)?;
    }
    let lost = losses.total(&t);
    if opts.json {
        let (s, us) = unix_time();
        write_out(
            out,
            format_args!(
                "{{\"time\":{s}.{us:06},\"missed\":{},\"late\":{},\"loss_from\":\"{}\",\
                 \"event\":\"end\",\"received\":{seen},\"lost\":{lost}}}\n",
                losses.gaps.missed(),
                losses.gaps.late(),
                if losses.exact {
                    "so_meminfo"
                } else {
                    "seq_gaps"
                }
            ),
        )?;
    } else if lost > 0 {
        write_out(
            err,
            format_args!("nlchan: {seen} broadcasts received, {lost} lost\n"),
        )?;
    }
    match opts.count {
        Some(count) if !done => Err(Error::new(
            Kind::TempFail,
            match opts.timeout {
                Some(t) => format!("received {seen} of {count} broadcasts within {t:?}"),
                None => format!(
                    "received {seen} of {count} broadcasts, then none for {:?}",
                    opts.idle.unwrap_or_default()
                ),
            },
        )),
        _ => Ok(()),
    }
}

/// `trigger`: `repeat` writes of the text to the device's `send_msg`.
fn trigger(sysfs: &Sysfs, text: &[u8], repeat: u64) -> Result<(), Error> {
    // Mirror the module's checks so nothing is written that it would refuse.
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    if body.is_empty() {
        return Err(Error::new(
            Kind::DataErr,
            "the message is empty; nothing was sent",
        ));
    }
    Payload::new(body)?;
    let device = find_device(sysfs)?;
    let path = device.send_msg_path();
    let mut file = device
        .open_send_msg()
        .map_err(|e| write_error(e, &path, text))?;
    for _ in 0..repeat {
        trigger_on(&mut file, text).map_err(|e| write_error(e, &path, text))?;
    }
    Ok(())
}

/// Maps a failed write to `send_msg` to a message and exit code.
fn write_error(e: io::Error, path: &std::path::Path, text: &[u8]) -> Error {
    let errno = e.raw_os_error().map(Errno::from_raw);
    match (e.kind(), errno) {
        (io::ErrorKind::PermissionDenied, _) => Error::new(
            Kind::NoPerm,
            format!(
                "permission denied writing {}: send_msg is root-only (run as root)",
                path.display()
            ),
        ),
        (_, Some(Errno::EMSGSIZE)) => Error::new(
            Kind::DataErr,
            format!(
                "the module refused the {}-byte message as too long (EMSGSIZE); nothing was sent",
                text.len()
            ),
        ),
        (_, Some(Errno::EINVAL)) => Error::new(
            Kind::DataErr,
            "the module refused the message (EINVAL); nothing was sent",
        ),
        _ => Error::new(Kind::IoErr, format!("writing {}: {e}", path.display())),
    }
}

/// Formats nanoseconds as microseconds with one decimal.
struct Micros(u64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = (self.0 + 50) / 100;
        f.pad(&heapless_fmt::<24>(format_args!(
            "{}.{}",
            tenths / 10,
            tenths % 10
        )))
    }
}

/// Formats `args` into a fixed buffer (for padding without allocating).
fn heapless_fmt<const N: usize>(args: fmt::Arguments<'_>) -> heapless::String<N> {
    let mut s = heapless::String::new();
    let _ = fmt::Write::write_fmt(&mut s, args);
    s
}

/// One ping run, measured.
fn ping_run(
    ctx: &Ctx<'_>,
    cfg: &ping::Config,
    warmup: u64,
) -> Result<(ping::Stats, Transport), Error> {
    let payload = Payload::default();
    let mut t = ctx.open()?;
    let endpoint = t.endpoint();
    let map = |e| match e {
        socket::Error::Timeout => Error::new(
            Kind::TempFail,
            format!(
                "no reply from the kernel within {:?} (netlink {endpoint})",
                cfg.timeout
            ),
        ),
        e => net_error(e, Some(&endpoint), &payload),
    };
    if warmup > 0 {
        let warm = ping::Config {
            count: warmup,
            ..*cfg
        };
        ping::run(&mut t, &warm, &mut ping::Stats::default()).map_err(map)?;
    }
    let mut stats = ping::Stats::default();
    ping::run(&mut t, cfg, &mut stats).map_err(map)?;
    Ok((stats, t))
}

/// True when the module gathers the replies of a run (classic unit only).
fn gathered(cfg: &ping::Config, t: &Transport) -> bool {
    cfg.gather && cfg.batch > 1 && t.endpoint().kind() == TransportKind::Unit
}

/// Writes one run's figures as the JSON object `ping --json` prints.
fn ping_json(
    w: &mut impl Write,
    cfg: &ping::Config,
    st: &ping::Stats,
    t: &Transport,
) -> Result<(), Error> {
    let h = &st.rtt;
    let sock = t.socket();
    write_out(
        w,
        format_args!(
            "{{\"client\":\"nlchan\",\"count\":{},\"size\":{},\"batch\":{},\"sent\":{},\
             \"received\":{},\"lost\":{},\"mismatched\":{},\"stale\":{},\"foreign\":{},\
             \"min_ns\":{},\"p50_ns\":{},\"p99_ns\":{},\"max_ns\":{},\"msgs_per_s\":{},\
             \"elapsed_ns\":{},\"datagrams\":{},\"recv_calls\":{},\"gather\":{},\
             \"reply_datagrams\":{},\"transport\":\"{}\"}}",
            cfg.count,
            cfg.size,
            cfg.batch,
            st.sent,
            st.received,
            st.lost,
            st.mismatched,
            sock.stale(),
            sock.foreign(),
            h.min(),
            h.percentile(500),
            h.percentile(990),
            h.max(),
            st.rate(),
            st.elapsed.as_nanos(),
            st.datagrams,
            st.recv_calls,
            cfg.gather && t.endpoint().kind() == TransportKind::Unit,
            st.reply_datagrams,
            t.endpoint().kind()
        ),
    )
}

/// The exit status of a ping run: lost replies, then mismatches.
fn ping_verdict(st: &ping::Stats) -> Result<(), Error> {
    if st.mismatched > 0 {
        return Err(Error::new(
            Kind::Protocol,
            format!("{} echo replies differed from the request", st.mismatched),
        ));
    }
    if st.lost > 0 {
        return Err(Error::new(
            Kind::TempFail,
            format!("{} of {} replies lost", st.lost, st.sent),
        ));
    }
    Ok(())
}

/// `ping`: round-trip latency and throughput.
fn ping(ctx: &Ctx<'_>, opts: &Options, out: &mut impl Write) -> Result<(), Error> {
    let cfg = ping::Config {
        request: Request::Echo,
        count: opts.count.unwrap_or(1000),
        size: opts.size.unwrap_or(64),
        batch: opts.batch.unwrap_or(1),
        gather: !opts.no_gather,
        timeout: opts.timeout.unwrap_or(DEFAULT_TIMEOUT),
    };
    let (st, t) = ping_run(ctx, &cfg, 0)?;
    let sock = t.socket();
    if opts.json {
        ping_json(out, &cfg, &st, &t)?;
        write_out(out, format_args!("\n"))?;
        return ping_verdict(&st);
    }
    let h = &st.rtt;
    let ms = st.elapsed.as_millis();
    write_out(
        out,
        format_args!(
            "PING {}: {} ECHO requests of {} bytes, {} per datagram\n\
             {} sent, {} received, {} lost, {} mismatched, {} stale, {} foreign\n\
             rtt min/p50/p99/max = {}/{}/{}/{} us\n\
             throughput {} replies/s ({} in {}.{:03} s)\n\
             {} datagrams sent, {} received{} in {} receive calls\n",
            t.endpoint(),
            cfg.count,
            cfg.size,
            cfg.batch,
            st.sent,
            st.received,
            st.lost,
            st.mismatched,
            sock.stale(),
            sock.foreign(),
            Micros(h.min()),
            Micros(h.percentile(500)),
            Micros(h.percentile(990)),
            Micros(h.max()),
            st.rate(),
            st.received,
            ms / 1000,
            ms % 1000,
            st.datagrams,
            st.reply_datagrams,
            if gathered(&cfg, &t) {
                " (replies gathered)"
            } else {
                ""
            },
            st.recv_calls
        ),
    )?;
    ping_verdict(&st)
}

/// `bench`: the same round trips unbatched and in batches of 16.
fn bench(ctx: &Ctx<'_>, opts: &Options, out: &mut impl Write) -> Result<(), Error> {
    let base = ping::Config {
        request: Request::Echo,
        count: opts.count.unwrap_or(10_000),
        size: opts.size.unwrap_or(64),
        batch: 1,
        gather: true,
        timeout: DEFAULT_TIMEOUT,
    };
    let batched = ping::Config { batch: 16, ..base };
    let (one, one_t) = ping_run(ctx, &base, 200)?;
    let (many, many_t) = ping_run(ctx, &batched, 200)?;
    let speedup = (u128::from(many.rate()) * 100 / u128::from(one.rate().max(1))) as u64;
    if opts.json {
        write_out(out, format_args!("{{\"unbatched\":"))?;
        ping_json(out, &base, &one, &one_t)?;
        write_out(out, format_args!(",\"batch16\":"))?;
        ping_json(out, &batched, &many, &many_t)?;
        write_out(
            out,
            format_args!(
                ",\"batch_speedup\":{}.{:02}}}\n",
                speedup / 100,
                speedup % 100
            ),
        )?;
    } else {
        write_out(
            out,
            format_args!(
                "nlchan bench: {}, {} ECHO round trips of {} bytes per run\n\
                 {:<10} {:>9} {:>9} {:>9} {:>9} {:>10}\n",
                one_t.endpoint(),
                base.count,
                base.size,
                "run",
                "min us",
                "p50 us",
                "p99 us",
                "max us",
                "msgs/s"
            ),
        )?;
        for (name, st) in [("batch 1", &one), ("batch 16", &many)] {
            let h = &st.rtt;
            write_out(
                out,
                format_args!(
                    "{:<10} {:>9} {:>9} {:>9} {:>9} {:>10}\n",
                    name,
                    Micros(h.min()),
                    Micros(h.percentile(500)),
                    Micros(h.percentile(990)),
                    Micros(h.max()),
                    st.rate()
                ),
            )?;
        }
        write_out(
            out,
            format_args!(
                "batched/unbatched throughput: {}.{:02}x\n",
                speedup / 100,
                speedup % 100
            ),
        )?;
    }
    ping_verdict(&one).and_then(|()| ping_verdict(&many))
}

/// `generic netlink family 0x1a (group 5)`.
fn genl_text(family: &genl::Family) -> String {
    match family.group {
        Some(group) => format!("generic netlink family {:#x} (group {group})", family.id),
        None => format!(
            "generic netlink family {:#x} (no group {:?})",
            family.id,
            proto::GENL_MCGRP
        ),
    }
}

/// `status`: module, unit, transports, device and counters as `key: value`
/// lines.
fn status(ctx: &Ctx<'_>, out: &mut impl Write) -> Result<(), Error> {
    let sysfs = ctx.sysfs;
    let module = sysfs.module_unit_state();
    // Only ask nlctrl when the module is loaded: asking would load it.
    let family = match module {
        ModuleUnit::NotLoaded => None,
        _ => match Transport::open_genl(LOOKUP_TIMEOUT) {
            Ok(t) => match t.endpoint() {
                Endpoint::Genl(family) => Some(family),
                Endpoint::Unit(_) => None,
            },
            Err(e) => {
                log::debug!("status: no generic netlink family: {e}");
                None
            }
        },
    };
    let unit_text = match module {
        ModuleUnit::NotLoaded => "none".to_string(),
        ModuleUnit::GenlOnly => "none (generic netlink only)".to_string(),
        ModuleUnit::Unit(unit) => unit.to_string(),
        ModuleUnit::Unknown => {
            format!("unknown ({} unreadable)", sysfs.unit_param_path().display())
        }
    };
    let mut transports = Vec::new();
    if let ModuleUnit::Unit(unit) = module {
        transports.push(format!("unit {unit}"));
    }
    if let Some(family) = &family {
        transports.push(genl_text(family));
    }
    let selected = match (transport::select(module, ctx.pref), &family) {
        (Ok(Choice::Unit(unit)), _) => Ok(format!("unit {unit}")),
        (Ok(Choice::Genl), Some(family)) => Ok(genl_text(family)),
        (Ok(Choice::Genl), None) => Err(transport::Error::Socket(socket::Error::FamilyNotFound)),
        (Err(e), _) => Err(e),
    };
    let device = sysfs.find_device();
    let device_name = match &device {
        Some(d) => std::fs::canonicalize(d.dir())
            .unwrap_or_else(|_| d.dir().to_path_buf())
            .display()
            .to_string(),
        None => "none".to_string(),
    };
    let loaded = if module == ModuleUnit::NotLoaded {
        "not loaded"
    } else {
        "loaded"
    };
    let mut text = format!(
        "module: {loaded}\nunit: {unit_text}\ntransports: {}\nselected: {}\ndevice: {device_name}\n",
        if transports.is_empty() {
            "none".to_string()
        } else {
            transports.join(", ")
        },
        selected.as_deref().unwrap_or("none"),
    );
    if let Some(device) = &device {
        let counters = device.counters().map_err(|e| {
            Error::new(
                Kind::IoErr,
                format!("reading counters in {}: {e}", device.dir().display()),
            )
        })?;
        for (name, value) in counters {
            text.push_str(&format!("{name}: {value}\n"));
        }
    }
    write_out(out, format_args!("{text}"))?;
    match selected {
        _ if module == ModuleUnit::NotLoaded => Err(not_loaded(sysfs)),
        Err(transport::Error::Socket(socket::Error::FamilyNotFound)) if transports.is_empty() => {
            Err(Error::new(
                Kind::Unavailable,
                "the nlchan module is loaded but serves no transport: no classic unit and no \
                 generic netlink family",
            ))
        }
        Err(e) => Err(ctx.open_error(e)),
        Ok(_) => Ok(()),
    }
}

/// The device for `trigger`, or why there is none.
fn find_device(sysfs: &Sysfs) -> Result<Device, Error> {
    if let Some(device) = sysfs.find_device() {
        return Ok(device);
    }
    if !sysfs.module_loaded() {
        return Err(Error::new(
            Kind::Unavailable,
            "the nlchan kernel module is not loaded; load it with `modprobe nlchan` \
             or `insmod nlchan.ko`",
        ));
    }
    Err(Error::new(
        Kind::Unavailable,
        format!(
            "no nlchan device with send_msg in {}: the device tree needs a node with \
             compatible \"test-netlink\", or load the module with own_device=1",
            sysfs.driver_dir().display()
        ),
    ))
}

/// The module is not loaded: no sysfs directory, no genl family.
fn not_loaded(sysfs: &Sysfs) -> Error {
    Error::new(
        Kind::Unavailable,
        format!(
            "the nlchan kernel module is not loaded (no {}, no generic netlink family \
             {:?}); load it with `modprobe nlchan` or `insmod nlchan.ko`",
            sysfs.module_dir().display(),
            proto::GENL_NAME
        ),
    )
}

/// Maps a socket-layer error on `endpoint` (`None`: while opening it) to a
/// message and exit code.
fn net_error(e: socket::Error, endpoint: Option<&Endpoint>, payload: &Payload) -> Error {
    const NEEDS_ADMIN: &str =
        "needs CAP_NET_ADMIN (run as root) or load the module with allow_unprivileged=1";
    match e {
        // Seen only when the module went away after sysfs named its unit.
        socket::Error::ModuleNotLoaded { unit } => Error::new(
            Kind::Unavailable,
            format!(
                "the nlchan kernel module is not loaded (nothing answers on netlink unit \
                 {unit}); load it with `modprobe nlchan` or `insmod nlchan.ko`"
            ),
        ),
        socket::Error::FamilyNotFound => Error::new(
            Kind::Unavailable,
            format!(
                "the nlchan module is loaded but its generic netlink family {:?} is not \
                 registered (a module older than protocol v2?); use its classic unit",
                proto::GENL_NAME
            ),
        ),
        socket::Error::GroupNotFound => Error::new(
            Kind::Protocol,
            format!(
                "the generic netlink family {:?} has no multicast group {:?} (module and \
                 app of different versions?)",
                proto::GENL_NAME,
                proto::GENL_MCGRP
            ),
        ),
        socket::Error::PermissionDenied {
            op: "NETLINK_ADD_MEMBERSHIP",
        } => Error::new(
            Kind::NoPerm,
            match endpoint.and_then(|e| e.group().map(|g| (e, g))) {
                Some((e, group)) => {
                    format!("joining group {group} of {e} was refused: permission denied")
                }
                None => "joining the broadcast group was refused: permission denied".to_string(),
            },
        ),
        socket::Error::PermissionDenied { op } => Error::new(
            Kind::NoPerm,
            format!("{op}: permission denied; {NEEDS_ADMIN}"),
        ),
        socket::Error::Kernel(Errno::EPERM | Errno::EACCES) => Error::new(
            Kind::NoPerm,
            format!("the module refused the request: {NEEDS_ADMIN}"),
        ),
        socket::Error::Kernel(Errno::EMSGSIZE) => Error::new(
            Kind::DataErr,
            format!(
                "the module refused the {}-byte payload as too long (EMSGSIZE)",
                payload.len()
            ),
        ),
        socket::Error::Kernel(errno) => Error::new(
            Kind::Protocol,
            format!("the module answered with an error: {errno}"),
        ),
        socket::Error::Timeout => Error::new(Kind::TempFail, "timed out waiting for the kernel"),
        e @ (socket::Error::Malformed(_) | socket::Error::Truncated { .. }) => {
            Error::new(Kind::Protocol, e.to_string())
        }
        e => Error::new(Kind::IoErr, e.to_string()),
    }
}

/// Writes and flushes `args` (without allocating), mapping failures to
/// [`Kind::IoErr`].
fn write_out(w: &mut impl Write, args: fmt::Arguments<'_>) -> Result<(), Error> {
    w.write_fmt(args)
        .and_then(|()| w.flush())
        .map_err(|e| Error::new(Kind::IoErr, format!("writing output: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn parsed(list: &[&str]) -> Result<(Command, Options), Error> {
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
        let (cmd, _) = parsed(&["trigger", "-"]).unwrap();
        assert_eq!(cmd, Command::Trigger(b"-".to_vec()));
        assert_eq!(parsed(&["status"]).unwrap().0, Command::Status);
        let (cmd, opts) = parsed(&["ping", "-c", "5", "-s=0", "--batch", "64", "--json"]).unwrap();
        assert_eq!(cmd, Command::Ping);
        assert_eq!(
            (opts.count, opts.size, opts.batch, opts.json),
            (Some(5), Some(0), Some(64), true)
        );
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
        assert_eq!(
            parsed(&["ping", "--help"]).unwrap().0,
            Command::Help(Some("ping"))
        );
        assert_eq!(parsed(&["-V", "junk"]).unwrap().0, Command::Version);
        assert_eq!(parsed(&["--help"]).unwrap().0, Command::Help(None));
        assert_eq!(
            parsed(&["listen", "-h"]).unwrap().0,
            Command::Help(Some("listen"))
        );
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
            &["send", "--count", "1", "x"],
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
            &["ping", "-s", "126"],
            &["ping", "--size", "-1"],
            &["ping", "--batch", "0"],
            &["ping", "--batch", "65"],
            &["ping", "-c", "0"],
            &["ping", "extra"],
            &["bench", "--batch", "2"],
            &["bench", "--timeout", "1"],
            &["trigger", "--repeat", "0", "x"],
            &["status", "--json"],
        ] {
            let e = parsed(bad).unwrap_err();
            assert_eq!(e.kind, Kind::Usage, "{bad:?}");
            assert_eq!(e.exit_code(), 64);
        }
    }

    #[test]
    fn too_long_payload_is_refused_before_any_io() {
        let text = "x".repeat(126);
        let mut out = Vec::new();
        let mut err = Vec::new();
        // Unit 31 and a missing sysfs root: any I/O would fail differently.
        let sysfs = Sysfs::new("/nonexistent-nlchan-test");
        for cmd in ["send", "echo", "trigger"] {
            let cmdline = args(&["--unit", "31", cmd, &text]);
            let e = run_with(&cmdline, &sysfs, &mut out, &mut err).unwrap_err();
            assert_eq!(e.exit_code(), 65, "{cmd}");
            assert_eq!(
                e.message,
                "payload is 126 bytes, the maximum is 125; nothing was sent"
            );
        }
        assert!(out.is_empty());
    }

    #[test]
    fn exit_codes_are_sysexits() {
        let codes = [
            (Kind::Usage, 64),
            (Kind::DataErr, 65),
            (Kind::Unavailable, 69),
            (Kind::IoErr, 74),
            (Kind::TempFail, 75),
            (Kind::Protocol, 76),
            (Kind::NoPerm, 77),
        ];
        for (kind, code) in codes {
            assert_eq!(Error::new(kind, "").exit_code(), code);
        }
    }

    #[test]
    fn kernel_errors_map_to_exit_codes() {
        let p = Payload::new(b"abc").unwrap();
        let unit = Endpoint::Unit(30);
        let map = |e| net_error(e, Some(&unit), &p);
        let eperm = map(socket::Error::Kernel(Errno::EPERM));
        assert_eq!(eperm.exit_code(), 77);
        assert!(eperm.message.contains("CAP_NET_ADMIN"));
        assert!(eperm.message.contains("allow_unprivileged=1"));
        assert_eq!(map(socket::Error::Kernel(Errno::EMSGSIZE)).exit_code(), 65);
        let other = map(socket::Error::Kernel(Errno::EOPNOTSUPP));
        assert_eq!(other.exit_code(), 76);
        assert!(other.message.contains("EOPNOTSUPP"));
        let missing = map(socket::Error::ModuleNotLoaded { unit: 30 });
        assert_eq!(missing.exit_code(), 69);
        assert!(missing.message.contains("modprobe nlchan"));
        assert!(missing.message.contains("insmod nlchan.ko"));
        let no_family = map(socket::Error::FamilyNotFound);
        assert_eq!(no_family.exit_code(), 69);
        assert!(no_family.message.contains("\"nlchan\" is not registered"));
        assert_eq!(map(socket::Error::GroupNotFound).exit_code(), 76);
        let family = genl::Family {
            id: 0x1a,
            version: 1,
            group: Some(5),
        };
        let denied = socket::Error::PermissionDenied {
            op: "NETLINK_ADD_MEMBERSHIP",
        };
        let e = net_error(denied, Some(&Endpoint::Genl(family)), &p);
        assert_eq!(e.exit_code(), 77);
        assert_eq!(
            e.message,
            "joining group 5 of genl family 0x1a was refused: permission denied"
        );
        assert_eq!(map(socket::Error::Timeout).exit_code(), 75);
        let io = socket::Error::Io {
            op: "sendto",
            errno: Errno::ECONNREFUSED,
        };
        assert_eq!(map(io).exit_code(), 74);
        let bad = socket::Error::Malformed(crate::codec::DecodeError::BadError { offset: 0 });
        assert_eq!(map(bad).exit_code(), 76);
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
            let e = parsed(bad).unwrap_err();
            assert_eq!(e.kind, Kind::Usage, "{bad:?}");
        }
    }

    /// What each failure to choose a transport tells the user.
    #[test]
    fn transport_errors() {
        let sysfs = Sysfs::new("/nonexistent-nlchan-test");
        let ctx = Ctx {
            sysfs: &sysfs,
            pref: Preference::default(),
        };
        let e = ctx.open_error(transport::Error::NotLoaded);
        assert_eq!(e.exit_code(), 69);
        assert!(e
            .message
            .starts_with("the nlchan kernel module is not loaded (no /nonexistent-nlchan-test"));
        assert!(e.message.contains("`modprobe nlchan`"));
        let e = ctx.open_error(transport::Error::NoUnit);
        assert_eq!(e.exit_code(), 69);
        assert!(e.message.contains("serves generic netlink only"), "{e}");
        assert!(
            e.message.contains("unit=N for a free unit N from 23 to 31"),
            "{e}"
        );
        let e = ctx.open_error(transport::Error::OtherUnit {
            asked: 30,
            owned: 29,
        });
        assert_eq!(e.exit_code(), 69);
        assert!(e.message.contains("uses unit 29; pass --unit 29"), "{e}");
        assert_eq!(
            ctx.open_error(transport::Error::UnitUnknown).exit_code(),
            69
        );
        assert_eq!(ctx.open_error(transport::Error::Conflict).exit_code(), 64);
        let e = ctx.open_error(transport::Error::Socket(socket::Error::Timeout));
        assert_eq!(e.exit_code(), 75);
    }

    #[test]
    fn help_lists_every_command() {
        for doc in COMMANDS {
            assert!(HELP.contains(&format!("\n  {} ", doc.name)), "{}", doc.name);
            assert!(command_help(doc.name).contains(doc.synopsis));
        }
        assert!(HELP.contains("\\\\ and any other byte as \\xNN"));
    }
}
