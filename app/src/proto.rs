// SPDX-License-Identifier: MIT OR Apache-2.0
//! Protocol constants, generated from the kernel module's uapi header
//! `kmod/include/uapi/linux/nlchan.h` (the single source of truth) and
//! committed as `proto/generated.rs`; `tests/proto_generated.rs` fails when
//! they drift from the header.
//!
//! Each `#define NLCHAN_<NAME>` of the header is `nlchan::proto::<NAME>` here;
//! [`DEFINES`] lists them all by their C names. `tests/uapi_header.rs`
//! checks both against a C program compiled with the header.

#![forbid(unsafe_code)]

/// The value of one `#define` of the uapi header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Define {
    /// An integer literal (decimal or hex in the header).
    Int(u64),
    /// A string literal, without its quotes.
    Str(&'static str),
}

mod generated;

pub use generated::*;
