// SPDX-License-Identifier: MIT OR Apache-2.0
//! SIGINT and SIGTERM end `listen` and `ping` cleanly: the handler only
//! sets a flag, and it is installed without `SA_RESTART`, so a blocking
//! receive returns `EINTR` ([`crate::crate::Error::Interrupted`]) and
//! the command sees the flag, stops and prints its final figures.
//!
//! A signal that lands between the check of the flag and the receive
//! waits for the next datagram or timeout to be seen.

// sigaction is the one system call here that needs `unsafe`.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

use super::{Error, Kind};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: nix::libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// Makes SIGINT and SIGTERM set the stop flag (no `SA_RESTART`).
pub fn install() -> Result<(), Error> {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe, and no other code of this process sets a
        // handler for these signals.
        unsafe { sigaction(sig, &action) }
            .map_err(|e| Error::new(Kind::IoErr, format!("sigaction {sig}: {e}")))?;
    }
    Ok(())
}

/// True once SIGINT or SIGTERM has arrived.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_sets_the_flag() {
        install().unwrap();
        assert!(!stop_requested());
        nix::sys::signal::raise(Signal::SIGTERM).unwrap();
        assert!(stop_requested());
        STOP.store(false, Ordering::Relaxed);
    }
}
