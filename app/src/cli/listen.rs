// SPDX-License-Identifier: MIT OR Apache-2.0
//! `listen`: prints broadcasts until the count, the timeout, the idle time
//! or SIGINT/SIGTERM ends it; losses are counted and reported, never
//! fatal. The lines are formatted on the stack: nothing allocates per
//! broadcast.

#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::escape::{Escaped, Hex, JsonEscaped};
use crate::seqgap::{Seq, SeqGaps};
use crate::socket::{RecvMany, Slot};
use crate::transport::{Endpoint, Transport};
use crate::{Payload, Received};

use super::args::Options;
use super::output::{unix_time, write_bytes, write_out};
use super::{net_error, signals, Ctx, Error, Kind, NO_SO_MEMINFO_ENV};

/// Datagrams `listen` takes per system call.
const LISTEN_SLOTS: usize = 16;
/// Receive slot of `listen`: a broadcast is at most 152 bytes; anything
/// larger is reported as truncated, never misread.
const LISTEN_SLOT_LEN: usize = 512;
/// Room for the output of one broadcast: its JSON line, a 125-byte payload
/// with every byte escaped (`\u00NN`) and in hex, is under 1,150 bytes; a
/// `lost` event before it under 100.
const LINE_MAX: usize = 1280;

/// Longest single wait for a datagram: a SIGINT or SIGTERM that lands
/// between the stop-flag check and the receive (and so does not interrupt
/// it) is seen within this.
const SIGNAL_CHECK: Duration = Duration::from_secs(1);

/// The receive that looks for a backlog once the idle time is up.
const LAST_LOOK: Duration = Duration::from_millis(1);

/// The formatted lines of one receive, written out in one go; a datagram
/// may hold several messages, so they are also written whenever less than
/// one broadcast's room is left.
struct Lines<'a>(io::Cursor<&'a mut [u8]>);

impl Lines<'_> {
    /// Writes the lines out if another broadcast's might not fit.
    fn make_room(&mut self, out: &mut impl Write) -> Result<(), Error> {
        let left = self.0.get_ref().len() as u64 - self.0.position();
        if left < LINE_MAX as u64 {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Writes the lines out and empties the buffer.
    fn flush(&mut self, out: &mut impl Write) -> Result<(), Error> {
        let used = self.0.position() as usize;
        if used > 0 {
            write_bytes(out, &self.0.get_ref()[..used])?;
            self.0.set_position(0);
        }
        Ok(())
    }
}

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

/// What one receive of the loop gave.
enum Step {
    /// This many slots were filled.
    Got(usize),
    /// Nothing to print: go round again.
    Again,
    /// The loop is over.
    End(End),
}

/// The state of one `listen` run.
struct Listener {
    t: Transport,
    endpoint: Endpoint,
    losses: Losses,
    /// `--timeout`'s end.
    deadline: Option<Instant>,
    /// `--idle`'s end, from the last datagram.
    idle_until: Option<Instant>,
    /// Set when a receive after the idle time found nothing queued.
    drained: bool,
    /// Broadcasts printed.
    seen: u64,
}

/// `listen`.
pub fn run(
    ctx: &Ctx<'_>,
    opts: &Options,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), Error> {
    let mut l = Listener::open(ctx, opts, err)?;
    let mut bufs = [[0u8; LISTEN_SLOT_LEN]; LISTEN_SLOTS];
    let mut slots = [Slot::Empty; LISTEN_SLOTS];
    let mut text = [0u8; LISTEN_SLOTS * LINE_MAX];
    let mut lines = Lines(io::Cursor::new(&mut text[..]));
    ctx.probe.message_path();
    let end = loop {
        let got = match l.receive(opts, &mut bufs, &mut slots, out, err)? {
            Step::Got(got) => got,
            Step::Again => continue,
            Step::End(end) => break end,
        };
        // Format every line of this call, then write them in one go (or
        // in as many as the datagrams' messages need).
        let reached = l.print_datagrams(opts, &bufs, &slots[..got], &mut lines, out, err)?;
        lines.flush(out)?;
        if reached {
            break End::Count;
        }
    };
    l.summary(opts, out, err)?;
    l.outcome(opts, end)
}

impl Listener {
    /// Opens the transport and joins the broadcast group.
    fn open(ctx: &Ctx<'_>, opts: &Options, err: &mut impl Write) -> Result<Listener, Error> {
        let mut t = ctx.open()?;
        let endpoint = t.endpoint();
        if std::env::var_os(NO_SO_MEMINFO_ENV).is_some_and(|v| v == "1") {
            t.socket_mut().ignore_drop_counter();
        }
        signals::install()?;
        let group = t
            .join_broadcasts()
            .map_err(|e| net_error(e, Some(&endpoint), &Payload::default()))?;
        // Diagnostics on stderr: only stdout's fate ends the listener.
        let _ = write_out(
            err,
            format_args!("nlchan: listening on {endpoint} group {group}\n"),
        );
        let losses = Losses {
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
        Ok(Listener {
            t,
            endpoint,
            losses,
            deadline: opts.timeout.and_then(|t| Instant::now().checked_add(t)),
            idle_until: opts.idle.and_then(|i| Instant::now().checked_add(i)),
            drained: false,
            seen: 0,
        })
    }

    /// A failure of the transport, as the command reports it.
    fn net(&self, e: crate::Error) -> Error {
        net_error(e, Some(&self.endpoint), &Payload::default())
    }

    /// How long the next receive waits, and whether it is the last look
    /// for a backlog; the end when it has come.
    fn wait(&self) -> Result<(Duration, bool), End> {
        if signals::stop_requested() {
            return Err(End::Signal);
        }
        // When only the idle time is up, one short receive first: a
        // listener that was stopped (SIGSTOP) longer than --idle finds its
        // backlog, and reads it, before it ends.
        match listen_wait(self.deadline, self.idle_until) {
            Some(wait) => Ok((wait, false)),
            None if !self.drained && self.deadline.is_none_or(|d| Instant::now() < d) => {
                Ok((LAST_LOOK, true))
            }
            None => Err(End::Time),
        }
    }

    /// One receive of up to [`LISTEN_SLOTS`] datagrams.
    fn receive(
        &mut self,
        opts: &Options,
        bufs: &mut [[u8; LISTEN_SLOT_LEN]; LISTEN_SLOTS],
        slots: &mut [Slot; LISTEN_SLOTS],
        out: &mut impl Write,
        err: &mut impl Write,
    ) -> Result<Step, Error> {
        let (wait, last_look) = match self.wait() {
            Ok(wait) => wait,
            Err(end) => return Ok(Step::End(end)),
        };
        let sock = self.t.socket_mut();
        match sock
            .set_recv_timeout(Some(wait))
            .and_then(|()| sock.recv_many(bufs, slots))
        {
            Ok(RecvMany::Datagrams(got)) => {
                self.idle_until = opts.idle.and_then(|i| Instant::now().checked_add(i));
                self.drained = false;
                Ok(Step::Got(got))
            }
            Ok(RecvMany::Lost(n)) if self.losses.exact => {
                report_lost(opts.json, n, self.losses.total(&self.t), out, err)?;
                Ok(Step::Again)
            }
            // Without the drop counter, the next sequence number tells.
            Ok(_) => Ok(Step::Again),
            // The loop's top tells whether the end has come.
            Err(crate::Error::Timeout) => {
                self.drained = last_look;
                Ok(Step::Again)
            }
            // Another signal: the loop checks the flag and goes on.
            Err(crate::Error::Interrupted) => Ok(Step::Again),
            Err(e) => Err(self.net(e)),
        }
    }

    /// Formats the broadcasts of the datagrams in `slots` into `lines`
    /// (written to `out` whenever it fills); true when `--count` is
    /// reached. A malformed message costs only the rest of its datagram: a
    /// warning, and the lines before it are kept.
    fn print_datagrams(
        &mut self,
        opts: &Options,
        bufs: &[[u8; LISTEN_SLOT_LEN]],
        slots: &[Slot],
        lines: &mut Lines<'_>,
        out: &mut impl Write,
        err: &mut impl Write,
    ) -> Result<bool, Error> {
        for (buf, &slot) in bufs.iter().zip(slots) {
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
            for item in self.endpoint.messages(&buf[..len]) {
                let item = match item {
                    Ok(item) => item,
                    Err(e) => {
                        let _ = write_out(
                            err,
                            format_args!(
                                "nlchan: warning: skipped the rest of a {len}-byte datagram: {e}\n"
                            ),
                        );
                        break;
                    }
                };
                let Received::Broadcast { seq, payload } = item else {
                    log::debug!("listen: skipped a message that is not a broadcast");
                    continue;
                };
                lines.make_room(out)?;
                self.print_broadcast(opts, seq, payload, &mut lines.0, err)?;
                if opts.count == Some(self.seen) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Formats one broadcast into `cur`, after the losses its sequence
    /// number shows.
    fn print_broadcast(
        &mut self,
        opts: &Options,
        seq: u32,
        payload: &[u8],
        cur: &mut io::Cursor<&mut [u8]>,
        err: &mut impl Write,
    ) -> Result<(), Error> {
        let losses = &mut self.losses;
        match losses.gaps.observe(seq) {
            Seq::Gap(n) if !losses.exact => {
                report_lost(opts.json, n, losses.gaps.missed(), cur, err)?
            }
            Seq::Late => log::debug!("listen: broadcast {seq} arrived late"),
            _ => {}
        }
        let line = if opts.json {
            plant!("listen-json");
            let (s, us) = unix_time();
            writeln!(
                cur,
                "{{\"time\":{s}.{us:06},\"event\":\"broadcast\",\"seq\":{seq},\"len\":{},\
                 \"payload\":\"{}\",\"hex\":\"{}\",\"lost\":{}}}",
                payload.len(),
                JsonEscaped(payload),
                Hex(payload),
                self.losses.total(&self.t)
            )
        } else {
            plant!("listen");
            writeln!(cur, "{}", Escaped(payload))
        };
        line.map_err(|e| Error::new(Kind::IoErr, format!("formatting output: {e}")))?;
        self.seen += 1;
        Ok(())
    }

    /// The last losses, then the end line (JSON) or the losses' summary.
    fn summary(
        &mut self,
        opts: &Options,
        out: &mut impl Write,
        err: &mut impl Write,
    ) -> Result<(), Error> {
        if self.losses.exact {
            // Drops after the last ENOBUFS raise no new error: read the counter.
            let new = self.t.socket_mut().sync_lost();
            report_lost(opts.json, new, self.losses.total(&self.t), out, err)?;
        }
        let (seen, lost, gaps) = (self.seen, self.losses.total(&self.t), &self.losses.gaps);
        if opts.json {
            let (s, us) = unix_time();
            write_out(
                out,
                format_args!(
                    "{{\"time\":{s}.{us:06},\"missed\":{},\"late\":{},\"loss_from\":\"{}\",\
                     \"event\":\"end\",\"received\":{seen},\"lost\":{lost}}}\n",
                    gaps.missed(),
                    gaps.late(),
                    if self.losses.exact {
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
        Ok(())
    }

    /// The command's result: a failure when `--count` was not reached in
    /// time.
    fn outcome(&self, opts: &Options, end: End) -> Result<(), Error> {
        let seen = self.seen;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_out_before_they_overflow() {
        let mut text = [0u8; 2 * LINE_MAX];
        let mut lines = Lines(io::Cursor::new(&mut text[..]));
        let mut out = Vec::new();
        let line = [b'x'; LINE_MAX - 1];
        for _ in 0..5 {
            lines.make_room(&mut out).unwrap();
            lines.0.write_all(&line).unwrap();
            lines.0.write_all(b"\n").unwrap();
        }
        // Two fit; the third and fifth found the buffer full.
        assert_eq!(out.len(), 4 * LINE_MAX);
        lines.flush(&mut out).unwrap();
        assert_eq!(out.len(), 5 * LINE_MAX);
        assert!(out.chunks(LINE_MAX).all(|l| l.ends_with(b"x\n")));
        lines.flush(&mut out).unwrap();
        assert_eq!(out.len(), 5 * LINE_MAX);
    }
}
