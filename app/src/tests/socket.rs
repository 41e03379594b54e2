// SPDX-License-Identifier: MIT OR Apache-2.0
//! The socket on real netlink sockets of the running kernel: binding,
//! unregistered units, the receive timeout, foreign senders, groups; and
//! how its errors read.

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{sendto, MsgFlags, NetlinkAddr};

use crate::error::*;
use crate::netlink::{Header, NLMSG_HDRLEN, NLMSG_NOOP};
use crate::socket::*;

/// NETLINK_ROUTE exists on every Linux kernel and under qemu-user.
const ROUTE: u32 = 0;

#[test]
fn open_binds_a_unique_port() {
    let a = NlSocket::open(ROUTE).unwrap();
    let b = NlSocket::open(ROUTE).unwrap();
    assert_ne!(a.port(), 0);
    assert_ne!(b.port(), 0);
    assert_ne!(a.port(), b.port());
    assert_eq!(a.unit(), ROUTE);
}

#[test]
fn unregistered_unit_is_module_not_loaded() {
    // Units 23..32 are unused by mainline; some may be taken by modules.
    let mut missing = 0;
    for unit in 23..32 {
        match NlSocket::open(unit) {
            Ok(_) => {}
            Err(Error::ModuleNotLoaded { unit: u }) => {
                assert_eq!(u, unit);
                missing += 1;
            }
            Err(e) => panic!("unit {unit}: unexpected {e:?}"),
        }
    }
    assert!(missing > 0, "every unit 23..32 is registered");
    assert_eq!(
        NlSocket::open(1 << 31).unwrap_err(),
        Error::ModuleNotLoaded { unit: 1 << 31 }
    );
}

#[test]
fn recv_times_out() {
    let mut s = NlSocket::open(ROUTE).unwrap();
    let mut buf = [0u8; 256];
    let start = Instant::now();
    let deadline = start + Duration::from_millis(150);
    assert_eq!(s.recv_until(&mut buf, Some(deadline)), Err(Error::Timeout));
    assert!(start.elapsed() >= Duration::from_millis(140));
    // An expired deadline fails at once.
    assert_eq!(s.recv_until(&mut buf, Some(start)), Err(Error::Timeout));
}

#[test]
fn datagrams_from_other_ports_are_dropped() {
    let a = NlSocket::open(ROUTE).unwrap();
    let mut b = NlSocket::open(ROUTE).unwrap();
    let mut noop = [0u8; NLMSG_HDRLEN];
    Header {
        len: NLMSG_HDRLEN as u32,
        msg_type: NLMSG_NOOP,
        flags: 0,
        seq: 1,
        pid: 0,
    }
    .emit(&mut noop);
    // Sending to another user port needs CAP_NET_ADMIN on NETLINK_ROUTE.
    match sendto(
        a.as_raw_fd(),
        &noop,
        &NetlinkAddr::new(b.port(), 0),
        MsgFlags::empty(),
    ) {
        Ok(_) => {
            let mut buf = [0u8; 64];
            let deadline = Some(Instant::now() + Duration::from_millis(300));
            assert_eq!(b.recv_until(&mut buf, deadline), Err(Error::Timeout));
            assert_eq!(b.foreign(), 1);
        }
        Err(Errno::EPERM) => assert_eq!(b.foreign(), 0),
        Err(e) => panic!("sendto: {e}"),
    }
}

#[test]
fn join_group_works() {
    // RTNLGRP_LINK is group 1 and open to every user.
    let s = NlSocket::open(ROUTE).unwrap();
    s.join_group(1).unwrap();
}

#[test]
fn errors_display() {
    // The description after the name comes from the C library.
    assert!(Error::Kernel(Errno::EOPNOTSUPP)
        .to_string()
        .starts_with("the kernel answered EOPNOTSUPP: "));
    assert_eq!(
        Error::from_errno("bind", Errno::EACCES),
        Error::PermissionDenied { op: "bind" }
    );
}
