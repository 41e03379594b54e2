#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Fills rustc's "self-contained" folder of a musl target: what rustc links
# a static musl binary with when the std is built from rust-web-src
# (Debian ships no Rust std for musl). Shared by the cross image
# (sysroots.sh, into /usr/lib/rustlib) and the host's board build
# (board/host/src/build/musl.rs, into a private sysroot in the cache).
#
#   musl-self-contained.sh MUSL_DEV MUSL_TRIPLE GCC_TRIPLE DEST
#
# MUSL_DEV: Debian's musl-dev of the target architecture, unpacked
# (dpkg-deb -x); MUSL_TRIPLE: its triple (arm-linux-musleabihf); GCC_TRIPLE:
# Debian's cross gcc (arm-linux-gnueabihf); DEST:
# <sysroot>/lib/rustlib/<rust triple>/lib/self-contained.
#
# DEST gets musl's C runtime (crt1.o rcrt1.o Scrt1.o crti.o crtn.o
# libc.a), gcc's crtbegin/crtend, and gcc's libgcc_eh.a as the unwinder
# (libunwind.a). On aarch64 that libgcc_eh.a (gcc 12, built against glibc
# 2.36) finds unwind tables with glibc's _dl_find_object(), which musl
# lacks: dl_find_object.c provides it.
set -eu

[ $# -eq 4 ] || {
	echo "usage: $0 MUSL_DEV MUSL_TRIPLE GCC_TRIPLE DEST" >&2
	exit 2
}
here=$(cd "$(dirname "$0")" && pwd)
dev=$1
musl=$2
gnu=$3
dir=$4

m=$dev/usr/lib/$musl
[ -f "$m/libc.a" ] || {
	echo "musl-self-contained.sh: error: $m/libc.a is missing (musl-dev not unpacked in $dev?)" >&2
	exit 1
}
mkdir -p "$dir"
cp "$m/crt1.o" "$m/rcrt1.o" "$m/Scrt1.o" "$m/crti.o" "$m/crtn.o" "$m/libc.a" "$dir/"
g=$("$gnu-gcc" -print-libgcc-file-name)
g=${g%/*}
cp "$g/crtbegin.o" "$g/crtbeginS.o" "$g/crtbeginT.o" "$g/crtend.o" "$g/crtendS.o" "$dir/"
cp "$g/libgcc_eh.a" "$dir/libunwind.a"
if "$gnu-nm" -u "$dir/libunwind.a" 2>/dev/null | grep -qw _dl_find_object; then
	tmp=$(mktemp -d)
	"$gnu-gcc" -O2 -fPIC -Wall -Wextra -Werror -nostdinc \
		-isystem "$dev/usr/include/$musl" \
		-isystem "$("$gnu-gcc" -print-file-name=include)" \
		-c "$here/dl_find_object.c" -o "$tmp/dl_find_object.o"
	"$gnu-ar" rs "$dir/libunwind.a" "$tmp/dl_find_object.o"
	rm -rf "$tmp"
fi
