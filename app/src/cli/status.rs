// SPDX-License-Identifier: MIT OR Apache-2.0
//! `status`: module, unit, transports, device and counters as `key: value`
//! lines.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::io::Write;

use crate::proto;
use crate::sysfs::ModuleUnit;
use crate::transport::{self, Choice, Endpoint, Transport};

use super::output::write_bytes;
use super::{not_loaded, Ctx, Error, Kind, LOOKUP_TIMEOUT};

/// Appends `generic netlink family 0x1a (group 5)` to `text`.
fn genl_text(text: &mut String, family: &crate::Family) {
    let _ = match family.group {
        Some(group) => write!(
            text,
            "generic netlink family {:#x} (group {group})",
            family.id
        ),
        None => write!(
            text,
            "generic netlink family {:#x} (no group {:?})",
            family.id,
            proto::GENL_MCGRP
        ),
    };
}

/// `status`: module, unit, transports, device and counters as `key: value`
/// lines.
pub fn run(ctx: &Ctx<'_>, out: &mut impl Write) -> Result<(), Error> {
    let sysfs = ctx.sysfs;
    let module = sysfs.module_unit_state();
    let family = family(module);
    // The lines are written into one String as they are worked out.
    let mut text = String::from(if module == ModuleUnit::NotLoaded {
        "module: not loaded\nunit: "
    } else {
        "module: loaded\nunit: "
    });
    let unit = match module {
        ModuleUnit::Unit(unit) => Some(unit),
        _ => None,
    };
    let _ = match module {
        ModuleUnit::NotLoaded => write!(text, "none"),
        ModuleUnit::GenlOnly => write!(text, "none (generic netlink only)"),
        ModuleUnit::Unit(unit) => write!(text, "{unit}"),
        _ => write!(
            text,
            "unknown ({} unreadable)",
            sysfs.unit_param_path().display()
        ),
    };
    transports_line(&mut text, unit, family.as_ref());
    let no_transport = unit.is_none() && family.is_none();
    let selected = selected_line(&mut text, ctx, module, family.as_ref());
    device_lines(&mut text, ctx)?;
    let verdict = match selected {
        _ if module == ModuleUnit::NotLoaded => Err(not_loaded(sysfs)),
        Err(transport::Error::Socket(crate::Error::FamilyNotFound)) if no_transport => {
            Err(Error::new(
                Kind::Unavailable,
                "the nlchan module is loaded but serves no transport: no classic unit and no \
                 generic netlink family",
            ))
        }
        Err(e) => Err(ctx.open_error(e)),
        Ok(()) => Ok(()),
    };
    // The verdict outranks a failed write: `nlchan status | grep -q x`
    // closes the pipe, yet must still exit 69 without the module.
    let written = write_bytes(out, text.as_bytes());
    verdict.and(written)
}

/// The generic netlink family, asked of nlctrl only when the module is
/// loaded: asking would load it.
fn family(module: ModuleUnit) -> Option<crate::Family> {
    match module {
        ModuleUnit::NotLoaded => None,
        _ => match Transport::open_genl(LOOKUP_TIMEOUT) {
            Ok(t) => match t.endpoint() {
                Endpoint::Genl(family) => Some(family),
                _ => None,
            },
            Err(e) => {
                log::debug!("status: no generic netlink family: {e}");
                None
            }
        },
    }
}

/// Appends the `transports:` line (without its newline).
fn transports_line(text: &mut String, unit: Option<u32>, family: Option<&crate::Family>) {
    text.push_str("\ntransports: ");
    if let Some(unit) = unit {
        let _ = write!(text, "unit {unit}");
    }
    match family {
        Some(family) => {
            if unit.is_some() {
                text.push_str(", ");
            }
            genl_text(text, family);
        }
        None if unit.is_none() => text.push_str("none"),
        None => {}
    }
}

/// Appends the `selected:` line (without its newline): the transport the
/// other commands would use, or why there is none.
fn selected_line(
    text: &mut String,
    ctx: &Ctx<'_>,
    module: ModuleUnit,
    family: Option<&crate::Family>,
) -> Result<(), transport::Error> {
    text.push_str("\nselected: ");
    let selected = match (transport::select(module, ctx.pref), family) {
        (Ok(Choice::Unit(unit)), _) => {
            let _ = write!(text, "unit {unit}");
            Ok(())
        }
        (Ok(Choice::Genl), Some(family)) => {
            genl_text(text, family);
            Ok(())
        }
        (Ok(Choice::Genl), None) => Err(transport::Error::Socket(crate::Error::FamilyNotFound)),
        (Err(e), _) => Err(e),
    };
    if selected.is_err() {
        text.push_str("none");
    }
    selected
}

/// Appends the `device:` line and the device's counters, one a line.
fn device_lines(text: &mut String, ctx: &Ctx<'_>) -> Result<(), Error> {
    text.push_str("\ndevice: ");
    let Some(device) = ctx.sysfs.find_device() else {
        let _ = writeln!(text, "none");
        return Ok(());
    };
    let _ = writeln!(
        text,
        "{}",
        std::fs::canonicalize(device.dir())
            .unwrap_or_else(|_| device.dir().to_path_buf())
            .display()
    );
    let counters = device.counters().map_err(|e| {
        Error::new(
            Kind::IoErr,
            format!("reading counters in {}: {e}", device.dir().display()),
        )
    })?;
    for (name, value) in counters {
        let _ = writeln!(text, "{name}: {value}");
    }
    Ok(())
}
