//! The local run queue: the `Notified` tokens of the tasks ready to run (each token is the
//! task's `NOTIFIED` reference, see `task/harness.rs`). Owner thread only.
//!
//! Three FIFO levels, one per [`Priority`](crate::task::Priority). The highest non-empty level
//! goes first (strict priority), with aging: each time a pop passes over a non-empty level, that
//! level's `starved` count goes up, and a level passed over `AGING_LIMIT` times in a row is
//! served next. So under a saturating high-priority load a low task still runs once every
//! `AGING_LIMIT + 1` pops. With every task at the default priority this is one FIFO.
//!
//! For tests, a seeded shuffle (`Builder::shuffle_seed`) picks a random task of the chosen
//! level instead of the oldest: reproducible from the seed, so a failing interleaving can be
//! replayed exactly.

use std::collections::VecDeque;

use crate::task::harness::Notified;

/// How many times a non-empty level may be passed over before it is served.
pub(crate) const AGING_LIMIT: u32 = 32;

const LEVELS: usize = 3;
/// The level of `Priority::Normal`.
const NORMAL: usize = 1;

#[derive(Default)]
pub(crate) struct RunQueue {
    levels: [VecDeque<Notified>; LEVELS],
    starved: [u32; LEVELS],
    len: usize,
    /// xorshift64* state when shuffling.
    rng: Option<u64>,
    max_depth: usize,
}

impl RunQueue {
    pub(crate) fn new(shuffle_seed: Option<u64>) -> RunQueue {
        RunQueue {
            // xorshift must not start at zero.
            rng: shuffle_seed.map(|s| s ^ 0x9E37_79B9_7F4A_7C15 | 1),
            ..RunQueue::default()
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, task: Notified) {
        let level = task.task().level().min(LEVELS - 1);
        self.levels[level].push_back(task);
        self.len += 1;
        self.max_depth = self.max_depth.max(self.len);
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Notified> {
        if self.len == 0 {
            return None;
        }
        // Every queued task at the default priority, no shuffling: one FIFO. (`pick` would
        // choose the normal level too: the others are empty, so neither is starved — a
        // level's count is reset when it is served, and only serving empties it.)
        if self.len == self.levels[NORMAL].len() && self.rng.is_none() {
            self.len -= 1;
            self.starved[NORMAL] = 0;
            return self.levels[NORMAL].pop_front();
        }
        let level = self.pick();
        self.len -= 1;
        match &mut self.rng {
            None => self.levels[level].pop_front(),
            Some(state) => {
                let mut x = *state;
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                *state = x;
                let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
                let n = self.levels[level].len() as u64;
                self.levels[level].remove((r % n) as usize)
            }
        }
    }

    pub(crate) fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// The level to serve: a starved one if any, else the most urgent non-empty one.
    #[inline]
    fn pick(&mut self) -> usize {
        let chosen = match self.starved.iter().rposition(|&s| s >= AGING_LIMIT) {
            Some(level) => level,
            None => self.levels.iter().position(|l| !l.is_empty()).unwrap_or(0),
        };
        self.starved[chosen] = 0;
        for level in chosen + 1..LEVELS {
            if !self.levels[level].is_empty() {
                self.starved[level] += 1;
            }
        }
        chosen
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}
