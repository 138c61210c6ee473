//! The runtime: one thread's run queue, owned tasks, and its loop.
//!
//! # Ground rules
//!
//! * A `Core` is reached through `Runtime` (which owns it) or through the thread-local
//!   `CURRENT` pointer, set only while `block_on` or the shutdown runs on the owner thread.
//! * Its `RefCell`s are borrowed for a few instructions at a time and never across a call
//!   that can run user code (a poll, a wake, a drop of a future, waker or output).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::ptr::{self, NonNull};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::blocking::{self, BlockingPool};
use crate::coop;
use crate::observe::UnhandledPanic;
use crate::observe::{self, dump, Counters, Hook, ObserveConfig, RuntimeMetrics, TaskInfo};
use crate::owned::Owned;
use crate::park::{Park, ThreadPark};
use crate::queue::RunQueue;
use crate::remote::{self, MainWaker, RemoteQueue, Shared};
use crate::task::cache::BlockCache;
use crate::task::raw::{self, Header, NO_SLOT};
use crate::task::state::flags::*;
use crate::task::{JoinHandle, Priority, TaskId, TaskState};

thread_local! {
    /// The core of the runtime running on this thread, or null.
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
}

/// Runtime ids: unique in the process, never reused, so a stale waker cannot reach a newer
/// runtime that happens to live at the same address.
static NEXT_RUNTIME_ID: AtomicU64 = AtomicU64::new(1);
/// Task ids are handed out to runtimes in blocks, so a spawn does no atomic operation.
static NEXT_TASK_ID_BLOCK: AtomicU64 = AtomicU64::new(1);
const TASK_ID_BLOCK: u64 = 1024;

/// Tunables of the loop (see [`Builder`]).
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) event_interval: u32,
    pub(crate) budget: Option<u32>,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_keep_alive: Duration,
    pub(crate) shuffle_seed: Option<u64>,
    pub(crate) observe: ObserveConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            event_interval: 61,
            budget: Some(128),
            max_blocking_threads: 512,
            blocking_keep_alive: Duration::from_secs(10),
            shuffle_seed: None,
            observe: ObserveConfig::default(),
        }
    }
}

pub(crate) struct Core {
    pub(crate) id: u64,
    queue: RefCell<RunQueue>,
    owned: RefCell<Owned>,
    park: RefCell<Box<dyn Park>>,
    shared: Arc<Shared>,
    main_waker: Waker,
    config: Config,
    /// The task being polled.
    current: Cell<Option<NonNull<Header>>>,
    /// Next task id, and the end of the block it comes from.
    ids: Cell<(u64, u64)>,
    /// Started on first use.
    blocking: RefCell<Option<Arc<BlockingPool>>>,
    /// Debug mode: every poll is timed, every wake stamped, per-task poll time kept.
    debug_timing: bool,
    /// After a poll there is something to do besides timing (a hook, the panic policy).
    after_poll_needed: bool,
    /// Anything in `observe` is on: the one branch the hot path pays.
    observing: bool,
    /// Which spawns and wakes are sampled (see [`sample_mask`]).
    sample_mask: u64,
    /// An `on_task_spawn` hook is set.
    spawn_hook: bool,
    /// A task's end needs more than counting: debug warnings or `on_task_terminate`.
    terminate_slow: bool,
    counters: Counters,
    /// Set when a task panicked under `UnhandledPanic::ShutdownRuntime`.
    panicked: Cell<Option<TaskId>>,
    /// When the driver was last polled (see `on_budget_spent`).
    last_park: Cell<Instant>,
    /// Blocks of tasks that ended here, for the next spawns (see `task/cache.rs`).
    blocks: RefCell<BlockCache>,
}

/// With metrics on (and debug off), one spawn and one wake in this many are sampled for the
/// histograms: reading the clock on every poll would cost more than the poll itself
/// (~20 ns). Counters stay exact.
const SAMPLE_EVERY: u64 = 128;

/// Which schedules (spawns and wakes) are sampled, as a mask on their number: `n & mask ==
/// 0`. A sampled schedule stamps the task (`WAKE_STAMPED`, and the time in its owned slot);
/// the poll that follows a stamp is the one that is timed, and the time from the stamp to
/// the poll is its schedule latency. So the hot path tests a flag it already holds, with
/// no counter of its own: every schedule in debug mode or with an `on_before_poll` hook
/// (every poll then takes the slow path), one in `SAMPLE_EVERY` with metrics, otherwise only
/// the very first of each kind.
fn sample_mask(metrics: bool, every: bool) -> u64 {
    if every {
        0
    } else if metrics {
        SAMPLE_EVERY - 1
    } else {
        u64::MAX
    }
}

/// How long CPU-heavy tasks (ones that spend their whole budget) may keep the driver from
/// being polled: timers and I/O are then checked at least this often, not only every
/// `event_interval` polls.
const MAX_DRIVER_DELAY: Duration = Duration::from_millis(1);

/// A single-threaded executor: a run queue, the tasks it owns, and something to park in.
///
/// A runtime belongs to the thread that made it (`!Send`). Several runtimes may live in one
/// process, each on its own thread, and never see each other.
///
/// Dropping the runtime drops every unfinished task's future exactly once, including tasks
/// spawned while that happens.
///
/// # Examples
///
/// ```
/// use weft_executor::{spawn, Runtime};
///
/// let rt = Runtime::new();
/// let sum = rt.block_on(async {
///     let a = spawn(async { 1 });
///     let b = spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(sum, 3);
/// ```
pub struct Runtime {
    core: Rc<Core>,
}

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// use weft_executor::park::ThreadPark;
///
/// let rt = weft_executor::Builder::new()
///     .event_interval(31)
///     .budget(64)
///     .build_with_park(ThreadPark::new());
/// assert_eq!(rt.block_on(async { "ok" }), "ok");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    config: Config,
}

impl Builder {
    /// The default configuration: budget 128, driver polled every 61 tasks.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// How many tasks run between two polls of the driver while tasks are ready (default 61).
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

    /// How many resource operations a task may do in one poll before weft's futures make it
    /// yield (default 128). `u32::MAX` means no limit.
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

    /// The most threads the blocking pool may run at once (default 512).
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

    /// Keeps runtime metrics (see [`Runtime::metrics`]); off by default. With metrics off
    /// the run loop pays one predictable branch per poll for all of observation. With them
    /// on, counters are exact and the duration histograms time the polls that follow one
    /// spawn in 128 and one wake in 128 (all of them in [`debug`](Self::debug) mode).
    pub fn metrics(mut self, on: bool) -> Builder {
        self.config.observe.metrics = on;
        self
    }

    /// asyncio's debug mode: warns (through the `log` crate) about polls longer than
    /// [`slow_poll_threshold`](Self::slow_poll_threshold) and about panics nobody observed.
    pub fn debug(mut self, on: bool) -> Builder {
        self.config.observe.debug = on;
        self
    }

    /// The poll duration above which debug mode warns (default 100 ms; asyncio's
    /// `slow_callback_duration`).
    pub fn slow_poll_threshold(mut self, d: Duration) -> Builder {
        self.config.observe.slow_poll_threshold = d;
        self
    }

    /// What a panic in a spawned task does to the runtime (default: nothing; the panic goes to
    /// the task's `JoinHandle`).
    pub fn unhandled_panic(mut self, policy: observe::UnhandledPanic) -> Builder {
        self.config.observe.unhandled_panic = policy;
        self
    }

    /// Runs ready tasks in a random order drawn from `seed` instead of first come, first
    /// served: the same seed gives the same interleaving, so a test can try many orders and
    /// replay a failing one exactly.
    pub fn shuffle_seed(mut self, seed: u64) -> Builder {
        self.config.shuffle_seed = Some(seed);
        self
    }

    /// Calls `f` when a task is spawned.
    pub fn on_task_spawn(mut self, f: impl Fn(&TaskInfo) + 'static) -> Builder {
        self.config.observe.hooks.on_task_spawn = Some(Rc::new(f) as Hook);
        self
    }

    /// Calls `f` just before each poll of a task.
    pub fn on_before_poll(mut self, f: impl Fn(&TaskInfo) + 'static) -> Builder {
        self.config.observe.hooks.on_before_poll = Some(Rc::new(f) as Hook);
        self
    }

    /// Calls `f` just after each poll of a task, with the state the poll left it in.
    pub fn on_after_poll(mut self, f: impl Fn(&TaskInfo) + 'static) -> Builder {
        self.config.observe.hooks.on_after_poll = Some(Rc::new(f) as Hook);
        self
    }

    /// Calls `f` once when a task ends (completed, cancelled or panicked).
    pub fn on_task_terminate(mut self, f: impl Fn(&TaskInfo) + 'static) -> Builder {
        self.config.observe.hooks.on_task_terminate = Some(Rc::new(f) as Hook);
        self
    }

    /// Turns the cooperative budget off.
    pub fn unconstrained(mut self) -> Builder {
        self.config.budget = None;
        self
    }

    /// Builds a runtime that parks in `park`.
    pub fn build_with_park(self, park: impl Park + 'static) -> Runtime {
        Runtime::from_parts(Box::new(park), self.config)
    }
}

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime::new()
    }
}

impl Runtime {
    /// A runtime with no I/O and no timers: it parks its thread on a condition variable.
    pub fn new() -> Runtime {
        Runtime::with_park(ThreadPark::new())
    }

    /// A runtime that parks in `park` (the reactor's driver, usually).
    pub fn with_park(park: impl Park + 'static) -> Runtime {
        Builder::new().build_with_park(park)
    }

    fn from_parts(park: Box<dyn Park>, config: Config) -> Runtime {
        let id = NEXT_RUNTIME_ID.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(Shared {
            id,
            remote: Mutex::new(RemoteQueue::default()),
            remote_pending: AtomicBool::new(false),
            main_woken: AtomicBool::new(false),
            unparker: park.unparker(),
        });
        remote::register(&shared);
        let main_waker = Waker::from(Arc::new(MainWaker(shared.clone())));
        let debug_timing = config.observe.debug;
        let after_poll_needed = config.observe.hooks.on_after_poll.is_some()
            || config.observe.unhandled_panic != UnhandledPanic::Ignore;
        let spawn_hook = config.observe.hooks.on_task_spawn.is_some();
        let terminate_slow = debug_timing || config.observe.hooks.on_task_terminate.is_some();
        let sample_mask = sample_mask(
            config.observe.metrics,
            debug_timing || config.observe.hooks.on_before_poll.is_some(),
        );
        let observing = config.observe.metrics
            || debug_timing
            || config.observe.hooks.any()
            || config.observe.unhandled_panic != UnhandledPanic::Ignore;
        Runtime {
            core: Rc::new(Core {
                id,
                queue: RefCell::new(RunQueue::new(config.shuffle_seed)),
                owned: RefCell::new(Owned::default()),
                blocks: RefCell::new(BlockCache::new()),
                park: RefCell::new(park),
                shared,
                main_waker,
                config,
                current: Cell::new(None),
                ids: Cell::new((0, 0)),
                blocking: RefCell::new(None),
                debug_timing,
                observing,
                sample_mask,
                spawn_hook,
                terminate_slow,
                after_poll_needed,
                counters: Counters::default(),
                panicked: Cell::new(None),
                last_park: Cell::new(Instant::now()),
            }),
        }
    }

    /// This runtime's id (unique in the process).
    pub fn id(&self) -> u64 {
        self.core.id
    }

    /// Runs `fut` to completion on this thread, running spawned tasks meanwhile.
    ///
    /// # Panics
    ///
    /// If called from inside a weft runtime (a task cannot block its own thread: `.await`
    /// instead), and with the panic of `fut` itself if it panics.
    #[track_caller]
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let _enter = Enter::new(&self.core, false);
        self.core.run(fut)
    }

    /// Spawns a task on this runtime from outside it; it runs during the next `block_on`.
    #[track_caller]
    pub fn spawn<F: Future + 'static>(&self, fut: F) -> JoinHandle<F::Output> {
        self.core
            .spawn(fut, None, Priority::Normal, Location::caller())
    }

    /// A snapshot of the runtime's metrics (counters are zero unless built with
    /// [`Builder::metrics`]).
    pub fn metrics(&self) -> RuntimeMetrics {
        self.core.metrics()
    }

    /// A readable table of every live task (see [`crate::task::dump`]).
    pub fn dump(&self) -> String {
        dump::render(&self.core.snapshot())
    }

    /// Every live task (see [`crate::task::all_tasks`]).
    pub fn all_tasks(&self) -> Vec<crate::task::TaskSnapshot> {
        self.core.snapshot()
    }

    /// Live threads of this runtime's blocking pool.
    pub fn blocking_threads(&self) -> usize {
        self.core.blocking_threads()
    }

    /// The number of tasks that have not finished yet.
    pub fn alive_tasks(&self) -> usize {
        self.core.owned.borrow().len()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _enter = Enter::new(&self.core, true);
        self.core.shutdown();
    }
}

/// Sets `CURRENT` for the guard's lifetime.
struct Enter {
    prev: *const Core,
}

impl Enter {
    #[track_caller]
    fn new(core: &Rc<Core>, allow_nested: bool) -> Enter {
        let prev = CURRENT.with(|c| c.replace(Rc::as_ptr(core)));
        if !prev.is_null() && !allow_nested {
            CURRENT.with(|c| c.set(prev));
            panic!(
                "cannot block_on inside a weft runtime: this thread is already running one \
                 (a task must not block its own thread; use `.await` instead)"
            );
        }
        Enter { prev }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}

/// The metrics of the runtime running on this thread (see [`Runtime::metrics`]; asyncio has
/// no equivalent, tokio's is `Handle::current().metrics()`).
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Builder::new()
///     .metrics(true)
///     .build_with_park(weft_executor::park::ThreadPark::new());
/// rt.block_on(async {
///     weft_executor::spawn(async {}).await.unwrap();
///     let m = weft_executor::metrics();
///     assert_eq!((m.tasks_spawned, m.tasks_completed, m.polls), (1, 1, 1));
/// });
/// ```
#[track_caller]
pub fn metrics() -> RuntimeMetrics {
    expect_current("metrics", |core| core.metrics())
}

/// Whether a weft runtime is running on this thread: inside [`Runtime::block_on`] (its
/// future and every task it polls) or while a runtime shuts down.
///
/// Code that is about to block its thread asks this first: blocking a runtime's thread stalls
/// all of its tasks. The threads of the blocking pool ([`task::spawn_blocking`]) run no
/// runtime, so this is `false` there.
///
/// [`task::spawn_blocking`]: crate::task::spawn_blocking
///
/// # Examples
///
/// ```
/// assert!(!weft_executor::in_runtime());
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     assert!(weft_executor::in_runtime());
///     assert!(weft_executor::spawn(async { weft_executor::in_runtime() }).await.unwrap());
///     let pool = weft_executor::task::spawn_blocking(weft_executor::in_runtime);
///     assert!(!pool.await.unwrap());
/// });
/// assert!(!weft_executor::in_runtime());
/// ```
pub fn in_runtime() -> bool {
    // `try_with` fails only while this thread's locals are destroyed: no runtime runs then.
    CURRENT.try_with(|c| !c.get().is_null()).unwrap_or(false)
}

/// Runs `f` with the current core. `None` outside a runtime.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CURRENT.with(Cell::get);
    // SAFETY: `CURRENT` is non-null only while an `Enter` guard lives, and the guard's
    // `Runtime` (holding the `Rc<Core>`) outlives it on this thread.
    (!core.is_null()).then(|| f(unsafe { &*core }))
}

#[track_caller]
pub(crate) fn expect_current<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    match with_current(f) {
        Some(r) => r,
        None => panic!(
            "{what} called outside a weft runtime: no weft runtime is running on this thread \
             (call it from inside `weft::run(..)` or `Runtime::block_on(..)`)"
        ),
    }
}

/// Whether runtime `id` is the one running on this thread.
pub(crate) fn is_current(id: u64) -> bool {
    with_current(|c| c.id == id).unwrap_or(false)
}

/// Whether we are on `task`'s owner thread, with its runtime running (so the owner-thread
/// parts of its header may be touched).
///
/// # Safety
/// `task` is live.
#[inline]
pub(crate) unsafe fn on_owner_thread(task: NonNull<Header>) -> bool {
    // SAFETY: live by the caller's guarantee; `owner` is immutable.
    is_current(unsafe { task.as_ref() }.owner)
}

/// Wakes `task`. The waker's entry point.
///
/// # Safety
/// `task` is live; if `owned_ref`, the caller gives up one unit of its `refs`.
pub(crate) unsafe fn wake_task(task: NonNull<Header>, owned_ref: bool) {
    // SAFETY: live by the caller's guarantee; `owner` is immutable.
    let owner = unsafe { task.as_ref() }.owner;
    let local = with_current(|core| {
        if core.id != owner {
            return false;
        }
        if core.observing {
            core.observe_wake(task, false);
        }
        core.schedule(task);
        true
    });
    if local == Some(true) {
        // SAFETY: the caller's unit, given up (banked if the local side still holds the
        // task); we are on the owner thread.
        if owned_ref && !unsafe { raw::bank(task) } {
            // SAFETY: as above.
            unsafe { raw::drop_ref(task) };
        }
    } else {
        // SAFETY: forwarded.
        unsafe { remote::wake_remote(task, owned_ref) };
    }
}

/// Cancels `task` (see `JoinHandle::cancel`).
///
/// # Safety
/// `task` is live and we are on its owner thread.
pub(crate) unsafe fn cancel_task(task: NonNull<Header>) {
    // SAFETY: by the caller's guarantee.
    let header = unsafe { task.as_ref() };
    if header.has(COMPLETE) {
        return;
    }
    if header.has(RUNNING) {
        header.set(CANCEL_REQUESTED);
        return;
    }
    // SAFETY: owner thread, not running, not complete.
    unsafe { drop_future(task) };
    let finished = with_current(|core| {
        if core.id != header.owner {
            return false;
        }
        // SAFETY: our task, on our thread.
        unsafe { core.finish(task) };
        true
    });
    if finished != Some(true) {
        // The runtime is not running here: wake the awaiter now, and let the runtime
        // release its bookkeeping when it next drains its remote queue.
        // SAFETY: owner thread.
        let waker = unsafe { (*header.join_waker.get()).take() };
        if let Some(w) = waker {
            w.wake();
        }
        // SAFETY: the caller's handle keeps the task alive during the call.
        unsafe { remote::wake_remote(task, false) };
    }
}

/// Debug mode: a `JoinHandle` of a panicked task was dropped without looking at the result.
pub(crate) fn report_unobserved_panic(task: NonNull<Header>) {
    // SAFETY: the caller's handle keeps the task alive; `id` and `owner` are immutable.
    let (id, owner) = unsafe { (task.as_ref().id, task.as_ref().owner) };
    with_current(|core| {
        if core.id == owner && core.config.observe.debug {
            log::warn!(
                "weft: task {id} panicked and nobody observed it (its JoinHandle was dropped \
                 without being awaited)"
            );
        }
    });
}

/// Drops the future of a task that is neither running nor complete, and marks it complete.
///
/// # Safety
/// Owner thread; `task` live, not `RUNNING`, not `COMPLETE`.
unsafe fn drop_future(task: NonNull<Header>) {
    // SAFETY: by the caller's guarantee.
    let header = unsafe { task.as_ref() };
    // Mark first: wakes and cancels that the future's drop causes see a finished task.
    header.set(COMPLETE);
    // SAFETY: owner thread, not running.
    let panicked = unsafe { (header.vtable.cancel)(task) };
    if panicked {
        header.set(PANICKED);
        header.set_state(TaskState::Panicked);
    } else {
        header.set(CANCELLED);
        header.set_state(TaskState::Cancelled);
    }
}

impl Core {
    fn next_task_id(&self) -> u64 {
        let (next, end) = self.ids.get();
        if next < end {
            self.ids.set((next + 1, end));
            return next;
        }
        let start = NEXT_TASK_ID_BLOCK.fetch_add(TASK_ID_BLOCK, Ordering::Relaxed);
        self.ids.set((start + 1, start + TASK_ID_BLOCK));
        start
    }

    pub(crate) fn spawn<F: Future + 'static>(
        &self,
        fut: F,
        name: Option<Arc<str>>,
        priority: Priority,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output> {
        let id = self.next_task_id();
        let task = raw::allocate(
            fut,
            self.id,
            id,
            priority as u8,
            &mut self.blocks.borrow_mut(),
        );
        let slot = self.owned.borrow_mut().insert(task, name, location);
        // SAFETY: just allocated, owned by us.
        unsafe { task.as_ref() }.slot.set(slot);
        if self.observing {
            self.observe_spawn(task);
        }
        self.schedule(task);
        // SAFETY: the task was allocated with `HANDLE` set and output type `F::Output`.
        unsafe { JoinHandle::new(task) }
    }

    /// Keeps a freed task block for the next spawns (or frees it).
    ///
    /// # Safety
    /// As for `BlockCache::free`.
    pub(crate) unsafe fn free_block(&self, block: NonNull<u8>, layout: std::alloc::Layout) {
        // SAFETY: forwarded. The cache is borrowed for a few instructions, never across
        // user code, and freeing a block runs none.
        unsafe { self.blocks.borrow_mut().free(block, layout) }
    }

    /// Puts `task` on the run queue unless it is already there or finished.
    #[inline]
    pub(crate) fn schedule(&self, task: NonNull<Header>) {
        // SAFETY: callers hold a reference, and we are on the owner thread (they checked
        // `owner == self.id`, and a core is only current on its own thread).
        let header = unsafe { task.as_ref() };
        if header.has(NOTIFIED | COMPLETE) {
            return;
        }
        header.set(NOTIFIED);
        if !header.has(RUNNING) {
            header.set_state(TaskState::Scheduled);
        }
        self.queue.borrow_mut().push(task);
    }

    fn run<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = pin!(fut);
        let mut cx = Context::from_waker(&self.main_waker);
        let shared = &*self.shared;
        shared.main_woken.store(true, Ordering::Relaxed);
        loop {
            if shared.main_woken.swap(false, Ordering::Acquire) {
                let budget = self.config.budget;
                if let Poll::Ready(v) = coop::with_budget(budget, || fut.as_mut().poll(&mut cx)) {
                    return v;
                }
            }
            // A woken main future takes its turn after the tasks that were ready before it,
            // as if it sat in the queue: `yield_now` in main lets each of them run once.
            let round = self.queue.borrow().len();
            let mut ran = 0;
            while ran < self.config.event_interval {
                if ran as usize >= round && shared.main_woken.load(Ordering::Relaxed) {
                    break;
                }
                let Some(task) = self.queue.borrow_mut().pop() else {
                    break;
                };
                // SAFETY: popped from our queue, so it is ours and held (`OWNED`).
                unsafe { self.run_task(task) };
                ran += 1;
                if let Some(id) = self.panicked.take() {
                    panic!(
                        "task {id} panicked and the runtime was built with \
                         UnhandledPanic::ShutdownRuntime"
                    );
                }
            }
            self.drain_remote();
            let idle = self.queue.borrow().is_empty() && !shared.main_woken.load(Ordering::Acquire);
            if idle {
                self.park(None);
            } else if ran == self.config.event_interval {
                self.park(Some(Duration::ZERO));
            } else {
                continue;
            }
            self.drain_remote();
        }
    }

    fn park(&self, timeout: Option<Duration>) {
        if self.observing {
            observe::bump(&self.counters.parks);
        }
        self.park.borrow_mut().park(timeout);
        self.last_park.set(Instant::now());
    }

    /// A task just spent its whole budget: a sign of CPU-heavy work, where `event_interval`
    /// polls can take far longer than usual. Poll the driver (timers, I/O) if the last park
    /// is more than `MAX_DRIVER_DELAY` ago, so deadlines are not missed by whole batches.
    /// Reads the clock only on such polls, never on the common path.
    #[cold]
    fn on_budget_spent(&self) {
        if self.last_park.get().elapsed() >= MAX_DRIVER_DELAY {
            self.drain_remote();
            self.park(Some(Duration::ZERO));
            self.drain_remote();
        }
    }

    /// Moves the wakes that arrived from elsewhere onto the local queue.
    fn drain_remote(&self) {
        for entry in self.shared.take() {
            let task = entry.0;
            // SAFETY: the entry holds a reference; we are the owner thread.
            let header = unsafe { task.as_ref() };
            if header.has(COMPLETE) {
                // Cancelled while we were not running: release our bookkeeping.
                // SAFETY: our task.
                unsafe { self.finish(task) };
            } else {
                if self.observing {
                    self.observe_wake(task, true);
                }
                self.schedule(task);
            }
            // SAFETY: the entry's unit, given up.
            unsafe { raw::drop_ref(task) };
        }
    }

    /// Polls one task.
    ///
    /// # Safety
    /// `task` was popped from this core's queue.
    unsafe fn run_task(&self, task: NonNull<Header>) {
        // SAFETY: the queue entry is covered by `OWNED`.
        let header = unsafe { task.as_ref() };
        header.clear(NOTIFIED);
        if header.has(COMPLETE) {
            // Cancelled while queued.
            // SAFETY: our task.
            unsafe { self.finish(task) };
            return;
        }
        header.set(RUNNING);
        header.set_state(TaskState::Running);
        header.polls.set(header.polls.get() + 1);
        let started = if self.observing {
            self.before_poll(task)
        } else {
            None
        };
        let prev = self.current.replace(Some(task));
        // SAFETY: owner thread, held, not complete.
        let (outcome, spent) = coop::with_budget(self.config.budget, || {
            // SAFETY: owner thread, held, not complete.
            let outcome = unsafe { raw::poll_task(task) };
            (outcome, !coop::has_budget_remaining())
        });
        if spent {
            self.on_budget_spent();
        }
        self.current.set(prev);
        header.clear(RUNNING);
        if started.is_some() || self.after_poll_needed {
            self.after_poll(task, started, outcome);
        }
        match outcome {
            raw::PollOutcome::Pending => {
                if header.has(CANCEL_REQUESTED) {
                    // SAFETY: no longer running, not complete.
                    unsafe { drop_future(task) };
                    // SAFETY: our task.
                    unsafe { self.finish(task) };
                } else if header.has(NOTIFIED) {
                    header.set_state(TaskState::Scheduled);
                } else {
                    header.set_state(TaskState::Suspended);
                }
            }
            raw::PollOutcome::Complete | raw::PollOutcome::Panicked => {
                header.set(COMPLETE);
                if outcome == raw::PollOutcome::Panicked {
                    header.set(PANICKED);
                    header.set_state(TaskState::Panicked);
                } else {
                    header.set_state(TaskState::Completed);
                }
                // SAFETY: our task.
                unsafe { self.finish(task) };
            }
        }
    }

    /// Bookkeeping after a task completed: forget its slot, wake its awaiter, and let go of
    /// the runtime's reference unless the task is still queued. Idempotent.
    ///
    /// # Safety
    /// `task` is ours, live and `COMPLETE`.
    unsafe fn finish(&self, task: NonNull<Header>) {
        // SAFETY: by the caller's guarantee.
        let header = unsafe { task.as_ref() };
        let slot = header.slot.get();
        if slot != NO_SLOT {
            if self.observing {
                self.observe_terminate(task);
            }
            header.slot.set(NO_SLOT);
            self.owned.borrow_mut().remove(slot);
        }
        // SAFETY: owner thread.
        let waker = unsafe { (*header.join_waker.get()).take() };
        if let Some(w) = waker {
            w.wake();
        }
        if header.has(OWNED) && !header.has(NOTIFIED) {
            header.clear(OWNED);
            if !header.has(HANDLE) {
                // SAFETY: both local references are gone.
                unsafe { raw::release_local(task) };
            }
        }
    }

    /// Drops every unfinished task, then lets go of everything.
    fn shutdown(&self) {
        loop {
            let tasks: Vec<_> = self.owned.borrow().iter().filter_map(|s| s.task).collect();
            for &task in &tasks {
                // SAFETY: from our owned list, so live and ours.
                let header = unsafe { task.as_ref() };
                if !header.has(COMPLETE) {
                    // SAFETY: not running (we are not inside a poll), not complete.
                    unsafe { drop_future(task) };
                }
            }
            for &task in &tasks {
                // SAFETY: still held by `OWNED`.
                unsafe { self.finish(task) };
            }
            self.drain_remote();
            loop {
                let next = self.queue.borrow_mut().pop();
                let Some(task) = next else { break };
                // SAFETY: queued, so held.
                let header = unsafe { task.as_ref() };
                header.clear(NOTIFIED);
                if header.has(COMPLETE) {
                    // SAFETY: ours.
                    unsafe { self.finish(task) };
                }
                // Unfinished ones are in the owned list: the next round drops them.
            }
            if self.owned.borrow().is_empty() && self.queue.borrow().is_empty() {
                break;
            }
        }
        if let Some(pool) = self.blocking.borrow_mut().take() {
            pool.shutdown();
        }
        remote::unregister(self.id);
        for entry in self.shared.close() {
            // SAFETY: the entry's unit; the task is finished and released by us.
            unsafe { raw::drop_ref(entry.0) };
        }
    }

    pub(crate) fn spawn_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
        location: &'static Location<'static>,
    ) -> JoinHandle<T> {
        let pool = self
            .blocking
            .borrow_mut()
            .get_or_insert_with(|| {
                BlockingPool::new(
                    self.config.max_blocking_threads,
                    self.config.blocking_keep_alive,
                )
            })
            .clone();
        let fut = blocking::run(&pool, f);
        self.spawn(fut, None, Priority::Normal, location)
    }

    /// Live threads of the blocking pool.
    pub(crate) fn blocking_threads(&self) -> usize {
        self.blocking.borrow().as_ref().map_or(0, |p| p.threads())
    }

    pub(crate) fn snapshot(&self) -> Vec<crate::task::TaskSnapshot> {
        let now = Some(Instant::now());
        let owned = self.owned.borrow();
        owned
            .iter()
            .filter_map(|slot| {
                // SAFETY: tasks in the owned list are live (held by `OWNED`).
                let header = unsafe { slot.task?.as_ref() };
                Some(crate::task::TaskSnapshot {
                    id: TaskId(header.id),
                    name: slot.name.clone(),
                    state: header.task_state(),
                    priority: match header.priority {
                        0 => Priority::High,
                        1 => Priority::Normal,
                        _ => Priority::Low,
                    },
                    location: slot.location,
                    polls: header.polls.get(),
                    poll_time: self.debug_timing.then_some(slot.poll_time),
                    since_wake: now.zip(slot.last_wake).map(|(n, w)| n - w),
                })
            })
            .collect()
    }

    fn metrics(&self) -> RuntimeMetrics {
        let c = &self.counters;
        let on = self.config.observe.metrics;
        let alive = self.owned.borrow().len() as u64;
        let park = self.park.borrow().stats();
        let queue = self.queue.borrow();
        RuntimeMetrics {
            tasks_spawned: if on { c.spawned.get() } else { 0 },
            // Every spawned task is alive until it completes.
            tasks_completed: if on {
                c.spawned.get().saturating_sub(alive)
            } else {
                0
            },
            tasks_alive: alive,
            // Finished tasks' polls, plus those of the live ones.
            polls: if on {
                c.polls.get() + self.live_polls()
            } else {
                0
            },
            // Counted whenever anything observes (one test less per wake); shown with metrics.
            local_wakes: if on { c.local_wakes.get() } else { 0 },
            remote_wakes: if on { c.remote_wakes.get() } else { 0 },
            run_queue_depth: queue.len() as u64,
            max_run_queue_depth: queue.max_depth() as u64,
            parks: c.parks.get(),
            io_events: park.io_events,
            timers_fired: park.timers_fired,
            blocking_threads: self.blocking_threads() as u64,
            poll_duration: c.poll_duration.borrow().clone(),
            schedule_latency: c.schedule_latency.borrow().clone(),
        }
    }

    /// The polls of the tasks still owned: each task's header counts its own, so the run
    /// loop keeps no runtime-wide poll counter.
    fn live_polls(&self) -> u64 {
        self.owned
            .borrow()
            .iter()
            .filter_map(|s| s.task)
            // SAFETY: tasks in the owned list are live.
            .map(|t| unsafe { t.as_ref() }.polls.get())
            .sum()
    }

    fn task_info(&self, task: NonNull<Header>) -> TaskInfo {
        // SAFETY: callers pass a live task of ours.
        let header = unsafe { task.as_ref() };
        let owned = self.owned.borrow();
        let slot = owned.get(header.slot.get());
        TaskInfo {
            id: TaskId(header.id),
            name: slot.and_then(|s| s.name.clone()),
            state: header.task_state(),
            location: slot.map_or(Location::caller(), |s| s.location),
        }
    }

    /// Counts a spawn (reported with metrics) and stamps the task if the spawn is sampled
    /// (see [`sample_mask`]); runs the `on_task_spawn` hook.
    #[inline]
    fn observe_spawn(&self, task: NonNull<Header>) {
        let n = self.counters.spawned.get();
        self.counters.spawned.set(n + 1);
        let sampled = n & self.sample_mask == 0;
        if sampled || self.spawn_hook {
            self.observe_spawn_slow(task, sampled);
        }
    }

    #[cold]
    fn observe_spawn_slow(&self, task: NonNull<Header>, sampled: bool) {
        if sampled {
            self.stamp_wake(task);
        }
        if let Some(hook) = &self.config.observe.hooks.on_task_spawn {
            hook(&self.task_info(task));
        }
    }

    /// Counts a wake (whether or not metrics are on: they are reported only if they are),
    /// and stamps the task if the wake is sampled (see [`sample_mask`]). The clock is read
    /// only for those.
    #[inline]
    fn observe_wake(&self, task: NonNull<Header>, remote: bool) {
        let c = if remote {
            &self.counters.remote_wakes
        } else {
            &self.counters.local_wakes
        };
        let n = c.get();
        c.set(n + 1);
        if n & self.sample_mask == 0 {
            self.stamp_wake(task);
        }
    }

    #[cold]
    fn stamp_wake(&self, task: NonNull<Header>) {
        // SAFETY: callers pass a live task of ours.
        let header = unsafe { task.as_ref() };
        if header.has(NOTIFIED | COMPLETE) {
            return; // already queued: the first wake's stamp stands
        }
        if let Some(slot) = self.owned.borrow_mut().get_mut(header.slot.get()) {
            slot.last_wake = Some(Instant::now());
            header.set(WAKE_STAMPED);
        }
    }

    /// Runs the `on_before_poll` hook and starts timing the poll if its schedule was sampled
    /// (stamped; with a hook, every schedule is). Otherwise one test of a flag at hand.
    #[inline]
    fn before_poll(&self, task: NonNull<Header>) -> Option<Instant> {
        // SAFETY: live task of ours.
        if unsafe { task.as_ref() }.has(WAKE_STAMPED) {
            return self.before_poll_slow(task);
        }
        None
    }

    #[cold]
    fn before_poll_slow(&self, task: NonNull<Header>) -> Option<Instant> {
        if let Some(hook) = &self.config.observe.hooks.on_before_poll {
            hook(&self.task_info(task));
        }
        self.timed_poll_start(task)
    }

    #[cold]
    fn timed_poll_start(&self, task: NonNull<Header>) -> Option<Instant> {
        let now = Instant::now();
        // SAFETY: live task of ours.
        let header = unsafe { task.as_ref() };
        header.clear(WAKE_STAMPED);
        let woken = self
            .owned
            .borrow()
            .get(header.slot.get())
            .and_then(|s| s.last_wake);
        if let (true, Some(woken)) = (self.config.observe.metrics, woken) {
            self.counters
                .schedule_latency
                .borrow_mut()
                .record(now - woken);
        }
        Some(now)
    }

    fn after_poll(
        &self,
        task: NonNull<Header>,
        started: Option<Instant>,
        outcome: raw::PollOutcome,
    ) {
        // SAFETY: live task of ours (still `OWNED`: `finish` has not run yet).
        let header = unsafe { task.as_ref() };
        if let Some(started) = started {
            let took = started.elapsed();
            if self.config.observe.metrics {
                self.counters.poll_duration.borrow_mut().record(took);
            }
            if self.debug_timing {
                if let Some(slot) = self.owned.borrow_mut().get_mut(header.slot.get()) {
                    slot.poll_time += took;
                }
            }
            if self.config.observe.debug && took > self.config.observe.slow_poll_threshold {
                let info = self.task_info(task);
                log::warn!(
                    "weft: slow poll: task {} ({}) spawned at {} took {:?} in one poll \
                     (slow_poll_threshold {:?})",
                    info.id,
                    info.name.as_deref().unwrap_or("unnamed"),
                    info.location,
                    took,
                    self.config.observe.slow_poll_threshold,
                );
            }
        }
        if outcome == raw::PollOutcome::Panicked
            && self.config.observe.unhandled_panic == UnhandledPanic::ShutdownRuntime
        {
            self.panicked.set(Some(TaskId(header.id)));
        }
        if let Some(hook) = &self.config.observe.hooks.on_after_poll {
            let mut info = self.task_info(task);
            // The poll's result, before the runtime's bookkeeping below runs.
            info.state = match outcome {
                raw::PollOutcome::Pending if header.has(NOTIFIED) => TaskState::Scheduled,
                raw::PollOutcome::Pending => TaskState::Suspended,
                raw::PollOutcome::Complete => TaskState::Completed,
                raw::PollOutcome::Panicked => TaskState::Panicked,
            };
            hook(&info);
        }
    }

    /// A task leaves the owned list: its polls join the runtime's total (`tasks_completed`
    /// is `spawned - alive`, with no counter of its own). Debug warnings and the
    /// `on_task_terminate` hook take the slow path.
    #[inline]
    fn observe_terminate(&self, task: NonNull<Header>) {
        // SAFETY: live task of ours.
        let header = unsafe { task.as_ref() };
        let c = &self.counters.polls;
        c.set(c.get() + header.polls.get());
        if self.terminate_slow {
            self.observe_terminate_slow(task);
        }
    }

    #[cold]
    fn observe_terminate_slow(&self, task: NonNull<Header>) {
        // SAFETY: live task of ours.
        let header = unsafe { task.as_ref() };
        if self.config.observe.debug && header.has(PANICKED) && !header.has(HANDLE) {
            let info = self.task_info(task);
            log::warn!(
                "weft: task {} ({}) spawned at {} panicked and nobody observed it \
                 (its JoinHandle was dropped)",
                info.id,
                info.name.as_deref().unwrap_or("unnamed"),
                info.location,
            );
        }
        if let Some(hook) = &self.config.observe.hooks.on_task_terminate {
            hook(&self.task_info(task));
        }
    }

    pub(crate) fn current_task(&self) -> Option<NonNull<Header>> {
        self.current.get()
    }

    pub(crate) fn task_name(&self, task: NonNull<Header>) -> Option<Arc<str>> {
        // SAFETY: callers pass a task that is live (the one being polled).
        let slot = unsafe { task.as_ref() }.slot.get();
        self.owned.borrow().get(slot).and_then(|s| s.name.clone())
    }

    pub(crate) fn task_id(&self, task: NonNull<Header>) -> TaskId {
        // SAFETY: as above.
        TaskId(unsafe { task.as_ref() }.id)
    }
}
