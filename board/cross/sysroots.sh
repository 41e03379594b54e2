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
#   gets musl's C runtime and gcc's crt files and unwinder, by
#   musl-self-contained.sh (which the host program also uses for the
#   host's board build, board/host/src/build/musl.rs).
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
	mkdir "musl-$arch"
	dpkg-deb -x musl-dev_*_"$arch".deb "musl-$arch"
	sh "$here/musl-self-contained.sh" "musl-$arch" "$musl" "$gnu" \
		"$rustlib/$triple/lib/self-contained"
done

cd /
rm -rf "$work"
