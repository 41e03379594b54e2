################################################################################
#
# nlchan-kmod
#
################################################################################

# The external tree lives in the nlchan checkout: build from the checkout.
NLCHAN_KMOD_VERSION = 0.1.0
NLCHAN_KMOD_SITE = $(BR2_EXTERNAL_NLCHAN_PATH)/..
NLCHAN_KMOD_SITE_METHOD = local
NLCHAN_KMOD_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude=/target --exclude=/vendor
NLCHAN_KMOD_LICENSE = GPL-2.0
NLCHAN_KMOD_MODULE_SUBDIRS = kmod

# kernel-module builds kmod/ and runs kbuild's modules_install, which puts
# nlchan.ko in the same place (/lib/modules/<release>/extra/); install
# through the project's recipe, as every image does, for the rest.
define NLCHAN_KMOD_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)/kmod KDIR=$(LINUX_DIR) \
		DESTDIR=$(TARGET_DIR) install
endef

$(eval $(kernel-module))
$(eval $(generic-package))
