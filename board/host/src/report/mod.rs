// SPDX-License-Identifier: MIT OR Apache-2.0
//! Reading and writing results: KTAP from the board (`ktap`), JUnit XML for
//! CI systems (`junit`).

pub mod junit;
pub mod ktap;
