// SPDX-License-Identifier: MIT OR Apache-2.0
//! A minimal writer of the cpio "newc" format the kernel unpacks as an
//! initramfs: deterministic, every entry owned by root, no host tools.

/// Builds a cpio archive in memory.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
    ino: u32,
}

impl Writer {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        self.ino += 1;
        let nlink = if mode & 0o170000 == 0o040000 { 2 } else { 1 };
        let fields = [
            self.ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime: reproducible
            data.len() as u32,
            0, // dev major
            0, // dev minor
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0, // check
        ];
        self.buf.extend_from_slice(b"070701");
        for f in fields {
            self.buf.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad();
        self.buf.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    /// Adds a directory.
    pub fn dir(&mut self, name: &str, perm: u32) {
        self.entry(name, 0o040000 | perm, (0, 0), &[]);
    }

    /// Adds a regular file.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, 0o100000 | perm, (0, 0), data);
    }

    /// Adds a symbolic link.
    pub fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120777, (0, 0), target.as_bytes());
    }

    /// Adds a device node (`mode` includes the type bits).
    pub fn node(&mut self, name: &str, mode: u32, rdev: (u32, u32)) {
        self.entry(name, mode, rdev, &[]);
    }

    /// Ends the archive and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_aligned_and_terminated() {
        let mut w = Writer::default();
        w.dir("bin", 0o755);
        w.file("bin/x", 0o755, b"abc");
        w.symlink("bin/sh", "busybox");
        let a = w.finish();
        assert_eq!(&a[..6], b"070701");
        assert_eq!(a.len() % 4, 0);
        let s = String::from_utf8_lossy(&a);
        assert!(s.contains("bin/x\0"));
        assert!(s.contains("abc"));
        assert!(s.contains("busybox"));
        assert!(s.contains("TRAILER!!!\0"));
        // 110-byte header + name: the file's data starts 4-aligned.
        let data = s.find("abc").unwrap();
        assert_eq!(data % 4, 0);
    }
}
