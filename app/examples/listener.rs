// SPDX-License-Identifier: MIT OR Apache-2.0
//! A broadcast listener on the library alone: joins the module's group,
//! receives up to 16 datagrams per system call into stack buffers, prints
//! each broadcast with its sequence number and counts what was lost. Stops
//! cleanly on Ctrl-C: the library hands the interruption back instead of
//! retrying.
//!
//! ```text
//! cargo run --example listener          # on the board, module loaded
//! echo hello > /sys/devices/platform/netlink-test/send_msg   # elsewhere
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nlchan::transport::{self, Preference};
use nlchan::Error;
use nlchan::{Escaped, Received, RecvMany, SeqGaps, Slot, Sysfs};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: nix::libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // No SA_RESTART: a blocking receive returns Error::Interrupted.
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic.
    unsafe { sigaction(Signal::SIGINT, &action) }?;

    let mut t = transport::open(
        &Sysfs::default(),
        Preference::default(),
        Duration::from_secs(5),
    )?;
    let group = t.join_broadcasts()?;
    eprintln!("listening on {}, group {group}", t.endpoint());

    let mut bufs = [[0u8; 512]; 16];
    let mut slots = [Slot::Empty; 16];
    let mut gaps = SeqGaps::default();
    let mut received = 0u64;
    t.socket_mut().set_recv_timeout(None)?;
    while !STOP.load(Ordering::SeqCst) {
        let got = match t.socket_mut().recv_many(&mut bufs, &mut slots) {
            Ok(RecvMany::Datagrams(got)) => got,
            // The receive queue overflowed; SO_MEMINFO or the sequence
            // numbers tell how many.
            Ok(_) => continue,
            Err(Error::Interrupted) => continue,
            Err(e) => return Err(e.into()),
        };
        for (buf, slot) in bufs.iter().zip(&slots[..got]) {
            let Some(len) = slot.datagram() else {
                continue;
            };
            for item in t.messages(&buf[..len]) {
                // Anything else (a newer module's messages) is skipped.
                if let Received::Broadcast { seq, payload } = item? {
                    gaps.observe(seq);
                    received += 1;
                    println!("{seq}: {}", Escaped(payload));
                }
            }
        }
    }
    t.socket_mut().sync_lost();
    eprintln!(
        "{received} received, {} lost",
        t.socket().lost().max(gaps.missed())
    );
    Ok(())
}
