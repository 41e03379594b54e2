#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# The target side of the cross image (Dockerfile), next to Debian's
# compiler (sysroot /usr):
# - the glibc targets: Debian's std for armhf and arm64, of the very same
#   version as the compiler, unpacked from the packages (installing them
#   through multiarch can fail on version skew);
# - the musl targets: Debian ships no Rust std for musl (cargo builds it
#   from rust-web-src, see Cross.toml), so rustc's "self-contained" folder
#   gets musl's C runtime (musl-dev of the target architecture), gcc's
#   crtbegin/crtend, and gcc's libgcc_eh.a as the unwinder (libunwind.a).
#   On aarch64 that libgcc_eh.a (gcc 12, built against glibc 2.36) finds
#   unwind tables with glibc's _dl_find_object(), which musl lacks:
#   dl_find_object.c provides it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
v=$(dpkg-query -W -f='${Version}' rustc-web)
rustlib=/usr/lib/rustlib
work=$(mktemp -d)
cd "$work"

apt-get download -q -o APT::Sandbox::User=root \
	"libstd-rust-web-dev:armhf=$v" "libstd-rust-web-dev:arm64=$v" \
	musl-dev:armhf musl-dev:arm64

# glibc targets: the std's rlibs only.
for t in armhf:armv7-unknown-linux-gnueabihf arm64:aarch64-unknown-linux-gnu; do
	arch=${t%%:*}
	triple=${t#*:}
	mkdir "std-$arch"
	dpkg-deb -x libstd-rust-web-dev_*_"$arch".deb "std-$arch"
	[ -d "std-$arch$rustlib/$triple/lib" ] || {
		echo "sysroots.sh: error: libstd-rust-web-dev:$arch has no $rustlib/$triple" >&2
		exit 1
	}
	rm -rf "${rustlib:?}/$triple"
	cp -a "std-$arch$rustlib/$triple" "$rustlib/"
done

# musl targets: rust triple, Debian's musl triple, gcc's triple.
for t in armv7-unknown-linux-musleabihf:arm-linux-musleabihf:arm-linux-gnueabihf:armhf \
	aarch64-unknown-linux-musl:aarch64-linux-musl:aarch64-linux-gnu:arm64; do
	triple=${t%%:*}
	rest=${t#*:}
	musl=${rest%%:*}
	rest=${rest#*:}
	gnu=${rest%%:*}
	arch=${rest#*:}
	dir=$rustlib/$triple/lib/self-contained
	mkdir -p "$dir" "musl-$arch"
	dpkg-deb -x musl-dev_*_"$arch".deb "musl-$arch"
	m=musl-$arch/usr/lib/$musl
	cp "$m/crt1.o" "$m/rcrt1.o" "$m/Scrt1.o" "$m/crti.o" "$m/crtn.o" "$m/libc.a" "$dir/"
	g=$("$gnu-gcc" -print-libgcc-file-name)
	g=${g%/*}
	cp "$g/crtbegin.o" "$g/crtbeginS.o" "$g/crtbeginT.o" "$g/crtend.o" "$g/crtendS.o" "$dir/"
	cp "$g/libgcc_eh.a" "$dir/libunwind.a"
	if "$gnu-nm" -u "$dir/libunwind.a" 2>/dev/null | grep -qw _dl_find_object; then
		"$gnu-gcc" -O2 -fPIC -Wall -Wextra -Werror -nostdinc \
			-isystem "musl-$arch/usr/include/$musl" \
			-isystem "$("$gnu-gcc" -print-file-name=include)" \
			-c "$here/dl_find_object.c" -o dl_find_object.o
		"$gnu-ar" rs "$dir/libunwind.a" dl_find_object.o
	fi
done

cd /
rm -rf "$work"
