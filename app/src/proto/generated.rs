// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Generated from kmod/include/uapi/linux/nlchan.h by tests/proto_generated.rs.
// Do not edit: run `NLCHAN_BLESS=1 cargo test -p nlchan --test proto_generated`.

use super::Define;

#[doc = "`NLCHAN_PROTO_VERSION` (uapi header line 86): Newest protocol version described by this header."]
pub const PROTO_VERSION: u32 = 2;

#[doc = "`NLCHAN_UNIT_SEED` (uapi header line 89): The seed's unit (its NETLINK_TEST), for unit=30: never taken unless asked."]
pub const UNIT_SEED: u32 = 30;

#[doc = "`NLCHAN_UNIT_MIN` (uapi header line 92): Lowest unit the module accepts: the kernel names every unit below."]
pub const UNIT_MIN: u32 = 23;

#[doc = "`NLCHAN_UNIT_LIMIT` (uapi header line 95): Units are below this (the kernel's MAX_LINKS)."]
pub const UNIT_LIMIT: u32 = 32;

#[doc = "`NLCHAN_GROUP` (uapi header line 98): Multicast group that receives NLCHAN_MSG_BROADCAST."]
pub const GROUP: u32 = 1;

#[doc = "`NLCHAN_MSG_LEN` (uapi header line 101): Largest payload, in bytes (the seed's MSG_LEN)."]
pub const MSG_LEN: usize = 125;

#[doc = "`NLCHAN_MSG_SEND` (uapi header line 104): Message types; all at or above NLMSG_MIN_TYPE (0x10)."]
pub const MSG_SEND: u16 = 16;

#[doc = "`NLCHAN_MSG_ECHO` (uapi header line 105): Message types; all at or above NLMSG_MIN_TYPE (0x10)."]
pub const MSG_ECHO: u16 = 17;

#[doc = "`NLCHAN_MSG_REPLY` (uapi header line 106): Message types; all at or above NLMSG_MIN_TYPE (0x10)."]
pub const MSG_REPLY: u16 = 18;

#[doc = "`NLCHAN_MSG_BROADCAST` (uapi header line 107): Message types; all at or above NLMSG_MIN_TYPE (0x10)."]
pub const MSG_BROADCAST: u16 = 19;

#[doc = "`NLCHAN_F_GATHER` (uapi header line 113): Request flag (nlmsg_flags, a per-family modifier bit like NLM_F_ROOT): the sender accepts its REPLY gathered with others in one datagram."]
pub const F_GATHER: u16 = 256;

#[doc = "`NLCHAN_GATHER_MAX` (uapi header line 116): Largest datagram of gathered replies, in bytes."]
pub const GATHER_MAX: usize = 4096;

#[doc = "`NLCHAN_MSG_SEED` (uapi header line 119): Type of a seed-style request (with flags 0), handled as a SEND."]
pub const MSG_SEED: u16 = 0;

#[doc = "`NLCHAN_GREETING` (uapi header line 122): Payload of the reply to NLCHAN_MSG_SEND (no NUL byte is sent)."]
pub const GREETING: &str = "hello users!!!";

#[doc = "`NLCHAN_GENL_NAME` (uapi header line 125): Version 2: the generic netlink family, its version and its group."]
pub const GENL_NAME: &str = "nlchan";

#[doc = "`NLCHAN_GENL_VERSION` (uapi header line 126): Version 2: the generic netlink family, its version and its group."]
pub const GENL_VERSION: u8 = 1;

#[doc = "`NLCHAN_GENL_MCGRP` (uapi header line 127): Version 2: the generic netlink family, its version and its group."]
pub const GENL_MCGRP: &str = "broadcast";

#[doc = "`NLCHAN_CMD_UNSPEC` (uapi header line 130): Generic netlink commands (genlmsghdr.cmd)."]
pub const CMD_UNSPEC: u8 = 0;

#[doc = "`NLCHAN_CMD_SEND` (uapi header line 131): Generic netlink commands (genlmsghdr.cmd)."]
pub const CMD_SEND: u8 = 1;

#[doc = "`NLCHAN_CMD_ECHO` (uapi header line 132): Generic netlink commands (genlmsghdr.cmd)."]
pub const CMD_ECHO: u8 = 2;

#[doc = "`NLCHAN_CMD_REPLY` (uapi header line 133): Generic netlink commands (genlmsghdr.cmd)."]
pub const CMD_REPLY: u8 = 3;

#[doc = "`NLCHAN_CMD_BROADCAST` (uapi header line 134): Generic netlink commands (genlmsghdr.cmd)."]
pub const CMD_BROADCAST: u8 = 4;

#[doc = "`NLCHAN_ATTR_UNSPEC` (uapi header line 137): Generic netlink attributes."]
pub const ATTR_UNSPEC: u16 = 0;

#[doc = "`NLCHAN_ATTR_PAYLOAD` (uapi header line 138): Generic netlink attributes."]
pub const ATTR_PAYLOAD: u16 = 1;

#[doc = "`NLCHAN_ATTR_MAX` (uapi header line 139): Generic netlink attributes."]
pub const ATTR_MAX: u16 = 1;

/// Every `NLCHAN_*` define of the header, by its C name, in header order.
pub const DEFINES: &[(&str, Define)] = &[
    ("NLCHAN_PROTO_VERSION", Define::Int(2)),
    ("NLCHAN_UNIT_SEED", Define::Int(30)),
    ("NLCHAN_UNIT_MIN", Define::Int(23)),
    ("NLCHAN_UNIT_LIMIT", Define::Int(32)),
    ("NLCHAN_GROUP", Define::Int(1)),
    ("NLCHAN_MSG_LEN", Define::Int(125)),
    ("NLCHAN_MSG_SEND", Define::Int(16)),
    ("NLCHAN_MSG_ECHO", Define::Int(17)),
    ("NLCHAN_MSG_REPLY", Define::Int(18)),
    ("NLCHAN_MSG_BROADCAST", Define::Int(19)),
    ("NLCHAN_F_GATHER", Define::Int(256)),
    ("NLCHAN_GATHER_MAX", Define::Int(4096)),
    ("NLCHAN_MSG_SEED", Define::Int(0)),
    ("NLCHAN_GREETING", Define::Str("hello users!!!")),
    ("NLCHAN_GENL_NAME", Define::Str("nlchan")),
    ("NLCHAN_GENL_VERSION", Define::Int(1)),
    ("NLCHAN_GENL_MCGRP", Define::Str("broadcast")),
    ("NLCHAN_CMD_UNSPEC", Define::Int(0)),
    ("NLCHAN_CMD_SEND", Define::Int(1)),
    ("NLCHAN_CMD_ECHO", Define::Int(2)),
    ("NLCHAN_CMD_REPLY", Define::Int(3)),
    ("NLCHAN_CMD_BROADCAST", Define::Int(4)),
    ("NLCHAN_ATTR_UNSPEC", Define::Int(0)),
    ("NLCHAN_ATTR_PAYLOAD", Define::Int(1)),
    ("NLCHAN_ATTR_MAX", Define::Int(1)),
];
