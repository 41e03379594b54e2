// SPDX-License-Identifier: MIT OR Apache-2.0
//! `nlchan` command: see `nlchan --help` and the library's `nlchan::cli` module.
//!
//! The C `main` is the program's own (`no_main`): std's start-up before
//! `fn main` installs a stack-overflow handler whose set-up reads
//! `/proc/self/maps` (through `pthread_getattr_np`) and maps an alternate
//! signal stack, about a sixth of the whole process's time for a one-shot
//! `nlchan send` on the emulated board. What of it the program relies on is
//! done here instead: SIGPIPE ignored (a closed pipe is an `EPIPE` error,
//! which the command turns into a quiet exit 0), fds 0 to 2 opened on
//! `/dev/null` when closed (so a socket never lands on them), stdout
//! flushed at exit. The arguments come from `argv` itself: std fills its
//! own copy without `fn main` only on glibc, and the board's build may be
//! musl. (The unit test build keeps the harness's `main`.)

#![cfg_attr(not(test), no_main)]
// `unsafe` only for system calls, each with its reason: the C `main`
// below (the signal handlers are the library's, `nlchan::cli`).
#![deny(unsafe_code)]

#[cfg(not(test))]
#[allow(unsafe_code)]
mod start {
    use std::ffi::{CStr, OsStr, OsString};
    use std::io::{self, Write};
    use std::os::unix::ffi::OsStrExt;

    use nix::libc;

    use nlchan::cli;

    /// Opens `/dev/null` on each of fds 0, 1 and 2 that is closed, as std's
    /// start-up does.
    fn sanitize_std_fds() {
        let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        });
        // SAFETY: `fds` is a live array of 3 pollfd; a zero timeout never
        // blocks.
        if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
            return;
        }
        for p in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
            // SAFETY: a NUL-terminated path; the lowest free fd is the
            // closed one (they are opened in order), which is what we want.
            let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if fd != p.fd {
                // SAFETY: abort() takes nothing and does not return.
                unsafe { libc::abort() };
            }
        }
    }

    /// The arguments after the program name.
    ///
    /// # Safety
    /// `argv` must hold `argc` valid NUL-terminated strings, as the C
    /// run-time gives `main`.
    unsafe fn args(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<OsString> {
        let argc = usize::try_from(argc).unwrap_or(0);
        (1..argc)
            .map(|i| {
                // SAFETY: i < argc, and each argv[i] is a C string (caller).
                let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
                OsStr::from_bytes(arg.to_bytes()).to_owned()
            })
            .collect()
    }

    #[no_mangle]
    extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
        sanitize_std_fds();
        // SAFETY: setting a signal's disposition to SIG_IGN touches no
        // memory of ours.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        // With RUST_LOG unset env_logger would show errors only, and the
        // library logs none: skip its set-up.
        if std::env::var_os("RUST_LOG").is_some() {
            env_logger::init();
        }
        // SAFETY: the C run-time's argc and argv.
        let args = unsafe { args(argc, argv) };
        let status = match cli::run(&args, &mut io::stdout(), &mut io::stderr(), &cli::NoProbe) {
            Ok(()) => 0,
            Err(e) => {
                cli::report(&e, &mut io::stderr());
                libc::c_int::from(e.exit_code())
            }
        };
        let _ = io::stdout().flush();
        status
    }
}
