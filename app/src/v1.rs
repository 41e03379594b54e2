// SPDX-License-Identifier: MIT OR Apache-2.0
//! The classic unit's protocol (v1): a request is `nlmsghdr` + the
//! payload, a reply or broadcast the same with type [`proto::MSG_REPLY`] or
//! [`proto::MSG_BROADCAST`].

#![forbid(unsafe_code)]

use crate::answer::{Payload, Received};
use crate::batch::{Batch, BatchError};
use crate::error::DecodeError;
use crate::netlink::{nlmsg_length, BufferTooSmall, Frame, NLM_F_ACK, NLM_F_REQUEST};
use crate::proto;

/// Largest encoded nlchan message: `NLMSG_LENGTH(NLCHAN_MSG_LEN)`.
pub const MAX_MESSAGE_LEN: usize = nlmsg_length(proto::MSG_LEN);

/// A request from user space to the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message type, e.g. [`proto::MSG_SEND`].
    pub msg_type: u16,
    /// Header flags; [`Message::request`] sets [`NLM_F_REQUEST`].
    pub flags: u16,
    /// Sequence number the kernel copies into its reply.
    pub seq: u32,
    /// The payload.
    pub payload: Payload,
}

impl Message {
    /// A request of `msg_type` with `NLM_F_REQUEST`, plus `NLM_F_ACK` when
    /// `ack` is set.
    pub fn request(msg_type: u16, seq: u32, payload: Payload, ack: bool) -> Message {
        let flags = NLM_F_REQUEST | if ack { NLM_F_ACK } else { 0 };
        Message {
            msg_type,
            flags,
            seq,
            payload,
        }
    }

    /// Bytes [`Message::encode`] writes: exactly `NLMSG_LENGTH(payload)`.
    pub fn encoded_len(&self) -> usize {
        nlmsg_length(self.payload.len())
    }

    /// Appends the message to `batch` (see [`Batch::push`]).
    pub fn push_to(&self, batch: &mut Batch<'_>) -> Result<(), BatchError> {
        batch.push(self.msg_type, self.flags, self.seq, &self.payload)
    }

    /// Writes header and payload to the start of `buf` and returns the
    /// length used, [`Message::encoded_len`]. No padding is added. `nlmsg_pid`
    /// is 0: the kernel fills in the sender's port.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let mut batch = Batch::new(buf);
        batch.push_parts(self.msg_type, self.flags, self.seq, &[&self.payload])?;
        Ok(batch.as_bytes().len())
    }
}

/// Decodes a message of the classic unit that is not a netlink control
/// message: [`proto::MSG_REPLY`] gives [`Received::Reply`],
/// [`proto::MSG_BROADCAST`] [`Received::Broadcast`], any other type
/// [`Received::Unknown`]. A payload over [`proto::MSG_LEN`] bytes is an
/// error.
pub fn decode(frame: Frame<'_>) -> Result<Received<'_>, DecodeError> {
    let Frame {
        offset,
        header,
        payload,
    } = frame;
    let seq = header.seq;
    if header.msg_type != proto::MSG_REPLY && header.msg_type != proto::MSG_BROADCAST {
        return Ok(Received::Unknown(frame));
    }
    if payload.len() > proto::MSG_LEN {
        return Err(DecodeError::PayloadTooLong {
            offset,
            len: payload.len(),
        });
    }
    Ok(if header.msg_type == proto::MSG_REPLY {
        Received::Reply { seq, payload }
    } else {
        Received::Broadcast { seq, payload }
    })
}
