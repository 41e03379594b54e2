// SPDX-License-Identifier: MIT OR Apache-2.0
//! `listen`: prints broadcasts until the count, the timeout, the idle time
//! or SIGINT/SIGTERM ends it; losses are counted and reported, never
//! fatal. The lines are formatted on the stack: nothing allocates per
//! broadcast.

#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::time::{Duration, Instant};

use nlchan::codec::{Payload, Received};
use nlchan::escape::{Escaped, JsonEscaped};
use nlchan::seqgap::{Seq, SeqGaps};
use nlchan::socket::{self, RecvMany, Slot};
use nlchan::transport::Transport;

use super::args::Options;
use super::output::{unix_time, write_bytes, write_out};
use super::{net_error, signals, Ctx, Error, Kind, NO_SO_MEMINFO_ENV};

/// Datagrams `listen` takes per system call.
const LISTEN_SLOTS: usize = 16;
/// Receive slot of `listen`: a broadcast is at most 152 bytes; anything
/// larger is reported as truncated, never misread.
const LISTEN_SLOT_LEN: usize = 512;
/// Room for the output of one datagram: a JSON line of a 125-byte payload
/// with every byte escaped is under 900 bytes, a `lost` event under 100.
const LINE_MAX: usize = 1280;

/// Longest single wait for a datagram: a SIGINT or SIGTERM that lands
/// between the stop-flag check and the receive (and so does not interrupt
/// it) is seen within this.
const SIGNAL_CHECK: Duration = Duration::from_secs(1);

/// The receive that looks for a backlog once the idle time is up.
const LAST_LOOK: Duration = Duration::from_millis(1);

/// How long the next receive may wait: until the earlier of `deadline`
/// (`--timeout`) and `idle_until` (`--idle` after the last datagram), at
/// most [`SIGNAL_CHECK`]; `None` once that end has come.
fn listen_wait(deadline: Option<Instant>, idle_until: Option<Instant>) -> Option<Duration> {
    let end = match (deadline, idle_until) {
        (Some(d), Some(i)) => Some(d.min(i)),
        (d, i) => d.or(i),
    };
    match end {
        None => Some(SIGNAL_CHECK),
        Some(end) => end
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .map(|left| left.min(SIGNAL_CHECK)),
    }
}

/// Reports `n` newly lost broadcasts (`total` so far) on stderr, or as a
/// JSON event on `json_out` (stdout, or the pending output of a datagram).
fn report_lost(
    json: bool,
    n: u64,
    total: u64,
    json_out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), Error> {
    if n == 0 {
        return Ok(());
    }
    if json {
        let (s, us) = unix_time();
        write_out(
            json_out,
            format_args!(
                "{{\"time\":{s}.{us:06},\"event\":\"lost\",\"count\":{n},\"lost\":{total}}}\n"
            ),
        )
    } else {
        // A diagnostic: a closed stderr must not end the listener.
        let _ = write_out(err, format_args!("nlchan: warning: {n} broadcasts lost\n"));
        Ok(())
    }
}

/// How `listen` counts lost broadcasts.
struct Losses {
    /// The socket's drop counter (`SO_MEMINFO`) is there: exact. Else the
    /// sequence gaps are all there is.
    exact: bool,
    gaps: SeqGaps,
}

impl Losses {
    /// Total lost so far.
    fn total(&self, t: &Transport) -> u64 {
        if self.exact {
            t.socket().lost()
        } else {
            self.gaps.missed()
        }
    }
}

/// How the loop ended.
#[derive(PartialEq)]
enum End {
    /// `--count` broadcasts printed.
    Count,
    /// The timeout or the idle time.
    Time,
    /// SIGINT or SIGTERM.
    Signal,
}

/// `listen`.
pub fn run(
    ctx: &Ctx<'_>,
    opts: &Options,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), Error> {
    let empty = Payload::default();
    let mut t = ctx.open()?;
    let endpoint = t.endpoint();
    let net = |e| net_error(e, Some(&endpoint), &empty);
    if std::env::var_os(NO_SO_MEMINFO_ENV).is_some_and(|v| v == "1") {
        t.socket_mut().ignore_drop_counter();
    }
    signals::install()?;
    let group = t.join_broadcasts().map_err(net)?;
    // Diagnostics on stderr: only stdout's fate ends the listener.
    let _ = write_out(
        err,
        format_args!("nlchan: listening on {endpoint} group {group}\n"),
    );
    let mut losses = Losses {
        exact: t.socket().has_drop_counter(),
        gaps: SeqGaps::new(),
    };
    log::debug!(
        "listen: losses counted from {}",
        if losses.exact {
            "SO_MEMINFO"
        } else {
            "sequence gaps"
        }
    );
    let deadline = opts.timeout.map(|t| Instant::now() + t);
    let mut idle_until = opts.idle.map(|i| Instant::now() + i);
    let mut bufs = [[0u8; LISTEN_SLOT_LEN]; LISTEN_SLOTS];
    let mut slots = [Slot::Empty; LISTEN_SLOTS];
    let mut text = [0u8; LISTEN_SLOTS * LINE_MAX];
    let mut seen = 0u64;
    // Set when a receive after the idle time found nothing queued.
    let mut drained = false;
    ctx.probe.message_path();
    let end = loop {
        if signals::stop_requested() {
            break End::Signal;
        }
        // When only the idle time is up, one short receive first: a
        // listener that was stopped (SIGSTOP) longer than --idle finds its
        // backlog, and reads it, before it ends.
        let (wait, last_look) = match listen_wait(deadline, idle_until) {
            Some(wait) => (wait, false),
            None if !drained && deadline.is_none_or(|d| Instant::now() < d) => (LAST_LOOK, true),
            None => break End::Time,
        };
        let sock = t.socket_mut();
        let got = match sock
            .set_recv_timeout(Some(wait))
            .and_then(|()| sock.recv_many(&mut bufs, &mut slots))
        {
            Ok(RecvMany::Datagrams(got)) => {
                idle_until = opts.idle.map(|i| Instant::now() + i);
                drained = false;
                got
            }
            Ok(RecvMany::Lost(n)) if losses.exact => {
                report_lost(opts.json, n, losses.total(&t), out, err)?;
                continue;
            }
            // Without the drop counter, the next sequence number tells.
            Ok(_) => continue,
            // The loop's top tells whether the end has come.
            Err(socket::Error::Timeout) => {
                drained = last_look;
                continue;
            }
            // Another signal: the loop checks the flag and goes on.
            Err(socket::Error::Interrupted) => continue,
            Err(e) => return Err(net(e)),
        };
        // Format every line of this call, then write them in one go.
        let mut cur = io::Cursor::new(&mut text[..]);
        let mut reached = false;
        'datagrams: for (buf, &slot) in bufs.iter().zip(&slots[..got]) {
            let len = match slot {
                Slot::Datagram(len) => len,
                // One oversized datagram costs only itself.
                Slot::Truncated { len } => {
                    let _ = write_out(
                        err,
                        format_args!(
                            "nlchan: warning: dropped a datagram of {len} bytes, over the \
                             {LISTEN_SLOT_LEN}-byte buffer\n"
                        ),
                    );
                    continue;
                }
                _ => continue,
            };
            for item in endpoint.messages(&buf[..len]) {
                let item = item.map_err(|e| net(e.into()))?;
                let Received::Broadcast { seq, payload } = item else {
                    log::debug!("listen: skipped a message that is not a broadcast");
                    continue;
                };
                match losses.gaps.observe(seq) {
                    Seq::Gap(n) if !losses.exact => {
                        report_lost(opts.json, n, losses.gaps.missed(), &mut cur, err)?
                    }
                    Seq::Late => log::debug!("listen: broadcast {seq} arrived late"),
                    _ => {}
                }
                let line = if opts.json {
                    #[cfg(nlchan_plant_alloc)]
                    nlchan::plant::hit("listen-json");
                    let (s, us) = unix_time();
                    writeln!(
                        cur,
                        "{{\"time\":{s}.{us:06},\"seq\":{seq},\"len\":{},\"payload\":\"{}\",\
                         \"lost\":{}}}",
                        payload.len(),
                        JsonEscaped(payload),
                        losses.total(&t)
                    )
                } else {
                    #[cfg(nlchan_plant_alloc)]
                    nlchan::plant::hit("listen");
                    writeln!(cur, "{}", Escaped(payload))
                };
                line.map_err(|e| Error::new(Kind::IoErr, format!("formatting output: {e}")))?;
                seen += 1;
                if opts.count == Some(seen) {
                    reached = true;
                    break 'datagrams;
                }
            }
        }
        let used = cur.position() as usize;
        write_bytes(out, &text[..used])?;
        if reached {
            break End::Count;
        }
    };
    if losses.exact {
        // Drops after the last ENOBUFS raise no new error: read the counter.
        let new = t.socket_mut().sync_lost();
        report_lost(opts.json, new, losses.total(&t), out, err)?;
    }
    let lost = losses.total(&t);
    if opts.json {
        let (s, us) = unix_time();
        write_out(
            out,
            format_args!(
                "{{\"time\":{s}.{us:06},\"missed\":{},\"late\":{},\"loss_from\":\"{}\",\
                 \"event\":\"end\",\"received\":{seen},\"lost\":{lost}}}\n",
                losses.gaps.missed(),
                losses.gaps.late(),
                if losses.exact {
                    "so_meminfo"
                } else {
                    "seq_gaps"
                }
            ),
        )?;
    } else if lost > 0 {
        let _ = write_out(
            err,
            format_args!("nlchan: {seen} broadcasts received, {lost} lost\n"),
        );
    }
    match opts.count {
        Some(count) if end == End::Time => Err(Error::new(
            Kind::TempFail,
            match opts.timeout {
                Some(t) => format!("received {seen} of {count} broadcasts within {t:?}"),
                None => format!(
                    "received {seen} of {count} broadcasts, then none for {:?}",
                    opts.idle.unwrap_or_default()
                ),
            },
        )),
        _ => Ok(()),
    }
}
