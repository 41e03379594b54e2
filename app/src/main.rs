//! `nlchan` command: see `nlchan --help` and [`nlchan::cli`].
//!
//! The C `main` is the program's own (`no_main`): std's start-up before
//! `fn main` installs a stack-overflow handler whose set-up reads
//! `/proc/self/maps` (through `pthread_getattr_np`) and maps an alternate
//! signal stack, about a sixth of the whole process's time for a one-shot
//! `nlchan send` on the emulated board. What of it the program relies on is
//! done here instead: SIGPIPE ignored (a closed pipe is an `EPIPE` error,
//! not a silent death), fds 0 to 2 opened on `/dev/null` when closed (so a
//! socket never lands on them), stdout flushed at exit. Arguments come from
//! std's own `.init_array` hook on Linux, as with `fn main`. (The unit
//! test build keeps the harness's `main`.)

#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
use std::ffi::OsString;
#[cfg(not(test))]
use std::io::{self, Write};

/// Opens `/dev/null` on each of fds 0, 1 and 2 that is closed, as std's
/// start-up does.
#[cfg(not(test))]
fn sanitize_std_fds() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a live array of 3 pollfd; a zero timeout never blocks.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for p in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
        // SAFETY: a NUL-terminated path; the lowest free fd is the closed
        // one (they are opened in order), which is what we want.
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        if fd != p.fd {
            // SAFETY: abort() takes nothing and does not return.
            unsafe { libc::abort() };
        }
    }
}

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    sanitize_std_fds();
    // SAFETY: setting a signal's disposition to SIG_IGN touches no memory
    // of ours.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    // With RUST_LOG unset env_logger would show errors only, and the
    // library logs none: skip its set-up.
    if std::env::var_os("RUST_LOG").is_some() {
        env_logger::init();
    }
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let status = match nlchan::cli::run(&args, &mut io::stdout(), &mut io::stderr()) {
        Ok(()) => 0,
        Err(e) => {
            nlchan::cli::report(&e, &mut io::stderr());
            libc::c_int::from(e.exit_code())
        }
    };
    let _ = io::stdout().flush();
    status
}
