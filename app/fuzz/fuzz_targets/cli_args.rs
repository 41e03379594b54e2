// SPDX-License-Identifier: MIT OR Apache-2.0
//! Any command line (NUL-separated arguments, any bytes): parsing never
//! panics, a rejected one has a message, and every help page renders. The
//! parser is the `nlchan` command's own (`nlchan::cli::args`, feature `cli`).
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;

use nlchan::cli::args;

fuzz_target!(|data: &[u8]| {
    let line: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    match args::parse(&line) {
        Ok((args::Command::Help(Some(name)), _)) => assert!(!args::command_help(name).is_empty()),
        Ok((args::Command::Help(None), _)) => assert!(!args::help().is_empty()),
        Ok(_) => {}
        Err(e) => assert!(!e.0.is_empty()),
    }
});
