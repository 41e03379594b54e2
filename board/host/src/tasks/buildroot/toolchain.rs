// SPDX-License-Identifier: MIT OR Apache-2.0
//! Debian's cross gcc made a relocated external toolchain for Buildroot.

use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// Debian's cross compiler, made an external toolchain.
pub(super) const GCC: &str = "arm-linux-gnueabihf";
pub(super) const GCC_VERSION: &str = "12";

/// Debian's cross gcc as a relocated external toolchain: the compiler
/// driver and its `lib/gcc-cross` copied (gcc finds its parts relative to
/// itself), binutils linked, and a sysroot in the usual layout (`lib`,
/// `usr/lib`, `usr/include`) from Debian's `/usr/arm-linux-gnueabihf`,
/// whose linker scripts are made sysroot-relative. `gcc` and `cpp` are
/// scripts passing that sysroot; `gcc -v` names it in place of `/`.
pub(super) fn relocated_toolchain(p: &Project) -> Result<PathBuf> {
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
    let script = relocate_script();
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

/// The shell script that makes the relocated toolchain in `$1`.
fn relocate_script() -> String {
    format!(
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
    )
}
