//! The `nlchan` command line: argument parsing, the five commands, and the
//! mapping of every failure to a message and a sysexits exit code.
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

use crate::codec::{Messages, Payload, PayloadTooLong, Received};
use crate::escape::Escaped;
use crate::proto;
use crate::socket::{self, NlSocket, Recv, RECV_BUF_LEN};
use crate::sysfs::{Device, Sysfs};

/// Environment variable that replaces `/sys` (used by the tests).
pub const SYSFS_ROOT_ENV: &str = "NLCHAN_SYSFS_ROOT";

/// Reply timeout of `send` and `echo` unless `--timeout` is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Netlink units are numbered below `MAX_LINKS` (32).
const MAX_UNIT: u32 = 31;

const USAGE: &str = "usage: nlchan [--unit N] [--timeout SECS] <command> [args]";

const HELP: &str = "\
usage: nlchan [--unit N] [--timeout SECS] <command> [args]

Talk to the nlchan kernel module over netlink.

Commands:
  send <text>      send <text> to the module and print its reply
  echo <text>      have the module echo <text> and print the echo
  listen           print the module's broadcasts, one per line
  trigger <text>   broadcast <text> through the device's sysfs send_msg
  status           show the module, its device and its counters

Options:
  --unit N         netlink unit (default: the loaded module's, else 30)
  --timeout SECS   send/echo reply timeout (default 2); listen: stop after SECS
  -h, --help       show this help; `nlchan <command> --help` for a command
  -V, --version    show the version

Payloads are at most 125 bytes. Received payloads are printed one per line,
printable ASCII as is, backslash as \\\\ and any other byte as \\xNN.

Environment: RUST_LOG=debug shows debug logs on stderr;
NLCHAN_SYSFS_ROOT replaces /sys (for tests).

Exit status: 0 success, 64 usage error, 65 payload too long or rejected,
69 module or device missing, 74 I/O error, 75 timeout, 76 malformed reply or
kernel error, 77 permission denied.
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
}

/// Options given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Options {
    unit: Option<u32>,
    timeout: Option<Duration>,
    count: Option<u64>,
}

/// Names and one-line help of the commands, with the options they take.
const COMMANDS: [(&str, &str, &str); 5] = [
    (
        "send",
        "send <text>",
        "Send <text> (SEND) and print the module's reply.",
    ),
    (
        "echo",
        "echo <text>",
        "Send <text> (ECHO) and print the echo; it must match.",
    ),
    (
        "listen",
        "listen [--count N] [--timeout SECS]",
        "Join group 1 and print each broadcast. --count: exit after N\n\
         broadcasts (75 if --timeout ends first); --timeout alone: stop after\n\
         SECS with success.",
    ),
    (
        "trigger",
        "trigger <text>",
        "Write <text> to the device's sysfs send_msg (no newline added),\n\
         which broadcasts it to group 1. Needs root.",
    ),
    (
        "status",
        "status",
        "Print module, unit, device and (when the device exists) its counters.",
    ),
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
    let unit = opts
        .unit
        .or_else(|| sysfs.module_unit())
        .unwrap_or(proto::UNIT_DEFAULT);
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
        Command::Send(text) => request(sysfs, unit, proto::MSG_SEND, &text, timeout, out),
        Command::Echo(text) => request(sysfs, unit, proto::MSG_ECHO, &text, timeout, out),
        Command::Listen => listen(sysfs, unit, &opts, out, err),
        Command::Trigger(text) => trigger(sysfs, &text),
        Command::Status => status(sysfs, unit, out),
    }
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
            a => match COMMANDS.iter().find(|c| c.0 == a) {
                Some(c) => break c.0,
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
        _ => Command::Status,
    };
    Ok((command, opts))
}

/// Parses one option `arg` (`--name VALUE` or `--name=VALUE`) given before
/// the command (`command` None) or after it.
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
    let allowed = match name {
        "--unit" => true,
        "--timeout" => !matches!(command, Some("trigger" | "status")),
        "--count" => command == Some("listen"),
        _ => false,
    };
    if !allowed {
        let hint = if command.is_some() {
            " (put -- before a text that starts with '-')"
        } else {
            ""
        };
        let place = command.map_or(String::new(), |c| format!("{c}: "));
        return Err(Error::usage(format!("{place}unknown option {arg:?}{hint}")));
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
        "--timeout" => opts.timeout = Some(parse_secs(&value)?),
        _ => opts.count = Some(parse_count(&value)?),
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
fn parse_secs(value: &str) -> Result<Duration, Error> {
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
            "--timeout {value:?}: expected a number of seconds above 0"
        ))),
    }
}

fn parse_count(value: &str) -> Result<u64, Error> {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::usage(format!(
            "--count {value:?}: expected a whole number above 0"
        ))),
    }
}

/// Help text of one command.
fn command_help(name: &str) -> String {
    let (_, synopsis, text) = COMMANDS
        .iter()
        .find(|c| c.0 == name)
        .copied()
        .unwrap_or(COMMANDS[0]);
    format!("usage: nlchan [--unit N] [--timeout SECS] {synopsis}\n\n{text}\n")
}

/// `send` and `echo`: one request, one reply printed escaped.
fn request(
    sysfs: &Sysfs,
    unit: u32,
    msg_type: u16,
    text: &[u8],
    timeout: Duration,
    out: &mut impl Write,
) -> Result<(), Error> {
    let payload = Payload::new(text)?;
    let mut sock = NlSocket::open(unit).map_err(|e| net_error(e, sysfs, unit, &payload))?;
    let reply = sock
        .request(msg_type, &payload, timeout)
        .map_err(|e| match e {
            socket::Error::Timeout => Error::new(
                Kind::TempFail,
                format!("no reply from the kernel within {timeout:?} (netlink unit {unit})"),
            ),
            e => net_error(e, sysfs, unit, &payload),
        })?;
    write_out(out, format_args!("{}\n", Escaped(&reply)))?;
    if msg_type == proto::MSG_ECHO && reply.as_bytes() != payload.as_bytes() {
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

/// `listen`: print broadcasts until the count or the timeout is reached.
fn listen(
    sysfs: &Sysfs,
    unit: u32,
    opts: &Options,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), Error> {
    let empty = Payload::default();
    let mut sock = NlSocket::open(unit).map_err(|e| net_error(e, sysfs, unit, &empty))?;
    sock.join_group(proto::GROUP)
        .map_err(|e| net_error(e, sysfs, unit, &empty))?;
    write_out(
        err,
        format_args!("nlchan: listening on unit {unit} group {}\n", proto::GROUP),
    )?;
    let deadline = opts.timeout.map(|t| Instant::now() + t);
    let mut buf = [0u8; RECV_BUF_LEN];
    let mut seen = 0u64;
    loop {
        let n = match sock.recv_until(&mut buf, deadline) {
            Ok(Recv::Datagram(n)) => n,
            Ok(Recv::Lost(lost)) => {
                write_out(
                    err,
                    format_args!("nlchan: warning: {lost} broadcasts lost\n"),
                )?;
                continue;
            }
            Err(socket::Error::Timeout) => {
                return match opts.count {
                    Some(count) => Err(Error::new(
                        Kind::TempFail,
                        format!(
                            "received {seen} of {count} broadcasts within {:?}",
                            opts.timeout.unwrap_or_default()
                        ),
                    )),
                    None => Ok(()),
                }
            }
            Err(e) => return Err(net_error(e, sysfs, unit, &empty)),
        };
        for item in Messages::new(&buf[..n]) {
            let item = item.map_err(|e| net_error(e.into(), sysfs, unit, &empty))?;
            if let Received::Broadcast { payload } = item {
                write_out(out, format_args!("{}\n", Escaped(payload)))?;
                seen += 1;
                if opts.count == Some(seen) {
                    return Ok(());
                }
            } else {
                log::debug!("listen: ignored {item:?}");
            }
        }
    }
}

/// `trigger`: one write of the text to the device's `send_msg`.
fn trigger(sysfs: &Sysfs, text: &[u8]) -> Result<(), Error> {
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
    device.trigger(text).map_err(|e| {
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
    })
}

/// `status`: module, unit, device and counters as `key: value` lines.
fn status(sysfs: &Sysfs, unit: u32, out: &mut impl Write) -> Result<(), Error> {
    let loaded = sysfs.module_loaded();
    let device = sysfs.find_device();
    let device_name = match &device {
        Some(d) => std::fs::canonicalize(d.dir())
            .unwrap_or_else(|_| d.dir().to_path_buf())
            .display()
            .to_string(),
        None => "none".to_string(),
    };
    let module = if loaded { "loaded" } else { "not loaded" };
    let mut text = format!("module: {module}\nunit: {unit}\ndevice: {device_name}\n");
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
    if !loaded {
        return Err(not_loaded(unit));
    }
    Ok(())
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

fn not_loaded(unit: u32) -> Error {
    Error::new(
        Kind::Unavailable,
        format!(
            "the nlchan kernel module is not loaded (nothing answers on netlink unit \
             {unit}); load it with `modprobe nlchan` or `insmod nlchan.ko`"
        ),
    )
}

/// Maps a socket-layer error to a message and exit code.
fn net_error(e: socket::Error, sysfs: &Sysfs, unit: u32, payload: &Payload) -> Error {
    const NEEDS_ADMIN: &str =
        "needs CAP_NET_ADMIN (run as root) or load the module with allow_unprivileged=1";
    match e {
        socket::Error::ModuleNotLoaded { .. } => match sysfs.module_unit() {
            Some(other) if other != unit => Error::new(
                Kind::Unavailable,
                format!(
                    "nothing answers on netlink unit {unit}, but the loaded nlchan module \
                     uses unit {other}; pass --unit {other}"
                ),
            ),
            _ => not_loaded(unit),
        },
        socket::Error::PermissionDenied {
            op: "NETLINK_ADD_MEMBERSHIP",
        } => Error::new(
            Kind::NoPerm,
            format!(
                "joining group {} was refused: permission denied",
                proto::GROUP
            ),
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
        e @ socket::Error::Io { .. } => Error::new(Kind::IoErr, e.to_string()),
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
            assert_eq!(parse_secs(text), Ok(d), "{text}");
        }
        let (cmd, _) = parsed(&["echo", "--", "-x"]).unwrap();
        assert_eq!(cmd, Command::Echo(b"-x".to_vec()));
        let (cmd, _) = parsed(&["trigger", "-"]).unwrap();
        assert_eq!(cmd, Command::Trigger(b"-".to_vec()));
        assert_eq!(parsed(&["status"]).unwrap().0, Command::Status);
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
        let sysfs = Sysfs::new("/nonexistent-nlchan-test");
        let p = Payload::new(b"abc").unwrap();
        let map = |e| net_error(e, &sysfs, 30, &p);
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
    fn help_lists_every_command() {
        for (name, synopsis, _) in COMMANDS {
            assert!(HELP.contains(name));
            assert!(command_help(name).contains(synopsis));
        }
        assert!(HELP.contains("\\\\ and any other byte as \\xNN"));
    }
}
