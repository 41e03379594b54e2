// SPDX-License-Identifier: MIT OR Apache-2.0
//! The image's busybox, built like a real image's: Debian's busybox source
//! package (downloaded by board/bootstrap.sh into the cache's
//! `busybox-src`, through a private deb-src list), cross-compiled static
//! for the board's architecture with only the options of the board's
//! `busybox.config` (what
//! Buildroot's and OpenWrt's default configurations both enable), plus a
//! second binary with only the module tools (`busybox-modutils.config`).
//! Cached under `busybox-<arch>-<source version>-<key>`, the key made of
//! the architecture, the two fragments and this file (the recipe); built
//! only when an image is.

use crate::build::kernel::{fnv, Board};
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// The recipe, part of the cache key: a change here rebuilds busybox.
const RECIPE: &str = include_str!("busybox.rs");
/// Build settings added to every fragment: a static binary (the initramfs
/// has no libc) and busybox's own crypt() (Debian's cross libcs have no
/// libcrypt.a).
const SETTINGS: &str = "CONFIG_STATIC=y\nCONFIG_USE_BB_CRYPT=y\n";

/// A busybox build: `busybox`, `busybox.links` (its applets, one absolute
/// path a line, as busybox's `make install` links them), `modutils` and
/// `modutils.links` (the separate module tools build), and the `.config`
/// of each (`busybox.config`, `modutils.config`).
pub struct Busybox {
    dir: PathBuf,
}

impl Busybox {
    /// One file of the build, by name (see [`Busybox`]).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Builds (or reuses) the busybox of `board`'s image: the fragments of its
/// user space's folder, its architecture's cross compiler.
pub fn build(p: &Project, board: &Board) -> Result<Busybox> {
    let src = p.cache.join("busybox-src");
    let version = fs::read_to_string(src.join(".complete")).with_context(|| {
        format!(
            "Debian's busybox source is not in {}: run `sudo ./board/bootstrap.sh` (it downloads it)",
            src.display()
        )
    })?;
    let version = version.trim();
    let dir = p.root.join("board").join(board.userspace);
    let arch = board.arch;
    let fragments = [
        dir.join("busybox.config"),
        dir.join("busybox-modutils.config"),
    ];
    let mut texts = Vec::new();
    for f in &fragments {
        texts.push(fs::read(f).with_context(|| format!("cannot read {}", f.display()))?);
    }
    let mut parts: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
    parts.push(RECIPE.as_bytes());
    parts.push(arch.cross_compile.as_bytes());
    let out = p.cache.join(format!(
        "busybox-{}-{version}-{:016x}",
        arch.name,
        fnv(&parts)
    ));
    let _lock = sh::lock(&p.cache.join(".busybox.lock"), "busybox build")?;
    if out.join(".complete").exists() {
        eprintln!("    cached: {}", out.display());
        return Ok(Busybox { dir: out });
    }
    eprintln!(
        "    building busybox {version} (static {}, {}; a few minutes, cached afterwards)",
        arch.name,
        fragments[0].display()
    );
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out)?;
    let cross = arch.make_cross();
    build_one(p, &src, &fragments[0], &out, "busybox", &cross)?;
    build_one(p, &src, &fragments[1], &out, "modutils", &cross)?;
    fs::write(out.join(".complete"), "")?;
    Ok(Busybox { dir: out })
}

/// A scratch folder removed when dropped, whatever happened.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Builds `out/<name>` and `out/<name>.links` (and `out/<name>.config`)
/// from a copy of `src` with the options of `frag` (see [`make`]), compiled
/// with `cross` (`CROSS_COMPILE=...`). Fails if an option of `frag` did not
/// stay on.
fn build_one(
    p: &Project,
    src: &Path,
    frag: &Path,
    out: &Path,
    name: &str,
    cross: &str,
) -> Result<()> {
    let scratch = Scratch(
        p.cache
            .join(format!(".busybox-build.{}", std::process::id())),
    );
    let b = scratch.0.as_path();
    let _ = fs::remove_dir_all(b);
    fs::create_dir_all(b)?;
    sh::run(cmd("cp", ["-a"]).arg(src.join(".")).arg(b))?;
    let text =
        fs::read_to_string(frag).with_context(|| format!("cannot read {}", frag.display()))?;
    let mut fragment = lines(text.lines().filter(|l| l.starts_with("CONFIG_")));
    fragment.push_str(SETTINGS);

    let log = out.join(format!("{name}-build.log"));
    fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    make(
        b,
        &fragment,
        cross,
        &format!("busybox build ({name})"),
        &log,
    )?;
    let config = fs::read_to_string(b.join(".config"))?;
    if let Some(o) = dropped_option(&fragment, &config) {
        bail!(
            "busybox ({name}): {o}=y of {} did not survive oldconfig (a dependency is off)",
            frag.display()
        );
    }
    for (from, to) in [
        ("busybox", name.to_string()),
        ("busybox.links", format!("{name}.links")),
        (".config", format!("{name}.config")),
    ] {
        fs::copy(b.join(from), out.join(&to))
            .with_context(|| format!("cannot copy {from} of the busybox build"))?;
    }
    Ok(())
}

/// In the busybox tree `b`: allnoconfig, then `fragment`'s options replace
/// allnoconfig's, oldconfig answers the rest (int and string options) with
/// busybox's defaults, and make (`cross`: `CROSS_COMPILE=...`) builds
/// busybox and busybox.links; all logged to `log`.
fn make(b: &Path, fragment: &str, cross: &str, what: &str, log: &Path) -> Result<()> {
    let make = |args: &[&str]| {
        let mut c = cmd("make", args);
        c.current_dir(b);
        c
    };
    sh::logged_append(what, &mut make(&["allnoconfig"]), log)?;
    let config = b.join(".config");
    let merged = merge_fragment(&fs::read_to_string(&config)?, fragment);
    fs::write(&config, merged)?;
    // `yes '' | make oldconfig`: every question gets its default.
    let answers = b.join("answers");
    fs::write(&answers, "\n".repeat(100_000))?;
    sh::logged_append(
        what,
        make(&["oldconfig"]).stdin(fs::File::open(&answers)?),
        log,
    )?;
    sh::logged_append(
        what,
        &mut make(&["-j2", cross, "busybox", "busybox.links"]),
        log,
    )?;
    Ok(())
}

/// The option a `CONFIG_<NAME>=...` line sets.
fn option_of(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("CONFIG_")?;
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    rest[end..]
        .starts_with('=')
        .then(|| &line[.."CONFIG_".len() + end])
}

/// The lines, each ended by a newline.
fn lines<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// Whether `line` sets an int or string option (`=0`, `=-1`, `=""`).
fn sets_a_value(line: &str) -> bool {
    match option_of(line) {
        Some(o) => {
            let v = &line[o.len() + 1..];
            v.starts_with('"')
                || v.trim_start_matches('-')
                    .starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// allnoconfig's `.config` with the fragment's options replacing its own.
/// allnoconfig also wrote the int and string options of the applets it
/// turned off as 0 and "": those are dropped too, so that oldconfig gives
/// them busybox's defaults once the fragment enables them.
fn merge_fragment(config: &str, fragment: &str) -> String {
    let names: Vec<&str> = fragment.lines().filter_map(option_of).collect();
    let mentions_a_name = |l: &str| {
        l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|w| names.contains(&w))
    };
    let mut out = lines(
        config
            .lines()
            .filter(|l| !mentions_a_name(l) && !sets_a_value(l)),
    );
    out.push_str(fragment);
    out
}

/// The first `=y` option of the fragment that this busybox version knows
/// (an option of a newer one is skipped) and that is not on in `config`.
fn dropped_option<'a>(fragment: &'a str, config: &str) -> Option<&'a str> {
    fragment
        .lines()
        .filter(|l| l.ends_with("=y"))
        .filter_map(option_of)
        .filter(|o| {
            config
                .lines()
                .any(|l| option_of(l) == Some(*o) || l.starts_with(&format!("# {o} is not set")))
        })
        .find(|o| !config.lines().any(|l| l == format!("{o}=y")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fragment_replaces_allnoconfig_and_its_zero_values() {
        let config = "# CONFIG_LS is not set\nCONFIG_LS_COLOR_WIDTH=0\n\
                      CONFIG_PREFIX=\"\"\nCONFIG_NEG=-1\n# CONFIG_CAT is not set\n\
                      CONFIG_KEEP=n\n";
        let got = merge_fragment(config, "CONFIG_LS=y\n");
        assert_eq!(got, "# CONFIG_CAT is not set\nCONFIG_KEEP=n\nCONFIG_LS=y\n");
    }

    #[test]
    fn an_option_turned_off_is_found_an_unknown_one_skipped() {
        let fragment = "CONFIG_A=y\nCONFIG_B=y\nCONFIG_NEW=y\n";
        assert_eq!(dropped_option(fragment, "CONFIG_A=y\nCONFIG_B=y\n"), None);
        assert_eq!(
            dropped_option(fragment, "CONFIG_A=y\n# CONFIG_B is not set\n"),
            Some("CONFIG_B")
        );
    }
}
