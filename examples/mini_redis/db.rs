//! The key space: string keys to string values, each with an optional expiry.
//!
//! Expiry is lazy plus active, as in Redis: a read or write that finds a key past its
//! deadline removes it first (so an expired key is never seen), and [`Db::purge_expired`],
//! called periodically by the server, removes expired keys nobody touches, oldest deadline
//! first. Deadlines are `weft::time::Instant`s, so a paused clock drives expiry in tests.
//!
//! # Invariant
//!
//! `expiries` holds exactly one `(deadline, key)` for each entry whose `expires_at` is
//! `Some(deadline)`, and nothing else: every method that sets, changes or removes an
//! entry's deadline updates both.

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use weft::time::Instant;

/// A stored value and its deadline.
#[derive(Debug)]
struct Entry {
    /// The bytes stored.
    value: Vec<u8>,
    /// When the key stops existing; `None`: never.
    expires_at: Option<Instant>,
}

/// Whether a `SET` applies, given whether the key exists (`NX` / `XX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetCondition {
    /// Always.
    #[default]
    Always,
    /// Only if the key does not exist (`NX`).
    IfAbsent,
    /// Only if the key exists (`XX`).
    IfPresent,
}

/// What a `SET` does to the key's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetExpiry {
    /// Clears it: the key lives until deleted.
    #[default]
    Persist,
    /// Keeps the deadline the key had (`KEEPTTL`).
    Keep,
    /// Sets it (`EX` / `PX`).
    At(Instant),
}

/// The key space. Keys are shared (`Rc<[u8]>`) between the map and the expiry index.
#[derive(Debug, Default)]
pub struct Db {
    /// Every key and its value, expired ones included until removed.
    entries: HashMap<Rc<[u8]>, Entry>,
    /// The deadlines, earliest first; see the module's invariant.
    expiries: BTreeSet<(Instant, Rc<[u8]>)>,
}

impl Db {
    /// The value of `key`, unless it is absent or expired (then removed).
    pub fn get(&mut self, key: &[u8]) -> Option<&[u8]> {
        self.expire_if_due(key);
        self.entries.get(key).map(|e| &e.value[..])
    }

    /// Sets `key` to `value` if `cond` allows; returns whether it did.
    pub fn set(&mut self, key: &[u8], value: &[u8], cond: SetCondition, expiry: SetExpiry) -> bool {
        self.expire_if_due(key);
        let deadline = match (self.entries.get_mut(key), cond) {
            (Some(_), SetCondition::IfAbsent) | (None, SetCondition::IfPresent) => return false,
            (Some(entry), _) => {
                // Overwrite in place: a value of the same size (redis-benchmark's SET)
                // reuses the allocation.
                if entry.value.capacity() > 2 * value.len() + 64 {
                    entry.value = value.to_vec();
                } else {
                    entry.value.clear();
                    entry.value.extend_from_slice(value);
                }
                let old = entry.expires_at;
                let new = match expiry {
                    SetExpiry::Persist => None,
                    SetExpiry::Keep => old,
                    SetExpiry::At(t) => Some(t),
                };
                if old == new {
                    return true;
                }
                entry.expires_at = new;
                if let Some(old) = old {
                    // Rebuilding the Rc for the lookup would allocate; find the shared key.
                    let (k, _) = self.entries.get_key_value(key).expect("just found");
                    self.expiries.remove(&(old, k.clone()));
                }
                new
            }
            (None, _) => {
                let deadline = match expiry {
                    SetExpiry::At(t) => Some(t),
                    SetExpiry::Persist | SetExpiry::Keep => None,
                };
                let entry = Entry {
                    value: value.to_vec(),
                    expires_at: deadline,
                };
                self.entries.insert(Rc::from(key), entry);
                deadline
            }
        };
        if let Some(t) = deadline {
            let (k, _) = self.entries.get_key_value(key).expect("just set");
            self.expiries.insert((t, k.clone()));
        }
        true
    }

    /// Removes `key`; returns whether it existed (an expired key does not).
    pub fn remove(&mut self, key: &[u8]) -> bool {
        self.expire_if_due(key);
        self.remove_entry(key)
    }

    /// Whether `key` exists (and has not expired).
    pub fn contains(&mut self, key: &[u8]) -> bool {
        self.expire_if_due(key);
        self.entries.contains_key(key)
    }

    /// `key`'s deadline: `None` if the key does not exist, `Some(None)` if it never
    /// expires.
    pub fn deadline(&mut self, key: &[u8]) -> Option<Option<Instant>> {
        self.expire_if_due(key);
        self.entries.get(key).map(|e| e.expires_at)
    }

    /// How many keys are stored, counting expired ones not yet removed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.expiries.clear();
    }

    /// Removes up to `limit` keys whose deadline is at or before `now`, earliest first;
    /// returns how many it removed (fewer than `limit`: none is left).
    pub fn purge_expired(&mut self, now: Instant, limit: usize) -> usize {
        let mut removed = 0;
        while removed < limit {
            match self.expiries.first() {
                Some((t, _)) if *t <= now => {}
                _ => break,
            }
            let (_, key) = self.expiries.pop_first().expect("just seen");
            self.entries.remove(&*key);
            removed += 1;
        }
        removed
    }

    /// Removes `key` if its deadline has passed.
    #[inline]
    fn expire_if_due(&mut self, key: &[u8]) {
        let due = match self.entries.get(key) {
            Some(Entry {
                expires_at: Some(t),
                ..
            }) => *t <= Instant::now(),
            _ => false,
        };
        if due {
            self.remove_entry(key);
        }
    }

    /// Removes `key` and its deadline.
    fn remove_entry(&mut self, key: &[u8]) -> bool {
        match self.entries.remove_entry(key) {
            Some((k, entry)) => {
                if let Some(t) = entry.expires_at {
                    self.expiries.remove(&(t, k));
                }
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft::time::Duration;

    fn at(secs: u64) -> SetExpiry {
        SetExpiry::At(Instant::now() + Duration::from_secs(secs))
    }

    #[weft::test(start_paused = true)]
    async fn lazy_expiry() {
        let mut db = Db::default();
        assert!(db.set(b"k", b"v", SetCondition::Always, at(10)));
        weft::time::advance(Duration::from_secs(9)).await;
        assert_eq!(db.get(b"k"), Some(&b"v"[..]));
        weft::time::advance(Duration::from_secs(1)).await;
        assert_eq!(db.get(b"k"), None);
        assert!(db.expiries.is_empty() && db.entries.is_empty());
    }

    #[weft::test(start_paused = true)]
    async fn purge_removes_only_due_keys() {
        let mut db = Db::default();
        for (k, secs) in [(&b"a"[..], 1), (b"b", 2), (b"c", 3)] {
            db.set(k, b"v", SetCondition::Always, at(secs));
        }
        db.set(b"forever", b"v", SetCondition::Always, SetExpiry::Persist);
        weft::time::advance(Duration::from_secs(2)).await;
        assert_eq!(db.purge_expired(Instant::now(), 1), 1);
        assert_eq!(db.purge_expired(Instant::now(), 10), 1);
        assert_eq!(db.len(), 2);
        assert_eq!(db.expiries.len(), 1);
    }

    #[weft::test(start_paused = true)]
    async fn overwrite_updates_the_deadline() {
        let mut db = Db::default();
        db.set(b"k", b"v1", SetCondition::Always, at(1));
        db.set(b"k", b"v2", SetCondition::Always, SetExpiry::Keep);
        assert_eq!(db.expiries.len(), 1);
        db.set(b"k", b"v3", SetCondition::Always, SetExpiry::Persist);
        assert!(db.expiries.is_empty());
        weft::time::advance(Duration::from_secs(5)).await;
        assert_eq!(db.get(b"k"), Some(&b"v3"[..]));
        db.set(b"k", b"v4", SetCondition::Always, at(1));
        db.set(b"k", b"v5", SetCondition::Always, at(2));
        assert_eq!(db.expiries.len(), 1);
        assert!(db.remove(b"k"));
        assert!(db.expiries.is_empty());
    }

    #[weft::test]
    async fn nx_and_xx() {
        let mut db = Db::default();
        assert!(!db.set(b"k", b"1", SetCondition::IfPresent, SetExpiry::Persist));
        assert!(db.set(b"k", b"2", SetCondition::IfAbsent, SetExpiry::Persist));
        assert!(!db.set(b"k", b"3", SetCondition::IfAbsent, SetExpiry::Persist));
        assert!(db.set(b"k", b"4", SetCondition::IfPresent, SetExpiry::Persist));
        assert_eq!(db.get(b"k"), Some(&b"4"[..]));
    }
}
