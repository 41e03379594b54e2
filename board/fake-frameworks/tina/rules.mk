# SPDX-License-Identifier: MIT OR Apache-2.0
# Stand-in for Tina's rules.mk (see ../README.md): Tina's layout, build
# includes in $(BUILD_DIR), work folder $(COMPILE_DIR).
INCLUDE_DIR := $(FAKE_WORK)/no-include-dir
BUILD_DIR := $(TOPDIR)/build
COMPILE_DIR := $(FAKE_WORK)/compile_dir
include $(TOPDIR)/../openwrt-common.mk
