// SPDX-License-Identifier: MIT OR Apache-2.0
//! Writing the output: flushed at once, without allocating, and a closed
//! stdout (`EPIPE`) ends the command quietly.

#![forbid(unsafe_code)]

use std::fmt;
use std::io::{self, Write};

use super::{Error, Kind};

/// Maps a failed write of the output: a closed pipe ends the command
/// quietly ([`Kind::OutputClosed`]), anything else is [`Kind::IoErr`].
pub fn write_error(e: &io::Error) -> Error {
    // A closed stdout fails with EPIPE (`kind()` would pull in the whole
    // errno-to-kind table).
    if e.raw_os_error() == Some(nix::libc::EPIPE) {
        return Error::new(Kind::OutputClosed, "");
    }
    Error::new(Kind::IoErr, format!("writing output: {e}"))
}

/// Writes and flushes `args` (without allocating).
pub fn write_out(w: &mut impl Write, args: fmt::Arguments<'_>) -> Result<(), Error> {
    w.write_fmt(args)
        .and_then(|()| w.flush())
        .map_err(|e| write_error(&e))
}

/// Writes and flushes `bytes`.
pub fn write_bytes(w: &mut impl Write, bytes: &[u8]) -> Result<(), Error> {
    w.write_all(bytes)
        .and_then(|()| w.flush())
        .map_err(|e| write_error(&e))
}

/// Wall-clock time as seconds and microseconds since the Unix epoch.
pub fn unix_time() -> (u64, u32) {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (t.as_secs(), t.subsec_micros())
}

/// Formats nanoseconds as microseconds with one decimal.
pub struct Micros(pub u64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = (self.0 + 50) / 100;
        let mut s = heapless::String::<24>::new();
        let _ = fmt::Write::write_fmt(&mut s, format_args!("{}.{}", tenths / 10, tenths % 10));
        f.pad(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader went away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(nix::libc::EPIPE))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_a_quiet_end() {
        let e = write_out(&mut ClosedPipe, format_args!("x\n")).unwrap_err();
        assert_eq!((e.kind, e.exit_code()), (Kind::OutputClosed, 0));
        let mut err = Vec::new();
        super::super::report(&e, &mut err);
        assert!(err.is_empty());
        let e = write_error(&io::Error::from_raw_os_error(nix::libc::ENOSPC));
        assert_eq!(e.exit_code(), 74);
        assert!(e.message.starts_with("writing output: "), "{e}");
    }

    #[test]
    fn micros_pad_like_strings() {
        assert_eq!(format!("{:>7}", Micros(12_345)), "   12.3");
        assert_eq!(format!("{}", Micros(0)), "0.0");
    }
}
