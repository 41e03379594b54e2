// SPDX-License-Identifier: MIT OR Apache-2.0
//! The library as another program's dependency: `cargo package` makes the
//! `nlchan` crate's own package (what a path, git or registry dependency
//! sees, without the rest of the repository), a scratch crate outside the
//! checkout depends on it by path with `default-features = false`, `cargo
//! vendor` gathers its dependencies, and the scratch crate builds and runs
//! offline from the vendored sources alone (an empty `CARGO_HOME`). Its
//! dependency tree must hold nothing of the command line.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::run::project::Project;
use crate::run::sh::{self, cmd};

/// What the scratch crate does with the library: encode a request, decode
/// a reply, use a protocol constant. No module needed.
const CONSUMER_MAIN: &str = r#"use nlchan::netlink::NLM_F_REQUEST;
use nlchan::{Batch, Messages, Received};
use nlchan::{proto, Payload};

fn main() {
    let mut buf = [0u8; 256];
    let mut batch = Batch::new(&mut buf);
    batch
        .push(proto::MSG_REPLY, NLM_F_REQUEST, 7, b"vendored")
        .expect("push");
    let got: Vec<_> = Messages::new(batch.as_bytes()).collect();
    assert_eq!(got, [Ok(Received::Reply { seq: 7, payload: b"vendored" })]);
    assert!(Payload::new(&[0; proto::MSG_LEN + 1]).is_err());
    println!("nlchan consumer: ok (MSG_LEN {})", proto::MSG_LEN);
}
"#;

/// Crates of the command line that the library alone must not pull in.
const CLI_ONLY: &[&str] = &["env_logger", "lexopt"];

pub fn run(p: &Project) -> Result<bool> {
    let dir = p.out.join("vendor-check");
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    let stem = package(p, &dir)?;
    let consumer = vendored_consumer(p, &dir, &stem)?;
    // Offline, with nothing but the vendored sources: an empty CARGO_HOME.
    let home = dir.join("cargo-home");
    fs::create_dir_all(&home)?;
    let out = sh::output(
        cmd(&p.cargo(), ["run", "--offline", "--locked", "-q"])
            .current_dir(&consumer)
            .env("CARGO_HOME", &home)
            .env("CARGO_TARGET_DIR", dir.join("consumer-target")),
    )?;
    eprintln!("    {}", out.trim());
    Ok(out.contains("nlchan consumer: ok"))
}

/// The package exactly as cargo would publish it, unpacked in `dir`
/// (nothing of the checkout around it); returns its folder's name.
fn package(p: &Project, dir: &Path) -> Result<String> {
    sh::run(
        cmd(
            &p.cargo(),
            [
                "package",
                "-p",
                "nlchan",
                "--offline",
                "--allow-dirty",
                "--no-verify",
            ],
        )
        .arg("--target-dir")
        .arg(dir.join("target"))
        .current_dir(&p.root),
    )?;
    let crates: Vec<_> = fs::read_dir(dir.join("target/package"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "crate"))
        .collect();
    let [krate] = &crates[..] else {
        bail!("cargo package made {} .crate files, not one", crates.len());
    };
    sh::run(cmd("tar", ["-xzf"]).arg(krate).arg("-C").arg(dir))?;
    let stem = krate
        .file_stem()
        .context("crate file name")?
        .to_string_lossy()
        .into_owned();
    for outside in ["../kmod", "../Cargo.toml"] {
        if dir.join(&stem).join(outside).exists() {
            bail!("{} exists: the check would not be isolated", outside);
        }
    }
    Ok(stem)
}

/// A scratch crate in `dir` depending on the unpacked package `stem`
/// (`default-features = false`), its dependencies vendored; fails if the
/// library alone pulls in a crate of the command line. Returns its folder.
fn vendored_consumer(p: &Project, dir: &Path, stem: &str) -> Result<PathBuf> {
    let cargo = p.cargo();
    let consumer = dir.join("consumer");
    fs::create_dir_all(consumer.join("src"))?;
    fs::write(
        consumer.join("Cargo.toml"),
        format!(
            "[package]\nname = \"nlchan-consumer\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\n\
             nlchan = {{ path = \"../{stem}\", default-features = false }}\n\n[workspace]\n"
        ),
    )?;
    fs::write(consumer.join("src/main.rs"), CONSUMER_MAIN)?;
    sh::run(cmd(&cargo, ["generate-lockfile", "--offline"]).current_dir(&consumer))?;
    let config = sh::output(
        cmd(&cargo, ["vendor", "--offline", "--locked", "vendor"]).current_dir(&consumer),
    )?;
    fs::create_dir_all(consumer.join(".cargo"))?;
    fs::write(consumer.join(".cargo/config.toml"), config)?;
    let vendored: Vec<String> = fs::read_dir(consumer.join("vendor"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    eprintln!("    vendored: {}", sorted(&vendored).join(" "));
    let cli: Vec<&String> = vendored
        .iter()
        .filter(|v| CLI_ONLY.iter().any(|c| v.split('-').next() == Some(c)))
        .collect();
    if !cli.is_empty() {
        bail!("the library alone pulls in crates of the command line: {cli:?}");
    }
    Ok(consumer)
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}
