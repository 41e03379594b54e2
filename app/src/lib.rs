// SPDX-License-Identifier: MIT OR Apache-2.0
//! `nlchan`: user-space side of the nlchan kernel<->user netlink channel.
//!
//! The library talks the nlchan wire protocol (see the kernel module's uapi
//! header, from which [`proto`] is generated) without heap allocation on the
//! message path: payloads are fixed-capacity [`Payload`]s, messages are
//! encoded into and decoded from caller-owned buffers, errors are `Copy`.
//!
//! The module serves two transports: its classic netlink unit (protocol v1,
//! [`v1`]) and its generic netlink family (v2, [`genl`]). [`transport`]
//! picks one the way the `nlchan` command does, and never a classic unit
//! that the module does not own:
//!
//! ```no_run
//! use std::time::Duration;
//! use nlchan::transport::{self, Preference, Request};
//! use nlchan::{Payload, Sysfs};
//!
//! let timeout = Duration::from_secs(2);
//! let mut t = transport::open(&Sysfs::default(), Preference::default(), timeout)?;
//! let reply = t.request(Request::Echo, &Payload::new(b"ping")?, timeout)?;
//! assert_eq!(reply.as_bytes(), b"ping");
//! println!("echoed over {}", t.endpoint());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The modules, each using only those listed before it:
//! [`proto`] (constants), [`error`], [`netlink`] (framing), [`answer`]
//! (what messages decode to), [`batch`] (the one encoder), [`attr`]
//! (netlink attributes), [`v1`] and [`genl`] (the two protocols),
//! [`nlctrl`] (the family directory), [`messages`] (the dispatcher),
//! [`socket`] (system calls), [`exchange`] (sequence numbers, requests
//! and their answers, family resolution), then, with [`sysfs`], [`transport`]; beside them
//! [`seqgap`] and [`escape`].
#![deny(missing_docs)]
// Only `sys` (one syscall per block) and the command's signal handlers
// (`cli::signals`) may use `unsafe`; every other module is
// `#![forbid(unsafe_code)]`.
#![deny(unsafe_code)]

/// Marks a place where the zero-allocation proof can plant an allocation
/// (`plant!("path")`, see `plant.rs`). Without `--cfg nlchan_plant_alloc`
/// it expands to nothing.
#[cfg(nlchan_plant_alloc)]
macro_rules! plant {
    ($path:literal) => {
        $crate::plant::hit($path)
    };
}
#[cfg(not(nlchan_plant_alloc))]
macro_rules! plant {
    ($path:literal) => {};
}

pub mod answer;
pub mod attr;
pub mod batch;
pub mod error;
pub mod escape;
pub mod exchange;
pub mod genl;
pub mod messages;
pub mod netlink;
pub mod nlctrl;
#[cfg(nlchan_plant_alloc)]
#[doc(hidden)]
pub mod plant;
pub mod proto;
pub mod seqgap;
pub mod socket;
mod sys;
pub mod sysfs;
pub mod transport;
pub mod v1;

/// The `nlchan` command (feature `cli`): the binary, the zero-allocation
/// proof and the fuzz targets run this one copy. Not a stable API.
#[cfg(feature = "cli")]
#[doc(hidden)]
#[allow(
    missing_docs,
    rustdoc::broken_intra_doc_links,
    rustdoc::private_intra_doc_links
)]
pub mod cli;

#[cfg(test)]
mod tests;

pub use answer::{Payload, Received};
pub use batch::Batch;
pub use error::{DecodeError, Error};
pub use escape::Escaped;
pub use exchange::Requests;
pub use messages::Messages;
pub use netlink::{Frame, Frames};
pub use nlctrl::Family;
pub use seqgap::SeqGaps;
pub use socket::{NlSocket, Recv, RecvMany, Slot};
pub use sysfs::{ModuleUnit, Sysfs};
pub use transport::{Endpoint, Request, Transport};
pub use v1::Message;
