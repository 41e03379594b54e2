// SPDX-License-Identifier: MIT OR Apache-2.0
//! The phases that drive the library itself: look-ups, requests, batches,
//! broadcasts and losses.

#![forbid(unsafe_code)]

use super::*;

/// Runs `f` under the counter; returns its result and the allocations.
pub fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = allocations();
    let r = f();
    (r, allocations() - before)
}

pub fn lookup_phase() -> Result<Phase, String> {
    let mut sock =
        NlSocket::open(genl::NETLINK_GENERIC).map_err(|e| format!("NETLINK_GENERIC: {e}"))?;
    let mut requests = Requests::new();
    let mut rx = [0u8; RECV_BUF_LEN];
    let mut lookup = || {
        exchange::resolve(
            &mut sock,
            &mut requests,
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

pub fn request_phase(sysfs: &Sysfs, kinds: &[Kind], n: u64) -> Result<Phase, String> {
    let mut ts = kinds
        .iter()
        .map(|&k| open(sysfs, k))
        .collect::<Result<Vec<_>, _>>()?;
    let payload = Payload::new(PAYLOAD).map_err(|e| e.to_string())?;
    for t in &mut ts {
        let _ = t.request(Request::Echo, &payload, TIMEOUT);
    }
    let mut results = [(0u64, None::<Error>); 2];
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

pub fn describe(ts: &[Transport], results: &[(u64, Option<Error>)], what: &str) -> String {
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
pub fn batches(t: &mut Transport, n: u64) -> Result<u64, Error> {
    const PER: u64 = 16;
    let mut tx = [0u8; MAX_REQUEST_LEN * PER as usize];
    let mut bufs = [[0u8; proto::GATHER_MAX]; 16];
    let mut slots = [Slot::Empty; 16];
    let mut answered = 0u64;
    let mut sent = 0u64;
    while sent < n {
        let k = PER.min(n - sent) as u32;
        let first = t.requests_mut().reserve_seqs(k);
        let mut batch = Batch::new(&mut tx);
        for i in 0..k {
            let flags = NLM_F_REQUEST | proto::F_GATHER;
            let seq = first.wrapping_add(i);
            t.push_request(&mut batch, Request::Echo, flags, seq, &seq.to_ne_bytes())
                .map_err(|_| Error::Io {
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
                            return Err(Error::Kernel(nix::errno::Errno::from_raw(errno)))
                        }
                        _ => t.requests_mut().count_stale(),
                    }
                }
            }
        }
    }
    Ok(answered)
}

pub fn batch_phase(sysfs: &Sysfs, kinds: &[Kind], n: u64) -> Result<Phase, String> {
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
    let mut results = [(0u64, None::<Error>); 2];
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
pub struct Listener {
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

pub fn broadcast_phase(sysfs: &Sysfs, kinds: &[Kind], n: u64) -> Result<Phase, String> {
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

pub fn lost_phase(sysfs: &Sysfs, kinds: &[Kind]) -> Result<Phase, String> {
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
