// SPDX-License-Identifier: MIT OR Apache-2.0
//! Netlink framing: `struct nlmsghdr`, its alignment rules and the walk
//! over the messages of a received datagram.
//!
//! Modelled on libmnl and netlink-packet-core: [`Frames`] walks the
//! messages of a datagram without copying and without trusting any length
//! in it; what the messages mean is for [`crate::messages`]. Header fields
//! are in host byte order, as netlink requires. Nothing here allocates.

#![forbid(unsafe_code)]

use core::fmt;

use crate::error::DecodeError;

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

/// `NLMSG_ALIGN(len)`: `len` rounded up to the netlink alignment.
pub const fn nlmsg_align(len: usize) -> usize {
    (len + NLMSG_ALIGNTO - 1) & !(NLMSG_ALIGNTO - 1)
}

/// `NLMSG_LENGTH(len)`: header plus `len` payload bytes, without padding.
/// This, never `NLMSG_SPACE`, is what nlchan puts in `nlmsg_len` and sends.
pub const fn nlmsg_length(len: usize) -> usize {
    NLMSG_HDRLEN + len
}

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

/// The buffer given to an encoder ([`crate::batch::Batch`]) is too small.
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
        let bad = DecodeError::BadError {
            offset: self.offset,
        };
        let Some(&[a, b, c, d]) = self.payload.get(..4) else {
            return Err(bad);
        };
        if self.payload.len() < NLMSGERR_LEN {
            return Err(bad);
        }
        match i32::from_ne_bytes([a, b, c, d]) {
            0 => Ok(None),
            e if e < 0 && e != i32::MIN => Ok(Some(-e)),
            _ => Err(bad),
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

impl Frames<'_> {
    /// Ends the walk: the next call of `next` gives `None`.
    pub(crate) fn finish(&mut self) {
        self.offset = self.buf.len();
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
            self.finish();
        }
        Some(item)
    }
}

impl core::iter::FusedIterator for Frames<'_> {}
