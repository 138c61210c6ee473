//! Wakes that come from other threads (or from this thread while the runtime is not running).
//!
//! Each runtime registers its `Inbox` part in a process-wide table under its id. A waker that
//! is not on its runtime's thread looks the id up, pushes the task (with one reference) onto the
//! runtime's mutex-protected remote queue and unparks the driver. The owner drains the queue
//! between ticks. Once the runtime is gone its id is no longer in the table, so an outlived
//! waker finds nothing and only gives up its reference.
//!
//! The same queue carries tasks that other threads spawn onto the runtime (`spawner.rs`):
//! `Send` futures, boxed, which the owner turns into local tasks when it drains the queue.
//! They share the wakes' `remote_pending` flag, so a runtime nobody spawns onto from afar
//! pays nothing for them.

use std::collections::HashMap;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Wake, Waker};
use weft_core::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};

use crate::park::Unpark;
use crate::task::harness::RemoteTask;

/// A task spawned from another thread, on its way to the runtime that will own it.
pub(crate) struct RemoteSpawn {
    pub(crate) fut: Pin<Box<dyn Future<Output = ()> + Send>>,
    pub(crate) location: &'static Location<'static>,
}

#[derive(Default)]
pub(crate) struct RemoteQueue {
    pub(crate) tasks: Vec<RemoteTask>,
    pub(crate) spawns: Vec<RemoteSpawn>,
    /// Set at shutdown: later pushes give up their reference instead.
    pub(crate) closed: bool,
}

/// The part of a runtime that other threads can reach.
pub(crate) struct Inbox {
    pub(crate) id: u64,
    pub(crate) remote: Mutex<RemoteQueue>,
    /// Fast check for the owner, so it locks only when there is something to take.
    pub(crate) remote_pending: AtomicBool,
    /// The `block_on` future was woken.
    pub(crate) main_woken: AtomicBool,
    pub(crate) unparker: Arc<dyn Unpark>,
}

static REGISTRY: LazyLock<RwLock<HashMap<u64, Arc<Inbox>>>> = LazyLock::new(Default::default);

pub(crate) fn register(inbox: &Arc<Inbox>) {
    REGISTRY.write().insert(inbox.id, inbox.clone());
}

pub(crate) fn unregister(id: u64) {
    REGISTRY.write().remove(&id);
}

/// Sends a wake to its task's runtime from wherever we are; if the runtime is gone, the wake
/// is dropped (and with it its reference).
#[cold]
pub(crate) fn wake_remote(task: RemoteTask) {
    let inbox = REGISTRY.read().get(&task.owner()).cloned();
    if let Some(inbox) = inbox {
        inbox.push(task);
    }
}

impl Inbox {
    pub(crate) fn new(id: u64, unparker: Arc<dyn Unpark>) -> Arc<Inbox> {
        Arc::new(Inbox {
            id,
            remote: Mutex::new(RemoteQueue::default()),
            remote_pending: AtomicBool::new(false),
            main_woken: AtomicBool::new(false),
            unparker,
        })
    }

    /// The waker of the runtime's `block_on` future.
    pub(crate) fn main_waker(inbox: &Arc<Inbox>) -> Waker {
        Waker::from(Arc::new(MainWaker(inbox.clone())))
    }

    pub(crate) fn push(&self, task: RemoteTask) {
        let mut q = self.remote.lock();
        if q.closed {
            drop(q);
            drop(task); // nobody will take it now: give up its reference
            return;
        }
        q.tasks.push(task);
        self.remote_pending.store(true, Ordering::Release);
        drop(q);
        self.unparker.unpark();
    }

    /// Queues a task spawned from another thread; gives it back if the runtime is gone.
    pub(crate) fn push_spawn(&self, spawn: RemoteSpawn) -> Result<(), RemoteSpawn> {
        let mut q = self.remote.lock();
        if q.closed {
            return Err(spawn);
        }
        q.spawns.push(spawn);
        self.remote_pending.store(true, Ordering::Release);
        drop(q);
        self.unparker.unpark();
        Ok(())
    }

    /// Whether anything waits in the queue (the owner's fast check before [`take`]).
    ///
    /// [`take`]: Inbox::take
    #[inline]
    pub(crate) fn pending(&self) -> bool {
        self.remote_pending.load(Ordering::Acquire)
    }

    /// Takes the wakes and the spawns waiting in the queue.
    pub(crate) fn take(&self) -> (Vec<RemoteTask>, Vec<RemoteSpawn>) {
        let mut q = self.remote.lock();
        self.remote_pending.store(false, Ordering::Relaxed);
        (std::mem::take(&mut q.tasks), std::mem::take(&mut q.spawns))
    }

    /// Closes the queue and returns what was left in it.
    pub(crate) fn close(&self) -> (Vec<RemoteTask>, Vec<RemoteSpawn>) {
        let mut q = self.remote.lock();
        q.closed = true;
        (std::mem::take(&mut q.tasks), std::mem::take(&mut q.spawns))
    }

    /// Whether the runtime has shut down (its queue takes nothing more).
    pub(crate) fn is_closed(&self) -> bool {
        self.remote.lock().closed
    }
}

/// The waker of the `block_on` future.
struct MainWaker(Arc<Inbox>);

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.main_woken.store(true, Ordering::Release);
        // On the runtime's own thread while it runs, the loop sees the flag without help.
        if weft_core::context::current_id().map(|id| id.as_u64()) != Some(self.0.id) {
            self.0.unparker.unpark();
        }
    }
}
