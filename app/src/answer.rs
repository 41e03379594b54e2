// SPDX-License-Identifier: MIT OR Apache-2.0
//! What the kernel's messages decode to, on both transports: [`Received`],
//! whose payloads borrow the receive buffer, and the fixed-capacity
//! [`Payload`] that requests carry and replies are copied into.

#![forbid(unsafe_code)]

use core::fmt;

use crate::netlink::Frame;
use crate::proto;

/// A payload that is known to fit the protocol: at most
/// [`proto::MSG_LEN`] (125) bytes, stored inline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload(heapless::Vec<u8, { proto::MSG_LEN }>);

impl Payload {
    /// Copies `bytes`, or fails with [`PayloadTooLong`] when they exceed
    /// [`proto::MSG_LEN`]; the caller then sends nothing.
    pub fn new(bytes: &[u8]) -> Result<Self, PayloadTooLong> {
        heapless::Vec::from_slice(bytes)
            .map(Payload)
            .map_err(|()| PayloadTooLong { len: bytes.len() })
    }

    /// Copies a payload the decoder already checked ([`Received`] payloads
    /// are at most [`proto::MSG_LEN`] bytes); anything beyond is dropped.
    pub(crate) fn decoded(bytes: &[u8]) -> Self {
        let bytes = bytes.get(..proto::MSG_LEN).unwrap_or(bytes);
        Payload(heapless::Vec::from_slice(bytes).unwrap_or_default())
    }

    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl core::ops::Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// A payload over [`proto::MSG_LEN`] bytes was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadTooLong {
    /// Length of the refused payload.
    pub len: usize,
}

impl fmt::Display for PayloadTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "payload is {} bytes, the maximum is {}",
            self.len,
            proto::MSG_LEN
        )
    }
}

impl std::error::Error for PayloadTooLong {}

/// One decoded message from the kernel. Payloads borrow the receive buffer.
///
/// New kinds may be added; a message nlchan does not know is
/// [`Received::Unknown`], never an error, so that a listener keeps working
/// when a newer module sends something new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Received<'a> {
    /// [`proto::MSG_REPLY`] to the request with sequence number `seq`.
    Reply {
        /// Sequence number of the request answered.
        seq: u32,
        /// Reply payload, at most [`proto::MSG_LEN`] bytes.
        payload: &'a [u8],
    },
    /// [`proto::MSG_BROADCAST`] (or [`proto::CMD_BROADCAST`]) to the
    /// multicast group.
    Broadcast {
        /// The broadcast's sequence number (`nlmsg_seq`): 1 for the module's
        /// first, one more for each next one, the same on both transports;
        /// 0 from a module older than protocol v2 (see
        /// [`crate::seqgap::SeqGaps`]).
        seq: u32,
        /// Broadcast payload, at most [`proto::MSG_LEN`] bytes.
        payload: &'a [u8],
    },
    /// `NLMSG_ERROR` with a non-zero error: the request `seq` failed.
    Error {
        /// Sequence number of the failed request.
        seq: u32,
        /// Positive errno (the kernel sends it negated).
        errno: i32,
    },
    /// `NLMSG_ERROR` with error 0: the request `seq` was acknowledged.
    Ack {
        /// Sequence number of the acknowledged request.
        seq: u32,
    },
    /// `NLMSG_DONE`: end of a multi-part answer.
    Done {
        /// Sequence number of the request answered.
        seq: u32,
    },
    /// A well-formed message of a type (or generic netlink command) nlchan
    /// does not know, with its header and undecoded payload: skip it, or
    /// interpret it yourself.
    Unknown(Frame<'a>),
}
