//! [`Sources`]: the table of registered I/O sources, and the [`mio::Token`]s that name them.
//!
//! # Tokens
//!
//! The driver hands mio two kinds of token, told apart by one bit ([`IO_TAG`], the top bit):
//!
//! ```text
//!  63   62 ........................ 32   31 ........................ 0     (64-bit targets)
//! +---+--------------------------------+--------------------------------+
//! | 1 | low 31 bits of the slab stamp  |          slab index            |   an I/O source
//! +---+--------------------------------+--------------------------------+
//! | 0 |           a small constant: the driver's own (waker, timerfd)   |
//! +---+-----------------------------------------------------------------+
//! ```
//!
//! A source's token is made here from its [`weft_core::slab::Key`] and nowhere else, always
//! with the tag set; the driver's own tokens are constants without it
//! ([`crate::driver`] asserts this at compile time). No `mio::Registry` is reachable from
//! outside the crate, so no other token can be registered: an event's tag says which kind it
//! names, and an event for an I/O token can only name a slot of this table.
//!
//! # Why a stale event cannot reach a new source
//!
//! An event names a source that may have been dropped since `epoll_wait` returned it: the
//! kernel forgets a deregistered descriptor, but the events of the batch being dispatched
//! were copied out before, and a wake during the dispatch may drop a source (and register a
//! new one in its slot). [`Sources::get`] finds the slot's current occupant only if its stamp
//! agrees with the token's in the low 31 bits. Stamps come from one counter per table and
//! are never reused, so a stale token matches a newer occupant only if 2^31 registrations
//! happened between the `epoll_wait` and the dispatch of that event, within one batch. (On
//! 32-bit targets the split is 16 bits of index and 15 of stamp.)

use std::io;
use std::rc::Rc;

use mio::Token;
use weft_core::slab::{Key, Slab};

use super::scheduled::ScheduledIo;

/// The bit set in every I/O source's token and in no token of the driver's own.
pub(crate) const IO_TAG: usize = 1 << (usize::BITS - 1);
/// Bits of a token holding the slab index.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// The bits of the stamp a token keeps, once shifted down by `INDEX_BITS`.
const STAMP_MASK: usize = (IO_TAG - 1) >> INDEX_BITS;

/// The token of the source under `key`.
#[inline]
fn token_of(key: Key) -> Token {
    // Truncating the stamp is the point: its low bits go in the token (see the module docs).
    let stamp = key.stamp() as usize & STAMP_MASK;
    Token(IO_TAG | stamp << INDEX_BITS | key.index() as usize)
}

/// Registered sources by key: each a shared [`ScheduledIo`] that the socket keeps too.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    slab: Slab<Rc<ScheduledIo>>,
}

impl Sources {
    /// Adds `io` and returns its key and the token to register it under.
    ///
    /// # Errors
    ///
    /// When the index would not fit in a token (2^32 sources on 64-bit targets, 2^16 on
    /// 32-bit ones).
    pub(crate) fn insert(&mut self, io: Rc<ScheduledIo>) -> io::Result<(Key, Token)> {
        let key = self.slab.insert(io);
        if key.index() as usize > INDEX_MASK {
            self.slab.remove(key);
            return Err(io::Error::other("too many registered I/O sources"));
        }
        Ok((key, token_of(key)))
    }

    /// The source `token` names, unless it was removed since. `token` must carry
    /// [`IO_TAG`].
    #[inline]
    pub(crate) fn get(&self, token: Token) -> Option<&Rc<ScheduledIo>> {
        debug_assert!(token.0 & IO_TAG != 0, "not an I/O token: {token:?}");
        let key = self.slab.key_at((token.0 & INDEX_MASK) as u32)?;
        if token_of(key) != token {
            return None;
        }
        self.slab.get(key)
    }

    /// Removes the source under `key`; `None` if it already was.
    pub(crate) fn remove(&mut self, key: Key) -> Option<Rc<ScheduledIo>> {
        self.slab.remove(key)
    }

    /// The number of sources.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// Every source, for the driver's shutdown.
    pub(crate) fn all(&self) -> Vec<Rc<ScheduledIo>> {
        self.slab.iter().map(|(_, io)| io.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::interest::READABLE;

    fn source() -> Rc<ScheduledIo> {
        Rc::new(ScheduledIo::new(READABLE))
    }

    #[test]
    fn every_source_token_is_tagged_and_names_its_slot() {
        let mut sources = Sources::default();
        for _ in 0..100 {
            let io = source();
            let (key, token) = sources.insert(io.clone()).unwrap();
            assert_ne!(token.0 & IO_TAG, 0);
            assert_eq!(token.0 & INDEX_MASK, key.index() as usize);
            assert!(Rc::ptr_eq(sources.get(token).unwrap(), &io));
        }
        assert_eq!(sources.len(), 100);
    }

    #[test]
    fn stale_tokens_find_nothing_after_slots_are_reused() {
        let n = if cfg!(miri) { 20 } else { 1000 };
        let mut sources = Sources::default();
        let mut live = Vec::new();
        let mut stale = Vec::new();
        // Rounds of registering and dropping: every slot is reused many times.
        for round in 0..5 {
            for _ in 0..n {
                let io = source();
                let (key, token) = sources.insert(io.clone()).unwrap();
                live.push((key, token, io));
            }
            // Drop every other source (all of them in the last round).
            let (gone, kept): (Vec<_>, Vec<_>) = live
                .drain(..)
                .enumerate()
                .partition(|(i, _)| round == 4 || i % 2 == 0);
            for (_, (key, token, _)) in gone {
                assert!(sources.remove(key).is_some());
                assert!(sources.remove(key).is_none(), "removed once");
                stale.push(token);
            }
            live = kept.into_iter().map(|(_, s)| s).collect();
            for (_, token, io) in &live {
                assert!(Rc::ptr_eq(sources.get(*token).unwrap(), io));
            }
            assert!(stale.iter().all(|t| sources.get(*t).is_none()));
        }
        assert_eq!(sources.len(), 0);
        // Refill the table: the slots of the stale tokens are occupied again.
        let fresh: Vec<_> = (0..n)
            .map(|_| sources.insert(source()).unwrap().1)
            .collect();
        assert!(stale.iter().all(|t| sources.get(*t).is_none()));
        assert!(fresh.iter().all(|t| sources.get(*t).is_some()));
    }

    #[test]
    fn a_token_for_a_slot_never_filled_finds_nothing() {
        let mut sources = Sources::default();
        let (_, token) = sources.insert(source()).unwrap();
        assert!(
            sources.get(Token(token.0 + 1)).is_none(),
            "index out of range"
        );
        assert!(
            sources.get(Token(token.0 ^ (1 << INDEX_BITS))).is_none(),
            "wrong stamp"
        );
    }
}
