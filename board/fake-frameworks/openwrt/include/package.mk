# SPDX-License-Identifier: MIT OR Apache-2.0
# Stand-in for OpenWrt's include/package.mk (see ../../README.md).
#   fake-all: Build/Prepare, Build/Install, then Package/<name>/install
#   of every package into $(FAKE_OUT)/<name>, Build/InstallDev into
#   $(FAKE_OUT)/dev. Build/Compile is not run (the module is already
#   built in the source, the app is NLCHAN_PREBUILT_BIN).
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
PKG_INSTALL_DIR ?= $(PKG_BUILD_DIR)/ipkg-install
FAKE_PACKAGES :=

define BuildPackage
  FAKE_PACKAGES += $(1)
endef

.PHONY: fake-all
fake-all:
	rm -rf $(PKG_BUILD_DIR) $(FAKE_OUT)
	$(Build/Prepare)
	$(Build/Install)
	$(foreach p,$(FAKE_PACKAGES),mkdir -p $(FAKE_OUT)/$(p)$(newline)$(call Package/$(p)/install,$(FAKE_OUT)/$(p))$(newline))
	mkdir -p $(FAKE_OUT)/dev
	$(call Build/InstallDev,$(FAKE_OUT)/dev)
