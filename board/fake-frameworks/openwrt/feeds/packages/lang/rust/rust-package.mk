# SPDX-License-Identifier: MIT OR Apache-2.0
# Stand-in for the packages feed's lang/rust/rust-package.mk and
# rust-values.mk (see ../../../../../README.md): the same cargo install
# command line, run by fake-cargo, which installs the binaries the test
# command built (FAKE_CARGO_OUT) as cargo install would.
RUST_ARCH_DEPENDS:=@(aarch64||arm||i386||loongarch64||mips||mips64||mips64el||mipsel||powerpc||powerpc64||riscv64||x86_64)
RUST_PKG_LOCKED ?= 1
CARGO_PKG_PROFILE:=release

CARGO_PKG_VARS= \
	FAKE_CARGO_OUT=$(FAKE_CARGO_OUT) \
	FAKE_CARGO_BINS="$(FAKE_CARGO_BINS)" \
	MAKEFLAGS="$(PKG_JOBS)"

# Reset here, as upstream does: a package's own value set before the
# include is lost; it passes its arguments as $(2) of Build/Compile/Cargo.
CARGO_PKG_ARGS=

ifeq ($(strip $(RUST_PKG_LOCKED)),1)
  CARGO_PKG_ARGS+= --locked
endif

# $(1) path to the package (optional)
# $(2) additional arguments to cargo (optional)
define Build/Compile/Cargo
	+$(CARGO_PKG_VARS) \
	$(TOPDIR)/feeds/packages/lang/rust/fake-cargo install -v \
		--profile $(CARGO_PKG_PROFILE) \
		$(if $(strip $(RUST_PKG_FEATURES)),--features "$(strip $(RUST_PKG_FEATURES))") \
		--root $(PKG_INSTALL_DIR) \
		--path "$(PKG_BUILD_DIR)/$(if $(strip $(1)),$(strip $(1)),$(strip $(MAKE_PATH)))" \
		$(if $(filter --jobserver%,$(PKG_JOBS)),,-j1) \
		$(CARGO_PKG_ARGS) \
		$(2)
endef

Build/Compile=$(call Build/Compile/Cargo)
