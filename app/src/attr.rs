// SPDX-License-Identifier: MIT OR Apache-2.0
//! Netlink attributes (`struct nlattr`), modelled on libmnl's attribute
//! helpers: nothing allocates, no length read from the wire is trusted. An
//! attribute is `struct nlattr { u16 nla_len; u16 nla_type; }` followed by
//! `nla_len - 4` bytes, the next one starting at `NLA_ALIGN(nla_len)`;
//! [`Attrs`] rejects an `nla_len` below 4 or beyond the bytes left, and
//! 1 to 3 stray bytes after the last attribute.

#![forbid(unsafe_code)]

use core::fmt;

use crate::netlink::nlmsg_align;

/// Size of `struct nlattr` (`NLA_HDRLEN`).
pub const NLA_HDRLEN: usize = 4;
/// `NLA_F_NESTED`: flag bit of `nla_type`.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// `NLA_F_NET_BYTEORDER`: flag bit of `nla_type`.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// `NLA_TYPE_MASK`: `nla_type` without its flag bits.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// `NLA_ALIGN(len)`: `len` rounded up to the attribute alignment (4).
pub const fn nla_align(len: usize) -> usize {
    nlmsg_align(len)
}

/// The header of an attribute of `len` payload bytes, for [`crate::batch::Batch::push_parts`].
/// `len` must be at most `u16::MAX - 4`.
pub(crate) fn nla_header(kind: u16, len: usize) -> [u8; NLA_HDRLEN] {
    let nla_len = (NLA_HDRLEN + len) as u16;
    let mut h = [0u8; NLA_HDRLEN];
    h[..2].copy_from_slice(&nla_len.to_ne_bytes());
    h[2..].copy_from_slice(&kind.to_ne_bytes());
    h
}

/// Zero bytes that pad an attribute of `len` payload bytes to `NLA_ALIGN`.
pub(crate) fn nla_padding(len: usize) -> &'static [u8] {
    &[0u8; 3][..nla_align(len) - len]
}

/// One attribute. Its payload borrows the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// `nla_type` without its flag bits ([`NLA_TYPE_MASK`]).
    pub kind: u16,
    /// The flag bits of `nla_type` ([`NLA_F_NESTED`], [`NLA_F_NET_BYTEORDER`]).
    pub flags: u16,
    /// Where the attribute starts in the datagram.
    pub at: usize,
    /// The `nla_len - 4` bytes after its header.
    pub payload: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The attributes nested in this one.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::at(self.payload, self.at + NLA_HDRLEN)
    }

    /// The payload as a `u16`, when it is exactly 2 bytes.
    pub fn u16(&self) -> Option<u16> {
        Some(u16::from_ne_bytes(self.payload.try_into().ok()?))
    }

    /// The payload as a `u32`, when it is exactly 4 bytes.
    pub fn u32(&self) -> Option<u32> {
        Some(u32::from_ne_bytes(self.payload.try_into().ok()?))
    }

    /// The payload up to its first NUL byte (a C string), or all of it.
    pub fn c_str(&self) -> &'a [u8] {
        let end = self
            .payload
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.payload.len());
        &self.payload[..end]
    }
}

/// An attribute whose length cannot be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrError {
    /// Where the attribute (or the stray bytes) starts in the datagram.
    pub at: usize,
}

impl fmt::Display for AttrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed attribute at offset {}", self.at)
    }
}

impl std::error::Error for AttrError {}

/// Iterator over a run of attributes (`nla_for_each_attr`, strict): each
/// needs `4 <= nla_len <= bytes left`; the next starts at
/// `NLA_ALIGN(nla_len)`, and the last one may lack its padding; 1 to 3
/// bytes left over are an error. The first error is yielded once, then the
/// iterator ends.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    buf: &'a [u8],
    offset: usize,
    base: usize,
}

impl<'a> Attrs<'a> {
    /// Walks the attributes in `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Attrs::at(buf, 0)
    }

    /// Walks the attributes in `buf`, which starts at byte `base` of the
    /// datagram (for the offsets of [`Attr::at`] and [`AttrError`]).
    pub fn at(buf: &'a [u8], base: usize) -> Self {
        Attrs {
            buf,
            offset: 0,
            base,
        }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, AttrError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.offset..).filter(|r| !r.is_empty())?;
        let at = self.base + self.offset;
        let len = match rest {
            [a, b, ..] if rest.len() >= NLA_HDRLEN => usize::from(u16::from_ne_bytes([*a, *b])),
            _ => 0,
        };
        if len < NLA_HDRLEN || len > rest.len() {
            self.offset = self.buf.len();
            return Some(Err(AttrError { at }));
        }
        let kind = u16::from_ne_bytes([rest[2], rest[3]]);
        self.offset += nla_align(len).min(rest.len());
        Some(Ok(Attr {
            kind: kind & NLA_TYPE_MASK,
            flags: kind & !NLA_TYPE_MASK,
            at,
            payload: &rest[NLA_HDRLEN..len],
        }))
    }
}

impl core::iter::FusedIterator for Attrs<'_> {}
