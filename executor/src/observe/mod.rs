//! What the runtime lets users see and steer: counters and histograms, hooks on task
//! transitions, debug-mode warnings, and the task dump.
//!
//! Everything here is off by default, and the run loop pays one predictable branch per poll
//! for it (`Observer::active`). Owner thread only.

pub(crate) mod dump;
pub(crate) mod histogram;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use histogram::Histogram;

use crate::task::{TaskId, TaskState};

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

/// The hooks a runtime calls (see the builder's `on_*` methods).
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) on_task_spawn: Option<Hook>,
    pub(crate) on_before_poll: Option<Hook>,
    pub(crate) on_after_poll: Option<Hook>,
    pub(crate) on_task_terminate: Option<Hook>,
    /// Run each time the runtime is about to sleep (not a per-task hook: not in `any`).
    pub(crate) on_thread_park: Option<std::rc::Rc<dyn Fn()>>,
}

impl Hooks {
    pub(crate) fn any(&self) -> bool {
        self.on_task_spawn.is_some()
            || self.on_before_poll.is_some()
            || self.on_after_poll.is_some()
            || self.on_task_terminate.is_some()
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("on_task_spawn", &self.on_task_spawn.is_some())
            .field("on_thread_park", &self.on_thread_park.is_some())
            .field("on_before_poll", &self.on_before_poll.is_some())
            .field("on_after_poll", &self.on_after_poll.is_some())
            .field("on_task_terminate", &self.on_task_terminate.is_some())
            .finish()
    }
}

/// What to do when a spawned task panics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnhandledPanic {
    /// The panic goes to the task's `JoinHandle` as a `JoinError`; the runtime goes on.
    #[default]
    Ignore,
    /// The runtime stops: `block_on` panics with a message naming the task.
    ShutdownRuntime,
}

/// Observation settings (part of the runtime's configuration).
#[derive(Clone, Debug)]
pub(crate) struct ObserveConfig {
    pub(crate) metrics: bool,
    pub(crate) debug: bool,
    pub(crate) slow_poll_threshold: Duration,
    pub(crate) unhandled_panic: UnhandledPanic,
    pub(crate) hooks: Hooks,
}

impl Default for ObserveConfig {
    fn default() -> ObserveConfig {
        ObserveConfig {
            metrics: false,
            debug: false,
            slow_poll_threshold: Duration::from_millis(100),
            unhandled_panic: UnhandledPanic::Ignore,
            hooks: Hooks::default(),
        }
    }
}

/// Counters and histograms (kept only with `metrics` on).
#[derive(Default)]
pub(crate) struct Counters {
    /// Counted whenever anything observes (reported only with metrics). Tasks completed are
    /// `spawned - alive`.
    pub(crate) spawned: Cell<u64>,
    /// Polls of the tasks that ended, plus 2^32 for each wrap of a live task's 32-bit count
    /// (live tasks' counts are added when the metrics are read: no counter per poll).
    pub(crate) polls: Cell<u64>,
    pub(crate) local_wakes: Cell<u64>,
    pub(crate) remote_wakes: Cell<u64>,
    pub(crate) parks: Cell<u64>,
    pub(crate) poll_duration: RefCell<Histogram>,
    pub(crate) schedule_latency: RefCell<Histogram>,
}

pub(crate) fn bump(c: &Cell<u64>) {
    c.set(c.get() + 1);
}

/// A snapshot of a runtime's metrics (`Runtime::metrics()`). Counters are zero unless the
/// runtime was built with metrics on.
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Builder::new()
///     .metrics(true)
///     .build_with_park(weft_executor::park::ThreadPark::new());
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
