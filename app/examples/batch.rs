// SPDX-License-Identifier: MIT OR Apache-2.0
//! A batched request loop on the library alone: 1,000 ECHO requests sent
//! 16 to a datagram, their replies matched by sequence number, everything
//! in stack buffers: nothing is allocated per message.
//!
//! ```text
//! cargo run --example batch             # on the board, module loaded
//! ```

use std::time::Duration;

use nlchan::netlink::NLM_F_REQUEST;
use nlchan::transport::{self, Preference, Request, MAX_REQUEST_LEN};
use nlchan::Batch;
use nlchan::{proto, Received, RecvMany, Slot, Sysfs};

const TOTAL: u32 = 1000;
const PER_BATCH: u32 = 16;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let timeout = Duration::from_secs(2);
    let mut t = transport::open(&Sysfs::default(), Preference::default(), timeout)?;
    t.socket_mut().set_recv_timeout(Some(timeout))?;
    let mut tx = [0u8; MAX_REQUEST_LEN * PER_BATCH as usize];
    let mut bufs = [[0u8; proto::GATHER_MAX]; 16];
    let mut slots = [Slot::Empty; 16];
    let (mut sent, mut answered) = (0u32, 0u32);
    while sent < TOTAL {
        let n = PER_BATCH.min(TOTAL - sent);
        let first = t.requests_mut().reserve_seqs(n);
        let mut batch = Batch::new(&mut tx);
        for i in 0..n {
            let seq = first + i;
            // F_GATHER: on the classic unit, one reply datagram per batch.
            let flags = NLM_F_REQUEST | proto::F_GATHER;
            t.push_request(&mut batch, Request::Echo, flags, seq, &seq.to_ne_bytes())?;
        }
        t.socket().send(batch.as_bytes())?;
        sent += n;
        let mut pending = n;
        while pending > 0 {
            let got = match t.socket_mut().recv_many(&mut bufs, &mut slots)? {
                RecvMany::Datagrams(got) => got,
                _ => continue,
            };
            for (buf, slot) in bufs.iter().zip(&slots[..got]) {
                let Some(len) = slot.datagram() else {
                    continue;
                };
                for item in t.messages(&buf[..len]) {
                    match item? {
                        Received::Reply { seq, payload }
                            if seq.wrapping_sub(first) < n && payload == seq.to_ne_bytes() =>
                        {
                            pending -= 1;
                            answered += 1;
                        }
                        Received::Error { seq, errno } => {
                            return Err(format!("request {seq}: errno {errno}").into())
                        }
                        _ => t.requests_mut().count_stale(),
                    }
                }
            }
        }
    }
    println!("{answered} of {sent} echoed over {}", t.endpoint());
    Ok(())
}
