//! The key space: string keys to string values, each with an optional expiry.
//!
//! Expiry is lazy plus active, as in Redis: a read or write that finds a key past its
//! deadline removes it first (so an expired key is never seen), and [`Db::purge_expired`],
//! called periodically by the server, removes expired keys nobody touches, oldest deadline
//! first. Deadlines are `weft::time::Instant`s, so a paused clock drives expiry in tests.
//!
//! Memory is bounded by `--maxmemory`, as in Redis with its `noeviction` policy: a `SET`
//! that would take the keys and values past it is refused with Redis's `OOM` error, while
//! reads and deletes go on.
//!
//! # Invariants
//!
//! - `expiries` holds exactly one `(deadline, key)` for each entry whose `expires_at` is
//!   `Some(deadline)`, and nothing else: every method that sets, changes or removes an
//!   entry's deadline updates both.
//! - `used` is the sum of [`footprint`] over the entries: every method that adds, changes
//!   or removes an entry updates it.

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

/// What one entry costs beyond its key and value: the map's slot, the key's `Rc` header,
/// the value's `Vec` header, the expiry index entry. An estimate, on the high side.
const ENTRY_OVERHEAD: usize = 96;

/// The bytes an entry is counted for.
fn footprint(key: &[u8], value: &Vec<u8>) -> usize {
    key.len() + value.capacity() + ENTRY_OVERHEAD
}

/// A `SET` refused for lack of memory: the reply is Redis's `OOM` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory;

/// The key space. Keys are shared (`Rc<[u8]>`) between the map and the expiry index.
#[derive(Debug)]
pub struct Db {
    /// Every key and its value, expired ones included until removed.
    entries: HashMap<Rc<[u8]>, Entry>,
    /// The deadlines, earliest first; see the module's invariant.
    expiries: BTreeSet<(Instant, Rc<[u8]>)>,
    /// Bytes the entries are counted for; see the module's invariant.
    used: usize,
    /// The most `used` may be after a `SET`.
    max: usize,
}

impl Default for Db {
    /// A key space without a memory limit.
    fn default() -> Db {
        Db::new(usize::MAX)
    }
}

impl Db {
    /// An empty key space holding at most `max` bytes of keys and values.
    pub fn new(max: usize) -> Db {
        Db {
            entries: HashMap::new(),
            expiries: BTreeSet::new(),
            used: 0,
            max,
        }
    }

    /// The value of `key`, unless it is absent or expired (then removed).
    pub fn get(&mut self, key: &[u8]) -> Option<&[u8]> {
        self.expire_if_due(key);
        self.entries.get(key).map(|e| &e.value[..])
    }

    /// Sets `key` to `value` if `cond` allows; returns whether it did.
    ///
    /// # Errors
    ///
    /// [`OutOfMemory`] if the keys and values would pass the limit; nothing changes then.
    pub fn set(
        &mut self,
        key: &[u8],
        value: &[u8],
        cond: SetCondition,
        expiry: SetExpiry,
    ) -> Result<bool, OutOfMemory> {
        self.expire_if_due(key);
        let deadline = match (self.entries.get_mut(key), cond) {
            (Some(_), SetCondition::IfAbsent) | (None, SetCondition::IfPresent) => {
                return Ok(false)
            }
            (Some(entry), _) => {
                // Overwrite in place: a value of the same size (redis-benchmark's SET)
                // reuses the allocation.
                let reuse = entry.value.capacity() <= 2 * value.len() + 64
                    && entry.value.capacity() >= value.len();
                let old = footprint(key, &entry.value);
                let new = key.len()
                    + ENTRY_OVERHEAD
                    + if reuse {
                        entry.value.capacity()
                    } else {
                        value.len()
                    };
                if new > old && self.used - old + new > self.max {
                    return Err(OutOfMemory);
                }
                if reuse {
                    entry.value.clear();
                    entry.value.extend_from_slice(value);
                } else {
                    entry.value = value.to_vec();
                }
                self.used = self.used - old + footprint(key, &entry.value);
                let old = entry.expires_at;
                let new = match expiry {
                    SetExpiry::Persist => None,
                    SetExpiry::Keep => old,
                    SetExpiry::At(t) => Some(t),
                };
                if old == new {
                    return Ok(true);
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
                if self.used + key.len() + value.len() + ENTRY_OVERHEAD > self.max {
                    return Err(OutOfMemory);
                }
                let deadline = match expiry {
                    SetExpiry::At(t) => Some(t),
                    SetExpiry::Persist | SetExpiry::Keep => None,
                };
                let entry = Entry {
                    value: value.to_vec(),
                    expires_at: deadline,
                };
                self.used += footprint(key, &entry.value);
                self.entries.insert(Rc::from(key), entry);
                deadline
            }
        };
        if let Some(t) = deadline {
            let (k, _) = self.entries.get_key_value(key).expect("just set");
            self.expiries.insert((t, k.clone()));
        }
        Ok(true)
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
        self.used = 0;
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
            if let Some(entry) = self.entries.remove(&*key) {
                self.used -= footprint(&key, &entry.value);
            }
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
                self.used -= footprint(&k, &entry.value);
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
        assert_eq!(db.set(b"k", b"v", SetCondition::Always, at(10)), Ok(true));
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
            db.set(k, b"v", SetCondition::Always, at(secs)).unwrap();
        }
        db.set(b"forever", b"v", SetCondition::Always, SetExpiry::Persist)
            .unwrap();
        weft::time::advance(Duration::from_secs(2)).await;
        assert_eq!(db.purge_expired(Instant::now(), 1), 1);
        assert_eq!(db.purge_expired(Instant::now(), 10), 1);
        assert_eq!(db.len(), 2);
        assert_eq!(db.expiries.len(), 1);
    }

    #[weft::test(start_paused = true)]
    async fn overwrite_updates_the_deadline() {
        let mut db = Db::default();
        db.set(b"k", b"v1", SetCondition::Always, at(1)).unwrap();
        db.set(b"k", b"v2", SetCondition::Always, SetExpiry::Keep)
            .unwrap();
        assert_eq!(db.expiries.len(), 1);
        db.set(b"k", b"v3", SetCondition::Always, SetExpiry::Persist)
            .unwrap();
        assert!(db.expiries.is_empty());
        weft::time::advance(Duration::from_secs(5)).await;
        assert_eq!(db.get(b"k"), Some(&b"v3"[..]));
        db.set(b"k", b"v4", SetCondition::Always, at(1)).unwrap();
        db.set(b"k", b"v5", SetCondition::Always, at(2)).unwrap();
        assert_eq!(db.expiries.len(), 1);
        assert!(db.remove(b"k"));
        assert!(db.expiries.is_empty());
    }

    #[weft::test]
    async fn nx_and_xx() {
        let mut db = Db::default();
        let set = |db: &mut Db, v: &[u8], cond| db.set(b"k", v, cond, SetExpiry::Persist);
        assert_eq!(set(&mut db, b"1", SetCondition::IfPresent), Ok(false));
        assert_eq!(set(&mut db, b"2", SetCondition::IfAbsent), Ok(true));
        assert_eq!(set(&mut db, b"3", SetCondition::IfAbsent), Ok(false));
        assert_eq!(set(&mut db, b"4", SetCondition::IfPresent), Ok(true));
        assert_eq!(db.get(b"k"), Some(&b"4"[..]));
    }

    #[weft::test(start_paused = true)]
    async fn memory_is_counted_and_bounded() {
        let mut db = Db::new(1000);
        let big = vec![b'x'; 600];
        assert_eq!(
            db.set(b"a", &big, SetCondition::Always, SetExpiry::Persist),
            Ok(true)
        );
        assert_eq!(db.used, 1 + 600 + ENTRY_OVERHEAD);
        assert_eq!(
            db.set(b"b", &big, SetCondition::Always, SetExpiry::Persist),
            Err(OutOfMemory)
        );
        // Smaller values and deletes always go through; expiry gives memory back.
        assert_eq!(
            db.set(b"a", b"small", SetCondition::Always, at(1)),
            Ok(true)
        );
        assert!(db.used < 200);
        assert_eq!(
            db.set(b"b", &big, SetCondition::Always, SetExpiry::Persist),
            Ok(true)
        );
        weft::time::advance(Duration::from_secs(2)).await;
        assert_eq!(db.purge_expired(Instant::now(), 10), 1);
        assert_eq!(db.used, 1 + 600 + ENTRY_OVERHEAD);
        assert!(db.remove(b"b"));
        assert_eq!(db.used, 0);
    }
}
