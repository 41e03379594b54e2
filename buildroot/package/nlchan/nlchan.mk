################################################################################
#
# nlchan
#
################################################################################

# The external tree lives in the nlchan checkout: build from the checkout,
# without what the checkout's own builds left there (everything its
# .gitignore files name, but vendor/) and without its .cargo/config.toml
# (static linking and host linkers are for the project's own builds, not
# for a Buildroot image).
NLCHAN_VERSION = $(NLCHAN_PROJECT_VERSION)
NLCHAN_SITE = $(BR2_EXTERNAL_NLCHAN_PATH)/..
NLCHAN_SITE_METHOD = local
NLCHAN_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--include=/vendor/*** --exclude=/.cargo --filter=':- .gitignore'
NLCHAN_LICENSE = MIT or Apache-2.0
NLCHAN_LICENSE_FILES = LICENSES/MIT.txt LICENSES/Apache-2.0.txt
NLCHAN_SUBDIR = app

# pkg-cargo vendors the crates when it downloads a package, and a local
# package is never downloaded: the checkout carries them in vendor/ (made
# once with `cargo vendor --locked`), and cargo, still --offline, is
# pointed there.
NLCHAN_CARGO_BUILD_OPTS = \
	--config 'source.crates-io.replace-with="nlchan-vendored"' \
	--config 'source.nlchan-vendored.directory="$(@D)/vendor"'

define NLCHAN_CHECK_VENDORED_CRATES
	@test -d $(@D)/vendor || { \
		echo "nlchan: $(NLCHAN_SITE)/vendor is missing: run" >&2; \
		echo "  cargo vendor --locked" >&2; \
		echo "in the nlchan checkout once (it needs crates.io)" >&2; \
		exit 1; }
endef
NLCHAN_POST_RSYNC_HOOKS += NLCHAN_CHECK_VENDORED_CRATES

NLCHAN_BIN_DIR = $(@D)/target/$(RUSTC_TARGET_NAME)/$(if $(BR2_ENABLE_DEBUG),debug,release)

# Install through the project's recipes, as every image does.
define NLCHAN_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/app NLCHAN_BIN=$(NLCHAN_BIN_DIR)/nlchan \
		DESTDIR=$(TARGET_DIR) install
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/board/rootfs INIT=none \
		DESTDIR=$(TARGET_DIR) install
endef

# The test tools: nlchan-alloc-check (cargo builds it beside nlchan), the
# C helpers and the test modules, built against the kernel and nlchan-kmod's
# Module.symvers (nlchan-contexts calls nlchan_broadcast()).
ifeq ($(BR2_PACKAGE_NLCHAN_TESTS),y)
NLCHAN_DEPENDENCIES += linux nlchan-kmod

define NLCHAN_BUILD_TESTS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/board/target-tests KDIR=$(LINUX_DIR) \
		ARCH=$(KERNEL_ARCH) CROSS_COMPILE=$(TARGET_CROSS) \
		NLCHAN_SYMVERS=$(NLCHAN_KMOD_DIR)/kmod/Module.symvers test-modules
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/board/target-tests \
		CROSS_COMPILE=$(TARGET_CROSS) test-programs
endef
NLCHAN_POST_BUILD_HOOKS += NLCHAN_BUILD_TESTS

define NLCHAN_INSTALL_TESTS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/app NLCHAN_BIN=$(NLCHAN_BIN_DIR)/nlchan \
		DESTDIR=$(TARGET_DIR) install-tests
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/board/target-tests \
		CROSS_COMPILE=$(TARGET_CROSS) DESTDIR=$(TARGET_DIR) install-tests
endef
NLCHAN_POST_INSTALL_TARGET_HOOKS += NLCHAN_INSTALL_TESTS
endif

define NLCHAN_INSTALL_INIT_SYSV
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/board/rootfs INIT=sysv \
		DESTDIR=$(TARGET_DIR) install-init
endef

$(eval $(cargo-package))
