// SPDX-License-Identifier: MIT OR Apache-2.0
//! The offline substitutes for what Buildroot would download: the override
//! file, the host-tool shim trees and the host-rust-bin tree.

use crate::build::kernel;
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The Rust target Buildroot derives from the defconfig (Cortex-A7, glibc).
const RUSTC_TARGET: &str = "armv7-unknown-linux-gnueabihf";

/// A host package Buildroot would download and build, replaced by a shim
/// source tree: the build machine's `tools` linked into the host folder,
/// and empty `files` where the package's own build commands expect them.
struct Shim {
    pkg: &'static str,
    tools: &'static [&'static str],
    files: &'static [&'static str],
}

const fn shim_of(pkg: &'static str, tools: &'static [&'static str]) -> Shim {
    Shim {
        pkg,
        tools,
        files: &[],
    }
}

const SHIMS: &[Shim] = &[
    // host-tar's post-patch hook touches these two.
    Shim {
        pkg: "host-tar",
        tools: &["tar"],
        files: &["src/Makefile.in", "tests/Makefile.in"],
    },
    shim_of("host-m4", &["m4"]),
    shim_of(
        "host-autoconf",
        &[
            "autoconf",
            "autoheader",
            "autom4te",
            "autoreconf",
            "autoscan",
            "autoupdate",
            "ifnames",
        ],
    ),
    shim_of("host-automake", &["automake", "aclocal"]),
    shim_of("host-libtool", &["libtool", "libtoolize"]),
    // host-flex needs host-gettext (gettext-tiny): its own build and
    // install commands copy these.
    Shim {
        pkg: "host-gettext-tiny",
        tools: &[],
        files: &[
            "extra/gettextize.in",
            "extra/Makevars.template",
            "extra/boldquot.sed",
            "extra/en@boldquot.header",
            "extra/en@quot.header",
            "extra/insert-header.sin",
            "extra/quot.sed",
            "extra/remove-potcdate.sin",
            "extra/Rules-quot",
            "extra/Makefile.in.in",
            "build-aux/config.rpath",
        ],
    },
    shim_of("host-bison", &["bison"]),
    shim_of("host-flex", &["flex"]),
    shim_of("host-attr", &["attr", "getfattr", "setfattr"]),
    shim_of("host-acl", &["getfacl", "setfacl", "chacl"]),
    shim_of("host-fakeroot", &["fakeroot"]),
    shim_of("host-kmod", &["kmod"]),
    shim_of("host-patchelf", &["patchelf"]),
    shim_of("host-pkgconf", &["pkgconf"]),
    // The defconfig's post-build script applies the nlchan overlay with
    // these.
    shim_of("host-dtc", &["dtc", "fdtoverlay", "fdtget", "fdtput"]),
];

/// Writes the override file (`BR2_PACKAGE_OVERRIDE_FILE`), the host-tool
/// shims and the host-rust-bin tree into `work`.
pub(super) fn substitutes(p: &Project, tree: &Path, work: &Path) -> Result<()> {
    let shims = work.join("shims");
    let _ = fs::remove_dir_all(&shims);
    fs::create_dir_all(&shims)?;
    let mut mk = String::from(
        "# Written by `cargo board buildroot`: offline substitutes for what\n\
         # Buildroot would download (see board/host/src/tasks/buildroot/shims.rs).\n",
    );
    for sh in SHIMS {
        let dir = shims.join(sh.pkg);
        shim(&dir, sh)?;
        writeln!(mk, "{}_OVERRIDE_SRCDIR = {}", var(sh.pkg), dir.display())?;
    }
    let rust = shims.join("host-rust-bin");
    host_rust(p, tree, &rust)?;
    writeln!(mk, "HOST_RUST_BIN_OVERRIDE_SRCDIR = {}", rust.display())?;
    let busybox = p.cache.join("busybox-src");
    if !busybox.join(".complete").exists() {
        bail!(
            "{} is missing: run `sudo board/bootstrap.sh buildroot` (it fetches Debian's busybox source)",
            busybox.display()
        );
    }
    writeln!(mk, "BUSYBOX_OVERRIDE_SRCDIR = {}", busybox.display())?;
    let (linux, _) = kernel::source(p)?;
    writeln!(mk, "LINUX_OVERRIDE_SRCDIR = {}", linux.display())?;
    fs::write(work.join("nlchan-offline.mk"), mk)?;
    Ok(())
}

/// `host-foo` → `HOST_FOO`.
fn var(pkg: &str) -> String {
    pkg.to_uppercase().replace('-', "_")
}

/// A shim source tree for a host package. For an autotools package:
/// `configure` (made by autoconf, so that Buildroot's autoreconf also
/// works), which writes the Makefile from `Makefile.in` with `--prefix`;
/// for a make-only package, that Makefile as it comes (`prefix`, else
/// `PREFIX`, from make's command line). `make install` links the tools.
fn shim(dir: &Path, s: &Shim) -> Result<()> {
    fs::create_dir_all(dir)?;
    for f in s.files {
        let f = dir.join(f);
        if let Some(parent) = f.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(f, "")?;
    }
    fs::write(
        dir.join("configure.ac"),
        format!(
            "AC_INIT([nlchan-shim-{}], [1])\nAC_CONFIG_FILES([Makefile])\nAC_OUTPUT\n",
            s.pkg
        ),
    )?;
    let mut install = String::from("all:\ninstall:\n\tmkdir -p $(DESTDIR)$(prefix)/bin\n");
    for t in s.tools {
        let path = sh::which(t).with_context(|| {
            format!(
                "{t} (for Buildroot's {}) is missing: run `sudo board/bootstrap.sh buildroot`",
                s.pkg
            )
        })?;
        writeln!(
            install,
            "\tln -sf {} $(DESTDIR)$(prefix)/bin/{t}",
            path.display()
        )?;
    }
    let head = format!(
        "# {}: the build machine's tools, linked into the host folder.\n",
        s.pkg
    );
    fs::write(
        dir.join("Makefile.in"),
        format!("{head}prefix = @prefix@\n{install}"),
    )?;
    fs::write(
        dir.join("Makefile"),
        format!("{head}prefix ?= $(PREFIX)\n{install}"),
    )?;
    sh::run(cmd("autoconf", Vec::<&str>::new()).current_dir(dir))
        .context("autoconf failed: run `sudo board/bootstrap.sh buildroot`")
}

/// The host-rust-bin tree: `install.sh` (the rust-bin archive's interface:
/// `--prefix=DIR`) installs a `rustc` that runs Debian's with `--sysroot`
/// the host folder, and Debian's cargo; `std/rust-std-VERSION-TARGET/
/// install.sh` copies the armhf std there.
fn host_rust(p: &Project, tree: &Path, dir: &Path) -> Result<()> {
    let mk = tree.join("package/rust-bin/rust-bin.mk");
    let text = fs::read_to_string(&mk).with_context(|| format!("cannot read {}", mk.display()))?;
    let Some(version) = text
        .lines()
        .find_map(|l| l.strip_prefix("RUST_BIN_VERSION ="))
        .map(str::trim)
    else {
        bail!("{}: no RUST_BIN_VERSION", mk.display());
    };
    let std = p.armhf_sysroot()?;
    let std_dir = dir.join(format!("std/rust-std-{version}-{RUSTC_TARGET}"));
    fs::create_dir_all(&std_dir)?;
    let prefix =
        "set -eu\nfor a in \"$@\"; do case $a in --prefix=*) prefix=${a#--prefix=} ;; esac; done\n";
    let host = "x86_64-unknown-linux-gnu";
    let install = format!(
        r#"#!/bin/sh
# Debian's rustc-web and cargo-web in place of the rust-bin archive.
{prefix}mkdir -p "$prefix/bin" "$prefix/lib/rustlib"
ln -sfn /usr/lib/rustlib/{host} "$prefix/lib/rustlib/{host}"
cat >"$prefix/bin/rustc" <<EOF
#!/bin/sh
for a in "\$@"; do case \$a in --sysroot | --sysroot=*) exec /usr/bin/rustc "\$@" ;; esac; done
exec /usr/bin/rustc --sysroot "$prefix" "\$@"
EOF
chmod +x "$prefix/bin/rustc"
ln -sf /usr/bin/cargo "$prefix/bin/cargo"
"#
    );
    let install_std = format!(
        r#"#!/bin/sh
# Debian's libstd-rust-web-dev:armhf, unpacked by board/bootstrap.sh.
{prefix}mkdir -p "$prefix/lib/rustlib"
rm -rf "$prefix/lib/rustlib/{RUSTC_TARGET}"
cp -a "{}/lib/rustlib/{RUSTC_TARGET}" "$prefix/lib/rustlib/"
"#,
        std.display()
    );
    for (f, text) in [
        (dir.join("install.sh"), install),
        (std_dir.join("install.sh"), install_std),
    ] {
        fs::write(&f, text)?;
        fs::set_permissions(&f, fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
