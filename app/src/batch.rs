// SPDX-License-Identifier: MIT OR Apache-2.0
//! The encoder: every message the library sends, of either protocol, is
//! written by [`Batch::push_parts`] into a caller-owned buffer.

#![forbid(unsafe_code)]

use core::fmt;

use crate::answer::PayloadTooLong;
use crate::netlink::{nlmsg_align, nlmsg_length, BufferTooSmall, Header, NLMSG_HDRLEN};
use crate::proto;

/// Builds a datagram of many requests in a caller-owned buffer, like
/// libmnl's batch: each message starts at a 4-byte aligned offset, the
/// padding between messages is zeroed and the last message is not padded.
/// The kernel answers every message of the datagram (`NLMSG_NEXT` rules).
///
/// ```
/// use nlchan::batch::Batch;
/// use nlchan::netlink::NLM_F_REQUEST;
/// let mut buf = [0u8; 512];
/// let mut batch = Batch::new(&mut buf);
/// batch.push(nlchan::proto::MSG_ECHO, NLM_F_REQUEST, 1, b"one").unwrap();
/// batch.push(nlchan::proto::MSG_ECHO, NLM_F_REQUEST, 2, b"two").unwrap();
/// assert_eq!((batch.count(), batch.as_bytes().len()), (2, 20 + 19));
/// ```
#[derive(Debug)]
pub struct Batch<'a> {
    buf: &'a mut [u8],
    len: usize,
    count: usize,
}

/// Why [`Batch::push`] refused a message; the batch is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// The payload is over [`proto::MSG_LEN`] bytes.
    PayloadTooLong(PayloadTooLong),
    /// The buffer has no room left for the message.
    Full(BufferTooSmall),
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::PayloadTooLong(e) => e.fmt(f),
            BatchError::Full(e) => write!(f, "batch is full: {e}"),
        }
    }
}

impl std::error::Error for BatchError {}

impl<'a> Batch<'a> {
    /// An empty batch writing into `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Batch {
            buf,
            len: 0,
            count: 0,
        }
    }

    /// Appends one request of `msg_type` with `flags`, `seq` and `payload`
    /// (`nlmsg_pid` 0), or fails without changing the batch.
    pub fn push(
        &mut self,
        msg_type: u16,
        flags: u16,
        seq: u32,
        payload: &[u8],
    ) -> Result<(), BatchError> {
        if payload.len() > proto::MSG_LEN {
            return Err(BatchError::PayloadTooLong(PayloadTooLong {
                len: payload.len(),
            }));
        }
        self.push_parts(msg_type, flags, seq, &[payload])
            .map_err(BatchError::Full)
    }

    /// Appends one message of `msg_type` with `flags` and `seq`
    /// (`nlmsg_pid` 0) whose payload is `parts` one after the other, or
    /// fails without changing the batch. Nothing checks the payload: this is
    /// the one encoder every message kind goes through ([`Batch::push`],
    /// [`crate::v1::Message::encode`], [`crate::genl::push_request`], nlctrl's
    /// request in [`crate::nlctrl`]).
    pub fn push_parts(
        &mut self,
        msg_type: u16,
        flags: u16,
        seq: u32,
        parts: &[&[u8]],
    ) -> Result<(), BufferTooSmall> {
        let start = nlmsg_align(self.len);
        let body_len = parts.iter().fold(0usize, |n, p| n.saturating_add(p.len()));
        let len = nlmsg_length(body_len);
        let too_small = BufferTooSmall {
            needed: start.saturating_add(len),
            available: self.buf.len(),
        };
        let Ok(len32) = u32::try_from(len) else {
            return Err(too_small);
        };
        let Some(out) = self.buf.get_mut(self.len..start.saturating_add(len)) else {
            return Err(too_small);
        };
        let (pad, msg) = out.split_at_mut(start - self.len);
        pad.fill(0);
        let (head, mut body) = msg.split_at_mut(NLMSG_HDRLEN);
        let header = Header {
            len: len32,
            msg_type,
            flags,
            seq,
            pid: 0,
        };
        header.emit(head.try_into().expect("split at NLMSG_HDRLEN"));
        for part in parts {
            let (dst, rest) = body.split_at_mut(part.len());
            dst.copy_from_slice(part);
            body = rest;
        }
        self.len = start + len;
        self.count += 1;
        Ok(())
    }

    /// The datagram built so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Number of messages in the batch.
    pub fn count(&self) -> usize {
        self.count
    }

    /// True when the batch holds no message.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Empties the batch, keeping the buffer.
    pub fn clear(&mut self) {
        self.len = 0;
        self.count = 0;
    }
}
