//! The run loop.
//!
//! ```text
//! block_on(fut):  enter the runtime's context, then
//!   loop {
//!       poll fut if it was woken                      (with a fresh budget)
//!       run up to `event_interval` tasks from the queue (each with a fresh budget)
//!       take the wakes other threads sent             (the remote queue)
//!       park in the driver: not at all if tasks are still ready and the interval is not
//!       spent, for zero time if it is, until woken if nothing is ready
//!   }
//! ```
//!
//! The loop holds tasks only as the harness's tokens (`task/harness.rs`); the state it runs
//! on is the `Scheduler` (`scheduler.rs`).

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use weft_core::context::{self, RuntimeContext};
use weft_core::coop;

use crate::config::Config;
use crate::observe::{dump, RuntimeMetrics, TaskSnapshot};
use crate::park::{Park, ThreadPark};
use crate::remote;
use crate::scheduler::{CurrentTask, Scheduler};
use crate::spawner::Spawner;
use crate::task::harness::{Notified, Owner, Polled, Running};
use crate::task::{JoinHandle, Priority};

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
    sched: Rc<Scheduler>,
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

    /// A runtime that parks in `park` (the reactor's driver, usually), with the default
    /// [`Config`].
    pub fn with_park(park: impl Park + 'static) -> Runtime {
        Runtime::with_config(park, Config::default())
    }

    /// A runtime that parks in `park`, configured by `config`. The driver adds its handles
    /// to the runtime's context ([`Park::register`]), which `block_on` enters.
    pub fn with_config(park: impl Park + 'static, config: Config) -> Runtime {
        let mut cx = RuntimeContext::new();
        park.register(&mut cx);
        let owner = Owner::new(cx);
        Runtime {
            sched: Rc::new(Scheduler::new(owner, Box::new(park), config.sanitized())),
        }
    }

    /// This runtime's id (unique in the process).
    pub fn id(&self) -> u64 {
        self.sched.owner.id()
    }

    /// Runs `fut` to completion on this thread, running spawned tasks meanwhile.
    ///
    /// # Panics
    ///
    /// If called from inside a weft runtime (a task cannot block its own thread: `.await`
    /// instead), and with the panic of `fut` itself if it panics.
    #[track_caller]
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        if context::in_runtime() {
            panic!(
                "cannot block_on inside a weft runtime: this thread is already running one \
                 (a task must not block its own thread; use `.await` instead)"
            );
        }
        let sched = &*self.sched;
        sched
            .owner
            .context()
            .enter(|| sched.enter(|| sched.run(fut)))
    }

    /// Spawns a task on this runtime from outside it; it runs during the next `block_on`.
    #[track_caller]
    pub fn spawn<F: Future + 'static>(&self, fut: F) -> JoinHandle<F::Output> {
        self.sched
            .spawn(fut, None, Priority::Normal, Location::caller())
    }

    /// A `Send` handle that spawns `Send` futures onto this runtime from any thread (see
    /// [`Spawner`]).
    pub fn spawner(&self) -> Spawner {
        Spawner::new(self.sched.inbox.clone())
    }

    /// A snapshot of the runtime's metrics (counters are zero unless built with
    /// [`Config::metrics`]).
    pub fn metrics(&self) -> RuntimeMetrics {
        self.sched.metrics()
    }

    /// A readable table of every live task (see [`crate::dump`]).
    pub fn dump(&self) -> String {
        dump::render(&self.sched.snapshot())
    }

    /// Every live task (see [`crate::all_tasks`]).
    pub fn all_tasks(&self) -> Vec<TaskSnapshot> {
        self.sched.snapshot()
    }

    /// Live threads of this runtime's blocking pool.
    pub fn blocking_threads(&self) -> usize {
        self.sched.blocking_threads()
    }

    /// The number of tasks that have not finished yet.
    pub fn alive_tasks(&self) -> usize {
        self.sched.owned.borrow().len()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Inside the context, so the futures dropped here can take their timers and sockets
        // out of the driver.
        let sched = &*self.sched;
        sched
            .owner
            .context()
            .enter(|| sched.enter(|| sched.shutdown()));
    }
}

impl Scheduler {
    fn run<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = pin!(fut);
        let mut cx = Context::from_waker(&self.main_waker);
        let inbox = &*self.inbox;
        inbox.main_woken.store(true, Ordering::Relaxed);
        // Wakes that came while no `block_on` ran (from this thread too, as a channel send
        // between two `block_on`s) went to the remote queue: queue them before main's first
        // turn, so that those tasks run in this `block_on`, as they would in tokio's.
        self.drain_remote();
        // Polls (of `fut` and of tasks) since the driver was last polled. A main future that
        // keeps waking itself (its coop budget spent on a socket whose readiness is stale,
        // say) must still let the driver run every `event_interval` polls, or the event that
        // would end its loop never comes in.
        let mut since_park = 0u32;
        loop {
            if inbox.main_woken.swap(false, Ordering::Acquire) {
                since_park += 1;
                let (poll, spent) = coop::with_budget(self.config.budget, || {
                    let poll = fut.as_mut().poll(&mut cx);
                    (poll, !coop::has_budget_remaining())
                });
                if let Poll::Ready(v) = poll {
                    return v;
                }
                // As for a task: a main future that keeps spending its budget (a loop on an
                // always-ready resource) must not hold the driver back, or its own timeouts
                // never fire.
                if spent {
                    self.on_budget_spent();
                }
            }
            // A woken main future takes its turn after the tasks that were ready before it,
            // as if it sat in the queue: `yield_now` in main lets each of them run once.
            let round = self.queue.borrow().len();
            let mut ran = 0;
            while ran < self.config.event_interval {
                if ran as usize >= round && inbox.main_woken.load(Ordering::Relaxed) {
                    break;
                }
                let Some(task) = self.queue.borrow_mut().pop() else {
                    break;
                };
                self.run_task(task);
                ran += 1;
                if let Some(id) = self.panicked.take() {
                    panic!(
                        "task {id} panicked and the runtime was built with \
                         UnhandledPanic::ShutdownRuntime"
                    );
                }
            }
            self.drain_remote();
            since_park += ran;
            if self.is_idle() && self.before_park() {
                self.park(None);
            } else if since_park >= self.config.event_interval {
                self.park(Some(Duration::ZERO));
            } else {
                continue;
            }
            since_park = 0;
            self.drain_remote();
        }
    }

    /// Polls one task taken from the queue.
    #[inline]
    fn run_task(&self, task: Notified) {
        // `None`: it finished (was cancelled) while queued; the queue's reference is gone.
        let Some(task) = task.run() else { return };
        if self.observer.active() {
            return self.run_task_observed(task);
        }
        let polled = self.poll(task);
        if let Some(done) = polled.end() {
            self.finish(done);
        }
    }

    /// [`run_task`](Self::run_task) when something observes: hooks, timing, the panic policy.
    #[cold]
    #[inline(never)]
    fn run_task_observed(&self, task: Running) {
        let started = self.observer.before_poll(&task, &self.owned);
        let polled = self.poll(task);
        if self.observer.wants_after_poll(started) {
            if let Some(id) = self.observer.after_poll(&polled, started, &self.owned) {
                self.panicked.set(Some(id));
            }
        }
        if let Some(done) = polled.end() {
            self.finish(done);
        }
    }

    /// One poll of a task, with a fresh budget, as the thread's current task.
    #[inline]
    fn poll(&self, task: Running) -> Polled {
        let t = task.task();
        let prev = self.current.replace(CurrentTask::new(t.id(), t.slot()));
        let (polled, spent) = coop::with_budget(self.config.budget, || {
            let polled = task.poll();
            (polled, !coop::has_budget_remaining())
        });
        self.current.set(prev);
        if spent {
            self.on_budget_spent();
        }
        polled
    }

    /// Nothing to run: the queue is empty and the main future was not woken.
    fn is_idle(&self) -> bool {
        self.queue.borrow().is_empty() && !self.inbox.main_woken.load(Ordering::Acquire)
    }

    /// Runs the `on_thread_park` hook, if any, before an idle park; returns whether the
    /// runtime is still idle (the hook may have woken something on this thread, where a wake
    /// does not unpark).
    fn before_park(&self) -> bool {
        let Some(hook) = self.config.on_thread_park.clone() else {
            return true;
        };
        hook();
        self.drain_remote();
        self.is_idle()
    }

    fn park(&self, timeout: Option<Duration>) {
        self.observer.on_park();
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

    /// Drops every unfinished task, then lets go of everything. Futures dropped here may
    /// spawn tasks, wake others or drop handles: the loop goes on until nothing is left.
    fn shutdown(&self) {
        loop {
            let tasks = self.owned.borrow_mut().drain();
            // Every task leaves the list before any future is dropped: a drop that cancels
            // another drained task (a JoinSet's, a guard's JoinHandle) must find it gone.
            for slot in &tasks {
                slot.task.leave_owned_list();
            }
            // Every future next (user code, run with no borrow held), so that the drops see
            // each other's tasks as finished; then the bookkeeping of each end.
            for slot in &tasks {
                slot.task.cancel_for_shutdown();
            }
            for slot in tasks {
                if self.observer.active() {
                    self.observer.on_terminate(&slot);
                }
                if let Some(w) = slot.task.close() {
                    w.wake();
                }
            }
            self.drain_remote();
            loop {
                let next = self.queue.borrow_mut().pop();
                let Some(task) = next else { break };
                drop(task);
            }
            if self.owned.borrow().is_empty() && self.queue.borrow().is_empty() {
                break;
            }
        }
        self.shutdown_blocking();
        remote::unregister(self.owner.id());
        drop(self.inbox.close());
    }

    pub(crate) fn snapshot(&self) -> Vec<TaskSnapshot> {
        self.observer.snapshot(&self.owned.borrow())
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        let park = self.park.borrow().stats();
        self.observer.metrics(
            &self.owned.borrow(),
            &self.queue.borrow(),
            park,
            self.blocking_threads(),
        )
    }
}
