################################################################################
#
# nlchan-kmod
#
################################################################################

# The external tree lives in the nlchan checkout: build from the checkout,
# without what the checkout's own builds left there (everything its
# .gitignore files name: kbuild output, cargo targets, vendor/).
NLCHAN_KMOD_VERSION = $(NLCHAN_PROJECT_VERSION)
NLCHAN_KMOD_SITE = $(BR2_EXTERNAL_NLCHAN_PATH)/..
NLCHAN_KMOD_SITE_METHOD = local
NLCHAN_KMOD_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --filter=':- .gitignore'
NLCHAN_KMOD_LICENSE = GPL-2.0-only, GPL-2.0-only WITH Linux-syscall-note (uapi header)
NLCHAN_KMOD_LICENSE_FILES = LICENSES/GPL-2.0-only.txt LICENSES/Linux-syscall-note.txt
NLCHAN_KMOD_MODULE_SUBDIRS = kmod
NLCHAN_KMOD_INSTALL_STAGING = YES

# kernel-module builds kmod/ and installs nlchan.ko with kbuild's
# modules_install (in extra/, or updates/ from Linux 6.3): no copy of our
# own. The uapi header is for packages built against the module, so it
# goes to staging (target-finalize drops /usr/include from the target).
define NLCHAN_KMOD_INSTALL_STAGING_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/kmod DESTDIR=$(STAGING_DIR) \
		install-headers
endef

$(eval $(kernel-module))
$(eval $(generic-package))
