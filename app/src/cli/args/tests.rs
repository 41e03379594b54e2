// SPDX-License-Identifier: MIT OR Apache-2.0
//! The option table and the parser: every command line the command
//! documents, and every way to get one wrong.

use std::ffi::OsString;

use super::*;

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

fn parsed(list: &[&str]) -> Result<(Command, Options), UsageError> {
    parse(&args(list))
}

#[test]
fn parses_commands_and_options() {
    let (cmd, opts) = parsed(&["--unit", "29", "send", "hi there"]).unwrap();
    assert_eq!(cmd, Command::Send(b"hi there".to_vec()));
    assert_eq!(opts.unit, Some(29));
    let (cmd, opts) = parsed(&["listen", "--count=3", "--timeout", "1.5"]).unwrap();
    assert_eq!(cmd, Command::Listen);
    assert_eq!(opts.count, Some(3));
    assert_eq!(opts.timeout, Some(Duration::from_millis(1500)));
    for (text, d) in [
        ("2", Duration::from_secs(2)),
        ("0.25", Duration::from_millis(250)),
        (".5", Duration::from_millis(500)),
        ("3.", Duration::from_secs(3)),
        ("0.000000001", Duration::from_nanos(1)),
    ] {
        assert_eq!(parse_secs("--timeout", text), Ok(d), "{text}");
    }
    let (cmd, _) = parsed(&["echo", "--", "-x"]).unwrap();
    assert_eq!(cmd, Command::Echo(b"-x".to_vec()));
    let (cmd, _) = parsed(&["send", "--", "-x"]).unwrap();
    assert_eq!(cmd, Command::Send(b"-x".to_vec()));
    let (cmd, _) = parsed(&["trigger", "-"]).unwrap();
    assert_eq!(cmd, Command::Trigger(b"-".to_vec()));
    assert_eq!(parsed(&["status"]).unwrap().0, Command::Status);
    let (cmd, opts) = parsed(&["ping", "-c", "5", "-s0", "--batch", "64", "--json"]).unwrap();
    assert_eq!(cmd, Command::Ping);
    assert_eq!(
        (opts.count, opts.size, opts.batch, opts.json),
        (Some(5), Some(0), Some(64), true)
    );
    for form in [
        &["-c5"][..],
        &["-c", "5"],
        &["--count=5"],
        &["--count", "5"],
    ] {
        let mut line = vec!["ping"];
        line.extend_from_slice(form);
        assert_eq!(parsed(&line).unwrap().1.count, Some(5), "{form:?}");
    }
    let (cmd, opts) = parsed(&["listen", "--json", "--idle", "0.5"]).unwrap();
    assert_eq!(cmd, Command::Listen);
    assert_eq!(
        (opts.json, opts.idle),
        (true, Some(Duration::from_millis(500)))
    );
    let (cmd, opts) = parsed(&["trigger", "--repeat", "3", "x"]).unwrap();
    assert_eq!(
        (cmd, opts.repeat),
        (Command::Trigger(b"x".to_vec()), Some(3))
    );
    let (cmd, opts) = parsed(&["bench", "--count=7", "--size", "125"]).unwrap();
    assert_eq!(
        (cmd, opts.count, opts.size),
        (Command::Bench, Some(7), Some(125))
    );
    let (_, opts) = parsed(&["--timeout", "3", "bench"]).unwrap();
    assert_eq!(opts.timeout, Some(Duration::from_secs(3)));
    assert_eq!(
        parsed(&["ping", "--help"]).unwrap().0,
        Command::Help(Some(Name::Ping))
    );
    assert_eq!(parsed(&["-V", "junk"]).unwrap().0, Command::Version);
    assert_eq!(parsed(&["--help"]).unwrap().0, Command::Help(None));
    assert_eq!(
        parsed(&["listen", "-h"]).unwrap().0,
        Command::Help(Some(Name::Listen))
    );
}

#[test]
fn payloads_need_not_be_utf8() {
    use std::os::unix::ffi::OsStringExt;
    let line = vec![
        OsString::from("send"),
        OsString::from("--"),
        OsString::from_vec(vec![0xff, b'-', 0x80]),
    ];
    assert_eq!(
        parse(&line).unwrap().0,
        Command::Send(vec![0xff, b'-', 0x80])
    );
    let line = vec![OsString::from("echo"), OsString::from_vec(vec![0xfe])];
    assert_eq!(parse(&line).unwrap().0, Command::Echo(vec![0xfe]));
}

#[test]
fn rejects_bad_command_lines() {
    for bad in [
        &[][..],
        &["frobnicate"],
        &["--bogus", "send", "x"],
        &["send"],
        &["send", "a", "b"],
        &["send", "-x"],
        &["status", "extra"],
        &["status", "--timeout", "1"],
        &["--timeout", "1", "status"],
        &["--timeout", "1", "trigger", "x"],
        &["trigger", "--timeout=1", "x"],
        &["send", "--count", "1", "x"],
        &["--count", "1", "listen"],
        &["--unit", "32", "send", "x"],
        &["--transport", "both", "send", "x"],
        &["--unit", "-1", "send", "x"],
        &["--unit"],
        &["--timeout", "0", "send", "x"],
        &["--timeout", "-1", "send", "x"],
        &["--timeout", "nan", "send", "x"],
        &["--timeout", ".", "send", "x"],
        &["--timeout", "0.0000000001", "send", "x"],
        &["--timeout", "1e3", "send", "x"],
        &["--timeout", "99999999999999999999", "send", "x"],
        &["--timeout", "+1", "send", "x"],
        &["listen", "--count", "0"],
        &["listen", "--json=1"],
        &["listen", "--idle", "0"],
        &["listen", "--batch", "2"],
        &["send", "--json", "x"],
        &["send", "-V", "x"],
        &["ping", "-s", "126"],
        &["ping", "-s=0"],
        &["ping", "-c=5"],
        &["ping", "--size", "-1"],
        &["ping", "--batch", "0"],
        &["ping", "--batch", "65"],
        &["ping", "-c", "0"],
        &["ping", "-c"],
        &["ping", "extra"],
        &["bench", "--batch", "2"],
        &["trigger", "--repeat", "0", "x"],
        &["status", "--json"],
    ] {
        let e = parsed(bad).unwrap_err();
        assert!(!e.0.is_empty(), "{bad:?}");
    }
    assert_eq!(
        parsed(&["--timeout", "1", "status"]).unwrap_err().0,
        "status does not take --timeout (see nlchan status --help)"
    );
    assert_eq!(
        parsed(&["listen", "--json=1"]).unwrap_err().0,
        "--json takes no value"
    );
    assert_eq!(
        parsed(&["send", "--transport"]).unwrap_err().0,
        "--transport needs a value"
    );
    assert!(parsed(&["ping", "-s=0"])
        .unwrap_err()
        .0
        .starts_with("-s \"=0\": "));
}

#[test]
fn transport_option() {
    let (cmd, opts) = parsed(&["--transport", "genl", "send", "x"]).unwrap();
    assert_eq!(cmd, Command::Send(b"x".to_vec()));
    assert_eq!(opts.transport, Some(TransportKind::Genl));
    let (_, opts) = parsed(&["listen", "--transport=unit", "--unit", "30"]).unwrap();
    assert_eq!(
        (opts.transport, opts.unit),
        (Some(TransportKind::Unit), Some(30))
    );
    for bad in [
        &["--transport", "udp", "send", "x"][..],
        &["--transport"],
        &["--transport", "", "status"],
        &["--transport", "genl", "--unit", "30", "status"],
        &["status", "--unit=30", "--transport=genl"],
    ] {
        assert!(parsed(bad).is_err(), "{bad:?}");
    }
}

/// Every option of the table is accepted by the commands of its rows
/// and refused by the others, after the command and (global ones)
/// before it.
#[test]
fn the_table_decides() {
    for name in Name::ALL {
        for o in &OPTIONS {
            if matches!(o.id, Id::Help | Id::Version) {
                continue;
            }
            let mut line = vec![name.as_str().to_string(), format!("--{}", o.long)];
            if let Some(v) = o.value {
                line.push(match v {
                    "unit|genl" => "unit".into(),
                    "N" if o.id == Id::Unit => "30".into(),
                    _ => "1".into(),
                });
            }
            if name.takes_text() {
                line.push("x".into());
            }
            let list: Vec<&str> = line.iter().map(String::as_str).collect();
            let ok = takers(o.id) & name.bit() != 0;
            assert_eq!(parsed(&list).is_ok(), ok, "{list:?}");
            if takers(o.id) & GLOBAL != 0 {
                let mut before = list[1..].to_vec();
                before.retain(|a| *a != "x");
                before.push(name.as_str());
                if name.takes_text() {
                    before.push("x");
                }
                assert_eq!(parsed(&before).is_ok(), ok, "{before:?}");
            }
        }
    }
}

#[test]
fn help_lists_every_command_and_option() {
    let text = help();
    assert!(text.starts_with(
        "usage: nlchan [--transport unit|genl] [--unit N] [--timeout SECS] <command> \
         [args]\n"
    ));
    for doc in &COMMANDS {
        assert!(text.contains(&format!("\n  {} ", doc.name)), "{}", doc.name);
    }
    for name in Name::ALL {
        let page = command_help(name);
        assert!(page.contains(name.doc().synopsis));
        for o in OPTIONS
            .iter()
            .filter(|o| o.cmds & name.bit() != 0 && o.id != Id::Help)
        {
            assert!(
                page.contains(&format!("--{}", o.long)),
                "{name:?} {}",
                o.long
            );
        }
    }
    assert!(text.contains("\n  --transport unit|genl\n"));
    assert!(text.contains("\\\\ and any other byte as \\xNN"));
    assert!(command_help(Name::Status)
        .starts_with("usage: nlchan [--transport unit|genl] [--unit N] status\n"));
}
