// SPDX-License-Identifier: MIT OR Apache-2.0
//! A global allocator that counts allocations, to prove that a stretch of
//! code allocates nothing: install it, read [`allocations`] before and
//! after. `nlchan-alloc-check` (on the board) and `tests/alloc.rs` (host)
//! share this file. The library itself has no `unsafe` beyond its syscalls;
//! this is test tooling.

// A global allocator is an `unsafe` trait; it only forwards to System.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// Forwards to the system allocator, counting `alloc` and `realloc` calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

/// Allocations (and reallocations) made through [`Counting`] so far, in
/// every thread.
pub fn allocations() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, size) }
    }
}
