// SPDX-License-Identifier: MIT OR Apache-2.0
//! Any datagram: the decoders never panic or read out of bounds, every
//! payload they yield lies inside the datagram and is at most 125 bytes,
//! and a batch re-encoding of what they yield decodes to the same. The
//! datagram is read as the classic unit's, as generic netlink family
//! 0x1a's (attributes included) and as nlctrl's answer about a family.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nlchan::attr::Attrs;
use nlchan::{genl, nlctrl, Batch, Frames, Messages, Received};
use nlchan::{proto, Escaped};

/// Checks that `payload` lies inside `data`.
fn inside(data: &[u8], payload: &[u8]) {
    let start = payload.as_ptr() as usize - data.as_ptr() as usize;
    assert!(start + payload.len() <= data.len());
}

const FAMILY: u16 = 0x1a;

fuzz_target!(|data: &[u8]| {
    // The classic unit.
    let mut out = [0u8; 65536];
    let mut batch = Batch::new(&mut out);
    let mut items = 0usize;
    for item in Messages::new(data) {
        let Ok(item) = item else { continue };
        items += 1;
        let (t, seq, payload) = match item {
            Received::Reply { seq, payload } => (proto::MSG_REPLY, seq, payload),
            Received::Broadcast { seq, payload } => (proto::MSG_BROADCAST, seq, payload),
            _ => continue,
        };
        assert!(payload.len() <= proto::MSG_LEN);
        inside(data, payload);
        let _ = format!("{}", Escaped(payload));
        let _ = batch.push(t, 0, seq, payload);
    }
    assert!(items <= data.len() / 16);
    let again: Vec<_> = Messages::new(batch.as_bytes()).collect();
    assert_eq!(again.len(), batch.count());
    assert!(again.iter().all(|r| r.is_ok()));

    // Generic netlink: the same, with the payload in an attribute.
    let mut out = [0u8; 65536];
    let mut batch = Batch::new(&mut out);
    let mut yielded = Vec::new();
    for item in Messages::genl(data, FAMILY) {
        let Ok(item) = item else { continue };
        let (cmd, seq, payload) = match item {
            Received::Reply { seq, payload } => (proto::CMD_REPLY, seq, payload),
            Received::Broadcast { seq, payload } => (proto::CMD_BROADCAST, seq, payload),
            _ => continue,
        };
        assert!(payload.len() <= proto::MSG_LEN);
        inside(data, payload);
        if genl::push_request(&mut batch, FAMILY, cmd, 0, seq, payload).is_ok() {
            yielded.push(item);
        }
    }
    let again: Vec<_> = Messages::genl(batch.as_bytes(), FAMILY)
        .map(|r| r.expect("re-encoded message"))
        .collect();
    assert_eq!(again, yielded);

    // Attributes straight from the datagram, nested ones too, and
    // nlctrl's answer: bounds only.
    for attr in Attrs::new(data).flatten() {
        inside(data, attr.payload);
        for inner in attr.nested().flatten() {
            inside(data, inner.payload);
        }
    }
    for frame in Frames::new(data).flatten() {
        if let Ok(f) = nlctrl::parse_family(frame, "nlchan", "broadcast") {
            assert_ne!(f.id, 0);
        }
    }
});
