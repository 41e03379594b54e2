// SPDX-License-Identifier: MIT OR Apache-2.0
//! Black-box tests of the `nlchan` binary: argument errors, exit codes and
//! output formats that need no kernel module. sysfs is replaced by a
//! directory of the test's own (`NLCHAN_SYSFS_ROOT`).
//!
//! When the tests are cross-built and run under qemu-user, the binary is an
//! ARM program too; it is started through the same runner
//! (`CARGO_TARGET_<TRIPLE>_RUNNER`, else `qemu-<arch>-static`).

use std::env;
use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_nlchan");
const TOO_LONG: &str =
    "nlchan: error: payload is 126 bytes, the maximum is 125; nothing was sent\n";

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{}-{}-{name}",
        env!("NLCHAN_TARGET_ENV").to_lowercase(),
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// How to start the binary: directly, or through a runner (argv prefix).
fn runner() -> &'static Option<Vec<OsString>> {
    static RUNNER: OnceLock<Option<Vec<OsString>>> = OnceLock::new();
    RUNNER.get_or_init(|| {
        let var = concat!("CARGO_TARGET_", env!("NLCHAN_TARGET_ENV"), "_RUNNER");
        if let Ok(value) = env::var(var) {
            let argv: Vec<OsString> = value.split_whitespace().map(OsString::from).collect();
            if !argv.is_empty() {
                return Some(argv);
            }
        }
        if runs(&[]) {
            return None;
        }
        // A cross-built binary the host cannot exec (the runner came from a
        // cargo config file, not the environment): use qemu-user.
        let qemu = if cfg!(target_arch = "aarch64") {
            "qemu-aarch64-static"
        } else {
            "qemu-arm-static"
        };
        let argv = vec![OsString::from(qemu)];
        assert!(runs(&argv), "cannot run {BIN}, directly or with {qemu}");
        Some(argv)
    })
}

/// True when `runner BIN --version` works.
fn runs(runner: &[OsString]) -> bool {
    let mut cmd = match runner.split_first() {
        Some((first, rest)) => {
            let mut cmd = Command::new(first);
            cmd.args(rest).arg(BIN);
            cmd
        }
        None => Command::new(BIN),
    };
    cmd.arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"nlchan "))
}

/// Runs `nlchan args` with `sysfs` as its sysfs root.
fn nlchan(args: &[&str], sysfs: &Path) -> Output {
    command(args, sysfs)
        .output()
        .unwrap_or_else(|e| panic!("running {BIN}: {e}"))
}

/// The command `nlchan args` with `sysfs` as its sysfs root, to start.
fn command(args: &[&str], sysfs: &Path) -> Command {
    let mut cmd = match runner() {
        Some(argv) => {
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]).arg(BIN);
            cmd
        }
        None => Command::new(BIN),
    };
    cmd.args(args)
        .env("NLCHAN_SYSFS_ROOT", sysfs)
        .env_remove("RUST_LOG");
    cmd
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("killed by a signal")
}

/// A fake sysfs with the module loaded, its `unit` parameter reading
/// `unit` (a number, or "none": generic netlink only), and one device.
fn fake_sysfs(name: &str, unit: &str, with_device: bool) -> PathBuf {
    let root = scratch(name);
    fs::create_dir_all(root.join("module/nlchan/parameters")).unwrap();
    fs::write(
        root.join("module/nlchan/parameters/unit"),
        format!("{unit}\n"),
    )
    .unwrap();
    let drv = root.join("bus/platform/drivers/nlchan");
    fs::create_dir_all(&drv).unwrap();
    fs::write(drv.join("uevent"), "").unwrap();
    if with_device {
        let dev = drv.join("netlink-test");
        fs::create_dir_all(&dev).unwrap();
        fs::write(dev.join("send_msg"), "").unwrap();
        for (name, value) in [
            ("received", "7"),
            ("replied", "4"),
            ("errors", "2"),
            ("dropped", "1"),
            ("broadcast", "5"),
            ("broadcast_lost", "1"),
            ("log_suppressed", "3"),
            ("unit", unit),
        ] {
            fs::write(dev.join(name), format!("{value}\n")).unwrap();
        }
    }
    root
}

#[test]
fn no_command_is_a_usage_error() {
    let root = scratch("nocmd");
    let out = nlchan(&[], &root);
    assert_eq!(code(&out), 64);
    assert!(stderr(&out).starts_with("nlchan: error: no command given\nusage: nlchan"));
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_arguments_exit_64() {
    let root = scratch("badargs");
    for args in [
        &["frobnicate"][..],
        &["--unit", "32", "send", "x"],
        &["--unit", "abc", "status"],
        &["--timeout", "0", "send", "x"],
        &["send"],
        &["send", "a", "b"],
        &["send", "--bogus", "x"],
        &["listen", "--count", "0"],
        &["status", "now"],
        &["trigger", "--timeout", "1", "x"],
        &["--timeout", "1", "trigger", "x"],
        &["--timeout", "1", "status"],
        &["--count", "1", "listen"],
        &["ping", "-s=0"],
        &["listen", "--json=yes"],
    ] {
        let out = nlchan(args, &root);
        assert_eq!(code(&out), 64, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("nlchan: error: "), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_and_version() {
    let root = scratch("help");
    for flag in ["-h", "--help"] {
        let out = nlchan(&[flag], &root);
        assert_eq!(code(&out), 0);
        let text = stdout(&out);
        assert!(text.starts_with(
            "usage: nlchan [--transport unit|genl] [--unit N] [--timeout SECS] <command> \
             [args]\n"
        ));
        for cmd in [
            "send", "echo", "listen", "trigger", "status", "ping", "bench",
        ] {
            assert!(text.contains(&format!("\n  {cmd} ")), "{cmd} missing");
        }
        assert!(text.contains("\n  --transport unit|genl\n"));
        assert!(text.contains("NLCHAN_NO_SO_MEMINFO=1"));
    }
    let out = nlchan(&["listen", "--help"], &root);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("listen [--count N] [--timeout SECS]"));
    let out = nlchan(&["send", "-h"], &root);
    assert!(stdout(&out).contains("send <text>"));
    let out = nlchan(&["-V"], &root);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        format!("nlchan {} (protocol 2)\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn too_long_payload_exits_65_and_sends_nothing() {
    let root = fake_sysfs("toolong", "30", true);
    let text = "y".repeat(126);
    for cmd in ["send", "echo", "trigger"] {
        let out = nlchan(&[cmd, &text], &root);
        assert_eq!(code(&out), 65, "{cmd}");
        assert_eq!(stderr(&out), TOO_LONG, "{cmd}");
        assert!(out.stdout.is_empty(), "{cmd}");
    }
    // Nothing reached the trigger file.
    let send_msg = root.join("bus/platform/drivers/nlchan/netlink-test/send_msg");
    assert_eq!(fs::read(send_msg).unwrap(), b"");
}

/// The message when the module is not loaded, for the sysfs root `root`.
fn not_loaded(root: &Path) -> String {
    format!(
        "nlchan: error: the nlchan kernel module is not loaded (no {}/module/nlchan, no \
         generic netlink family \"nlchan\"); load it with `modprobe nlchan` or `insmod \
         nlchan.ko`\n",
        root.display()
    )
}

#[test]
fn without_the_module_every_command_exits_69() {
    // An empty sysfs root: no classic unit is ever tried, whatever holds
    // unit 30 (another driver on BSP kernels), and nlctrl knows no family
    // "nlchan" on the test machine.
    let root = scratch("nomodule");
    let max = "z".repeat(125);
    for args in [
        &["send", "hello"][..],
        &["echo", &max],
        &["listen"],
        &["--timeout", "1", "listen", "--count", "1"],
        &["ping", "-c", "1"],
        &["bench", "-c", "1"],
        &["--transport", "unit", "send", "x"],
        &["--transport", "genl", "send", "x"],
        &["--unit", "30", "echo", "x"],
    ] {
        let out = nlchan(args, &root);
        assert_eq!(code(&out), 69, "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), not_loaded(&root), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_unit_the_module_does_not_own_is_refused() {
    // The fake module owns unit 29; asking for 30 is refused before any
    // socket is opened.
    let root = fake_sysfs("otherunit", "29", false);
    for args in [
        &["--unit", "30", "--timeout", "1", "send", "x"][..],
        &["--unit=30", "listen"],
        &["--unit", "30", "--transport", "unit", "status"],
    ] {
        let out = nlchan(args, &root);
        assert_eq!(code(&out), 69, "{args:?}");
        assert!(
            stderr(&out).ends_with(
                "nlchan: error: netlink unit 30 is not nlchan's: the loaded nlchan module \
                 uses unit 29; pass --unit 29 or leave --unit out\n"
            ),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn generic_netlink_only_module() {
    // unit reads "none": the classic unit cannot be forced.
    let root = fake_sysfs("genl-only", "none", false);
    let param = root.join("module/nlchan/parameters/unit");
    for args in [
        &["--transport", "unit", "send", "x"][..],
        &["--unit", "30", "listen"],
    ] {
        let out = nlchan(args, &root);
        assert_eq!(code(&out), 69, "{args:?}");
        assert_eq!(
            stderr(&out),
            format!(
                "nlchan: error: the nlchan module has no classic netlink unit: it serves \
                 generic netlink only ({} is \"none\", the default); leave out --transport \
                 unit and --unit, or reload the module with unit=N for a free unit N from 23 \
                 to 31 (the seed's clients use 30)\n",
                param.display()
            ),
            "{args:?}"
        );
    }
    // By default it goes to generic netlink, whose family the test machine
    // does not have.
    let out = nlchan(&["send", "x"], &root);
    assert_eq!(code(&out), 69);
    assert_eq!(
        stderr(&out),
        "nlchan: error: the nlchan module is loaded but its generic netlink family \
         \"nlchan\" is not registered (a module older than protocol v2?); use its classic \
         unit\n"
    );
}

#[test]
fn transport_option_errors_exit_64() {
    let root = fake_sysfs("transport-usage", "30", false);
    for (args, msg) in [
        (
            &["--transport", "udp", "send", "x"][..],
            "--transport \"udp\": expected unit or genl",
        ),
        (
            &["--transport", "genl", "--unit", "30", "send", "x"],
            "--unit is the classic unit's; it cannot go with --transport genl",
        ),
        (&["send", "--transport"], "--transport needs a value"),
    ] {
        let out = nlchan(args, &root);
        assert_eq!(code(&out), 64, "{args:?}");
        assert!(
            stderr(&out).starts_with(&format!("nlchan: error: {msg}\n")),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn status_with_a_device() {
    let root = fake_sysfs("status", "29", true);
    let out = nlchan(&["status"], &root);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let dev = fs::canonicalize(root.join("bus/platform/drivers/nlchan/netlink-test")).unwrap();
    assert_eq!(
        stdout(&out),
        format!(
            "module: loaded\nunit: 29\ntransports: unit 29\nselected: unit 29\ndevice: {}\n\
             received: 7\nreplied: 4\nerrors: 2\ndropped: 1\nbroadcast: 5\nbroadcast_lost: 1\n\
             log_suppressed: 3\n",
            dev.display()
        )
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn status_without_a_device() {
    let root = fake_sysfs("status-nodev", "30", false);
    let out = nlchan(&["status"], &root);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "module: loaded\nunit: 30\ntransports: unit 30\nselected: unit 30\ndevice: none\n"
    );
    // Generic netlink asked for, and missing (on the test machine).
    let out = nlchan(&["--transport", "genl", "status"], &root);
    assert_eq!(code(&out), 69);
    assert_eq!(
        stdout(&out),
        "module: loaded\nunit: 30\ntransports: unit 30\nselected: none\ndevice: none\n"
    );
    assert!(stderr(&out).contains("generic netlink family \"nlchan\" is not registered"));
}

#[test]
fn status_of_a_module_without_a_transport_exits_69() {
    let root = fake_sysfs("status-genl", "none", false);
    let out = nlchan(&["status"], &root);
    assert_eq!(code(&out), 69);
    assert_eq!(
        stdout(&out),
        "module: loaded\nunit: none (generic netlink only)\ntransports: none\nselected: none\n\
         device: none\n"
    );
    assert_eq!(
        stderr(&out),
        "nlchan: error: the nlchan module is loaded but serves no transport: no classic unit \
         and no generic netlink family\n"
    );
}

#[test]
fn status_without_the_module_exits_69() {
    let root = scratch("status-nomod");
    let out = nlchan(&["status"], &root);
    assert_eq!(code(&out), 69);
    assert_eq!(
        stdout(&out),
        "module: not loaded\nunit: none\ntransports: none\nselected: none\ndevice: none\n"
    );
    assert_eq!(stderr(&out), not_loaded(&root));
}

#[test]
fn trigger_writes_exactly_the_text() {
    let root = fake_sysfs("trigger", "30", true);
    let send_msg = root.join("bus/platform/drivers/nlchan/netlink-test/send_msg");
    let out = nlchan(&["trigger", "hello board"], &root);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    assert_eq!(fs::read(&send_msg).unwrap(), b"hello board");
    // 125 bytes plus the newline the module strips is accepted.
    fs::write(&send_msg, "").unwrap();
    let text = format!("{}\n", "n".repeat(125));
    assert_eq!(code(&nlchan(&["trigger", &text], &root)), 0);
    assert_eq!(fs::read(&send_msg).unwrap(), text.as_bytes());
}

#[test]
fn trigger_refuses_empty_text() {
    let root = fake_sysfs("trigger-empty", "30", true);
    for text in ["", "\n"] {
        let out = nlchan(&["trigger", text], &root);
        assert_eq!(code(&out), 65);
        assert!(stderr(&out).contains("empty; nothing was sent"));
    }
}

#[test]
fn trigger_without_a_device_exits_69() {
    let root = fake_sysfs("trigger-nodev", "30", false);
    let out = nlchan(&["trigger", "x"], &root);
    assert_eq!(code(&out), 69);
    let err = stderr(&out);
    assert!(
        err.contains("compatible \"nlchan,netlink-channel\" (or the seed's \"test-netlink\")"),
        "{err}"
    );
    assert!(err.contains("own_device=1"), "{err}");

    let root = scratch("trigger-nomod");
    let out = nlchan(&["trigger", "x"], &root);
    assert_eq!(code(&out), 69);
    assert!(stderr(&out).contains("`modprobe nlchan`"));
}

#[test]
fn trigger_write_failure_exits_74() {
    // send_msg that cannot be written as a file (a directory): EISDIR.
    let root = fake_sysfs("trigger-eisdir", "30", true);
    let send_msg = root.join("bus/platform/drivers/nlchan/netlink-test/send_msg");
    fs::remove_file(&send_msg).unwrap();
    fs::create_dir(&send_msg).unwrap();
    let out = nlchan(&["trigger", "x"], &root);
    assert_eq!(code(&out), 74, "{}", stderr(&out));
    assert!(stderr(&out).starts_with("nlchan: error: writing "));
}

// `listen` on NETLINK_ROUTE (unit 0, named by the fake module's `unit`
// parameter), which exists everywhere (also under qemu-user) and whose
// group 1 (link changes) is quiet on a test machine.

#[test]
fn listen_announces_itself_and_stops_at_the_timeout() {
    let root = fake_sysfs("listen-timeout", "0", false);
    let start = std::time::Instant::now();
    let out = nlchan(&["listen", "--timeout", "0.3"], &root);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "nlchan: listening on unit 0 group 1\n");
    assert!(out.stdout.is_empty());
    assert!(start.elapsed() >= std::time::Duration::from_millis(300));
}

#[test]
fn listen_count_not_reached_exits_75() {
    let root = fake_sysfs("listen-count", "0", false);
    let out = nlchan(&["--unit=0", "--timeout=0.2", "listen", "--count=1"], &root);
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "nlchan: listening on unit 0 group 1\n\
         nlchan: error: received 0 of 1 broadcasts within 200ms\n"
    );
}

#[test]
fn listen_json_end_line_says_how_losses_are_counted() {
    let root = fake_sysfs("listen-json", "0", false);
    let end = |o: &Output| {
        let text = stdout(o);
        assert_eq!(text.lines().count(), 1, "{text}");
        let line = text.trim_end().to_string();
        assert!(line.starts_with("{\"time\":"), "{line}");
        line.split_once(",\"missed\"").unwrap().1.to_string()
    };
    let out = nlchan(&["listen", "--json", "--timeout", "0.2"], &root);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // SO_MEMINFO is there on the test machine's kernel, not under qemu-user.
    let tail = end(&out);
    assert!(
        [
            ":0,\"late\":0,\"loss_from\":\"so_meminfo\",\"event\":\"end\",\"received\":0,\"lost\":0}",
            ":0,\"late\":0,\"loss_from\":\"seq_gaps\",\"event\":\"end\",\"received\":0,\"lost\":0}",
        ]
        .contains(&tail.as_str()),
        "{tail}"
    );
    // As on a kernel before 4.12.
    let out = command(&["listen", "--json", "--timeout", "0.2"], &root)
        .env("NLCHAN_NO_SO_MEMINFO", "1")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        end(&out),
        ":0,\"late\":0,\"loss_from\":\"seq_gaps\",\"event\":\"end\",\"received\":0,\"lost\":0}"
    );
}

#[test]
fn a_text_after_dashes_is_a_payload() {
    // Parsed as a payload, so the command gets as far as the module.
    let root = scratch("dashes");
    for args in [&["send", "--", "-x"][..], &["echo", "--", "--json"]] {
        let out = nlchan(args, &root);
        assert_eq!(code(&out), 69, "{args:?}: {}", stderr(&out));
    }
}

/// Runs `args` with stdout a pipe whose reader is gone.
fn with_closed_stdout(args: &[&str], root: &Path) -> Output {
    let mut child = command(args, root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_ends_quietly_with_status_0() {
    let root = fake_sysfs("closed-stdout", "0", false);
    let out = with_closed_stdout(&["--help"], &root);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    // The end line of listen --json meets the closed pipe.
    let out = with_closed_stdout(&["listen", "--json", "--timeout", "0.2"], &root);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "nlchan: listening on unit 0 group 1\n");
}

#[test]
fn status_verdict_survives_a_closed_stdout() {
    // `nlchan status | grep -q …`: the exit status is still the verdict.
    let root = scratch("status-nomod-closed");
    let out = with_closed_stdout(&["status"], &root);
    assert_eq!(code(&out), 69, "{}", stderr(&out));
    assert_eq!(stderr(&out), not_loaded(&root));
    let root = fake_sysfs("status-closed", "29", true);
    let out = with_closed_stdout(&["status"], &root);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// Starts `listen --json` (no end), waits for its announcement, sends it
/// `signal` and returns what it printed.
fn listen_until(signal: nix::libc::c_int, root: &Path) -> Output {
    let mut child = command(&["listen", "--json"], root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut announced = Vec::new();
    let mut byte = [0u8; 1];
    while !announced.ends_with(b"\n") && err.read(&mut byte).unwrap() == 1 {
        announced.push(byte[0]);
    }
    assert_eq!(announced, b"nlchan: listening on unit 0 group 1\n");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(
        unsafe { nix::libc::kill(child.id() as nix::libc::pid_t, signal) },
        0
    );
    let mut out = child.wait_with_output().unwrap();
    err.read_to_end(&mut out.stderr).unwrap();
    out
}

#[test]
fn sigint_and_sigterm_end_listen_with_its_end_line() {
    let root = fake_sysfs("listen-signal", "0", false);
    for signal in [nix::libc::SIGINT, nix::libc::SIGTERM] {
        let out = listen_until(signal, &root);
        assert_eq!(code(&out), 0, "signal {signal}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.starts_with("{\"time\":"), "{text}");
        assert!(
            text.ends_with("\"event\":\"end\",\"received\":0,\"lost\":0}\n"),
            "{text}"
        );
    }
}
