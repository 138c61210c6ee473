//! The runtime (tokio's `tokio::runtime`): the executor on the reactor's driver, the one
//! [`Builder`], and [`Handle`].
//!
//! # Ground rules
//!
//! A runtime and its tasks belong to the thread that built it. Its context (budget, clock,
//! drivers) is entered by its `block_on` (`weft_core::context`). What a [`Handle`] needs to
//! reach its runtime from outside `block_on` is this thread's `RUNTIMES` table (id → the
//! runtime, weakly), and what [`Runtime::enter`] makes current outside `block_on` is the id
//! in `ENTERED`: plain ids, so a forgotten or misordered guard leaves a stale id, never a
//! dangling pointer.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use weft_executor::{Config, JoinError, JoinHandle, RemoteJoinHandle, Spawner};
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
    /// Shared (weakly) with this thread's `RUNTIMES`, for [`Handle`]s.
    exec: Rc<weft_executor::Runtime>,
    handle: Handle,
    /// Takes the runtime out of `RUNTIMES`. Declared after `exec`, so it drops after the
    /// executor's shutdown, during which the tasks' drops may still ask for the runtime
    /// ([`Handle::try_current`]), as in tokio.
    _registered: Unregister,
}

/// Removes a runtime from this thread's `RUNTIMES` when dropped.
struct Unregister(u64);

impl Drop for Unregister {
    fn drop(&mut self) {
        let id = self.0;
        // `try_with`: the table may be gone when a runtime is dropped at thread exit.
        let _ = RUNTIMES.try_with(|r| r.borrow_mut().remove(&id));
    }
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
    name: Option<Arc<str>>,
    /// `Some(n)`: thread-per-core, `n` workers (0: one per available core).
    workers: Option<usize>,
    pin_workers: bool,
    shutdown_timeout: Option<Duration>,
}

/// The default of [`Builder::shutdown_timeout`].
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The settings of a [`Builder`] that can travel to a worker thread: all but the hooks,
/// which are `Rc`s of this thread.
#[derive(Clone)]
pub(crate) struct SendSettings {
    event_interval: u32,
    budget: Option<u32>,
    max_blocking_threads: usize,
    blocking_keep_alive: Duration,
    shuffle_seed: Option<u64>,
    metrics: bool,
    debug: bool,
    slow_poll_threshold: Duration,
    unhandled_panic: UnhandledPanic,
    start_paused: bool,
    name: Option<Arc<str>>,
}

impl SendSettings {
    /// A builder with these settings, on the worker's thread.
    pub(crate) fn builder(&self) -> Builder {
        let mut b = Builder::new();
        b.config.event_interval = self.event_interval;
        b.config.budget = self.budget;
        b.config.max_blocking_threads = self.max_blocking_threads;
        b.config.blocking_keep_alive = self.blocking_keep_alive;
        b.config.shuffle_seed = self.shuffle_seed;
        b.config.metrics = self.metrics;
        b.config.debug = self.debug;
        b.config.slow_poll_threshold = self.slow_poll_threshold;
        b.config.unhandled_panic = self.unhandled_panic;
        b.start_paused = self.start_paused;
        b.name = self.name.clone();
        b
    }
}

impl Builder {
    /// The default configuration: budget 128, driver polled every 61 tasks, real clock.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// tokio's name for [`new`](Builder::new): every weft runtime runs on the current thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder::new()
    }

    /// Accepted for tokio's sake: weft's I/O and timer drivers are always on.
    pub fn enable_all(self) -> Builder {
        self
    }

    /// Accepted for tokio's sake: weft's I/O driver is always on.
    pub fn enable_io(self) -> Builder {
        self
    }

    /// Accepted for tokio's sake: weft's timer is always on.
    pub fn enable_time(self) -> Builder {
        self
    }

    /// Names the runtime (see [`Handle::name`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::runtime::Builder::new_current_thread().name("edge").build().unwrap();
    /// assert_eq!(rt.handle().name(), Some("edge"));
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(Arc::from(name.into()));
        self
    }

    /// Calls `f` each time the runtime is about to sleep for want of work (tokio's
    /// `on_thread_park`). A task woken from `f` runs before the runtime sleeps.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    ///
    /// let parks = Rc::new(Cell::new(0));
    /// let p = parks.clone();
    /// let rt = weft::Builder::new().on_thread_park(move || p.set(p.get() + 1)).build().unwrap();
    /// rt.block_on(async { weft::sleep(std::time::Duration::from_millis(1)).await });
    /// assert!(parks.get() >= 1);
    /// ```
    pub fn on_thread_park(mut self, f: impl Fn() + 'static) -> Builder {
        self.config.on_thread_park = Some(Rc::new(f));
        self
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

    /// Thread-per-core: [`run`](Builder::run) and [`start`](Builder::start) start `n`
    /// worker threads, each a complete runtime with these settings (see
    /// [`workers`](crate::workers)). `0` means one per core this process may use.
    pub fn workers(mut self, n: usize) -> Builder {
        self.workers = Some(if n == 0 {
            crate::workers::auto_count()
        } else {
            n
        });
        self
    }

    /// Pins worker `i` to the `i`-th core this process may run on (Linux; elsewhere a no-op).
    /// Off by default.
    pub fn pin_workers(mut self, on: bool) -> Builder {
        self.pin_workers = on;
        self
    }

    /// How long the workers' mains have, after a stop is asked for, to return by themselves
    /// before they are dropped (default 5 s).
    pub fn shutdown_timeout(mut self, d: Duration) -> Builder {
        self.shutdown_timeout = Some(d);
        self
    }

    /// Starts the workers ([`workers`](Builder::workers), one if not set), each running
    /// `main(worker)` on its own runtime, and returns at once.
    ///
    /// # Errors
    ///
    /// If a thread cannot be started or a worker cannot build its runtime.
    ///
    /// # Panics
    ///
    /// If a hook (`on_task_spawn`, `on_thread_park`, ...) is set: hooks belong to one thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let workers = weft::Builder::new()
    ///     .workers(2)
    ///     .start(|worker| async move {
    ///         worker.stopping().await; // serve until told to stop
    ///         worker.id()
    ///     })
    ///     .unwrap();
    /// workers.handle().shutdown();
    /// assert_eq!(workers.join().unwrap(), vec![0, 1]);
    /// ```
    #[track_caller]
    pub fn start<F, Fut>(self, main: F) -> std::io::Result<crate::workers::Workers<Fut::Output>>
    where
        F: Fn(crate::workers::Worker) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let c = &self.config;
        assert!(
            c.on_task_spawn.is_none()
                && c.on_before_poll.is_none()
                && c.on_after_poll.is_none()
                && c.on_task_terminate.is_none()
                && c.on_thread_park.is_none(),
            "weft: hooks belong to one thread and cannot be given to workers"
        );
        let n = self.workers.unwrap_or(1);
        let seed = crate::workers::Seed {
            builder: SendSettings {
                event_interval: c.event_interval,
                budget: c.budget,
                max_blocking_threads: c.max_blocking_threads,
                blocking_keep_alive: c.blocking_keep_alive,
                shuffle_seed: c.shuffle_seed,
                metrics: c.metrics,
                debug: c.debug,
                slow_poll_threshold: c.slow_poll_threshold,
                unhandled_panic: c.unhandled_panic,
                start_paused: self.start_paused,
                name: self.name.clone(),
            },
            pin: self.pin_workers,
            shutdown_timeout: self.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
        };
        crate::workers::start(seed, n, main)
    }

    /// [`start`](Builder::start)s the workers and [joins](crate::workers::Workers::join)
    /// them: returns every worker's output, by id.
    ///
    /// # Errors
    ///
    /// The workers that panicked, were cancelled at the shutdown timeout or did not end
    /// (see [`WorkersError`](crate::workers::WorkersError)), or could not start.
    ///
    /// # Panics
    ///
    /// As [`start`](Builder::start).
    ///
    /// # Examples
    ///
    /// ```
    /// let ids = weft::Builder::new().workers(3).run(|w| async move { w.id() }).unwrap();
    /// assert_eq!(ids, vec![0, 1, 2]);
    /// ```
    #[track_caller]
    pub fn run<F, Fut>(self, main: F) -> Result<Vec<Fut::Output>, crate::workers::WorkersError>
    where
        F: Fn(crate::workers::Worker) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        match self.start(main) {
            Ok(workers) => workers.join(),
            Err(e) => Err(crate::workers::WorkersError {
                failures: vec![(0, crate::workers::Failure::NotStarted(e))],
            }),
        }
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
        let exec = Rc::new(weft_executor::Runtime::with_config(driver, self.config));
        let id = exec.id();
        RUNTIMES.with(|r| {
            let mut r = r.borrow_mut();
            r.retain(|_, e| e.runtime.strong_count() > 0);
            r.insert(
                id,
                Registered {
                    runtime: Rc::downgrade(&exec),
                    name: self.name.clone(),
                    spawner: exec.spawner(),
                },
            );
        });
        Ok(Runtime {
            handle: Handle {
                id,
                thread: std::thread::current().id(),
                name: self.name,
                spawner: exec.spawner(),
            },
            exec,
            _registered: Unregister(id),
        })
    }
}

thread_local! {
    /// This thread's runtimes by id, for [`Handle`]s (which are `Send`, so hold only an id).
    static RUNTIMES: RefCell<HashMap<u64, Registered>> = RefCell::new(HashMap::new());
    /// The runtime made current by [`Runtime::enter`] outside its `block_on`, if any.
    static ENTERED: Cell<Option<u64>> = const { Cell::new(None) };
}

/// A runtime of this thread, as its [`Handle`]s find it.
struct Registered {
    runtime: Weak<weft_executor::Runtime>,
    name: Option<Arc<str>>,
    spawner: Spawner,
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

    /// A [`Handle`] to this runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let h = rt.handle().spawn(async { 5 });
    /// assert_eq!(rt.block_on(h).unwrap(), 5);
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the one [`Handle::current`] finds on this thread outside
    /// `block_on`, until the guard drops (tokio's `Runtime::enter`). Tasks, timers and sockets
    /// still need `block_on` to run.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// assert_eq!(weft::runtime::Handle::current().id(), rt.handle().id());
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            prev: ENTERED.with(|e| e.replace(Some(self.handle.id))),
            _runtime: std::marker::PhantomData,
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.handle.id)
            .finish()
    }
}

/// Guard of [`Runtime::enter`]: the runtime stays current until it drops.
#[must_use = "the runtime is current only while the guard lives"]
pub struct EnterGuard<'a> {
    prev: Option<u64>,
    _runtime: std::marker::PhantomData<&'a Runtime>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        let _ = ENTERED.try_with(|e| e.set(self.prev));
    }
}

impl std::fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// A handle to a runtime (tokio's `runtime::Handle`): `Send` and cheap to clone.
///
/// A weft runtime and its tasks belong to the thread that built it. From any thread, a
/// handle [spawns](Handle::spawn) `Send` futures onto that thread (tokio's `Handle::spawn`);
/// it [blocks on](Handle::block_on) only on the runtime's own thread.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let handle = weft::runtime::Handle::current();
///     let task = handle.spawn(async { 2 + 2 });
///     assert_eq!(task.await.unwrap(), 4);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Handle {
    id: u64,
    thread: std::thread::ThreadId,
    name: Option<Arc<str>>,
    spawner: Spawner,
}

/// Error of [`Handle::try_current`]: no runtime is current on this thread.
#[derive(Debug)]
pub struct TryCurrentError(());

impl std::fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no weft runtime is current on this thread")
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime current on this thread (inside its `block_on`, or after
    /// [`Runtime::enter`]).
    ///
    /// # Panics
    ///
    /// If there is none, with tokio's words.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(h) => h,
            Err(_) => panic!(
                "there is no reactor running, must be called from the context of a Tokio 1.x \
                 runtime (no weft runtime is current on this thread)"
            ),
        }
    }

    /// The handle of the runtime current on this thread, if there is one.
    ///
    /// # Errors
    ///
    /// [`TryCurrentError`] outside any runtime.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        let running = weft_core::context::current_id().map(|id| id.as_u64());
        let ids = [running, ENTERED.with(Cell::get)];
        RUNTIMES.with(|r| {
            let r = r.borrow();
            let (id, e) = ids
                .into_iter()
                .flatten()
                .find_map(|id| r.get(&id).map(|e| (id, e)))
                .ok_or(TryCurrentError(()))?;
            Ok(Handle {
                id,
                thread: std::thread::current().id(),
                name: e.name.clone(),
                spawner: e.spawner.clone(),
            })
        })
    }

    /// The runtime's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The runtime's name, if it was given one ([`Builder::name`]).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The runtime, if this is its thread and it is alive.
    fn runtime(&self) -> Option<Rc<weft_executor::Runtime>> {
        if std::thread::current().id() != self.thread {
            return None;
        }
        RUNTIMES.with(|r| r.borrow().get(&self.id)?.runtime.upgrade())
    }

    /// Spawns `fut` on the runtime (tokio's `Handle::spawn`): it runs now if the runtime is
    /// running, else at its next `block_on`.
    ///
    /// On the runtime's own thread this is [`spawn`](crate::spawn). From another thread that
    /// runs a weft runtime, `fut` is sent to the runtime's thread and runs there; the handle
    /// returned belongs to this thread, where a small stand-in task carries the output back
    /// (aborting the handle aborts the task over there). From a thread with no weft runtime,
    /// use [`spawner`](Handle::spawner), whose handle can be awaited anywhere.
    ///
    /// # Panics
    ///
    /// From a thread that runs no weft runtime and is not the runtime's own, or on its own
    /// thread after the runtime is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let answer = std::thread::spawn(move || {
    ///     // Another runtime, on another thread: the task runs on `rt`'s thread.
    ///     weft::run(async move { handle.spawn(async { 6 * 7 }).await.unwrap() })
    /// });
    /// // Run `rt` until the other thread has its answer.
    /// rt.block_on(async {
    ///     while !answer.is_finished() {
    ///         weft::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    /// });
    /// assert_eq!(answer.join().unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let running = weft_core::context::current_id().map(|id| id.as_u64());
        if running == Some(self.id) {
            return crate::spawn(fut);
        }
        if let Some(rt) = self.runtime() {
            return rt.spawn(fut);
        }
        if running.is_none() {
            panic!(
                "weft: Handle::spawn from a thread that runs no weft runtime: the task would \
                 have no thread to report to; use `Handle::spawner().spawn(..)`, whose handle \
                 can be awaited anywhere"
            );
        }
        stand_in(self.spawner.spawn(fut))
    }

    /// A [`Spawner`] for this runtime: spawns `Send` futures onto it from any thread, and
    /// gives handles that can be awaited on any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let spawner = rt.handle().spawner();
    /// let h = std::thread::spawn(move || spawner.spawn(async { 1 })).join().unwrap();
    /// assert_eq!(rt.block_on(h).unwrap(), 1);
    /// ```
    pub fn spawner(&self) -> Spawner {
        self.spawner.clone()
    }

    /// Runs `fut` to completion on this thread, on the runtime.
    ///
    /// # Panics
    ///
    /// Inside a runtime, from another thread than the runtime's, or after the runtime is
    /// dropped.
    #[track_caller]
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let Some(rt) = self.runtime() else {
            panic!(
                "weft: Handle::block_on from another thread than the runtime's (or after it was \
                 dropped)"
            );
        };
        rt.block_on(fut)
    }
}

/// A local task on this thread's runtime that awaits a task sent to another thread, so that
/// [`Handle::spawn`] returns the usual [`JoinHandle`] wherever it is called from a runtime.
fn stand_in<T: Send + 'static>(remote: RemoteJoinHandle<T>) -> JoinHandle<T> {
    /// Aborts the remote task if the stand-in is dropped before its output came (its handle
    /// aborted it, or this thread's runtime shut down).
    struct AbortOnDrop<T>(Option<RemoteJoinHandle<T>>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            if let Some(h) = &self.0 {
                h.abort();
            }
        }
    }
    let me: Rc<Cell<Option<weft_executor::task::AbortHandle>>> = Rc::default();
    let me_inside = me.clone();
    let mut guard = AbortOnDrop(Some(remote));
    let handle = crate::spawn(async move {
        let out = match guard.0.as_mut() {
            Some(remote) => remote.await,
            None => Err(JoinError::Cancelled),
        };
        drop(guard.0.take()); // ended: nothing to abort
        match out {
            Ok(v) => v,
            Err(JoinError::Panic(payload)) => std::panic::resume_unwind(payload),
            Err(JoinError::Cancelled) => {
                // Cancelled over there: cancel the stand-in too, so its handle says so.
                if let Some(me) = me_inside.take() {
                    me.abort();
                }
                std::future::pending().await
            }
        }
    });
    me.set(Some(handle.abort_handle()));
    handle
}
