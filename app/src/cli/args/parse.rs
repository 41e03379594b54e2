// SPDX-License-Identifier: MIT OR Apache-2.0
//! The parser: the command line read against [`super::OPTIONS`], and the
//! option values checked.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

use lexopt::{Arg, Parser};

use super::*;

/// A usage error with message `args`. Every message of this file goes
/// through here: one formatting call, not one per message.
#[inline(never)]
fn bad(args: fmt::Arguments<'_>) -> UsageError {
    UsageError(fmt::format(args))
}

/// `{name} {value:?}: {what}`, the error of a refused option value.
#[inline(never)]
fn bad_value(name: &str, value: &str, what: fmt::Arguments<'_>) -> UsageError {
    bad(format_args!("{name} {value:?}: {what}"))
}

/// Splits `args` (without the program name) into the command and its
/// options.
pub fn parse(args: &[OsString]) -> Result<(Command, Options), UsageError> {
    let mut p = Parser::from_args(args);
    // `-s=0` is not `-s 0`: the value "=0" is refused below.
    p.set_short_equals(false);
    let mut st = State::default();
    while let Some(arg) = p.next().map_err(lexopt_error)? {
        let (row, spelled) = match arg {
            Arg::Value(v) => {
                st.value(v)?;
                continue;
            }
            Arg::Short(c) => (
                OPTIONS.iter().find(|o| o.short == Some(c)),
                dashed("-", c.encode_utf8(&mut [0; 4])),
            ),
            Arg::Long(l) => (OPTIONS.iter().find(|o| o.long == l), dashed("--", l)),
        };
        if let Some(command) = st.option(&mut p, row, spelled)? {
            return Ok((command, st.opts));
        }
    }
    st.finish()
}

/// What [`parse`] has read so far.
#[derive(Default)]
struct State {
    opts: Options,
    name: Option<Name>,
    /// Options given before the command (bits of `Id`), checked once it
    /// is known.
    early: u16,
    /// The first argument after the command.
    text: Option<OsString>,
    /// How many arguments came after the command.
    texts: usize,
}

impl State {
    /// An argument that is not an option: the command, or a text after it.
    fn value(&mut self, v: OsString) -> Result<(), UsageError> {
        if self.name.is_some() {
            self.texts += 1;
            self.text.get_or_insert(v);
            return Ok(());
        }
        let Some(n) = Name::find(&v) else {
            return Err(bad(format_args!(
                "unknown command {:?}",
                v.to_string_lossy()
            )));
        };
        for row in OPTIONS
            .iter()
            .filter(|o| self.early & (1 << o.id as u16) != 0)
        {
            accepted(row, n)?;
        }
        self.name = Some(n);
        Ok(())
    }

    /// Option `row` as `spelled` (`None`: no such option), with its value
    /// from `p` when it takes one; the command when it ends the parse
    /// (`--help`, `--version`).
    fn option(
        &mut self,
        p: &mut Parser,
        row: Option<&Opt>,
        spelled: String,
    ) -> Result<Option<Command>, UsageError> {
        let Some(row) = row else {
            return Err(self.unknown_option(&spelled));
        };
        match self.name {
            Some(n) => accepted(row, n)?,
            None if takers(row.id) & GLOBAL == 0 => {
                return Err(bad(format_args!("--{} goes after the command", row.long)))
            }
            None => self.early |= 1 << row.id as u16,
        }
        match row.id {
            Id::Help => return Ok(Some(Command::Help(self.name))),
            Id::Version => return Ok(Some(Command::Version)),
            Id::Json => self.opts.json = true,
            Id::NoGather => self.opts.no_gather = true,
            id => {
                let value = p.value().map_err(lexopt_error)?;
                let value = value.to_string_lossy();
                if spelled.len() == 2 && value.starts_with('=') {
                    return Err(bad_value(
                        &spelled,
                        &value,
                        format_args!(
                            "write {spelled} VALUE, {spelled}VALUE or --{}=VALUE",
                            row.long
                        ),
                    ));
                }
                self.opts.set(id, &spelled, &value)?;
            }
        }
        Ok(None)
    }

    /// The error of an option that no row names.
    fn unknown_option(&self, spelled: &str) -> UsageError {
        let (place, colon, hint) = match self.name {
            Some(n) => (
                n.as_str(),
                ": ",
                " (put -- before a text that starts with '-')",
            ),
            None => ("", "", ""),
        };
        bad(format_args!(
            "{place}{colon}unknown option {spelled:?}{hint}"
        ))
    }

    /// The command and options, once every argument is read.
    fn finish(self) -> Result<(Command, Options), UsageError> {
        let Some(name) = self.name else {
            return Err(bad(format_args!("no command given")));
        };
        let n = name.as_str();
        let texts = self.texts;
        let text = match (name.takes_text(), self.text) {
            (true, Some(text)) if texts == 1 => text.into_vec(),
            (false, None) => Vec::new(),
            (true, None) => return Err(bad(format_args!("{n}: missing <text>"))),
            (true, _) => {
                return Err(bad(format_args!(
                    "{n}: one <text> argument expected, got {texts} (quote the text)"
                )))
            }
            (false, _) => return Err(bad(format_args!("{n}: takes no arguments"))),
        };
        let opts = self.opts;
        if opts.transport == Some(TransportKind::Genl) && opts.unit.is_some() {
            return Err(bad(format_args!(
                "--unit is the classic unit's; it cannot go with --transport genl"
            )));
        }
        let command = match name {
            Name::Send => Command::Send(text),
            Name::Echo => Command::Echo(text),
            Name::Trigger => Command::Trigger(text),
            Name::Listen => Command::Listen,
            Name::Status => Command::Status,
            Name::Ping => Command::Ping,
            Name::Bench => Command::Bench,
        };
        Ok((command, opts))
    }
}

/// `dashes` then `name`: an option as spelled on the command line.
fn dashed(dashes: &str, name: &str) -> String {
    let mut s = String::from(dashes);
    s.push_str(name);
    s
}

/// Fails unless command `name` takes option `row`.
fn accepted(row: &Opt, name: Name) -> Result<(), UsageError> {
    if takers(row.id) & name.bit() != 0 {
        return Ok(());
    }
    let n = name.as_str();
    Err(bad(format_args!(
        "{n} does not take --{} (see nlchan {n} --help)",
        row.long
    )))
}

/// lexopt's errors, in this command's words.
fn lexopt_error(e: lexopt::Error) -> UsageError {
    match e {
        lexopt::Error::MissingValue {
            option: Some(option),
        } => bad(format_args!("{option} needs a value")),
        lexopt::Error::UnexpectedValue { option, .. } => {
            bad(format_args!("{option} takes no value"))
        }
        // Not produced by the calls made here (no parse(), unexpected()
        // or string()); no text from lexopt keeps its formatting out.
        _ => bad(format_args!("bad command line")),
    }
}

impl Options {
    /// Sets option `id` (spelled `name`) from its value `value`.
    fn set(&mut self, id: Id, name: &str, value: &str) -> Result<(), UsageError> {
        match id {
            Id::Unit => self.unit = Some(parse_unit(value)?),
            Id::Transport => {
                self.transport = Some(TransportKind::parse(value).ok_or_else(|| {
                    bad_value("--transport", value, format_args!("expected unit or genl"))
                })?)
            }
            Id::Timeout => self.timeout = Some(parse_secs(name, value)?),
            Id::Idle => self.idle = Some(parse_secs(name, value)?),
            Id::Size => {
                self.size = Some(parse_range(name, value, 0, proto::MSG_LEN as u64)? as usize)
            }
            Id::Batch => self.batch = Some(parse_range(name, value, 1, MAX_BATCH as u64)? as usize),
            Id::Repeat => self.repeat = Some(parse_count(name, value)?),
            Id::Count => self.count = Some(parse_count(name, value)?),
            Id::Json | Id::NoGather | Id::Help | Id::Version => {}
        }
        Ok(())
    }
}

fn parse_unit(value: &str) -> Result<u32, UsageError> {
    match value.parse::<u32>() {
        Ok(unit) if unit <= MAX_UNIT => Ok(unit),
        _ => Err(bad_value(
            "--unit",
            value,
            format_args!("expected a netlink unit from 0 to {MAX_UNIT}"),
        )),
    }
}

/// Parses `SECS` as `<digits>[.<digits>]` (up to nanoseconds), above 0.
pub fn parse_secs(name: &str, value: &str) -> Result<Duration, UsageError> {
    let (whole, frac) = match value.bytes().position(|b| b == b'.') {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let parsed = if (whole.is_empty() && frac.is_empty())
        || !digits(whole)
        || !digits(frac)
        || frac.len() > 9
    {
        None
    } else {
        let secs = if whole.is_empty() {
            Some(0)
        } else {
            whole.parse::<u64>().ok()
        };
        // "5" -> 500_000_000 ns: pad the fraction to nine digits.
        let nanos = frac.bytes().chain(std::iter::repeat(b'0')).take(9);
        let nanos = nanos.fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
        secs.map(|secs| Duration::new(secs, nanos))
    };
    match parsed {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(bad_value(
            name,
            value,
            format_args!("expected a number of seconds above 0"),
        )),
    }
}

fn parse_count(name: &str, value: &str) -> Result<u64, UsageError> {
    parse_range(name, value, 1, u64::MAX)
}

/// Parses a whole number from `min` to `max`.
fn parse_range(name: &str, value: &str, min: u64, max: u64) -> Result<u64, UsageError> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ if max == u64::MAX => Err(bad_value(
            name,
            value,
            format_args!("expected a whole number above {}", min - 1),
        )),
        _ => Err(bad_value(
            name,
            value,
            format_args!("expected a whole number from {min} to {max}"),
        )),
    }
}
