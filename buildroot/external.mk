# SPDX-License-Identifier: MIT OR Apache-2.0
#
# The project's one version: the workspace's, in the checkout's Cargo.toml.
NLCHAN_PROJECT_VERSION := $(shell awk -F'"' '/^\[/ { s = $$0 } s == "[workspace.package]" && /^version *=/ { print $$2; exit }' $(BR2_EXTERNAL_NLCHAN_PATH)/../Cargo.toml)
ifeq ($(NLCHAN_PROJECT_VERSION),)
$(error nlchan: no version in $(BR2_EXTERNAL_NLCHAN_PATH)/../Cargo.toml ([workspace.package]))
endif

include $(sort $(wildcard $(BR2_EXTERNAL_NLCHAN_PATH)/package/*/*.mk))
