// SPDX-License-Identifier: MIT OR Apache-2.0
//! Planted allocations, compiled only into a test build
//! (`RUSTFLAGS='--cfg nlchan_plant_alloc'`), to show that the
//! zero-allocation proof (`nlchan-alloc-check`) bites: with a path
//! activated, one heap allocation happens each time that path runs, and the
//! check must fail naming it. Normal builds contain none of this: the call
//! sites are `plant!("path")` (lib.rs), which expands to nothing without
//! the cfg.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// The paths an allocation can be planted in, each where its code runs:
/// `request` in [`crate::transport::Transport::request`], `batch` in
/// [`crate::socket::NlSocket::recv_many`] (batched replies, listeners),
/// `lost` where `ENOBUFS` is counted, `listen` and `listen-json` in the
/// command's output lines.
pub const PATHS: [&str; 5] = ["request", "batch", "lost", "listen", "listen-json"];

/// Index into [`PATHS`] plus one; 0: none.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Activates the allocation planted in `path`; false for an unknown path.
pub fn activate(path: &str) -> bool {
    match PATHS.iter().position(|p| *p == path) {
        Some(i) => {
            ACTIVE.store(i + 1, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// Allocates once when `path` is the active one.
#[inline(never)]
pub fn hit(path: &str) {
    let active = ACTIVE.load(Ordering::Relaxed);
    if active != 0 && PATHS[active - 1] == path {
        std::hint::black_box(Box::new(active));
    }
}
