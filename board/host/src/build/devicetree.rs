// SPDX-License-Identifier: MIT OR Apache-2.0
//! The device-tree deliverables on upstream Allwinner boards: the overlay
//! (`board/dts/nlchan.dtso`) applied with `fdtoverlay` to DTBs built from
//! Debian's kernel source, the `.dtsi` fragment included in a board's
//! `.dts`, and the binding beside the driver
//! (`kmod/Documentation/devicetree/bindings/misc/nlchan,netlink-channel.yaml`)
//! checked with PyPI's dtschema (`dt-doc-validate`, then `dt-validate` on every DTB).

use crate::build::kernel::Kernel;
use crate::run::project::Project;
use crate::run::sh::{self, cmd};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Upstream boards whose DTB gets the overlay, besides the emulated Orange
/// Pi PC (H3): V3s and T3 boards, built from the same kernel source.
const BOARDS: [&str; 3] = [
    "sun8i-v3s-licheepi-zero",
    "sun8i-v3s-licheepi-zero-dock",
    "sun8i-t3-cqa3t-bv3",
];

/// Node the overlay and the fragment add.
const NODE: &str = "/netlink-test";
/// The node's compatibles as `fdtget` prints them: the vendor-prefixed one,
/// then the seed's.
pub const COMPATIBLE: &str = "nlchan,netlink-channel test-netlink";

/// The dtschema tool `tool` of the venv whose `bin` folder is `bin`
/// ([`crate::build::pytools::dtschema`]).
fn dtschema(bin: &Path, tool: &str) -> Command {
    Command::new(bin.join(tool))
}

/// Runs a command and returns stdout + stderr, whatever its exit status.
fn all_output(c: &mut Command) -> Result<(bool, String)> {
    let out = c
        .output()
        .with_context(|| format!("cannot run {:?}", c.get_program()))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), text))
}

/// Compiles an upstream board's .dts (cpp with the kernel's include paths,
/// then dtc), as `make dtbs` does.
fn upstream_dtb(src: &Path, board: &str, out: &Path) -> Result<PathBuf> {
    compile_dts(
        src,
        &src.join(format!("arch/arm/boot/dts/{board}.dts")),
        &[],
        out,
        board,
    )
}

fn compile_dts(src: &Path, dts: &Path, extra: &[&Path], out: &Path, name: &str) -> Result<PathBuf> {
    let pre = out.join(format!("{name}.dts.tmp"));
    let dtb = out.join(format!("{name}.dtb"));
    let mut c = cmd(
        "cpp",
        [
            "-nostdinc",
            "-undef",
            "-D__DTS__",
            "-x",
            "assembler-with-cpp",
        ],
    );
    for inc in [
        "include",
        "arch/arm/boot/dts",
        "scripts/dtc/include-prefixes",
    ] {
        c.arg("-I").arg(src.join(inc));
    }
    for inc in extra {
        c.arg("-I").arg(inc);
    }
    sh::run(c.arg("-o").arg(&pre).arg(dts))?;
    sh::run(
        cmd("dtc", ["-q", "-I", "dts", "-O", "dtb", "-o"])
            .arg(&dtb)
            .arg(&pre),
    )?;
    Ok(dtb)
}

/// The node's compatible, or None when `dtb` has no such node.
fn node_compatible(dtb: &Path) -> Result<Option<String>> {
    let out = cmd(
        "fdtget",
        [dtb.as_os_str(), NODE.as_ref(), "compatible".as_ref()],
    )
    .output()
    .context("cannot run fdtget (package device-tree-compiler)")?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
}

/// dt-validate with the binding's processed schema.
struct Validator {
    /// The `bin` folder of dtschema's venv.
    tools: PathBuf,
    /// The binding, processed by dt-mk-schema.
    schema: PathBuf,
}

impl Validator {
    /// Checks the binding with dt-doc-validate, then processes it into
    /// `out` for dt-validate.
    fn new(p: &Project, out: &Path) -> Result<Validator> {
        let tools = crate::build::pytools::dtschema(p)?;
        // The binding lives beside the driver, as in the kernel's tree.
        let bindings = p.root.join("kmod/Documentation/devicetree/bindings");
        let binding = bindings.join("misc/nlchan,netlink-channel.yaml");
        let (ok, text) = all_output(
            dtschema(&tools, "dt-doc-validate")
                .arg("-u")
                .arg(&bindings)
                .arg(&binding),
        )?;
        if !ok || !text.trim().is_empty() {
            bail!("dt-doc-validate {}:\n{text}", binding.display());
        }
        let schema = out.join("processed-schema.json");
        let json = sh::output(
            dtschema(&tools, "dt-mk-schema")
                .arg("-j")
                .arg("-u")
                .arg(&binding),
        )?;
        fs::write(&schema, json)?;
        eprintln!("    dt-doc-validate: {} ok", binding.display());
        Ok(Validator { tools, schema })
    }

    /// dt-validate's complaints about the nlchan node in `dtb` (other nodes
    /// are upstream's business: dtschema alone lacks their bindings).
    fn node_errors(&self, dtb: &Path) -> Result<Vec<String>> {
        // -m: a compatible that no schema matches is an error too (the
        // binding must be what accepts the node, and only its compatibles).
        let (_, text) = all_output(
            dtschema(&self.tools, "dt-validate")
                .arg("-m")
                .arg("-s")
                .arg(&self.schema)
                .arg(dtb),
        )?;
        // Lines start with the file's name (as given or relative), which
        // must not count as a match.
        Ok(text
            .lines()
            .filter(|l| {
                let l = l.split_once(".dtb: ").map_or(*l, |(_, rest)| rest);
                l.contains("netlink-test") || l.contains("test-netlink") || l.contains("nlchan,")
            })
            .map(str::to_string)
            .collect())
    }
}

/// Writes `base` with the overlay `dtbo` applied to `dtb` (`fdtoverlay`).
pub fn apply_overlay(base: &Path, dtbo: &Path, dtb: &Path) -> Result<()> {
    sh::run(
        cmd("fdtoverlay", ["-i"])
            .arg(base)
            .arg("-o")
            .arg(dtb)
            .arg(dtbo),
    )
}

/// Runs every device-tree check; returns whether all passed.
pub fn check(p: &Project, k: &Kernel) -> Result<bool> {
    let out = p.out.join("dt");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out)?;
    let v = Validator::new(p, &out)?;
    let mut failures = Vec::new();
    let checked = with_nlchan(p, k, &out, &mut failures)?;
    for (name, dtb) in &checked {
        let compat = node_compatible(dtb)?.unwrap_or_default();
        let errors = v.node_errors(dtb)?;
        if compat != COMPATIBLE {
            failures.push(format!("{name}: {NODE} compatible is {compat:?}"));
        } else if !errors.is_empty() {
            failures.push(format!("{name}: dt-validate:\n{}", errors.join("\n")));
        } else {
            eprintln!("    {name}: {NODE} compatible \"{COMPATIBLE}\", dt-validate clean");
        }
    }
    // Variants of one overlaid DTB, the emulated board's.
    check_compatibles(&v, &checked[1].1, &out, &mut failures)?;
    check_stray_property(&v, &checked[1].1, &out, &mut failures)?;
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    Ok(true)
}

/// The DTBs with the nlchan node, named: the emulated board's built with
/// the `.dtsi` fragment, then every upstream board's with the overlay
/// applied (each base must not have the node already, else a failure).
fn with_nlchan(
    p: &Project,
    k: &Kernel,
    out: &Path,
    failures: &mut Vec<String>,
) -> Result<Vec<(String, PathBuf)>> {
    let dts_dir = p.root.join("board/dts");
    let dtbo = out.join("nlchan.dtbo");
    sh::run(
        cmd("dtc", ["-q", "-@", "-I", "dts", "-O", "dtb", "-o"])
            .arg(&dtbo)
            .arg(dts_dir.join("nlchan.dtso")),
    )?;
    let (src, _) = crate::build::kernel::source(p)?;
    let mut bases = vec![("sun8i-h3-orangepi-pc".to_string(), k.dtb.clone())];
    for b in BOARDS {
        bases.push((b.to_string(), upstream_dtb(&src, b, out)?));
    }
    // The .dtsi way: a board .dts including upstream's and the fragment.
    let with_dtsi = out.join("orangepi-pc-nlchan.dts");
    fs::write(
        &with_dtsi,
        "#include \"sun8i-h3-orangepi-pc.dts\"\n#include \"nlchan.dtsi\"\n",
    )?;
    let dtsi_dtb = compile_dts(&src, &with_dtsi, &[&dts_dir], out, "orangepi-pc-nlchan")?;

    let mut checked = vec![("sun8i-h3-orangepi-pc + nlchan.dtsi".to_string(), dtsi_dtb)];
    for (name, base) in &bases {
        if node_compatible(base)?.is_some() {
            failures.push(format!("{name}: upstream DTB already has {NODE}"));
        }
        let dtb = out.join(format!("{name}-nlchan.dtb"));
        apply_overlay(base, &dtbo, &dtb)?;
        checked.push((format!("{name} + nlchan.dtbo"), dtb));
    }
    Ok(checked)
}

/// Each compatible alone is valid (the seed's device trees have only
/// "test-netlink"); another one is not. Tried on copies of `sample`.
fn check_compatibles(
    v: &Validator,
    sample: &Path,
    out: &Path,
    failures: &mut Vec<String>,
) -> Result<()> {
    for (i, (compat, valid)) in [
        ("nlchan,netlink-channel", true),
        ("test-netlink", true),
        ("nlchan,other", false),
    ]
    .into_iter()
    .enumerate()
    {
        // Named by number: a name holding the compatible would match the filter.
        let dtb = out.join(format!("compatible-{i}.dtb"));
        fs::copy(sample, &dtb)?;
        sh::run(
            cmd("fdtput", ["-t", "s"])
                .arg(&dtb)
                .args([NODE, "compatible", compat]),
        )?;
        let errors = v.node_errors(&dtb)?;
        if errors.is_empty() != valid {
            failures.push(format!(
                "compatible {compat:?} alone: dt-validate {}",
                if valid {
                    format!("refuses it:\n{}", errors.join("\n"))
                } else {
                    "accepts it".to_string()
                }
            ));
        } else {
            eprintln!(
                "    compatible {compat:?} alone: {}",
                if valid { "valid" } else { "refused" }
            );
        }
    }
    Ok(())
}

/// The schema must apply: a copy of `sample` whose node has a stray
/// property is refused.
fn check_stray_property(
    v: &Validator,
    sample: &Path,
    out: &Path,
    failures: &mut Vec<String>,
) -> Result<()> {
    let bad = out.join("stray-property.dtb");
    fs::copy(sample, &bad)?;
    sh::run(
        cmd("fdtput", ["-t", "s"])
            .arg(&bad)
            .args([NODE, "stray", "x"]),
    )?;
    if v.node_errors(&bad)?.is_empty() {
        failures.push(
            "dt-validate accepts a stray property in the node: the binding is not applied".into(),
        );
    }
    Ok(())
}
