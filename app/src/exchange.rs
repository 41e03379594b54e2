// SPDX-License-Identifier: MIT OR Apache-2.0
//! Requests and their answers, one layer above the socket: send a
//! datagram, then receive until the answer with the request's sequence
//! number comes ([`transact`]), counting what answers something else
//! ([`NlSocket::stale`]); a classic-unit request ([`request`]), the reply
//! to one ([`reply_to`]), and resolving a generic netlink family through
//! nlctrl ([`resolve`]). Every buffer is the caller's or on the stack;
//! nothing allocates.

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

/// Sends a `msg_type` request carrying `payload` on the classic unit `sock`
/// and waits up to `timeout` for the answer with the same sequence number.
///
/// Returns the reply payload, or [`Error::Kernel`] when the kernel answers
/// `NLMSG_ERROR`. Messages for other sequence numbers are dropped and
/// counted ([`NlSocket::stale`]). [`crate::transport::Transport::request`]
/// does the same on either transport.
pub fn request(
    sock: &mut NlSocket,
    msg_type: u16,
    payload: &Payload,
    timeout: Duration,
) -> Result<Payload, Error> {
    let seq = sock.next_seq();
    let msg = Message::request(msg_type, seq, payload.clone(), false);
    let mut tx = [0u8; MAX_MESSAGE_LEN];
    let len = msg.encode(&mut tx).map_err(|_| ENCODE)?;
    debug!(
        "request seq={seq} type={msg_type:#x} len={len} from port {}",
        sock.port()
    );
    let mut rx = [0u8; RECV_BUF_LEN];
    transact(sock, &tx[..len], timeout, &mut rx, |sock, datagram| {
        reply_to(sock, Messages::new(datagram), seq)
    })
}

/// Sends `datagram` on `sock`, then receives datagrams into `rx` and hands
/// each to `answer` until it returns `Some` (the outcome), or `timeout`
/// passes ([`Error::Timeout`]). `answer` counts what it drops
/// ([`NlSocket::count_stale`]). `ENOBUFS` is counted and waited past, and
/// so is a signal ([`Error::Interrupted`]). Needs a blocking socket: on a
/// non-blocking one it fails at once with [`Error::WouldBlock`].
pub fn transact<T>(
    sock: &mut NlSocket,
    datagram: &[u8],
    timeout: Duration,
    rx: &mut [u8],
    mut answer: impl FnMut(&mut NlSocket, &[u8]) -> Option<Result<T, Error>>,
) -> Result<T, Error> {
    sock.send(datagram)?;
    // One setsockopt for all requests with the same timeout (cached); only
    // a stray message makes us wait again, for what is left.
    sock.set_recv_timeout(Some(timeout))?;
    let deadline = Instant::now() + timeout;
    let mut first = true;
    loop {
        if !first {
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
        if let Some(outcome) = answer(sock, &rx[..n]) {
            return outcome;
        }
    }
}

/// Looks in `messages` for the answer to request `seq`: its reply payload,
/// or [`Error::Kernel`] for its `NLMSG_ERROR`, or [`Error::Malformed`];
/// `None` when the datagram holds no answer (what it holds is dropped and
/// counted as stale on `sock`).
pub fn reply_to(
    sock: &mut NlSocket,
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
                sock.count_stale();
                debug!("dropped a message that does not answer seq {seq}");
            }
        }
    }
    None
}

/// Asks nlctrl, on the `NETLINK_GENERIC` socket `sock`, for family `name`
/// and its multicast group `group`, waiting up to `timeout`; `rx` receives
/// the answer (nlctrl's answers fit in [`RECV_BUF_LEN`]
/// bytes; a larger one is [`Error::Truncated`]). Nothing allocates.
///
/// nlctrl's `ENOENT` (also for a name no family can have) is
/// [`Error::FamilyNotFound`]. Before answering `ENOENT` the kernel asks
/// modprobe for `net-pf-16-proto-16-family-<name>`, so this loads a module
/// that declares `MODULE_ALIAS_GENL_FAMILY(name)`.
pub fn resolve(
    sock: &mut NlSocket,
    name: &str,
    group: &str,
    timeout: Duration,
    rx: &mut [u8],
) -> Result<Family, Error> {
    if !valid_name(name) {
        return Err(Error::FamilyNotFound);
    }
    let seq = sock.next_seq();
    let mut tx = [0u8; NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + GENL_NAMSIZ];
    let mut batch = Batch::new(&mut tx);
    push_getfamily(&mut batch, seq, name).map_err(|_| ENCODE)?;
    let family = transact(sock, batch.as_bytes(), timeout, rx, |sock, datagram| {
        for frame in Frames::new(datagram) {
            let frame = match frame {
                Ok(frame) => frame,
                Err(e) => return Some(Err(Error::Malformed(e))),
            };
            if frame.header.seq != seq {
                sock.count_stale();
                continue;
            }
            match frame.header.msg_type {
                NLMSG_ERROR => match frame.error() {
                    Ok(Some(errno)) if errno == nix::libc::ENOENT => {
                        return Some(Err(Error::FamilyNotFound))
                    }
                    Ok(Some(errno)) => return Some(Err(Error::Kernel(Errno::from_raw(errno)))),
                    Ok(None) => sock.count_stale(),
                    Err(e) => return Some(Err(Error::Malformed(e))),
                },
                GENL_ID_CTRL => {
                    return Some(parse_family(frame, name, group).map_err(Error::Malformed))
                }
                _ => sock.count_stale(),
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
