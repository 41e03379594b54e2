//! The module's compatibility matrix: nlchan.ko built out of tree, with
//! `W=1`, against each kernel source Debian's archive offers (5.10 from
//! bullseye, 6.1 from bookworm, 6.12 from bookworm-backports) for
//! `ARCH=arm` (`multi_v7_defconfig` + `modules_prepare`, cached), then
//! sparse (`C=2`, the issue asks for 6.1; it is clean on all three) and the
//! module's metadata read back with `modinfo`.
//!
//! A tree prepared with `modules_prepare` has no `Module.symvers`, so
//! modpost runs with `KBUILD_MODPOST_WARN=1` and cannot tell whether the
//! module's imports exist (it lists only the first ten, or none on 5.10).
//! Instead every undefined symbol of nlchan.ko (`nm -u`) must be exported
//! (`EXPORT_SYMBOL*`) by that kernel's source.

use crate::kernel::{self, fnv};
use crate::project::{Project, CROSS_COMPILE};
use crate::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Bump when the preparation recipe below changes, to redo cached trees.
const RECIPE: &str = "1";
/// A real ARM config: the one multi-platform ARMv7 kernels (and the
/// Orange Pi PC's H3) are built from.
const CONFIG: &str = "multi_v7_defconfig";

/// A kernel of the matrix and where its source comes from.
struct Target {
    /// Short version, as in the table.
    version: &'static str,
    /// Debian's source package.
    pkg: &'static str,
}

const TARGETS: [Target; 3] = [
    Target {
        version: "5.10",
        pkg: "linux-source-5.10",
    },
    Target {
        version: "6.1",
        pkg: "linux-source-6.1",
    },
    Target {
        version: "6.12",
        pkg: "linux-source-6.12",
    },
];

/// The module parameters `modinfo` must list, each with a description.
const PARAMS: [&str; 3] = ["unit", "allow_unprivileged", "own_device"];
/// Alias for the device-tree node (`compatible = "test-netlink"`).
const OF_ALIAS: &str = "of:N*T*Ctest-netlink";
/// The same, for a node with more compatibles after "test-netlink".
const OF_ALIAS_MORE: &str = "of:N*T*Ctest-netlinkC*";
/// Alias for `socket(AF_NETLINK, ..., 30)` (PF_NETLINK is 16).
const NET_ALIAS: &str = "net-pf-16-proto-30";

/// One row of the table.
#[derive(Default)]
struct Row {
    /// `uname -r` of the prepared tree and the Debian package version.
    release: String,
    warnings: Option<usize>,
    undefined: Option<usize>,
    sparse: Option<usize>,
    modinfo: Option<bool>,
    error: Option<String>,
}

impl Row {
    fn ok(&self) -> bool {
        self.error.is_none()
            && self.warnings == Some(0)
            && self.sparse == Some(0)
            && self.modinfo == Some(true)
    }
}

/// Runs the matrix, prints its table; returns whether every kernel passed.
pub fn run(p: &Project) -> Result<bool> {
    let mut rows = Vec::new();
    for t in &TARGETS {
        let mut row = Row::default();
        if let Err(e) = sh::step(&format!("kernel {} ({})", t.version, t.pkg), || {
            check(p, t, &mut row)
        }) {
            eprintln!("    {e:#}");
            row.error = Some(format!("{e:#}"));
        }
        rows.push(row);
    }
    print_table(&rows);
    Ok(rows.iter().all(Row::ok))
}

fn check(p: &Project, t: &Target, row: &mut Row) -> Result<()> {
    let (src, version) = if t.pkg == "linux-source-6.1" {
        kernel::source(p)?
    } else {
        deb_source(p, t.pkg)?
    };
    let kdir = prepare(p, t, &src, &version)?;
    row.release = fs::read_to_string(kdir.join("include/config/kernel.release"))?
        .trim()
        .to_string();
    let release = row.release.clone();

    let dir = p.out.join("matrix").join(t.version).join("kmod");
    copy_kmod(&p.root.join("kmod"), &dir)?;
    let log = sh::logged(
        "module build (W=1)",
        &mut module_make(&dir, &kdir, &["W=1"]),
        &dir.join("../build.log"),
    )?;
    let found = warnings(&log);
    row.warnings = Some(found.len());
    for w in &found {
        eprintln!("    {w}");
    }

    let undefined = undefined_symbols(&dir.join("nlchan.ko"))?;
    let missing = unexported(&src, &undefined)?;
    row.undefined = Some(undefined.len());
    if !missing.is_empty() {
        bail!(
            "the module imports symbols {} does not export: {}",
            t.pkg,
            missing.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    eprintln!(
        "    imports: {} undefined symbols (nm -u), all exported by {} {version}",
        undefined.len(),
        t.pkg
    );

    row.sparse = Some(sparse(&dir, &kdir)?);

    let info = sh::output(&mut cmd("modinfo", [dir.join("nlchan.ko")]))?;
    let missing = modinfo_gaps(&info, &release);
    row.release = format!("{release} ({version})");
    for m in &missing {
        eprintln!("    modinfo: {m}");
    }
    row.modinfo = Some(missing.is_empty());
    Ok(())
}

/// Runs sparse on every source of the module (`C=2` checks them all, built
/// or not); returns how many reports it printed.
fn sparse(dir: &Path, kdir: &Path) -> Result<usize> {
    let log = sh::logged(
        "sparse (C=2)",
        &mut module_make(dir, kdir, &["W=1", "C=2"]),
        &dir.join("../sparse.log"),
    )?;
    let checked = log
        .lines()
        .filter(|l| l.trim_start().starts_with("CHECK"))
        .count();
    let sources = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".c") && !n.ends_with(".mod.c"))
        .count();
    if checked < sources {
        bail!("sparse checked {checked} of {sources} source files (is sparse installed?)");
    }
    let reports = warnings(&log);
    for w in &reports {
        eprintln!("    {w}");
    }
    Ok(reports.len())
}

/// Finds the downloaded package of `pkg` and unpacks its source into the
/// cache (once per version).
fn deb_source(p: &Project, pkg: &str) -> Result<(PathBuf, String)> {
    let debs = p.cache.join("kernel-debs");
    let prefix = format!("{pkg}_");
    let deb = fs::read_dir(&debs)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .max()
        .with_context(|| {
            format!(
                "no {pkg} package in {}: run `sudo board/bootstrap.sh matrix`, which downloads it",
                debs.display()
            )
        })?;
    let version = sh::output(cmd("dpkg-deb", ["-f"]).arg(&deb).arg("Version"))?
        .trim()
        .to_string();
    let top = p.cache.join("src");
    let src = top.join(pkg);
    let stamp = top.join(format!("{pkg}.unpacked"));
    if fs::read_to_string(&stamp).ok().as_deref() == Some(version.as_str()) {
        return Ok((src, version));
    }
    eprintln!("    unpacking {pkg} {version}");
    let _ = fs::remove_dir_all(&src);
    fs::create_dir_all(&top)?;
    // dpkg-deb --fsys-tarfile | tar -xO <tarball> | tar -xJ, without a shell.
    let mut deb_tar = cmd("dpkg-deb", ["--fsys-tarfile"])
        .arg(&deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run dpkg-deb")?;
    let mut inner = cmd("tar", ["-xO"])
        .arg(format!("./usr/src/{pkg}.tar.xz"))
        .stdin(deb_tar.stdout.take().expect("piped"))
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run tar")?;
    let unpacked = cmd("tar", ["-xJ", "-C"])
        .arg(&top)
        .stdin(inner.stdout.take().expect("piped"))
        .status()
        .context("cannot run tar")?;
    let (a, b) = (deb_tar.wait()?, inner.wait()?);
    if !(a.success() && b.success() && unpacked.success()) {
        bail!("unpacking {} failed", deb.display());
    }
    if !src.join("Makefile").exists() {
        bail!("{} did not unpack into {}", deb.display(), src.display());
    }
    fs::write(&stamp, &version)?;
    Ok((src, version))
}

fn kbuild(src: &Path, build: &Path) -> Command {
    let mut c = cmd("make", ["-s", "-C"]);
    c.arg(src)
        .arg(format!("O={}", build.display()))
        .arg("ARCH=arm")
        .arg(format!("CROSS_COMPILE={CROSS_COMPILE}"));
    c
}

/// Configures the tree and runs `modules_prepare` into a cached `O=`
/// folder keyed on the source version, the config and this recipe.
fn prepare(p: &Project, t: &Target, src: &Path, version: &str) -> Result<PathBuf> {
    let key = fnv(&[version.as_bytes(), CONFIG.as_bytes(), RECIPE.as_bytes()]);
    let build = p
        .cache
        .join(format!("kernel/matrix-{}-{key:016x}", t.version));
    let stamp = build.join(".nlchan-prepared");
    if stamp.exists() {
        eprintln!("    cached: {}", build.display());
        return Ok(build);
    }
    eprintln!(
        "    {CONFIG} + modules_prepare of {} {version} (about a minute, cached afterwards)",
        t.pkg
    );
    let _ = fs::remove_dir_all(&build);
    fs::create_dir_all(&build)?;
    sh::logged(
        CONFIG,
        kbuild(src, &build).arg(CONFIG),
        &build.join("config.log"),
    )?;
    let jobs = format!(
        "-j{}",
        std::thread::available_parallelism().map_or(2, |n| n.get() + 1)
    );
    sh::logged(
        "modules_prepare",
        kbuild(src, &build).args([jobs.as_str(), "modules_prepare"]),
        &build.join("prepare.log"),
    )?;
    fs::write(&stamp, key.to_string())?;
    Ok(build)
}

/// Copies what kbuild needs of kmod/ (Kbuild, Makefile, sources, headers
/// and the include/ tree) into a fresh `dest`, so that builds never see the
/// main build's objects.
fn copy_kmod(from: &Path, dest: &Path) -> Result<()> {
    let _ = fs::remove_dir_all(dest);
    fs::create_dir_all(dest)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.starts_with('.') {
            continue;
        }
        if e.file_type()?.is_dir() {
            // include/ and every folder below it.
            if name == "include" || from.ancestors().any(|a| a.ends_with("include")) {
                copy_kmod(&path, &dest.join(&name))?;
            }
        } else if name == "Kbuild"
            || name == "Makefile"
            || (name.ends_with(".c") && !name.ends_with(".mod.c"))
            || name.ends_with(".h")
        {
            fs::copy(&path, dest.join(&name))
                .with_context(|| format!("cannot copy {}", path.display()))?;
        }
    }
    Ok(())
}

/// `make -C <kmod copy> KDIR=... ARCH=arm CROSS_COMPILE=... <extra>`.
fn module_make(dir: &Path, kdir: &Path, extra: &[&str]) -> Command {
    let mut c = cmd("make", ["-C"]);
    c.arg(dir)
        .arg(format!("KDIR={}", kdir.display()))
        .arg("ARCH=arm")
        .arg(format!("CROSS_COMPILE={CROSS_COMPILE}"))
        .args(extra)
        // No Module.symvers after modules_prepare: see the module docs.
        .env("KBUILD_MODPOST_WARN", "1");
    c
}

/// Compiler and sparse diagnostics, and any modpost warning other than
/// those about unresolved symbols (checked against the kernel's exports).
fn warnings(log: &str) -> Vec<&str> {
    const UNRESOLVED: [&str; 3] = [
        "undefined!",
        "unresolved symbol warnings because there were too many",
        "Symbol info of vmlinux is missing",
    ];
    log.lines()
        .filter(|l| {
            l.contains("warning:")
                || l.contains("error:")
                || (l.contains("modpost:") && !UNRESOLVED.iter().any(|u| l.contains(u)))
        })
        .collect()
}

/// The module's imports: its undefined symbols (`nm -u`).
fn undefined_symbols(ko: &Path) -> Result<BTreeSet<String>> {
    let out = sh::output(cmd(&format!("{CROSS_COMPILE}nm"), ["-u"]).arg(ko))?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(str::to_string)
        .collect())
}

/// The symbols of `syms` that no `EXPORT_SYMBOL*()` of the source exports.
fn unexported(src: &Path, syms: &BTreeSet<String>) -> Result<BTreeSet<String>> {
    if syms.is_empty() {
        return Ok(BTreeSet::new());
    }
    let names: Vec<&str> = syms.iter().map(String::as_str).collect();
    // param_ops_<type> are exported by STANDARD_PARAM_DEF(<type>, ...).
    let types: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_prefix("param_ops_"))
        .collect();
    let mut pattern = format!(r"EXPORT_SYMBOL[A-Z_]*\(\s*({})\s*[,)]", names.join("|"));
    if !types.is_empty() {
        pattern += &format!(r"|STANDARD_PARAM_DEF\(\s*({})\s*,", types.join("|"));
    }
    let out = cmd(
        "grep",
        [
            "-rhoE",
            "--include=*.c",
            "--include=*.h",
            "--include=*.S",
            "--exclude-dir=Documentation",
            "--exclude-dir=tools",
            "--exclude-dir=samples",
        ],
    )
    .arg(&pattern)
    .arg(src)
    .stderr(Stdio::inherit())
    .output()
    .context("cannot run grep")?;
    // 1 is "no match": then every symbol is missing.
    if out.status.code().is_none_or(|c| c > 1) {
        bail!("grep for the kernel's exports failed ({})", out.status);
    }
    let found: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('('))
        .map(|(macro_name, rest)| {
            let sym = rest.trim_start().trim_end_matches([')', ',']).trim();
            if macro_name == "STANDARD_PARAM_DEF" {
                format!("param_ops_{sym}")
            } else {
                sym.to_string()
            }
        })
        .collect();
    Ok(syms.difference(&found).cloned().collect())
}

/// Checks what `modinfo` shows for a module built against `release`;
/// returns what is missing (empty: all there).
fn modinfo_gaps(text: &str, release: &str) -> Vec<String> {
    let fields: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let values = |key: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .collect()
    };
    let mut missing = Vec::new();
    for key in ["description", "author", "license", "version"] {
        if values(key).iter().all(|v| v.is_empty()) {
            missing.push(format!("no {key}"));
        }
    }
    if values("license") != ["GPL"] {
        missing.push(format!("license is {:?}, not GPL", values("license")));
    }
    // parm: <name>:<description> (<type>)
    let parms = values("parm");
    for name in PARAMS {
        let described = parms.iter().any(|v| {
            v.strip_prefix(name)
                .and_then(|r| r.strip_prefix(':'))
                .and_then(|r| r.rsplit_once(" ("))
                .is_some_and(|(desc, ty)| !desc.trim().is_empty() && ty.ends_with(')'))
        });
        if !described {
            missing.push(format!("parameter {name} with a description and a type"));
        }
    }
    let vermagic = values("vermagic");
    if !vermagic
        .iter()
        .any(|v| v.split(' ').next() == Some(release))
    {
        missing.push(format!("vermagic of {release} (has {vermagic:?})"));
    }
    let aliases = values("alias");
    for want in [OF_ALIAS, OF_ALIAS_MORE, NET_ALIAS] {
        if !aliases.contains(&want) {
            missing.push(format!("alias {want} (has {aliases:?})"));
        }
    }
    missing
}

fn print_table(rows: &[Row]) {
    let count = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
    eprintln!();
    eprintln!(
        "  {:<7} {:<29} {:<9} {:<9} {:<8} {:<8} result",
        "kernel", "release (Debian package)", "W=1 warn", "imports", "sparse", "modinfo"
    );
    for (t, r) in TARGETS.iter().zip(rows) {
        let sparse = match r.sparse {
            Some(0) => "clean".to_string(),
            n => count(n),
        };
        let modinfo = match r.modinfo {
            Some(true) => "ok",
            Some(false) => "FAIL",
            None => "-",
        };
        let result = match &r.error {
            Some(e) => {
                let first = e.lines().next().unwrap_or("");
                format!("ERROR: {}", first.chars().take(70).collect::<String>())
            }
            None if r.ok() => "pass".to_string(),
            None => "FAIL".to_string(),
        };
        eprintln!(
            "  {:<7} {:<29} {:<9} {:<9} {:<8} {:<8} {result}",
            t.version,
            if r.release.is_empty() {
                "-"
            } else {
                &r.release
            },
            count(r.warnings),
            count(r.undefined),
            sparse,
            modinfo,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
  CC [M]  /x/nlchan_main.o
/x/nlchan_main.c:3:1: warning: unused variable 'a' [-Wunused-variable]
  MODPOST /x/Module.symvers
WARNING: modpost: \"netlink_ack\" [/x/nlchan.ko] undefined!
WARNING: modpost: suppressed 14 unresolved symbol warnings because there were too many)
WARNING: modpost: Symbol info of vmlinux is missing. Unresolved symbol check will be entirely skipped.
WARNING: modpost: /x/nlchan.o: section mismatch in reference: a (section: .text) -> b (section: .init.text)
";

    #[test]
    fn finds_warnings_but_not_unresolved_symbols() {
        let w = warnings(LOG);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("unused variable"));
        assert!(w[1].contains("section mismatch"));
    }

    const MODINFO: &str = "\
filename:       /x/nlchan.ko
alias:          net-pf-16-proto-30
version:        0.1.0
license:        GPL
author:         nlchan developers
description:    Netlink channel between user space and the kernel
alias:          of:N*T*Ctest-netlinkC*
alias:          of:N*T*Ctest-netlink
depends:        
name:           nlchan
vermagic:       6.1.176 SMP mod_unload ARMv7 p2v8 
parm:           unit:Netlink unit, below 32 (default 30) (uint)
parm:           allow_unprivileged:Accept requests from senders without CAP_NET_ADMIN (default: no) (bool)
parm:           own_device:Register an \"nlchan\" platform device (default: no) (bool)
";

    #[test]
    fn modinfo_complete() {
        assert_eq!(modinfo_gaps(MODINFO, "6.1.176"), Vec::<String>::new());
    }

    #[test]
    fn modinfo_gaps_found() {
        let text = MODINFO
            .replace("version:        0.1.0\n", "")
            .replace("alias:          net-pf-16-proto-30\n", "")
            .replace(
                "own_device:Register an \"nlchan\" platform device (default: no) (bool)",
                "own_device: (bool)",
            );
        let gaps = modinfo_gaps(&text, "6.12.95");
        assert_eq!(gaps.len(), 4, "{gaps:?}");
        assert!(gaps[0].contains("version"));
        assert!(gaps[1].contains("own_device"));
        assert!(gaps[2].contains("vermagic"));
        assert!(gaps[3].contains("net-pf-16-proto-30"));
    }

    #[test]
    fn finds_unexported_symbols() {
        let dir = std::env::temp_dir().join(format!("nlchan-matrix-{}", std::process::id()));
        fs::create_dir_all(dir.join("net")).unwrap();
        fs::write(
            dir.join("net/a.c"),
            "EXPORT_SYMBOL(netlink_ack);\nEXPORT_SYMBOL_NS_GPL(foo, BAR);\n// netlink_rcv_skb\n\
             STANDARD_PARAM_DEF(uint,\tunsigned int, \"%u\", kstrtouint);\n",
        )
        .unwrap();
        let syms: BTreeSet<String> = [
            "netlink_ack",
            "foo",
            "netlink_rcv_skb",
            "param_ops_uint",
            "param_ops_ulong",
        ]
        .map(String::from)
        .into();
        let missing: Vec<String> = unexported(&dir, &syms).unwrap().into_iter().collect();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(missing, ["netlink_rcv_skb", "param_ops_ulong"]);
    }
}
