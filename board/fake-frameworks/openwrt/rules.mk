# SPDX-License-Identifier: MIT OR Apache-2.0
# Stand-in for OpenWrt's rules.mk (see ../README.md): upstream layout.
INCLUDE_DIR := $(TOPDIR)/include
BUILD_DIR := $(FAKE_WORK)/build_dir
include $(TOPDIR)/../openwrt-common.mk
