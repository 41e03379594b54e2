//! Any datagram: the decoder never panics or reads out of bounds, every
//! payload it yields lies inside the datagram and is at most 125 bytes,
//! and a batch re-encoding of what it yields decodes to the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nlchan::codec::{Batch, Messages, Received};
use nlchan::{proto, Escaped};

fuzz_target!(|data: &[u8]| {
    let mut out = [0u8; 65536];
    let mut batch = Batch::new(&mut out);
    let mut items = 0usize;
    for item in Messages::new(data) {
        let Ok(item) = item else { continue };
        items += 1;
        let (t, seq, payload) = match item {
            Received::Reply { seq, payload } => (proto::MSG_REPLY, seq, payload),
            Received::Broadcast { payload } => (proto::MSG_BROADCAST, 0, payload),
            _ => continue,
        };
        assert!(payload.len() <= proto::MSG_LEN);
        let start = payload.as_ptr() as usize - data.as_ptr() as usize;
        assert!(start + payload.len() <= data.len());
        let _ = format!("{}", Escaped(payload));
        let _ = batch.push(t, 0, seq, payload);
    }
    assert!(items <= data.len() / 16);
    let again: Vec<_> = Messages::new(batch.as_bytes()).collect();
    assert_eq!(again.len(), batch.count());
    assert!(again.iter().all(|r| r.is_ok()));
});
