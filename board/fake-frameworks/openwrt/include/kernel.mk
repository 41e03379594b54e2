# SPDX-License-Identifier: MIT OR Apache-2.0
# Stand-in for OpenWrt's include/kernel.mk (see ../../README.md): the
# flags kbuild gets (KERNEL_MAKE_FLAGS: ARCH, CROSS_COMPILE, the symbols
# other packages published) and, after Build/Compile, the publication of
# the package's own exports from $(PKG_EXTMOD_SUBDIRS)/Module.symvers.
include $(TOPDIR)/../kernelpackage.mk

# As the real one: ARCH is user space's (aarch64), the kernel's differs.
LINUX_KARCH := $(if $(filter aarch64 aarch64_be,$(ARCH)),arm64,$(if $(filter riscv64,$(ARCH)),riscv,$(ARCH)))
KERNEL_CROSS ?= $(TARGET_CROSS)
PKG_SYMVERS_DIR = $(FAKE_WORK)/symvers

KERNEL_MAKE_FLAGS = \
	CROSS_COMPILE="$(KERNEL_CROSS)" \
	ARCH="$(LINUX_KARCH)" \
	KBUILD_EXTRA_SYMBOLS="$(wildcard $(PKG_SYMVERS_DIR)/*.symvers)"

KERNEL_MAKEOPTS = -C $(LINUX_DIR) $(KERNEL_MAKE_FLAGS)

PKG_EXTMOD_SUBDIRS ?= .

# As upstream: the lines of $(PKG_EXTMOD_SUBDIRS)/Module.symvers naming a
# module of this package. Then the stand-in's check: every export kbuild
# wrote below PKG_BUILD_DIR must have been published.
define collect_module_symvers
	rm -f $(PKG_BUILD_DIR)/Module.symvers.tmp; touch $(PKG_BUILD_DIR)/Module.symvers.tmp
	for subdir in $(PKG_EXTMOD_SUBDIRS); do \
		grep -F $(PKG_BUILD_DIR) $(PKG_BUILD_DIR)/$$subdir/Module.symvers >> $(PKG_BUILD_DIR)/Module.symvers.tmp; \
	done; true
	mkdir -p $(PKG_SYMVERS_DIR)
	sort -u $(PKG_BUILD_DIR)/Module.symvers.tmp > $(PKG_SYMVERS_DIR)/$(PKG_NAME).symvers
	find $(PKG_BUILD_DIR) -name Module.symvers -exec grep -hF $(PKG_BUILD_DIR) {} + | \
		sort -u | comm -23 - $(PKG_SYMVERS_DIR)/$(PKG_NAME).symvers >$(FAKE_WORK)/unpublished
	if [ -s $(FAKE_WORK)/unpublished ]; then \
		echo "ERROR: exports kbuild wrote but kernel.mk did not publish (PKG_EXTMOD_SUBDIRS is '$(PKG_EXTMOD_SUBDIRS)'):" >&2; \
		cut -f2,3 $(FAKE_WORK)/unpublished >&2; exit 1; fi
endef

define KernelPackage/hooks
  Hooks/Compile/Post += collect_module_symvers
endef
