// SPDX-License-Identifier: MIT OR Apache-2.0
//! What `modinfo` must show for the module: description, author, GPL, the
//! workspace's version, described parameters, vermagic and aliases.

/// The module parameters `modinfo` must list, each with a description.
const PARAMS: [&str; 3] = ["unit", "allow_unprivileged", "own_device"];
/// Aliases for the device-tree node: its compatible alone, or followed by
/// more (the vendor-prefixed one, and the seed's "test-netlink").
const OF_ALIASES: [&str; 4] = [
    "of:N*T*Cnlchan,netlink-channel",
    "of:N*T*Cnlchan,netlink-channelC*",
    "of:N*T*Ctest-netlink",
    "of:N*T*Ctest-netlinkC*",
];
/// Alias for a look-up of the generic netlink family (PF_NETLINK is 16,
/// NETLINK_GENERIC 16).
const GENL_ALIAS: &str = "net-pf-16-proto-16-family-nlchan";
/// Aliases of classic units start so (`net-pf-16-proto-30` loads a module
/// on `socket(AF_NETLINK, ..., 30)`); the module must have none.
const UNIT_ALIAS_PREFIX: &str = "net-pf-16-proto-";

/// `modinfo`'s `key: value` lines.
struct Fields<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Fields<'a> {
    fn parse(text: &'a str) -> Self {
        Fields(
            text.lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect(),
        )
    }

    /// The values of every `key` line, in order.
    fn values(&self, key: &str) -> Vec<&'a str> {
        self.0
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .collect()
    }
}

/// Checks what `modinfo` shows for a module built against `release`;
/// returns what is missing (empty: all there).
pub(super) fn modinfo_gaps(text: &str, release: &str) -> Vec<String> {
    let fields = Fields::parse(text);
    let mut missing = metadata_gaps(&fields);
    missing.extend(param_gaps(&fields));
    let vermagic = fields.values("vermagic");
    if !vermagic
        .iter()
        .any(|v| v.split(' ').next() == Some(release))
    {
        missing.push(format!("vermagic of {release} (has {vermagic:?})"));
    }
    missing.extend(alias_gaps(&fields));
    missing
}

/// Description, author, license (GPL) and version (the workspace's).
fn metadata_gaps(fields: &Fields) -> Vec<String> {
    let mut missing = Vec::new();
    for key in ["description", "author", "license", "version"] {
        if fields.values(key).iter().all(|v| v.is_empty()) {
            missing.push(format!("no {key}"));
        }
    }
    // The one version of the project: the workspace's (Cargo.toml).
    let version = fields.values("version");
    if !version.is_empty() && version != [env!("CARGO_PKG_VERSION")] {
        missing.push(format!(
            "version is {:?}, not the workspace's {}",
            version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    if fields.values("license") != ["GPL"] {
        missing.push(format!(
            "license is {:?}, not GPL",
            fields.values("license")
        ));
    }
    missing
}

/// Each of [`PARAMS`] as `parm: <name>:<description> (<type>)`.
fn param_gaps(fields: &Fields) -> Vec<String> {
    let parms = fields.values("parm");
    let mut missing = Vec::new();
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
    missing
}

/// The device-tree and generic netlink aliases, and no classic unit's.
fn alias_gaps(fields: &Fields) -> Vec<String> {
    let aliases = fields.values("alias");
    let mut missing = Vec::new();
    for want in OF_ALIASES.into_iter().chain([GENL_ALIAS]) {
        if !aliases.contains(&want) {
            missing.push(format!("alias {want} (has {aliases:?})"));
        }
    }
    for a in &aliases {
        if a.starts_with(UNIT_ALIAS_PREFIX) && *a != GENL_ALIAS {
            missing.push(format!(
                "no alias {a}: any user's socket on that unit would load the module"
            ));
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modinfo() -> String {
        MODINFO.replace("@VERSION@", env!("CARGO_PKG_VERSION"))
    }

    const MODINFO: &str = "\
filename:       /x/nlchan.ko
alias:          net-pf-16-proto-16-family-nlchan
version:        @VERSION@
license:        GPL
author:         nlchan developers
description:    Netlink channel between user space and the kernel
alias:          of:N*T*Ctest-netlinkC*
alias:          of:N*T*Ctest-netlink
alias:          of:N*T*Cnlchan,netlink-channelC*
alias:          of:N*T*Cnlchan,netlink-channel
depends:        
name:           nlchan
vermagic:       6.1.176 SMP mod_unload ARMv7 p2v8 
parm:           unit:Netlink unit, below 32 (default 30) (uint)
parm:           allow_unprivileged:Accept requests from senders without CAP_NET_ADMIN (default: no) (bool)
parm:           own_device:Register an \"nlchan\" platform device (default: no) (bool)
";

    #[test]
    fn modinfo_complete() {
        assert_eq!(modinfo_gaps(&modinfo(), "6.1.176"), Vec::<String>::new());
    }

    #[test]
    fn modinfo_gaps_found() {
        let text = modinfo()
            .replace(
                &format!("version:        {}\n", env!("CARGO_PKG_VERSION")),
                "",
            )
            .replace(
                "alias:          net-pf-16-proto-16-family-nlchan\n",
                "alias:          net-pf-16-proto-30\n",
            )
            .replace(
                "own_device:Register an \"nlchan\" platform device (default: no) (bool)",
                "own_device: (bool)",
            );
        let gaps = modinfo_gaps(&text, "6.12.95");
        assert_eq!(gaps.len(), 5, "{gaps:?}");
        assert!(gaps[0].contains("version"));
        assert!(gaps[1].contains("own_device"));
        assert!(gaps[2].contains("vermagic"));
        assert!(gaps[3].contains("alias net-pf-16-proto-16-family-nlchan"));
        assert!(gaps[4].contains("no alias net-pf-16-proto-30"));
    }

    #[test]
    fn modinfo_version_is_the_workspace_one() {
        let text = modinfo().replace(
            &format!("version:        {}\n", env!("CARGO_PKG_VERSION")),
            "version:        0.0.0-other\n",
        );
        let gaps = modinfo_gaps(&text, "6.1.176");
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(gaps[0].contains("not the workspace's"), "{gaps:?}");
    }
}
