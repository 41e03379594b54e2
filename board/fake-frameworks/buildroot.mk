# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Stand-in for the parts of Buildroot nlchan's packages use (see README.md).
#   make -f buildroot.mk BR2_EXTERNAL_NLCHAN_PATH=<checkout>/buildroot \
#        BUILD_DIR=... TARGET_DIR=... STAGING_DIR=... LINUX_DIR=... \
#        LINUX_MAKE_FLAGS=... RUSTC_TARGET_NAME=... \
#        FAKE_APP_BIN=<built app> [BR2_PACKAGE_NLCHAN_TESTS=y] install
# The packages' own build steps are not run: BUILD_DIR/<pkg> is a copy of
# the checkout with the module already built, and FAKE_APP_BIN's folder
# (nlchan, nlchan-alloc-check) stands for cargo's output. Their post-build
# hooks are run.

BR2_INIT_BUSYBOX = y
TARGET_CROSS ?= arm-linux-gnueabihf-
KERNEL_ARCH ?= arm
TARGET_MAKE_ENV = PATH=$(PATH)
MAKE := $(MAKE)
define sep


endef

UPPERCASE = $(shell echo $(1) | tr a-z- A-Z_)
pkgdir = $(dir $(lastword $(MAKEFILE_LIST)))
pkgname = $(lastword $(subst /, ,$(pkgdir)))

# $(1) package name, $(2) its variable prefix.
define fake-generic-package
$(2)_DIR = $(BUILD_DIR)/$(1)
$(BUILD_DIR)/$(1)/.stamp_rsynced:
	rm -rf $$(@D)
	mkdir -p $$(@D)
	cp -a $$($(2)_SITE)/. $$(@D)
	$$(foreach hook,$$($(2)_POST_RSYNC_HOOKS),$$(call $$(hook))$$(sep))
	touch $$@
$(BUILD_DIR)/$(1)/.stamp_built: $(BUILD_DIR)/$(1)/.stamp_rsynced
	$$($(2)_FAKE_BUILD)
	$$(foreach hook,$$($(2)_POST_BUILD_HOOKS),$$(call $$(hook))$$(sep))
	touch $$@
# Staging first, only for a package with <PKG>_INSTALL_STAGING = YES.
$(BUILD_DIR)/$(1)/.stamp_staging_installed: $(BUILD_DIR)/$(1)/.stamp_built
	$$(if $$(filter YES,$$($(2)_INSTALL_STAGING)),+$$($(2)_INSTALL_STAGING_CMDS))
	touch $$@
$(BUILD_DIR)/$(1)/.stamp_target_installed: $(BUILD_DIR)/$(1)/.stamp_staging_installed
	$$(foreach hook,$$($(2)_PRE_INSTALL_TARGET_HOOKS),$$(call $$(hook))$$(sep))
	+$$($(2)_INSTALL_TARGET_CMDS)
	$$(if $$(BR2_INIT_SYSV)$$(BR2_INIT_BUSYBOX),$$($(2)_INSTALL_INIT_SYSV))
	$$(foreach hook,$$($(2)_POST_INSTALL_TARGET_HOOKS),$$(call $$(hook))$$(sep))
	touch $$@
install: $(BUILD_DIR)/$(1)/.stamp_target_installed
endef

# As pkg-kernel-module.mk: kbuild's modules after the build, and its
# modules_install after the install, here as Linux 6.3 and later run it:
# into updates/ (extra/ before), so that a package installing its own copy
# as well ships two.
define fake-kernel-module
$(2)_MODULE_SUBDIRS ?= .
define $(2)_KERNEL_MODULES_BUILD
	$$(foreach d,$$($(2)_MODULE_SUBDIRS), \
		$$(MAKE) -C $$(LINUX_DIR) $$(LINUX_MAKE_FLAGS) \
			$$($(2)_MODULE_MAKE_OPTS) PWD=$$(@D)/$$(d) \
			M=$$(@D)/$$(d) modules$$(sep))
endef
$(2)_POST_BUILD_HOOKS += $(2)_KERNEL_MODULES_BUILD
define $(2)_KERNEL_MODULES_INSTALL
	$$(foreach d,$$($(2)_MODULE_SUBDIRS), \
		$$(MAKE) -C $$(LINUX_DIR) $$(LINUX_MAKE_FLAGS) \
			$$($(2)_MODULE_MAKE_OPTS) PWD=$$(@D)/$$(d) \
			M=$$(@D)/$$(d) INSTALL_MOD_DIR=updates modules_install$$(sep))
endef
$(2)_POST_INSTALL_TARGET_HOOKS += $(2)_KERNEL_MODULES_INSTALL
endef

# cargo-package's build leaves the binary under target/<triple>/release.
define fake-cargo-package
define $(2)_FAKE_BUILD
	install -D -m 0755 $(FAKE_APP_BIN) \
		$$(@D)/target/$(RUSTC_TARGET_NAME)/release/nlchan
	install -D -m 0755 $(dir $(FAKE_APP_BIN))nlchan-alloc-check \
		$$(@D)/target/$(RUSTC_TARGET_NAME)/release/nlchan-alloc-check
endef
$(call fake-generic-package,$(1),$(2))
# pkg-cargo's build command, run on its own (`make ... cargo-build`, with
# CARGO_BUILD_TARGET, CARGO_TARGET_DIR and the target's rustflags in the
# environment): --offline, --locked, the package's CARGO_BUILD_OPTS.
$(BUILD_DIR)/$(1)/.stamp_cargo_built: $(BUILD_DIR)/$(1)/.stamp_rsynced
	cd $$($(2)_DIR)/$$($(2)_SUBDIR) && CARGO_HOME=$(FAKE_CARGO_HOME) \
		$(CARGO) build --offline --release --manifest-path Cargo.toml \
		--locked $$($(2)_CARGO_BUILD_OPTS)
	touch $$@
cargo-build: $(BUILD_DIR)/$(1)/.stamp_cargo_built
endef

kernel-module = $(call fake-kernel-module,$(pkgname),$(call UPPERCASE,$(pkgname)))
generic-package = $(call fake-generic-package,$(pkgname),$(call UPPERCASE,$(pkgname)))
cargo-package = $(call fake-cargo-package,$(pkgname),$(call UPPERCASE,$(pkgname)))

CARGO ?= cargo

.PHONY: install cargo-build target-finalize
install:
cargo-build:

# As Buildroot's target-finalize: headers stay in staging.
target-finalize: install
	rm -rf $(TARGET_DIR)/usr/include

include $(BR2_EXTERNAL_NLCHAN_PATH)/external.mk
