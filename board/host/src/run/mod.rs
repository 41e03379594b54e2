// SPDX-License-Identifier: MIT OR Apache-2.0
//! Running things on the host: commands and steps (`sh`), the checkout's
//! paths, the cache and what board/bootstrap.sh unpacked there
//! (`project`).

pub mod project;
pub mod sh;
