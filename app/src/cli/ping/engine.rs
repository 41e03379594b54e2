// SPDX-License-Identifier: MIT OR Apache-2.0
//! Round trips to the module, one request per datagram or many (batched),
//! on either transport, with latency percentiles kept in a fixed-size
//! histogram: the measuring loop allocates nothing.
//!
//! Used by `nlchan ping`, `nlchan bench` and the on-board allocation check
//! (which compiles this file as is: it names the library only).

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::netlink::NLM_F_REQUEST;
use crate::proto;
use crate::socket::{Recv, RecvMany, Slot};
use crate::transport::{self, Request, Transport};
use crate::{Batch, Received};

/// Values below this many nanoseconds get a bucket each.
const EXACT: u64 = 128;
/// Buckets per power of two above [`EXACT`] (relative width 1/64).
const SUB: usize = 64;
/// Largest power of two recorded (2^40 ns, about 18 minutes).
const MAX_EXP: u32 = 40;
const BUCKETS: usize = EXACT as usize + (MAX_EXP as usize - 6) * SUB;

/// A latency histogram in nanoseconds: exact below 128 ns, then 64
/// buckets per power of two, so a percentile is within 0.8 % of the real
/// sample (reported at the bucket's midpoint, so within 0.4 %).
#[derive(Clone)]
pub struct Histogram {
    counts: [u32; BUCKETS],
    n: u64,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl core::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Histogram")
            .field("n", &self.n)
            .field("min", &self.min)
            .field("max", &self.max)
            .finish()
    }
}

impl Histogram {
    /// An empty histogram.
    pub const fn new() -> Self {
        Histogram {
            counts: [0; BUCKETS],
            n: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    fn index(v: u64) -> usize {
        let v = v.min((1 << (MAX_EXP + 1)) - 1);
        if v < EXACT {
            return v as usize;
        }
        let e = 63 - v.leading_zeros();
        let shift = e - 6;
        EXACT as usize + (e as usize - 7) * SUB + ((v >> shift) as usize - SUB)
    }

    /// Midpoint of bucket `i`.
    fn value(i: usize) -> u64 {
        if i < EXACT as usize {
            return i as u64;
        }
        let j = i - EXACT as usize;
        let shift = (j / SUB) as u32 + 1;
        let m = (j % SUB + SUB) as u64;
        (m << shift) + (1 << shift) / 2
    }

    /// Records one sample of `ns` nanoseconds.
    pub fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.n += 1;
        self.min = self.min.min(ns);
        self.max = self.max.max(ns);
    }

    /// Number of samples.
    #[cfg(test)]
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Smallest sample (0 when empty).
    pub fn min(&self) -> u64 {
        if self.n == 0 {
            0
        } else {
            self.min
        }
    }

    /// Largest sample.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The sample of rank `ceil(n * permille / 1000)` (nearest-rank
    /// percentile), within the histogram's precision; 0 when empty.
    pub fn percentile(&self, permille: u32) -> u64 {
        if self.n == 0 {
            return 0;
        }
        let rank = (self.n * u64::from(permille.min(1000)))
            .div_ceil(1000)
            .max(1);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return Self::value(i).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

/// What to send.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The request: [`Request::Echo`] (the reply must match) or
    /// [`Request::Send`].
    pub request: Request,
    /// Number of requests.
    pub count: u64,
    /// Payload size, at most [`proto::MSG_LEN`].
    pub size: usize,
    /// Requests per datagram, 1 to [`MAX_BATCH`].
    pub batch: usize,
    /// Flag the requests [`proto::F_GATHER`]: the module may put many
    /// replies in one datagram (classic unit only).
    pub gather: bool,
    /// How long to wait for the replies of one datagram.
    pub timeout: Duration,
    /// Asked before each datagram and when a receive is interrupted by a
    /// signal: true ends the run early ([`Stats::interrupted`]).
    pub stop: fn() -> bool,
}

/// A [`Config::stop`] that never stops.
pub fn never() -> bool {
    false
}

/// Largest batch `ping` sends (its replies fit one `u64` bit mask).
pub const MAX_BATCH: usize = 64;

/// Datagrams taken per `recvmmsg` call.
const RECV_SLOTS: usize = 16;
/// Receive slot size: a datagram of gathered replies, or a reply, or an
/// error carrying a request.
const SLOT_LEN: usize = proto::GATHER_MAX;

/// Results of a [`run`].
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Requests sent.
    pub sent: u64,
    /// Replies received (each request answered once).
    pub received: u64,
    /// Requests whose reply did not come within the timeout.
    pub lost: u64,
    /// Echo replies whose payload differs from the request's.
    pub mismatched: u64,
    /// Datagrams sent (`sendto` calls).
    pub datagrams: u64,
    /// Receive system calls.
    pub recv_calls: u64,
    /// Datagrams received (fewer than the replies when gathered).
    pub reply_datagrams: u64,
    /// Round-trip time of each reply, from its datagram's send.
    pub rtt: Histogram,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// [`Config::stop`] ended the run early; the requests then unanswered
    /// are counted as lost.
    pub interrupted: bool,
}

impl Stats {
    /// Replies per second over the whole run.
    pub fn rate(&self) -> u64 {
        let ns = self.elapsed.as_nanos().max(1);
        (u128::from(self.received) * 1_000_000_000 / ns) as u64
    }
}

/// Puts `seq` in the first bytes of the payload (the rest is a fixed
/// pattern), so that each request's echo differs.
fn fill(out: &mut [u8], seq: u32) {
    let tag = seq.to_ne_bytes();
    let n = out.len().min(4);
    out[..n].copy_from_slice(&tag[..n]);
}

/// Sends `cfg.count` requests, `cfg.batch` per datagram, and waits for all
/// replies of a datagram before sending the next. A reply that does not
/// come within `cfg.timeout` is counted as lost; a kernel error ends the
/// run with [`Error::Kernel`]. Messages answering no pending request are
/// dropped and counted by the transport ([`crate::Requests::stale`]). A
/// receive interrupted by a signal is retried unless `cfg.stop` says stop.
pub fn run(t: &mut Transport, cfg: &Config, stats: &mut Stats) -> Result<(), Error> {
    // One request per datagram needs one receive slot: the 16 of a batch
    // are 64 KiB of stack to zero (and fault in) first, a third of a
    // one-round-trip process's set-up on the emulated board.
    if cfg.batch <= 1 {
        run_slots::<1>(t, cfg, stats)
    } else {
        run_slots::<RECV_SLOTS>(t, cfg, stats)
    }
}

/// One datagram of requests in flight.
struct Round {
    /// The first request's sequence number; the others follow it.
    first: u32,
    /// Requests in the datagram.
    n: usize,
    /// Bit `i`: request `first + i` still waits for its reply.
    pending: u64,
    sent_at: Instant,
}

/// The payloads of one run: `size` bytes of what is sent and of what an
/// echo must give back.
struct Payloads {
    size: usize,
    sent: [u8; proto::MSG_LEN],
    expect: [u8; proto::MSG_LEN],
}

/// [`run`] with `SLOTS` receive slots.
fn run_slots<const SLOTS: usize>(
    t: &mut Transport,
    cfg: &Config,
    stats: &mut Stats,
) -> Result<(), Error> {
    let batch = cfg.batch.clamp(1, MAX_BATCH);
    let mut tx = [0u8; MAX_BATCH * transport::MAX_REQUEST_LEN];
    let mut bufs = [[0u8; SLOT_LEN]; SLOTS];
    let mut lens = [Slot::Empty; SLOTS];
    let mut payloads = Payloads {
        size: cfg.size.min(proto::MSG_LEN),
        sent: [b'x'; proto::MSG_LEN],
        expect: [b'x'; proto::MSG_LEN],
    };
    t.socket_mut().set_recv_timeout(Some(cfg.timeout))?;
    let start = Instant::now();
    let mut left = cfg.count;
    while left > 0 && !stats.interrupted {
        if (cfg.stop)() {
            stats.interrupted = true;
            break;
        }
        let n = (batch as u64).min(left) as usize;
        left -= n as u64;
        let mut round = send_round(t, cfg, &mut tx, &mut payloads, n)?;
        stats.sent += n as u64;
        stats.datagrams += 1;
        while round.pending != 0 {
            let Some(got) = receive(t, cfg, stats, &mut bufs, &mut lens, &round)? else {
                break;
            };
            stats.recv_calls += 1;
            stats.reply_datagrams += got as u64;
            let rtt = round.sent_at.elapsed().as_nanos() as u64;
            for (buf, slot) in bufs.iter().zip(&lens[..got]) {
                let len = match *slot {
                    Slot::Datagram(len) => len,
                    Slot::Truncated { len } => {
                        return Err(Error::Truncated {
                            len,
                            capacity: SLOT_LEN,
                        })
                    }
                    _ => continue,
                };
                take_replies(t, cfg, stats, &mut round, &buf[..len], rtt, &mut payloads)?;
            }
        }
    }
    stats.elapsed = start.elapsed();
    Ok(())
}

/// Sends `n` requests in one datagram built in `tx`.
fn send_round(
    t: &mut Transport,
    cfg: &Config,
    tx: &mut [u8],
    payloads: &mut Payloads,
    n: usize,
) -> Result<Round, Error> {
    let flags = if cfg.gather {
        NLM_F_REQUEST | proto::F_GATHER
    } else {
        NLM_F_REQUEST
    };
    let size = payloads.size;
    let first = t.requests_mut().reserve_seqs(n as u32);
    let mut b = Batch::new(tx);
    for i in 0..n {
        let seq = first.wrapping_add(i as u32);
        fill(&mut payloads.sent[..size], seq);
        t.push_request(&mut b, cfg.request, flags, seq, &payloads.sent[..size])
            .map_err(|_| Error::Io {
                op: "batch",
                errno: nix::errno::Errno::EMSGSIZE,
            })?;
    }
    let sent_at = Instant::now();
    t.socket().send(b.as_bytes())?;
    Ok(Round {
        first,
        n,
        pending: if n == 64 { u64::MAX } else { (1 << n) - 1 },
        sent_at,
    })
}

/// Waits for the next reply datagrams of `round`: how many slots were
/// filled, or `None` when the round is over (its replies that did not come
/// are counted lost).
fn receive<const SLOTS: usize>(
    t: &mut Transport,
    cfg: &Config,
    stats: &mut Stats,
    bufs: &mut [[u8; SLOT_LEN]; SLOTS],
    lens: &mut [Slot; SLOTS],
    round: &Round,
) -> Result<Option<usize>, Error> {
    let slots = round.n.min(SLOTS);
    loop {
        let sock = t.socket_mut();
        let got = if slots == 1 {
            // One reply: plain recvmsg, as a one-request client does.
            sock.recv(&mut bufs[0]).map(|r| match r {
                Recv::Datagram(len) => {
                    lens[0] = Slot::Datagram(len);
                    RecvMany::Datagrams(1)
                }
                Recv::Lost(n) => RecvMany::Lost(n),
            })
        } else {
            sock.recv_many(&mut bufs[..slots], &mut lens[..slots])
        };
        match got {
            Ok(RecvMany::Datagrams(got)) => return Ok(Some(got)),
            Ok(_) => continue,
            Err(Error::Timeout) => {
                stats.lost += u64::from(round.pending.count_ones());
                return Ok(None);
            }
            Err(Error::Interrupted) if (cfg.stop)() => {
                stats.lost += u64::from(round.pending.count_ones());
                stats.interrupted = true;
                return Ok(None);
            }
            Err(Error::Interrupted) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Takes the replies to `round` out of one datagram; what answers nothing
/// pending is counted stale, an error for one of its requests ends the run.
fn take_replies(
    t: &mut Transport,
    cfg: &Config,
    stats: &mut Stats,
    round: &mut Round,
    datagram: &[u8],
    rtt: u64,
    payloads: &mut Payloads,
) -> Result<(), Error> {
    let (first, n, size) = (round.first, round.n, payloads.size);
    for item in t.endpoint().messages(datagram) {
        match item? {
            Received::Reply { seq, payload: p } => {
                let i = seq.wrapping_sub(first) as usize;
                if i >= n || round.pending & (1 << i) == 0 {
                    t.requests_mut().count_stale();
                    continue;
                }
                round.pending &= !(1 << i);
                stats.received += 1;
                stats.rtt.record(rtt);
                if cfg.request == Request::Echo {
                    fill(&mut payloads.expect[..size], seq);
                    if p != &payloads.expect[..size] {
                        stats.mismatched += 1;
                    }
                }
            }
            Received::Error { seq, errno } if (seq.wrapping_sub(first) as usize) < n => {
                return Err(Error::Kernel(nix::errno::Errno::from_raw(errno)));
            }
            _ => t.requests_mut().count_stale(),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_ordered_and_tight() {
        let mut last = 0;
        for i in 0..BUCKETS {
            let v = Histogram::value(i);
            assert!(i == 0 || v > last, "bucket {i}");
            assert_eq!(Histogram::index(v), i, "bucket {i} value {v}");
            last = v;
        }
        for v in [0u64, 1, 127, 128, 129, 1000, 65_432, 1 << 30, (1 << 41) - 1] {
            let mid = Histogram::value(Histogram::index(v));
            let err = mid.abs_diff(v) as f64 / v.max(1) as f64;
            assert!(err <= 0.008, "{v} -> {mid}");
        }
    }

    #[test]
    fn percentiles_match_sorted_samples() {
        let mut h = Histogram::new();
        assert_eq!((h.percentile(500), h.min(), h.max()), (0, 0, 0));
        let mut samples: Vec<u64> = (1..=1000u64).map(|i| i * i * 37 % 900_001 + 50).collect();
        for &s in &samples {
            h.record(s);
        }
        samples.sort_unstable();
        assert_eq!(h.count(), 1000);
        assert_eq!(h.min(), samples[0]);
        assert_eq!(h.max(), samples[999]);
        for (permille, rank) in [(500, 500), (990, 990), (1000, 1000), (1, 1)] {
            let want = samples[rank - 1];
            let got = h.percentile(permille);
            let err = got.abs_diff(want) as f64 / want as f64;
            assert!(err <= 0.008, "p{permille}: {got} vs {want}");
        }
    }
}
