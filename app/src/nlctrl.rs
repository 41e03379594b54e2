// SPDX-License-Identifier: MIT OR Apache-2.0
//! nlctrl, the generic netlink family directory: its `CTRL_CMD_GETFAMILY`
//! request and its `CTRL_CMD_NEWFAMILY` answer, which give a family's id
//! and multicast groups (as libnl's `genl_ctrl_resolve` reads them). The
//! exchange itself is [`crate::exchange::resolve`]. Nothing here allocates.

#![forbid(unsafe_code)]

use crate::attr::{nla_header, nla_padding, Attr, AttrError, Attrs};
use crate::batch::Batch;
use crate::error::DecodeError;
use crate::genl::{GenlHeader, GENL_HDRLEN};
use crate::netlink::{BufferTooSmall, Frame, NLMSG_HDRLEN, NLM_F_REQUEST};

/// `GENL_ID_CTRL`: the family id of `nlctrl`, the family directory.
pub const GENL_ID_CTRL: u16 = 0x10;
/// `GENL_NAMSIZ`: family and group names are shorter (with their NUL).
pub const GENL_NAMSIZ: usize = 16;
/// `CTRL_CMD_NEWFAMILY`: nlctrl's answer describing a family.
pub const CTRL_CMD_NEWFAMILY: u8 = 1;
/// `CTRL_CMD_GETFAMILY`: asks nlctrl for a family.
pub const CTRL_CMD_GETFAMILY: u8 = 3;
/// Version of nlctrl's messages this library sends (as libnl does).
pub const CTRL_VERSION: u8 = 1;
/// `CTRL_ATTR_FAMILY_ID` (u16).
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// `CTRL_ATTR_FAMILY_NAME` (NUL-terminated string).
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
/// `CTRL_ATTR_VERSION` (u32).
pub const CTRL_ATTR_VERSION: u16 = 3;
/// `CTRL_ATTR_MCAST_GROUPS`: a nested list of nested groups.
pub const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
/// `CTRL_ATTR_MCAST_GRP_NAME` (in a group; NUL-terminated string).
pub const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
/// `CTRL_ATTR_MCAST_GRP_ID` (in a group; u32).
pub const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;

/// A generic netlink family as nlctrl describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The family id: the `nlmsg_type` of its messages.
    pub id: u16,
    /// Its interface version (`CTRL_ATTR_VERSION`; 0 when not given).
    pub version: u32,
    /// The id of the multicast group asked for, when the family has it.
    pub group: Option<u32>,
}

/// True when `name` can be a family's or a group's name: shorter than
/// [`GENL_NAMSIZ`] with its NUL, and without a NUL of its own.
pub fn valid_name(name: &str) -> bool {
    name.len() < GENL_NAMSIZ && !name.as_bytes().contains(&0)
}

/// Appends nlctrl's `CTRL_CMD_GETFAMILY` request for family `name` (a
/// [`valid_name`]) to `batch`.
pub fn push_getfamily(batch: &mut Batch<'_>, seq: u32, name: &str) -> Result<(), BufferTooSmall> {
    let name = name.as_bytes();
    let genl = GenlHeader {
        cmd: CTRL_CMD_GETFAMILY,
        version: CTRL_VERSION,
    }
    .bytes();
    // The name is sent with its NUL, as nla_put_string does.
    let nla = nla_header(CTRL_ATTR_FAMILY_NAME, name.len() + 1);
    let parts: [&[u8]; 5] = [&genl, &nla, name, &[0], nla_padding(name.len() + 1)];
    batch.push_parts(GENL_ID_CTRL, NLM_F_REQUEST, seq, &parts)
}

/// Reads nlctrl's `CTRL_CMD_NEWFAMILY` answer (a [`Frame`] of type
/// [`GENL_ID_CTRL`]) about family `name`, looking for multicast group
/// `group`. The family id must be present and non-zero and the name must be
/// `name`; a group entry with that name must carry a 4-byte id. Unknown
/// attributes (operations, policies, ...) are skipped but checked like any.
pub fn parse_family(frame: Frame<'_>, name: &str, group: &str) -> Result<Family, DecodeError> {
    let offset = frame.offset;
    let (header, attrs) =
        GenlHeader::split(frame.payload).ok_or(DecodeError::GenlTruncated { offset })?;
    if header.cmd != CTRL_CMD_NEWFAMILY {
        return Err(DecodeError::UnknownCommand {
            offset,
            cmd: header.cmd,
        });
    }
    let bad = |e: AttrError| DecodeError::BadAttribute { offset, at: e.at };
    let missing = |name| DecodeError::MissingAttribute { offset, name };
    let mut id = None;
    let mut named = false;
    let mut family = Family {
        id: 0,
        version: 0,
        group: None,
    };
    for attr in Attrs::at(attrs, offset + NLMSG_HDRLEN + GENL_HDRLEN) {
        let attr = attr.map_err(bad)?;
        match attr.kind {
            CTRL_ATTR_FAMILY_ID => {
                id = Some(attr.u16().ok_or(missing("CTRL_ATTR_FAMILY_ID"))?);
            }
            CTRL_ATTR_FAMILY_NAME => {
                if attr.c_str() != name.as_bytes() {
                    return Err(missing("CTRL_ATTR_FAMILY_NAME"));
                }
                named = true;
            }
            CTRL_ATTR_VERSION => {
                family.version = attr.u32().ok_or(missing("CTRL_ATTR_VERSION"))?;
            }
            CTRL_ATTR_MCAST_GROUPS => {
                for entry in attr.nested() {
                    if let Some(gid) = group_id(entry.map_err(bad)?, group).map_err(bad)? {
                        family.group = Some(gid.ok_or(missing("CTRL_ATTR_MCAST_GRP_ID"))?);
                    }
                }
            }
            _ => {}
        }
    }
    if !named {
        return Err(missing("CTRL_ATTR_FAMILY_NAME"));
    }
    family.id = id
        .filter(|&id| id != 0)
        .ok_or(missing("CTRL_ATTR_FAMILY_ID"))?;
    Ok(family)
}

/// One entry of `CTRL_ATTR_MCAST_GROUPS`: `Some(id)` when it is `group`
/// (`Some(None)` when its id is missing or not 4 bytes), `None` otherwise.
fn group_id(entry: Attr<'_>, group: &str) -> Result<Option<Option<u32>>, AttrError> {
    let mut name = None;
    let mut id = None;
    for attr in entry.nested() {
        let attr = attr?;
        match attr.kind {
            CTRL_ATTR_MCAST_GRP_NAME => name = Some(attr.c_str()),
            CTRL_ATTR_MCAST_GRP_ID => id = Some(attr.u32()),
            _ => {}
        }
    }
    Ok((name == Some(group.as_bytes())).then(|| id.flatten()))
}
