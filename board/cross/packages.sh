#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Installs Debian's Rust and cross gcc in the cross image (Dockerfile).
#   packages.sh [RUST_VERSION]
# Debian's rustc-web, cargo-web, its std and rust-web-src, all pinned to
# one version: RUST_VERSION, else the newest 1.85.x (the project's MSRV),
# which is how board/bootstrap.sh pins the host's.
set -eu

RUST_MSRV=1.85
want=${1:-}

export DEBIAN_FRONTEND=noninteractive
dpkg --add-architecture armhf
dpkg --add-architecture arm64
# One index of the security suite can be out of sync on some mirrors;
# apt then fails for that index only. The install says if a package is
# really missing.
apt-get update -q || echo "packages.sh: warning: apt-get update reported errors (continuing)" >&2

if [ -n "$want" ]; then
	v=$want
else
	v=$(apt-cache madison rustc-web |
		awk -v want="$RUST_MSRV" '{ if (index($3, want ".") == 1) print $3 }' |
		sort -V | tail -n 1)
	[ -n "$v" ] || {
		echo "packages.sh: error: Debian offers no rustc-web $RUST_MSRV (apt-cache madison rustc-web)" >&2
		exit 1
	}
fi
mm=$(echo "$v" | cut -d. -f1,2)
echo "packages.sh: Debian's Rust $v" >&2

apt-get install -y -q --no-install-recommends \
	ca-certificates gcc libc6-dev \
	gcc-arm-linux-gnueabihf libc6-dev-armhf-cross \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
	"rustc-web=$v" "cargo-web=$v" "libstd-rust-web-dev=$v" \
	"libstd-rust-web-$mm=$v" "rust-web-src=$v"
apt-get clean
