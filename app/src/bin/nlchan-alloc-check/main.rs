// SPDX-License-Identifier: MIT OR Apache-2.0
//! `nlchan-alloc-check`: proves on a board with the module loaded that the
//! message path performs no heap allocation, on every transport the module
//! serves (its classic unit, when it has one, and generic netlink).
//!
//! A counting global allocator watches each phase on its own, after its
//! set-up (sockets opened, groups joined, arguments built):
//! - `lookup`: 100 generic netlink family look-ups through nlctrl;
//! - `request`: `Transport::request()` ECHO round trips;
//! - `batch`: ECHO requests 16 to a datagram, replies received many per
//!   `recvmmsg` and matched by sequence number;
//! - `ping`: the command's `ping`, unbatched and `--batch 16`;
//! - `broadcast`: broadcasts written to sysfs `send_msg`, received and
//!   decoded by one listener per transport, sequence numbers followed;
//! - `lost`: a burst of broadcasts to listeners with the smallest receive
//!   buffer: real `ENOBUFS`, losses counted (`SO_MEMINFO`, sequence gaps)
//!   until received + lost = sent;
//! - `listen`, `listen-json`: the command's `listen` with its output lines,
//!   plain and `--json`, up to its end line.
//!
//! Prints one line per phase and a verdict; exits 0 only with 0
//! allocations in every phase and every message accounted for. Run as root
//! (send_msg is root-only).
//!
//! `--plant PATH` (only in a build with `--cfg nlchan_plant_alloc`, see
//! `src/plant.rs`) adds one allocation to PATH, so that the check must
//! fail naming it: the stress suite shows that it bites.

#![deny(unsafe_code)]

use std::cell::Cell;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

mod counting;

// The command itself, compiled in as is, to run `ping` and `listen` under
// the counting allocator.
#[allow(dead_code)]
#[path = "../../cli/mod.rs"]
mod cli;

use counting::{allocations, Counting};
use nlchan::codec::{Batch, Received, NLM_F_REQUEST};
use nlchan::socket::{self, RECV_BUF_LEN};
use nlchan::sysfs::{trigger_on, ModuleUnit, Sysfs};
use nlchan::transport::{Kind, Request, Transport, MAX_REQUEST_LEN};
use nlchan::{genl, proto, NlSocket, Payload, RecvMany, SeqGaps, Slot};

#[global_allocator]
static GLOBAL: Counting = Counting;

const LOOKUPS: u32 = 100;
/// Broadcasts in the `lost` burst: far more than the smallest receive
/// buffer holds.
const BURST: u64 = 400;
const PAYLOAD: &[u8] = b"alloc-check";
const TIMEOUT: Duration = Duration::from_secs(5);

/// Broadcasts the trigger thread is asked to write, and has written.
static WANTED: AtomicU64 = AtomicU64::new(0);
static WRITTEN: AtomicU64 = AtomicU64::new(0);
static QUIT: AtomicBool = AtomicBool::new(false);
/// Set by the trigger thread once it runs: starting a thread allocates (in
/// that thread), which must be over before any phase counts.
static READY: AtomicBool = AtomicBool::new(false);

/// One phase's outcome.
struct Phase {
    name: &'static str,
    allocs: u64,
    ok: bool,
    detail: String,
}

/// What the checker was told.
struct Args {
    count: u64,
    plant: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        count: 10_000,
        plant: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--count" => {
                args.count = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n >= 10)
                    .ok_or("--count needs a number of at least 10")?;
            }
            "--plant" => args.plant = Some(it.next().ok_or("--plant needs a path")?),
            _ => return Err(format!("unknown argument {a:?} (--count N, --plant PATH)")),
        }
    }
    Ok(args)
}

#[cfg(nlchan_plant_alloc)]
fn plant(path: &str) -> Result<(), String> {
    if nlchan::plant::activate(path) {
        Ok(())
    } else {
        Err(format!(
            "no allocation can be planted in {path:?}: one of {:?}",
            nlchan::plant::PATHS
        ))
    }
}

#[cfg(not(nlchan_plant_alloc))]
fn plant(_: &str) -> Result<(), String> {
    Err("this build has no planted allocations (build it with \
         RUSTFLAGS='--cfg nlchan_plant_alloc')"
        .into())
}

/// The transports the module serves, by the command's name for them.
fn transports(sysfs: &Sysfs) -> Result<Vec<Kind>, String> {
    match sysfs.module_unit_state() {
        ModuleUnit::Unit(_) => Ok(vec![Kind::Unit, Kind::Genl]),
        ModuleUnit::NotLoaded => Err("the module is not loaded".into()),
        _ => Ok(vec![Kind::Genl]),
    }
}

fn open(sysfs: &Sysfs, kind: Kind) -> Result<Transport, String> {
    match (kind, sysfs.module_unit_state()) {
        (Kind::Unit, ModuleUnit::Unit(unit)) => {
            Transport::open_unit(unit).map_err(|e| format!("unit {unit}: {e}"))
        }
        _ => Transport::open_genl(TIMEOUT).map_err(|e| format!("genl: {e}")),
    }
}

/// Runs `f` under the counter; returns its result and the allocations.
fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = allocations();
    let r = f();
    (r, allocations() - before)
}

fn lookup_phase() -> Result<Phase, String> {
    let mut sock =
        NlSocket::open(genl::NETLINK_GENERIC).map_err(|e| format!("NETLINK_GENERIC: {e}"))?;
    let mut rx = [0u8; RECV_BUF_LEN];
    let mut lookup = || {
        genl::resolve(
            &mut sock,
            proto::GENL_NAME,
            proto::GENL_MCGRP,
            TIMEOUT,
            &mut rx,
        )
    };
    let _ = lookup();
    let (ok, allocs) = counted(|| {
        (0..LOOKUPS)
            .filter(|_| lookup().is_ok_and(|f| f.group.is_some()))
            .count() as u32
    });
    Ok(Phase {
        name: "lookup",
        allocs,
        ok: ok == LOOKUPS,
        detail: format!("{ok} of {LOOKUPS} family look-ups"),
    })
}

fn request_phase(sysfs: &Sysfs, kinds: &[Kind], n: u64) -> Result<Phase, String> {
    let mut ts = kinds
        .iter()
        .map(|&k| open(sysfs, k))
        .collect::<Result<Vec<_>, _>>()?;
    let payload = Payload::new(PAYLOAD).map_err(|e| e.to_string())?;
    for t in &mut ts {
        let _ = t.request(Request::Echo, &payload, TIMEOUT);
    }
    let mut results = [(0u64, None::<socket::Error>); 2];
    let ((), allocs) = counted(|| {
        for (t, r) in ts.iter_mut().zip(&mut results) {
            for _ in 0..n {
                match t.request(Request::Echo, &payload, TIMEOUT) {
                    Ok(reply) if reply == payload => r.0 += 1,
                    Ok(_) => {}
                    Err(e) => r.1 = Some(e),
                }
            }
        }
    });
    Ok(Phase {
        name: "request",
        allocs,
        ok: results[..ts.len()].iter().all(|r| r.0 == n),
        detail: describe(&ts, &results, "Transport::request() ECHO round trips"),
    })
}

fn describe(ts: &[Transport], results: &[(u64, Option<socket::Error>)], what: &str) -> String {
    ts.iter()
        .zip(results)
        .map(|(t, (n, e))| match e {
            None => format!("{}: {n} {what}", t.endpoint()),
            Some(e) => format!("{}: {n} {what}, then {e}", t.endpoint()),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `n` ECHO requests 16 to a datagram on `t`; returns the replies matched.
fn batches(t: &mut Transport, n: u64) -> Result<u64, socket::Error> {
    const PER: u64 = 16;
    let mut tx = [0u8; MAX_REQUEST_LEN * PER as usize];
    let mut bufs = [[0u8; proto::GATHER_MAX]; 16];
    let mut slots = [Slot::Empty; 16];
    let mut answered = 0u64;
    let mut sent = 0u64;
    while sent < n {
        let k = PER.min(n - sent) as u32;
        let first = t.socket_mut().reserve_seqs(k);
        let mut batch = Batch::new(&mut tx);
        for i in 0..k {
            let flags = NLM_F_REQUEST | proto::F_GATHER;
            let seq = first.wrapping_add(i);
            t.push_request(&mut batch, Request::Echo, flags, seq, &seq.to_ne_bytes())
                .map_err(|_| socket::Error::Io {
                    op: "batch",
                    errno: nix::errno::Errno::EMSGSIZE,
                })?;
        }
        t.socket().send(batch.as_bytes())?;
        sent += u64::from(k);
        let mut pending = k;
        while pending > 0 {
            let RecvMany::Datagrams(got) = t.socket_mut().recv_many(&mut bufs, &mut slots)? else {
                continue;
            };
            for (buf, slot) in bufs.iter().zip(&slots[..got]) {
                let Some(len) = slot.datagram() else {
                    continue;
                };
                for item in t.messages(&buf[..len]) {
                    match item? {
                        Received::Reply { seq, payload }
                            if seq.wrapping_sub(first) < k && payload == seq.to_ne_bytes() =>
                        {
                            pending -= 1;
                            answered += 1;
                        }
                        Received::Error { errno, .. } => {
                            return Err(socket::Error::Kernel(nix::errno::Errno::from_raw(errno)))
                        }
                        _ => t.socket_mut().count_stale(),
                    }
                }
            }
        }
    }
    Ok(answered)
}

fn batch_phase(sysfs: &Sysfs, kinds: &[Kind], n: u64) -> Result<Phase, String> {
    let mut ts = kinds
        .iter()
        .map(|&k| open(sysfs, k))
        .collect::<Result<Vec<_>, _>>()?;
    for t in &mut ts {
        t.socket_mut()
            .set_recv_timeout(Some(TIMEOUT))
            .map_err(|e| e.to_string())?;
        let _ = batches(t, 16);
    }
    let mut results = [(0u64, None::<socket::Error>); 2];
    let ((), allocs) = counted(|| {
        for (t, r) in ts.iter_mut().zip(&mut results) {
            match batches(t, n) {
                Ok(got) => r.0 = got,
                Err(e) => r.1 = Some(e),
            }
        }
    });
    Ok(Phase {
        name: "batch",
        allocs,
        ok: results[..ts.len()]
            .iter()
            .all(|r| r.0 == n && r.1.is_none()),
        detail: describe(&ts, &results, "ECHO round trips in batches of 16"),
    })
}

/// A listener of the library: its transport, what it got.
struct Listener {
    t: Transport,
    received: u64,
    bad: u64,
    lost_events: u64,
    gaps: SeqGaps,
}

impl Listener {
    fn open(sysfs: &Sysfs, kind: Kind, rcvbuf: Option<usize>) -> Result<Listener, String> {
        let t = open(sysfs, kind)?;
        if let Some(bytes) = rcvbuf {
            t.socket()
                .set_recv_buffer_size(bytes)
                .map_err(|e| e.to_string())?;
        }
        t.join_broadcasts().map_err(|e| e.to_string())?;
        let mut l = Listener {
            t,
            received: 0,
            bad: 0,
            lost_events: 0,
            gaps: SeqGaps::new(),
        };
        l.t.socket_mut()
            .set_recv_timeout(Some(Duration::from_millis(300)))
            .map_err(|e| e.to_string())?;
        Ok(l)
    }

    /// Receives until `want` broadcasts arrived or lost, or the queue stays
    /// empty for the receive timeout.
    fn drain(&mut self, want: u64, bufs: &mut [[u8; 512]; 16], slots: &mut [Slot; 16]) {
        let endpoint = self.t.endpoint();
        while self.received + self.t.socket().lost() < want {
            match self.t.socket_mut().recv_many(bufs, slots) {
                Ok(RecvMany::Datagrams(got)) => {
                    for (buf, slot) in bufs.iter().zip(&slots[..got]) {
                        let Some(len) = slot.datagram() else {
                            self.bad += 1;
                            continue;
                        };
                        for item in endpoint.messages(&buf[..len]) {
                            match item {
                                Ok(Received::Broadcast { seq, payload }) if payload == PAYLOAD => {
                                    self.gaps.observe(seq);
                                    self.received += 1;
                                }
                                _ => self.bad += 1,
                            }
                        }
                    }
                }
                Ok(RecvMany::Lost(_)) => self.lost_events += 1,
                Ok(_) | Err(_) => break,
            }
        }
        self.t.socket_mut().sync_lost();
    }

    fn report(&self, sent: u64) -> String {
        format!(
            "{}: {}/{sent} received, lost {} (ENOBUFS {}x, seq gaps {}), bad {}",
            self.t.endpoint(),
            self.received,
            self.t.socket().lost(),
            self.lost_events,
            self.gaps.missed(),
            self.bad
        )
    }
}

fn broadcast_phase(sysfs: &Sysfs, kinds: &[Kind], n: u64) -> Result<Phase, String> {
    let mut ls = kinds
        .iter()
        .map(|&k| Listener::open(sysfs, k, None))
        .collect::<Result<Vec<_>, _>>()?;
    let mut send_msg = send_msg(sysfs)?;
    let mut bufs = [[0u8; 512]; 16];
    let mut slots = [Slot::Empty; 16];
    let (sent, allocs) = counted(|| {
        let mut sent = 0u64;
        while sent < n {
            // Sixteen writes, then drain: the queues never overflow.
            for _ in 0..16.min(n - sent) {
                if trigger_on(&mut send_msg, PAYLOAD).is_ok() {
                    sent += 1;
                }
            }
            for l in &mut ls {
                l.drain(sent, &mut bufs, &mut slots);
            }
            if ls.iter().any(|l| l.received < sent) {
                break;
            }
        }
        sent
    });
    let last = ls.first().and_then(|l| l.gaps.last());
    let ok = sent == n
        && ls.iter().all(|l| {
            l.received == n
                && l.bad == 0
                && l.t.socket().lost() == 0
                && l.gaps.missed() == 0
                && l.gaps.late() == 0
                && l.gaps.last() == last
        });
    Ok(Phase {
        name: "broadcast",
        allocs,
        ok,
        detail: ls
            .iter()
            .map(|l| l.report(sent))
            .collect::<Vec<_>>()
            .join("; "),
    })
}

fn lost_phase(sysfs: &Sysfs, kinds: &[Kind]) -> Result<Phase, String> {
    // The kernel raises a tiny SO_RCVBUF to its minimum: a few broadcasts.
    let mut ls = kinds
        .iter()
        .map(|&k| Listener::open(sysfs, k, Some(1)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut send_msg = send_msg(sysfs)?;
    let mut bufs = [[0u8; 512]; 16];
    let mut slots = [Slot::Empty; 16];
    let (sent, allocs) = counted(|| {
        let mut sent = 0u64;
        for _ in 0..BURST {
            if trigger_on(&mut send_msg, PAYLOAD).is_ok() {
                sent += 1;
            }
        }
        for l in &mut ls {
            l.drain(sent, &mut bufs, &mut slots);
        }
        sent
    });
    let exact = ls.iter().all(|l| l.t.socket().has_drop_counter());
    let ok = sent == BURST
        && ls.iter().all(|l| {
            l.lost_events > 0
                && l.bad == 0
                && l.received > 0
                && l.received + l.gaps.missed() <= sent
                && (!exact || l.received + l.t.socket().lost() == sent)
        });
    Ok(Phase {
        name: "lost",
        allocs,
        ok,
        detail: ls
            .iter()
            .map(|l| l.report(sent))
            .collect::<Vec<_>>()
            .join("; "),
    })
}

fn send_msg(sysfs: &Sysfs) -> Result<File, String> {
    sysfs
        .find_device()
        .ok_or("no nlchan device (is the module loaded?)")?
        .open_send_msg()
        .map_err(|e| format!("send_msg: {e}"))
}

/// Writes broadcasts when asked ([`WANTED`]), so that the command's
/// `listen` gets them once it listens. Allocates nothing once started.
fn trigger_thread(mut send_msg: File) {
    std::thread::sleep(Duration::from_millis(1));
    READY.store(true, Ordering::SeqCst);
    while !QUIT.load(Ordering::SeqCst) {
        if WRITTEN.load(Ordering::SeqCst) < WANTED.load(Ordering::SeqCst) {
            if trigger_on(&mut send_msg, PAYLOAD).is_ok() {
                WRITTEN.fetch_add(1, Ordering::SeqCst);
            }
            // Paced like events, so a default receive buffer keeps up.
            if WRITTEN.load(Ordering::SeqCst) % 16 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The command's output: lines counted, the current one kept (its start)
/// in a fixed buffer to recognise the JSON end line.
struct Sink {
    lines: u64,
    /// The last complete line was the JSON end line.
    end: bool,
    line: [u8; 512],
    len: usize,
}

impl Default for Sink {
    fn default() -> Sink {
        Sink {
            lines: 0,
            end: false,
            line: [0; 512],
            len: 0,
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &b in buf {
            if b == b'\n' {
                self.lines += 1;
                let line = &self.line[..self.len];
                self.end = line.windows(13).any(|w| w == b"\"event\":\"end\"");
                self.len = 0;
            } else if self.len < self.line.len() {
                self.line[self.len] = b;
                self.len += 1;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Marks where the command's message path starts: counting starts, and so
/// do the broadcasts a `listen` waits for.
struct Start {
    at: Cell<Option<u64>>,
    broadcasts: u64,
}

impl cli::Probe for Start {
    fn message_path(&self) {
        self.at.set(Some(allocations()));
        WANTED.fetch_add(self.broadcasts, Ordering::SeqCst);
    }
}

/// Runs the command with `args` under the counter, from its message path
/// on; returns (allocations, output lines, JSON end line seen, result).
fn command(args: &[&str], broadcasts: u64) -> (u64, Sink, Result<(), String>) {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let mut out = Sink::default();
    let mut err = Sink::default();
    let start = Start {
        at: Cell::new(None),
        broadcasts,
    };
    let r = cli::run(&args, &mut out, &mut err, &start);
    let after = allocations();
    let allocs = match start.at.get() {
        Some(at) => after - at,
        None => u64::MAX,
    };
    (allocs, out, r.map_err(|e| e.to_string()))
}

fn transport_arg(kind: Kind) -> &'static str {
    match kind {
        Kind::Unit => "unit",
        _ => "genl",
    }
}

fn ping_phase(kinds: &[Kind], n: u64) -> Phase {
    let count = n.to_string();
    let mut allocs = 0;
    let mut ok = true;
    let mut detail = Vec::new();
    for &k in kinds {
        for batch in ["1", "16"] {
            let args = [
                "ping",
                "--transport",
                transport_arg(k),
                "-c",
                &count,
                "-s",
                "64",
                "--batch",
                batch,
                "--json",
            ];
            let (a, out, r) = command(&args, 0);
            allocs += a;
            ok &= r.is_ok() && out.lines == 1;
            detail.push(format!("{} --batch {batch}: {r:?}", transport_arg(k)));
        }
    }
    Phase {
        name: "ping",
        allocs,
        ok,
        detail: format!("nlchan ping -c {n}: {}", detail.join(", ")),
    }
}

fn listen_phase(kinds: &[Kind], n: u64, json: bool) -> Phase {
    let count = n.to_string();
    let mut allocs = 0;
    let mut ok = true;
    let mut detail = Vec::new();
    for &k in kinds {
        let mut args = vec![
            "listen",
            "--transport",
            transport_arg(k),
            "--count",
            &count,
            "--timeout",
            "60",
        ];
        if json {
            args.push("--json");
        }
        let (a, out, r) = command(&args, n);
        allocs += a;
        let lines = n + u64::from(json);
        ok &= r.is_ok() && out.lines == lines && out.end == json;
        detail.push(format!(
            "{}: {}/{lines} lines{}, {r:?}",
            transport_arg(k),
            out.lines,
            if json { " with the end line" } else { "" }
        ));
    }
    Phase {
        name: if json { "listen-json" } else { "listen" },
        allocs,
        ok,
        detail: format!("nlchan listen --count {n}: {}", detail.join(", ")),
    }
}

fn run(args: &Args) -> Result<Vec<Phase>, String> {
    let sysfs = Sysfs::default();
    let kinds = transports(&sysfs)?;
    let n = args.count;
    let trigger = std::thread::spawn({
        let f = send_msg(&sysfs)?;
        move || trigger_thread(f)
    });
    while !READY.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut phases = vec![lookup_phase()?];
    phases.push(request_phase(&sysfs, &kinds, n / 5)?);
    phases.push(batch_phase(&sysfs, &kinds, n / 2)?);
    phases.push(ping_phase(&kinds, n / 2));
    phases.push(broadcast_phase(&sysfs, &kinds, n)?);
    phases.push(lost_phase(&sysfs, &kinds)?);
    phases.push(listen_phase(&kinds, n / 5, false));
    phases.push(listen_phase(&kinds, n / 5, true));
    QUIT.store(true, Ordering::SeqCst);
    let _ = trigger.join();
    Ok(phases)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("nlchan-alloc-check: {e}");
            return ExitCode::from(64);
        }
    };
    if let Some(path) = &args.plant {
        if let Err(e) = plant(path) {
            eprintln!("nlchan-alloc-check: {e}");
            return ExitCode::from(64);
        }
        println!("nlchan-alloc-check: an allocation is planted in {path}");
    }
    let phases = match run(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("nlchan-alloc-check: set-up failed: {e}");
            return ExitCode::from(69);
        }
    };
    // Counting is over: the report may allocate.
    let mut failed = Vec::new();
    for p in &phases {
        println!(
            "nlchan-alloc-check: {}: {} allocations ({})",
            p.name, p.allocs, p.detail
        );
        if p.allocs != 0 || !p.ok {
            failed.push(p.name);
        }
    }
    if failed.is_empty() {
        println!("nlchan-alloc-check: ok");
        ExitCode::SUCCESS
    } else {
        println!("nlchan-alloc-check: FAILED: {}", failed.join(" "));
        ExitCode::FAILURE
    }
}
