//! Thread-per-core: several independent runtimes, one per worker thread, that share nothing
//! but channels and `Send` handles.
//!
//! [`Builder::workers(n)`](crate::Builder::workers) starts `n` threads, each with its own
//! executor, reactor and timer wheel (optionally pinned to a core), and runs the same async
//! main on each. A task never moves between workers: [`WorkersHandle::spawn_on`] sends a `Send`
//! future to a named worker, where it becomes a local task. Listeners bound with
//! [`TcpListener::bind_reuseport`](crate::net::TcpListener::bind_reuseport) let the kernel
//! spread connections between the workers.
//!
//! # Life and death of the workers
//!
//! * Start: each worker builds its runtime and reports its [`Spawner`]; once every worker
//!   has, each runs the main. A worker that cannot build its runtime stops the start, and
//!   [`Builder::start`](crate::Builder::start) returns its error.
//! * Stop: [`WorkersHandle::shutdown`] (from anywhere: a Ctrl-C task, another thread) tells
//!   every worker; mains that watch [`WorkersHandle::stopping`] finish their work and return. A main
//!   that has not returned [`shutdown_timeout`](crate::Builder::shutdown_timeout) after the
//!   stop is dropped (cancelled) with its tasks.
//! * A panic in a worker (its main, or a task under `UnhandledPanic::ShutdownRuntime`) is
//!   reported on stderr and in the result, and stops the others as a shutdown does.
//! * Join: [`Workers::join`] waits for every thread; once a stop is under way it waits at
//!   most the shutdown timeout plus [`JOIN_MARGIN`], and reports the threads that did not
//!   end by then as [`Failure::Hung`] (and leaves them detached) instead of hanging.
//!
//! # Examples
//!
//! ```
//! let outputs = weft::Builder::new()
//!     .workers(2)
//!     .run(|worker| async move {
//!         // Ask the other worker which one it is.
//!         let other = (worker.id() + 1) % worker.count();
//!         let there = worker.spawn_on(other, async { weft::workers::current().unwrap().id() });
//!         there.await.unwrap()
//!     })
//!     .unwrap();
//! assert_eq!(outputs, vec![1, 0]);
//! ```

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::thread::JoinHandle as ThreadHandle;
use std::time::{Duration, Instant};

use futures_util::future::{select, Either};
use weft_executor::metrics::RuntimeMetrics;
use weft_executor::{RemoteJoinHandle, Spawner};

use crate::sync::Event;
use crate::Builder;

mod affinity;

/// How much longer than the shutdown timeout [`Workers::join`] waits for the threads, for
/// the runtimes' own shutdown (dropping tasks, closing sockets) after the mains are done.
pub const JOIN_MARGIN: Duration = Duration::from_secs(2);

thread_local! {
    /// The worker running on this thread, if any.
    static CURRENT: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

/// The worker running on this thread, if this is a worker thread.
///
/// # Examples
///
/// ```
/// assert!(weft::workers::current().is_none());
/// let ids = weft::Builder::new()
///     .workers(1)
///     .run(|_| async { weft::workers::current().map(|w| w.id()) })
///     .unwrap();
/// assert_eq!(ids, vec![Some(0)]);
/// ```
pub fn current() -> Option<Worker> {
    CURRENT.with(|c| c.borrow().clone())
}

/// What the workers share: a spawner for each, and the stop signal.
struct Shared {
    spawners: Vec<Spawner>,
    stop: Event,
    /// Mains that have not returned yet; `all_done` is set when it reaches zero.
    running: AtomicUsize,
    all_done: Event,
    /// When the stop was first asked for: [`Workers::join`]'s bound counts from here.
    stopped_at: std::sync::Mutex<Option<Instant>>,
}

impl Shared {
    fn request_stop(&self) {
        let mut at = self.stopped_at.lock().unwrap_or_else(|e| e.into_inner());
        at.get_or_insert_with(Instant::now);
        drop(at);
        self.stop.set();
    }

    fn stopped_at(&self) -> Option<Instant> {
        *self.stopped_at.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Counts a main as done when dropped (returned, cancelled, or unwound by a panic).
struct MainDone(Arc<Shared>);

impl Drop for MainDone {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.all_done.set();
        }
    }
}

/// A `Send` handle to a set of workers: stop them, send them tasks, read their metrics.
#[derive(Clone)]
pub struct WorkersHandle {
    shared: Arc<Shared>,
}

impl WorkersHandle {
    /// How many workers there are.
    pub fn count(&self) -> usize {
        self.shared.spawners.len()
    }

    /// Asks every worker to stop (see the [module docs](self)). Idempotent.
    pub fn shutdown(&self) {
        self.shared.request_stop();
    }

    /// Whether a stop was asked for (by [`shutdown`](Self::shutdown) or a worker's panic).
    pub fn is_stopping(&self) -> bool {
        self.shared.stop.is_set()
    }

    /// Resolves once a stop is asked for: the main's cue to finish its work and return.
    pub async fn stopping(&self) {
        self.shared.stop.wait().await
    }

    /// The spawner of worker `id`: a `Send` handle that sends it tasks.
    ///
    /// # Panics
    ///
    /// If there is no worker `id`.
    #[track_caller]
    pub fn spawner(&self, id: usize) -> &Spawner {
        match self.shared.spawners.get(id) {
            Some(s) => s,
            None => panic!("no worker {id}: there are {}", self.count()),
        }
    }

    /// Runs `fut` on worker `id` as one of its tasks; the handle can be awaited anywhere.
    ///
    /// # Panics
    ///
    /// If there is no worker `id`.
    #[track_caller]
    pub fn spawn_on<F>(&self, id: usize, fut: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawner(id).spawn(fut)
    }

    /// Every worker's metrics (zero unless built with [`Builder::metrics`]), and their sum.
    /// Each worker answers from its own thread, between its tasks.
    pub async fn metrics(&self) -> WorkersMetrics {
        let asks: Vec<_> = (0..self.count())
            .map(|id| self.spawn_on(id, async { crate::runtime_metrics() }))
            .collect();
        let mut total = RuntimeMetrics::default();
        let mut workers = Vec::with_capacity(asks.len());
        for ask in asks {
            let m = ask.await.unwrap_or_default();
            total.merge(&m);
            workers.push(m);
        }
        WorkersMetrics { workers, total }
    }

    /// The task dump of every worker, one section per worker, then a line with the total.
    pub async fn dump(&self) -> String {
        let asks: Vec<_> = (0..self.count())
            .map(|id| self.spawn_on(id, async { (crate::dump(), crate::all_tasks().len()) }))
            .collect();
        let mut out = String::new();
        let mut total = 0;
        for (id, ask) in asks.into_iter().enumerate() {
            match ask.await {
                Ok((dump, n)) => {
                    total += n;
                    out.push_str(&format!("== worker {id}: {n} task(s)\n{dump}"));
                    if !dump.ends_with('\n') {
                        out.push('\n');
                    }
                }
                Err(_) => out.push_str(&format!("== worker {id}: stopped\n")),
            }
        }
        out.push_str(&format!("== all workers: {total} task(s)\n"));
        out
    }
}

impl fmt::Debug for WorkersHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkersHandle")
            .field("count", &self.count())
            .field("stopping", &self.is_stopping())
            .finish()
    }
}

/// Every worker's metrics and their aggregate ([`WorkersHandle::metrics`]).
#[derive(Clone, Debug)]
pub struct WorkersMetrics {
    /// By worker id.
    pub workers: Vec<RuntimeMetrics>,
    /// The sum of all workers' (see [`RuntimeMetrics::merge`]).
    pub total: RuntimeMetrics,
}

/// One worker, as its main sees it: its id, and a handle to all the workers.
///
/// `Send` and cheap to clone; it derefs to the [`WorkersHandle`] of all the workers.
#[derive(Clone)]
pub struct Worker {
    id: usize,
    all: WorkersHandle,
}

impl Worker {
    /// This worker's id: `0..count()`.
    pub fn id(&self) -> usize {
        self.id
    }

    /// A handle to all the workers.
    pub fn handle(&self) -> &WorkersHandle {
        &self.all
    }
}

impl std::ops::Deref for Worker {
    type Target = WorkersHandle;

    fn deref(&self) -> &WorkersHandle {
        &self.all
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .field("count", &self.count())
            .finish()
    }
}

/// Why a worker gave no output.
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// Its main (or a task, under `UnhandledPanic::ShutdownRuntime`) panicked, with this
    /// message.
    Panicked(String),
    /// Its main had not returned `shutdown_timeout` after a stop: it was dropped.
    Cancelled,
    /// Its thread had not ended within the join bound: it was left detached.
    Hung,
    /// The workers could not start (a thread or a runtime could not be made).
    NotStarted(io::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Panicked(m) => write!(f, "panicked: {m}"),
            Failure::Cancelled => f.write_str("did not stop within the shutdown timeout"),
            Failure::Hung => f.write_str("thread did not end within the join bound"),
            Failure::NotStarted(e) => write!(f, "could not start: {e}"),
        }
    }
}

/// Error of [`Workers::join`] and [`Builder::run`]: the workers that gave no output.
#[derive(Debug)]
pub struct WorkersError {
    /// `(worker id, why)`, by id.
    pub failures: Vec<(usize, Failure)>,
}

impl fmt::Display for WorkersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (id, why)) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "worker {id} {why}")?;
        }
        Ok(())
    }
}

impl std::error::Error for WorkersError {}

/// Running workers ([`Builder::start`]): a handle to them, and their threads to join.
#[must_use = "dropping Workers detaches the worker threads; call .join()"]
pub struct Workers<T> {
    handle: WorkersHandle,
    threads: Vec<ThreadHandle<()>>,
    results: std_mpsc::Receiver<(usize, Result<T, Failure>)>,
    shutdown_timeout: Duration,
}

impl<T> Workers<T> {
    /// A `Send` handle to the workers.
    pub fn handle(&self) -> &WorkersHandle {
        &self.handle
    }

    /// Waits for every worker to end and returns their outputs by id. Without a stop it
    /// waits as long as the mains run; once a stop is under way (or a worker panicked), at
    /// most the shutdown timeout plus [`JOIN_MARGIN`].
    ///
    /// # Errors
    ///
    /// Which workers panicked, were cancelled at the shutdown timeout, or did not end.
    pub fn join(self) -> Result<Vec<T>, WorkersError> {
        let n = self.threads.len();
        let mut outputs: Vec<Option<Result<T, Failure>>> = (0..n).map(|_| None).collect();
        let mut left = n;
        let mut deadline: Option<Instant> = None;
        while left > 0 {
            if deadline.is_none() {
                deadline = self
                    .handle
                    .shared
                    .stopped_at()
                    .map(|at| at + self.shutdown_timeout + JOIN_MARGIN);
            }
            // Without a stop, wake up now and then to notice one asked for from elsewhere;
            // the bound counts from when it was asked, so seldom is enough (and keeps this
            // thread off the workers' cores).
            let wait = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_millis(500),
            };
            match self.results.recv_timeout(wait) {
                Ok((id, r)) => {
                    if matches!(r, Err(Failure::Panicked(_))) {
                        self.handle.shutdown();
                    }
                    outputs[id] = Some(r);
                    left -= 1;
                }
                Err(std_mpsc::RecvTimeoutError::Timeout) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                }
                // Every thread sends before it ends; all gone means all sent.
                Err(std_mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        for (id, t) in self.threads.into_iter().enumerate() {
            if outputs[id].is_some() {
                // It sent its result, so it is at most dropping its thread-locals.
                let _ = t.join();
            }
        }
        let mut ok = Vec::with_capacity(n);
        let mut failures = Vec::new();
        for (id, out) in outputs.into_iter().enumerate() {
            match out {
                Some(Ok(v)) => ok.push(v),
                Some(Err(why)) => failures.push((id, why)),
                None => failures.push((id, Failure::Hung)),
            }
        }
        if failures.is_empty() {
            Ok(ok)
        } else {
            Err(WorkersError { failures })
        }
    }
}

impl<T> fmt::Debug for Workers<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workers")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

/// What each worker needs of the builder: its `Send` settings.
#[derive(Clone)]
pub(crate) struct Seed {
    pub(crate) builder: crate::runtime::SendSettings,
    pub(crate) pin: bool,
    pub(crate) shutdown_timeout: Duration,
}

/// The number of workers `workers(0)` means: the cores this process may run on.
pub(crate) fn auto_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub(crate) fn start<F, Fut>(seed: Seed, n: usize, main: F) -> io::Result<Workers<Fut::Output>>
where
    F: Fn(Worker) -> Fut + Send + Sync + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    // Before any thread starts (see `Builder::build`).
    weft_channel::prepare_fences();
    let main = Arc::new(main);
    let cores = if seed.pin {
        affinity::allowed_cores()
    } else {
        Vec::new()
    };
    let (ready_tx, ready_rx) = std_mpsc::channel::<(usize, io::Result<Spawner>)>();
    let (results_tx, results) = std_mpsc::channel();
    let mut gos = Vec::with_capacity(n);
    let mut threads = Vec::with_capacity(n);
    for id in 0..n {
        let (go_tx, go_rx) = std_mpsc::channel::<Option<Arc<Shared>>>();
        gos.push(go_tx);
        let seed = seed.clone();
        let main = main.clone();
        let core = (!cores.is_empty()).then(|| cores[id % cores.len()]);
        let ready_tx = ready_tx.clone();
        let results_tx = results_tx.clone();
        let thread = std::thread::Builder::new()
            .name(format!("weft-worker-{id}"))
            .spawn(move || {
                worker_thread(id, core, seed, &*main, ready_tx, go_rx, results_tx);
            });
        match thread {
            Ok(t) => threads.push(t),
            Err(e) => {
                drop(gos); // the started threads see their go channel closed and end
                return Err(e);
            }
        }
    }
    drop(ready_tx);
    let mut spawners: Vec<Option<Spawner>> = (0..n).map(|_| None).collect();
    let mut failed = None;
    for _ in 0..n {
        match ready_rx.recv() {
            Ok((id, Ok(s))) => spawners[id] = Some(s),
            Ok((_, Err(e))) => {
                failed.get_or_insert(e);
            }
            Err(_) => {
                failed.get_or_insert(io::Error::other("a worker thread ended while starting"));
                break;
            }
        }
    }
    if let Some(e) = failed {
        drop(gos);
        for t in threads {
            let _ = t.join();
        }
        return Err(e);
    }
    let shared = Arc::new(Shared {
        spawners: spawners
            .into_iter()
            .map(|s| s.expect("every worker reported"))
            .collect(),
        stop: Event::new(),
        running: AtomicUsize::new(n),
        all_done: Event::new(),
        stopped_at: std::sync::Mutex::new(None),
    });
    for go in gos {
        let _ = go.send(Some(shared.clone()));
    }
    Ok(Workers {
        handle: WorkersHandle { shared },
        threads,
        results,
        shutdown_timeout: seed.shutdown_timeout,
    })
}

fn worker_thread<F, Fut>(
    id: usize,
    core: Option<usize>,
    seed: Seed,
    main: &F,
    ready: std_mpsc::Sender<(usize, io::Result<Spawner>)>,
    go: std_mpsc::Receiver<Option<Arc<Shared>>>,
    results: std_mpsc::Sender<(usize, Result<Fut::Output, Failure>)>,
) where
    F: Fn(Worker) -> Fut,
    Fut: Future,
{
    if let Some(core) = core {
        if let Err(e) = affinity::pin_to(core) {
            eprintln!("weft: worker {id}: could not pin to core {core}: {e}");
        }
    }
    let rt = match seed.builder.builder().build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send((id, Err(e)));
            return;
        }
    };
    let _ = ready.send((id, Ok(rt.handle().spawner())));
    let Ok(Some(shared)) = go.recv() else {
        return; // the start failed elsewhere
    };
    let worker = Worker {
        id,
        all: WorkersHandle {
            shared: shared.clone(),
        },
    };
    CURRENT.with(|c| *c.borrow_mut() = Some(worker.clone()));
    let grace = seed.shutdown_timeout;
    let mut done = Some(MainDone(shared.clone()));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let out = rt.block_on(async {
            let main = pin!(main(worker));
            let mut forced = pin!(async {
                shared.stop.wait().await;
                crate::sleep(grace).await;
            });
            let out = match select(main, forced.as_mut()).await {
                Either::Left((out, _)) => out,
                Either::Right(((), _)) => {
                    drop(done.take());
                    return None;
                }
            };
            drop(done.take());
            // Keep serving the other workers' `spawn_on`s until every main has returned
            // (or the stop's grace ends): a worker does not vanish under its peers.
            select(pin!(shared.all_done.wait()), forced).await;
            Some(out)
        });
        drop(rt); // its tasks' drops run here, inside the guard
        out
    }));
    drop(done); // a panic skipped the drop above
    CURRENT.with(|c| c.borrow_mut().take());
    let result = match outcome {
        Ok(Some(out)) => Ok(out),
        Ok(None) => Err(Failure::Cancelled),
        Err(payload) => {
            let msg = weft_core::panic_message(&*payload)
                .unwrap_or("(a panic with no message)")
                .to_owned();
            eprintln!("weft: worker {id} panicked ({msg}): stopping the other workers");
            shared.request_stop();
            Err(Failure::Panicked(msg))
        }
    };
    let _ = results.send((id, result));
}

/// How an `async fn main` run on every worker (`#[weft::main(workers = N)]`) combines their
/// outputs into one: `()`, or the first error.
pub trait MainOutput: Sized {
    /// One output from every worker's.
    fn combine(outputs: Vec<Self>) -> Self;
}

impl MainOutput for () {
    fn combine(_: Vec<()>) {}
}

impl<E> MainOutput for Result<(), E> {
    fn combine(outputs: Vec<Self>) -> Self {
        outputs.into_iter().collect()
    }
}

/// Support of `#[weft::main(workers = N)]`; not public API.
#[doc(hidden)]
#[track_caller]
pub fn __main<F, Fut>(workers: usize, start_paused: bool, main: F) -> Fut::Output
where
    F: Fn(Worker) -> Fut + Send + Sync + 'static,
    Fut: Future + 'static,
    Fut::Output: MainOutput + Send + 'static,
{
    let builder = Builder::new().workers(workers).start_paused(start_paused);
    match builder.run(main) {
        Ok(outputs) => MainOutput::combine(outputs),
        Err(e) => panic!("weft: {e}"),
    }
}
