//! `nlchan-alloc-check`: proves on a board with the module loaded that the
//! message path performs no heap allocation. A counting global allocator
//! watches while, after socket set-up, 10,000 ECHO round trips (5,000 one
//! per datagram, 5,000 in batches of 16) and 10,000 broadcasts (written to
//! sysfs `send_msg`, received and decoded) run. Set-up (argument handling,
//! opening the socket and `send_msg`, logging) may allocate once, before
//! the count starts. Prints one line and exits 0 only with 0 allocations
//! and every message accounted for. Run as root (send_msg is root-only).

use std::process::ExitCode;
use std::time::Duration;

use nlchan::alloc_count::{allocations, Counting};
use nlchan::codec::{Messages, Received};
use nlchan::ping::{self, Config, Stats};
use nlchan::sysfs::{trigger_on, Sysfs};
use nlchan::{proto, NlSocket, RecvMany};

#[global_allocator]
static GLOBAL: Counting = Counting;

const BROADCASTS: u64 = 10_000;

fn main() -> ExitCode {
    env_logger::init();
    let sysfs = Sysfs::default();
    let unit = sysfs.module_unit().unwrap_or(proto::UNIT_DEFAULT);
    let Some(device) = sysfs.find_device() else {
        eprintln!("nlchan-alloc-check: no nlchan device (is the module loaded?)");
        return ExitCode::from(69);
    };
    let (mut pinger, mut listener, mut send_msg) = match (
        NlSocket::open(unit),
        NlSocket::open(unit),
        device.open_send_msg(),
    ) {
        (Ok(p), Ok(l), Ok(f)) => (p, l, f),
        (p, l, f) => {
            eprintln!(
                "nlchan-alloc-check: set-up failed: {:?} {:?} {:?}",
                p.err(),
                l.err(),
                f.err()
            );
            return ExitCode::from(69);
        }
    };
    let timeout = Duration::from_secs(5);
    if let Err(e) = listener
        .join_group(proto::GROUP)
        .and_then(|()| listener.set_recv_timeout(Some(timeout)))
    {
        eprintln!("nlchan-alloc-check: {e}");
        return ExitCode::from(69);
    }
    let one = Config {
        msg_type: proto::MSG_ECHO,
        count: 5_000,
        size: 64,
        batch: 1,
        gather: true,
        timeout,
    };
    let batched = Config { batch: 16, ..one };
    // Warm-up: first use of every path (lazy statics, log level).
    let mut warm = Stats::default();
    let warm_cfg = Config {
        count: 16,
        ..batched
    };
    let _ = ping::run(&mut pinger, &warm_cfg, &mut warm);

    let before = allocations();
    let mut unicast = Stats::default();
    let r1 = ping::run(&mut pinger, &one, &mut unicast);
    let r2 = ping::run(&mut pinger, &batched, &mut unicast);
    let mut bufs = [[0u8; 512]; 16];
    let mut lens = [0usize; 16];
    let mut received = 0u64;
    let mut bad = 0u64;
    let mut sent = 0u64;
    while sent < BROADCASTS {
        // Sixteen writes, then drain: the queue never overflows.
        for _ in 0..16 {
            if sent < BROADCASTS && trigger_on(&mut send_msg, b"alloc-check").is_ok() {
                sent += 1;
            }
        }
        while received < sent {
            match listener.recv_many(&mut bufs, &mut lens) {
                Ok(RecvMany::Datagrams(got)) => {
                    for (buf, &len) in bufs.iter().zip(&lens[..got]) {
                        for item in Messages::new(&buf[..len]) {
                            match item {
                                Ok(Received::Broadcast {
                                    payload: b"alloc-check",
                                }) => received += 1,
                                _ => bad += 1,
                            }
                        }
                    }
                }
                Ok(RecvMany::Lost(_)) => {}
                Err(_) => break,
            }
        }
        if received < sent {
            break;
        }
    }
    listener.sync_lost();
    let allocs = allocations() - before;
    let ok = allocs == 0
        && r1.is_ok()
        && r2.is_ok()
        && unicast.received == 10_000
        && unicast.mismatched == 0
        && received == BROADCASTS
        && sent == BROADCASTS
        && bad == 0
        && listener.lost() == 0;
    println!(
        "nlchan-alloc-check: {allocs} allocations for {} round trips ({} datagrams) and \
         {received}/{sent} broadcasts (lost {}, bad {bad}, errors {:?} {:?}): {}",
        unicast.received,
        unicast.datagrams,
        listener.lost(),
        r1.err(),
        r2.err(),
        if ok { "ok" } else { "FAILED" }
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
