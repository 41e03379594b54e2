//! Zero heap allocations on the message path, proven with a counting
//! global allocator on NETLINK_ROUTE (present on every kernel and under
//! qemu-user): after socket set-up, 10,000 requests batched and unbatched,
//! their ACKs received (one and many per system call) and decoded, and
//! 10,000 nlchan messages encoded and decoded, allocate nothing.
//! `nlchan-alloc-check` proves the same against the real module on the
//! emulated board.

use std::time::Duration;

use nlchan::alloc_count::{allocations, Counting};
use nlchan::codec::{
    Batch, Messages, Received, MAX_MESSAGE_LEN, NLMSG_NOOP, NLM_F_ACK, NLM_F_REQUEST,
};
use nlchan::{proto, NlSocket, Recv, RecvMany};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Sends `n` NOOP requests with NLM_F_ACK in one datagram and checks that
/// an ACK for each comes back; returns the ACKs seen.
fn acked_batch(sock: &mut NlSocket, n: usize, many: bool) -> usize {
    let mut tx = [0u8; 64 * 16];
    let mut b = Batch::new(&mut tx);
    let first = sock.reserve_seqs(n as u32);
    for i in 0..n {
        b.push(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, first + i as u32, b"")
            .unwrap();
    }
    sock.send(b.as_bytes()).unwrap();
    let mut acks = 0;
    let mut bufs = [[0u8; 256]; 16];
    let mut lens = [0usize; 16];
    while acks < n {
        let got = if many {
            match sock.recv_many(&mut bufs, &mut lens).unwrap() {
                RecvMany::Datagrams(got) => got,
                RecvMany::Lost(_) => panic!("lost"),
            }
        } else {
            match sock.recv(&mut bufs[0]).unwrap() {
                Recv::Datagram(len) => {
                    lens[0] = len;
                    1
                }
                Recv::Lost(_) => panic!("lost"),
            }
        };
        for (buf, &len) in bufs.iter().zip(&lens[..got]) {
            for item in Messages::new(&buf[..len]) {
                match item.unwrap() {
                    Received::Ack { seq } => {
                        assert!(seq.wrapping_sub(first) < n as u32);
                        acks += 1;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    }
    acks
}

#[test]
fn message_path_allocates_nothing() {
    // Set-up may allocate (and the test harness does): count from here.
    let mut sock = NlSocket::open(0).unwrap();
    sock.set_recv_timeout(Some(Duration::from_secs(5))).unwrap();
    acked_batch(&mut sock, 1, false);
    acked_batch(&mut sock, 16, true);

    let before = allocations();
    let mut acks = 0;
    for _ in 0..2000 {
        acks += acked_batch(&mut sock, 1, false);
    }
    for _ in 0..500 {
        acks += acked_batch(&mut sock, 16, true);
    }
    let mut decoded = 0usize;
    let data = [0x5au8; proto::MSG_LEN];
    for i in 0..10_000usize {
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        let mut b = Batch::new(&mut buf);
        b.push(proto::MSG_REPLY, 0, i as u32, &data[..i % 126])
            .unwrap();
        for item in Messages::new(b.as_bytes()) {
            match item.unwrap() {
                Received::Reply { payload, .. } => decoded += payload.len(),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let after = allocations();
    assert_eq!(acks, 2000 + 500 * 16);
    assert!(decoded > 0);
    assert_eq!(after - before, 0, "allocations on the message path");
    // The counter does count: a boxed value is an allocation.
    let boxed = std::hint::black_box(Box::new(after));
    assert!(
        allocations() > after,
        "the counting allocator saw no allocation"
    );
    drop(boxed);
    assert_eq!((sock.foreign(), sock.stale(), sock.truncated()), (0, 0, 0));
}
