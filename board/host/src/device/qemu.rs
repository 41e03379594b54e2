// SPDX-License-Identifier: MIT OR Apache-2.0
//! Boots the emulated board: QEMU's Allwinner H3 machine (or `virt`, 32-
//! or 64-bit: the board's architecture's QEMU) with
//! the board's kernel, device tree and initramfs, its UART0 served on a Unix socket
//! (the host program's own console) or on a pseudo-terminal (a serial
//! device, as a USB adapter gives: see [`boot_pty`]).

use crate::build::kernel::{Board, Kernel};
use crate::device::console::Console;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running emulated board; killed when dropped.
pub struct Emulator {
    child: Child,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the board boots, and how.
struct Boot<'a> {
    board: &'a Board,
    k: &'a Kernel,
    dtb: &'a Path,
    initramfs: &'a Path,
    /// Appended to the kernel command line.
    append: &'a str,
}

/// Starts QEMU with UART0 on `serial` (QEMU's `-serial` argument, after
/// the `-chardev` options in `chardev`), its output in `out/qemu.log`.
fn start(b: &Boot, chardev: &[String], serial: &str, out: &Path) -> Result<Emulator> {
    let log = std::fs::File::create(out.join("qemu.log"))?;
    let qemu = b.board.arch.qemu_system;
    let child = Command::new(qemu)
        .args(crate::build::kernel::qemu_machine(b.board))
        .args(["-display", "none", "-monitor", "none"])
        .args(["-no-reboot", "-nic", "none", "-kernel"])
        .arg(&b.k.image)
        .arg("-dtb")
        .arg(b.dtb)
        .arg("-initrd")
        .arg(b.initramfs)
        .arg("-append")
        .arg(format!(
            "console={},115200 rdinit=/init panic=-1{}",
            b.board.console, b.append
        ))
        .args(chardev)
        .args(["-serial", serial])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {qemu} (run `sudo board/bootstrap.sh`)"))?;
    Ok(Emulator { child })
}

/// Starts QEMU and connects to the board's serial console.
pub fn boot(
    board: &Board,
    k: &Kernel,
    dtb: &Path,
    initramfs: &Path,
    out: &Path,
    echo: bool,
) -> Result<(Emulator, Console)> {
    let sock = out.join("ttyS0.sock");
    let _ = std::fs::remove_file(&sock);
    let b = Boot {
        board,
        k,
        dtb,
        initramfs,
        append: "",
    };
    let chardev = [
        "-chardev".to_string(),
        format!("socket,id=uart0,path={},server=on,wait=on", sock.display()),
    ];
    let emu = start(&b, &chardev, "chardev:uart0", out)?;
    let console = Console::connect_unix(
        &sock,
        &out.join("console.log"),
        echo,
        Duration::from_secs(20),
    )?;
    Ok((emu, console))
}

/// Starts QEMU with UART0 on a pseudo-terminal (`-serial pty`) and returns
/// the terminal's device, `/dev/pts/N`, for whatever opens a serial port
/// (`cargo board smoke --serial`). The board's /init is told
/// (`nlchan_console=login`) to show a login prompt and to leave kernel
/// messages on the console, as a product image does.
pub fn boot_pty(
    board: &Board,
    k: &Kernel,
    dtb: &Path,
    initramfs: &Path,
    out: &Path,
) -> Result<(Emulator, PathBuf)> {
    let b = Boot {
        board,
        k,
        dtb,
        initramfs,
        append: " nlchan_console=login",
    };
    let mut emu = start(&b, &[], "pty", out)?;
    let log = out.join("qemu.log");
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(dev) = pty_of(&text) {
            return Ok((emu, dev));
        }
        if let Some(status) = emu.child.try_wait()? {
            bail!(
                "{} exited ({status}) before giving a pty:\n{text}",
                board.arch.qemu_system
            );
        }
        if start.elapsed() > Duration::from_secs(20) {
            bail!(
                "{} named no pty in 20 s; {}:\n{text}",
                board.arch.qemu_system,
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The device in QEMU's "char device redirected to /dev/pts/N (label …)".
fn pty_of(qemu_log: &str) -> Option<PathBuf> {
    let rest = qemu_log.split("char device redirected to ").nth(1)?;
    let dev = rest.split_whitespace().next()?;
    dev.starts_with("/dev/pts/").then(|| PathBuf::from(dev))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pty_is_read_from_qemus_message() {
        let log =
            "qemu-system-arm: -serial pty: char device redirected to /dev/pts/7 (label serial0)\n";
        assert_eq!(pty_of(log), Some(PathBuf::from("/dev/pts/7")));
        assert_eq!(pty_of("char device redirected to "), None);
        assert_eq!(pty_of("nothing yet"), None);
    }
}
