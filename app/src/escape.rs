// SPDX-License-Identifier: MIT OR Apache-2.0
//! Printable escaping of opaque payload bytes.
//!
//! Printable ASCII (`0x20..=0x7e`) is written as is, except the backslash,
//! which becomes `\\`; every other byte becomes `\xNN` (lower-case hex). The
//! result is unambiguous, one line, and never allocates.

#![forbid(unsafe_code)]

use core::fmt;

/// Displays a byte string escaped; `format!("{}", Escaped(b"a\n"))` is `a\x0a`.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while !rest.is_empty() {
            // Write the longest run of plain printable bytes in one go.
            let run = rest
                .iter()
                .position(|&b| !is_plain(b))
                .unwrap_or(rest.len());
            let (plain, tail) = rest.split_at(run);
            // Plain bytes are ASCII, hence valid UTF-8.
            f.write_str(core::str::from_utf8(plain).map_err(|_| fmt::Error)?)?;
            match tail.split_first() {
                Some((b'\\', after)) => {
                    f.write_str("\\\\")?;
                    rest = after;
                }
                Some((&b, after)) => {
                    write!(f, "\\x{b:02x}")?;
                    rest = after;
                }
                None => rest = tail,
            }
        }
        Ok(())
    }
}

/// Displays a byte string as the inside of a JSON string: printable ASCII
/// as is, `"` and `\` backslash-escaped, every other byte as `\u00NN`
/// (the byte read as Latin-1). Never allocates.
#[derive(Debug, Clone, Copy)]
pub struct JsonEscaped<'a>(pub &'a [u8]);

impl fmt::Display for JsonEscaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.split_inclusive(|&b| !is_json_plain(b)) {
            let (last, plain) = match chunk.split_last() {
                Some((&b, head)) if !is_json_plain(b) => (Some(b), head),
                _ => (None, chunk),
            };
            f.write_str(core::str::from_utf8(plain).map_err(|_| fmt::Error)?)?;
            match last {
                Some(b'"') => f.write_str("\\\"")?,
                Some(b'\\') => f.write_str("\\\\")?,
                Some(b) => write!(f, "\\u{:04x}", b)?,
                None => {}
            }
        }
        Ok(())
    }
}

fn is_json_plain(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'
}

/// True for bytes printed as themselves.
fn is_plain(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) && b != b'\\'
}

#[cfg(test)]
mod tests {
    use super::Escaped;

    fn esc(bytes: &[u8]) -> String {
        Escaped(bytes).to_string()
    }

    #[test]
    fn printable_ascii_is_unchanged() {
        assert_eq!(esc(b"hello users!!!"), "hello users!!!");
        assert_eq!(esc(b" ~"), " ~");
        assert_eq!(esc(b""), "");
    }

    #[test]
    fn backslash_is_doubled() {
        assert_eq!(esc(b"a\\b"), "a\\\\b");
        assert_eq!(esc(b"\\"), "\\\\");
    }

    #[test]
    fn other_bytes_are_hex() {
        assert_eq!(esc(b"hello\n"), "hello\\x0a");
        assert_eq!(
            esc(&[0, 0x1f, 0x7f, 0x80, 0xff]),
            "\\x00\\x1f\\x7f\\x80\\xff"
        );
        assert_eq!(esc("é".as_bytes()), "\\xc3\\xa9");
    }

    #[test]
    fn json_escaping() {
        let j = |b: &[u8]| super::JsonEscaped(b).to_string();
        assert_eq!(j(b"hello users!!!"), "hello users!!!");
        assert_eq!(j(b"a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(j(b"\n\x00\xff"), "\\u000a\\u0000\\u00ff");
        assert_eq!(j(b""), "");
        // Every byte gives valid JSON string content.
        let all: Vec<u8> = (0..=255).collect();
        let text = j(&all);
        assert!(text.bytes().all(|c| (0x20..=0x7e).contains(&c)));
        assert_eq!(text.matches("\\u00").count(), 256 - 95);
    }

    #[test]
    fn every_byte_round_trips() {
        // Unescaping the output must give back the input for all 256 bytes.
        let all: Vec<u8> = (0..=255).collect();
        let text = esc(&all);
        let mut back = Vec::new();
        let mut chars = text.bytes();
        while let Some(c) = chars.next() {
            if c != b'\\' {
                assert!((0x20..=0x7e).contains(&c));
                back.push(c);
                continue;
            }
            match chars.next() {
                Some(b'\\') => back.push(b'\\'),
                Some(b'x') => {
                    let hex = [chars.next().unwrap(), chars.next().unwrap()];
                    let hex = std::str::from_utf8(&hex).unwrap();
                    back.push(u8::from_str_radix(hex, 16).unwrap());
                }
                other => panic!("bad escape {other:?}"),
            }
        }
        assert_eq!(back, all);
    }
}
