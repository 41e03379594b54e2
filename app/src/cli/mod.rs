// SPDX-License-Identifier: MIT OR Apache-2.0
//! The `nlchan` command line: the seven commands, the choice of transport
//! ([`crate::transport`]), and the mapping of every failure to a message
//! and a sysexits exit code. The options are in [`args`].
//!
//! Output goes to the writers passed in; `main.rs` passes stdout/stderr
//! and turns an [`Error`] into the exit code. The output format is a
//! contract with the on-target smoke test.

pub mod args;
mod bench;
mod listen;
mod output;
mod ping;
mod send;
mod signals;
mod status;
mod trigger;

use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::time::Duration;

use nix::errno::Errno;

use crate::answer::{Payload, PayloadTooLong};
use crate::proto;
use crate::sysfs::{Device, Sysfs};
use crate::transport::{self, Endpoint, Preference, Request, Transport};

use args::Command;
use output::{write_bytes, write_out};

/// Environment variable that replaces `/sys` (used by the tests).
pub const SYSFS_ROOT_ENV: &str = "NLCHAN_SYSFS_ROOT";

/// Environment variable that, set to `1`, makes `listen` count lost
/// broadcasts from sequence gaps alone, as on kernels without `SO_MEMINFO`
/// (before 4.12).
const NO_SO_MEMINFO_ENV: &str = "NLCHAN_NO_SO_MEMINFO";

/// Reply timeout of `send`, `echo`, `ping` and `bench` unless `--timeout`
/// is given.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the generic netlink family look-up may take: nlctrl answers at
/// once, unless the look-up loads the module (modprobe runs first, which
/// can take seconds on a small board).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);

/// What kind of failure an [`Error`] is; the discriminant is the exit code
/// (`<sysexits.h>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Standard output was closed (`EPIPE`, as under `| head`): stop
    /// quietly with status 0, as cat(1) and grep(1) do.
    OutputClosed = 0,
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

impl From<args::UsageError> for Error {
    fn from(e: args::UsageError) -> Error {
        Error::new(Kind::Usage, e.0)
    }
}

/// Writes `e` to `stderr` as `nlchan: error: ...`, with a usage hint for
/// usage errors; nothing when stdout was closed.
pub fn report(e: &Error, stderr: &mut impl Write) {
    if e.kind == Kind::OutputClosed {
        return;
    }
    let _ = writeln!(stderr, "nlchan: error: {e}");
    if e.kind == Kind::Usage {
        let _ = writeln!(stderr, "{}\n(see nlchan --help)", args::short_usage());
    }
}

/// Told when a command's message path starts: after its set-up (socket
/// open, group joined, the "listening on" line written), before the first
/// message. A checker of the zero-allocation rule starts counting there.
pub trait Probe {
    /// The message path starts now.
    fn message_path(&self) {}
}

/// The [`Probe`] of the `nlchan` command: does nothing.
pub struct NoProbe;

impl Probe for NoProbe {}

/// Runs the command line `args` (without the program name), with sysfs at
/// `$NLCHAN_SYSFS_ROOT` or `/sys`.
pub fn run(
    args: &[OsString],
    out: &mut impl Write,
    err: &mut impl Write,
    probe: &dyn Probe,
) -> Result<(), Error> {
    let sysfs = match std::env::var_os(SYSFS_ROOT_ENV) {
        Some(root) => Sysfs::new(root),
        None => Sysfs::default(),
    };
    run_with(args, &sysfs, out, err, probe)
}

/// [`run`] with an explicit sysfs tree.
fn run_with(
    args: &[OsString],
    sysfs: &Sysfs,
    out: &mut impl Write,
    err: &mut impl Write,
    probe: &dyn Probe,
) -> Result<(), Error> {
    let (command, opts) = args::parse(args)?;
    let ctx = Ctx {
        sysfs,
        pref: Preference {
            kind: opts.transport,
            unit: opts.unit,
        },
        probe,
    };
    let timeout = opts.timeout.unwrap_or(DEFAULT_TIMEOUT);
    match command {
        Command::Help(None) => write_bytes(out, args::help().as_bytes()),
        Command::Help(Some(name)) => write_bytes(out, args::command_help(name).as_bytes()),
        Command::Version => write_out(
            out,
            format_args!(
                "nlchan {} (protocol {})\n",
                env!("CARGO_PKG_VERSION"),
                proto::PROTO_VERSION
            ),
        ),
        Command::Send(text) => send::request(&ctx, Request::Send, &text, timeout, out),
        Command::Echo(text) => send::request(&ctx, Request::Echo, &text, timeout, out),
        Command::Listen => listen::run(&ctx, &opts, out, err),
        Command::Trigger(text) => trigger::run(&ctx, &opts, &text),
        Command::Status => status::run(&ctx, out),
        Command::Ping => ping::run(&ctx, &opts, out),
        Command::Bench => bench::run(&ctx, &opts, out),
    }
}

/// What every command needs to reach the module.
struct Ctx<'a> {
    sysfs: &'a Sysfs,
    pref: Preference,
    probe: &'a dyn Probe,
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
                     only ({} is \"none\", the default); leave out --transport unit and \
                     --unit, or reload the module with unit=N for a free unit N from {} to {} \
                     (the seed's clients use {})",
                    param.display(),
                    proto::UNIT_MIN,
                    args::MAX_UNIT,
                    proto::UNIT_SEED
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
            transport::Error::Conflict => Error::new(
                Kind::Usage,
                "--unit is the classic unit's; it cannot go with --transport genl",
            ),
            transport::Error::Socket(e) => net_error(e, None, &Payload::default()),
        }
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
             compatible \"nlchan,netlink-channel\" (or the seed's \"test-netlink\"), or \
             load the module with own_device=1",
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
fn net_error(e: crate::Error, endpoint: Option<&Endpoint>, payload: &Payload) -> Error {
    match e {
        // Seen only when the module went away after sysfs named its unit.
        crate::Error::ModuleNotLoaded { unit } => Error::new(
            Kind::Unavailable,
            format!(
                "the nlchan kernel module is not loaded (nothing answers on netlink unit \
                 {unit}); load it with `modprobe nlchan` or `insmod nlchan.ko`"
            ),
        ),
        crate::Error::FamilyNotFound => Error::new(
            Kind::Unavailable,
            format!(
                "the nlchan module is loaded but its generic netlink family {:?} is not \
                 registered (a module older than protocol v2?); use its classic unit",
                proto::GENL_NAME
            ),
        ),
        crate::Error::GroupNotFound => Error::new(
            Kind::Protocol,
            format!(
                "the generic netlink family {:?} has no multicast group {:?} (module and \
                 app of different versions?)",
                proto::GENL_NAME,
                proto::GENL_MCGRP
            ),
        ),
        crate::Error::PermissionDenied { op } => permission_error(op, endpoint),
        crate::Error::Kernel(errno) => kernel_error(errno, payload),
        crate::Error::Timeout => Error::new(Kind::TempFail, "timed out waiting for the kernel"),
        e @ (crate::Error::Malformed(_) | crate::Error::Truncated { .. }) => {
            Error::new(Kind::Protocol, e.to_string())
        }
        e => Error::new(Kind::IoErr, e.to_string()),
    }
}

/// What a request or a join needs when it is refused.
const NEEDS_ADMIN: &str =
    "needs CAP_NET_ADMIN (run as root) or load the module with allow_unprivileged=1";

/// [`net_error`] of `PermissionDenied` from system call `op`.
fn permission_error(op: &'static str, endpoint: Option<&Endpoint>) -> Error {
    if op != "NETLINK_ADD_MEMBERSHIP" {
        return Error::new(
            Kind::NoPerm,
            format!("{op}: permission denied; {NEEDS_ADMIN}"),
        );
    }
    Error::new(
        Kind::NoPerm,
        match endpoint.and_then(|e| e.group().map(|g| (e, g))) {
            Some((e, group)) => {
                format!("joining group {group} of {e} was refused: permission denied")
            }
            None => "joining the broadcast group was refused: permission denied".to_string(),
        },
    )
}

/// [`net_error`] of the kernel's `NLMSG_ERROR` `errno` to a request
/// carrying `payload`.
fn kernel_error(errno: Errno, payload: &Payload) -> Error {
    match errno {
        Errno::EPERM | Errno::EACCES => Error::new(
            Kind::NoPerm,
            format!("the module refused the request: {NEEDS_ADMIN}"),
        ),
        Errno::EMSGSIZE => Error::new(
            Kind::DataErr,
            format!(
                "the module refused the {}-byte payload as too long (EMSGSIZE)",
                payload.len()
            ),
        ),
        errno => Error::new(
            Kind::Protocol,
            format!("the module answered with an error: {errno}"),
        ),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
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
            let e = run_with(&cmdline, &sysfs, &mut out, &mut err, &NoProbe).unwrap_err();
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
            (Kind::OutputClosed, 0),
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
        let eperm = map(crate::Error::Kernel(Errno::EPERM));
        assert_eq!(eperm.exit_code(), 77);
        assert!(eperm.message.contains("CAP_NET_ADMIN"));
        assert!(eperm.message.contains("allow_unprivileged=1"));
        assert_eq!(map(crate::Error::Kernel(Errno::EMSGSIZE)).exit_code(), 65);
        let other = map(crate::Error::Kernel(Errno::EOPNOTSUPP));
        assert_eq!(other.exit_code(), 76);
        assert!(other.message.contains("EOPNOTSUPP"));
        let missing = map(crate::Error::ModuleNotLoaded { unit: 30 });
        assert_eq!(missing.exit_code(), 69);
        assert!(missing.message.contains("modprobe nlchan"));
        assert!(missing.message.contains("insmod nlchan.ko"));
        let no_family = map(crate::Error::FamilyNotFound);
        assert_eq!(no_family.exit_code(), 69);
        assert!(no_family.message.contains("\"nlchan\" is not registered"));
        assert_eq!(map(crate::Error::GroupNotFound).exit_code(), 76);
        let family = crate::Family {
            id: 0x1a,
            version: 1,
            group: Some(5),
        };
        let denied = crate::Error::PermissionDenied {
            op: "NETLINK_ADD_MEMBERSHIP",
        };
        let e = net_error(denied, Some(&Endpoint::Genl(family)), &p);
        assert_eq!(e.exit_code(), 77);
        assert_eq!(
            e.message,
            "joining group 5 of genl family 0x1a was refused: permission denied"
        );
        assert_eq!(map(crate::Error::Timeout).exit_code(), 75);
        let io = crate::Error::Io {
            op: "sendto",
            errno: Errno::ECONNREFUSED,
        };
        assert_eq!(map(io).exit_code(), 74);
        assert_eq!(map(crate::Error::Interrupted).exit_code(), 74);
        let bad = crate::Error::Malformed(crate::DecodeError::BadError { offset: 0 });
        assert_eq!(map(bad).exit_code(), 76);
    }

    /// What each failure to choose a transport tells the user.
    #[test]
    fn transport_errors() {
        let sysfs = Sysfs::new("/nonexistent-nlchan-test");
        let ctx = Ctx {
            sysfs: &sysfs,
            pref: Preference::default(),
            probe: &NoProbe,
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
        let e = ctx.open_error(transport::Error::Socket(crate::Error::Timeout));
        assert_eq!(e.exit_code(), 75);
    }
}
