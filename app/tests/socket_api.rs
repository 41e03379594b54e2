// SPDX-License-Identifier: MIT OR Apache-2.0
//! The socket's public API on real netlink sockets of the running kernel
//! (NETLINK_ROUTE, present everywhere and under qemu-user): interruption
//! by a signal, non-blocking use through the fd, the receive buffer size,
//! `NETLINK_NO_ENOBUFS`, joining and leaving a group, and truncation
//! judged per datagram.

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::pthread::{pthread_kill, pthread_self};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nlchan::netlink::{NLM_F_ACK, NLM_F_REQUEST};
use nlchan::{Batch, Error, Messages, Received};
use nlchan::{NlSocket, RecvMany, Requests, Slot};

const ROUTE: u32 = 0;
/// RTNLGRP_LINK: open to every user.
const RTNLGRP_LINK: u32 = 1;

static CAUGHT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: nix::libc::c_int) {
    CAUGHT.store(true, Ordering::SeqCst);
}

#[test]
fn a_signal_interrupts_a_blocking_recv() {
    // Without SA_RESTART, as a program that wants to stop on SIGINT does.
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic.
    unsafe { sigaction(Signal::SIGUSR1, &action) }.unwrap();
    let mut s = NlSocket::open(ROUTE).unwrap();
    // Long enough never to be the reason recv returns.
    s.set_recv_timeout(Some(Duration::from_secs(5))).unwrap();
    let me = pthread_self();
    let kicker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        pthread_kill(me, Signal::SIGUSR1).unwrap();
    });
    let mut buf = [0u8; 256];
    let start = Instant::now();
    // Times out after 5 s if the library retried EINTR itself.
    assert_eq!(s.recv(&mut buf), Err(Error::Interrupted));
    let mut bufs = [[0u8; 256]; 4];
    let mut slots = [Slot::Empty; 4];
    kicker.join().unwrap();
    assert!(CAUGHT.load(Ordering::SeqCst));
    assert!(start.elapsed() >= Duration::from_millis(150));
    let kicker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        pthread_kill(me, Signal::SIGUSR1).unwrap();
    });
    assert_eq!(s.recv_many(&mut bufs, &mut slots), Err(Error::Interrupted));
    kicker.join().unwrap();
}

#[test]
fn non_blocking_use_through_the_fd() {
    let mut s = NlSocket::open(ROUTE).unwrap();
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 256];
    assert_eq!(s.recv(&mut buf), Err(Error::WouldBlock));
    // An ACK arrives: poll says readable, recv has it.
    let mut tx = [0u8; 64];
    let mut b = Batch::new(&mut tx);
    let seq = Requests::new().next_seq();
    b.push(
        nlchan::netlink::NLMSG_NOOP,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        b"",
    )
    .unwrap();
    s.send(b.as_bytes()).unwrap();
    let mut fds = [PollFd::new(s.as_fd(), PollFlags::POLLIN)];
    assert_eq!(poll(&mut fds, PollTimeout::from(2000u16)).unwrap(), 1);
    let len = match s.recv(&mut buf).unwrap() {
        nlchan::Recv::Datagram(len) => len,
        other => panic!("{other:?}"),
    };
    let got: Vec<_> = Messages::new(&buf[..len]).collect();
    assert_eq!(got, [Ok(Received::Ack { seq })]);
    assert_eq!(s.recv(&mut buf), Err(Error::WouldBlock));
    // Blocking again: the timeout applies.
    s.set_nonblocking(false).unwrap();
    s.set_recv_timeout(Some(Duration::from_millis(50))).unwrap();
    assert_eq!(s.recv(&mut buf), Err(Error::Timeout));
}

#[test]
fn receive_buffer_group_and_enobufs_options() {
    let s = NlSocket::open(ROUTE).unwrap();
    // The kernel doubles what it is given and has a floor (SOCK_MIN_RCVBUF).
    let small = s.set_recv_buffer_size(4096).unwrap();
    assert!((4096..=8192 + 4096).contains(&small), "{small}");
    let big = s.set_recv_buffer_size(65536).unwrap();
    assert!(big > small, "{big} <= {small}");
    s.set_no_enobufs(true).unwrap();
    s.set_no_enobufs(false).unwrap();
    s.join_group(RTNLGRP_LINK).unwrap();
    s.leave_group(RTNLGRP_LINK).unwrap();
    // Leaving a group one is not in is not an error for the kernel either.
    s.leave_group(RTNLGRP_LINK).unwrap();
}

/// Three answers queued; the middle one (RTM_NEWLINK for the loopback
/// device, over a kilobyte with its statistics) does not fit a 256-byte
/// buffer. The two ACKs around it are kept.
#[test]
fn truncation_is_per_datagram() {
    const RTM_GETLINK: u16 = 18;
    let mut s = NlSocket::open(ROUTE).unwrap();
    let mut tx = [0u8; 64];
    // struct ifinfomsg: family, pad, type, index 1 (lo), flags, change.
    let mut ifinfo = [0u8; 16];
    ifinfo[4..8].copy_from_slice(&1i32.to_ne_bytes());
    let first = Requests::new().reserve_seqs(3);
    let requests: [(u16, u16, &[u8]); 3] = [
        (1, NLM_F_REQUEST | NLM_F_ACK, b""),
        (RTM_GETLINK, NLM_F_REQUEST, &ifinfo),
        (1, NLM_F_REQUEST | NLM_F_ACK, b""),
    ];
    for (i, (msg_type, flags, payload)) in requests.into_iter().enumerate() {
        let mut b = Batch::new(&mut tx);
        b.push_parts(msg_type, flags, first + i as u32, &[payload])
            .unwrap();
        s.send(b.as_bytes()).unwrap();
    }
    let mut bufs = [[0u8; 256]; 16];
    let mut slots = [Slot::Empty; 16];
    s.set_recv_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let got = match s.recv_many(&mut bufs, &mut slots).unwrap() {
            RecvMany::Datagrams(got) => got,
            other => panic!("{other:?}"),
        };
        for (buf, slot) in bufs.iter().zip(&slots[..got]) {
            seen.push(match *slot {
                Slot::Datagram(len) => match Messages::new(&buf[..len]).next() {
                    Some(Ok(Received::Ack { seq })) => format!("ack {}", seq - first),
                    other => panic!("{other:?}"),
                },
                Slot::Truncated { len } => format!("truncated {}", len > 256),
                other => panic!("{other:?}"),
            });
        }
    }
    assert_eq!(seen, ["ack 0", "truncated true", "ack 2"]);
    assert_eq!(s.truncated(), 1);
}
