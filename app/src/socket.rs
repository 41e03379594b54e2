// SPDX-License-Identifier: MIT OR Apache-2.0
//! The netlink socket: open, bind, join the broadcast group, send
//! datagrams and receive the kernel's. System calls only: matching replies
//! to requests is [`crate::exchange`]'s.
//!
//! Modelled on netlink-sys: [`NlSocket`] owns its fd (closed on drop) and its
//! methods are named after the syscalls. Every receive buffer belongs to the
//! caller or lives on the stack; nothing on this path allocates.
//!
//! Rules enforced here, which common netlink libraries leave out:
//! - the socket binds with `nl_pid` 0 and reads the port the kernel assigned
//!   (binding to `getpid()` collides when a process opens two sockets);
//! - every datagram must come from the kernel (`nl_pid` 0); others are
//!   dropped and counted ([`NlSocket::foreign`]);
//! - `ENOBUFS` means messages were lost: it is counted
//!   ([`NlSocket::lost`]) and reported as [`Recv::Lost`], never as an error.
//!
//! Sequence numbers and what answers no pending request are the request
//! side's, kept beside the socket ([`crate::exchange::Requests`]).
//!
//! The socket knows nothing of message layouts: it serves the classic unit
//! and generic netlink alike (`NETLINK_GENERIC` is unit 16); see
//! [`crate::transport`] for the transport that frames nlchan's messages.

#![forbid(unsafe_code)]

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use log::debug;
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{bind, getsockname, sendto, setsockopt, sockopt, MsgFlags, NetlinkAddr};
use nix::sys::time::TimeVal;

use crate::error::Error;
use crate::sys;

/// `NETLINK_ADD_MEMBERSHIP` (`<linux/netlink.h>`), missing from `libc` for glibc.
const NETLINK_ADD_MEMBERSHIP: libc::c_int = 1;
/// `NETLINK_BROADCAST_ERROR` (`<linux/netlink.h>`): a broadcast this socket
/// misses is reported to the kernel-side sender.
const NETLINK_BROADCAST_ERROR: libc::c_int = 4;
/// `NETLINK_DROP_MEMBERSHIP` (`<linux/netlink.h>`): leave a multicast group.
const NETLINK_DROP_MEMBERSHIP: libc::c_int = 2;
/// `NETLINK_NO_ENOBUFS` (`<linux/netlink.h>`): no `ENOBUFS` when the
/// receive queue overflows; the losses go unreported.
const NETLINK_NO_ENOBUFS: libc::c_int = 5;

/// Receive buffer size that holds any datagram nlchan's kernel side sends
/// (one message of at most `NLMSG_LENGTH(125)`, or an error carrying a
/// request), with room to spare.
pub const RECV_BUF_LEN: usize = 8192;

/// Socket options nix does not define, declared with nix's own macro so no
/// `unsafe` is needed here.
mod opts {
    use nix::libc;
    use nix::{setsockopt_impl, sockopt_impl};

    sockopt_impl!(
        /// `NETLINK_ADD_MEMBERSHIP`: join a multicast group.
        AddMembership,
        SetOnly,
        libc::SOL_NETLINK,
        super::NETLINK_ADD_MEMBERSHIP,
        u32
    );
    sockopt_impl!(
        /// `NETLINK_DROP_MEMBERSHIP`: leave a multicast group.
        DropMembership,
        SetOnly,
        libc::SOL_NETLINK,
        super::NETLINK_DROP_MEMBERSHIP,
        u32
    );
    sockopt_impl!(
        /// `NETLINK_NO_ENOBUFS`: do not report receive queue overflows.
        NoEnobufs,
        SetOnly,
        libc::SOL_NETLINK,
        super::NETLINK_NO_ENOBUFS,
        bool
    );
    sockopt_impl!(
        /// `NETLINK_BROADCAST_ERROR`: report missed broadcasts to the sender.
        BroadcastError,
        SetOnly,
        libc::SOL_NETLINK,
        super::NETLINK_BROADCAST_ERROR,
        bool
    );
}
use opts::{AddMembership, BroadcastError, DropMembership, NoEnobufs};

/// What one [`NlSocket::recv`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recv {
    /// A datagram from the kernel of this many bytes is in the buffer.
    Datagram(usize),
    /// The kernel dropped this many messages for us (`ENOBUFS`): our receive
    /// queue was full. Keep reading.
    Lost(u64),
}

/// A netlink socket on one unit, bound to a kernel-assigned port.
#[derive(Debug)]
pub struct NlSocket {
    fd: OwnedFd,
    unit: u32,
    port: u32,
    lost: u64,
    drops_seen: u64,
    foreign: u64,
    truncated: u64,
    rcvtimeo: Option<Option<Duration>>,
    use_drop_counter: bool,
    nonblocking: bool,
}

/// What one [`NlSocket::recv_many`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecvMany {
    /// This many slots were filled (see [`Slot`]).
    Datagrams(usize),
    /// The kernel dropped this many messages for us (`ENOBUFS`).
    Lost(u64),
}

/// What one buffer of [`NlSocket::recv_many`] holds. Each datagram is
/// judged on its own: a truncated or foreign one does not discard the
/// others received in the same call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Slot {
    /// Not filled by the last call.
    #[default]
    Empty,
    /// A datagram from the kernel of this many bytes.
    Datagram(usize),
    /// A datagram from the kernel larger than the buffer (`MSG_TRUNC`):
    /// `len` is its real length. Its start is in the buffer, but it is not
    /// to be decoded; it is counted ([`NlSocket::truncated`]).
    Truncated {
        /// Real datagram length.
        len: usize,
    },
    /// A datagram that did not come from the kernel, dropped and counted
    /// ([`NlSocket::foreign`]).
    Foreign,
}

impl Slot {
    /// The length of a complete datagram from the kernel, else `None`.
    pub fn datagram(self) -> Option<usize> {
        match self {
            Slot::Datagram(len) => Some(len),
            _ => None,
        }
    }
}

impl NlSocket {
    /// Opens `socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, unit)` and binds it
    /// with `nl_pid` 0, so the kernel assigns a unique port.
    ///
    /// `EPROTONOSUPPORT` (nothing registered on `unit`) is
    /// [`Error::ModuleNotLoaded`].
    pub fn open(unit: u32) -> Result<NlSocket, Error> {
        let protocol = libc::c_int::try_from(unit).map_err(|_| Error::ModuleNotLoaded { unit })?;
        let fd = sys::netlink_socket(protocol).map_err(|e| match e {
            Errno::EPROTONOSUPPORT => Error::ModuleNotLoaded { unit },
            errno => Error::from_errno("socket", errno),
        })?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(|e| Error::from_errno("bind", e))?;
        let local: NetlinkAddr =
            getsockname(fd.as_raw_fd()).map_err(|e| Error::from_errno("getsockname", e))?;
        debug!("unit {unit}: bound to port {}", local.pid());
        Ok(NlSocket {
            fd,
            unit,
            port: local.pid(),
            lost: 0,
            drops_seen: 0,
            foreign: 0,
            truncated: 0,
            rcvtimeo: None,
            use_drop_counter: true,
            nonblocking: false,
        })
    }

    /// The netlink unit (protocol number).
    pub fn unit(&self) -> u32 {
        self.unit
    }

    /// The port id the kernel assigned at bind time.
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Messages the kernel dropped for this socket (see [`Recv::Lost`]).
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Datagrams dropped because they did not come from the kernel.
    pub fn foreign(&self) -> u64 {
        self.foreign
    }

    /// Datagrams larger than the receive buffer (`MSG_TRUNC`), reported as
    /// [`Error::Truncated`] or [`Slot::Truncated`].
    pub fn truncated(&self) -> u64 {
        self.truncated
    }

    /// Counts drops the kernel recorded on this socket (`SO_MEMINFO`) that
    /// no `ENOBUFS` has reported yet: while the receive queue stays full,
    /// later drops raise no new error. Call it after draining the queue so
    /// that received + [`NlSocket::lost`] = sent. Returns the newly found.
    pub fn sync_lost(&mut self) -> u64 {
        let Some(drops) = self.meminfo_drops() else {
            return 0;
        };
        let new = drops.saturating_sub(self.drops_seen);
        self.drops_seen = drops;
        self.lost += new;
        if new > 0 {
            debug!(
                "unit {}: {new} more messages lost, {} in total",
                self.unit, self.lost
            );
        }
        new
    }

    /// True when the kernel gives this socket's drop counter
    /// (`SO_MEMINFO`, Linux 4.12+; `getsockopt` fails with `ENOPROTOOPT`
    /// before): then [`NlSocket::lost`] is exact after
    /// [`NlSocket::sync_lost`]. Without it each `ENOBUFS` counts one loss,
    /// a lower bound; broadcast sequence numbers give the rest
    /// ([`crate::seqgap::SeqGaps`]).
    pub fn has_drop_counter(&self) -> bool {
        self.meminfo_drops().is_some()
    }

    /// Behaves from now on as on a kernel without `SO_MEMINFO` (before
    /// 4.12): for testing the loss accounting of old kernels on new ones.
    pub fn ignore_drop_counter(&mut self) {
        self.use_drop_counter = false;
    }

    /// Joins multicast `group` (`NETLINK_ADD_MEMBERSHIP`), asking for the
    /// broadcasts it misses to be reported to their sender
    /// (`NETLINK_BROADCAST_ERROR`).
    pub fn join_group(&self, group: u32) -> Result<(), Error> {
        // So that the module learns of the broadcasts this socket misses
        // (its broadcast_lost counter); no effect on what it receives.
        setsockopt(&self.fd, BroadcastError, &true)
            .map_err(|e| Error::from_errno("NETLINK_BROADCAST_ERROR", e))?;
        setsockopt(&self.fd, AddMembership, &group)
            .map_err(|e| Error::from_errno("NETLINK_ADD_MEMBERSHIP", e))?;
        debug!(
            "unit {}: port {} joined group {group}",
            self.unit, self.port
        );
        Ok(())
    }

    /// Leaves multicast `group` (`NETLINK_DROP_MEMBERSHIP`). Broadcasts
    /// already queued stay in the receive queue.
    pub fn leave_group(&self, group: u32) -> Result<(), Error> {
        setsockopt(&self.fd, DropMembership, &group)
            .map_err(|e| Error::from_errno("NETLINK_DROP_MEMBERSHIP", e))?;
        debug!("unit {}: port {} left group {group}", self.unit, self.port);
        Ok(())
    }

    /// Asks for a receive buffer of `bytes` (`SO_RCVBUF`; the kernel
    /// doubles the value for its bookkeeping and caps it at
    /// `net.core.rmem_max`). Returns the size the kernel reports back.
    /// A small buffer overflows sooner: the losses show as [`Recv::Lost`].
    pub fn set_recv_buffer_size(&self, bytes: usize) -> Result<usize, Error> {
        setsockopt(&self.fd, sockopt::RcvBuf, &bytes)
            .map_err(|e| Error::from_errno("SO_RCVBUF", e))?;
        nix::sys::socket::getsockopt(&self.fd, sockopt::RcvBuf)
            .map_err(|e| Error::from_errno("SO_RCVBUF", e))
    }

    /// Sets `NETLINK_NO_ENOBUFS`: when the receive queue overflows, the
    /// kernel no longer reports it with `ENOBUFS`, so [`Recv::Lost`] never
    /// comes. For listeners that do not care about losses; nlchan's own
    /// loss accounting needs it off (the default).
    pub fn set_no_enobufs(&self, on: bool) -> Result<(), Error> {
        setsockopt(&self.fd, NoEnobufs, &on).map_err(|e| Error::from_errno("NETLINK_NO_ENOBUFS", e))
    }

    /// Makes receiving non-blocking (`O_NONBLOCK`): with nothing queued,
    /// [`NlSocket::recv`] and [`NlSocket::recv_many`] return
    /// [`Error::WouldBlock`] at once. Poll the fd ([`AsFd`]) for readability.
    pub fn set_nonblocking(&mut self, on: bool) -> Result<(), Error> {
        sys::set_nonblocking(self.fd.as_fd(), on).map_err(|e| Error::from_errno("fcntl", e))?;
        self.nonblocking = on;
        Ok(())
    }

    /// Maps `EAGAIN` of a receive: the timeout, or nothing yet on a
    /// non-blocking socket.
    fn eagain(&self) -> Error {
        // Without SO_RCVTIMEO, EAGAIN means O_NONBLOCK, also when the
        // caller set it on the fd itself.
        if self.nonblocking || !matches!(self.rcvtimeo, Some(Some(_))) {
            Error::WouldBlock
        } else {
            Error::Timeout
        }
    }

    /// Sets `SO_RCVTIMEO`: [`NlSocket::recv`] gives up with
    /// [`Error::Timeout`] after `timeout`; `None` waits forever.
    pub fn set_recv_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        if self.rcvtimeo == Some(timeout) {
            return Ok(());
        }
        // A zero timeval means "forever", so round tiny timeouts up to 1 us.
        let tv = match timeout {
            None => TimeVal::new(0, 0),
            Some(t) => TimeVal::new(
                t.as_secs().try_into().unwrap_or(libc::time_t::MAX),
                // Below 1_000_000, so it fits every suseconds_t.
                t.subsec_micros().max(u32::from(t.as_secs() == 0)) as libc::suseconds_t,
            ),
        };
        setsockopt(&self.fd, sockopt::ReceiveTimeout, &tv)
            .map_err(|e| Error::from_errno("SO_RCVTIMEO", e))?;
        self.rcvtimeo = Some(timeout);
        Ok(())
    }

    /// Sends one datagram to the kernel (`sendto` port 0).
    pub fn send(&self, datagram: &[u8]) -> Result<(), Error> {
        let sent = sendto(
            self.fd.as_raw_fd(),
            datagram,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )
        .map_err(|e| Error::from_errno("sendto", e))?;
        debug!("unit {}: port {} sent {sent} bytes", self.unit, self.port);
        if sent == datagram.len() {
            Ok(())
        } else {
            Err(Error::Io {
                op: "sendto (short write)",
                errno: Errno::EMSGSIZE,
            })
        }
    }

    /// Receives one datagram from the kernel into `buf`.
    ///
    /// Datagrams from other senders are dropped and counted; `ENOBUFS` is
    /// counted and returned as [`Recv::Lost`]; the receive timeout gives
    /// [`Error::Timeout`]; a signal gives [`Error::Interrupted`] (never
    /// retried here); a datagram larger than `buf` gives
    /// [`Error::Truncated`].
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<Recv, Error> {
        loop {
            let got = match sys::recvfrom(self.fd.as_fd(), buf, false) {
                Ok(got) => got,
                Err(Errno::EINTR) => return Err(Error::Interrupted),
                Err(Errno::EAGAIN) => return Err(self.eagain()),
                Err(Errno::ENOBUFS) => return Ok(Recv::Lost(self.count_lost())),
                Err(e) => return Err(Error::from_errno("recvfrom", e)),
            };
            let len = got.len;
            if got.sender != Some(0) {
                self.foreign += 1;
                debug!(
                    "dropped {len} bytes from port {:?}, not the kernel",
                    got.sender
                );
                continue;
            }
            if got.truncated {
                self.truncated += 1;
                return Err(Error::Truncated {
                    len,
                    capacity: buf.len(),
                });
            }
            debug!(
                "unit {}: port {} received {len} bytes",
                self.unit, self.port
            );
            return Ok(Recv::Datagram(len));
        }
    }

    /// [`NlSocket::recv`] with a deadline (`None`: wait forever).
    pub fn recv_until(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> Result<Recv, Error> {
        let timeout = match deadline {
            None => None,
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Err(Error::Timeout),
            },
        };
        self.set_recv_timeout(timeout)?;
        self.recv(buf)
    }

    /// Receives up to `bufs.len()` (at most 16) datagrams in one
    /// `recvmmsg` call: it waits for the first (up to the receive timeout)
    /// and takes what else is queued without waiting. `slots[i]` tells what
    /// `bufs[i]` holds, each datagram on its own ([`Slot`]): one that is
    /// truncated or foreign is counted and marked, the others are kept.
    /// `ENOBUFS`, `EINTR` and the timeout are handled as in
    /// [`NlSocket::recv`].
    pub fn recv_many<const N: usize>(
        &mut self,
        bufs: &mut [[u8; N]],
        slots: &mut [Slot],
    ) -> Result<RecvMany, Error> {
        plant!("batch");
        let mut got = [sys::Received {
            len: 0,
            sender: None,
            truncated: false,
        }; sys::RECVMMSG_MAX];
        let count = bufs.len().min(slots.len()).min(sys::RECVMMSG_MAX);
        let n = match sys::recvmmsg(self.fd.as_fd(), &mut bufs[..count], &mut got, false) {
            Ok(n) => n,
            Err(Errno::EINTR) => return Err(Error::Interrupted),
            Err(Errno::EAGAIN) => return Err(self.eagain()),
            Err(Errno::ENOBUFS) => return Ok(RecvMany::Lost(self.count_lost())),
            Err(e) => return Err(Error::from_errno("recvmmsg", e)),
        };
        for (slot, d) in slots.iter_mut().zip(&got[..n]) {
            *slot = if d.sender != Some(0) {
                self.foreign += 1;
                debug!("dropped {} bytes from port {:?}", d.len, d.sender);
                Slot::Foreign
            } else if d.truncated {
                self.truncated += 1;
                debug!("datagram of {} bytes truncated to {N}", d.len);
                Slot::Truncated { len: d.len }
            } else {
                Slot::Datagram(d.len)
            };
        }
        for slot in &mut slots[n..count] {
            *slot = Slot::Empty;
        }
        Ok(RecvMany::Datagrams(n))
    }

    /// The socket's drop counter (`SO_MEMINFO`), or `None` when the kernel
    /// (or an emulator such as qemu-user) does not give it in full.
    fn meminfo_drops(&self) -> Option<u64> {
        if !self.use_drop_counter {
            return None;
        }
        sys::meminfo_drops(self.fd.as_fd()).map(u64::from)
    }

    /// Counts messages lost on `ENOBUFS`: the growth of the socket's drop
    /// counter (`SO_MEMINFO`) when the kernel has it, else at least one.
    fn count_lost(&mut self) -> u64 {
        plant!("lost");
        // Exact when the kernel has SO_MEMINFO (drops already counted by
        // sync_lost are not counted again); else at least one.
        let lost = match self.meminfo_drops() {
            Some(drops) => {
                let n = drops.saturating_sub(self.drops_seen);
                self.drops_seen = drops;
                n
            }
            None => 1,
        };
        self.lost += lost;
        debug!(
            "unit {}: {lost} messages lost (receive queue full), {} in total",
            self.unit, self.lost
        );
        lost
    }
}

impl AsFd for NlSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for NlSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
