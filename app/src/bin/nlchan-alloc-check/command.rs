// SPDX-License-Identifier: MIT OR Apache-2.0
//! The phases that run the command itself (`ping`, `listen`) under the
//! counter, and the broadcasts a `listen` waits for.

#![forbid(unsafe_code)]

use super::*;

pub fn send_msg(sysfs: &Sysfs) -> Result<File, String> {
    sysfs
        .find_device()
        .ok_or("no nlchan device (is the module loaded?)")?
        .open_send_msg()
        .map_err(|e| format!("send_msg: {e}"))
}

/// Writes broadcasts when asked ([`WANTED`]), so that the command's
/// `listen` gets them once it listens. Allocates nothing once started.
pub fn trigger_thread(mut send_msg: File) {
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
pub struct Sink {
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
pub struct Start {
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
pub fn command(args: &[&str], broadcasts: u64) -> (u64, Sink, Result<(), String>) {
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

pub fn transport_arg(kind: Kind) -> &'static str {
    match kind {
        Kind::Unit => "unit",
        _ => "genl",
    }
}

pub fn ping_phase(kinds: &[Kind], n: u64) -> Phase {
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

pub fn listen_phase(kinds: &[Kind], n: u64, json: bool) -> Phase {
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
