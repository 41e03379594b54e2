// SPDX-License-Identifier: MIT OR Apache-2.0
//! The two ways to the module, and choosing one: its classic netlink unit
//! (protocol v1) or its generic netlink family (v2).
//!
//! The rule: the app never talks to a classic unit that nlchan does not
//! own. On Allwinner BSP kernels other drivers hold units 30 and 31 (XRadio
//! Wi-Fi, sunxi-mad, bcmdhd, sunxi PCM); a request sent there reaches that
//! driver, and its group 1 multicasts something else. So before it opens a
//! classic unit, [`open`] reads the module's `unit` parameter in sysfs
//! ([`ModuleUnit`]) and uses only the unit it names:
//!
//! - module not loaded: it asks nlctrl for the family, which makes the
//!   kernel load the module through its `net-pf-16-proto-16-family-nlchan`
//!   alias when it is installed, then reads sysfs again; no family means
//!   [`Error::NotLoaded`]. No classic unit is ever opened to find out.
//! - `none`: the module serves generic netlink only: genl.
//! - a unit N: the classic unit N, unless genl is asked for.
//!
//! [`select`] is that choice alone, without I/O. Both transports carry the
//! same requests ([`Request`]) and give the same [`crate::Received`] messages, so
//! every command works the same on both.

#![forbid(unsafe_code)]

use core::fmt;
use std::time::Duration;

use log::debug;

use crate::answer::Payload;
use crate::batch::{Batch, BatchError};
use crate::error::Error as NetError;
use crate::exchange::{self, resolve, transact, Requests};
use crate::genl::{self, NETLINK_GENERIC};
use crate::messages::Messages;
use crate::netlink::{nlmsg_align, NLM_F_REQUEST};
use crate::nlctrl::Family;
use crate::proto;
use crate::socket::{NlSocket, RECV_BUF_LEN};
use crate::sysfs::{ModuleUnit, Sysfs};
use crate::v1::MAX_MESSAGE_LEN;

/// Largest encoded request on either transport, padding included (for
/// batch buffers: a batch of `n` needs at most `n` times this).
pub const MAX_REQUEST_LEN: usize = max(genl::MAX_REQUEST_LEN, nlmsg_align(MAX_MESSAGE_LEN));

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// A kind of transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// The classic netlink unit (protocol v1).
    Unit,
    /// The generic netlink family (protocol v2).
    Genl,
}

impl Kind {
    /// Parses `unit` or `genl`.
    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "unit" => Some(Kind::Unit),
            "genl" => Some(Kind::Genl),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Unit => "unit",
            Kind::Genl => "genl",
        })
    }
}

/// A request to the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// The module logs the payload and replies with its greeting.
    Send,
    /// The module replies with the same payload.
    Echo,
}

impl Request {
    /// Its message type on the classic unit.
    pub fn msg_type(self) -> u16 {
        match self {
            Request::Send => proto::MSG_SEND,
            Request::Echo => proto::MSG_ECHO,
        }
    }

    /// Its command on generic netlink.
    pub fn cmd(self) -> u8 {
        match self {
            Request::Send => proto::CMD_SEND,
            Request::Echo => proto::CMD_ECHO,
        }
    }
}

/// Where a transport's messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// Classic netlink unit N; broadcasts go to [`proto::GROUP`].
    Unit(u32),
    /// The generic netlink family; broadcasts go to its group
    /// [`proto::GENL_MCGRP`], when it has one.
    Genl(Family),
}

impl Endpoint {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Endpoint::Unit(_) => Kind::Unit,
            Endpoint::Genl(_) => Kind::Genl,
        }
    }

    /// The multicast group of its broadcasts (`None`: a family without
    /// [`proto::GENL_MCGRP`]).
    pub fn group(&self) -> Option<u32> {
        match self {
            Endpoint::Unit(_) => Some(proto::GROUP),
            Endpoint::Genl(family) => family.group,
        }
    }

    /// The messages of a datagram received on this endpoint.
    pub fn messages<'a>(&self, datagram: &'a [u8]) -> Messages<'a> {
        match self {
            Endpoint::Unit(_) => Messages::new(datagram),
            Endpoint::Genl(family) => Messages::genl(datagram, family.id),
        }
    }
}

/// `unit 30` or `genl family 0x1a`.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unit(unit) => write!(f, "unit {unit}"),
            Endpoint::Genl(family) => write!(f, "genl family {:#x}", family.id),
        }
    }
}

/// A socket, its request side (sequence numbers, stale messages) and the
/// endpoint it talks to.
#[derive(Debug)]
pub struct Transport {
    sock: NlSocket,
    requests: Requests,
    endpoint: Endpoint,
}

impl Transport {
    /// Opens classic unit `unit`. Only for a unit the module owns (see
    /// [`open`]).
    pub fn open_unit(unit: u32) -> Result<Transport, NetError> {
        Ok(Transport::new(NlSocket::open(unit)?, Endpoint::Unit(unit)))
    }

    /// Opens a `NETLINK_GENERIC` socket and resolves family
    /// [`proto::GENL_NAME`] and its group [`proto::GENL_MCGRP`] through
    /// nlctrl, waiting up to `timeout` ([`resolve`]; may load the
    /// module). Where there is no generic netlink at all (qemu-user refuses
    /// `NETLINK_GENERIC` sockets) the family is not found either:
    /// [`NetError::FamilyNotFound`].
    pub fn open_genl(timeout: Duration) -> Result<Transport, NetError> {
        let mut sock = NlSocket::open(NETLINK_GENERIC).map_err(|e| match e {
            NetError::ModuleNotLoaded { .. } => NetError::FamilyNotFound,
            e => e,
        })?;
        let mut requests = Requests::new();
        let mut rx = [0u8; RECV_BUF_LEN];
        let family = resolve(
            &mut sock,
            &mut requests,
            proto::GENL_NAME,
            proto::GENL_MCGRP,
            timeout,
            &mut rx,
        )?;
        // The look-up's sequence number stays used.
        Ok(Transport {
            sock,
            requests,
            endpoint: Endpoint::Genl(family),
        })
    }

    /// A transport over `sock` (of the endpoint's unit, or
    /// `NETLINK_GENERIC`), with a new [`Requests`]: its sequence numbers
    /// start at 1. For a socket that already carried requests, hand their
    /// [`Requests`] over through [`Transport::requests_mut`].
    pub fn new(sock: NlSocket, endpoint: Endpoint) -> Transport {
        Transport {
            sock,
            requests: Requests::new(),
            endpoint,
        }
    }

    /// Where its messages go.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// Its socket.
    pub fn socket(&self) -> &NlSocket {
        &self.sock
    }

    /// Its socket, for receiving and counting.
    pub fn socket_mut(&mut self) -> &mut NlSocket {
        &mut self.sock
    }

    /// Its request side: the stale messages ([`Requests::stale`]).
    pub fn requests(&self) -> &Requests {
        &self.requests
    }

    /// Its request side, for sequence numbers of requests sent on its
    /// socket ([`Requests::reserve_seqs`]) and counting what answers none.
    pub fn requests_mut(&mut self) -> &mut Requests {
        &mut self.requests
    }

    /// Joins the broadcasts' multicast group and returns its id.
    pub fn join_broadcasts(&self) -> Result<u32, NetError> {
        let group = self.endpoint.group().ok_or(NetError::GroupNotFound)?;
        self.sock.join_group(group)?;
        Ok(group)
    }

    /// The messages of a datagram received on this transport.
    pub fn messages<'a>(&self, datagram: &'a [u8]) -> Messages<'a> {
        self.endpoint.messages(datagram)
    }

    /// Appends `request` with `flags`, `seq` and `payload` to `batch`.
    /// [`proto::F_GATHER`] is the classic unit's alone: it is left out on
    /// generic netlink, where the module sends one reply per datagram.
    pub fn push_request(
        &self,
        batch: &mut Batch<'_>,
        request: Request,
        flags: u16,
        seq: u32,
        payload: &[u8],
    ) -> Result<(), BatchError> {
        match self.endpoint {
            Endpoint::Unit(_) => batch.push(request.msg_type(), flags, seq, payload),
            Endpoint::Genl(family) => genl::push_request(
                batch,
                family.id,
                request.cmd(),
                flags & !proto::F_GATHER,
                seq,
                payload,
            ),
        }
    }

    /// Sends `request` carrying `payload` and waits up to `timeout` for the
    /// reply with its sequence number, as [`exchange::request`] does on the
    /// classic unit: the reply payload, or [`NetError::Kernel`] for an
    /// `NLMSG_ERROR`; other messages are dropped and counted
    /// ([`Requests::stale`]).
    pub fn request(
        &mut self,
        request: Request,
        payload: &Payload,
        timeout: Duration,
    ) -> Result<Payload, NetError> {
        plant!("request");
        let seq = self.requests.next_seq();
        let mut tx = [0u8; MAX_REQUEST_LEN];
        let mut batch = Batch::new(&mut tx);
        self.push_request(&mut batch, request, NLM_F_REQUEST, seq, payload)
            .map_err(|_| NetError::Io {
                op: "encode",
                errno: nix::errno::Errno::EMSGSIZE,
            })?;
        debug!(
            "{}: request {request:?} seq={seq} len={}",
            self.endpoint,
            batch.as_bytes().len()
        );
        let endpoint = self.endpoint;
        let requests = &mut self.requests;
        let mut rx = [0u8; RECV_BUF_LEN];
        transact(
            &mut self.sock,
            batch.as_bytes(),
            timeout,
            &mut rx,
            |datagram| exchange::reply_to(requests, endpoint.messages(datagram), seq),
        )
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preference {
    /// `--transport`: this kind only.
    pub kind: Option<Kind>,
    /// `--unit N`: the classic unit, which must be N.
    pub unit: Option<u32>,
}

/// The transport [`select`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Choice {
    /// The classic unit the module owns.
    Unit(u32),
    /// Generic netlink.
    Genl,
}

/// Why no transport could be chosen or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The module is not loaded (no sysfs directory, no genl family).
    NotLoaded,
    /// The classic unit was asked for, but the module serves generic
    /// netlink only.
    NoUnit,
    /// Unit `asked` was asked for, but the module owns unit `owned`.
    OtherUnit {
        /// The unit asked for.
        asked: u32,
        /// The module's unit.
        owned: u32,
    },
    /// The classic unit was asked for, but the module's `unit` parameter
    /// could not be read.
    UnitUnknown,
    /// `--unit` with `--transport genl`.
    Conflict,
    /// Opening the chosen transport failed.
    Socket(NetError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotLoaded => f.write_str("the nlchan module is not loaded"),
            Error::NoUnit => f.write_str("the nlchan module serves generic netlink only"),
            Error::OtherUnit { asked, owned } => {
                write!(f, "unit {asked} is not nlchan's; nlchan owns unit {owned}")
            }
            Error::UnitUnknown => f.write_str("the nlchan module's unit cannot be read"),
            Error::Conflict => f.write_str("a unit was given with generic netlink"),
            Error::Socket(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

impl From<NetError> for Error {
    fn from(e: NetError) -> Error {
        Error::Socket(e)
    }
}

/// Chooses the transport from what the module's `unit` parameter says and
/// what was asked for: the module's classic unit when it has one, else
/// generic netlink; `kind` forces one, `unit` asks for the classic unit
/// and checks that the module owns it. No I/O.
pub fn select(module: ModuleUnit, pref: Preference) -> Result<Choice, Error> {
    let wants_unit = pref.kind == Some(Kind::Unit) || pref.unit.is_some();
    match (module, pref.kind) {
        (_, Some(Kind::Genl)) if pref.unit.is_some() => Err(Error::Conflict),
        (ModuleUnit::NotLoaded, _) => Err(Error::NotLoaded),
        (_, Some(Kind::Genl)) => Ok(Choice::Genl),
        (ModuleUnit::Unit(owned), _) => match pref.unit {
            Some(asked) if asked != owned => Err(Error::OtherUnit { asked, owned }),
            _ => Ok(Choice::Unit(owned)),
        },
        (ModuleUnit::GenlOnly, _) if wants_unit => Err(Error::NoUnit),
        (ModuleUnit::Unknown, _) if wants_unit => Err(Error::UnitUnknown),
        (ModuleUnit::GenlOnly | ModuleUnit::Unknown, _) => Ok(Choice::Genl),
    }
}

/// Opens the transport [`select`] chooses, reading the module's state from
/// `sysfs`; `timeout` bounds the nlctrl query. When the module is not
/// loaded, the nlctrl query may load it (see the module documentation);
/// the classic unit is opened only when sysfs names it.
pub fn open(sysfs: &Sysfs, pref: Preference, timeout: Duration) -> Result<Transport, Error> {
    let mut module = sysfs.module_unit_state();
    let mut genl = None;
    if module == ModuleUnit::NotLoaded {
        if pref.kind == Some(Kind::Genl) && pref.unit.is_some() {
            return Err(Error::Conflict);
        }
        match Transport::open_genl(timeout) {
            Ok(t) => genl = Some(t),
            Err(NetError::FamilyNotFound) => return Err(Error::NotLoaded),
            Err(e) => return Err(Error::Socket(e)),
        }
        // Loaded now (by the family's alias, or it was just coming up).
        module = match sysfs.module_unit_state() {
            // The family exists but sysfs does not show the module (not
            // mounted?): its unit cannot be confirmed.
            ModuleUnit::NotLoaded => ModuleUnit::Unknown,
            state => state,
        };
        debug!("nlctrl knows the family; the module's unit: {module:?}");
    }
    match select(module, pref)? {
        Choice::Unit(unit) => Ok(Transport::open_unit(unit)?),
        Choice::Genl => match genl {
            Some(t) => Ok(t),
            None => Ok(Transport::open_genl(timeout)?),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Received;

    const STATES: [ModuleUnit; 5] = [
        ModuleUnit::NotLoaded,
        ModuleUnit::GenlOnly,
        ModuleUnit::Unit(30),
        ModuleUnit::Unit(0),
        ModuleUnit::Unknown,
    ];

    fn prefs() -> Vec<Preference> {
        let mut all = Vec::new();
        for kind in [None, Some(Kind::Unit), Some(Kind::Genl)] {
            for unit in [None, Some(30), Some(29), Some(0)] {
                all.push(Preference { kind, unit });
            }
        }
        all
    }

    /// The rule, for every state and every command line: a classic unit is
    /// chosen only when sysfs names it, and it is then the one named.
    #[test]
    fn never_a_unit_the_module_does_not_own() {
        for module in STATES {
            for pref in prefs() {
                let choice = select(module, pref);
                if let Ok(Choice::Unit(u)) = choice {
                    assert_eq!(module, ModuleUnit::Unit(u), "{pref:?}");
                    assert!(pref.unit.is_none_or(|asked| asked == u));
                    assert_ne!(pref.kind, Some(Kind::Genl));
                }
                if module == ModuleUnit::NotLoaded {
                    let want = if pref.kind == Some(Kind::Genl) && pref.unit.is_some() {
                        Err(Error::Conflict)
                    } else {
                        Err(Error::NotLoaded)
                    };
                    assert_eq!(choice, want, "{pref:?}");
                }
            }
        }
    }

    #[test]
    fn defaults_and_forcing() {
        let none = Preference::default();
        let unit = Preference {
            kind: Some(Kind::Unit),
            unit: None,
        };
        let genl = Preference {
            kind: Some(Kind::Genl),
            unit: None,
        };
        let at = |u| Preference {
            kind: None,
            unit: Some(u),
        };
        let u30 = ModuleUnit::Unit(30);
        assert_eq!(select(u30, none), Ok(Choice::Unit(30)));
        assert_eq!(select(u30, unit), Ok(Choice::Unit(30)));
        assert_eq!(select(u30, genl), Ok(Choice::Genl));
        assert_eq!(select(u30, at(30)), Ok(Choice::Unit(30)));
        assert_eq!(
            select(u30, at(29)),
            Err(Error::OtherUnit {
                asked: 29,
                owned: 30
            })
        );
        let only = ModuleUnit::GenlOnly;
        assert_eq!(select(only, none), Ok(Choice::Genl));
        assert_eq!(select(only, genl), Ok(Choice::Genl));
        assert_eq!(select(only, unit), Err(Error::NoUnit));
        assert_eq!(select(only, at(30)), Err(Error::NoUnit));
        let unknown = ModuleUnit::Unknown;
        assert_eq!(select(unknown, none), Ok(Choice::Genl));
        assert_eq!(select(unknown, unit), Err(Error::UnitUnknown));
        let both = Preference {
            kind: Some(Kind::Genl),
            unit: Some(30),
        };
        assert_eq!(select(u30, both), Err(Error::Conflict));
    }

    #[test]
    fn kinds_parse_and_print() {
        assert_eq!(Kind::parse("unit"), Some(Kind::Unit));
        assert_eq!(Kind::parse("genl"), Some(Kind::Genl));
        assert_eq!(Kind::parse("GENL"), None);
        assert_eq!(Kind::Genl.to_string(), "genl");
        let family = Family {
            id: 0x1a,
            version: 1,
            group: Some(5),
        };
        assert_eq!(Endpoint::Unit(30).to_string(), "unit 30");
        assert_eq!(Endpoint::Genl(family).to_string(), "genl family 0x1a");
        assert_eq!(Endpoint::Genl(family).group(), Some(5));
        assert_eq!(Endpoint::Unit(30).group(), Some(proto::GROUP));
        assert_eq!(MAX_REQUEST_LEN, 152);
    }

    /// Both transports encode the same request as their protocol says,
    /// and decode their own kind of reply.
    #[test]
    fn requests_on_both_transports() {
        let family = Family {
            id: 0x1a,
            version: 1,
            group: None,
        };
        let unit = Transport::new(NlSocket::open(0).unwrap(), Endpoint::Unit(30));
        let genl = Transport::new(NlSocket::open(0).unwrap(), Endpoint::Genl(family));
        for (t, len) in [(&unit, 16 + 3), (&genl, 16 + 4 + 4 + 4)] {
            let mut buf = [0u8; MAX_REQUEST_LEN];
            let mut b = Batch::new(&mut buf);
            let flags = NLM_F_REQUEST | proto::F_GATHER;
            t.push_request(&mut b, Request::Echo, flags, 7, b"abc")
                .unwrap();
            let bytes = b.as_bytes();
            assert_eq!(bytes.len(), len);
            let h = crate::netlink::Header::parse(bytes).unwrap();
            assert_eq!(h.seq, 7);
            match t.endpoint() {
                Endpoint::Unit(_) => {
                    assert_eq!((h.msg_type, h.flags), (proto::MSG_ECHO, flags));
                }
                Endpoint::Genl(_) => {
                    assert_eq!((h.msg_type, h.flags), (0x1a, NLM_F_REQUEST));
                    assert_eq!(bytes[16..20], [proto::CMD_ECHO, proto::GENL_VERSION, 0, 0]);
                }
            }
        }
        // A genl REPLY decodes on the genl endpoint only.
        let mut buf = [0u8; 64];
        let mut b = Batch::new(&mut buf);
        genl::push_request(&mut b, 0x1a, proto::CMD_REPLY, 0, 3, b"hey").unwrap();
        let reply = b.as_bytes();
        let got: Vec<_> = genl.messages(reply).collect();
        assert_eq!(
            got,
            [Ok(Received::Reply {
                seq: 3,
                payload: b"hey"
            })]
        );
        // The classic unit does not know the family's type: handed over.
        assert!(matches!(
            unit.messages(reply).next(),
            Some(Ok(Received::Unknown(f))) if f.header.msg_type == 0x1a
        ));
    }
}
