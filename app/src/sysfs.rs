// SPDX-License-Identifier: MIT OR Apache-2.0
//! The module's sysfs files: the module parameter `unit`, and the platform
//! device's `send_msg` trigger and read-only counters.
//!
//! Layout (the root is `/sys` on a board; tests use a directory of their own):
//! - `<root>/module/nlchan/parameters/unit`: the classic unit in use, or
//!   `none` when the module serves generic netlink only ([`ModuleUnit`])
//! - `<root>/bus/platform/drivers/nlchan/<device>/send_msg` (write-only)
//! - `<root>/bus/platform/drivers/nlchan/<device>/unit` (as the parameter)
//! - `<root>/bus/platform/drivers/nlchan/<device>/<counter>` for each of
//!   [`COUNTERS`]
//!
//! This is not the message path: `std::io` errors and paths are fine here.

#![forbid(unsafe_code)]

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::proto;

/// Name of the module and of its platform driver.
pub const DRIVER: &str = "nlchan";

/// Default sysfs mount point.
pub const DEFAULT_ROOT: &str = "/sys";

/// Names of the device's counter attributes, in display order:
/// requests `received`, answered (`replied`), refused with an error
/// (`errors`), unicast replies `dropped` (so received = replied + errors +
/// dropped); broadcasts sent (`broadcast`), broadcasts at least one
/// listener missed (`broadcast_lost`); SEND log lines rate-limited away
/// (`log_suppressed`).
pub const COUNTERS: [&str; 7] = [
    "received",
    "replied",
    "errors",
    "dropped",
    "broadcast",
    "broadcast_lost",
    "log_suppressed",
];

/// What the module's `unit` parameter says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModuleUnit {
    /// No `<root>/module/nlchan`: the module is not loaded.
    NotLoaded,
    /// `none`: the module serves generic netlink only (its default unit was
    /// taken by another driver).
    GenlOnly,
    /// The classic unit the module owns.
    Unit(u32),
    /// The module is loaded, but `unit` is missing or holds neither a unit
    /// below [`proto::UNIT_LIMIT`] nor `none`.
    Unknown,
}

impl ModuleUnit {
    /// Reads the text of the `unit` parameter.
    pub fn parse(text: &str) -> ModuleUnit {
        match text.trim() {
            "none" => ModuleUnit::GenlOnly,
            t => match t.parse::<u32>() {
                Ok(unit) if unit < proto::UNIT_LIMIT => ModuleUnit::Unit(unit),
                _ => ModuleUnit::Unknown,
            },
        }
    }
}

/// Writes `bytes` to an open `send_msg` in one `write` (one broadcast);
/// allocates only on a short write's error.
pub fn trigger_on(send_msg: &mut fs::File, bytes: &[u8]) -> io::Result<()> {
    let written = send_msg.write(bytes)?;
    if written != bytes.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("short write: {written} of {} bytes", bytes.len()),
        ));
    }
    Ok(())
}

/// A sysfs tree, normally mounted at `/sys`.
#[derive(Debug, Clone)]
pub struct Sysfs {
    root: PathBuf,
}

impl Sysfs {
    /// A sysfs tree rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Sysfs {
        Sysfs { root: root.into() }
    }

    /// The tree's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/module/nlchan`, present while the module is loaded.
    pub fn module_dir(&self) -> PathBuf {
        self.root.join("module").join(DRIVER)
    }

    /// True when the nlchan module is loaded (or built in).
    pub fn module_loaded(&self) -> bool {
        self.module_dir().is_dir()
    }

    /// `<root>/module/nlchan/parameters/unit`.
    pub fn unit_param_path(&self) -> PathBuf {
        self.module_dir().join("parameters/unit")
    }

    /// Whether the module is loaded and which classic unit it owns, from its
    /// `unit` parameter.
    ///
    /// Every command that talks to the module starts here, so the common
    /// case costs three system calls (open, one read, close): the module
    /// directory is looked at only when the parameter cannot be read.
    pub fn module_unit_state(&self) -> ModuleUnit {
        match read_short(&self.unit_param_path()) {
            Ok(Some((buf, len))) => match std::str::from_utf8(&buf[..len]) {
                Ok(text) => ModuleUnit::parse(text),
                Err(_) => ModuleUnit::Unknown,
            },
            Ok(None) => ModuleUnit::Unknown,
            Err(_) if !self.module_loaded() => ModuleUnit::NotLoaded,
            Err(_) => ModuleUnit::Unknown,
        }
    }

    /// The classic netlink unit the loaded module owns, from its `unit`
    /// parameter; `None` when it has none (or is not loaded).
    pub fn module_unit(&self) -> Option<u32> {
        match self.module_unit_state() {
            ModuleUnit::Unit(unit) => Some(unit),
            _ => None,
        }
    }

    /// `<root>/bus/platform/drivers/nlchan`, where bound devices appear.
    pub fn driver_dir(&self) -> PathBuf {
        self.root.join("bus/platform/drivers").join(DRIVER)
    }

    /// The first device bound to the driver that has a `send_msg` file, by
    /// name order; `None` when there is none (or no driver at all).
    pub fn find_device(&self) -> Option<Device> {
        fs::read_dir(self.driver_dir())
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|dir| dir.join("send_msg").exists())
            .min()
            .map(|dir| Device { dir })
    }
}

impl Default for Sysfs {
    fn default() -> Sysfs {
        Sysfs::new(DEFAULT_ROOT)
    }
}

/// The nlchan platform device's sysfs directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    dir: PathBuf,
}

impl Device {
    /// The device directory as found under the driver directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the `send_msg` trigger.
    pub fn send_msg_path(&self) -> PathBuf {
        self.dir.join("send_msg")
    }

    /// Broadcasts `bytes` by writing them to `send_msg` in a single
    /// `write()` (a second write would be a second broadcast). The module
    /// strips one trailing newline; none is added here. A short write is an
    /// error.
    pub fn trigger(&self, bytes: &[u8]) -> io::Result<()> {
        trigger_on(&mut self.open_send_msg()?, bytes)
    }

    /// Opens `send_msg` once for writing, for many [`trigger_on`] calls.
    pub fn open_send_msg(&self) -> io::Result<fs::File> {
        fs::OpenOptions::new()
            .write(true)
            .open(self.send_msg_path())
    }

    /// Reads the numeric attribute `name` (a counter or `unit`).
    pub fn read_attr(&self, name: &str) -> io::Result<u64> {
        read_number(&self.dir.join(name))
    }

    /// Reads every counter of [`COUNTERS`], in that order.
    pub fn counters(&self) -> io::Result<[(&'static str, u64); COUNTERS.len()]> {
        let mut out = COUNTERS.map(|name| (name, 0));
        for (name, value) in &mut out {
            *value = self.read_attr(name)?;
        }
        Ok(out)
    }
}

/// Longest text [`read_short`] takes.
const SHORT_LEN: usize = 32;

/// Reads a small sysfs file in one `read` into a fixed buffer (sysfs gives
/// an attribute's whole text on the first read); `None` when it holds
/// more than [`SHORT_LEN`] - 1 bytes, which no short attribute does.
fn read_short(path: &Path) -> io::Result<Option<([u8; SHORT_LEN], usize)>> {
    let mut buf = [0u8; SHORT_LEN];
    let len = io::Read::read(&mut fs::File::open(path)?, &mut buf)?;
    Ok((len < SHORT_LEN).then_some((buf, len)))
}

/// Reads a sysfs file holding one decimal number.
fn read_number<T: std::str::FromStr>(path: &Path) -> io::Result<T> {
    let text = fs::read_to_string(path)?;
    text.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not a number: {:?}", path.display(), text.trim()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throw-away directory under the target's tmp dir.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nlchan-sysfs-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn fake_device(root: &Path, name: &str) -> PathBuf {
        let dir = root.join("bus/platform/drivers/nlchan").join(name);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("send_msg"), b"").unwrap();
        for (i, c) in COUNTERS.iter().enumerate() {
            fs::write(dir.join(c), format!("{}\n", i * 10)).unwrap();
        }
        fs::write(dir.join("unit"), "30\n").unwrap();
        dir
    }

    #[test]
    fn empty_tree_has_no_module_or_device() {
        let root = scratch("empty");
        let sys = Sysfs::new(&root);
        assert!(!sys.module_loaded());
        assert_eq!(sys.module_unit(), None);
        assert_eq!(sys.module_unit_state(), ModuleUnit::NotLoaded);
        assert_eq!(sys.find_device(), None);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn module_unit_is_read() {
        let root = scratch("unit");
        fs::create_dir_all(root.join("module/nlchan/parameters")).unwrap();
        fs::write(root.join("module/nlchan/parameters/unit"), "29\n").unwrap();
        let sys = Sysfs::new(&root);
        assert!(sys.module_loaded());
        assert_eq!(sys.module_unit(), Some(29));
        assert_eq!(sys.module_unit_state(), ModuleUnit::Unit(29));
        fs::write(root.join("module/nlchan/parameters/unit"), "x\n").unwrap();
        assert_eq!(sys.module_unit(), None);
        assert_eq!(sys.module_unit_state(), ModuleUnit::Unknown);
        fs::write(root.join("module/nlchan/parameters/unit"), "none\n").unwrap();
        assert_eq!(sys.module_unit(), None);
        assert_eq!(sys.module_unit_state(), ModuleUnit::GenlOnly);
        fs::remove_file(root.join("module/nlchan/parameters/unit")).unwrap();
        assert_eq!(sys.module_unit_state(), ModuleUnit::Unknown);
        fs::remove_dir_all(root).unwrap();
        assert_eq!(sys.module_unit_state(), ModuleUnit::NotLoaded);
    }

    #[test]
    fn unit_parameter_texts() {
        for (text, want) in [
            ("30\n", ModuleUnit::Unit(30)),
            ("0", ModuleUnit::Unit(0)),
            (" 31 \n", ModuleUnit::Unit(31)),
            ("32\n", ModuleUnit::Unknown),
            ("-1\n", ModuleUnit::Unknown),
            ("none\n", ModuleUnit::GenlOnly),
            ("None\n", ModuleUnit::Unknown),
            ("", ModuleUnit::Unknown),
            ("30 31", ModuleUnit::Unknown),
        ] {
            assert_eq!(ModuleUnit::parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn device_is_found_and_read() {
        let root = scratch("device");
        let drv = root.join("bus/platform/drivers/nlchan");
        fs::create_dir_all(drv.join("module")).unwrap();
        fs::write(drv.join("bind"), b"").unwrap();
        fake_device(&root, "to-be-second");
        let dir = fake_device(&root, "netlink-test");
        let dev = Sysfs::new(&root).find_device().unwrap();
        assert_eq!(dev.dir(), dir);
        assert_eq!(
            dev.counters().unwrap(),
            [
                ("received", 0),
                ("replied", 10),
                ("errors", 20),
                ("dropped", 30),
                ("broadcast", 40),
                ("broadcast_lost", 50),
                ("log_suppressed", 60),
            ]
        );
        assert_eq!(dev.read_attr("unit").unwrap(), 30);
        fs::write(dir.join("errors"), "lots\n").unwrap();
        assert_eq!(
            dev.counters().unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn trigger_writes_exactly_the_bytes() {
        let root = scratch("trigger");
        let dir = fake_device(&root, "nlchan.0");
        let dev = Sysfs::new(&root).find_device().unwrap();
        dev.trigger(b"hi \x01\\").unwrap();
        assert_eq!(fs::read(dir.join("send_msg")).unwrap(), b"hi \x01\\");
        fs::remove_file(dir.join("send_msg")).unwrap();
        fs::create_dir(dir.join("send_msg")).unwrap();
        assert!(dev.trigger(b"x").is_err());
        fs::remove_dir_all(root).unwrap();
    }
}
