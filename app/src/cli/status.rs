//! `status`: module, unit, transports, device and counters as `key: value`
//! lines.

use std::io::Write;

use nlchan::genl;
use nlchan::proto;
use nlchan::socket;
use nlchan::sysfs::ModuleUnit;
use nlchan::transport::{self, Choice, Endpoint, Transport};

use super::output::write_out;
use super::{not_loaded, Ctx, Error, Kind, LOOKUP_TIMEOUT};

/// `generic netlink family 0x1a (group 5)`.
fn genl_text(family: &genl::Family) -> String {
    match family.group {
        Some(group) => format!("generic netlink family {:#x} (group {group})", family.id),
        None => format!(
            "generic netlink family {:#x} (no group {:?})",
            family.id,
            proto::GENL_MCGRP
        ),
    }
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
    let unit_text = match module {
        ModuleUnit::NotLoaded => "none".to_string(),
        ModuleUnit::GenlOnly => "none (generic netlink only)".to_string(),
        ModuleUnit::Unit(unit) => unit.to_string(),
        _ => format!("unknown ({} unreadable)", sysfs.unit_param_path().display()),
    };
    let mut transports = Vec::new();
    if let ModuleUnit::Unit(unit) = module {
        transports.push(format!("unit {unit}"));
    }
    if let Some(family) = &family {
        transports.push(genl_text(family));
    }
    let selected = match (transport::select(module, ctx.pref), &family) {
        (Ok(Choice::Unit(unit)), _) => Ok(format!("unit {unit}")),
        (Ok(Choice::Genl), Some(family)) => Ok(genl_text(family)),
        (Ok(Choice::Genl), None) => Err(transport::Error::Socket(socket::Error::FamilyNotFound)),
        (Ok(_), _) => Err(transport::Error::NoUnit),
        (Err(e), _) => Err(e),
    };
    let device = sysfs.find_device();
    let device_name = match &device {
        Some(d) => std::fs::canonicalize(d.dir())
            .unwrap_or_else(|_| d.dir().to_path_buf())
            .display()
            .to_string(),
        None => "none".to_string(),
    };
    let loaded = if module == ModuleUnit::NotLoaded {
        "not loaded"
    } else {
        "loaded"
    };
    let mut text = format!(
        "module: {loaded}\nunit: {unit_text}\ntransports: {}\nselected: {}\ndevice: {device_name}\n",
        if transports.is_empty() {
            "none".to_string()
        } else {
            transports.join(", ")
        },
        selected.as_deref().unwrap_or("none"),
    );
    if let Some(device) = &device {
        let counters = device.counters().map_err(|e| {
            Error::new(
                Kind::IoErr,
                format!("reading counters in {}: {e}", device.dir().display()),
            )
        })?;
        for (name, value) in counters {
            text.push_str(&format!("{name}: {value}\n"));
        }
    }
    write_out(out, format_args!("{text}"))?;
    match selected {
        _ if module == ModuleUnit::NotLoaded => Err(not_loaded(sysfs)),
        Err(transport::Error::Socket(socket::Error::FamilyNotFound)) if transports.is_empty() => {
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
