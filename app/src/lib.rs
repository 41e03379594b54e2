// SPDX-License-Identifier: MIT OR Apache-2.0
//! `nlchan`: user-space side of the nlchan kernel<->user netlink channel.
//!
//! The library talks the nlchan wire protocol (see the kernel module's uapi
//! header, from which [`proto`] is generated) without heap allocation on the
//! message path: payloads are fixed-capacity [`Payload`]s, messages are
//! encoded into and decoded from caller-owned buffers, errors are `Copy`.
//!
//! The module serves two transports: its classic netlink unit (protocol v1,
//! [`codec`]) and its generic netlink family (v2, [`genl`]). [`transport`]
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
#![deny(missing_docs)]
// Only `sys` (one syscall per block) may use `unsafe`; every other module
// is `#![forbid(unsafe_code)]`.
#![deny(unsafe_code)]

pub mod codec;
pub mod escape;
pub mod genl;
#[cfg(nlchan_plant_alloc)]
#[doc(hidden)]
pub mod plant;
pub mod proto;
pub mod seqgap;
pub mod socket;
mod sys;
pub mod sysfs;
pub mod transport;

pub use codec::{Batch, Frame, Frames, Message, Messages, Payload, Received};
pub use escape::Escaped;
pub use genl::Family;
pub use seqgap::SeqGaps;
pub use socket::{NlSocket, Recv, RecvMany, Slot};
pub use sysfs::{ModuleUnit, Sysfs};
pub use transport::{Endpoint, Request, Transport};
