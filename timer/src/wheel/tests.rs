//! The wheel against a `BTreeMap` model, and a few hand-picked cases.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

use proptest::prelude::*;

use super::level::{level_range, NUM_LEVELS};
use super::*;

const MS: u64 = NS_PER_TICK;

#[derive(Clone, Debug)]
enum Op {
    /// A timer due `delay` ns from now (negative: in the past), woken through task `t`'s
    /// waker (`t >= TASKS`: no waker).
    Insert(i128, usize),
    /// Re-poll the live timer at this index from task `t`.
    Repoll(usize, usize),
    /// Cancel the live timer at this index (mod the number of live timers).
    Cancel(usize),
    /// Move the live timer at this index to `delay` ns from now.
    Reset(usize, i128),
    /// Move time forward and fire.
    Advance(u64),
    /// Move time to the wheel's reported next deadline and fire.
    AdvanceToNext,
}

fn delay() -> impl Strategy<Value = i128> {
    prop_oneof![
        4 => 0..2 * MS as i128,
        4 => 0..200 * MS as i128,
        2 => 0..20_000 * MS as i128,
        1 => 0..(100 * 86_400_000 * MS) as i128,
        1 => -(5 * MS as i128)..0,
        // Past the wheel's range, up to the end of u64 time.
        1 => (level_range(NUM_LEVELS - 1) * MS) as i128..u64::MAX as i128,
        1 => Just(0),
    ]
}

fn advance() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0..2 * MS,
        3 => 0..150 * MS,
        2 => 0..30_000 * MS,
        1 => 0..(200 * 86_400_000 * MS),
        1 => Just(MS),
        1 => Just(0),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (delay(), 0..TASKS + 1).prop_map(|(d, t)| Op::Insert(d, t)),
        1 => (any::<usize>(), 0..TASKS).prop_map(|(i, t)| Op::Repoll(i, t)),
        3 => any::<usize>().prop_map(Op::Cancel),
        2 => (any::<usize>(), delay()).prop_map(|(i, d)| Op::Reset(i, d)),
        4 => advance().prop_map(Op::Advance),
        2 => Just(Op::AdvanceToNext),
    ]
}

/// The specification: fire every timer due at or before `now`, by (deadline, insertion).
#[derive(Default)]
struct Model {
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), usize>,
    timers: HashMap<usize, (u64, u64)>,
}

impl Model {
    fn insert(&mut self, id: usize, when: u64) {
        self.seq += 1;
        self.queue.insert((when, self.seq), id);
        self.timers.insert(id, (when, self.seq));
    }

    fn cancel(&mut self, id: usize) {
        let k = self.timers.remove(&id).unwrap();
        self.queue.remove(&k);
    }

    fn advance(&mut self, now: u64) -> Vec<usize> {
        self.now = now;
        let mut fired = Vec::new();
        while let Some((&(when, seq), &id)) = self.queue.first_key_value() {
            if when > now {
                break;
            }
            self.queue.remove(&(when, seq));
            self.timers.remove(&id);
            fired.push(id);
        }
        fired
    }

    fn min(&self) -> Option<u64> {
        self.queue.first_key_value().map(|(&(w, _), _)| w)
    }
}

const TASKS: usize = 3;

/// Counts wakes.
struct Task(AtomicUsize);

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn at(now: u64, delay: i128) -> u64 {
    (now as i128 + delay).clamp(0, u64::MAX as i128) as u64
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut wheel = Wheel::new();
    let mut model = Model::default();
    let mut keys: HashMap<usize, Key> = HashMap::new();
    let mut ids: HashMap<Key, usize> = HashMap::new();
    let mut live: Vec<usize> = Vec::new();
    let mut next_id = 0;
    let tasks: Vec<Arc<Task>> = (0..TASKS)
        .map(|_| Arc::new(Task(AtomicUsize::new(0))))
        .collect();
    let wakers: Vec<Waker> = tasks.iter().map(|t| Waker::from(t.clone())).collect();
    let mut task_of: HashMap<usize, usize> = HashMap::new();

    for op in ops {
        let advance_to = match op {
            Op::Insert(d, t) => {
                let when = at(model.now, d);
                let key = wheel.insert(when, wakers.get(t));
                task_of.insert(next_id, t);
                model.insert(next_id, when);
                keys.insert(next_id, key);
                ids.insert(key, next_id);
                live.push(next_id);
                next_id += 1;
                None
            }
            Op::Cancel(i) if !live.is_empty() => {
                let id = live.swap_remove(i % live.len());
                let key = keys.remove(&id).unwrap();
                prop_assert!(wheel.remove(key).is_some());
                prop_assert!(wheel.remove(key).is_none(), "cancel twice");
                model.cancel(id);
                None
            }
            Op::Reset(i, d) if !live.is_empty() => {
                let id = live[i % live.len()];
                let when = at(model.now, d);
                let old = keys[&id];
                let new = wheel.reset(old, when);
                prop_assert!(new.is_some());
                prop_assert!(!wheel.slab.contains(old), "a reset entry gets a new key");
                let new = new.unwrap();
                ids.remove(&old);
                ids.insert(new, id);
                keys.insert(id, new);
                model.cancel(id);
                model.insert(id, when);
                None
            }
            Op::Repoll(i, t) if !live.is_empty() => {
                let id = live[i % live.len()];
                let old = wheel.update_waker(keys[&id], &wakers[t]);
                prop_assert!(old.is_some());
                task_of.insert(id, t);
                None
            }
            Op::Cancel(_) | Op::Reset(..) | Op::Repoll(..) => None,
            Op::Advance(d) => Some(model.now.saturating_add(d)),
            Op::AdvanceToNext => Some(wheel.next_deadline().unwrap_or(0).max(model.now)),
        };
        if let Some(now) = advance_to {
            let mut fired = Vec::new();
            let mut out = Expired::default();
            let before: Vec<usize> = tasks.iter().map(|t| t.0.load(Ordering::Relaxed)).collect();
            let n = wheel.process(now, &mut out);
            fired.extend(out.fired.drain(..).map(|key| ids[&key]));
            prop_assert_eq!(n, fired.len());
            out.wake.drain(..).for_each(Waker::wake);
            out.drop.clear();
            for (t, task) in tasks.iter().enumerate() {
                let woke = task.0.load(Ordering::Relaxed) - before[t];
                let had = fired.iter().filter(|id| task_of[id] == t).count();
                // Woken iff one of its timers fired; at most once per shared waker slot (a
                // task whose registrations were interleaved with others' may hold several).
                prop_assert_eq!(woke > 0, had > 0, "task {} woken iff it fired", t);
                prop_assert!(
                    woke <= had,
                    "task {} woken {} times for {} timers",
                    t,
                    woke,
                    had
                );
            }
            let expected = model.advance(now);
            prop_assert_eq!(&fired, &expected, "fired at {}", now);
            for id in fired {
                live.retain(|&l| l != id);
                prop_assert!(!wheel.slab.contains(keys.remove(&id).unwrap()));
            }
        }
        prop_assert_eq!(wheel.len(), model.timers.len());

        // The park timeout: never later than the earliest deadline; exact within level 0.
        let next = wheel.next_deadline();
        let min = model.min();
        prop_assert_eq!(next.is_some(), min.is_some());
        if let (Some(next), Some(min)) = (next, min) {
            prop_assert!(next <= min, "next_deadline {} > earliest {}", next, min);
            if min / MS / 64 == wheel.elapsed / 64 {
                prop_assert_eq!(next, min);
            }
        }
    }
    // Cancel the rest: every shared waker is released.
    for id in live {
        prop_assert!(wheel.remove(keys[&id]).is_some());
    }
    prop_assert_eq!(wheel.len(), 0);
    for task in &tasks {
        prop_assert_eq!(Arc::strong_count(task), 2, "only ours and `wakers` remain");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn wheel_matches_model(ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 300 })) {
        run(ops)?;
    }
}

fn fire_all(wheel: &mut Wheel, now: u64) -> Vec<Key> {
    let mut out = Expired::default();
    wheel.process(now, &mut out);
    out.fired
}

#[test]
fn same_tick_fires_in_deadline_order_never_early() {
    let mut wheel = Wheel::new();
    let c = wheel.insert(5 * MS + 900_000, None);
    let a = wheel.insert(5 * MS + 100, None);
    let b = wheel.insert(5 * MS + 500_000, None);
    let b2 = wheel.insert(5 * MS + 500_000, None);
    assert_eq!(wheel.next_deadline(), Some(5 * MS + 100));
    assert!(fire_all(&mut wheel, 5 * MS + 99).is_empty());
    assert_eq!(fire_all(&mut wheel, 5 * MS + 500_000), vec![a, b, b2]);
    assert_eq!(wheel.next_deadline(), Some(5 * MS + 900_000));
    assert_eq!(fire_all(&mut wheel, 6 * MS), vec![c]);
    assert_eq!(wheel.len(), 0);
    assert_eq!(wheel.next_deadline(), None);
}

#[test]
fn past_deadlines_fire_on_next_process() {
    let mut wheel = Wheel::new();
    fire_all(&mut wheel, 100 * MS);
    let a = wheel.insert(3 * MS, None);
    let b = wheel.insert(0, None);
    assert_eq!(wheel.next_deadline(), Some(0));
    assert_eq!(fire_all(&mut wheel, 100 * MS), vec![b, a]);
}

#[test]
fn far_future_does_not_fire_early() {
    let mut wheel = Wheel::new();
    let far = wheel.insert(u64::MAX, None);
    let year = 365 * 86_400_000 * MS;
    for y in 1..=if cfg!(miri) { 3 } else { 500 } {
        assert!(fire_all(&mut wheel, y * year).is_empty());
        assert!(wheel.next_deadline().unwrap() > y * year);
    }
    assert_eq!(fire_all(&mut wheel, u64::MAX), vec![far]);
}

#[test]
fn cascades_through_levels() {
    let mut wheel = Wheel::new();
    let hour = 3_600_000 * MS + 123;
    let key = wheel.insert(hour, None);
    let mut now = 0;
    let mut steps = 0;
    while let Some(next) = wheel.next_deadline() {
        assert!(next > now && next <= hour);
        now = next;
        steps += 1;
        let fired = fire_all(&mut wheel, now);
        if !fired.is_empty() {
            assert_eq!(fired, vec![key]);
            assert_eq!(now, hour);
        }
    }
    assert!(steps <= NUM_LEVELS + 1, "{steps} steps");
}

#[test]
fn cancel_in_ready_heap_is_lazy_but_invisible() {
    let mut wheel = Wheel::new();
    let a = wheel.insert(MS / 2, None);
    let b = wheel.insert(MS / 2 + 1, None);
    assert!(wheel.remove(a).is_some());
    assert_eq!(wheel.next_deadline(), Some(MS / 2 + 1));
    let b = wheel.reset(b, 10 * MS).unwrap();
    assert_eq!(wheel.next_deadline(), Some(10 * MS));
    assert_eq!(fire_all(&mut wheel, 10 * MS), vec![b]);
}

#[test]
fn one_wake_per_task_per_round() {
    if cfg!(miri) {
        return; // `will_wake` is false for clones under Miri: see `entry::wakers::tests`.
    }
    let task = Arc::new(Task(AtomicUsize::new(0)));
    let waker = Waker::from(task.clone());
    let mut wheel = Wheel::new();
    for i in 0..10 {
        wheel.insert(MS + i, Some(&waker));
    }
    assert_eq!(
        Arc::strong_count(&task),
        3,
        "ours, `waker`, one shared clone"
    );
    let mut out = Expired::default();
    assert_eq!(wheel.process(2 * MS, &mut out), 10);
    assert_eq!(out.wake.len(), 1);
    out.wake.drain(..).for_each(Waker::wake);
    out.drop.clear();
    assert_eq!(task.0.load(Ordering::Relaxed), 1);
    assert_eq!(Arc::strong_count(&task), 2);
}
