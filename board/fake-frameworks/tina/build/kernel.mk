# SPDX-License-Identifier: MIT OR Apache-2.0
# Stand-in for Tina's build/kernel.mk (see ../../README.md): like upstream's
# of OpenWrt 15.05, it defines LINUX_KARCH and KERNEL_CROSS but neither
# KERNEL_MAKE_FLAGS nor KERNEL_MAKEOPTS (build/kernel-defaults.mk has the
# latter, for the kernel's own build) nor PKG_EXTMOD_SUBDIRS. Tina's own
# packages (package/kernel/gpio-button-hotplug) pass ARCH="$(LINUX_KARCH)"
# CROSS_COMPILE="$(TARGET_CROSS)" to kbuild themselves.
include $(TOPDIR)/../kernelpackage.mk

# As the real one: ARCH is user space's (aarch64), the kernel's differs.
LINUX_KARCH := $(if $(filter aarch64 aarch64_be,$(ARCH)),arm64,$(if $(filter riscv64,$(ARCH)),riscv,$(ARCH)))
KERNEL_CROSS ?= $(TARGET_CROSS)
