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

mod command;
mod counting;
mod library;

use command::{listen_phase, ping_phase, send_msg, trigger_thread};
use counting::{allocations, Counting};
use library::{batch_phase, broadcast_phase, lookup_phase, lost_phase, request_phase};
// The command itself (the library's, feature `cli`), to run `ping` and
// `listen` under the counting allocator.
use nlchan::cli;
use nlchan::netlink::NLM_F_REQUEST;
use nlchan::socket::RECV_BUF_LEN;
use nlchan::sysfs::{trigger_on, ModuleUnit, Sysfs};
use nlchan::transport::{Kind, Request, Transport, MAX_REQUEST_LEN};
use nlchan::{
    exchange, genl, proto, Batch, Error, NlSocket, Payload, Received, RecvMany, Requests, SeqGaps,
    Slot,
};

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
