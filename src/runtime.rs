//! The facade's runtime: the executor on the reactor's driver, and the one [`Builder`].

use std::future::Future;
use std::time::Duration;

use weft_executor::{Config, JoinHandle};
use weft_reactor::Driver;
use weft_timer::driver::Timer;

use crate::metrics::{Hook, TaskInfo, UnhandledPanic};

/// A weft runtime: one thread's executor and its driver (I/O, timers).
///
/// Most programs use [`run`](crate::run) or `#[weft::main]` instead of building one by hand.
///
/// # Examples
///
/// ```
/// let rt = weft::Runtime::new().unwrap();
/// let v = rt.block_on(async { weft::spawn(async { 20 + 22 }).await.unwrap() });
/// assert_eq!(v, 42);
/// ```
pub struct Runtime {
    exec: weft_executor::Runtime,
}

/// Configures and builds a [`Runtime`]: the one builder of weft.
///
/// # Examples
///
/// ```
/// let rt = weft::Builder::new().budget(64).event_interval(31).build().unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a Builder does nothing until .build() is called"]
pub struct Builder {
    config: Config,
    start_paused: bool,
}

impl Builder {
    /// The default configuration: budget 128, driver polled every 61 tasks, real clock.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// How many resource operations a task may do per poll before weft's futures make it
    /// yield (default 128). See [`coop`](crate::coop).
    ///
    /// # Panics
    ///
    /// If `n` is zero.
    #[track_caller]
    pub fn budget(mut self, n: u32) -> Builder {
        assert!(n > 0, "budget must be at least 1");
        self.config.budget = Some(n);
        self
    }

    /// Turns the cooperative budget off: tasks are never made to yield by weft's futures.
    pub fn unconstrained(mut self) -> Builder {
        self.config.budget = None;
        self
    }

    /// How many tasks run between two polls of the I/O driver while tasks are ready
    /// (default 61).
    ///
    /// # Panics
    ///
    /// If `n` is zero.
    #[track_caller]
    pub fn event_interval(mut self, n: u32) -> Builder {
        assert!(n > 0, "event_interval must be at least 1");
        self.config.event_interval = n;
        self
    }

    /// Starts the runtime with its clock paused (see [`time::pause`](crate::time::pause)):
    /// time moves only through [`time::advance`](crate::time::advance), or jumps to the next
    /// deadline whenever the runtime has nothing else to do, so tests of long timeouts run
    /// instantly.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = weft::Builder::new().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = weft::time::Instant::now();
    ///     weft::sleep(Duration::from_secs(3600)).await; // returns at once
    ///     assert!(start.elapsed() >= Duration::from_secs(3600));
    /// });
    /// ```
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.start_paused = paused;
        self
    }

    /// Keeps runtime metrics, read with [`Runtime::metrics`] (off by default). Counters are
    /// exact; the duration histograms time the polls that follow one spawn in 128 and one
    /// wake in 128 (every poll in [`debug`](Self::debug) mode).
    pub fn metrics(mut self, on: bool) -> Builder {
        self.config.metrics = on;
        self
    }

    /// asyncio's debug mode: `log` warnings for slow polls and unobserved panics.
    pub fn debug(mut self, on: bool) -> Builder {
        self.config.debug = on;
        self
    }

    /// The poll duration above which debug mode warns (default 100 ms; asyncio's
    /// `slow_callback_duration`).
    pub fn slow_poll_threshold(mut self, d: Duration) -> Builder {
        self.config.slow_poll_threshold = d;
        self
    }

    /// What a panic in a spawned task does to the runtime (default: nothing; the panic goes
    /// to the task's `JoinHandle`).
    pub fn unhandled_panic(mut self, policy: UnhandledPanic) -> Builder {
        self.config.unhandled_panic = policy;
        self
    }

    /// Runs ready tasks in a reproducible random order drawn from `seed` instead of first
    /// come, first served: the same seed gives the same interleaving, so a test can try many
    /// orders and replay a failing one exactly.
    pub fn shuffle_seed(mut self, seed: u64) -> Builder {
        self.config.shuffle_seed = Some(seed);
        self
    }

    /// Calls `f` when a task is spawned.
    pub fn on_task_spawn(mut self, f: impl Fn(&TaskInfo) + 'static) -> Builder {
        self.config.on_task_spawn = Some(hook(f));
        self
    }

    /// Calls `f` just before each poll of a task.
    pub fn on_before_poll(mut self, f: impl Fn(&TaskInfo) + 'static) -> Builder {
        self.config.on_before_poll = Some(hook(f));
        self
    }

    /// Calls `f` just after each poll of a task, with the state the poll left it in.
    pub fn on_after_poll(mut self, f: impl Fn(&TaskInfo) + 'static) -> Builder {
        self.config.on_after_poll = Some(hook(f));
        self
    }

    /// Calls `f` once when a task ends (completed, cancelled or panicked).
    pub fn on_task_terminate(mut self, f: impl Fn(&TaskInfo) + 'static) -> Builder {
        self.config.on_task_terminate = Some(hook(f));
        self
    }

    /// The most blocking-pool threads at once (default 512).
    ///
    /// # Panics
    ///
    /// If `n` is zero.
    #[track_caller]
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "max_blocking_threads must be at least 1");
        self.config.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits (default 10 s).
    pub fn blocking_keep_alive(mut self, d: Duration) -> Builder {
        self.config.blocking_keep_alive = d;
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    ///
    /// If the driver cannot be created (the OS refuses an epoll instance, for example).
    pub fn build(self) -> std::io::Result<Runtime> {
        // Registering for `membarrier` (the channels' fences) is quick while the process has
        // one thread and waits for an RCU grace period later: do it before any thread starts
        // rather than at the first lock. A process-wide OS registration, not runtime state.
        weft_channel::prepare_fences();
        let driver = Driver::with_timer(Timer::new(self.start_paused))?;
        Ok(Runtime {
            exec: weft_executor::Runtime::with_config(driver, self.config),
        })
    }
}

fn hook(f: impl Fn(&TaskInfo) + 'static) -> Hook {
    std::rc::Rc::new(f)
}

impl Runtime {
    /// A runtime with the default configuration.
    ///
    /// # Errors
    ///
    /// As [`Builder::build`].
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new().build()
    }

    /// Runs `fut` to completion on this thread, with the spawned tasks.
    ///
    /// # Panics
    ///
    /// Inside a runtime (`.await` instead), or with `fut`'s own panic.
    #[track_caller]
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.exec.block_on(fut)
    }

    /// A snapshot of the runtime's metrics (zero unless built with [`Builder::metrics`]).
    pub fn metrics(&self) -> crate::metrics::RuntimeMetrics {
        self.exec.metrics()
    }

    /// The task dump: a readable table of every live task.
    pub fn dump(&self) -> String {
        self.exec.dump()
    }

    /// Spawns a task from outside the runtime; it runs during the next `block_on`.
    #[track_caller]
    pub fn spawn<F: Future + 'static>(&self, fut: F) -> JoinHandle<F::Output> {
        self.exec.spawn(fut)
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.exec.id())
            .finish()
    }
}
