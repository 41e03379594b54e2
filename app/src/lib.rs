//! `nlchan`: user-space side of the nlchan kernel<->user netlink channel.
//!
//! The library talks the nlchan wire protocol (see the kernel module's uapi
//! header, from which [`proto`] is generated) without heap allocation on the
//! message path: payloads are fixed-capacity [`Payload`]s, messages are
//! encoded into and decoded from caller-owned buffers, errors are `Copy`.
//!
//! ```no_run
//! use std::time::Duration;
//! use nlchan::{proto, NlSocket, Payload};
//!
//! let mut sock = NlSocket::open(proto::UNIT_DEFAULT)?;
//! let reply = sock.request(proto::MSG_ECHO, &Payload::new(b"ping")?, Duration::from_secs(2))?;
//! assert_eq!(reply.as_bytes(), b"ping");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod alloc_count;
pub mod cli;
pub mod codec;
pub mod escape;
pub mod ping;
pub mod proto;
pub mod socket;
pub mod sysfs;

pub use codec::{Batch, Message, Messages, Payload, Received};
pub use escape::Escaped;
pub use socket::{NlSocket, Recv, RecvMany};
pub use sysfs::Sysfs;
