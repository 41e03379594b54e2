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

/// Displays a byte string as the inside of a JSON string: valid UTF-8 as
/// is (so `jq` shows the text it is), `"` and `\` backslash-escaped,
/// control characters as `\u00NN`, and each byte that is not UTF-8 as
/// `\ufffd` (the replacement character; [`Hex`] keeps every byte). Never
/// allocates.
#[derive(Debug, Clone, Copy)]
pub struct JsonEscaped<'a>(pub &'a [u8]);

impl fmt::Display for JsonEscaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            let text = chunk.valid();
            let mut start = 0;
            for (i, c) in text.char_indices() {
                if !c.is_control() && c != '"' && c != '\\' {
                    continue;
                }
                f.write_str(&text[start..i])?;
                match c {
                    '"' => f.write_str("\\\"")?,
                    '\\' => f.write_str("\\\\")?,
                    c => write!(f, "\\u{:04x}", u32::from(c))?,
                }
                start = i + c.len_utf8();
            }
            f.write_str(&text[start..])?;
            for _ in chunk.invalid() {
                f.write_str("\\ufffd")?;
            }
        }
        Ok(())
    }
}

/// Displays a byte string as lower-case hex, two digits a byte.
#[derive(Debug, Clone, Copy)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
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
        assert_eq!(j(b"\n\x00\x7f"), "\\u000a\\u0000\\u007f");
        assert_eq!(j(b""), "");
        // UTF-8 is kept; what is not UTF-8 is one replacement each.
        assert_eq!(j("é → ✓".as_bytes()), "é → ✓");
        assert_eq!(j(b"a\xffb\xc3"), "a\\ufffdb\\ufffd");
        assert_eq!(j("\u{85}".as_bytes()), "\\u0085");
        // Every byte string gives JSON string content: no raw control
        // character, quote or lone backslash.
        let all: Vec<u8> = (0..=255).collect();
        let text = j(&all);
        assert!(!text.chars().any(|c| c.is_control()));
        assert_eq!(text.matches("\\ufffd").count(), 128);
        assert_eq!(text.matches("\\u00").count(), 33);
    }

    #[test]
    fn hex_is_two_digits_a_byte() {
        assert_eq!(super::Hex(b"q\"x\x00\xff").to_string(), "71227800ff");
        assert_eq!(super::Hex(b"").to_string(), "");
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
