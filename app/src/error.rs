// SPDX-License-Identifier: MIT OR Apache-2.0
//! The library's errors on the message path, `Copy` and without heap data:
//! [`DecodeError`] for a datagram that does not decode, [`Error`] for a
//! request, a receive or a family resolution that failed.

#![forbid(unsafe_code)]

use core::fmt;

use nix::errno::Errno;

use crate::proto;

/// Why a received datagram was rejected: only structural faults (lengths,
/// headers, attributes). The offset is where the offending message starts
/// in the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer than [`crate::netlink::NLMSG_HDRLEN`] bytes were left for a header.
    Truncated {
        /// Offset of the partial header.
        offset: usize,
        /// Bytes left in the datagram.
        remaining: usize,
    },
    /// `nlmsg_len` is below [`crate::netlink::NLMSG_HDRLEN`] or beyond the datagram.
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
    /// (e.g. in an nlctrl answer; [`crate::Messages`] yields
    /// [`crate::Received::Unknown`] instead).
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
    /// required (an nlctrl answer; [`crate::Messages`] yields
    /// [`crate::Received::Unknown`] instead).
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

/// Errors of the socket ([`crate::socket`]) and of the requests and
/// family resolutions built on it ([`crate::exchange`]). `Copy`, with no
/// heap data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No kernel protocol on this netlink unit (`EPROTONOSUPPORT`): the
    /// nlchan module is not loaded, or listens on another unit.
    ModuleNotLoaded {
        /// The netlink unit asked for.
        unit: u32,
    },
    /// nlctrl knows no generic netlink family of that name (`ENOENT`): the
    /// module that registers it is not loaded. Also where there is no
    /// generic netlink at all (qemu-user refuses `NETLINK_GENERIC`).
    FamilyNotFound,
    /// The generic netlink family has no multicast group of that name.
    GroupNotFound,
    /// A syscall failed with `EPERM` or `EACCES`.
    PermissionDenied {
        /// The syscall or operation.
        op: &'static str,
    },
    /// No answer arrived in time (`EAGAIN` after `SO_RCVTIMEO`).
    Timeout,
    /// A signal interrupted the wait of [`crate::NlSocket::recv`] or
    /// [`crate::NlSocket::recv_many`] (`EINTR`). Nothing was lost: call again to go
    /// on waiting, or stop (e.g. when a SIGINT handler set a flag); those
    /// two never retry on their own. [`crate::exchange::transact`] and the
    /// requests built on it wait on until their deadline instead, as their
    /// request is already in flight.
    Interrupted,
    /// Nothing to receive on a non-blocking socket (`EAGAIN`, see
    /// [`crate::NlSocket::set_nonblocking`]): wait until the fd is readable.
    WouldBlock,
    /// The kernel answered the request with `NLMSG_ERROR` and this errno.
    Kernel(Errno),
    /// The kernel's datagram did not decode.
    Malformed(DecodeError),
    /// A datagram was larger than the receive buffer (`MSG_TRUNC`).
    Truncated {
        /// Real datagram length.
        len: usize,
        /// Receive buffer length.
        capacity: usize,
    },
    /// Any other failing syscall.
    Io {
        /// The syscall or operation.
        op: &'static str,
        /// Its errno.
        errno: Errno,
    },
}

impl Error {
    /// Classifies a failed syscall.
    pub(crate) fn from_errno(op: &'static str, errno: Errno) -> Error {
        match errno {
            Errno::EPERM | Errno::EACCES => Error::PermissionDenied { op },
            errno => Error::Io { op, errno },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::ModuleNotLoaded { unit } => {
                write!(f, "no kernel protocol on netlink unit {unit}")
            }
            Error::FamilyNotFound => f.write_str("generic netlink family not registered"),
            Error::GroupNotFound => f.write_str("no such multicast group in the family"),
            Error::PermissionDenied { op } => write!(f, "{op}: permission denied"),
            Error::Timeout => f.write_str("timed out waiting for the kernel"),
            Error::Interrupted => f.write_str("interrupted by a signal"),
            Error::WouldBlock => f.write_str("nothing to receive yet"),
            Error::Kernel(errno) => write!(f, "the kernel answered {errno}"),
            Error::Malformed(e) => write!(f, "malformed message from the kernel: {e}"),
            Error::Truncated { len, capacity } => write!(
                f,
                "datagram of {len} bytes truncated to the {capacity}-byte buffer"
            ),
            Error::Io { op, errno } => write!(f, "{op}: {errno}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Error {
        Error::Malformed(e)
    }
}
