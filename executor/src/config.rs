//! [`Config`]: how a runtime runs. The weft facade's `Builder` is the one builder users see;
//! it fills one of these in.

use std::fmt;
use std::time::Duration;

use crate::observe::{Hook, UnhandledPanic};

/// The tunables of a runtime: its loop, its blocking pool, and what it lets users observe.
///
/// Start from [`Config::default`] and set fields; give it to
/// [`Runtime::with_config`](crate::Runtime::with_config). Values the runtime cannot use (a
/// zero interval, budget or pool size) are taken as 1.
///
/// # Examples
///
/// ```
/// use weft_executor::{park::ThreadPark, Config, Runtime};
///
/// let mut config = Config::default();
/// config.event_interval = 31;
/// config.budget = Some(64);
/// let rt = Runtime::with_config(ThreadPark::new(), config);
/// assert_eq!(rt.block_on(async { "ok" }), "ok");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// How many tasks run between two polls of the driver while tasks are ready (default 61).
    pub event_interval: u32,
    /// How many resource operations a task may do in one poll before weft's futures make it
    /// yield (default 128); `None`: no limit.
    pub budget: Option<u32>,
    /// The most threads the blocking pool may run at once (default 512).
    pub max_blocking_threads: usize,
    /// How long an idle blocking-pool thread waits for work before it exits (default 10 s).
    pub blocking_keep_alive: Duration,
    /// Runs ready tasks in a random order drawn from this seed instead of first come, first
    /// served (for tests: the same seed gives the same interleaving).
    pub shuffle_seed: Option<u64>,
    /// Keeps runtime metrics (off by default): exact counters, and duration histograms of
    /// sampled polls (see [`crate::metrics::RuntimeMetrics`]).
    pub metrics: bool,
    /// asyncio's debug mode: `log` warnings about slow polls and unobserved panics; every
    /// poll is timed.
    pub debug: bool,
    /// The poll duration above which debug mode warns (default 100 ms).
    pub slow_poll_threshold: Duration,
    /// What a panic in a spawned task does to the runtime (default: nothing).
    pub unhandled_panic: UnhandledPanic,
    /// Called when a task is spawned.
    pub on_task_spawn: Option<Hook>,
    /// Called just before each poll of a task.
    pub on_before_poll: Option<Hook>,
    /// Called just after each poll of a task, with the state the poll left it in.
    pub on_after_poll: Option<Hook>,
    /// Called once when a task ends (completed, cancelled or panicked).
    pub on_task_terminate: Option<Hook>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            event_interval: 61,
            budget: Some(128),
            max_blocking_threads: 512,
            blocking_keep_alive: Duration::from_secs(10),
            shuffle_seed: None,
            metrics: false,
            debug: false,
            slow_poll_threshold: Duration::from_millis(100),
            unhandled_panic: UnhandledPanic::Ignore,
            on_task_spawn: None,
            on_before_poll: None,
            on_after_poll: None,
            on_task_terminate: None,
        }
    }
}

impl Config {
    /// The values the loop uses: zeros raised to 1.
    pub(crate) fn sanitized(mut self) -> Config {
        self.event_interval = self.event_interval.max(1);
        self.budget = self.budget.map(|b| b.max(1));
        self.max_blocking_threads = self.max_blocking_threads.max(1);
        self
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("event_interval", &self.event_interval)
            .field("budget", &self.budget)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("blocking_keep_alive", &self.blocking_keep_alive)
            .field("shuffle_seed", &self.shuffle_seed)
            .field("metrics", &self.metrics)
            .field("debug", &self.debug)
            .field("slow_poll_threshold", &self.slow_poll_threshold)
            .field("unhandled_panic", &self.unhandled_panic)
            .field("on_task_spawn", &self.on_task_spawn.is_some())
            .field("on_before_poll", &self.on_before_poll.is_some())
            .field("on_after_poll", &self.on_after_poll.is_some())
            .field("on_task_terminate", &self.on_task_terminate.is_some())
            .finish()
    }
}
