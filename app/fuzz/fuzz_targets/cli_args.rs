//! Any command line (NUL-separated arguments, any bytes): parsing never
//! panics, and a rejected one is a usage or payload error.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;
use nlchan::cli::{check_args, Kind};

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    if let Err(e) = check_args(&args) {
        assert!(matches!(e.kind, Kind::Usage | Kind::DataErr), "{e:?}");
        assert!(!e.message.is_empty());
    }
});
