// SPDX-License-Identifier: MIT OR Apache-2.0
//! Framing, the encoder, the classic unit's messages and the dispatcher.

use crate::answer::*;
use crate::batch::*;
use crate::error::*;
use crate::messages::*;
use crate::netlink::*;
use crate::proto;
use crate::v1::*;

/// Appends one encoded message (header + payload, padded to 4 unless
/// `pad` is false) to `out`; returns (start, nlmsg_len end, padded end).
fn push(out: &mut Vec<u8>, msg_type: u16, seq: u32, payload: &[u8], pad: bool) -> [usize; 3] {
    let start = out.len();
    let len = nlmsg_length(payload.len());
    let mut head = [0u8; NLMSG_HDRLEN];
    Header {
        len: len as u32,
        msg_type,
        flags: 0,
        seq,
        pid: 0,
    }
    .emit(&mut head);
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
    if pad {
        out.resize(start + nlmsg_align(len), 0);
    }
    [start, start + len, start + nlmsg_align(len)]
}

fn errmsg(error: i32, seq: u32) -> Vec<u8> {
    let mut p = error.to_ne_bytes().to_vec();
    let mut orig = [0u8; NLMSG_HDRLEN];
    Header {
        len: 21,
        msg_type: proto::MSG_SEND,
        flags: NLM_F_REQUEST,
        seq,
        pid: 4242,
    }
    .emit(&mut orig);
    p.extend_from_slice(&orig);
    p
}

fn decode(buf: &[u8]) -> Result<Vec<Received<'_>>, DecodeError> {
    Messages::new(buf).collect()
}

#[test]
fn encode_length_is_exactly_nlmsg_length() {
    let data = [0xa5u8; proto::MSG_LEN];
    for n in 0..=proto::MSG_LEN {
        let msg = Message::request(proto::MSG_SEND, 7, Payload::new(&data[..n]).unwrap(), false);
        let mut buf = [0xffu8; 512];
        let used = msg.encode(&mut buf).unwrap();
        assert_eq!(used, 16 + n, "payload {n}");
        assert_eq!(msg.encoded_len(), used);
        let h = Header::parse(&buf).unwrap();
        assert_eq!(h.len as usize, 16 + n);
        // Nothing written past the message (no NLMSG_SPACE padding).
        assert!(buf[used..].iter().all(|&b| b == 0xff), "payload {n}");
    }
    assert_eq!(MAX_MESSAGE_LEN, 141);
}

#[test]
fn encode_writes_header_fields() {
    let msg = Message::request(
        proto::MSG_ECHO,
        0x01020304,
        Payload::new(b"hi").unwrap(),
        true,
    );
    let mut buf = [0u8; 18];
    assert_eq!(msg.encode(&mut buf), Ok(18));
    let mut expect = Vec::new();
    expect.extend_from_slice(&18u32.to_ne_bytes());
    expect.extend_from_slice(&proto::MSG_ECHO.to_ne_bytes());
    expect.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    expect.extend_from_slice(&0x01020304u32.to_ne_bytes());
    expect.extend_from_slice(&0u32.to_ne_bytes());
    expect.extend_from_slice(b"hi");
    assert_eq!(&buf[..], &expect[..]);
    let plain = Message::request(proto::MSG_SEND, 1, Payload::default(), false);
    assert_eq!(plain.flags, NLM_F_REQUEST);
}

#[test]
fn encode_into_small_buffer_fails() {
    let msg = Message::request(proto::MSG_SEND, 1, Payload::new(b"abc").unwrap(), false);
    for size in 0..19 {
        let mut buf = vec![0u8; size];
        assert_eq!(
            msg.encode(&mut buf),
            Err(BufferTooSmall {
                needed: 19,
                available: size
            })
        );
    }
}

#[test]
fn payload_capacity_is_enforced() {
    assert!(Payload::new(&[0; 125]).is_ok());
    assert_eq!(Payload::new(&[0; 126]), Err(PayloadTooLong { len: 126 }));
    assert_eq!(
        PayloadTooLong { len: 200 }.to_string(),
        "payload is 200 bytes, the maximum is 125"
    );
}

#[test]
fn round_trip_every_length() {
    let data: Vec<u8> = (0..=255u8).cycle().take(proto::MSG_LEN).collect();
    for n in 0..=proto::MSG_LEN {
        let msg = Message::request(
            proto::MSG_REPLY,
            n as u32,
            Payload::new(&data[..n]).unwrap(),
            false,
        );
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        let used = msg.encode(&mut buf).unwrap();
        assert_eq!(
            decode(&buf[..used]).unwrap(),
            vec![Received::Reply {
                seq: n as u32,
                payload: &data[..n]
            }]
        );
    }
}

#[test]
fn unaligned_last_message_is_accepted() {
    let big = [b'x'; 125];
    let mut buf = Vec::new();
    push(&mut buf, proto::MSG_BROADCAST, 0, b"abc", true);
    let [_, end, _] = push(&mut buf, proto::MSG_REPLY, 9, &big, false);
    assert_eq!(buf.len(), end);
    assert_eq!(Header::parse(&buf[20..]).unwrap().len, 141);
    assert_eq!(
        decode(&buf).unwrap(),
        vec![
            Received::Broadcast {
                seq: 0,
                payload: b"abc"
            },
            Received::Reply {
                seq: 9,
                payload: &big
            }
        ]
    );
}

/// A datagram as the kernel could send it: reply, padding, broadcast,
/// error, ack, noop, done, unpadded 125-byte reply.
fn sample() -> (Vec<u8>, Vec<[usize; 3]>) {
    let mut buf = Vec::new();
    let mut spans = vec![
        push(&mut buf, proto::MSG_REPLY, 1, b"hello users!!!", true),
        push(&mut buf, proto::MSG_BROADCAST, 0, b"b\x00c", true),
        push(&mut buf, NLMSG_ERROR, 2, &errmsg(-90, 2), true),
        push(&mut buf, NLMSG_ERROR, 3, &errmsg(0, 3), true),
        push(&mut buf, NLMSG_NOOP, 0, b"", true),
        push(&mut buf, NLMSG_DONE, 4, &[0; 4], true),
    ];
    spans.push(push(&mut buf, proto::MSG_REPLY, 5, &[b'z'; 125], false));
    (buf, spans)
}

fn sample_items() -> Vec<Received<'static>> {
    vec![
        Received::Reply {
            seq: 1,
            payload: b"hello users!!!",
        },
        Received::Broadcast {
            seq: 0,
            payload: b"b\x00c",
        },
        Received::Error { seq: 2, errno: 90 },
        Received::Ack { seq: 3 },
        Received::Done { seq: 4 },
        Received::Reply {
            seq: 5,
            payload: &[b'z'; 125],
        },
    ]
}

#[test]
fn multi_message_datagram_decodes() {
    let (buf, _) = sample();
    assert_eq!(decode(&buf).unwrap(), sample_items());
}

#[test]
fn every_truncation_is_rejected() {
    let (buf, spans) = sample();
    let items = sample_items();
    for cut in 0..buf.len() {
        let result = decode(&buf[..cut]);
        // A cut between a message's nlmsg_len end and its padded end (or
        // at 0) leaves a shorter but valid datagram; any other cut must
        // be an error.
        let complete = spans.iter().position(|s| (s[1]..=s[2]).contains(&cut));
        match (cut, complete) {
            (0, _) => assert_eq!(result, Ok(vec![]), "cut {cut}"),
            (_, Some(i)) => {
                // Messages 0..=i survive; the NOOP (index 4) yields nothing.
                let kept = if i >= 4 { i } else { i + 1 };
                assert_eq!(result.as_deref(), Ok(&items[..kept]), "cut {cut}");
            }
            (_, None) => assert!(result.is_err(), "cut {cut} accepted: {result:?}"),
        }
    }
}

#[test]
fn error_is_yielded_once_after_good_messages() {
    let (mut buf, _) = sample();
    buf.truncate(buf.len() - 1);
    let mut it = Messages::new(&buf);
    for _ in 0..5 {
        assert!(it.next().unwrap().is_ok());
    }
    assert!(matches!(
        it.next(),
        Some(Err(DecodeError::BadLength { .. }))
    ));
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None);
}

#[test]
fn nlmsg_len_below_header_is_rejected() {
    for len in 0..16u32 {
        let mut buf = Vec::new();
        push(&mut buf, proto::MSG_REPLY, 1, b"abcdefgh", true);
        buf[..4].copy_from_slice(&len.to_ne_bytes());
        assert_eq!(
            decode(&buf),
            Err(DecodeError::BadLength {
                offset: 0,
                len,
                remaining: 24
            })
        );
    }
}

#[test]
fn nlmsg_len_beyond_datagram_is_rejected() {
    let mut buf = Vec::new();
    push(&mut buf, proto::MSG_REPLY, 1, b"ok", true);
    push(&mut buf, proto::MSG_REPLY, 2, b"abcd", true);
    buf[20..24].copy_from_slice(&21u32.to_ne_bytes());
    let mut it = Messages::new(&buf);
    assert!(it.next().unwrap().is_ok());
    assert_eq!(
        it.next(),
        Some(Err(DecodeError::BadLength {
            offset: 20,
            len: 21,
            remaining: 20
        }))
    );
    buf[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert!(decode(&buf).is_err());
}

#[test]
fn oversized_payload_is_rejected() {
    let mut buf = Vec::new();
    push(&mut buf, proto::MSG_BROADCAST, 0, &[0; 126], false);
    assert_eq!(
        decode(&buf),
        Err(DecodeError::PayloadTooLong {
            offset: 0,
            len: 126
        })
    );
    let mut buf = Vec::new();
    push(&mut buf, proto::MSG_REPLY, 3, &[0; 200], false);
    assert!(matches!(
        decode(&buf),
        Err(DecodeError::PayloadTooLong { .. })
    ));
}

#[test]
fn nlmsg_error_parsing() {
    // -EPERM with the original header.
    let mut buf = Vec::new();
    push(&mut buf, NLMSG_ERROR, 11, &errmsg(-1, 11), true);
    assert_eq!(
        decode(&buf),
        Ok(vec![Received::Error { seq: 11, errno: 1 }])
    );
    // Only 19 bytes of struct nlmsgerr: rejected.
    let mut buf = Vec::new();
    push(&mut buf, NLMSG_ERROR, 11, &errmsg(-1, 11)[..19], true);
    assert_eq!(decode(&buf), Err(DecodeError::BadError { offset: 0 }));
    // Positive and i32::MIN errors are not valid errnos.
    for bad in [1, i32::MIN] {
        let mut buf = Vec::new();
        push(&mut buf, NLMSG_ERROR, 1, &errmsg(bad, 1), true);
        assert_eq!(decode(&buf), Err(DecodeError::BadError { offset: 0 }));
    }
    // Error with the original payload appended (no NETLINK_CAP_ACK).
    let mut p = errmsg(-90, 6);
    p.extend_from_slice(&[b'q'; 200]);
    let mut buf = Vec::new();
    push(&mut buf, NLMSG_ERROR, 6, &p, true);
    assert_eq!(
        decode(&buf),
        Ok(vec![Received::Error { seq: 6, errno: 90 }])
    );
}

#[test]
fn unknown_types_are_handed_over() {
    for t in [
        0u16,
        4,
        0x0f,
        proto::MSG_SEND,
        proto::MSG_ECHO,
        0x14,
        0xffff,
    ] {
        // An unknown message between two replies: all three come out.
        let mut buf = Vec::new();
        push(&mut buf, proto::MSG_REPLY, 1, b"a", true);
        push(&mut buf, t, 2, b"xyz", true);
        push(&mut buf, proto::MSG_REPLY, 3, b"b", true);
        let got = decode(&buf).unwrap();
        assert_eq!(got.len(), 3, "type {t:#x}");
        let Received::Unknown(frame) = got[1] else {
            panic!("type {t:#x}: {:?}", got[1]);
        };
        assert_eq!(frame.offset, 20);
        assert_eq!(frame.header.msg_type, t);
        assert_eq!(frame.header.seq, 2);
        assert_eq!(frame.payload, b"xyz");
        assert_eq!(
            got[2],
            Received::Reply {
                seq: 3,
                payload: b"b"
            }
        );
    }
}

/// Payload of `n` bytes that differs for every length and position.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + n * 7) as u8).collect()
}

#[test]
fn batch_round_trip_every_length() {
    // One datagram holding a reply of every length 0..=125, then each
    // length alone: decoding gives back exactly what was pushed.
    let mut buf = vec![0xeeu8; 128 * 144];
    let mut batch = Batch::new(&mut buf);
    for n in 0..=proto::MSG_LEN {
        batch
            .push(proto::MSG_REPLY, 0, n as u32, &pattern(n))
            .unwrap();
    }
    assert_eq!(batch.count(), 126);
    let items = decode(batch.as_bytes()).unwrap();
    assert_eq!(items.len(), 126);
    for (n, item) in items.iter().enumerate() {
        let want = pattern(n);
        assert_eq!(
            *item,
            Received::Reply {
                seq: n as u32,
                payload: &want
            }
        );
    }
    for n in 0..=proto::MSG_LEN {
        let mut one = [0u8; MAX_MESSAGE_LEN];
        let mut b = Batch::new(&mut one);
        b.push(proto::MSG_BROADCAST, 0, 0, &pattern(n)).unwrap();
        assert_eq!(b.as_bytes().len(), nlmsg_length(n));
        let want = pattern(n);
        assert_eq!(
            decode(b.as_bytes()).unwrap(),
            vec![Received::Broadcast {
                seq: 0,
                payload: &want
            }]
        );
    }
}

#[test]
fn every_truncation_of_every_length_is_rejected() {
    for n in 0..=proto::MSG_LEN {
        for msg_type in [proto::MSG_REPLY, proto::MSG_BROADCAST] {
            let mut buf = [0u8; MAX_MESSAGE_LEN];
            let mut b = Batch::new(&mut buf);
            b.push(msg_type, 0, 9, &pattern(n)).unwrap();
            let full = b.as_bytes();
            assert_eq!(decode(full).unwrap().len(), 1);
            assert_eq!(decode(&full[..0]), Ok(vec![]));
            for cut in 1..full.len() {
                let r = decode(&full[..cut]);
                assert!(r.is_err(), "len {n} cut {cut} misread as {r:?}");
            }
        }
    }
}

#[test]
fn every_truncation_of_a_batch_is_rejected_or_a_prefix() {
    let mut buf = [0u8; 4096];
    let mut b = Batch::new(&mut buf);
    let mut ends = Vec::new();
    for (i, n) in [0usize, 1, 3, 4, 5, 125, 17, 124].into_iter().enumerate() {
        b.push(proto::MSG_REPLY, 0, i as u32, &pattern(n)).unwrap();
        ends.push((b.as_bytes().len(), nlmsg_align(b.as_bytes().len())));
    }
    let full = b.as_bytes().to_vec();
    let all = decode(&full).unwrap();
    for cut in 0..full.len() {
        let r = decode(&full[..cut]);
        // Complete messages end between nlmsg_len and the padded end.
        match ends.iter().position(|&(e, a)| (e..=a).contains(&cut)) {
            Some(i) => assert_eq!(r.as_deref(), Ok(&all[..=i]), "cut {cut}"),
            None if cut == 0 => assert_eq!(r, Ok(vec![])),
            None => assert!(r.is_err(), "cut {cut} misread as {r:?}"),
        }
    }
}

#[test]
fn batch_refuses_what_does_not_fit() {
    let mut buf = [0x55u8; 40];
    let mut b = Batch::new(&mut buf);
    assert!(b.is_empty());
    b.push(proto::MSG_ECHO, NLM_F_REQUEST, 1, b"abc").unwrap();
    // 19 used, next starts at 20 and needs 16 + 5 = 21 > 40.
    assert_eq!(
        b.push(proto::MSG_ECHO, NLM_F_REQUEST, 2, b"defgh"),
        Err(BatchError::Full(BufferTooSmall {
            needed: 41,
            available: 40
        }))
    );
    assert_eq!(
        b.push(proto::MSG_ECHO, 0, 2, &[0; 126]),
        Err(BatchError::PayloadTooLong(PayloadTooLong { len: 126 }))
    );
    assert_eq!((b.count(), b.as_bytes().len()), (1, 19));
    b.push(proto::MSG_ECHO, NLM_F_REQUEST, 2, b"defg").unwrap();
    // Padding between messages is zeroed.
    assert_eq!(b.as_bytes()[19], 0);
    assert_eq!(b.as_bytes().len(), 40);
    let msg = Message::request(proto::MSG_SEND, 3, Payload::default(), true);
    b.clear();
    msg.push_to(&mut b).unwrap();
    let h = Header::parse(b.as_bytes()).unwrap();
    assert_eq!((h.len, h.flags, h.seq), (16, NLM_F_REQUEST | NLM_F_ACK, 3));
}

#[test]
fn broadcasts_carry_their_sequence_number() {
    let mut buf = Vec::new();
    push(&mut buf, proto::MSG_BROADCAST, 41, b"a", true);
    push(&mut buf, proto::MSG_BROADCAST, u32::MAX, b"b", false);
    assert_eq!(
        decode(&buf).unwrap(),
        [
            Received::Broadcast {
                seq: 41,
                payload: b"a"
            },
            Received::Broadcast {
                seq: u32::MAX,
                payload: b"b"
            }
        ]
    );
}

#[test]
fn frames_yield_every_message_uninterpreted() {
    let (buf, spans) = sample();
    let frames: Vec<Frame<'_>> = Frames::new(&buf).map(Result::unwrap).collect();
    assert_eq!(frames.len(), spans.len());
    for (f, span) in frames.iter().zip(&spans) {
        assert_eq!(f.offset, span[0]);
        assert_eq!(f.header.len as usize, span[1] - span[0]);
        assert_eq!(f.payload.len(), span[1] - span[0] - NLMSG_HDRLEN);
    }
    assert_eq!(frames[4].header.msg_type, NLMSG_NOOP);
    assert_eq!(frames[2].error(), Ok(Some(90)));
    assert_eq!(frames[3].error(), Ok(None));
    // Same length rules as Messages: the first error once, then the end.
    let mut it = Frames::new(&buf[..buf.len() - 1]);
    assert_eq!(it.by_ref().take(6).filter(|f| f.is_ok()).count(), 6);
    assert!(matches!(
        it.next(),
        Some(Err(DecodeError::BadLength { .. }))
    ));
    assert_eq!(it.next(), None);
}

#[test]
fn push_parts_concatenates() {
    let mut buf = [0x77u8; 64];
    let mut b = Batch::new(&mut buf);
    b.push_parts(0x1a, NLM_F_REQUEST, 5, &[b"ab", b"", b"cde"])
        .unwrap();
    b.push_parts(0x1b, 0, 6, &[]).unwrap();
    let bytes = b.as_bytes();
    assert_eq!(bytes.len(), 24 + 16);
    assert_eq!(&bytes[16..21], b"abcde");
    assert_eq!(&bytes[21..24], &[0, 0, 0]);
    let frames: Vec<_> = Frames::new(bytes).map(Result::unwrap).collect();
    assert_eq!(
        (frames[0].header.msg_type, frames[0].payload),
        (0x1a, &b"abcde"[..])
    );
    assert_eq!((frames[1].header.seq, frames[1].payload), (6, &b""[..]));
    let before = b.as_bytes().len();
    assert_eq!(
        b.push_parts(1, 0, 7, &[&[0u8; 9]]),
        Err(BufferTooSmall {
            needed: 40 + 25,
            available: 64
        })
    );
    assert_eq!((b.count(), b.as_bytes().len()), (2, before));
}

#[test]
fn alignment_helpers() {
    assert_eq!(nlmsg_align(0), 0);
    assert_eq!(nlmsg_align(1), 4);
    assert_eq!(nlmsg_align(141), 144);
    assert_eq!(nlmsg_align(144), 144);
    assert_eq!(nlmsg_length(15), 31);
}
