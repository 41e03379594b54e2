// SPDX-License-Identifier: MIT OR Apache-2.0
//! `bench`: the same round trips unbatched and in batches of 16.

#![forbid(unsafe_code)]

use std::io::Write;

use crate::transport::{Request, Transport};

use super::args::Options;
use super::output::{write_out, Micros};
use super::ping::{self, engine};
use super::{Ctx, Error, DEFAULT_TIMEOUT};

/// `bench`.
pub fn run(ctx: &Ctx<'_>, opts: &Options, out: &mut impl Write) -> Result<(), Error> {
    let base = engine::Config {
        request: Request::Echo,
        count: opts.count.unwrap_or(10_000),
        size: opts.size.unwrap_or(64),
        batch: 1,
        gather: true,
        timeout: opts.timeout.unwrap_or(DEFAULT_TIMEOUT),
        stop: engine::never,
    };
    let batched = engine::Config { batch: 16, ..base };
    let (one, one_t) = ping::measure(ctx, &base, 200, false)?;
    let (many, many_t) = ping::measure(ctx, &batched, 200, false)?;
    let speedup = (u128::from(many.rate()) * 100 / u128::from(one.rate().max(1))) as u64;
    if opts.json {
        write_out(out, format_args!("{{\"unbatched\":"))?;
        ping::json(out, &base, &one, &one_t)?;
        write_out(out, format_args!(",\"batch16\":"))?;
        ping::json(out, &batched, &many, &many_t)?;
        write_out(
            out,
            format_args!(
                ",\"batch_speedup\":{}.{:02}}}\n",
                speedup / 100,
                speedup % 100
            ),
        )?;
    } else {
        table(out, &one_t, &base, [("batch 1", &one), ("batch 16", &many)])?;
        write_out(
            out,
            format_args!(
                "batched/unbatched throughput: {}.{:02}x\n",
                speedup / 100,
                speedup % 100
            ),
        )?;
    }
    ping::verdict(&one).and_then(|()| ping::verdict(&many))
}

/// The text table: its title, column titles and one row per run.
fn table(
    out: &mut impl Write,
    t: &Transport,
    base: &engine::Config,
    runs: [(&str, &engine::Stats); 2],
) -> Result<(), Error> {
    write_out(
        out,
        format_args!(
            // The column titles, laid out as the rows below.
            "nlchan bench: {}, {} ECHO round trips of {} bytes per run\n\
             run           min us    p50 us    p99 us    max us     msgs/s\n",
            t.endpoint(),
            base.count,
            base.size,
        ),
    )?;
    for (name, st) in runs {
        let h = &st.rtt;
        write_out(
            out,
            format_args!(
                "{:<10} {:>9} {:>9} {:>9} {:>9} {:>10}\n",
                name,
                Micros(h.min()),
                Micros(h.percentile(500)),
                Micros(h.percentile(990)),
                Micros(h.max()),
                st.rate()
            ),
        )?;
    }
    Ok(())
}
