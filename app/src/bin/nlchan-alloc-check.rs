//! `nlchan-alloc-check`: proves on a board with the module loaded that the
//! message path performs no heap allocation, on every transport the module
//! serves (its classic unit, when it has one, and generic netlink). A
//! counting global allocator watches while, after socket set-up, 100
//! generic netlink family look-ups through nlctrl, and on each transport
//! 10,000 ECHO round trips (5,000 one per datagram, 5,000 in batches of 16)
//! and 10,000 broadcasts (written to sysfs `send_msg`, received and decoded
//! by one listener per transport, their sequence numbers followed) run.
//! Set-up (argument handling, opening the sockets and `send_msg`, logging)
//! may allocate, before the count starts. Prints one line and exits 0 only
//! with 0 allocations and every message accounted for: each listener gets
//! every broadcast, in order, with the same sequence numbers as the others.
//! Run as root (send_msg is root-only).

use std::process::ExitCode;
use std::time::Duration;

// The ping engine is the command's (src/cli/ping/engine.rs), not the
// library's: compiled in here as is.
#[allow(dead_code)]
#[path = "../cli/ping/engine.rs"]
mod ping;

use nlchan::alloc_count::{allocations, Counting};
use nlchan::codec::Received;
use nlchan::genl;
use nlchan::socket::RECV_BUF_LEN;
use nlchan::sysfs::{trigger_on, ModuleUnit, Sysfs};
use nlchan::transport::{Request, Transport};
use nlchan::{proto, NlSocket, RecvMany, SeqGaps};
use ping::{Config, Stats};

#[global_allocator]
static GLOBAL: Counting = Counting;

const BROADCASTS: u64 = 10_000;
const LOOKUPS: u32 = 100;

/// One transport under test: a pinger and a listener.
struct Path {
    pinger: Transport,
    listener: Transport,
    unicast: Stats,
    errors: [Option<nlchan::socket::Error>; 2],
    received: u64,
    bad: u64,
    gaps: SeqGaps,
}

fn open(genl: bool, unit: Option<u32>, timeout: Duration) -> Result<Transport, String> {
    match (genl, unit) {
        (true, _) => Transport::open_genl(timeout).map_err(|e| format!("genl: {e}")),
        (false, Some(unit)) => Transport::open_unit(unit).map_err(|e| format!("unit {unit}: {e}")),
        (false, None) => Err("no unit".into()),
    }
}

fn set_up(timeout: Duration) -> Result<(Vec<Path>, std::fs::File, NlSocket), String> {
    let sysfs = Sysfs::default();
    let device = sysfs
        .find_device()
        .ok_or("no nlchan device (is the module loaded?)")?;
    let unit = match sysfs.module_unit_state() {
        ModuleUnit::Unit(unit) => Some(unit),
        ModuleUnit::NotLoaded => return Err("the module is not loaded".into()),
        _ => None,
    };
    let mut paths = Vec::new();
    for genl in [false, true] {
        if !genl && unit.is_none() {
            continue;
        }
        let pinger = open(genl, unit, timeout)?;
        let mut listener = open(genl, unit, timeout)?;
        listener
            .join_broadcasts()
            .and_then(|_| listener.socket_mut().set_recv_timeout(Some(timeout)))
            .map_err(|e| format!("{}: {e}", listener.endpoint()))?;
        paths.push(Path {
            pinger,
            listener,
            unicast: Stats::default(),
            errors: [None; 2],
            received: 0,
            bad: 0,
            gaps: SeqGaps::new(),
        });
    }
    let send_msg = device
        .open_send_msg()
        .map_err(|e| format!("send_msg: {e}"))?;
    let resolver =
        NlSocket::open(genl::NETLINK_GENERIC).map_err(|e| format!("NETLINK_GENERIC: {e}"))?;
    Ok((paths, send_msg, resolver))
}

/// Receives what `path`'s listener has until it has `sent` broadcasts.
fn drain(path: &mut Path, sent: u64, bufs: &mut [[u8; 512]; 16], lens: &mut [usize; 16]) {
    let endpoint = path.listener.endpoint();
    while path.received < sent {
        match path.listener.socket_mut().recv_many(bufs, lens) {
            Ok(RecvMany::Datagrams(got)) => {
                for (buf, &len) in bufs.iter().zip(&lens[..got]) {
                    for item in endpoint.messages(&buf[..len]) {
                        match item {
                            Ok(Received::Broadcast {
                                seq,
                                payload: b"alloc-check",
                            }) => {
                                path.gaps.observe(seq);
                                path.received += 1;
                            }
                            _ => path.bad += 1,
                        }
                    }
                }
            }
            Ok(RecvMany::Lost(_)) => {}
            Err(_) => break,
        }
    }
}

fn main() -> ExitCode {
    env_logger::init();
    let timeout = Duration::from_secs(5);
    let (mut paths, mut send_msg, mut resolver) = match set_up(timeout) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nlchan-alloc-check: set-up failed: {e}");
            return ExitCode::from(69);
        }
    };
    let one = Config {
        request: Request::Echo,
        count: 5_000,
        size: 64,
        batch: 1,
        gather: true,
        timeout,
        stop: ping::never,
    };
    let batched = Config { batch: 16, ..one };
    // Warm-up: first use of every path (lazy statics, log level).
    let warm_cfg = Config {
        count: 16,
        ..batched
    };
    let mut rx = [0u8; RECV_BUF_LEN];
    let lookup = |sock: &mut NlSocket, rx: &mut [u8]| {
        genl::resolve(sock, proto::GENL_NAME, proto::GENL_MCGRP, timeout, rx)
    };
    let _ = lookup(&mut resolver, &mut rx);
    for path in &mut paths {
        let _ = ping::run(&mut path.pinger, &warm_cfg, &mut Stats::default());
    }

    let before = allocations();
    let mut lookups_ok = 0u32;
    for _ in 0..LOOKUPS {
        if lookup(&mut resolver, &mut rx).is_ok_and(|f| f.group.is_some()) {
            lookups_ok += 1;
        }
    }
    for path in &mut paths {
        let r1 = ping::run(&mut path.pinger, &one, &mut path.unicast);
        let r2 = ping::run(&mut path.pinger, &batched, &mut path.unicast);
        path.errors = [r1.err(), r2.err()];
    }
    let mut bufs = [[0u8; 512]; 16];
    let mut lens = [0usize; 16];
    let mut sent = 0u64;
    while sent < BROADCASTS {
        // Sixteen writes, then drain: the queues never overflow.
        for _ in 0..16 {
            if sent < BROADCASTS && trigger_on(&mut send_msg, b"alloc-check").is_ok() {
                sent += 1;
            }
        }
        for path in &mut paths {
            drain(path, sent, &mut bufs, &mut lens);
        }
        if paths.iter().any(|p| p.received < sent) {
            break;
        }
    }
    for path in &mut paths {
        path.listener.socket_mut().sync_lost();
    }
    let allocs = allocations() - before;

    // Counting is over: the report may allocate. One line (the smoke test
    // prints it as a KTAP diagnostic).
    let last = paths.first().and_then(|p| p.gaps.last());
    let mut ok = allocs == 0 && sent == BROADCASTS && lookups_ok == LOOKUPS && !paths.is_empty();
    let mut report = Vec::new();
    for p in &paths {
        ok &= p.errors == [None, None]
            && p.unicast.received == 10_000
            && p.unicast.mismatched == 0
            && p.received == BROADCASTS
            && p.bad == 0
            && p.listener.socket().lost() == 0
            && p.gaps.missed() == 0
            && p.gaps.late() == 0
            && p.gaps.last() == last
            && last.is_some();
        report.push(format!(
            "{}: {} round trips ({} datagrams, errors {:?}), {}/{sent} broadcasts (lost {}, \
             bad {}, seq gaps {}, late {}, last seq {:?})",
            p.pinger.endpoint(),
            p.unicast.received,
            p.unicast.datagrams,
            p.errors,
            p.received,
            p.listener.socket().lost(),
            p.bad,
            p.gaps.missed(),
            p.gaps.late(),
            p.gaps.last()
        ));
    }
    println!(
        "nlchan-alloc-check: {allocs} allocations for {LOOKUPS} family look-ups ({lookups_ok} \
         ok) and {}: {}",
        report.join("; "),
        if ok { "ok" } else { "FAILED" }
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
