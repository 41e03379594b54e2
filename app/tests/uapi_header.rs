// SPDX-License-Identifier: MIT OR Apache-2.0
//! Checks `nlchan::proto` against the kernel module's uapi header as a C
//! compiler sees it: every `NLCHAN_*` macro the preprocessor defines must be
//! in `proto::DEFINES` with the same value (and nothing else may be), and each
//! typed constant the library uses (integers and strings, protocol v1 and the
//! generic netlink constants of v2) must equal its C value.
//!
//! Needs a host C compiler (`$CC`, else `cc`); without one the test fails.
//! Works when this test runs under qemu-user: the compiler and the compiled
//! program are host binaries, started with plain `execve`.

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use nlchan::proto::{self, Define};

/// Directory holding `uapi/linux/nlchan.h`.
fn include_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kmod/include")
}

fn work_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "uapi-header-{}-{}",
        env!("NLCHAN_TARGET_ENV").to_lowercase(),
        std::process::id()
    ));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn cc() -> String {
    env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

/// Runs the C compiler with `args`, returning its stdout.
fn run_cc(args: &[&str]) -> String {
    let cc = cc();
    let missing = |why: &str| -> ! {
        panic!(
            "cannot run the C compiler {cc:?} ({why}): this test needs one; \
             install it with `apt-get install gcc` (or set CC)"
        )
    };
    let output = match Command::new(&cc).args(args).output() {
        Ok(output) => output,
        Err(e) => missing(&e.to_string()),
    };
    // Under qemu-user a failed exec shows up as exit status 127.
    if output.status.code() == Some(127) && output.stderr.is_empty() {
        missing("exit status 127");
    }
    assert!(
        output.status.success(),
        "{cc} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The `NLCHAN_*` macros the preprocessor sees, with their raw text.
fn macros(dir: &Path) -> BTreeMap<String, String> {
    let src = dir.join("list.c");
    fs::write(&src, "#include <uapi/linux/nlchan.h>\n").unwrap();
    let inc = include_dir();
    let text = run_cc(&[
        "-dM",
        "-E",
        "-I",
        inc.to_str().unwrap(),
        src.to_str().unwrap(),
    ]);
    text.lines()
        .filter_map(|l| l.strip_prefix("#define "))
        .filter(|l| l.starts_with("NLCHAN_"))
        .map(|l| {
            let (name, value) = l.split_once(' ').unwrap_or((l, ""));
            (name.to_string(), value.trim().to_string())
        })
        .collect()
}

/// Compiles and runs a program printing each macro's value as C computes it.
fn c_values(dir: &Path, macros: &BTreeMap<String, String>) -> BTreeMap<String, Define> {
    let mut src =
        String::from("#include <stdio.h>\n#include <uapi/linux/nlchan.h>\nint main(void)\n{\n");
    for (name, raw) in macros {
        if raw.starts_with('"') {
            src += &format!("\tprintf(\"{name} s %s\\n\", {name});\n");
        } else {
            src += &format!("\tprintf(\"{name} i %llu\\n\", (unsigned long long)({name}));\n");
        }
    }
    src += "\treturn 0;\n}\n";
    let c_file = dir.join("print.c");
    let exe = dir.join("print");
    fs::write(&c_file, src).unwrap();
    let inc = include_dir();
    run_cc(&[
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-I",
        inc.to_str().unwrap(),
        "-o",
        exe.to_str().unwrap(),
        c_file.to_str().unwrap(),
    ]);
    let output = Command::new(&exe)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
    assert!(output.status.success(), "{} failed", exe.display());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let (name, kind, value) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap_or(""),
            );
            let value = match kind {
                "i" => Define::Int(value.parse().unwrap()),
                // Leaked once per test run: DEFINES holds &'static str.
                _ => Define::Str(Box::leak(value.to_string().into_boxed_str())),
            };
            (name.to_string(), value)
        })
        .collect()
}

// Protocol sanity the module relies on, checked when this test builds: the
// payload attribute is a real one within ATTR_MAX, the family version is
// not 0, the default unit is one the module accepts.
const _: () = assert!(proto::ATTR_PAYLOAD != proto::ATTR_UNSPEC);
const _: () = assert!(proto::ATTR_PAYLOAD <= proto::ATTR_MAX);
const _: () = assert!(proto::GENL_VERSION >= 1);
const _: () = assert!(proto::UNIT_MIN <= proto::UNIT_SEED);
const _: () = assert!(proto::UNIT_SEED < proto::UNIT_LIMIT);

#[test]
fn proto_matches_the_uapi_header() {
    let dir = work_dir();
    let macros = macros(&dir);
    assert!(
        macros.len() >= 10,
        "only {} NLCHAN_ macros found: {macros:?}",
        macros.len()
    );
    let c = c_values(&dir, &macros);
    assert_eq!(c.len(), macros.len());

    // The generated table and the C view hold the same names and values.
    let rust: BTreeMap<String, Define> = proto::DEFINES
        .iter()
        .map(|(name, value)| (name.to_string(), *value))
        .collect();
    assert_eq!(rust, c, "proto::DEFINES differs from the C header");

    // Each typed constant the library uses equals its C value.
    let int = |name: &str| match c.get(name) {
        Some(Define::Int(v)) => *v,
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(u64::from(proto::PROTO_VERSION), int("NLCHAN_PROTO_VERSION"));
    assert_eq!(u64::from(proto::UNIT_SEED), int("NLCHAN_UNIT_SEED"));
    assert_eq!(u64::from(proto::GROUP), int("NLCHAN_GROUP"));
    assert_eq!(proto::MSG_LEN as u64, int("NLCHAN_MSG_LEN"));
    assert_eq!(u64::from(proto::MSG_SEND), int("NLCHAN_MSG_SEND"));
    assert_eq!(u64::from(proto::MSG_ECHO), int("NLCHAN_MSG_ECHO"));
    assert_eq!(u64::from(proto::MSG_REPLY), int("NLCHAN_MSG_REPLY"));
    assert_eq!(u64::from(proto::MSG_BROADCAST), int("NLCHAN_MSG_BROADCAST"));
    assert_eq!(u64::from(proto::MSG_SEED), int("NLCHAN_MSG_SEED"));
    assert_eq!(u64::from(proto::F_GATHER), int("NLCHAN_F_GATHER"));
    assert_eq!(proto::GATHER_MAX as u64, int("NLCHAN_GATHER_MAX"));
    assert_eq!(
        c.get("NLCHAN_GREETING"),
        Some(&Define::Str(proto::GREETING))
    );
    assert_eq!(u64::from(proto::UNIT_MIN), int("NLCHAN_UNIT_MIN"));
    assert_eq!(u64::from(proto::UNIT_LIMIT), int("NLCHAN_UNIT_LIMIT"));
    // Version 2: generic netlink.
    for (name, value) in [
        ("NLCHAN_GENL_NAME", proto::GENL_NAME),
        ("NLCHAN_GENL_MCGRP", proto::GENL_MCGRP),
    ] {
        assert_eq!(c.get(name), Some(&Define::Str(value)), "{name}");
    }
    assert_eq!(u64::from(proto::GENL_VERSION), int("NLCHAN_GENL_VERSION"));
    let cmds = [
        (proto::CMD_UNSPEC, "NLCHAN_CMD_UNSPEC"),
        (proto::CMD_SEND, "NLCHAN_CMD_SEND"),
        (proto::CMD_ECHO, "NLCHAN_CMD_ECHO"),
        (proto::CMD_REPLY, "NLCHAN_CMD_REPLY"),
        (proto::CMD_BROADCAST, "NLCHAN_CMD_BROADCAST"),
    ];
    for (value, name) in cmds {
        assert_eq!(u64::from(value), int(name), "{name}");
    }
    for (value, name) in [
        (proto::ATTR_UNSPEC, "NLCHAN_ATTR_UNSPEC"),
        (proto::ATTR_PAYLOAD, "NLCHAN_ATTR_PAYLOAD"),
        (proto::ATTR_MAX, "NLCHAN_ATTR_MAX"),
    ] {
        assert_eq!(u64::from(value), int(name), "{name}");
    }
    // Generic netlink sanity (more in the const checks above): names fit
    // GENL_NAMSIZ (16, with the NUL), commands are distinct and only
    // UNSPEC is 0.
    assert!(nlchan::nlctrl::valid_name(proto::GENL_NAME));
    assert!(nlchan::nlctrl::valid_name(proto::GENL_MCGRP));
    for (i, (cmd, name)) in cmds.iter().enumerate() {
        assert_eq!(*cmd == 0, i == 0, "{name}");
        assert!(!cmds[i + 1..].iter().any(|(c, _)| c == cmd), "{name} twice");
    }
    // Protocol sanity the kernel relies on: distinct types, not control
    // types, and a payload that fits a one-page sysfs write.
    let types = [
        proto::MSG_SEND,
        proto::MSG_ECHO,
        proto::MSG_REPLY,
        proto::MSG_BROADCAST,
    ];
    for (i, t) in types.iter().enumerate() {
        assert!(*t >= 0x10, "type {t:#x} is below NLMSG_MIN_TYPE");
        assert!(!types[i + 1..].contains(t), "type {t:#x} used twice");
    }
    assert!(proto::UNIT_LIMIT == 32 && proto::GREETING.len() <= proto::MSG_LEN);
    fs::remove_dir_all(dir).unwrap();
}
