// SPDX-License-Identifier: MIT OR Apache-2.0
//! `trigger`: writes to the device's sysfs `send_msg`, which broadcasts.

#![forbid(unsafe_code)]

use std::io;

use nix::errno::Errno;

use crate::sysfs::trigger_on;
use crate::Payload;

use super::args::Options;
use super::{find_device, Ctx, Error, Kind};

/// `repeat` writes of `text` to `send_msg`. With `--transport` or
/// `--unit`, first checks that the module serves that transport, as the
/// other commands would (its listeners are the ones the caller expects).
pub fn run(ctx: &Ctx<'_>, opts: &Options, text: &[u8]) -> Result<(), Error> {
    // Mirror the module's checks so nothing is written that it would refuse.
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    if body.is_empty() {
        return Err(Error::new(
            Kind::DataErr,
            "the message is empty; nothing was sent",
        ));
    }
    Payload::new(body)?;
    if opts.transport.is_some() || opts.unit.is_some() {
        ctx.open()?;
    }
    let device = find_device(ctx.sysfs)?;
    let path = device.send_msg_path();
    let mut file = device
        .open_send_msg()
        .map_err(|e| write_error(e, &path, text))?;
    for _ in 0..opts.repeat.unwrap_or(1) {
        trigger_on(&mut file, text).map_err(|e| write_error(e, &path, text))?;
    }
    Ok(())
}

/// Maps a failed write to `send_msg` to a message and exit code.
fn write_error(e: io::Error, path: &std::path::Path, text: &[u8]) -> Error {
    // Errnos rather than `e.kind()`, whose errno table is large.
    match e.raw_os_error().map(Errno::from_raw) {
        Some(Errno::EPERM | Errno::EACCES) => Error::new(
            Kind::NoPerm,
            format!(
                "permission denied writing {}: send_msg is root-only (run as root)",
                path.display()
            ),
        ),
        Some(Errno::EMSGSIZE) => Error::new(
            Kind::DataErr,
            format!(
                "the module refused the {}-byte message as too long (EMSGSIZE); nothing was sent",
                text.len()
            ),
        ),
        Some(Errno::EINVAL) => Error::new(
            Kind::DataErr,
            "the module refused the message (EINVAL); nothing was sent",
        ),
        _ => Error::new(Kind::IoErr, format!("writing {}: {e}", path.display())),
    }
}
