// SPDX-License-Identifier: MIT OR Apache-2.0
//! Netlink message encoding and decoding for the nlchan protocol.
//!
//! Modelled on libmnl and netlink-packet-core: the caller owns every buffer,
//! [`Message::encode`] writes into a `&mut [u8]` and returns the length used,
//! [`Frames`] walks the messages of a received datagram without copying and
//! without trusting any length in it, and [`Messages`] interprets them as
//! nlchan messages of the classic unit (protocol v1) or, through
//! [`crate::genl`], of the generic netlink family (v2). Nothing here
//! allocates; errors are `Copy`.
//!
//! Header fields are in host byte order, as netlink requires.

#![forbid(unsafe_code)]

use core::fmt;

use crate::proto;

/// Size of `struct nlmsghdr` (`NLMSG_HDRLEN`).
pub const NLMSG_HDRLEN: usize = 16;
/// Netlink message alignment (`NLMSG_ALIGNTO`).
pub const NLMSG_ALIGNTO: usize = 4;
/// `NLMSG_NOOP`: a message to ignore.
pub const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`: an error or, with error 0, an acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: end of a multi-part message.
pub const NLMSG_DONE: u16 = 3;
/// `NLM_F_REQUEST`: set on every request to the kernel.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_ACK`: asks the kernel for an acknowledgement.
pub const NLM_F_ACK: u16 = 0x4;
/// Size of the `struct nlmsgerr` payload of `NLMSG_ERROR` (error + header).
pub const NLMSGERR_LEN: usize = 4 + NLMSG_HDRLEN;
/// Largest encoded nlchan message: `NLMSG_LENGTH(NLCHAN_MSG_LEN)`.
pub const MAX_MESSAGE_LEN: usize = nlmsg_length(proto::MSG_LEN);

/// `NLMSG_ALIGN(len)`: `len` rounded up to the netlink alignment.
pub const fn nlmsg_align(len: usize) -> usize {
    (len + NLMSG_ALIGNTO - 1) & !(NLMSG_ALIGNTO - 1)
}

/// `NLMSG_LENGTH(len)`: header plus `len` payload bytes, without padding.
/// This, never `NLMSG_SPACE`, is what nlchan puts in `nlmsg_len` and sends.
pub const fn nlmsg_length(len: usize) -> usize {
    NLMSG_HDRLEN + len
}

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

/// `struct nlmsghdr`, in host byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `nlmsg_len`: header plus payload, without trailing padding.
    pub len: u32,
    /// `nlmsg_type`.
    pub msg_type: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// `nlmsg_pid`: 0 for the kernel.
    pub pid: u32,
}

impl Header {
    /// Reads a header from the first [`NLMSG_HDRLEN`] bytes of `buf`, or
    /// `None` when `buf` is shorter.
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let b: &[u8; NLMSG_HDRLEN] = buf.get(..NLMSG_HDRLEN)?.try_into().ok()?;
        Some(Header {
            len: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            msg_type: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
            pid: u32::from_ne_bytes([b[12], b[13], b[14], b[15]]),
        })
    }

    /// Writes the header into `buf`.
    pub fn emit(&self, buf: &mut [u8; NLMSG_HDRLEN]) {
        buf[0..4].copy_from_slice(&self.len.to_ne_bytes());
        buf[4..6].copy_from_slice(&self.msg_type.to_ne_bytes());
        buf[6..8].copy_from_slice(&self.flags.to_ne_bytes());
        buf[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        buf[12..16].copy_from_slice(&self.pid.to_ne_bytes());
    }
}

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

    /// Writes header and payload to the start of `buf` and returns the
    /// length used, [`Message::encoded_len`]. No padding is added. `nlmsg_pid`
    /// is 0: the kernel fills in the sender's port.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let len = self.encoded_len();
        let Some(out) = buf.get_mut(..len) else {
            return Err(BufferTooSmall {
                needed: len,
                available: buf.len(),
            });
        };
        let (head, body) = out.split_at_mut(NLMSG_HDRLEN);
        let header = Header {
            // len <= MAX_MESSAGE_LEN (141), so this never truncates.
            len: len as u32,
            msg_type: self.msg_type,
            flags: self.flags,
            seq: self.seq,
            pid: 0,
        };
        header.emit(head.try_into().expect("split at NLMSG_HDRLEN"));
        body.copy_from_slice(&self.payload);
        Ok(len)
    }
}

/// The buffer given to [`Message::encode`] is too small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferTooSmall {
    /// Bytes the message needs.
    pub needed: usize,
    /// Bytes the buffer has.
    pub available: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "message needs {} bytes, buffer has {}",
            self.needed, self.available
        )
    }
}

impl std::error::Error for BufferTooSmall {}

/// Builds a datagram of many requests in a caller-owned buffer, like
/// libmnl's batch: each message starts at a 4-byte aligned offset, the
/// padding between messages is zeroed and the last message is not padded.
/// The kernel answers every message of the datagram (`NLMSG_NEXT` rules).
///
/// ```
/// use nlchan::codec::{Batch, Messages, NLM_F_REQUEST};
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
    /// the building block of other encoders (generic netlink's, in
    /// [`crate::genl`]).
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

    /// Appends `msg` (see [`Batch::push`]).
    pub fn push_message(&mut self, msg: &Message) -> Result<(), BatchError> {
        self.push(msg.msg_type, msg.flags, msg.seq, &msg.payload)
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

/// Why a received datagram was rejected: only structural faults (lengths,
/// headers, attributes). The offset is where the offending message starts
/// in the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer than [`NLMSG_HDRLEN`] bytes were left for a header.
    Truncated {
        /// Offset of the partial header.
        offset: usize,
        /// Bytes left in the datagram.
        remaining: usize,
    },
    /// `nlmsg_len` is below [`NLMSG_HDRLEN`] or beyond the datagram.
    BadLength {
        /// Offset of the message.
        offset: usize,
        /// Its `nlmsg_len`.
        len: u32,
        /// Bytes left in the datagram from `offset`.
        remaining: usize,
    },
    /// A reply or broadcast payload is over [`proto::MSG_LEN`] bytes.
    PayloadTooLong {
        /// Offset of the message.
        offset: usize,
        /// Payload length.
        len: usize,
    },
    /// An `NLMSG_ERROR` payload is shorter than `struct nlmsgerr` or carries
    /// a positive error.
    BadError {
        /// Offset of the message.
        offset: usize,
    },
    /// A message type nlchan does not know where a known one is required
    /// (e.g. in an nlctrl answer; [`Messages`] yields
    /// [`Received::Unknown`] instead).
    UnknownType {
        /// Offset of the message.
        offset: usize,
        /// Its `nlmsg_type`.
        msg_type: u16,
    },
    /// A generic netlink message is shorter than its `struct genlmsghdr`.
    GenlTruncated {
        /// Offset of the message.
        offset: usize,
    },
    /// A generic netlink command nlchan does not expect where a known one is
    /// required (an nlctrl answer; [`Messages`] yields
    /// [`Received::Unknown`] instead).
    UnknownCommand {
        /// Offset of the message.
        offset: usize,
        /// Its `genlmsghdr.cmd`.
        cmd: u8,
    },
    /// An attribute's `nla_len` is below its header or beyond the space
    /// left, or bytes too few for an attribute follow the last one.
    BadAttribute {
        /// Offset of the message.
        offset: usize,
        /// Offset of the attribute in the datagram.
        at: usize,
    },
    /// A required attribute is missing or holds a wrong value.
    MissingAttribute {
        /// Offset of the message.
        offset: usize,
        /// The attribute (its C name).
        name: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::Truncated { offset, remaining } => write!(
                f,
                "truncated header at offset {offset} ({remaining} bytes left)"
            ),
            DecodeError::BadLength {
                offset,
                len,
                remaining,
            } => write!(
                f,
                "bad nlmsg_len {len} at offset {offset} ({remaining} bytes left)"
            ),
            DecodeError::PayloadTooLong { offset, len } => write!(
                f,
                "payload of {len} bytes at offset {offset} exceeds {}",
                proto::MSG_LEN
            ),
            DecodeError::BadError { offset } => {
                write!(f, "malformed NLMSG_ERROR at offset {offset}")
            }
            DecodeError::UnknownType { offset, msg_type } => {
                write!(f, "unknown message type {msg_type:#x} at offset {offset}")
            }
            DecodeError::GenlTruncated { offset } => {
                write!(f, "generic netlink header cut short at offset {offset}")
            }
            DecodeError::UnknownCommand { offset, cmd } => {
                write!(
                    f,
                    "unexpected generic netlink command {cmd} at offset {offset}"
                )
            }
            DecodeError::BadAttribute { offset, at } => write!(
                f,
                "malformed attribute at offset {at} (message at offset {offset})"
            ),
            DecodeError::MissingAttribute { offset, name } => {
                write!(f, "{name} missing or wrong at offset {offset}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// One netlink message of a datagram, not interpreted: its header and the
/// `nlmsg_len - NLMSG_HDRLEN` bytes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Where the message starts in the datagram.
    pub offset: usize,
    /// Its header.
    pub header: Header,
    /// Its payload (without the header and without trailing padding).
    pub payload: &'a [u8],
}

impl Frame<'_> {
    /// Reads an `NLMSG_ERROR` payload: `Ok(None)` for an ACK (error 0),
    /// `Ok(Some(errno))` (positive) for an error, or
    /// [`DecodeError::BadError`] when it is shorter than `struct nlmsgerr`
    /// or carries a positive error. Only meaningful for `NLMSG_ERROR`.
    pub fn error(&self) -> Result<Option<i32>, DecodeError> {
        match parse_error(self.payload, self.header.seq, self.offset)? {
            Received::Error { errno, .. } => Ok(Some(errno)),
            _ => Ok(None),
        }
    }
}

/// Iterator over the messages of one received datagram, as [`Frame`]s.
///
/// Each header must have `NLMSG_HDRLEN <= nlmsg_len <= remaining bytes`; the
/// next message starts at `NLMSG_ALIGN(nlmsg_len)`, and the last one may lack
/// its padding. Every message is yielded, `NLMSG_NOOP` included. The first
/// error is yielded once, then the iterator ends.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    buf: &'a [u8],
    offset: usize,
}

impl<'a> Frames<'a> {
    /// Walks the messages of `datagram`.
    pub fn new(datagram: &'a [u8]) -> Self {
        Frames {
            buf: datagram,
            offset: 0,
        }
    }

    /// Reads the message at the current offset and advances past it.
    fn step(&mut self) -> Result<Frame<'a>, DecodeError> {
        let offset = self.offset;
        let rest = &self.buf[offset..];
        let header = Header::parse(rest).ok_or(DecodeError::Truncated {
            offset,
            remaining: rest.len(),
        })?;
        let len = header.len as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(DecodeError::BadLength {
                offset,
                len: header.len,
                remaining: rest.len(),
            });
        }
        // The last message may be unpadded (e.g. nlmsg_len 141).
        self.offset += nlmsg_align(len).min(rest.len());
        Ok(Frame {
            offset,
            header,
            payload: &rest[NLMSG_HDRLEN..len],
        })
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.offset >= self.buf.len() {
            return None;
        }
        let item = self.step();
        if item.is_err() {
            self.offset = self.buf.len();
        }
        Some(item)
    }
}

impl core::iter::FusedIterator for Frames<'_> {}

/// Iterator over the nlchan messages of one received datagram.
///
/// The datagram is walked as [`Frames`] does (same length rules);
/// `NLMSG_NOOP` is skipped, `NLMSG_ERROR` and `NLMSG_DONE` are decoded the
/// same way on both transports. On the classic unit ([`Messages::new`])
/// the nlchan types are [`proto::MSG_REPLY`] and [`proto::MSG_BROADCAST`];
/// on generic netlink ([`Messages::genl`]) it is the family id, whose
/// message is decoded by [`crate::genl::decode`]. The first error is
/// yielded once, then the iterator ends.
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    frames: Frames<'a>,
    family: Option<u16>,
}

impl<'a> Messages<'a> {
    /// Walks the messages of `datagram` from the classic unit.
    pub fn new(datagram: &'a [u8]) -> Self {
        Messages {
            frames: Frames::new(datagram),
            family: None,
        }
    }

    /// Walks the messages of `datagram` from generic netlink family `family`
    /// (its id, from [`crate::genl::resolve`]).
    pub fn genl(datagram: &'a [u8], family: u16) -> Self {
        Messages {
            frames: Frames::new(datagram),
            family: Some(family),
        }
    }

    /// Decodes one message; `Ok(None)` for a message to skip.
    fn decode(&self, frame: Frame<'a>) -> Result<Option<Received<'a>>, DecodeError> {
        let Frame {
            offset,
            header,
            payload,
        } = frame;
        let seq = header.seq;
        let checked = |payload: &'a [u8]| {
            if payload.len() > proto::MSG_LEN {
                Err(DecodeError::PayloadTooLong {
                    offset,
                    len: payload.len(),
                })
            } else {
                Ok(payload)
            }
        };
        Ok(Some(match (header.msg_type, self.family) {
            (NLMSG_NOOP, _) => return Ok(None),
            (NLMSG_DONE, _) => Received::Done { seq },
            (NLMSG_ERROR, _) => parse_error(payload, seq, offset)?,
            (t, Some(family)) if t == family => crate::genl::decode(frame)?,
            (proto::MSG_REPLY, None) => Received::Reply {
                seq,
                payload: checked(payload)?,
            },
            (proto::MSG_BROADCAST, None) => Received::Broadcast {
                seq,
                payload: checked(payload)?,
            },
            _ => Received::Unknown(frame),
        }))
    }
}

/// Parses the `struct nlmsgerr` payload of an `NLMSG_ERROR` message.
fn parse_error(payload: &[u8], seq: u32, offset: usize) -> Result<Received<'_>, DecodeError> {
    if payload.len() < NLMSGERR_LEN {
        return Err(DecodeError::BadError { offset });
    }
    let error = i32::from_ne_bytes([payload[0], payload[1], payload[2], payload[3]]);
    match error {
        0 => Ok(Received::Ack { seq }),
        e if e < 0 && e != i32::MIN => Ok(Received::Error { seq, errno: -e }),
        _ => Err(DecodeError::BadError { offset }),
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Received<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let decoded = match self.frames.next()? {
                Ok(frame) => self.decode(frame),
                Err(e) => Err(e),
            };
            match decoded {
                Ok(Some(item)) => return Some(Ok(item)),
                Ok(None) => continue,
                Err(e) => {
                    self.frames.offset = self.frames.buf.len();
                    return Some(Err(e));
                }
            }
        }
    }
}

impl core::iter::FusedIterator for Messages<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends one encoded message (header + payload, padded to 4 unless
    /// `pad` is false) to `out`; returns (start, nlmsg_len end, padded end).
    fn push(out: &mut Vec<u8>, msg_type: u16, seq: u32, payload: &[u8], pad: bool) -> [usize; 3] {
        let start = out.len();
        let len = nlmsg_length(payload.len());
        let mut head = [0u8; NLMSG_HDRLEN];
        Header {
            len: len as u32,
            msg_type,
            flags: 0,
            seq,
            pid: 0,
        }
        .emit(&mut head);
        out.extend_from_slice(&head);
        out.extend_from_slice(payload);
        if pad {
            out.resize(start + nlmsg_align(len), 0);
        }
        [start, start + len, start + nlmsg_align(len)]
    }

    fn errmsg(error: i32, seq: u32) -> Vec<u8> {
        let mut p = error.to_ne_bytes().to_vec();
        let mut orig = [0u8; NLMSG_HDRLEN];
        Header {
            len: 21,
            msg_type: proto::MSG_SEND,
            flags: NLM_F_REQUEST,
            seq,
            pid: 4242,
        }
        .emit(&mut orig);
        p.extend_from_slice(&orig);
        p
    }

    fn decode(buf: &[u8]) -> Result<Vec<Received<'_>>, DecodeError> {
        Messages::new(buf).collect()
    }

    #[test]
    fn encode_length_is_exactly_nlmsg_length() {
        let data = [0xa5u8; proto::MSG_LEN];
        for n in 0..=proto::MSG_LEN {
            let msg =
                Message::request(proto::MSG_SEND, 7, Payload::new(&data[..n]).unwrap(), false);
            let mut buf = [0xffu8; 512];
            let used = msg.encode(&mut buf).unwrap();
            assert_eq!(used, 16 + n, "payload {n}");
            assert_eq!(msg.encoded_len(), used);
            let h = Header::parse(&buf).unwrap();
            assert_eq!(h.len as usize, 16 + n);
            // Nothing written past the message (no NLMSG_SPACE padding).
            assert!(buf[used..].iter().all(|&b| b == 0xff), "payload {n}");
        }
        assert_eq!(MAX_MESSAGE_LEN, 141);
    }

    #[test]
    fn encode_writes_header_fields() {
        let msg = Message::request(
            proto::MSG_ECHO,
            0x01020304,
            Payload::new(b"hi").unwrap(),
            true,
        );
        let mut buf = [0u8; 18];
        assert_eq!(msg.encode(&mut buf), Ok(18));
        let mut expect = Vec::new();
        expect.extend_from_slice(&18u32.to_ne_bytes());
        expect.extend_from_slice(&proto::MSG_ECHO.to_ne_bytes());
        expect.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        expect.extend_from_slice(&0x01020304u32.to_ne_bytes());
        expect.extend_from_slice(&0u32.to_ne_bytes());
        expect.extend_from_slice(b"hi");
        assert_eq!(&buf[..], &expect[..]);
        let plain = Message::request(proto::MSG_SEND, 1, Payload::default(), false);
        assert_eq!(plain.flags, NLM_F_REQUEST);
    }

    #[test]
    fn encode_into_small_buffer_fails() {
        let msg = Message::request(proto::MSG_SEND, 1, Payload::new(b"abc").unwrap(), false);
        for size in 0..19 {
            let mut buf = vec![0u8; size];
            assert_eq!(
                msg.encode(&mut buf),
                Err(BufferTooSmall {
                    needed: 19,
                    available: size
                })
            );
        }
    }

    #[test]
    fn payload_capacity_is_enforced() {
        assert!(Payload::new(&[0; 125]).is_ok());
        assert_eq!(Payload::new(&[0; 126]), Err(PayloadTooLong { len: 126 }));
        assert_eq!(
            PayloadTooLong { len: 200 }.to_string(),
            "payload is 200 bytes, the maximum is 125"
        );
    }

    #[test]
    fn round_trip_every_length() {
        let data: Vec<u8> = (0..=255u8).cycle().take(proto::MSG_LEN).collect();
        for n in 0..=proto::MSG_LEN {
            let msg = Message::request(
                proto::MSG_REPLY,
                n as u32,
                Payload::new(&data[..n]).unwrap(),
                false,
            );
            let mut buf = [0u8; MAX_MESSAGE_LEN];
            let used = msg.encode(&mut buf).unwrap();
            assert_eq!(
                decode(&buf[..used]).unwrap(),
                vec![Received::Reply {
                    seq: n as u32,
                    payload: &data[..n]
                }]
            );
        }
    }

    #[test]
    fn unaligned_last_message_is_accepted() {
        let big = [b'x'; 125];
        let mut buf = Vec::new();
        push(&mut buf, proto::MSG_BROADCAST, 0, b"abc", true);
        let [_, end, _] = push(&mut buf, proto::MSG_REPLY, 9, &big, false);
        assert_eq!(buf.len(), end);
        assert_eq!(Header::parse(&buf[20..]).unwrap().len, 141);
        assert_eq!(
            decode(&buf).unwrap(),
            vec![
                Received::Broadcast {
                    seq: 0,
                    payload: b"abc"
                },
                Received::Reply {
                    seq: 9,
                    payload: &big
                }
            ]
        );
    }

    /// A datagram as the kernel could send it: reply, padding, broadcast,
    /// error, ack, noop, done, unpadded 125-byte reply.
    fn sample() -> (Vec<u8>, Vec<[usize; 3]>) {
        let mut buf = Vec::new();
        let mut spans = vec![
            push(&mut buf, proto::MSG_REPLY, 1, b"hello users!!!", true),
            push(&mut buf, proto::MSG_BROADCAST, 0, b"b\x00c", true),
            push(&mut buf, NLMSG_ERROR, 2, &errmsg(-90, 2), true),
            push(&mut buf, NLMSG_ERROR, 3, &errmsg(0, 3), true),
            push(&mut buf, NLMSG_NOOP, 0, b"", true),
            push(&mut buf, NLMSG_DONE, 4, &[0; 4], true),
        ];
        spans.push(push(&mut buf, proto::MSG_REPLY, 5, &[b'z'; 125], false));
        (buf, spans)
    }

    fn sample_items() -> Vec<Received<'static>> {
        vec![
            Received::Reply {
                seq: 1,
                payload: b"hello users!!!",
            },
            Received::Broadcast {
                seq: 0,
                payload: b"b\x00c",
            },
            Received::Error { seq: 2, errno: 90 },
            Received::Ack { seq: 3 },
            Received::Done { seq: 4 },
            Received::Reply {
                seq: 5,
                payload: &[b'z'; 125],
            },
        ]
    }

    #[test]
    fn multi_message_datagram_decodes() {
        let (buf, _) = sample();
        assert_eq!(decode(&buf).unwrap(), sample_items());
    }

    #[test]
    fn every_truncation_is_rejected() {
        let (buf, spans) = sample();
        let items = sample_items();
        for cut in 0..buf.len() {
            let result = decode(&buf[..cut]);
            // A cut between a message's nlmsg_len end and its padded end (or
            // at 0) leaves a shorter but valid datagram; any other cut must
            // be an error.
            let complete = spans.iter().position(|s| (s[1]..=s[2]).contains(&cut));
            match (cut, complete) {
                (0, _) => assert_eq!(result, Ok(vec![]), "cut {cut}"),
                (_, Some(i)) => {
                    // Messages 0..=i survive; the NOOP (index 4) yields nothing.
                    let kept = if i >= 4 { i } else { i + 1 };
                    assert_eq!(result.as_deref(), Ok(&items[..kept]), "cut {cut}");
                }
                (_, None) => assert!(result.is_err(), "cut {cut} accepted: {result:?}"),
            }
        }
    }

    #[test]
    fn error_is_yielded_once_after_good_messages() {
        let (mut buf, _) = sample();
        buf.truncate(buf.len() - 1);
        let mut it = Messages::new(&buf);
        for _ in 0..5 {
            assert!(it.next().unwrap().is_ok());
        }
        assert!(matches!(
            it.next(),
            Some(Err(DecodeError::BadLength { .. }))
        ));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn nlmsg_len_below_header_is_rejected() {
        for len in 0..16u32 {
            let mut buf = Vec::new();
            push(&mut buf, proto::MSG_REPLY, 1, b"abcdefgh", true);
            buf[..4].copy_from_slice(&len.to_ne_bytes());
            assert_eq!(
                decode(&buf),
                Err(DecodeError::BadLength {
                    offset: 0,
                    len,
                    remaining: 24
                })
            );
        }
    }

    #[test]
    fn nlmsg_len_beyond_datagram_is_rejected() {
        let mut buf = Vec::new();
        push(&mut buf, proto::MSG_REPLY, 1, b"ok", true);
        push(&mut buf, proto::MSG_REPLY, 2, b"abcd", true);
        buf[20..24].copy_from_slice(&21u32.to_ne_bytes());
        let mut it = Messages::new(&buf);
        assert!(it.next().unwrap().is_ok());
        assert_eq!(
            it.next(),
            Some(Err(DecodeError::BadLength {
                offset: 20,
                len: 21,
                remaining: 20
            }))
        );
        buf[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(decode(&buf).is_err());
    }

    #[test]
    fn oversized_payload_is_rejected() {
        let mut buf = Vec::new();
        push(&mut buf, proto::MSG_BROADCAST, 0, &[0; 126], false);
        assert_eq!(
            decode(&buf),
            Err(DecodeError::PayloadTooLong {
                offset: 0,
                len: 126
            })
        );
        let mut buf = Vec::new();
        push(&mut buf, proto::MSG_REPLY, 3, &[0; 200], false);
        assert!(matches!(
            decode(&buf),
            Err(DecodeError::PayloadTooLong { .. })
        ));
    }

    #[test]
    fn nlmsg_error_parsing() {
        // -EPERM with the original header.
        let mut buf = Vec::new();
        push(&mut buf, NLMSG_ERROR, 11, &errmsg(-1, 11), true);
        assert_eq!(
            decode(&buf),
            Ok(vec![Received::Error { seq: 11, errno: 1 }])
        );
        // Only 19 bytes of struct nlmsgerr: rejected.
        let mut buf = Vec::new();
        push(&mut buf, NLMSG_ERROR, 11, &errmsg(-1, 11)[..19], true);
        assert_eq!(decode(&buf), Err(DecodeError::BadError { offset: 0 }));
        // Positive and i32::MIN errors are not valid errnos.
        for bad in [1, i32::MIN] {
            let mut buf = Vec::new();
            push(&mut buf, NLMSG_ERROR, 1, &errmsg(bad, 1), true);
            assert_eq!(decode(&buf), Err(DecodeError::BadError { offset: 0 }));
        }
        // Error with the original payload appended (no NETLINK_CAP_ACK).
        let mut p = errmsg(-90, 6);
        p.extend_from_slice(&[b'q'; 200]);
        let mut buf = Vec::new();
        push(&mut buf, NLMSG_ERROR, 6, &p, true);
        assert_eq!(
            decode(&buf),
            Ok(vec![Received::Error { seq: 6, errno: 90 }])
        );
    }

    #[test]
    fn unknown_types_are_handed_over() {
        for t in [
            0u16,
            4,
            0x0f,
            proto::MSG_SEND,
            proto::MSG_ECHO,
            0x14,
            0xffff,
        ] {
            // An unknown message between two replies: all three come out.
            let mut buf = Vec::new();
            push(&mut buf, proto::MSG_REPLY, 1, b"a", true);
            push(&mut buf, t, 2, b"xyz", true);
            push(&mut buf, proto::MSG_REPLY, 3, b"b", true);
            let got = decode(&buf).unwrap();
            assert_eq!(got.len(), 3, "type {t:#x}");
            let Received::Unknown(frame) = got[1] else {
                panic!("type {t:#x}: {:?}", got[1]);
            };
            assert_eq!(frame.offset, 20);
            assert_eq!(frame.header.msg_type, t);
            assert_eq!(frame.header.seq, 2);
            assert_eq!(frame.payload, b"xyz");
            assert_eq!(
                got[2],
                Received::Reply {
                    seq: 3,
                    payload: b"b"
                }
            );
        }
    }

    /// Payload of `n` bytes that differs for every length and position.
    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 + n * 7) as u8).collect()
    }

    #[test]
    fn batch_round_trip_every_length() {
        // One datagram holding a reply of every length 0..=125, then each
        // length alone: decoding gives back exactly what was pushed.
        let mut buf = vec![0xeeu8; 128 * 144];
        let mut batch = Batch::new(&mut buf);
        for n in 0..=proto::MSG_LEN {
            batch
                .push(proto::MSG_REPLY, 0, n as u32, &pattern(n))
                .unwrap();
        }
        assert_eq!(batch.count(), 126);
        let items = decode(batch.as_bytes()).unwrap();
        assert_eq!(items.len(), 126);
        for (n, item) in items.iter().enumerate() {
            let want = pattern(n);
            assert_eq!(
                *item,
                Received::Reply {
                    seq: n as u32,
                    payload: &want
                }
            );
        }
        for n in 0..=proto::MSG_LEN {
            let mut one = [0u8; MAX_MESSAGE_LEN];
            let mut b = Batch::new(&mut one);
            b.push(proto::MSG_BROADCAST, 0, 0, &pattern(n)).unwrap();
            assert_eq!(b.as_bytes().len(), nlmsg_length(n));
            let want = pattern(n);
            assert_eq!(
                decode(b.as_bytes()).unwrap(),
                vec![Received::Broadcast {
                    seq: 0,
                    payload: &want
                }]
            );
        }
    }

    #[test]
    fn every_truncation_of_every_length_is_rejected() {
        for n in 0..=proto::MSG_LEN {
            for msg_type in [proto::MSG_REPLY, proto::MSG_BROADCAST] {
                let mut buf = [0u8; MAX_MESSAGE_LEN];
                let mut b = Batch::new(&mut buf);
                b.push(msg_type, 0, 9, &pattern(n)).unwrap();
                let full = b.as_bytes();
                assert_eq!(decode(full).unwrap().len(), 1);
                assert_eq!(decode(&full[..0]), Ok(vec![]));
                for cut in 1..full.len() {
                    let r = decode(&full[..cut]);
                    assert!(r.is_err(), "len {n} cut {cut} misread as {r:?}");
                }
            }
        }
    }

    #[test]
    fn every_truncation_of_a_batch_is_rejected_or_a_prefix() {
        let mut buf = [0u8; 4096];
        let mut b = Batch::new(&mut buf);
        let mut ends = Vec::new();
        for (i, n) in [0usize, 1, 3, 4, 5, 125, 17, 124].into_iter().enumerate() {
            b.push(proto::MSG_REPLY, 0, i as u32, &pattern(n)).unwrap();
            ends.push((b.as_bytes().len(), nlmsg_align(b.as_bytes().len())));
        }
        let full = b.as_bytes().to_vec();
        let all = decode(&full).unwrap();
        for cut in 0..full.len() {
            let r = decode(&full[..cut]);
            // Complete messages end between nlmsg_len and the padded end.
            match ends.iter().position(|&(e, a)| (e..=a).contains(&cut)) {
                Some(i) => assert_eq!(r.as_deref(), Ok(&all[..=i]), "cut {cut}"),
                None if cut == 0 => assert_eq!(r, Ok(vec![])),
                None => assert!(r.is_err(), "cut {cut} misread as {r:?}"),
            }
        }
    }

    #[test]
    fn batch_refuses_what_does_not_fit() {
        let mut buf = [0x55u8; 40];
        let mut b = Batch::new(&mut buf);
        assert!(b.is_empty());
        b.push(proto::MSG_ECHO, NLM_F_REQUEST, 1, b"abc").unwrap();
        // 19 used, next starts at 20 and needs 16 + 5 = 21 > 40.
        assert_eq!(
            b.push(proto::MSG_ECHO, NLM_F_REQUEST, 2, b"defgh"),
            Err(BatchError::Full(BufferTooSmall {
                needed: 41,
                available: 40
            }))
        );
        assert_eq!(
            b.push(proto::MSG_ECHO, 0, 2, &[0; 126]),
            Err(BatchError::PayloadTooLong(PayloadTooLong { len: 126 }))
        );
        assert_eq!((b.count(), b.as_bytes().len()), (1, 19));
        b.push(proto::MSG_ECHO, NLM_F_REQUEST, 2, b"defg").unwrap();
        // Padding between messages is zeroed.
        assert_eq!(b.as_bytes()[19], 0);
        assert_eq!(b.as_bytes().len(), 40);
        let msg = Message::request(proto::MSG_SEND, 3, Payload::default(), true);
        b.clear();
        b.push_message(&msg).unwrap();
        let h = Header::parse(b.as_bytes()).unwrap();
        assert_eq!((h.len, h.flags, h.seq), (16, NLM_F_REQUEST | NLM_F_ACK, 3));
    }

    #[test]
    fn broadcasts_carry_their_sequence_number() {
        let mut buf = Vec::new();
        push(&mut buf, proto::MSG_BROADCAST, 41, b"a", true);
        push(&mut buf, proto::MSG_BROADCAST, u32::MAX, b"b", false);
        assert_eq!(
            decode(&buf).unwrap(),
            [
                Received::Broadcast {
                    seq: 41,
                    payload: b"a"
                },
                Received::Broadcast {
                    seq: u32::MAX,
                    payload: b"b"
                }
            ]
        );
    }

    #[test]
    fn frames_yield_every_message_uninterpreted() {
        let (buf, spans) = sample();
        let frames: Vec<Frame<'_>> = Frames::new(&buf).map(Result::unwrap).collect();
        assert_eq!(frames.len(), spans.len());
        for (f, span) in frames.iter().zip(&spans) {
            assert_eq!(f.offset, span[0]);
            assert_eq!(f.header.len as usize, span[1] - span[0]);
            assert_eq!(f.payload.len(), span[1] - span[0] - NLMSG_HDRLEN);
        }
        assert_eq!(frames[4].header.msg_type, NLMSG_NOOP);
        assert_eq!(frames[2].error(), Ok(Some(90)));
        assert_eq!(frames[3].error(), Ok(None));
        // Same length rules as Messages: the first error once, then the end.
        let mut it = Frames::new(&buf[..buf.len() - 1]);
        assert_eq!(it.by_ref().take(6).filter(|f| f.is_ok()).count(), 6);
        assert!(matches!(
            it.next(),
            Some(Err(DecodeError::BadLength { .. }))
        ));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn push_parts_concatenates() {
        let mut buf = [0x77u8; 64];
        let mut b = Batch::new(&mut buf);
        b.push_parts(0x1a, NLM_F_REQUEST, 5, &[b"ab", b"", b"cde"])
            .unwrap();
        b.push_parts(0x1b, 0, 6, &[]).unwrap();
        let bytes = b.as_bytes();
        assert_eq!(bytes.len(), 24 + 16);
        assert_eq!(&bytes[16..21], b"abcde");
        assert_eq!(&bytes[21..24], &[0, 0, 0]);
        let frames: Vec<_> = Frames::new(bytes).map(Result::unwrap).collect();
        assert_eq!(
            (frames[0].header.msg_type, frames[0].payload),
            (0x1a, &b"abcde"[..])
        );
        assert_eq!((frames[1].header.seq, frames[1].payload), (6, &b""[..]));
        let before = b.as_bytes().len();
        assert_eq!(
            b.push_parts(1, 0, 7, &[&[0u8; 9]]),
            Err(BufferTooSmall {
                needed: 40 + 25,
                available: 64
            })
        );
        assert_eq!((b.count(), b.as_bytes().len()), (2, before));
    }

    #[test]
    fn alignment_helpers() {
        assert_eq!(nlmsg_align(0), 0);
        assert_eq!(nlmsg_align(1), 4);
        assert_eq!(nlmsg_align(141), 144);
        assert_eq!(nlmsg_align(144), 144);
        assert_eq!(nlmsg_length(15), 31);
    }
}
