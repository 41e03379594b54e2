// SPDX-License-Identifier: MIT OR Apache-2.0
//! The system calls nix does not wrap for a netlink socket on an arbitrary
//! unit. This is the library's only `unsafe` code: each block is one
//! syscall, with the reason it is sound next to it. Everything else in the
//! crate is `#![forbid(unsafe_code)]`.

#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::libc;

/// `sizeof(struct sockaddr_nl)`, as the kernel expects it.
const ADDR_LEN: libc::socklen_t = core::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;

/// Number of `u32` counters `SO_MEMINFO` returns (`SK_MEMINFO_VARS`).
const SK_MEMINFO_VARS: usize = 9;

/// `SO_MEMINFO` (include/uapi/asm-generic/socket.h), Linux 4.12+.
const SO_MEMINFO: libc::c_int = 55;

/// Most datagrams one [`recvmmsg`] call takes.
pub const RECVMMSG_MAX: usize = 16;

/// `socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol)`. nix's
/// `SockProtocol` names only the kernel's own units, not a driver's.
pub fn netlink_socket(protocol: libc::c_int) -> Result<OwnedFd, Errno> {
    // SAFETY: socket() takes no pointers; the result is checked below.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            protocol,
        )
    };
    if raw < 0 {
        return Err(Errno::last());
    }
    // SAFETY: `raw` is a valid fd that socket() just created and that
    // nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// One received datagram: its real length (it may exceed the buffer, with
/// `MSG_TRUNC`) and the sender's port (`None` without an address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Length of the datagram, even when more than the buffer.
    pub len: usize,
    /// `nl_pid` of the sender (0: the kernel).
    pub sender: Option<u32>,
    /// The datagram did not fit the buffer.
    pub truncated: bool,
}

/// `recvfrom(fd, buf, MSG_TRUNC [| MSG_DONTWAIT])` straight into a
/// `sockaddr_nl`: the shortest path, as a C client has. nix's `recvfrom`
/// cannot return the real length of a truncated datagram.
pub fn recvfrom(fd: BorrowedFd<'_>, buf: &mut [u8], dontwait: bool) -> Result<Received, Errno> {
    // SAFETY: all-zero bytes are a valid sockaddr_nl.
    let mut addr: libc::sockaddr_nl = unsafe { core::mem::zeroed() };
    let mut addr_len = ADDR_LEN;
    let flags = libc::MSG_TRUNC | if dontwait { libc::MSG_DONTWAIT } else { 0 };
    // SAFETY: `buf` and `addr` are live and writable for the lengths
    // given; the kernel writes at most that much.
    let n = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            flags,
            (&mut addr as *mut libc::sockaddr_nl).cast(),
            &mut addr_len,
        )
    };
    let len = usize::try_from(n).map_err(|_| Errno::last())?;
    Ok(Received {
        len,
        sender: (addr_len >= ADDR_LEN).then_some(addr.nl_pid),
        truncated: len > buf.len(),
    })
}

/// `recvmmsg(fd, ..., MSG_WAITFORONE | MSG_TRUNC [| MSG_DONTWAIT])` into
/// `bufs` (at most [`RECVMMSG_MAX`]): waits for the first datagram and
/// takes what else is queued. Fills `out[i]` for each datagram received and
/// returns how many.
pub fn recvmmsg<const N: usize>(
    fd: BorrowedFd<'_>,
    bufs: &mut [[u8; N]],
    out: &mut [Received],
    dontwait: bool,
) -> Result<usize, Errno> {
    let count = bufs.len().min(out.len()).min(RECVMMSG_MAX);
    // SAFETY: all-zero bytes are valid for these plain C structs; every
    // pointer in them is set below before use.
    let mut addrs: [libc::sockaddr_nl; RECVMMSG_MAX] = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    let mut iovs: [libc::iovec; RECVMMSG_MAX] = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; RECVMMSG_MAX] = unsafe { core::mem::zeroed() };
    for i in 0..count {
        iovs[i].iov_base = bufs[i].as_mut_ptr().cast();
        iovs[i].iov_len = N;
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = (&mut addrs[i] as *mut libc::sockaddr_nl).cast();
        h.msg_namelen = ADDR_LEN;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = 1;
    }
    let flags =
        libc::MSG_WAITFORONE | libc::MSG_TRUNC | if dontwait { libc::MSG_DONTWAIT } else { 0 };
    // SAFETY: `hdrs[..count]` point at `count` live iovecs, buffers of N
    // bytes and sockaddr_nl structs, all of which outlive the call.
    let n = unsafe {
        libc::recvmmsg(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            count as libc::c_uint,
            // c_int on glibc, c_uint on musl.
            flags as _,
            core::ptr::null_mut(),
        )
    };
    let got = usize::try_from(n).map_err(|_| Errno::last())?;
    for i in 0..got {
        let len = hdrs[i].msg_len as usize;
        out[i] = Received {
            len,
            sender: (hdrs[i].msg_hdr.msg_namelen >= ADDR_LEN).then_some(addrs[i].nl_pid),
            truncated: len > N || hdrs[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
        };
    }
    Ok(got)
}

/// The socket's drop counter from `getsockopt(SO_MEMINFO)`, or `None`
/// when the kernel (or an emulator such as qemu-user) does not give it in
/// full. nix has no `SO_MEMINFO`.
pub fn meminfo_drops(fd: BorrowedFd<'_>) -> Option<u32> {
    let mut info = [0u32; SK_MEMINFO_VARS];
    let mut len = core::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: `info` and `len` are live and writable; the kernel writes at
    // most `len` bytes and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    let drops = libc::SK_MEMINFO_DROPS as usize;
    if rc != 0 || (len as usize) < (drops + 1) * 4 {
        return None;
    }
    Some(info[drops])
}

/// Sets or clears `O_NONBLOCK` with `fcntl` (nix has it only with its
/// `fs` feature, which would pull in far more than this).
pub fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> Result<(), Errno> {
    // SAFETY: F_GETFL takes no pointer argument.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(Errno::last());
    }
    let flags = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: F_SETFL takes an int argument, no pointer.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}
