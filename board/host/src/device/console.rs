// SPDX-License-Identifier: MIT OR Apache-2.0
//! A serial console: the emulated board's UART (a Unix socket QEMU serves)
//! or a real one (`/dev/ttyUSB0`). Bytes are read by a thread into a
//! channel so every wait has a deadline; everything read is also appended
//! to a log file.

use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// A console: write commands, read what the board prints.
pub struct Console {
    writer: Box<dyn Write + Send>,
    rx: Receiver<Vec<u8>>,
    log: File,
    /// Everything received and not consumed yet.
    pending: String,
    echo: bool,
}

impl Console {
    fn new<R: Read + Send + 'static>(
        mut reader: R,
        writer: Box<dyn Write + Send>,
        log: &Path,
        echo: bool,
    ) -> Result<Console> {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open console log {}", log.display()))?;
        Ok(Console {
            writer,
            rx,
            log,
            pending: String::new(),
            echo,
        })
    }

    /// Connects to QEMU's serial socket (served with `server=on`).
    pub fn connect_unix(path: &Path, log: &Path, echo: bool, deadline: Duration) -> Result<Self> {
        let start = Instant::now();
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(e) if start.elapsed() > deadline => {
                    bail!(
                        "cannot connect to QEMU's serial socket {}: {e}",
                        path.display()
                    )
                }
                Err(_) => thread::sleep(Duration::from_millis(50)),
            }
        };
        let writer = stream.try_clone()?;
        Console::new(stream, Box::new(writer), log, echo)
    }

    /// Opens a real serial device in raw mode, 8N1, at `baud`.
    pub fn open_serial(dev: &Path, baud: u32, log: &Path, echo: bool) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dev)
            .with_context(|| {
                format!(
                    "cannot open {} (is the adapter plugged in, and are you in the 'dialout' group?)",
                    dev.display()
                )
            })?;
        configure_tty(&file, baud)
            .with_context(|| format!("cannot configure {}", dev.display()))?;
        let writer = file.try_clone()?;
        Console::new(file, Box::new(writer), log, echo)
    }

    /// Sends one line (a newline is appended).
    pub fn send_line(&mut self, line: &str) -> Result<()> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\n")?;
        self.writer.flush()?;
        Ok(())
    }

    fn pump(&mut self, wait: Duration) -> Result<bool> {
        match self.rx.recv_timeout(wait) {
            Ok(bytes) => {
                self.log.write_all(&bytes)?;
                if self.echo {
                    std::io::stderr().write_all(&bytes)?;
                }
                self.pending.push_str(&String::from_utf8_lossy(&bytes));
                Ok(true)
            }
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => bail!("the serial console closed"),
        }
    }

    /// Waits until `needle` appears; returns everything up to and including
    /// it, consuming it. `tick` is called about once a second (progress,
    /// or re-sending a probe) with the time waited so far.
    pub fn wait_for(
        &mut self,
        needle: &str,
        timeout: Duration,
        mut tick: impl FnMut(&mut Self, Duration) -> Result<()>,
    ) -> Result<String> {
        let start = Instant::now();
        let mut last_tick = Instant::now();
        loop {
            if let Some(i) = self.pending.find(needle) {
                let end = i + needle.len();
                let head = self.pending[..end].to_string();
                self.pending.drain(..end);
                return Ok(head);
            }
            if start.elapsed() > timeout {
                bail!(
                    "timed out after {:?} waiting for {needle:?} on the console; last output:\n{}",
                    timeout,
                    crate::run::sh::tail(&self.pending, 20)
                );
            }
            self.pump(Duration::from_millis(200))?;
            if last_tick.elapsed() >= Duration::from_secs(1) {
                last_tick = Instant::now();
                tick(self, start.elapsed())?;
            }
        }
    }
}

fn configure_tty(file: &File, baud: u32) -> Result<()> {
    use nix::sys::termios::{self, BaudRate, SetArg};
    let rate = match baud {
        9600 => BaudRate::B9600,
        19200 => BaudRate::B19200,
        38400 => BaudRate::B38400,
        57600 => BaudRate::B57600,
        115200 => BaudRate::B115200,
        230400 => BaudRate::B230400,
        460800 => BaudRate::B460800,
        921600 => BaudRate::B921600,
        1500000 => BaudRate::B1500000,
        _ => bail!("unsupported baud rate {baud} (use 9600..1500000, usually 115200)"),
    };
    let mut t = termios::tcgetattr(file)?;
    termios::cfmakeraw(&mut t);
    termios::cfsetspeed(&mut t, rate)?;
    t.control_flags &= !(termios::ControlFlags::CSTOPB
        | termios::ControlFlags::PARENB
        | termios::ControlFlags::CRTSCTS);
    t.control_flags |= termios::ControlFlags::CLOCAL | termios::ControlFlags::CREAD;
    termios::tcsetattr(file, SetArg::TCSANOW, &t)?;
    Ok(())
}
