// SPDX-License-Identifier: MIT OR Apache-2.0
//! `ping`: round-trip latency and throughput, like ping(8); SIGINT or
//! SIGTERM stops it with the same report. The measuring itself is
//! [`engine`], shared with `bench`.

#![forbid(unsafe_code)]

pub mod engine;

use std::io::Write;

use crate::transport::{Kind as TransportKind, Request, Transport};
use crate::Payload;

use super::args::Options;
use super::output::{write_out, Micros};
use super::{net_error, signals, Ctx, Error, Kind, DEFAULT_TIMEOUT};

/// One run, measured, after `warmup` round trips that are not; `mark`:
/// tell the probe when the measured run starts.
pub fn measure(
    ctx: &Ctx<'_>,
    cfg: &engine::Config,
    warmup: u64,
    mark: bool,
) -> Result<(engine::Stats, Transport), Error> {
    let payload = Payload::default();
    let mut t = ctx.open()?;
    let endpoint = t.endpoint();
    let map = |e| match e {
        crate::Error::Timeout => Error::new(
            Kind::TempFail,
            format!(
                "no reply from the kernel within {:?} (netlink {endpoint})",
                cfg.timeout
            ),
        ),
        e => net_error(e, Some(&endpoint), &payload),
    };
    if warmup > 0 {
        let warm = engine::Config {
            count: warmup,
            ..*cfg
        };
        engine::run(&mut t, &warm, &mut engine::Stats::default()).map_err(map)?;
    }
    if mark {
        ctx.probe.message_path();
    }
    let mut stats = engine::Stats::default();
    engine::run(&mut t, cfg, &mut stats).map_err(map)?;
    Ok((stats, t))
}

/// True when the module gathers the replies of a run (classic unit only).
fn gathered(cfg: &engine::Config, t: &Transport) -> bool {
    cfg.gather && cfg.batch > 1 && t.endpoint().kind() == TransportKind::Unit
}

/// Writes one run's figures as the JSON object `ping --json` prints.
pub fn json(
    w: &mut impl Write,
    cfg: &engine::Config,
    st: &engine::Stats,
    t: &Transport,
) -> Result<(), Error> {
    let h = &st.rtt;
    let sock = t.socket();
    write_out(
        w,
        format_args!(
            "{{\"client\":\"nlchan\",\"count\":{},\"size\":{},\"batch\":{},\"sent\":{},\
             \"received\":{},\"lost\":{},\"mismatched\":{},\"stale\":{},\"foreign\":{},\
             \"min_ns\":{},\"p50_ns\":{},\"p99_ns\":{},\"max_ns\":{},\"msgs_per_s\":{},\
             \"elapsed_ns\":{},\"datagrams\":{},\"recv_calls\":{},\"gather\":{},\
             \"reply_datagrams\":{},\"transport\":\"{}\"}}",
            cfg.count,
            cfg.size,
            cfg.batch,
            st.sent,
            st.received,
            st.lost,
            st.mismatched,
            t.requests().stale(),
            sock.foreign(),
            h.min(),
            h.percentile(500),
            h.percentile(990),
            h.max(),
            st.rate(),
            st.elapsed.as_nanos(),
            st.datagrams,
            st.recv_calls,
            cfg.gather && t.endpoint().kind() == TransportKind::Unit,
            st.reply_datagrams,
            t.endpoint().kind()
        ),
    )
}

/// The exit status of a run: mismatches, then lost replies. A run stopped
/// by a signal succeeds when a reply came, as ping(8) does.
pub fn verdict(st: &engine::Stats) -> Result<(), Error> {
    if st.mismatched > 0 {
        return Err(Error::new(
            Kind::Protocol,
            format!("{} echo replies differed from the request", st.mismatched),
        ));
    }
    if st.lost > 0 && !(st.interrupted && st.received > 0) {
        return Err(Error::new(
            Kind::TempFail,
            format!("{} of {} replies lost", st.lost, st.sent),
        ));
    }
    Ok(())
}

/// `ping`.
pub fn run(ctx: &Ctx<'_>, opts: &Options, out: &mut impl Write) -> Result<(), Error> {
    let cfg = engine::Config {
        request: Request::Echo,
        count: opts.count.unwrap_or(1000),
        size: opts.size.unwrap_or(64),
        batch: opts.batch.unwrap_or(1),
        gather: !opts.no_gather,
        timeout: opts.timeout.unwrap_or(DEFAULT_TIMEOUT),
        stop: signals::stop_requested,
    };
    signals::install()?;
    let (st, t) = measure(ctx, &cfg, 0, true)?;
    let sock = t.socket();
    if opts.json {
        json(out, &cfg, &st, &t)?;
        write_out(out, format_args!("\n"))?;
        return verdict(&st);
    }
    let h = &st.rtt;
    let ms = st.elapsed.as_millis();
    write_out(
        out,
        format_args!(
            "PING {}: {} ECHO requests of {} bytes, {} per datagram\n\
             {} sent, {} received, {} lost, {} mismatched, {} stale, {} foreign\n\
             rtt min/p50/p99/max = {}/{}/{}/{} us\n\
             throughput {} replies/s ({} in {}.{:03} s)\n\
             {} datagrams sent, {} received{} in {} receive calls\n",
            t.endpoint(),
            cfg.count,
            cfg.size,
            cfg.batch,
            st.sent,
            st.received,
            st.lost,
            st.mismatched,
            t.requests().stale(),
            sock.foreign(),
            Micros(h.min()),
            Micros(h.percentile(500)),
            Micros(h.percentile(990)),
            Micros(h.max()),
            st.rate(),
            st.received,
            ms / 1000,
            ms % 1000,
            st.datagrams,
            st.reply_datagrams,
            if gathered(&cfg, &t) {
                " (replies gathered)"
            } else {
                ""
            },
            st.recv_calls
        ),
    )?;
    verdict(&st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_limit_is_the_engines() {
        assert_eq!(super::super::args::MAX_BATCH, engine::MAX_BATCH);
    }

    #[test]
    fn a_stopped_run_succeeds_with_a_reply() {
        let mut st = engine::Stats {
            sent: 5,
            received: 4,
            lost: 1,
            ..Default::default()
        };
        assert_eq!(verdict(&st).unwrap_err().exit_code(), 75);
        st.interrupted = true;
        assert!(verdict(&st).is_ok());
        st.received = 0;
        assert_eq!(verdict(&st).unwrap_err().exit_code(), 75);
        st.received = 4;
        st.mismatched = 1;
        assert_eq!(verdict(&st).unwrap_err().exit_code(), 76);
    }
}
