// SPDX-License-Identifier: MIT OR Apache-2.0
//! Requests and their answers, one layer above the socket: send a
//! datagram, then receive until the answer with the request's sequence
//! number comes ([`transact`]), counting what answers something else
//! ([`Requests::stale`]); a classic-unit request ([`request`]), the reply
//! to one ([`reply_to`]), and resolving a generic netlink family through
//! nlctrl ([`resolve`]). Every buffer is the caller's or on the stack;
//! nothing allocates.
//!
//! The request side of a socket is its [`Requests`], kept beside the
//! [`NlSocket`] (as [`crate::transport::Transport`] does): sequence numbers
//! are never 0 ([`Requests::next_seq`]), which broadcasts use, and what
//! answers no pending request is counted there ([`Requests::stale`]).

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use log::debug;
use nix::errno::Errno;

use crate::answer::{Payload, Received};
use crate::attr::NLA_HDRLEN;
use crate::batch::Batch;
use crate::error::Error;
use crate::genl::GENL_HDRLEN;
use crate::messages::Messages;
use crate::netlink::{Frames, NLMSG_ERROR, NLMSG_HDRLEN};
use crate::nlctrl::{parse_family, push_getfamily, valid_name, Family, GENL_ID_CTRL, GENL_NAMSIZ};
use crate::socket::{NlSocket, Recv, RECV_BUF_LEN};
use crate::v1::{Message, MAX_MESSAGE_LEN};

/// The error of a request that could not be encoded.
const ENCODE: Error = Error::Io {
    op: "encode",
    errno: Errno::EMSGSIZE,
};

/// The request side of one socket: the sequence numbers handed out (never
/// 0, which broadcasts use) and the messages that answered no pending
/// request. Keep one per [`NlSocket`], for every request sent on it.
#[derive(Debug, Default, Clone)]
pub struct Requests {
    /// The last sequence number handed out (0: none yet).
    seq: u32,
    /// Messages that answered no pending request.
    stale: u64,
}

impl Requests {
    /// No sequence number handed out yet, nothing stale.
    pub fn new() -> Requests {
        Requests::default()
    }

    /// The next sequence number; never 0, which broadcasts use. After
    /// `u32::MAX` it wraps to 1.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Reserves `n` consecutive sequence numbers (none of them 0, and not
    /// wrapping within the run) and returns the first, for a batch of `n`
    /// requests: the batch uses `first..first + n`. When the run would
    /// pass `u32::MAX` it starts again at 1. With `n` 0 it reserves one,
    /// as [`Requests::next_seq`] does. No `n` panics.
    pub fn reserve_seqs(&mut self, n: u32) -> u32 {
        if self.seq.checked_add(n).is_none() {
            self.seq = 0;
        }
        let first = self.next_seq();
        // first - 1 + n <= u32::MAX: either seq + n did not overflow
        // (first = seq + 1), or seq was u32::MAX with n 0 (first = 1).
        self.seq = first.saturating_add(n.saturating_sub(1));
        first
    }

    /// Counts a message dropped because it answered no pending request.
    pub fn count_stale(&mut self) {
        self.stale = self.stale.saturating_add(1);
    }

    /// Messages dropped because they answered no pending request (other
    /// sequence numbers, broadcasts, acks): counted by [`request`],
    /// [`resolve`] and [`reply_to`], or by a caller's own matching
    /// ([`Requests::count_stale`]).
    pub fn stale(&self) -> u64 {
        self.stale
    }
}

/// Sends a `msg_type` request carrying `payload` on the classic unit `sock`,
/// numbered by `requests`, and waits up to `timeout` for the answer with the
/// same sequence number.
///
/// Returns the reply payload, or [`Error::Kernel`] when the kernel answers
/// `NLMSG_ERROR`. Messages for other sequence numbers are dropped and
/// counted ([`Requests::stale`]). [`crate::transport::Transport::request`]
/// does the same on either transport.
pub fn request(
    sock: &mut NlSocket,
    requests: &mut Requests,
    msg_type: u16,
    payload: &Payload,
    timeout: Duration,
) -> Result<Payload, Error> {
    let seq = requests.next_seq();
    let msg = Message::request(msg_type, seq, payload.clone(), false);
    let mut tx = [0u8; MAX_MESSAGE_LEN];
    let len = msg.encode(&mut tx).map_err(|_| ENCODE)?;
    debug!(
        "request seq={seq} type={msg_type:#x} len={len} from port {}",
        sock.port()
    );
    let mut rx = [0u8; RECV_BUF_LEN];
    transact(sock, &tx[..len], timeout, &mut rx, |datagram| {
        reply_to(requests, Messages::new(datagram), seq)
    })
}

/// Sends `datagram` on `sock`, then receives datagrams into `rx` and hands
/// each to `answer` until it returns `Some` (the outcome), or `timeout`
/// passes ([`Error::Timeout`]). `answer` counts what it drops on the
/// socket's [`Requests`] ([`Requests::count_stale`]), which it captures.
/// `ENOBUFS` is counted and waited past, and so is a signal
/// ([`Error::Interrupted`]). Needs a blocking socket: on a non-blocking
/// one it fails at once with [`Error::WouldBlock`].
pub fn transact<T>(
    sock: &mut NlSocket,
    datagram: &[u8],
    timeout: Duration,
    rx: &mut [u8],
    mut answer: impl FnMut(&[u8]) -> Option<Result<T, Error>>,
) -> Result<T, Error> {
    sock.send(datagram)?;
    // One setsockopt for all requests with the same timeout (cached); only
    // a stray message makes us wait again, for what is left.
    sock.set_recv_timeout(Some(timeout))?;
    // A timeout past what the clock can represent never ends (no panic
    // on `Duration::MAX`).
    let deadline = Instant::now().checked_add(timeout);
    let mut first = true;
    loop {
        if let (false, Some(deadline)) = (first, deadline) {
            match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => sock.set_recv_timeout(Some(left))?,
                _ => return Err(Error::Timeout),
            }
        }
        first = false;
        let n = match sock.recv(rx) {
            Ok(Recv::Datagram(n)) => n,
            Ok(Recv::Lost(_)) => continue,
            // The request is in flight: wait on for its answer until the
            // deadline (a SIGSTOP/SIGCONT alone interrupts a receive with
            // SO_RCVTIMEO).
            Err(Error::Interrupted) => continue,
            Err(e) => return Err(e),
        };
        if let Some(outcome) = answer(&rx[..n]) {
            return outcome;
        }
    }
}

/// Looks in `messages` for the answer to request `seq`: its reply payload,
/// or [`Error::Kernel`] for its `NLMSG_ERROR`, or [`Error::Malformed`];
/// `None` when the datagram holds no answer (what it holds is dropped and
/// counted as stale on `requests`).
pub fn reply_to(
    requests: &mut Requests,
    messages: Messages<'_>,
    seq: u32,
) -> Option<Result<Payload, Error>> {
    for item in messages {
        match item {
            Err(e) => return Some(Err(Error::Malformed(e))),
            Ok(Received::Reply { seq: s, payload }) if s == seq => {
                debug!("reply seq={seq} len={}", payload.len());
                return Some(Ok(Payload::decoded(payload)));
            }
            Ok(Received::Error { seq: s, errno }) if s == seq => {
                debug!("error seq={seq} errno={errno}");
                return Some(Err(Error::Kernel(Errno::from_raw(errno))));
            }
            Ok(_) => {
                requests.count_stale();
                debug!("dropped a message that does not answer seq {seq}");
            }
        }
    }
    None
}

/// Asks nlctrl, on the `NETLINK_GENERIC` socket `sock` (its request side
/// `requests`), for family `name` and its multicast group `group`, waiting
/// up to `timeout`; `rx` receives
/// the answer (nlctrl's answers fit in [`RECV_BUF_LEN`]
/// bytes; a larger one is [`Error::Truncated`]). Nothing allocates.
///
/// nlctrl's `ENOENT` (also for a name no family can have) is
/// [`Error::FamilyNotFound`]. Before answering `ENOENT` the kernel asks
/// modprobe for `net-pf-16-proto-16-family-<name>`, so this loads a module
/// that declares `MODULE_ALIAS_GENL_FAMILY(name)`.
pub fn resolve(
    sock: &mut NlSocket,
    requests: &mut Requests,
    name: &str,
    group: &str,
    timeout: Duration,
    rx: &mut [u8],
) -> Result<Family, Error> {
    if !valid_name(name) {
        return Err(Error::FamilyNotFound);
    }
    let seq = requests.next_seq();
    let mut tx = [0u8; NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + GENL_NAMSIZ];
    let mut batch = Batch::new(&mut tx);
    push_getfamily(&mut batch, seq, name).map_err(|_| ENCODE)?;
    let family = transact(sock, batch.as_bytes(), timeout, rx, |datagram| {
        for frame in Frames::new(datagram) {
            let frame = match frame {
                Ok(frame) => frame,
                Err(e) => return Some(Err(Error::Malformed(e))),
            };
            if frame.header.seq != seq {
                requests.count_stale();
                continue;
            }
            match frame.header.msg_type {
                NLMSG_ERROR => match frame.error() {
                    Ok(Some(errno)) if errno == nix::libc::ENOENT => {
                        return Some(Err(Error::FamilyNotFound))
                    }
                    Ok(Some(errno)) => return Some(Err(Error::Kernel(Errno::from_raw(errno)))),
                    Ok(None) => requests.count_stale(),
                    Err(e) => return Some(Err(Error::Malformed(e))),
                },
                GENL_ID_CTRL => {
                    return Some(parse_family(frame, name, group).map_err(Error::Malformed))
                }
                _ => requests.count_stale(),
            }
        }
        None
    })?;
    debug!(
        "genl family {name:?}: id {:#x}, version {}, group {group:?}: {:?}",
        family.id, family.version, family.group
    );
    Ok(family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_skip_zero() {
        let mut r = Requests::new();
        assert_eq!(r.next_seq(), 1);
        assert_eq!(r.next_seq(), 2);
        r.seq = u32::MAX;
        assert_eq!(r.next_seq(), 1);
    }

    #[test]
    fn reserved_runs_never_hold_zero_nor_panic() {
        let mut r = Requests::new();
        assert_eq!(r.reserve_seqs(3), 1);
        assert_eq!(r.next_seq(), 4);
        // 0 reserves one, as next_seq does.
        assert_eq!(r.reserve_seqs(0), 5);
        assert_eq!(r.next_seq(), 6);
        // A run that would pass u32::MAX starts again at 1.
        r.seq = u32::MAX - 2;
        assert_eq!(r.reserve_seqs(2), u32::MAX - 1);
        assert_eq!(r.seq, u32::MAX);
        r.seq = u32::MAX - 2;
        assert_eq!(r.reserve_seqs(3), 1);
        assert_eq!(r.next_seq(), 4);
        r.seq = u32::MAX;
        assert_eq!(r.reserve_seqs(0), 1);
        assert_eq!(r.next_seq(), 2);
        r.seq = u32::MAX;
        assert_eq!(r.reserve_seqs(1), 1);
        // Every number: 1..=u32::MAX.
        for seq in [0, 1, 7, u32::MAX - 1, u32::MAX] {
            r.seq = seq;
            assert_eq!(r.reserve_seqs(u32::MAX), 1);
            assert_eq!(r.seq, u32::MAX);
            assert_eq!(r.next_seq(), 1);
        }
        // No n panics, from any state, and no run holds 0.
        for seq in [0, 1, 2, u32::MAX / 2, u32::MAX - 1, u32::MAX] {
            for n in [0, 1, 2, 16, u32::MAX / 2, u32::MAX - 1, u32::MAX] {
                r.seq = seq;
                let first = r.reserve_seqs(n);
                assert_ne!(first, 0, "seq {seq}, n {n}");
                let last = r.seq;
                assert_eq!(u64::from(last) + 1 - u64::from(first), u64::from(n.max(1)));
                assert_eq!(r.next_seq(), last.wrapping_add(1).max(1));
            }
        }
    }

    #[test]
    fn stale_messages_are_counted() {
        let mut r = Requests::new();
        assert_eq!(r.stale(), 0);
        r.count_stale();
        r.count_stale();
        assert_eq!(r.stale(), 2);
        // An ack and another request's reply answer nothing pending.
        let mut buf = [0u8; 64];
        let mut b = Batch::new(&mut buf);
        b.push(NLMSG_ERROR, 0, 7, &[0u8; 20]).unwrap();
        b.push(crate::proto::MSG_REPLY, 0, 8, b"x").unwrap();
        assert_eq!(reply_to(&mut r, Messages::new(b.as_bytes()), 9), None);
        assert_eq!(r.stale(), 4);
    }
}
