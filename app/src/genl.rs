// SPDX-License-Identifier: MIT OR Apache-2.0
//! Generic netlink (protocol v2): the `genlmsghdr` and nlchan's family
//! messages. A request is `nlmsghdr` (type: the family id) + `genlmsghdr`
//! (command, [`proto::GENL_VERSION`], 0) + the payload as attribute
//! [`proto::ATTR_PAYLOAD`], left out when the payload is empty.
//!
//! The family's id comes from nlctrl ([`crate::nlctrl`],
//! [`crate::exchange::resolve`]). Nothing here allocates.

#![forbid(unsafe_code)]

use crate::answer::{PayloadTooLong, Received};
use crate::attr::{nla_align, nla_header, nla_padding, Attrs, NLA_HDRLEN};
use crate::batch::{Batch, BatchError};
use crate::error::DecodeError;
use crate::netlink::{Frame, NLMSG_HDRLEN};
use crate::proto;

/// `NETLINK_GENERIC`: the netlink unit of generic netlink.
pub const NETLINK_GENERIC: u32 = 16;
/// Size of `struct genlmsghdr` (`GENL_HDRLEN`).
pub const GENL_HDRLEN: usize = 4;
/// Largest encoded nlchan request:
/// `NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(NLA_HDRLEN + NLCHAN_MSG_LEN)`.
pub const MAX_REQUEST_LEN: usize =
    NLMSG_HDRLEN + GENL_HDRLEN + nla_align(NLA_HDRLEN + proto::MSG_LEN);

/// `struct genlmsghdr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenlHeader {
    /// `cmd`: the command.
    pub cmd: u8,
    /// `version`: the family's interface version.
    pub version: u8,
}

impl GenlHeader {
    /// Splits a generic netlink message's payload into its header and its
    /// attributes, or `None` when it is shorter than [`GENL_HDRLEN`].
    pub fn split(body: &[u8]) -> Option<(GenlHeader, &[u8])> {
        let head = body.get(..GENL_HDRLEN)?;
        let header = GenlHeader {
            cmd: head[0],
            version: head[1],
        };
        Some((header, &body[GENL_HDRLEN..]))
    }

    /// The four bytes of the header (`reserved` is 0).
    pub fn bytes(&self) -> [u8; GENL_HDRLEN] {
        [self.cmd, self.version, 0, 0]
    }
}

/// Appends an nlchan request to `batch`: command `cmd` of family `family`
/// with `flags` and `seq`, carrying `payload` as [`proto::ATTR_PAYLOAD`]
/// (padded to 4 bytes as `nla_put` does; left out when empty). A payload
/// over [`proto::MSG_LEN`] bytes is refused and the batch is unchanged.
///
/// ```
/// use nlchan::batch::Batch;
/// use nlchan::netlink::NLM_F_REQUEST;
/// use nlchan::genl;
/// let mut buf = [0u8; 64];
/// let mut batch = Batch::new(&mut buf);
/// genl::push_request(&mut batch, 0x1a, nlchan::proto::CMD_ECHO, NLM_F_REQUEST, 1, b"hi")
///     .unwrap();
/// // nlmsghdr 16 + genlmsghdr 4 + nlattr 4 + "hi" padded to 4.
/// assert_eq!(batch.as_bytes().len(), 28);
/// ```
pub fn push_request(
    batch: &mut Batch<'_>,
    family: u16,
    cmd: u8,
    flags: u16,
    seq: u32,
    payload: &[u8],
) -> Result<(), BatchError> {
    if payload.len() > proto::MSG_LEN {
        return Err(BatchError::PayloadTooLong(PayloadTooLong {
            len: payload.len(),
        }));
    }
    let genl = GenlHeader {
        cmd,
        version: proto::GENL_VERSION,
    }
    .bytes();
    let nla = nla_header(proto::ATTR_PAYLOAD, payload.len());
    let parts: [&[u8]; 4] = [&genl, &nla, payload, nla_padding(payload.len())];
    let parts = if payload.is_empty() {
        &parts[..1]
    } else {
        &parts[..]
    };
    batch
        .push_parts(family, flags, seq, parts)
        .map_err(BatchError::Full)
}

/// Decodes a message of nlchan's family (a [`Frame`] whose type is the
/// family id): [`proto::CMD_REPLY`] gives [`Received::Reply`],
/// [`proto::CMD_BROADCAST`] [`Received::Broadcast`], both with
/// `nlmsg_seq` and the payload attribute (empty when absent; the last one
/// counts when repeated, as with the kernel's `nla_parse`; unknown
/// attributes are skipped). Any other command is
/// [`Received::Unknown`]. A payload over [`proto::MSG_LEN`] bytes or a
/// malformed header or attribute is an error.
pub fn decode(frame: Frame<'_>) -> Result<Received<'_>, DecodeError> {
    let offset = frame.offset;
    let (header, attrs) =
        GenlHeader::split(frame.payload).ok_or(DecodeError::GenlTruncated { offset })?;
    let seq = frame.header.seq;
    if header.cmd != proto::CMD_REPLY && header.cmd != proto::CMD_BROADCAST {
        return Ok(Received::Unknown(frame));
    }
    let base = offset + NLMSG_HDRLEN + GENL_HDRLEN;
    // Absent: empty (and still inside the datagram).
    let mut payload = &attrs[..0];
    for attr in Attrs::at(attrs, base) {
        let attr = attr.map_err(|e| DecodeError::BadAttribute { offset, at: e.at })?;
        if attr.kind != proto::ATTR_PAYLOAD {
            continue;
        }
        if attr.payload.len() > proto::MSG_LEN {
            return Err(DecodeError::PayloadTooLong {
                offset,
                len: attr.payload.len(),
            });
        }
        payload = attr.payload;
    }
    Ok(if header.cmd == proto::CMD_REPLY {
        Received::Reply { seq, payload }
    } else {
        Received::Broadcast { seq, payload }
    })
}
