# SPDX-License-Identifier: MIT OR Apache-2.0
# Stand-in for the top Makefile of a configured kernel build tree, for
# external modules (M=): fails unless ARCH and CROSS_COMPILE are given as
# the kernel was configured (kbuild would otherwise build for the host).
# A folder holding the module the test command built is not rebuilt: its
# Module.symvers and modules.order, which name the module by its path, are
# rewritten as a build in M would have written them. Every
# other call goes to the real tree, FAKE_REAL_LINUX_DIR (the including
# Makefile sets it and FAKE_ARCH).
.PHONY: modules modules_install fake-check

fake-check:
	$(if $(filter $(FAKE_ARCH),$(ARCH)),,$(error kbuild (stand-in): ARCH is '$(ARCH)', want $(FAKE_ARCH): without it kbuild builds for the host))
	$(if $(CROSS_COMPILE),,$(error kbuild (stand-in): CROSS_COMPILE is not set: kbuild would use the host's compiler))
	$(if $(M),,$(error kbuild (stand-in): M= is not set))

ifneq ($(wildcard $(M)/*.ko),)
modules: fake-check
	awk 'BEGIN { FS = OFS = "\t" } { n = split($$3, p, "/"); $$3 = "$(M)/" p[n]; print }' \
		$(M)/Module.symvers >$(M)/Module.symvers.new
	mv $(M)/Module.symvers.new $(M)/Module.symvers
	sed 's|.*/|$(M)/|' $(M)/modules.order >$(M)/modules.order.new
	mv $(M)/modules.order.new $(M)/modules.order
else
modules: fake-check
	+$(MAKE) -C $(FAKE_REAL_LINUX_DIR) modules
endif

modules_install: fake-check
	+$(MAKE) -C $(FAKE_REAL_LINUX_DIR) modules_install
