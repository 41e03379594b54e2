#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Installs what nlchan's build and tests need on a Debian 12 (bookworm)
# machine, then hands over to the host program (`cargo board ...`).
#
#   sudo ./board/bootstrap.sh smoke   # build everything, smoke-test the emulated board
#   sudo ./board/bootstrap.sh test    # run every test
#
# This script only installs what Debian provides, then hands over: host
# packages, Debian's Rust compiler (the project's MSRV), and, downloaded
# into the cache (NLCHAN_CACHE, default ~/.cache/nlchan) without being
# installed, the armhf Rust std, musl-dev:armhf and musl-dev:arm64,
# Debian's busybox source and the kernel sources of the module matrix.
# Everything else (the musl sysroots, busybox, the kernels, the PyPI tools
# of the checks) the host program builds itself in the cache when a
# command first needs it (board/host/src/build/). When everything is
# already present this takes no time.
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
# It is the project's MSRV, pinned: bookworm's main suite has it for every
# architecture, whereas bookworm-security moves on to newer compilers (and
# its armhf index is not always in sync on the mirrors).
RUST_MSRV=1.85
rust_version() {
	v=$(dpkg-query -W -f='${Version}' rustc-web 2>/dev/null || true)
	case "$v" in
	"$RUST_MSRV".*) echo "$v" && return 0 ;;
	esac
	apt_update
	v=$(apt-cache madison rustc-web |
		awk -v want="$RUST_MSRV" '{ if (index($3, want ".") == 1) print $3 }' |
		sort -V | tail -n 1)
	[ -n "$v" ] ||
		die "Debian offers no rustc-web $RUST_MSRV here (apt-cache madison rustc-web); this script needs Debian 12 (bookworm) with its main suite in the apt sources"
	echo "$v"
}

host_packages() {
	rv=$1
	echo build-essential git ca-certificates perl python3 xz-utils cpio kmod \
		bc bison flex libssl-dev device-tree-compiler python3-venv \
		gcc-arm-linux-gnueabihf gcc-11-arm-linux-gnueabihf libc6-dev-armhf-cross \
		gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-riscv64-linux-gnu \
		qemu-system-arm qemu-user-static file shellcheck linux-source-6.1 sparse \
		"rustc-web=$rv" "cargo-web=$rv" "libstd-rust-web-dev=$rv" \
		"rust-web-clippy=$rv" "rustfmt-web=$rv" "rust-web-src=$rv"
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
		apt-get install -y -q --no-install-recommends --allow-downgrades $missing >/dev/null
}

# Unpack a package of a foreign architecture (PKG:ARCH[=VERSION]) into the
# cache without installing it (multiarch installs of these can fail on
# version skew; an unpacked tree is all the build needs).
unpack_foreign() {
	pkg=$1
	dest=$2
	[ -e "$dest/.complete" ] && return 0
	arch=${pkg#*:}
	arch=${arch%%=*}
	if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		as_root dpkg --add-architecture "$arch"
		apt_updated=no
	fi
	apt_update
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
		die "apt-get download $pkg failed"
	rm -rf "$dest"
	mkdir -p "$dest"
	dpkg-deb -x "$tmp"/*.deb "$dest"
	v=$(dpkg-deb -f "$tmp"/*.deb Version)
	rm -rf "$tmp"
	echo "$pkg $v" >"$dest/.complete"
}

# Debian's busybox source package, downloaded once through a private
# deb-src list (so the system's apt sources stay untouched) and unpacked
# into $cache/busybox-src: the host program builds the image's busybox from
# it (board/host/src/build/busybox.rs), and `cargo board buildroot` gives it
# to Buildroot.
BUSYBOX_SUITE=bookworm
busybox_source() {
	src=$cache/busybox-src
	[ -e "$src/.complete" ] && return 0
	mirror=$(debian_mirror)
	apt_dir=$cache/apt-src
	mkdir -p "$apt_dir/lists/partial"
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $BUSYBOX_SUITE main" \
		>"$apt_dir/sources.list"
	set -- -q -o Dir::Etc::SourceList="$apt_dir/sources.list" \
		-o Dir::Etc::SourceParts=- -o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
		-o APT::Sandbox::User=root
	echo "bootstrap: fetching Debian's busybox source ($BUSYBOX_SUITE)" >&2
	apt-get "$@" update >"$apt_dir/update.log" 2>&1 ||
		die "apt-get update of the deb-src list ($mirror $BUSYBOX_SUITE) failed; see $apt_dir/update.log"
	rm -rf "$src" "$cache/busybox-dl"
	mkdir -p "$cache/busybox-dl"
	(cd "$cache/busybox-dl" && apt-get "$@" source --download-only busybox) \
		>"$apt_dir/download.log" 2>&1 ||
		die "apt-get source --download-only busybox failed; see $apt_dir/download.log"
	set -- "$cache"/busybox-dl/busybox_*.dsc
	dpkg-source -x "$1" "$src" >"$apt_dir/unpack.log" 2>&1 ||
		die "dpkg-source -x $1 failed; see $apt_dir/unpack.log"
	v=${1##*/busybox_}
	echo "${v%.dsc}" >"$src/.complete"
}

# The module's compatibility matrix (cargo board matrix) builds against
# more kernels than this release has: linux-source packages of other Debian
# suites, downloaded (not installed) into the cache with a private sources
# list, so the system's apt sources and lists stay untouched.
matrix_sources="bullseye:linux-source-5.10 bookworm-backports:linux-source-6.12"

# The Debian mirror the system uses (first .../debian URI), else Debian's CDN.
debian_mirror() {
	[ -n "${NLCHAN_DEBIAN_MIRROR:-}" ] && echo "$NLCHAN_DEBIAN_MIRROR" && return 0
	m=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list 2>/dev/null |
		awk '/^(URIs:|deb )/ { for (i = 2; i <= NF; i++)
			if ($i ~ /^https?:\/\/.*\/debian\/?$/) { sub(/\/$/, "", $i); print $i; exit } }')
	echo "${m:-http://deb.debian.org/debian}"
}

fetch_kernel_sources() {
	debs=$cache/kernel-debs
	need=
	for s in $matrix_sources; do
		pkg=${s#*:}
		set -- "$debs/${pkg}"_*.deb
		[ -e "$1" ] || need="$need $s"
	done
	[ -z "$need" ] && return 0
	mirror=$(debian_mirror)
	apt_dir=$cache/apt
	mkdir -p "$apt_dir/lists/partial" "$debs"
	arch=$(dpkg --print-architecture)
	: >"$apt_dir/sources.list"
	for s in $need; do
		echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror ${s%%:*} main" \
			>>"$apt_dir/sources.list"
	done
	set -- -q -o Dir::Etc::SourceList="$apt_dir/sources.list" \
		-o Dir::Etc::SourceParts=- -o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
		-o APT::Sandbox::User="$(id -un)"
	echo "bootstrap: fetching kernel sources for the module matrix:$need" >&2
	apt-get "$@" update >"$apt_dir/update.log" 2>&1 ||
		die "apt-get update of $mirror ($need) failed; see $apt_dir/update.log"
	for s in $need; do
		pkg=${s#*:}
		tmp=$(mktemp -d "$debs/.download.XXXXXX")
		if ! (cd "$tmp" && apt-get "$@" download "$pkg" >"$apt_dir/download.log" 2>&1); then
			rm -rf "$tmp"
			die "apt-get download $pkg (suite ${s%%:*} of $mirror) failed; see $apt_dir/download.log"
		fi
		mv "$tmp"/*.deb "$debs/"
		rmdir "$tmp"
	done
}

# install_missing PKG...: installs those of the Debian packages not installed.
install_missing() {
	missing=
	for p in "$@"; do
		case "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" in
		"ii "*) ;;
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

# --- a real Buildroot tree (cargo board buildroot --tree DIR) ---------------
# What Buildroot itself needs on the build machine (support/dependencies),
# its utils/check-package (python3-magic, flake8), and the host tools the
# offline build links in place of the host packages
# Buildroot would download (board/host/src/tasks/buildroot/shims.rs).
buildroot_packages="rsync file bc unzip bzip2 patch wget g++ debianutils
	autoconf automake libtool libtool-bin m4 attr acl fakeroot patchelf pkgconf tar
	python3-magic flake8"
install_buildroot_packages() {
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	install_missing $buildroot_packages
}
# --- end of Buildroot --------------------------------------------------------

# --- cross-rs in containers (cargo board cross; also for the test command) ---
# A container engine and what makes its base image from Debian's archive
# (no image registry is needed): Debian's docker.io (the host program
# starts dockerd when no daemon runs, and stops it again) and debootstrap.
# Installed for `cross` and `test` only.
cross_packages="docker.io debootstrap"
install_cross_packages() {
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	install_missing $cross_packages
	# debootstrap takes the base image from the system's Debian mirror.
	NLCHAN_DEBIAN_MIRROR=$(debian_mirror)
	export NLCHAN_DEBIAN_MIRROR
}
# --- end of cross-rs ---------------------------------------------------------

main() {
	rv=$(rust_version)
	install_host_packages "$rv"
	mkdir -p "$cache"
	# Found there by the host program (board/host/src/run/project.rs,
	# build/musl.rs, build/busybox.rs).
	unpack_foreign "libstd-rust-web-dev:armhf=$rv" "$cache/armhf-std-$rv"
	# The musl C runtime of each board architecture (build/musl.rs).
	unpack_foreign musl-dev:armhf "$cache/armhf-musl-dev"
	unpack_foreign musl-dev:arm64 "$cache/arm64-musl-dev"
	busybox_source
	fetch_kernel_sources
	case "${1:-}" in
	cross | test) install_cross_packages ;; # cross-rs in containers
	buildroot) install_buildroot_packages ;; # a real Buildroot tree
	esac

	# The project's compiler is Debian's (MSRV 1.85); put it first so that
	# cargo's subcommands (clippy, fmt) come from the same toolchain.
	PATH=/usr/bin:$PATH
	export PATH
	export RUSTC=/usr/bin/rustc
	cd "$top"
	exec /usr/bin/cargo board "$@"
}

main "$@"
