# SPDX-License-Identifier: MIT OR Apache-2.0
# What OpenWrt's include/kernel.mk and Tina's build/kernel.mk both define
# (see README.md): KernelPackage copies FILES flat into /$(MODULES_SUBDIR)
# and lists the AUTOLOAD modules in /etc/modules.d.
define AutoProbe
  probe_module "$(1)" "$(2)";
endef

define AutoLoad
  add_module "$(1)" "$(2)" "$(3)";
endef

define ModuleAutoLoad
	probe_module() { for m in $$$$1; do \
		mkdir -p $(2)/etc/modules.d; echo "$$$$m" >>$(2)/etc/modules.d/$(1); done; }; \
	add_module() { for m in $$$$2; do \
		mkdir -p $(2)/etc/modules.d; echo "$$$$m" >>$(2)/etc/modules.d/$$$$1-$(1); done; }; \
	$(3) true
endef

define KernelPackage
  $(eval $(call KernelPackage/$(1)))
  $(KernelPackage/hooks)
  define Package/kmod-$(1)/install
	for mod in $(FILES); do \
		[ -e $$$$mod ] || { echo "ERROR: module '$$$$mod' is missing." >&2; exit 1; }; \
		mkdir -p $$(1)/$(MODULES_SUBDIR); \
		$(CP) -L $$$$mod $$(1)/$(MODULES_SUBDIR)/; \
	done
	$(call ModuleAutoLoad,$(1),$$(1),$(AUTOLOAD))
  endef
  $$(eval $$(call BuildPackage,kmod-$(1)))
endef
