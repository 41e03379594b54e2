// SPDX-License-Identifier: MIT OR Apache-2.0
//! Building what boots: the kernel from Debian's source (`kernel`), the
//! device tree (`devicetree`), the initramfs (`cpio`), and the image with
//! the module and the app (`image`); checks of a built binary (`elf`).

pub mod cpio;
pub mod devicetree;
pub mod elf;
pub mod image;
pub mod kernel;
