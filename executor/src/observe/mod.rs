//! What the runtime lets users see and steer: counters and histograms, hooks on task
//! transitions, debug-mode warnings, and the task dump.
//!
//! Everything here is off by default. The run loop asks [`Observer::active`] (one
//! predictable branch) before it calls anything else here on its hot paths. Owner thread
//! only.
//!
//! # Sampling
//!
//! Reading the clock on every poll would cost more than the poll itself (~20 ns), so with
//! metrics on (and debug off) one spawn and one wake in [`SAMPLE_EVERY`] are *sampled*: the
//! task is stamped (its `WAKE_STAMPED` flag, and the time in its owned slot), and the poll
//! that follows a stamp is the one that is timed; the time from the stamp to that poll is its
//! schedule latency. Counters stay exact. In debug mode, or with an `on_before_poll` hook,
//! every schedule is sampled.

pub(crate) mod dump;
pub(crate) mod histogram;

use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use histogram::Histogram;

use crate::config::Config;
use crate::owned::{Owned, OwnedSlot};
use crate::park::ParkStats;
use crate::queue::RunQueue;
use crate::task::harness::{Notified, Polled, Running, TaskRef};
use crate::task::{Priority, TaskId, TaskState};

/// What a hook is told about a task.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    /// The task's id.
    pub id: TaskId,
    /// Its name, if any.
    pub name: Option<Arc<str>>,
    /// Its state at the moment of the hook (after the poll, for `on_after_poll`).
    pub state: TaskState,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
}

/// A hook on task transitions.
pub type Hook = Rc<dyn Fn(&TaskInfo)>;

/// What to do when a spawned task panics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnhandledPanic {
    /// The panic goes to the task's `JoinHandle` as a `JoinError`; the runtime goes on.
    #[default]
    Ignore,
    /// The runtime stops: `block_on` panics with a message naming the task.
    ShutdownRuntime,
}

/// A snapshot of a runtime's metrics (`Runtime::metrics()`). Counters are zero unless the
/// runtime was built with metrics on.
///
/// # Examples
///
/// ```
/// let mut config = weft_executor::Config::default();
/// config.metrics = true;
/// let rt = weft_executor::Runtime::with_config(weft_executor::park::ThreadPark::new(), config);
/// rt.block_on(async {
///     weft_executor::spawn(async {}).await.unwrap();
/// });
/// let m = rt.metrics();
/// assert_eq!(m.tasks_spawned, 1);
/// assert_eq!(m.tasks_completed, 1);
/// assert_eq!(m.polls, 1);
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Tasks spawned.
    pub tasks_spawned: u64,
    /// Tasks that ended (completed, cancelled or panicked).
    pub tasks_completed: u64,
    /// Tasks not ended yet.
    pub tasks_alive: u64,
    /// Polls of spawned tasks (not counting the `block_on` future).
    pub polls: u64,
    /// Wakes from the runtime's own thread.
    pub local_wakes: u64,
    /// Wakes that came through the remote queue (other threads).
    pub remote_wakes: u64,
    /// Tasks in the run queue now.
    pub run_queue_depth: u64,
    /// The most tasks the run queue held at once.
    pub max_run_queue_depth: u64,
    /// Times the runtime parked in its driver (including zero-timeout polls).
    pub parks: u64,
    /// I/O events the driver delivered.
    pub io_events: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Live blocking-pool threads.
    pub blocking_threads: u64,
    /// Time spent in a poll of a task, sampled so that the clock is not read on the hot path:
    /// the polls that follow one spawn in 128 and one wake in 128 (every poll in debug mode
    /// or with an `on_before_poll` hook).
    pub poll_duration: Histogram,
    /// Time from a task's spawn or wake to the start of its next poll, for the polls that
    /// `poll_duration` samples.
    pub schedule_latency: Histogram,
}

impl RuntimeMetrics {
    /// Adds `other`'s figures to these, to aggregate several runtimes (thread-per-core
    /// workers): counters and histograms add up; `max_run_queue_depth` is the larger one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_executor::metrics::RuntimeMetrics;
    ///
    /// let mut total = RuntimeMetrics::default();
    /// let mut one = RuntimeMetrics::default();
    /// one.polls = 3;
    /// total.merge(&one);
    /// total.merge(&one);
    /// assert_eq!(total.polls, 6);
    /// ```
    pub fn merge(&mut self, other: &RuntimeMetrics) {
        self.tasks_spawned += other.tasks_spawned;
        self.tasks_completed += other.tasks_completed;
        self.tasks_alive += other.tasks_alive;
        self.polls += other.polls;
        self.local_wakes += other.local_wakes;
        self.remote_wakes += other.remote_wakes;
        self.run_queue_depth += other.run_queue_depth;
        self.max_run_queue_depth = self.max_run_queue_depth.max(other.max_run_queue_depth);
        self.parks += other.parks;
        self.io_events += other.io_events;
        self.timers_fired += other.timers_fired;
        self.blocking_threads += other.blocking_threads;
        self.poll_duration.merge(&other.poll_duration);
        self.schedule_latency.merge(&other.schedule_latency);
    }
}

/// What the runtime knows about one live task (asyncio's `all_tasks`, a row of the task dump).
#[derive(Clone, Debug)]
pub struct TaskSnapshot {
    /// The task's id.
    pub id: TaskId,
    /// Its name, if it was given one.
    pub name: Option<Arc<str>>,
    /// Where it is in its life.
    pub state: TaskState,
    /// Its priority.
    pub priority: Priority,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// How many times it was polled.
    pub polls: u64,
    /// Total time spent in its polls (`None` unless the runtime is in debug mode).
    pub poll_time: Option<Duration>,
    /// Time since it was last woken (`None` unless debug mode, or a sampled wake with metrics
    /// on, stamped it).
    pub since_wake: Option<Duration>,
}

/// With metrics on (and debug off), one spawn and one wake in this many are sampled.
const SAMPLE_EVERY: u64 = 128;

/// Counters and histograms (reported only with metrics on).
#[derive(Default)]
struct Counters {
    /// Tasks completed are `spawned - alive`: no counter of their own.
    spawned: Cell<u64>,
    /// Polls of the tasks that ended (live tasks' counts are added when the metrics are
    /// read: each header counts its own polls, so the loop keeps no counter per poll).
    polls: Cell<u64>,
    local_wakes: Cell<u64>,
    remote_wakes: Cell<u64>,
    parks: Cell<u64>,
    poll_duration: RefCell<Histogram>,
    schedule_latency: RefCell<Histogram>,
}

fn bump(c: &Cell<u64>) {
    c.set(c.get() + 1);
}

/// The runtime's observation: its settings, digested into the few flags the hot paths test,
/// and its counters.
pub(crate) struct Observer {
    metrics: bool,
    debug: bool,
    slow_poll_threshold: Duration,
    unhandled_panic: UnhandledPanic,
    on_task_spawn: Option<Hook>,
    on_before_poll: Option<Hook>,
    on_after_poll: Option<Hook>,
    on_task_terminate: Option<Hook>,
    /// Anything is on: the one branch the hot paths pay.
    active: bool,
    /// After a poll there is something to do besides timing (a hook, the panic policy).
    after_poll_needed: bool,
    /// A task's end needs more than counting: debug warnings or `on_task_terminate`.
    terminate_slow: bool,
    /// Which spawns and wakes are sampled: `n & sample_mask == 0` (see the module docs).
    sample_mask: u64,
    counters: Counters,
}

impl Observer {
    pub(crate) fn new(config: &Config) -> Observer {
        let hooks = [
            &config.on_task_spawn,
            &config.on_before_poll,
            &config.on_after_poll,
            &config.on_task_terminate,
        ];
        let any_hook = hooks.iter().any(|h| h.is_some());
        let panic_policy = config.unhandled_panic != UnhandledPanic::Ignore;
        let sample_every = config.debug || config.on_before_poll.is_some();
        Observer {
            metrics: config.metrics,
            debug: config.debug,
            slow_poll_threshold: config.slow_poll_threshold,
            unhandled_panic: config.unhandled_panic,
            on_task_spawn: config.on_task_spawn.clone(),
            on_before_poll: config.on_before_poll.clone(),
            on_after_poll: config.on_after_poll.clone(),
            on_task_terminate: config.on_task_terminate.clone(),
            active: config.metrics || config.debug || any_hook || panic_policy,
            after_poll_needed: config.on_after_poll.is_some() || panic_policy,
            terminate_slow: config.debug || config.on_task_terminate.is_some(),
            sample_mask: if sample_every {
                0
            } else if config.metrics {
                SAMPLE_EVERY - 1
            } else {
                u64::MAX // only the very first of each kind
            },
            counters: Counters::default(),
        }
    }

    /// Whether anything observes: the hot paths call nothing else here unless it does.
    #[inline]
    pub(crate) fn active(&self) -> bool {
        self.active
    }

    fn task_info(task: TaskRef<'_>, slot: Option<&OwnedSlot>) -> TaskInfo {
        TaskInfo {
            id: task.id(),
            name: slot.and_then(|s| s.name().cloned()),
            state: task.state(),
            location: slot.map_or(Location::caller(), |s| s.location),
        }
    }

    /// A spawn: counted, sampled (see the module docs), and the `on_task_spawn` hook.
    #[inline]
    pub(crate) fn on_spawn(&self, task: &Notified, owned: &RefCell<Owned>) {
        let n = self.counters.spawned.get();
        self.counters.spawned.set(n + 1);
        let sampled = n & self.sample_mask == 0;
        if sampled || self.on_task_spawn.is_some() {
            self.on_spawn_slow(task, owned, sampled);
        }
    }

    #[cold]
    fn on_spawn_slow(&self, task: &Notified, owned: &RefCell<Owned>, sampled: bool) {
        if sampled {
            Self::stamp(task, owned);
        }
        if let Some(hook) = &self.on_task_spawn {
            let info = Self::task_info(task.task(), owned.borrow().get_slot(task.task()));
            hook(&info);
        }
    }

    /// A wake (local or through the remote queue): counted; sampled if it queued the task.
    #[inline]
    pub(crate) fn on_wake(&self, task: Option<&Notified>, remote: bool, owned: &RefCell<Owned>) {
        let c = if remote {
            &self.counters.remote_wakes
        } else {
            &self.counters.local_wakes
        };
        let n = c.get();
        c.set(n + 1);
        if let (true, Some(task)) = (n & self.sample_mask == 0, task) {
            Self::stamp(task, owned);
        }
    }

    #[cold]
    fn stamp(task: &Notified, owned: &RefCell<Owned>) {
        if let Some(slot) = task.stamp_wake() {
            if let Some(slot) = owned.borrow_mut().get_mut(slot) {
                slot.extra().last_wake = Some(Instant::now());
            }
        }
    }

    /// Before a poll: the `on_before_poll` hook, and the start time if the poll is timed
    /// (its schedule was sampled). Otherwise one test of a flag.
    #[inline]
    pub(crate) fn before_poll(&self, task: &Running, owned: &RefCell<Owned>) -> Option<Instant> {
        if task.take_wake_stamp() {
            return self.before_poll_slow(task, owned);
        }
        None
    }

    #[cold]
    fn before_poll_slow(&self, task: &Running, owned: &RefCell<Owned>) -> Option<Instant> {
        if let Some(hook) = &self.on_before_poll {
            let info = Self::task_info(task.task(), owned.borrow().get_slot(task.task()));
            hook(&info);
        }
        let now = Instant::now();
        let woken = owned
            .borrow()
            .get_slot(task.task())
            .and_then(|s| s.last_wake());
        if let (true, Some(woken)) = (self.metrics, woken) {
            self.counters
                .schedule_latency
                .borrow_mut()
                .record(now - woken);
        }
        Some(now)
    }

    /// Whether [`after_poll`](Self::after_poll) has anything to do for this poll.
    #[inline]
    pub(crate) fn wants_after_poll(&self, started: Option<Instant>) -> bool {
        started.is_some() || self.after_poll_needed
    }

    /// After a poll: timing, the slow-poll warning, the `on_after_poll` hook. Returns the
    /// task's id if it panicked and the policy is to shut the runtime down.
    pub(crate) fn after_poll(
        &self,
        task: &Polled,
        started: Option<Instant>,
        owned: &RefCell<Owned>,
    ) -> Option<TaskId> {
        let t = task.task();
        if let Some(started) = started {
            let took = started.elapsed();
            if self.metrics {
                self.counters.poll_duration.borrow_mut().record(took);
            }
            if self.debug {
                if let Some(slot) = owned.borrow_mut().get_slot_mut(t) {
                    slot.extra().poll_time += took;
                }
                if took > self.slow_poll_threshold {
                    let info = Self::task_info(t, owned.borrow().get_slot(t));
                    log::warn!(
                        "weft: slow poll: task {} ({}) spawned at {} took {:?} in one poll \
                         (slow_poll_threshold {:?})",
                        info.id,
                        info.name.as_deref().unwrap_or("unnamed"),
                        info.location,
                        took,
                        self.slow_poll_threshold,
                    );
                }
            }
        }
        if let Some(hook) = &self.on_after_poll {
            let mut info = Self::task_info(t, owned.borrow().get_slot(t));
            // The poll's result, before the runtime's bookkeeping records it.
            info.state = task.result_state();
            hook(&info);
        }
        let panicked = task.outcome() == crate::task::raw::PollOutcome::Panicked;
        (panicked && self.unhandled_panic == UnhandledPanic::ShutdownRuntime).then(|| t.id())
    }

    /// A task leaves the owned list: its polls join the runtime's total. Debug warnings and
    /// the `on_task_terminate` hook take the slow path.
    #[inline]
    pub(crate) fn on_terminate(&self, slot: &OwnedSlot) {
        let t = slot.task.task();
        let c = &self.counters.polls;
        c.set(c.get() + t.polls());
        if self.terminate_slow {
            self.on_terminate_slow(slot);
        }
    }

    #[cold]
    fn on_terminate_slow(&self, slot: &OwnedSlot) {
        let t = slot.task.task();
        if self.debug && t.is_panicked() && !t.has_handle() {
            log::warn!(
                "weft: task {} ({}) spawned at {} panicked and nobody observed it \
                 (its JoinHandle was dropped)",
                t.id(),
                slot.name().map_or("unnamed", |n| n),
                slot.location,
            );
        }
        if let Some(hook) = &self.on_task_terminate {
            hook(&Self::task_info(t, Some(slot)));
        }
    }

    /// Debug mode: a `JoinHandle` of a panicked task was dropped without its result read.
    pub(crate) fn unobserved_panic(&self, id: TaskId) {
        if self.debug {
            log::warn!(
                "weft: task {id} panicked and nobody observed it (its JoinHandle was dropped \
                 without being awaited)"
            );
        }
    }

    /// The runtime parked in its driver.
    #[inline]
    pub(crate) fn on_park(&self) {
        if self.active {
            bump(&self.counters.parks);
        }
    }

    /// Every live task, in owned-list order.
    pub(crate) fn snapshot(&self, owned: &Owned) -> Vec<TaskSnapshot> {
        let now = Instant::now();
        owned
            .iter()
            .map(|slot| {
                let t = slot.task.task();
                TaskSnapshot {
                    id: t.id(),
                    name: slot.name().cloned(),
                    state: t.state(),
                    priority: t.priority(),
                    location: slot.location,
                    polls: t.polls(),
                    poll_time: self.debug.then(|| slot.poll_time()),
                    since_wake: slot.last_wake().map(|w| now - w),
                }
            })
            .collect()
    }

    /// The metrics, from the counters and the runtime's current state.
    pub(crate) fn metrics(
        &self,
        owned: &Owned,
        queue: &RunQueue,
        park: ParkStats,
        blocking_threads: usize,
    ) -> RuntimeMetrics {
        let c = &self.counters;
        let on = self.metrics;
        let alive = owned.len() as u64;
        let live_polls: u64 = owned.iter().map(|s| s.task.task().polls()).sum();
        let if_on = |v: u64| if on { v } else { 0 };
        RuntimeMetrics {
            tasks_spawned: if_on(c.spawned.get()),
            // Every spawned task is alive until it completes.
            tasks_completed: if_on(c.spawned.get().saturating_sub(alive)),
            tasks_alive: alive,
            polls: if_on(c.polls.get() + live_polls),
            local_wakes: if_on(c.local_wakes.get()),
            remote_wakes: if_on(c.remote_wakes.get()),
            run_queue_depth: queue.len() as u64,
            max_run_queue_depth: queue.max_depth() as u64,
            parks: c.parks.get(),
            io_events: park.io_events,
            timers_fired: park.timers_fired,
            blocking_threads: blocking_threads as u64,
            poll_duration: c.poll_duration.borrow().clone(),
            schedule_latency: c.schedule_latency.borrow().clone(),
        }
    }
}
