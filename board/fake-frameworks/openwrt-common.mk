# SPDX-License-Identifier: MIT OR Apache-2.0
# What OpenWrt's and Tina's rules.mk both define and nlchan uses.
CP := cp -fpR
INSTALL_DIR := install -d -m0755
INSTALL_BIN := install -m0755
MODULES_SUBDIR := lib/modules/$(LINUX_VERSION)
define newline


endef
# The emulated board's target (rules.mk derives them from the .config):
# given as FAKE_ARCH_USER and FAKE_TARGET_CROSS, not as ARCH and
# TARGET_CROSS on the command line, which make would hand on to kbuild.
ARCH := $(or $(FAKE_ARCH_USER),arm)
TARGET_CROSS := $(or $(FAKE_TARGET_CROSS),arm-linux-gnueabihf-)
