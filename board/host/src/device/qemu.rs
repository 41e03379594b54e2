// SPDX-License-Identifier: MIT OR Apache-2.0
//! Boots the emulated board: QEMU's Allwinner H3 machine with the board's
//! kernel, device tree and initramfs, its UART0 served on a Unix socket.

use crate::build::kernel::{Board, Kernel};
use crate::device::console::Console;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
    let log = std::fs::File::create(out.join("qemu.log"))?;
    let child = Command::new("qemu-system-arm")
        .args([
            "-M",
            board.machine,
            "-m",
            "1G",
            "-display",
            "none",
            "-monitor",
            "none",
        ])
        .args(["-no-reboot", "-nic", "none", "-kernel"])
        .arg(&k.zimage)
        .arg("-dtb")
        .arg(dtb)
        .arg("-initrd")
        .arg(initramfs)
        .args(["-append", "console=ttyS0,115200 rdinit=/init panic=-1"])
        .arg("-chardev")
        .arg(format!(
            "socket,id=uart0,path={},server=on,wait=on",
            sock.display()
        ))
        .args(["-serial", "chardev:uart0"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("cannot start qemu-system-arm (run `sudo board/bootstrap.sh`)")?;
    let emu = Emulator { child };
    let console = Console::connect_unix(
        &sock,
        &out.join("console.log"),
        echo,
        Duration::from_secs(20),
    )?;
    Ok((emu, console))
}
