# SPDX-License-Identifier: MIT OR Apache-2.0
# Stand-in for OpenWrt's include/package.mk (see ../../README.md).
#   fake-all: Build/Prepare, Build/Compile and its Hooks/Compile/Post,
#   Build/Install, then Package/<name>/install of every package into
#   $(FAKE_OUT)/<name>, Build/InstallDev into $(FAKE_OUT)/dev. kbuild is
#   the stand-in of ../../linux (LINUX_DIR), the app comes from
#   NLCHAN_PREBUILT_BIN or from the stand-in of rust-package.mk.
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
PKG_INSTALL_DIR ?= $(PKG_BUILD_DIR)/ipkg-install
# Without PKG_BUILD_PARALLEL a package builds with -j1 (no jobserver).
PKG_JOBS = $(if $(PKG_BUILD_PARALLEL),--jobserver-auth=fake,-j1)
FAKE_PACKAGES :=

# A package built by rust-package.mk (which defines RUST_ARCH_DEPENDS)
# must depend on it, or the menu offers it where Rust cannot build.
define BuildPackage
  FAKE_PACKAGES += $(1)
  $(eval DEPENDS:=)
  $(eval $(call Package/$(1)))
  $(if $(RUST_ARCH_DEPENDS),$(if $(filter kmod-%,$(1)),,$(if $(findstring $(RUST_ARCH_DEPENDS),$(DEPENDS)),, \
    $(error $(1): built with rust-package.mk, but its DEPENDS lacks $$(RUST_ARCH_DEPENDS): \
      the menu would offer it on architectures Rust does not support))))
endef

.PHONY: fake-all
fake-all:
	rm -rf $(PKG_BUILD_DIR) $(FAKE_OUT)
	$(Build/Prepare)
	$(Build/Compile)
	$(foreach hook,$(Hooks/Compile/Post),$(call $(hook))$(newline))
	$(Build/Install)
	$(foreach p,$(FAKE_PACKAGES),mkdir -p $(FAKE_OUT)/$(p)$(newline)$(call Package/$(p)/install,$(FAKE_OUT)/$(p))$(newline))
	mkdir -p $(FAKE_OUT)/dev
	$(call Build/InstallDev,$(FAKE_OUT)/dev)
