// SPDX-License-Identifier: MIT OR Apache-2.0
//! The dispatcher: the nlchan messages of a received datagram, from the
//! classic unit ([`crate::v1`]) or the generic netlink family
//! ([`crate::genl`]), as [`Received`] answers. Nothing here allocates.

#![forbid(unsafe_code)]

use crate::answer::Received;
use crate::error::DecodeError;
use crate::netlink::{Frame, Frames, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP};
use crate::{genl, v1};

/// Iterator over the nlchan messages of one received datagram.
///
/// The datagram is walked as [`Frames`] does (same length rules);
/// `NLMSG_NOOP` is skipped, `NLMSG_ERROR` and `NLMSG_DONE` are decoded the
/// same way on both transports. On the classic unit ([`Messages::new`])
/// the rest is decoded by [`v1::decode`]; on generic netlink
/// ([`Messages::genl`]) a message whose type is the family id is decoded
/// by [`genl::decode`], any other is [`Received::Unknown`]. The first
/// error is yielded once, then the iterator ends.
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
    /// (its id, from [`crate::exchange::resolve`]).
    pub fn genl(datagram: &'a [u8], family: u16) -> Self {
        Messages {
            frames: Frames::new(datagram),
            family: Some(family),
        }
    }

    /// Decodes one message; `Ok(None)` for a message to skip.
    fn decode(&self, frame: Frame<'a>) -> Result<Option<Received<'a>>, DecodeError> {
        let seq = frame.header.seq;
        Ok(Some(match (frame.header.msg_type, self.family) {
            (NLMSG_NOOP, _) => return Ok(None),
            (NLMSG_DONE, _) => Received::Done { seq },
            (NLMSG_ERROR, _) => match frame.error()? {
                None => Received::Ack { seq },
                Some(errno) => Received::Error { seq, errno },
            },
            (t, Some(family)) if t == family => genl::decode(frame)?,
            (_, Some(_)) => Received::Unknown(frame),
            (_, None) => v1::decode(frame)?,
        }))
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
                    self.frames.finish();
                    return Some(Err(e));
                }
            }
        }
    }
}

impl core::iter::FusedIterator for Messages<'_> {}
