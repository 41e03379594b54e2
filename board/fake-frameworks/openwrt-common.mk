# SPDX-License-Identifier: MIT OR Apache-2.0
# What OpenWrt's and Tina's rules.mk both define and nlchan uses.
CP := cp -fpR
INSTALL_DIR := install -d -m0755
INSTALL_BIN := install -m0755
MODULES_SUBDIR := lib/modules/$(LINUX_VERSION)
define newline


endef
# The emulated board's target (rules.mk derives them from the .config).
ARCH := arm
TARGET_CROSS := arm-linux-gnueabihf-
