#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Installs what nlchan's build and tests need on a Debian 12 (bookworm)
# machine, then hands over to the host program (`cargo board ...`).
#
#   sudo ./board/bootstrap.sh smoke   # build everything, smoke-test the emulated board
#   sudo ./board/bootstrap.sh test    # run every test
#
# Everything Debian provides is installed here and only here: host packages,
# Debian's Rust compiler (the project's MSRV) and the armhf Rust std and
# static busybox, unpacked into the cache (NLCHAN_CACHE, default
# ~/.cache/nlchan). When everything is already present this takes no time.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${NLCHAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nlchan}
export NLCHAN_CACHE="$cache"

die() {
	echo "bootstrap: error: $*" >&2
	exit 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "'$*' needs root: run this script as root or install sudo"
	fi
}

apt_updated=no
apt_update() {
	[ "$apt_updated" = yes ] && return 0
	echo "bootstrap: apt-get update" >&2
	# One index of the security suite can be out of sync on some mirrors;
	# apt then fails for that index only. Carry on, the install says if a
	# package is really missing.
	as_root apt-get update -q >/dev/null ||
		echo "bootstrap: warning: apt-get update reported errors (continuing)" >&2
	apt_updated=yes
}

# Debian's Rust: the compiler, cargo, clippy, rustfmt and the armhf std must
# all be the very same version (the std only works with its own compiler).
rust_version() {
	v=$(dpkg-query -W -f='${Version}' rustc-web 2>/dev/null || true)
	if [ -z "$v" ]; then
		apt_update
		v=$(apt-cache policy rustc-web | awk '/Candidate:/ { print $2 }')
	fi
	if [ -z "$v" ] || [ "$v" = "(none)" ]; then
		die "Debian has no rustc-web package here (is this Debian 12?)"
	fi
	echo "$v"
}

host_packages() {
	rv=$1
	echo build-essential git ca-certificates perl python3 xz-utils cpio kmod \
		bc bison flex libssl-dev device-tree-compiler \
		gcc-arm-linux-gnueabihf libc6-dev-armhf-cross \
		qemu-system-arm qemu-user-static shellcheck linux-source-6.1 \
		"rustc-web=$rv" "cargo-web=$rv" "libstd-rust-web-dev=$rv" \
		"rust-web-clippy=$rv" "rustfmt-web=$rv"
}

install_host_packages() {
	missing=
	for p in $(host_packages "$1"); do
		name=${p%%=*}
		want=${p#*=}
		have=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$name" 2>/dev/null || true)
		case "$have" in
		"ii "*)
			[ "$want" = "$p" ] || [ "${have#ii }" = "$want" ] || missing="$missing $p"
			;;
		*) missing="$missing $p" ;;
		esac
	done
	[ -z "$missing" ] && return 0
	apt_update
	echo "bootstrap: installing$missing" >&2
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $missing >/dev/null
}

# Unpack an armhf package into the cache without installing it (multiarch
# installs of these can fail on version skew; an unpacked tree is all the
# build needs).
unpack_armhf() {
	pkg=$1
	dest=$2
	[ -e "$dest/.complete" ] && return 0
	if ! dpkg --print-foreign-architectures | grep -qx armhf; then
		as_root dpkg --add-architecture armhf
		apt_updated=no
	fi
	apt_update
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
		die "apt-get download $pkg failed"
	rm -rf "$dest"
	mkdir -p "$dest"
	dpkg-deb -x "$tmp"/*.deb "$dest"
	rm -rf "$tmp"
	echo "$pkg" >"$dest/.complete"
}

main() {
	rv=$(rust_version)
	install_host_packages "$rv"
	mkdir -p "$cache"
	unpack_armhf "libstd-rust-web-dev:armhf=$rv" "$cache/armhf-std-$rv"
	unpack_armhf "busybox-static:armhf" "$cache/armhf-busybox"

	# The project's compiler is Debian's (MSRV 1.85); put it first so that
	# cargo's subcommands (clippy, fmt) come from the same toolchain.
	PATH=/usr/bin:$PATH
	export PATH
	export RUSTC=/usr/bin/rustc
	export NLCHAN_ARMHF_STD="$cache/armhf-std-$rv/usr"
	export NLCHAN_BUSYBOX="$cache/armhf-busybox/bin/busybox"
	cd "$top"
	exec /usr/bin/cargo board "$@"
}

main "$@"
