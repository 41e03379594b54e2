// SPDX-License-Identifier: MIT OR Apache-2.0
//! One module per `cargo board` command. Tasks use the layers below them
//! (run, build, device, report), never each other, except `suite` (the
//! `test` command), which runs them all, and `imports` and `sizes`, the
//! import-graph and size checks it runs.

pub mod bench;
pub mod buildroot;
pub mod cross;
pub mod fuzz;
pub mod imports;
pub mod matrix;
pub mod packaging;
pub mod sizes;
pub mod smoke;
pub mod stress;
pub mod suite;
pub mod vendor;
