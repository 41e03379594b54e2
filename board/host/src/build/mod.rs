// SPDX-License-Identifier: MIT OR Apache-2.0
//! Building what boots, for the board's architecture (`arch`): the kernel from Debian's source (`kernel`), the
//! device tree (`devicetree`), busybox from Debian's source (`busybox`), the
//! musl sysroot the app links with (`musl`), the initramfs (`cpio`), and
//! the image with the module and the app (`image`); checks of a built
//! binary (`elf`); the checks' PyPI tools (`pytools`); which warnings of a
//! module build are the module's own (`warnings`). Each is built in the
//! cache when a task first needs it.

pub mod arch;
pub mod busybox;
pub mod cpio;
pub mod devicetree;
pub mod elf;
pub mod image;
pub mod kernel;
pub mod musl;
pub mod pytools;
pub mod warnings;
