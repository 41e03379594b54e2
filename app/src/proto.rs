//! Protocol constants, generated at build time from the kernel module's uapi
//! header `kmod/include/uapi/linux/nlchan.h` (the single source of truth).
//!
//! Each `#define NLCHAN_<NAME>` of the header is `nlchan::proto::<NAME>` here;
//! [`DEFINES`] lists them all by their C names. `tests/uapi_header.rs`
//! checks both against a C program compiled with the header.

/// The value of one `#define` of the uapi header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Define {
    /// An integer literal (decimal or hex in the header).
    Int(u64),
    /// A string literal, without its quotes.
    Str(&'static str),
}

include!(concat!(env!("OUT_DIR"), "/proto.rs"));
