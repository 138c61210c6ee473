//! The runtime (tokio's `tokio::runtime`): the executor wired to its driver, its
//! [`Builder`], and [`Handle`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use weft_executor::JoinHandle;
use weft_reactor::Driver;
use weft_timer::driver::Timer;

/// A weft runtime: one thread's executor and its driver.
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
    /// `None` only while dropping (the executor shuts down inside the driver's context).
    /// Shared with this thread's registry (weakly), for [`Handle`].
    inner: Option<Rc<weft_executor::Runtime>>,
    /// Enters the driver's I/O and timer context on this thread.
    handle: weft_reactor::Handle,
    /// What [`Runtime::handle`] lends.
    rt_handle: Handle,
}

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// let rt = weft::Builder::new().budget(64).event_interval(31).build().unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    exec: weft_executor::Builder,
    start_paused: bool,
    name: Option<Arc<str>>,
}

impl Builder {
    /// The default configuration.
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

    /// Calls `f` each time the runtime is about to sleep waiting for events (tokio's
    /// `on_thread_park`). A task woken from `f` runs before the runtime sleeps.
    pub fn on_thread_park(mut self, f: impl Fn() + 'static) -> Builder {
        self.exec = self.exec.on_thread_park(f);
        self
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

    /// How many resource operations a task may do per poll before it must yield
    /// (default 128). See [`weft_executor::coop`].
    #[track_caller]
    pub fn budget(mut self, n: u32) -> Builder {
        self.exec = self.exec.budget(n);
        self
    }

    /// How many tasks run between two polls of the I/O driver while tasks are ready
    /// (default 61).
    #[track_caller]
    pub fn event_interval(mut self, n: u32) -> Builder {
        self.exec = self.exec.event_interval(n);
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

    /// Keeps runtime metrics, read with [`Runtime::metrics`] (off by default).
    pub fn metrics(mut self, on: bool) -> Builder {
        self.exec = self.exec.metrics(on);
        self
    }

    /// asyncio's debug mode: `log` warnings for slow polls and unobserved panics.
    pub fn debug(mut self, on: bool) -> Builder {
        self.exec = self.exec.debug(on);
        self
    }

    /// The poll duration above which debug mode warns (default 100 ms).
    pub fn slow_poll_threshold(mut self, d: std::time::Duration) -> Builder {
        self.exec = self.exec.slow_poll_threshold(d);
        self
    }

    /// What a panic in a spawned task does to the runtime (default: nothing).
    pub fn unhandled_panic(mut self, policy: crate::metrics::UnhandledPanic) -> Builder {
        self.exec = self.exec.unhandled_panic(policy);
        self
    }

    /// Runs ready tasks in a reproducible random order drawn from `seed` (for tests).
    pub fn shuffle_seed(mut self, seed: u64) -> Builder {
        self.exec = self.exec.shuffle_seed(seed);
        self
    }

    /// Calls `f` when a task is spawned.
    pub fn on_task_spawn(mut self, f: impl Fn(&crate::metrics::TaskInfo) + 'static) -> Builder {
        self.exec = self.exec.on_task_spawn(f);
        self
    }

    /// Calls `f` before each poll of a task.
    pub fn on_before_poll(mut self, f: impl Fn(&crate::metrics::TaskInfo) + 'static) -> Builder {
        self.exec = self.exec.on_before_poll(f);
        self
    }

    /// Calls `f` after each poll of a task.
    pub fn on_after_poll(mut self, f: impl Fn(&crate::metrics::TaskInfo) + 'static) -> Builder {
        self.exec = self.exec.on_after_poll(f);
        self
    }

    /// Calls `f` once when a task ends.
    pub fn on_task_terminate(mut self, f: impl Fn(&crate::metrics::TaskInfo) + 'static) -> Builder {
        self.exec = self.exec.on_task_terminate(f);
        self
    }

    /// The most blocking-pool threads at once (default 512).
    #[track_caller]
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.exec = self.exec.max_blocking_threads(n);
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    ///
    /// If the driver cannot be created (the OS refuses an epoll instance, for example).
    pub fn build(self) -> std::io::Result<Runtime> {
        install_budget_hooks();
        let driver = Driver::with_timer(Timer::new(self.start_paused))?;
        let handle = driver.handle();
        let exec = Rc::new(self.exec.build_with_park(driver));
        REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            r.retain(|_, e| e.runtime.strong_count() > 0);
            let entry = Registered {
                runtime: Rc::downgrade(&exec),
                driver: handle.clone(),
                name: self.name.clone(),
            };
            r.insert(exec.id(), entry);
        });
        let rt_handle = Handle {
            id: exec.id(),
            thread: std::thread::current().id(),
            name: self.name,
        };
        Ok(Runtime {
            inner: Some(exec),
            handle,
            rt_handle,
        })
    }
}

thread_local! {
    /// The driver handle of the facade runtime running on this thread (set by `block_on`).
    static CURRENT: std::cell::RefCell<Option<weft_reactor::Handle>> =
        const { std::cell::RefCell::new(None) };
    /// The id of the runtime entered on this thread (by `block_on` or `enter`), for
    /// `Handle::current`.
    static CURRENT_ID: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
    /// This thread's runtimes by id, for `Handle`s (which are `Send`, so hold only the id).
    static REGISTRY: RefCell<HashMap<u64, Registered>> = RefCell::new(HashMap::new());
}

/// A runtime of this thread, as its `Handle`s find it.
struct Registered {
    runtime: Weak<weft_executor::Runtime>,
    driver: weft_reactor::Handle,
    name: Option<Arc<str>>,
}

/// Sets `CURRENT` and `CURRENT_ID` for the duration of a `block_on` or an `enter`.
struct Current(Option<weft_reactor::Handle>, Option<u64>);

impl Current {
    fn enter(handle: &weft_reactor::Handle, id: u64) -> Current {
        Current(
            CURRENT.with(|c| c.replace(Some(handle.clone()))),
            CURRENT_ID.with(|c| c.replace(Some(id))),
        )
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
        CURRENT_ID.with(|c| c.set(self.1));
    }
}

/// A guard that keeps this thread's paused clock from jumping ahead, if the clock is paused.
pub(crate) fn inhibit_auto_advance() -> Option<weft_reactor::AutoAdvanceGuard> {
    CURRENT.with(|c| {
        let c = c.borrow();
        let handle = c.as_ref()?;
        handle
            .timer()
            .is_paused()
            .then(|| handle.inhibit_auto_advance())
    })
}

/// Lets the timer and channel crates, which cannot depend on the executor, spend the
/// executor's cooperative budget. The hooks are process-wide and harmless off weft threads
/// (the budget is unconstrained there).
///
/// It also makes weft's clock the channel crate's default clock, so a
/// [`RateLimiter`](crate::sync::RateLimiter) follows a paused runtime's time.
fn install_budget_hooks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        weft_timer::driver::set_budget_hook(weft_executor::coop::poll_proceed);
        weft_channel::coop::set_budget_hook(weft_executor::coop::poll_proceed);
        // SAFETY: `budget_cell` returns the calling thread's destructor-free thread-local
        // counter, which with native thread-locals (Linux, weft's platform) is valid for
        // the thread's whole life; the channel crate caches it per thread and uses it only
        // on that thread.
        unsafe { weft_channel::coop::set_budget_cell(weft_executor::coop::budget_cell) };
        weft_channel::coop::set_runtime_check(weft_executor::in_runtime);
        // The origin must come before any time a runtime reports, or a paused clock's first
        // readings would saturate to 0 (its base is the real time when it was built, below).
        clock_origin();
        weft_channel::set_default_clock(std::sync::Arc::new(WeftClock));
        // Registering for `membarrier` is quick while the process has one thread, and waits
        // for an RCU grace period later: do it now rather than at the first channel or lock.
        weft_channel::prepare_fences();
    });
}

/// weft's clock for the channel crate: the current runtime's time (paused or real), or the
/// real clock off weft threads.
struct WeftClock;

/// The clock's origin: taken once, from the real clock.
fn clock_origin() -> weft_timer::Instant {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    weft_timer::Instant::from_std(*ORIGIN.get_or_init(std::time::Instant::now))
}

impl weft_channel::Clock for WeftClock {
    fn now(&self) -> std::time::Duration {
        weft_timer::Instant::now().saturating_duration_since(clock_origin())
    }

    fn sleep_until(
        &self,
        deadline: std::time::Duration,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        // The sleep is made at its first poll, inside the runtime that awaits it.
        Box::pin(async move { weft_timer::sleep_until(clock_origin() + deadline).await })
    }
}

impl Runtime {
    fn exec(&self) -> &weft_executor::Runtime {
        self.inner.as_ref().expect("runtime used while dropping")
    }

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
        let _enter = self.handle.enter();
        let _current = Current::enter(&self.handle, self.exec().id());
        self.exec().block_on(fut)
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
        &self.rt_handle
    }

    /// Makes this runtime the current one on this thread until the guard drops, so that
    /// [`Handle::current`] finds it outside `block_on`.
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
            _current: Current::enter(&self.handle, self.exec().id()),
            _runtime: std::marker::PhantomData,
        }
    }

    /// A snapshot of the runtime's metrics (zero unless built with [`Builder::metrics`]).
    pub fn metrics(&self) -> crate::metrics::RuntimeMetrics {
        self.exec().metrics()
    }

    /// The task dump: a readable table of every live task.
    pub fn dump(&self) -> String {
        self.exec().dump()
    }

    /// Spawns a task from outside the runtime; it runs during the next `block_on`.
    #[track_caller]
    pub fn spawn<F: Future + 'static>(&self, fut: F) -> JoinHandle<F::Output> {
        self.exec().spawn(fut)
    }
}

/// Guard of [`Runtime::enter`]: the runtime stays current until it drops.
#[must_use = "the runtime is current only while the guard lives"]
pub struct EnterGuard<'a> {
    _current: Current,
    _runtime: std::marker::PhantomData<&'a Runtime>,
}

impl std::fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// A handle to a runtime (tokio's `runtime::Handle`): `Send` and cheap to clone.
///
/// A weft runtime and its tasks belong to the thread that built it, so a handle spawns and
/// blocks on that thread only; from another thread, [`spawn`](Handle::spawn) panics (a
/// `Send` spawn onto another thread's runtime comes with thread-per-core's `spawn_on`).
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
    /// The handle of the runtime current on this thread (inside `block_on`, or after
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
        let Some(id) = CURRENT_ID.with(std::cell::Cell::get) else {
            return Err(TryCurrentError(()));
        };
        let name = REGISTRY.with(|r| r.borrow().get(&id).and_then(|e| e.name.clone()));
        Ok(Handle {
            id,
            thread: std::thread::current().id(),
            name,
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
    fn runtime(&self) -> Option<(Rc<weft_executor::Runtime>, weft_reactor::Handle)> {
        if std::thread::current().id() != self.thread {
            return None;
        }
        REGISTRY.with(|r| {
            let r = r.borrow();
            let e = r.get(&self.id)?;
            Some((e.runtime.upgrade()?, e.driver.clone()))
        })
    }

    /// Spawns `fut` on the runtime: it runs now if the runtime is running, else at its next
    /// `block_on`.
    ///
    /// # Panics
    ///
    /// If called from another thread than the runtime's, or after the runtime is dropped.
    #[track_caller]
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        if CURRENT_ID.with(std::cell::Cell::get) == Some(self.id) && weft_executor::in_runtime() {
            return crate::spawn(fut);
        }
        match self.runtime() {
            Some((rt, _)) => rt.spawn(fut),
            None => panic!(
                "weft: Handle::spawn from another thread than the runtime's (or after it was \
                 dropped): weft runtimes do not take tasks from other threads yet"
            ),
        }
    }

    /// Runs `fut` to completion on this thread with the runtime's context entered.
    ///
    /// # Panics
    ///
    /// Inside a runtime, from another thread than the runtime's, or after the runtime is
    /// dropped.
    #[track_caller]
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let Some((rt, driver)) = self.runtime() else {
            panic!(
                "weft: Handle::block_on from another thread than the runtime's (or after it was \
                 dropped)"
            );
        };
        let _enter = driver.enter();
        let _current = Current::enter(&driver, self.id);
        rt.block_on(fut)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Shut the executor down inside the driver's context, so the futures it drops can
        // take their timers and sockets out of the driver.
        let _enter = self.handle.enter();
        // The runtime is current while its tasks are dropped: their `Drop` may ask for it
        // (`Handle::try_current`), as in tokio.
        let _current = self
            .inner
            .as_ref()
            .map(|rt| Current::enter(&self.handle, rt.id()));
        if let Some(rt) = &self.inner {
            let id = rt.id();
            // `try_with`: the registry may be gone when a runtime is dropped at thread exit.
            let _ = REGISTRY.try_with(|r| r.borrow_mut().remove(&id));
        }
        drop(self.inner.take());
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = self.inner.as_ref().map(|rt| rt.id());
        f.debug_struct("Runtime").field("id", &id).finish()
    }
}
