//! loom models of a task's cross-thread life: its waker woken or dropped on another thread
//! while the owner completes the task, with the bank (`raw::bank`/`unbank`) and the block
//! cache (`cache.rs`) in play. `scripts/loom.sh`, or
//! `RUSTFLAGS="--cfg weft_loom" cargo test -p weft-executor --lib --release loom_models`.
//!
//! The harness, the raw block, the wakers and the cache are the shipped code; the scheduler
//! is a model one (`ModelSched`): its run queue is a `RefCell` on the owner thread, its
//! "current runtime" a loom thread-local, and its remote inbox a loom mutex, as the real
//! inbox is a mutex. The task block comes from loom's allocator (through `weft_core::sync`),
//! so loom fails a model that leaks the block or frees it twice; the future and its output
//! count their drops.

use std::alloc::Layout;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll, Waker};

use loom::sync::{Arc, Mutex};
use loom::thread;

use super::cache::BlockCache;
use super::harness::{Completed, Notified, OwnedTask, Owner, Received, RemoteTask, Schedule};
use super::{new_task, JoinHandle, Priority, TaskId};
use weft_core::context::RuntimeContext;

loom::thread_local! {
    /// The model scheduler running on this loom thread.
    static CURRENT: Cell<*const ModelSched> = Cell::new(std::ptr::null());
}

loom::lazy_static! {
    /// The remote inbox: wakes from threads where the scheduler is not current.
    static ref INBOX: Mutex<Vec<RemoteTask>> = Mutex::new(Vec::new());
}

struct ModelSched {
    owner: Owner,
    queue: RefCell<Vec<Notified>>,
    owned: RefCell<Option<OwnedTask>>,
    blocks: RefCell<BlockCache>,
}

// SAFETY: `with_local` calls back only on the thread where the scheduler was made current
// (a loom thread-local), which is the thread that owns its tasks.
unsafe impl Schedule for ModelSched {
    fn with_local<R>(owner: u64, f: impl FnOnce(&Self) -> R) -> Option<R> {
        let ptr = CURRENT.with(|c| c.get());
        if ptr.is_null() {
            return None;
        }
        // SAFETY: set by `run_as_current` for the duration of a borrow of the scheduler.
        let sched = unsafe { &*ptr };
        (sched.owner.id() == owner).then(|| f(sched))
    }

    fn wake_local(&self, task: Option<Notified>) {
        self.queue.borrow_mut().extend(task);
    }

    fn wake_remote(task: RemoteTask) {
        INBOX.lock().unwrap().push(task);
    }

    fn release(&self, task: Completed) {
        if let Some(owned) = self.owned.borrow_mut().take() {
            drop(owned.finish(task));
        }
    }

    fn unobserved_panic(&self, _task: TaskId) {}

    unsafe fn free_block(&self, block: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { self.blocks.borrow_mut().free(block, layout) };
    }
}

impl ModelSched {
    fn new() -> ModelSched {
        ModelSched {
            owner: Owner::new(RuntimeContext::new()),
            queue: RefCell::default(),
            owned: RefCell::default(),
            blocks: RefCell::new(BlockCache::new()),
        }
    }

    /// Runs `f` with this scheduler current on this thread.
    fn run_as_current<R>(&self, f: impl FnOnce() -> R) -> R {
        CURRENT.with(|c| c.set(self));
        let r = f();
        CURRENT.with(|c| c.set(std::ptr::null()));
        r
    }

    /// Runs the queued tasks once each; returns whether any ran.
    fn tick(&self) -> bool {
        let ready = std::mem::take(&mut *self.queue.borrow_mut());
        let ran = !ready.is_empty();
        for notified in ready {
            if let Some(running) = notified.run() {
                if let Some(done) = running.poll().end() {
                    self.release(done);
                }
            }
        }
        ran
    }

    /// Takes the remote wakes in, as the runtime's `drain_remote` does.
    fn drain_remote(&self) {
        let wakes = std::mem::take(&mut *INBOX.lock().unwrap());
        for task in wakes {
            match task.receive(&self.owner) {
                Received::Woken(n) => self.queue.borrow_mut().extend(n),
                Received::Completed(done) => self.release(done),
            }
        }
    }
}

/// Counts drops of what the task owns.
struct Counted(std::sync::Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// What the other thread does with the waker it is given.
#[derive(Clone, Copy)]
enum Remote {
    Wake,
    Drop,
}

/// The task: on its first poll, hands one waker clone to `out` (for the other thread) and
/// wakes itself by value through a second clone (which banks that unit); on its second poll
/// it finishes with an output that counts its drop.
fn task(
    out: Arc<Mutex<Option<Waker>>>,
    drops: std::sync::Arc<AtomicUsize>,
) -> impl Future<Output = Counted> {
    let mut state = Some(Counted(drops.clone()));
    let mut polls = 0;
    std::future::poll_fn(move |cx: &mut Context<'_>| {
        polls += 1;
        if polls == 1 {
            *out.lock().unwrap() = Some(cx.waker().clone());
            #[allow(clippy::waker_clone_wake)] // the point: a clone woken by value is banked
            cx.waker().clone().wake();
            return Poll::Pending;
        }
        drop(state.take()); // the future's own state
        Poll::Ready(Counted(drops.clone()))
    })
}

fn model(name: &str, remote: Remote) {
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    loom::model(move || {
        counter.fetch_add(1, Relaxed);
        let sched = ModelSched::new();
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let out: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        // The other thread waits for the waker the task gives out, then wakes or drops it.
        let other = {
            let out = out.clone();
            thread::spawn(move || {
                let waker = loop {
                    if let Some(w) = out.lock().unwrap().take() {
                        break w;
                    }
                    thread::yield_now();
                };
                match remote {
                    Remote::Wake => waker.wake(),
                    Remote::Drop => drop(waker),
                }
            })
        };
        let mut handle: JoinHandle<Counted> = sched.run_as_current(|| {
            let (owned, notified, handle) = new_task::<_, ModelSched>(
                task(out.clone(), drops.clone()),
                &sched.owner,
                TaskId(1),
                Priority::Normal,
                &mut sched.blocks.borrow_mut(),
            );
            *sched.owned.borrow_mut() = Some(owned);
            sched.queue.borrow_mut().push(notified);
            assert!(sched.tick()); // first poll: a waker goes out, a local wake queues it
            handle
        });
        // Meanwhile the owner completes the task and takes its output, and takes in
        // whatever remote wake arrived.
        let output = sched.run_as_current(|| {
            assert!(sched.tick()); // second poll: complete
            sched.drain_remote();
            while sched.tick() {}
            let waker = futures::task::noop_waker();
            match Pin::new(&mut handle).poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(out) => out.expect("the task finished"),
                Poll::Pending => panic!("the task did not finish"),
            }
        });
        drop(output);
        sched.run_as_current(|| drop(handle));
        other.join().unwrap();
        // A remote wake that arrived after the drain is taken in now (the task is done:
        // the entry only gives its unit back).
        sched.run_as_current(|| {
            sched.drain_remote();
            while sched.tick() {}
        });
        // The future's state and the output: each dropped exactly once.
        assert_eq!(drops.load(Relaxed), 2);
        // Dropping the scheduler frees the cached block; loom fails on a leak or double free.
        drop(sched);
    });
    eprintln!("loom model {name}: {} executions", runs.load(Relaxed));
}

/// The remote wake races the task's completion and its handle's drop.
#[test]
fn remote_wake_races_completion() {
    model("executor remote_wake_races_completion", Remote::Wake);
}

/// The last waker is dropped on another thread while the owner completes the task: whichever
/// side gives up the last unit frees the block, exactly once.
#[test]
fn last_waker_dropped_on_another_thread() {
    model(
        "executor last_waker_dropped_on_another_thread",
        Remote::Drop,
    );
}
