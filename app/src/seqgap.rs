// SPDX-License-Identifier: MIT OR Apache-2.0
//! Broadcast sequence numbers: which broadcasts a listener missed, on any
//! kernel.
//!
//! The module numbers its broadcasts in `nlmsg_seq`: 1 for the first, one
//! more for each next one, wrapping from `u32::MAX` to 1 (0 is never used;
//! a module older than protocol v2 sends 0), the same number on both
//! transports. A listener that receives `n` after `m` missed the numbers
//! between them: a gap. A number lower than expected is a late one (two
//! broadcasts sent at once on two CPUs may arrive swapped), not a loss;
//! when it falls in a gap counted before, that gap shrinks. "Lower" is
//! serial-number arithmetic (RFC 1982): at most half the number space
//! behind. Broadcasts missed after the last one received leave no gap;
//! on kernels with `SO_MEMINFO` the socket's drop counter is exact
//! ([`crate::NlSocket::sync_lost`]), before 4.12 the gaps are all there is.

#![forbid(unsafe_code)]

/// Sequence numbers in use: 1 to `u32::MAX`.
const SPACE: u64 = u32::MAX as u64;

/// What one sequence number told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Seq {
    /// The first numbered broadcast seen: no gap can be told before it.
    First,
    /// The number expected.
    Next,
    /// This many broadcasts were missed before this one.
    Gap(u64),
    /// A number lower than expected: it arrived late.
    Late,
    /// Number 0: a broadcast without a sequence number (module older than
    /// protocol v2).
    Unnumbered,
}

/// Follows the sequence numbers of the broadcasts one listener receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqGaps {
    /// First number seen (0: none yet).
    first: u32,
    /// Number expected next (0: none seen yet).
    next: u32,
    missed: u64,
    late: u64,
}

/// Position of `seq` (not 0) in the sequence: 0 to `SPACE - 1`.
fn pos(seq: u32) -> u64 {
    u64::from(seq) - 1
}

/// Steps forward from `from` to `to` (both not 0), modulo the space.
fn ahead(from: u32, to: u32) -> u64 {
    (pos(to) + SPACE - pos(from)) % SPACE
}

/// The number after `seq`: `u32::MAX` is followed by 1.
fn successor(seq: u32) -> u32 {
    if seq == u32::MAX {
        1
    } else {
        seq + 1
    }
}

impl SeqGaps {
    /// Nothing seen yet.
    pub const fn new() -> Self {
        SeqGaps {
            first: 0,
            next: 0,
            missed: 0,
            late: 0,
        }
    }

    /// Takes the sequence number of the next broadcast received.
    pub fn observe(&mut self, seq: u32) -> Seq {
        if seq == 0 {
            return Seq::Unnumbered;
        }
        if self.next == 0 {
            self.first = seq;
            self.next = successor(seq);
            return Seq::First;
        }
        let d = ahead(self.next, seq);
        if d == 0 {
            self.next = successor(seq);
            Seq::Next
        } else if d < SPACE / 2 {
            self.missed += d;
            self.next = successor(seq);
            Seq::Gap(d)
        } else {
            self.late += 1;
            // At or after the first number seen, it was counted in a gap.
            if ahead(self.first, seq) < ahead(self.first, self.next) {
                self.missed = self.missed.saturating_sub(1);
            }
            Seq::Late
        }
    }

    /// Broadcasts missed: the numbers in gaps, less the late arrivals that
    /// filled some.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// Broadcasts that arrived after a higher number.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// The highest number seen, if any.
    pub fn last(&self) -> Option<u32> {
        match self.next {
            0 => None,
            1 => Some(u32::MAX),
            n => Some(n - 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(seqs: &[u32]) -> (SeqGaps, Vec<Seq>) {
        let mut g = SeqGaps::new();
        let events = seqs.iter().map(|&s| g.observe(s)).collect();
        (g, events)
    }

    #[test]
    fn in_order_has_no_gap() {
        let (g, ev) = feed(&[5, 6, 7, 8]);
        assert_eq!(ev, [Seq::First, Seq::Next, Seq::Next, Seq::Next]);
        assert_eq!((g.missed(), g.late(), g.last()), (0, 0, Some(8)));
        assert_eq!(SeqGaps::new().last(), None);
    }

    #[test]
    fn gaps_are_counted() {
        let (g, ev) = feed(&[1, 2, 5, 6, 10]);
        assert_eq!(
            ev,
            [Seq::First, Seq::Next, Seq::Gap(2), Seq::Next, Seq::Gap(3)]
        );
        assert_eq!(g.missed(), 5);
    }

    #[test]
    fn late_ones_fill_gaps_but_are_no_loss() {
        // 3 and 4 arrive after 5: first counted missed, then found.
        let (g, ev) = feed(&[1, 2, 5, 3, 4, 6]);
        assert_eq!(
            ev,
            [
                Seq::First,
                Seq::Next,
                Seq::Gap(2),
                Seq::Late,
                Seq::Late,
                Seq::Next
            ]
        );
        assert_eq!((g.missed(), g.late()), (0, 2));
        // A late one from before the first number seen was never counted.
        let (g, ev) = feed(&[10, 9, 11]);
        assert_eq!(ev, [Seq::First, Seq::Late, Seq::Next]);
        assert_eq!((g.missed(), g.late()), (0, 1));
    }

    #[test]
    fn wraps_from_max_to_one() {
        let m = u32::MAX;
        let (g, ev) = feed(&[m - 1, m, 1, 2]);
        assert_eq!(ev, [Seq::First, Seq::Next, Seq::Next, Seq::Next]);
        assert_eq!((g.missed(), g.last()), (0, Some(2)));
        // 0 is skipped: MAX then 2 misses only 1.
        let (g, ev) = feed(&[m, 2]);
        assert_eq!(ev, [Seq::First, Seq::Gap(1)]);
        assert_eq!(g.missed(), 1);
        // And a late MAX after 1 is late, not a gap of 2^32 - 2.
        let (g, ev) = feed(&[m - 1, 1, m]);
        assert_eq!(ev, [Seq::First, Seq::Gap(1), Seq::Late]);
        assert_eq!((g.missed(), g.last()), (0, Some(1)));
        assert_eq!(feed(&[m]).0.last(), Some(m));
    }

    #[test]
    fn unnumbered_broadcasts_are_ignored() {
        let (g, ev) = feed(&[0, 0, 3, 0, 4]);
        assert_eq!(
            ev,
            [
                Seq::Unnumbered,
                Seq::Unnumbered,
                Seq::First,
                Seq::Unnumbered,
                Seq::Next
            ]
        );
        assert_eq!((g.missed(), g.late()), (0, 0));
    }

    /// Every subset of 12 consecutive broadcasts, received in order, at
    /// several places of the number space (wrap included): the gaps count
    /// exactly the numbers missing between the first and the last received.
    #[test]
    fn every_subset_counts_exactly() {
        const N: u32 = 12;
        for start in [1u32, 1000, u32::MAX - 5, u32::MAX - N + 1] {
            let at = |i: u32| ((u64::from(start) - 1 + u64::from(i)) % SPACE + 1) as u32;
            for mask in 0u32..(1 << N) {
                let got: Vec<u32> = (0..N).filter(|i| mask & (1 << i) != 0).map(at).collect();
                let (g, _) = feed(&got);
                let want = match mask.checked_ilog2() {
                    None => 0,
                    Some(hi) => u64::from(hi - mask.trailing_zeros() + 1 - mask.count_ones()),
                };
                assert_eq!(g.missed(), want, "start {start} mask {mask:#b}");
                assert_eq!(g.late(), 0);
            }
        }
    }

    /// Each neighbouring pair swapped in turn: one late arrival, no loss.
    #[test]
    fn every_swap_is_late_not_lost() {
        let order: Vec<u32> = (1..=20).collect();
        for i in 0..order.len() - 1 {
            let mut seqs = order.clone();
            seqs.swap(i, i + 1);
            let (g, _) = feed(&seqs);
            assert_eq!((g.missed(), g.late()), (0, 1), "swap at {i}");
        }
    }
}
