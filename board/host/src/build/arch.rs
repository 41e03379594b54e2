// SPDX-License-Identifier: MIT OR Apache-2.0
//! The architectures the emulated boards run, and what builds and boots
//! for each: the kernel's `ARCH` and image, Debian's cross compiler, the
//! QEMU that emulates it, the board's Rust musl target and Debian's musl
//! and busybox packages of that architecture. Every build on the image's
//! path takes these from the board ([`crate::build::kernel::Board`]).

use crate::run::project::{CROSS_COMPILE, MUSL_TARGET};

/// One architecture of the emulated boards.
#[derive(Debug, PartialEq, Eq)]
pub struct Arch {
    /// Short name, in messages and cache folders (`armv7`, `aarch64`).
    pub name: &'static str,
    /// The kernel's `ARCH=`.
    pub kernel_arch: &'static str,
    /// The kernel's bootable image: its make target, found in
    /// `arch/<kernel_arch>/boot/`.
    pub kernel_image: &'static str,
    /// Debian's cross compiler prefix (`CROSS_COMPILE=`): the kernel, the
    /// module, busybox, the C test helpers, the app's linker.
    pub cross_compile: &'static str,
    /// The QEMU system emulator.
    pub qemu_system: &'static str,
    /// The Rust target of the board's binaries (static musl).
    pub musl_target: &'static str,
    /// Debian's architecture (`armhf`, `arm64`): its musl-dev is unpacked
    /// by board/bootstrap.sh into the cache's `<deb_arch>-musl-dev`.
    pub deb_arch: &'static str,
    /// Debian's musl triple, musl-dev's folder under `usr/lib`.
    pub musl_triple: &'static str,
    /// OpenWrt's and Tina's `ARCH` (user space's; their kernel.mk derives
    /// `LINUX_KARCH` from it).
    pub openwrt_arch: &'static str,
}

/// 32-bit ARM (Cortex-A7): the Orange Pi PC and QEMU `virt` with a
/// Cortex-A7.
pub const ARMV7: Arch = Arch {
    name: "armv7",
    kernel_arch: "arm",
    kernel_image: "zImage",
    cross_compile: CROSS_COMPILE,
    qemu_system: "qemu-system-arm",
    musl_target: MUSL_TARGET,
    deb_arch: "armhf",
    musl_triple: "arm-linux-musleabihf",
    openwrt_arch: "arm",
};

/// 64-bit ARM (Cortex-A53): QEMU `virt` with a Cortex-A53.
pub const AARCH64: Arch = Arch {
    name: "aarch64",
    kernel_arch: "arm64",
    kernel_image: "Image",
    cross_compile: "aarch64-linux-gnu-",
    qemu_system: "qemu-system-aarch64",
    musl_target: "aarch64-unknown-linux-musl",
    deb_arch: "arm64",
    musl_triple: "aarch64-linux-musl",
    openwrt_arch: "aarch64",
};

/// Every architecture of the emulated boards.
pub const ARCHS: [&Arch; 2] = [&ARMV7, &AARCH64];

/// The architecture whose board binaries are built for the Rust target
/// `triple`, if any.
pub fn by_musl_target(triple: &str) -> Option<&'static Arch> {
    ARCHS.iter().copied().find(|a| a.musl_target == triple)
}

impl Arch {
    /// `ARCH=<kernel_arch>`.
    pub fn make_arch(&self) -> String {
        format!("ARCH={}", self.kernel_arch)
    }

    /// `CROSS_COMPILE=<cross_compile>`.
    pub fn make_cross(&self) -> String {
        format!("CROSS_COMPILE={}", self.cross_compile)
    }

    /// The image's path below a kernel build folder.
    pub fn image_path(&self) -> String {
        format!("arch/{}/boot/{}", self.kernel_arch, self.kernel_image)
    }

    /// Debian's cross gcc.
    pub fn gcc(&self) -> String {
        format!("{}gcc", self.cross_compile)
    }

    /// The cross gcc's triple (the prefix without its dash), as
    /// board/cross/musl-self-contained.sh takes it.
    pub fn gnu_triple(&self) -> &'static str {
        self.cross_compile.trim_end_matches('-')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_arch_names_its_tools() {
        assert_eq!(ARMV7.image_path(), "arch/arm/boot/zImage");
        assert_eq!(AARCH64.image_path(), "arch/arm64/boot/Image");
        assert_eq!(AARCH64.gnu_triple(), "aarch64-linux-gnu");
        assert_eq!(ARMV7.make_cross(), "CROSS_COMPILE=arm-linux-gnueabihf-");
        assert_eq!(AARCH64.gcc(), "aarch64-linux-gnu-gcc");
        assert_eq!(by_musl_target("aarch64-unknown-linux-musl"), Some(&AARCH64));
        assert_eq!(by_musl_target("armv7-unknown-linux-gnueabihf"), None);
    }
}
