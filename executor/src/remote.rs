//! Wakes that come from other threads (or from this thread while the runtime is not running).
//!
//! Each runtime registers its `Shared` part in a process-wide table under its id. A waker that
//! is not on its runtime's thread looks the id up, pushes the task (with one reference) onto the
//! runtime's mutex-protected remote queue and unparks the driver. The owner drains the queue
//! between ticks. Once the runtime is gone its id is no longer in the table, so an outlived
//! waker finds nothing and only gives up its reference.

use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::Wake;

use parking_lot::{Mutex, RwLock};

use crate::park::Unpark;
use crate::task::raw::{self, Header};

/// A task pointer travelling to its owner thread, with one unit of its `refs`.
pub(crate) struct RemoteTask(pub(crate) NonNull<Header>);

// SAFETY: the pointer carries a unit of the atomic count, which may be given up on any thread
// (`raw::drop_ref` only frees memory); the non-atomic parts of the header are touched only by
// the owner thread after it pops the entry.
unsafe impl Send for RemoteTask {}

#[derive(Default)]
pub(crate) struct RemoteQueue {
    pub(crate) tasks: Vec<RemoteTask>,
    /// Set at shutdown: later pushes give up their reference instead.
    pub(crate) closed: bool,
}

/// The part of a runtime that other threads can reach.
pub(crate) struct Shared {
    pub(crate) id: u64,
    pub(crate) remote: Mutex<RemoteQueue>,
    /// Fast check for the owner, so it locks only when there is something to take.
    pub(crate) remote_pending: AtomicBool,
    /// The `block_on` future was woken.
    pub(crate) main_woken: AtomicBool,
    pub(crate) unparker: Arc<dyn Unpark>,
}

static REGISTRY: LazyLock<RwLock<HashMap<u64, Arc<Shared>>>> = LazyLock::new(Default::default);

pub(crate) fn register(shared: &Arc<Shared>) {
    REGISTRY.write().insert(shared.id, shared.clone());
}

pub(crate) fn unregister(id: u64) {
    REGISTRY.write().remove(&id);
}

/// Sends a wake for `task` to its runtime from wherever we are.
///
/// # Safety
/// `task` is live; if `owned_ref`, the caller gives us one unit of its `refs`, otherwise it
/// holds one for the duration of the call.
#[cold]
pub(crate) unsafe fn wake_remote(task: NonNull<Header>, owned_ref: bool) {
    // SAFETY: live by the caller's guarantee; `owner` is immutable.
    let owner = unsafe { task.as_ref() }.owner;
    let shared = REGISTRY.read().get(&owner).cloned();
    match shared {
        Some(shared) => {
            if !owned_ref {
                // SAFETY: the caller holds a reference; the queue entry takes another.
                unsafe { raw::inc_ref(task) };
            }
            shared.push(RemoteTask(task));
        }
        None if owned_ref => {
            // The runtime is gone: nothing to run. SAFETY: we own this unit.
            unsafe { raw::drop_ref(task) }
        }
        None => {}
    }
}

impl Shared {
    pub(crate) fn push(&self, task: RemoteTask) {
        let mut q = self.remote.lock();
        if q.closed {
            drop(q);
            // SAFETY: the entry owns one unit, which nobody will take now.
            unsafe { raw::drop_ref(task.0) };
            return;
        }
        q.tasks.push(task);
        self.remote_pending.store(true, Ordering::Release);
        drop(q);
        self.unparker.unpark();
    }

    pub(crate) fn take(&self) -> Vec<RemoteTask> {
        if !self.remote_pending.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut q = self.remote.lock();
        self.remote_pending.store(false, Ordering::Relaxed);
        std::mem::take(&mut q.tasks)
    }

    /// Closes the queue and returns what was left in it.
    pub(crate) fn close(&self) -> Vec<RemoteTask> {
        let mut q = self.remote.lock();
        q.closed = true;
        std::mem::take(&mut q.tasks)
    }
}

/// The waker of the `block_on` future.
pub(crate) struct MainWaker(pub(crate) Arc<Shared>);

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.main_woken.store(true, Ordering::Release);
        if !crate::runtime::is_current(self.0.id) {
            self.0.unparker.unpark();
        }
    }
}
