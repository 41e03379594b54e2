// SPDX-License-Identifier: MIT OR Apache-2.0
//! Talking to a target: the emulated board (`qemu`), a serial console,
//! emulated or real (`console`), the board's shell over it (`shell`), and
//! the on-target checks every task runs through that shell (`checks`) and
//! the stress suite's runner (`stress`).

pub mod checks;
pub mod console;
pub mod qemu;
pub mod shell;
pub mod stress;
