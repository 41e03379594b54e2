// SPDX-License-Identifier: MIT OR Apache-2.0
//! `status`: module, unit, transports, device and counters as `key: value`
//! lines.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::io::Write;

use nlchan::genl;
use nlchan::proto;
use nlchan::socket;
use nlchan::sysfs::ModuleUnit;
use nlchan::transport::{self, Choice, Endpoint, Transport};

use super::output::write_bytes;
use super::{not_loaded, Ctx, Error, Kind, LOOKUP_TIMEOUT};

/// Appends `generic netlink family 0x1a (group 5)` to `text`.
fn genl_text(text: &mut String, family: &genl::Family) {
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
    // Only ask nlctrl when the module is loaded: asking would load it.
    let family = match module {
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
    };
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
    text.push_str("\ntransports: ");
    if let Some(unit) = unit {
        let _ = write!(text, "unit {unit}");
    }
    match &family {
        Some(family) => {
            if unit.is_some() {
                text.push_str(", ");
            }
            genl_text(&mut text, family);
        }
        None if unit.is_none() => text.push_str("none"),
        None => {}
    }
    let no_transport = unit.is_none() && family.is_none();
    text.push_str("\nselected: ");
    let selected = match (transport::select(module, ctx.pref), &family) {
        (Ok(Choice::Unit(unit)), _) => {
            let _ = write!(text, "unit {unit}");
            Ok(())
        }
        (Ok(Choice::Genl), Some(family)) => {
            genl_text(&mut text, family);
            Ok(())
        }
        (Ok(Choice::Genl), None) => Err(transport::Error::Socket(socket::Error::FamilyNotFound)),
        (Ok(_), _) => Err(transport::Error::NoUnit),
        (Err(e), _) => Err(e),
    };
    if selected.is_err() {
        text.push_str("none");
    }
    text.push_str("\ndevice: ");
    let device = sysfs.find_device();
    let _ = match &device {
        Some(d) => writeln!(
            text,
            "{}",
            std::fs::canonicalize(d.dir())
                .unwrap_or_else(|_| d.dir().to_path_buf())
                .display()
        ),
        None => writeln!(text, "none"),
    };
    if let Some(device) = &device {
        let counters = device.counters().map_err(|e| {
            Error::new(
                Kind::IoErr,
                format!("reading counters in {}: {e}", device.dir().display()),
            )
        })?;
        for (name, value) in counters {
            let _ = writeln!(text, "{name}: {value}");
        }
    }
    write_bytes(out, text.as_bytes())?;
    match selected {
        _ if module == ModuleUnit::NotLoaded => Err(not_loaded(sysfs)),
        Err(transport::Error::Socket(socket::Error::FamilyNotFound)) if no_transport => {
            Err(Error::new(
                Kind::Unavailable,
                "the nlchan module is loaded but serves no transport: no classic unit and no \
                 generic netlink family",
            ))
        }
        Err(e) => Err(ctx.open_error(e)),
        Ok(_) => Ok(()),
    }
}
