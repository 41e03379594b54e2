// SPDX-License-Identifier: MIT OR Apache-2.0
//! `cargo board buildroot --tree DIR`: the project's Buildroot packages
//! (buildroot/, a BR2_EXTERNAL tree) built by a real Buildroot tree the
//! user has, offline, then the resulting root filesystem booted on the
//! emulated board and smoke-tested over its serial console.
//!
//! What makes the board image is Buildroot's own: its external-toolchain,
//! linux, busybox, skeleton, init scripts and rootfs-cpio packages, and
//! nlchan-kmod and nlchan built by its kernel-module and cargo-package
//! infrastructures from `buildroot/configs/nlchan_orangepi_pc_defconfig`,
//! with these offline substitutes, all outside the project:
//! - toolchain: Debian's `gcc-arm-linux-gnueabihf` 12 as an external
//!   toolchain, in a relocated copy (Buildroot refuses a distribution
//!   toolchain configured `--with-sysroot=/`);
//! - linux: Debian's `linux-source-6.1` (`LINUX_OVERRIDE_SRCDIR`) with the
//!   emulated board's kernel configuration;
//! - busybox: Debian's busybox source (`BUSYBOX_OVERRIDE_SRCDIR`), built
//!   with Buildroot's default busybox configuration;
//! - host-rust-bin: Debian's rustc-web and cargo-web (the project's MSRV)
//!   and the armhf std, installed by a small `install.sh` tree;
//! - the other host tools Buildroot would download (tar, m4, autotools,
//!   gettext-tiny, bison, flex, attr, acl, fakeroot, kmod, patchelf,
//!   pkgconf, dtc): shim source trees whose `make install` links Debian's
//!   installed tools into the host folder. Buildroot's patches to them are
//!   not applied, and Debian's patchelf lacks Buildroot's
//!   `--make-rpath-relative`, so RPATH sanitising does nothing (the nlchan
//!   files are checked for an RPATH instead);
//! - the crates: `vendor/` in the checkout (`cargo vendor --locked`).
//!
//! The SD-card parts of the defconfig (U-Boot, genimage, ext4) are left
//! out: the emulated board boots what Buildroot made directly, its kernel,
//! its device tree from `/boot` (to which the defconfig's post-build
//! script applied the nlchan overlay) and a cpio root filesystem.

use crate::build::kernel::{self, Kernel};
use crate::device::console::Console;
use crate::device::{checks, qemu, shell};
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The project's Buildroot defconfig the build starts from.
const DEFCONFIG: &str = "buildroot/configs/nlchan_orangepi_pc_defconfig";
/// The Rust target Buildroot derives from the defconfig (Cortex-A7, glibc).
const RUSTC_TARGET: &str = "armv7-unknown-linux-gnueabihf";
/// Debian's cross compiler, made an external toolchain.
const GCC: &str = "arm-linux-gnueabihf";
const GCC_VERSION: &str = "12";

/// Defconfig options the offline build replaces or drops (a trailing `*`:
/// every option with that prefix).
const REPLACED: &[&str] = &[
    "BR2_TOOLCHAIN_BUILDROOT*",
    "BR2_PACKAGE_HOST_LINUX_HEADERS_CUSTOM*",
    "BR2_GLOBAL_PATCH_DIR",
    "BR2_LINUX_KERNEL_DEFCONFIG",
    "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES",
    "BR2_TARGET_ROOTFS_EXT2*",
    "BR2_TARGET_UBOOT*",
    "BR2_PACKAGE_HOST_GENIMAGE",
    "BR2_ROOTFS_POST_IMAGE_SCRIPT",
    "BR2_SYSTEM_DHCP",
];

/// Whether [`REPLACED`] names `option`.
fn replaced(option: &str) -> bool {
    REPLACED.iter().any(|r| match r.strip_suffix('*') {
        Some(prefix) => option.starts_with(prefix),
        None => option == *r,
    })
}

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

/// Files the nlchan packages must put in the root filesystem.
const SHIPPED: &[&str] = &[
    "usr/bin/nlchan",
    "usr/bin/nlchan-smoke",
    "etc/init.d/S50nlchan",
    "usr/lib/nlchan/tests/nlchan-alloc-check",
];

/// Runs the whole job; returns whether the smoke test passed.
pub fn run(p: &Project, tree: &Path, verbose: bool) -> Result<bool> {
    let version = tree_version(tree)?;
    let work = p.cache.join("buildroot").join(&version);
    let out = work.join("output");
    fs::create_dir_all(&work)?;
    // One build per output folder at a time.
    let _lock = sh::lock(&work.join("lock"), "cargo board buildroot")?;
    eprintln!(
        "buildroot: {} ({version}), output in {}",
        tree.display(),
        out.display()
    );
    sh::step(
        "check-package on the nlchan packages (the tree's own)",
        || check_package(p, tree),
    )?;
    let toolchain = sh::step("external toolchain (Debian's cross gcc, relocated)", || {
        relocated_toolchain(p)
    })?;
    let k = sh::step("the board's kernel configuration", || {
        kernel::build_variant(p, &kernel::ORANGEPI_PC, &kernel::NORMAL)
    })?;
    sh::step(
        "offline substitutes (override file, shims, host Rust)",
        || substitutes(p, tree, &work),
    )?;
    sh::step(
        "crates vendored in the checkout (cargo vendor --locked)",
        || vendor(p),
    )?;
    sh::step(
        &format!("configure {DEFCONFIG} for the offline build"),
        || configure(p, tree, &work, &toolchain, &k),
    )?;
    sh::step("make (a clean build of nlchan-kmod and nlchan)", || {
        make(&out)
    })?;
    sh::step("what the packages installed in the root filesystem", || {
        check_target(p, &out)
    })?;
    boot_and_smoke(&work, &version, verbose)
}

/// The tree's version (`BR2_VERSION` in its top Makefile).
fn tree_version(tree: &Path) -> Result<String> {
    let mk = tree.join("Makefile");
    let text = fs::read_to_string(&mk).with_context(|| {
        format!(
            "--tree {}: no Makefile; give the top folder of a Buildroot tree \
             (git clone https://gitlab.com/buildroot.org/buildroot.git)",
            tree.display()
        )
    })?;
    let v = text
        .lines()
        .find_map(|l| l.strip_prefix("export BR2_VERSION :="))
        .map(str::trim)
        .filter(|v| !v.is_empty());
    match v {
        Some(v) if tree.join("package/pkg-cargo.mk").is_file() => Ok(v.to_string()),
        Some(v) => bail!(
            "--tree {}: Buildroot {v} has no package/pkg-cargo.mk (cargo packages need 2021.11 or later)",
            tree.display()
        ),
        None => bail!(
            "--tree {}: {} sets no BR2_VERSION; not a Buildroot tree",
            tree.display(),
            mk.display()
        ),
    }
}

/// Buildroot's `utils/check-package` on every file of the external tree
/// but the OpenWrt package (Debian's python3, with python3-magic and
/// flake8, which it imports).
fn check_package(p: &Project, tree: &Path) -> Result<()> {
    let ext = p.root.join("buildroot");
    let found = sh::output(
        cmd("find", [".", "-type", "f", "-not", "-path", "./openwrt/*"]).current_dir(&ext),
    )?;
    let mut files: Vec<&str> = found.lines().collect();
    files.sort();
    let mut c = cmd("/usr/bin/python3", Vec::<&str>::new());
    c.arg(tree.join("utils/check-package"))
        .arg("--br2-external")
        .args(&files)
        .current_dir(&ext);
    let text = sh::logged("check-package", &mut c, &p.out.join("check-package.log"))
        .context("check-package failed (python3-magic and flake8 missing? run `sudo board/bootstrap.sh buildroot`)")?;
    if !text.lines().any(|l| l.trim() == "0 warnings generated") {
        bail!("check-package warns:\n{text}");
    }
    eprintln!("    {} files: 0 warnings", files.len());
    Ok(())
}

/// Debian's cross gcc as a relocated external toolchain: the compiler
/// driver and its `lib/gcc-cross` copied (gcc finds its parts relative to
/// itself), binutils linked, and a sysroot in the usual layout (`lib`,
/// `usr/lib`, `usr/include`) from Debian's `/usr/arm-linux-gnueabihf`,
/// whose linker scripts are made sysroot-relative. `gcc` and `cpp` are
/// scripts passing that sysroot; `gcc -v` names it in place of `/`.
fn relocated_toolchain(p: &Project) -> Result<PathBuf> {
    let gcc = format!("/usr/bin/{GCC}-gcc-{GCC_VERSION}");
    let version = sh::output(&mut cmd(&gcc, ["-dumpfullversion"]))
        .with_context(|| format!("{gcc} is missing: run `sudo board/bootstrap.sh buildroot`"))?;
    let tc = p
        .cache
        .join(format!("buildroot/toolchain-{GCC}-{}", version.trim()));
    let stamp = tc.join(".complete");
    if stamp.exists() {
        return Ok(tc);
    }
    let _ = fs::remove_dir_all(&tc);
    let script = format!(
        r#"set -eu
tc=$1
s=$tc/{GCC}/sysroot
mkdir -p "$tc/bin" "$tc/lib/gcc-cross" "$tc/{GCC}/bin" "$s/usr/lib" "$s/lib"
cp -a /usr/{GCC}/include "$s/usr/include"
cp -a /usr/{GCC}/lib/. "$s/lib/"
cp -a /usr/{GCC}/lib/. "$s/usr/lib/"
for f in "$s"/lib/*.so "$s"/usr/lib/*.so; do
	if [ -f "$f" ] && ! [ -L "$f" ] && grep -q 'GNU ld script' "$f"; then
		sed -i 's#/usr/{GCC}/lib/#/lib/#g' "$f"
	fi
done
cp -a /usr/lib/gcc-cross/{GCC} "$tc/lib/gcc-cross/"
for t in /usr/{GCC}/bin/*; do ln -s "$t" "$tc/{GCC}/bin/"; done
for t in /usr/bin/{GCC}-*; do
	n=${{t##*/}}
	case $n in
	{GCC}-gcc-{GCC_VERSION} | {GCC}-cpp-{GCC_VERSION}) cp "$t" "$tc/bin/$n" ;;
	{GCC}-gcc | {GCC}-cpp) ;;
	*) ln -s "$t" "$tc/bin/$n" ;;
	esac
done
for tool in gcc cpp; do
	cat >"$tc/bin/{GCC}-$tool" <<EOF
#!/bin/sh
# Debian's {GCC}-$tool-{GCC_VERSION} with the relocated sysroot.
if [ "\$#" -eq 1 ] && [ "\$1" = -v ]; then
	"$tc/bin/{GCC}-$tool-{GCC_VERSION}" -v 2>&1 | sed 's# --with-sysroot=/ # --with-sysroot=$s #'
	exit 0
fi
exec "$tc/bin/{GCC}-$tool-{GCC_VERSION}" --sysroot="$s" "\$@"
EOF
	chmod +x "$tc/bin/{GCC}-$tool"
done
"#
    );
    sh::run(cmd("sh", ["-c", &script, "sh"]).arg(&tc))?;
    // The relocated compiler must find its libc in the sysroot, not in
    // Debian's /usr/arm-linux-gnueabihf.
    let libc = sh::output(&mut cmd(
        tc.join(format!("bin/{GCC}-gcc"))
            .to_str()
            .unwrap_or_default(),
        ["-print-file-name=libc.a"],
    ))?;
    if !Path::new(libc.trim()).starts_with(&tc) {
        bail!(
            "relocated toolchain {}: libc.a found at {}",
            tc.display(),
            libc.trim()
        );
    }
    fs::write(&stamp, version)?;
    Ok(tc)
}

/// Writes the override file (`BR2_PACKAGE_OVERRIDE_FILE`), the host-tool
/// shims and the host-rust-bin tree into `work`.
fn substitutes(p: &Project, tree: &Path, work: &Path) -> Result<()> {
    let shims = work.join("shims");
    let _ = fs::remove_dir_all(&shims);
    fs::create_dir_all(&shims)?;
    let mut mk = String::from(
        "# Written by `cargo board buildroot`: offline substitutes for what\n\
         # Buildroot would download (see board/host/src/tasks/buildroot.rs).\n",
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

/// `vendor/` in the checkout, where the nlchan package points cargo.
fn vendor(p: &Project) -> Result<()> {
    let mut c = cmd(&p.cargo(), ["vendor", "--locked", "--offline", "vendor"]);
    c.current_dir(&p.root);
    sh::logged("cargo vendor", &mut c, &p.out.join("vendor.log"))
        .context("cargo vendor --offline failed (crates not in cargo's cache?): run `cargo vendor --locked` in the checkout once, with crates.io reachable")?;
    Ok(())
}

/// The project's defconfig minus what [`REPLACED`] names, plus the offline
/// settings; `make defconfig` with it, then a check that every option
/// asked for is in the resulting `.config`.
fn configure(p: &Project, tree: &Path, work: &Path, tc: &Path, k: &Kernel) -> Result<()> {
    let base = fs::read_to_string(p.root.join(DEFCONFIG))?;
    let q = |p: &Path| format!("\"{}\"", p.display());
    let offline = [
        "BR2_TOOLCHAIN_EXTERNAL=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_CUSTOM=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_PREINSTALLED=y".into(),
        format!("BR2_TOOLCHAIN_EXTERNAL_PATH={}", q(tc)),
        format!("BR2_TOOLCHAIN_EXTERNAL_CUSTOM_PREFIX=\"{GCC}\""),
        format!("BR2_TOOLCHAIN_EXTERNAL_GCC_{GCC_VERSION}=y"),
        "BR2_TOOLCHAIN_EXTERNAL_HEADERS_6_1=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_HAS_SSP=y".into(),
        "BR2_TOOLCHAIN_EXTERNAL_OPENMP=y".into(),
        "# BR2_TOOLCHAIN_EXTERNAL_INET_RPC is not set".into(),
        "# BR2_TOOLCHAIN_EXTERNAL_CXX is not set".into(),
        format!("BR2_DL_DIR={}", q(&work.join("dl"))),
        "BR2_PRIMARY_SITE=\"file:///nlchan-offline-nothing-to-download\"".into(),
        "BR2_PRIMARY_SITE_ONLY=y".into(),
        format!(
            "BR2_PACKAGE_OVERRIDE_FILE={}",
            q(&work.join("nlchan-offline.mk"))
        ),
        "BR2_LINUX_KERNEL_USE_CUSTOM_CONFIG=y".into(),
        format!(
            "BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE={}",
            q(&k.build.join(".config"))
        ),
        "BR2_TARGET_ROOTFS_CPIO=y".into(),
        "BR2_PACKAGE_NLCHAN_TESTS=y".into(),
    ];
    let text = offline_defconfig(&base, &offline);
    let defconfig = work.join("nlchan_offline_defconfig");
    fs::write(&defconfig, &text)?;
    // The project's defconfig itself must also come out whole.
    let check = work.join("defconfig-check");
    defconfig_into(p, tree, &check, &p.root.join(DEFCONFIG), work)?;
    lost_in(&check, &base, DEFCONFIG)?;
    let _ = fs::remove_dir_all(&check);
    let out = work.join("output");
    fresh_output(
        p,
        &out,
        &text,
        &fs::read_to_string(work.join("nlchan-offline.mk"))?,
    )?;
    defconfig_into(p, tree, &out, &defconfig, work)?;
    lost_in(&out, &text, &defconfig.display().to_string())?;
    // Nothing may be left to download.
    let deps = sh::output(buildroot_make(&out).args(["-s", "external-deps"]))?;
    let missing: Vec<&str> = deps.lines().filter(|l| !l.starts_with("file://")).collect();
    if !missing.is_empty() {
        bail!(
            "this Buildroot would download:\n  {}\nadd those packages to SHIMS in board/host/src/tasks/buildroot.rs \
             (or their sources to the override file)",
            missing.join("\n  ")
        );
    }
    eprintln!("    {}", defconfig.display());
    Ok(())
}

/// `make defconfig` of `defconfig` into the output folder `out`.
fn defconfig_into(
    p: &Project,
    tree: &Path,
    out: &Path,
    defconfig: &Path,
    work: &Path,
) -> Result<()> {
    fs::create_dir_all(out)?;
    let mut c = cmd("make", ["-C"]);
    c.arg(tree)
        .arg(format!("O={}", out.display()))
        .arg(format!(
            "BR2_EXTERNAL={}",
            p.root.join("buildroot").display()
        ))
        .arg(format!("BR2_DEFCONFIG={}", defconfig.display()))
        .arg("defconfig");
    sh::logged("make defconfig", &mut c, &work.join("defconfig.log"))?;
    Ok(())
}

/// Fails unless `out/.config` has every option line of `asked` verbatim.
fn lost_in(out: &Path, asked: &str, name: &str) -> Result<()> {
    let config = fs::read_to_string(out.join(".config"))?;
    let lost = lost_options(asked, &config);
    if !lost.is_empty() {
        bail!(
            "Buildroot dropped or changed these options of {name} (a dependency is off in this Buildroot version):\n  {}",
            lost.join("\n  ")
        );
    }
    Ok(())
}

/// Buildroot rebuilds nothing when the toolchain, an override source or
/// the configuration changes under it: the output folder is removed when
/// any of them differs from the last build's (`out/.nlchan-inputs`).
fn fresh_output(p: &Project, out: &Path, defconfig: &str, overrides: &str) -> Result<()> {
    let (_, linux) = kernel::source(p)?;
    let busybox = fs::read_to_string(p.cache.join("busybox-src/.complete")).unwrap_or_default();
    let inputs = format!("{defconfig}\n{overrides}\nlinux-source {linux}\nbusybox {busybox}\n");
    let stamp = out.join(".nlchan-inputs");
    match fs::read_to_string(&stamp) {
        Ok(old) if old == inputs => return Ok(()),
        Ok(_) => eprintln!("    inputs changed since the last build: a full rebuild"),
        Err(_) => {}
    }
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| {
            format!(
                "cannot remove {} (is a build still running there?)",
                out.display()
            )
        })?;
    }
    fs::create_dir_all(out)?;
    fs::write(&stamp, inputs)?;
    Ok(())
}

/// The project's defconfig `base` without the options [`REPLACED`] names,
/// followed by `offline`.
fn offline_defconfig(base: &str, offline: &[String]) -> String {
    let mut out = String::new();
    let kept = base
        .lines()
        .filter(|l| !option_name(l).is_some_and(replaced));
    for l in kept.chain(offline.iter().map(String::as_str)) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The option a defconfig line sets (`BR2_X=...` or `# BR2_X is not set`).
fn option_name(line: &str) -> Option<&str> {
    let l = line.strip_prefix("# ").unwrap_or(line);
    let name = l.split(['=', ' ']).next()?;
    name.starts_with("BR2_").then_some(name)
}

/// The option lines of `asked` that `config` (the resulting `.config`)
/// does not have verbatim.
fn lost_options<'a>(asked: &'a str, config: &str) -> Vec<&'a str> {
    asked
        .lines()
        .filter(|l| option_name(l).is_some())
        .filter(|l| !config.lines().any(|c| c == *l))
        .collect()
}

/// `make -C out`, without the Rust and cargo settings this program runs
/// with (RUSTC would bypass the host-rust package's compiler).
fn buildroot_make(out: &Path) -> std::process::Command {
    let mut c = cmd("make", ["-C"]);
    c.arg(out);
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name.starts_with("CARGO") || name.starts_with("RUST") {
            c.env_remove(&k);
        }
    }
    c
}

/// A clean build of the nlchan packages, then the rest of the image.
fn make(out: &Path) -> Result<()> {
    let mut clean = buildroot_make(out);
    clean.args(["nlchan-dirclean", "nlchan-kmod-dirclean"]);
    sh::logged(
        "make dirclean",
        &mut clean,
        &out.join("nlchan-dirclean.log"),
    )?;
    let log = out.join("nlchan-build.log");
    let start = Instant::now();
    sh::logged("make", &mut buildroot_make(out), &log)?;
    eprintln!(
        "    built in {} (log: {})",
        sh::dur(start.elapsed()),
        log.display()
    );
    Ok(())
}

/// What the nlchan packages installed, by Buildroot's own record
/// (`build/packages-file-list.txt`, rewritten each time a package
/// installs, so files left in `target/` by an earlier build do not count):
/// the [`SHIPPED`] files by nlchan, `nlchan.ko` once by nlchan-kmod, no
/// RPATH in any of their ELF files (the patchelf shim cannot sanitise
/// one), no test tool copied from the checkout's own build, and the uapi
/// header in staging only.
fn check_target(p: &Project, out: &Path) -> Result<()> {
    let list = fs::read_to_string(out.join("build/packages-file-list.txt"))
        .context("Buildroot wrote no build/packages-file-list.txt")?;
    let of = |pkg: &str| -> Vec<String> {
        list.lines()
            .filter_map(|l| l.strip_prefix(pkg)?.strip_prefix(",./"))
            .map(str::to_string)
            .collect()
    };
    let (app, kmod) = (of("nlchan"), of("nlchan-kmod"));
    for f in SHIPPED {
        if !app.iter().any(|a| a == f) {
            bail!("the nlchan package did not install /{f}");
        }
    }
    let kos: Vec<&String> = kmod.iter().filter(|f| f.ends_with("/nlchan.ko")).collect();
    if kos.len() != 1 {
        bail!(
            "nlchan-kmod installed nlchan.ko {} times: {kos:?}",
            kos.len()
        );
    }
    let target = out.join("target");
    let readelf = out.join(format!("host/bin/{GCC}-readelf"));
    for f in app.iter().chain(&kmod) {
        let path = target.join(f);
        let bytes = fs::read(&path).unwrap_or_default();
        if !bytes.starts_with(b"\x7fELF") {
            continue; // scripts and data come from the checkout as they are
        }
        let dynamic = sh::output(cmd(readelf.to_str().unwrap_or("readelf"), ["-d"]).arg(&path))?;
        if dynamic.contains("(RPATH)") || dynamic.contains("(RUNPATH)") {
            bail!("/{f} has an RPATH:\n{dynamic}");
        }
        let name = f.rsplit('/').next().unwrap_or(f);
        let checkout = p.root.join("board/rootfs/tests").join(name);
        if fs::read(&checkout).ok().as_ref() == Some(&bytes) {
            bail!(
                "/{f} is the checkout's own build ({}), not Buildroot's",
                checkout.display()
            );
        }
    }
    if !out.join("staging/usr/include/linux/nlchan.h").is_file() {
        bail!("the uapi header is not in staging (usr/include/linux/nlchan.h)");
    }
    if target.join("usr/include/linux/nlchan.h").exists() {
        bail!("the uapi header is in the target");
    }
    let bin = target.join("usr/bin/nlchan");
    let size = fs::metadata(&bin)?.len();
    let file = sh::output(cmd("file", ["-b"]).arg(&bin))?;
    eprintln!("    nlchan: {} files; nlchan-kmod: /{}", app.len(), kos[0]);
    eprintln!("    /usr/bin/nlchan: {size} bytes, {}", file.trim());
    Ok(())
}

/// Boots Buildroot's kernel, device tree and root filesystem, logs in on
/// its getty,
/// checks it is that image, checks the init script, runs the smoke test,
/// then the smoke test again with the module on the seed's unit 30. The console and
/// QEMU logs go to `work`.
fn boot_and_smoke(work: &Path, version: &str, verbose: bool) -> Result<bool> {
    let out = work.join("output");
    let images = out.join("images");
    // The device tree the defconfig's post-build script gave the nlchan
    // node (it checks the node itself).
    let dtb = &out.join(format!("target/boot/{}", kernel::ORANGEPI_PC.dtb));
    let release = fs::read_to_string(out.join("build/linux-custom/include/config/kernel.release"))
        .context("Buildroot's kernel has no include/config/kernel.release")?;
    let built = Kernel {
        build: out.join("build/linux-custom"),
        release: release.trim().to_string(),
        zimage: images.join("zImage"),
        dtb: dtb.to_path_buf(),
    };
    let rootfs = images.join("rootfs.cpio");
    let (_emu, mut c): (qemu::Emulator, Console) = sh::step(
        "boot Buildroot's kernel and rootfs.cpio (QEMU orangepi-pc)",
        || {
            let start = Instant::now();
            let (emu, mut c) =
                qemu::boot(&kernel::ORANGEPI_PC, &built, dtb, &rootfs, work, verbose)?;
            shell::login(&mut c, "root", None, Duration::from_secs(180))?;
            shell::wait_for_shell(&mut c, Duration::from_secs(60))?;
            eprintln!(
                "    logged in as root after {} (console log: {})",
                sh::dur(start.elapsed()),
                work.join("console.log").display()
            );
            Ok((emu, c))
        },
    )?;
    sh::step(
        &format!("the board runs Buildroot {version} and {}", built.release),
        || {
            let want = format!("VERSION_ID={version}");
            shell::must(
                &mut c,
                &format!("grep -qx '{want}' /usr/lib/os-release"),
                Duration::from_secs(30),
            )?;
            let uname = shell::must(&mut c, "uname -r", Duration::from_secs(30))?;
            if !crate::report::ktap::lines(&uname)
                .iter()
                .any(|l| *l == built.release)
            {
                bail!("uname -r says {uname:?}, want {}", built.release);
            }
            Ok(())
        },
    )?;
    sh::step(
        "init script S50nlchan (ran at boot; status, stop, start)",
        || checks::check_sysv_init(&mut c),
    )?;
    let (report, _) = sh::step("smoke test over the serial console", || {
        checks::smoke(&mut c)
    })?;
    let unit30 = sh::step(
        "smoke test again, module on the seed's unit 30 (modprobe.d)",
        || checks::smoke_on_unit(&mut c, 30),
    )?;
    Ok(report.ok() && unit30.ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_defconfig_replaces_whole_option_names_only() {
        let base = "BR2_arm=y\nBR2_TARGET_UBOOT=y\nBR2_TARGET_UBOOT_FORMAT_CUSTOM=y\n\
                    BR2_SYSTEM_DHCP=\"eth0\"\nBR2_SYSTEM_DHCP_X=y\n\
                    # BR2_TARGET_ROOTFS_EXT2 is not set\nBR2_PACKAGE_NLCHAN=y\n";
        let out = offline_defconfig(base, &["BR2_TARGET_ROOTFS_CPIO=y".into()]);
        assert_eq!(
            out,
            "BR2_arm=y\nBR2_SYSTEM_DHCP_X=y\nBR2_PACKAGE_NLCHAN=y\nBR2_TARGET_ROOTFS_CPIO=y\n"
        );
    }

    #[test]
    fn an_option_kconfig_dropped_or_changed_is_reported() {
        let asked = "BR2_A=y\n# BR2_B is not set\nBR2_C=\"x\"\n# a comment\n";
        let config = "BR2_A=y\nBR2_B=y\nBR2_C=\"x\"\n";
        assert_eq!(lost_options(asked, config), vec!["# BR2_B is not set"]);
        assert!(lost_options(asked, "BR2_A=y\n# BR2_B is not set\nBR2_C=\"x\"\n").is_empty());
    }

    #[test]
    fn tree_version_needs_a_buildroot_tree_with_cargo_support() {
        let d = std::env::temp_dir().join(format!("nlchan-br-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("package")).unwrap();
        let e = tree_version(&d).unwrap_err().to_string();
        assert!(e.contains("no Makefile"), "{e}");
        fs::write(d.join("Makefile"), "export BR2_VERSION := 2026.02.3\n").unwrap();
        let e = tree_version(&d).unwrap_err().to_string();
        assert!(e.contains("pkg-cargo.mk"), "{e}");
        fs::write(d.join("package/pkg-cargo.mk"), "").unwrap();
        assert_eq!(tree_version(&d).unwrap(), "2026.02.3");
        fs::write(d.join("Makefile"), "all:\n").unwrap();
        assert!(tree_version(&d)
            .unwrap_err()
            .to_string()
            .contains("no BR2_VERSION"));
        fs::remove_dir_all(&d).unwrap();
    }
}
