#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Post-build script of nlchan_orangepi_pc_defconfig: applies the nlchan
# device-tree overlay to the board's upstream DTB in /boot, where U-Boot's
# extlinux support loads it from (runs after Buildroot's own
# board/orangepi/common/post-build.sh).
set -eu

target=$1
top=$(cd "$(dirname "$0")/../../.." && pwd)
dtb=$target/boot/sun8i-h3-orangepi-pc.dtb
dtbo=$BUILD_DIR/nlchan.dtbo

"$HOST_DIR/bin/dtc" -q -@ -I dts -O dtb -o "$dtbo" "$top/board/dts/nlchan.dtso"
"$HOST_DIR/bin/fdtoverlay" -i "$dtb" -o "$dtb.tmp" "$dtbo"
mv "$dtb.tmp" "$dtb"
test "$("$HOST_DIR/bin/fdtget" "$dtb" /netlink-test compatible)" = "nlchan,netlink-channel test-netlink"
