//! The hand-written `RawWaker` vtable. The data pointer is the task's header.
//!
//! A waker holds one unit of the task's atomic `refs` (see `raw.rs`), except the one the
//! harness lends to `poll`, which is never dropped. A wake finds the task's runtime through
//! its [`Schedule`]r: on the runtime's own thread, while it runs, the task is queued with no
//! lock and no atomic operation; anywhere else it travels through the runtime's remote queue.

use std::alloc::Layout;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable};

use super::harness::{self, RemoteTask, Schedule, TaskRef};
use super::raw::{self, Header, SchedulerVtable};

impl<S: Schedule> SchedulerVtable for S {
    const CANCELLED_BY_HANDLE: unsafe fn(NonNull<Header>) = harness::cancelled_by_handle::<S>;
    const UNOBSERVED_PANIC: fn(u64, u64) = harness::unobserved_panic::<S>;
    const WAKER: &'static RawWakerVTable =
        &RawWakerVTable::new(clone::<S>, wake::<S>, wake_by_ref::<S>, drop_waker::<S>);
    const FREE_LOCAL: unsafe fn(u64, NonNull<u8>, Layout) = free_local::<S>;
}

/// Whether the runtime that owns `raw` runs on this thread (so its header's owner-thread
/// parts, the bank among them, may be touched).
///
/// # Safety
/// `raw` is live.
#[inline]
unsafe fn on_owner_thread<S: Schedule>(raw: NonNull<Header>) -> bool {
    // SAFETY: live by the caller's guarantee; `owner` is immutable, readable anywhere.
    S::with_local(unsafe { raw.as_ref() }.owner, |_| ()).is_some()
}

unsafe fn clone<S: Schedule>(data: *const ()) -> RawWaker {
    let raw = header(data);
    // SAFETY: the waker being cloned keeps the task alive; the clone takes its own unit: a
    // banked one on the owner thread if there is one (see `raw.rs`), else a new one.
    unsafe {
        if !(on_owner_thread::<S>(raw) && raw::unbank(raw)) {
            raw::inc_ref(raw);
        }
    }
    RawWaker::new(data, S::WAKER)
}

unsafe fn wake<S: Schedule>(data: *const ()) {
    // SAFETY: this waker owns one unit of `refs`, handed over.
    unsafe { wake_task::<S>(header(data), true) }
}

unsafe fn wake_by_ref<S: Schedule>(data: *const ()) {
    // SAFETY: the waker (owned or borrowed) keeps the task alive during the call.
    unsafe { wake_task::<S>(header(data), false) }
}

unsafe fn drop_waker<S: Schedule>(data: *const ()) {
    let raw = header(data);
    // SAFETY: this waker owns one unit, given up here: banked on the owner thread while the
    // local side holds the task, else given back.
    unsafe {
        if !(on_owner_thread::<S>(raw) && raw::bank(raw)) {
            raw::drop_ref(raw);
        }
    }
}

/// Frees a task block on its owner's thread (see `raw::dealloc_local`).
///
/// # Safety
/// `block` is a task block allocated with `layout`, unused, holding nothing to drop.
unsafe fn free_local<S: Schedule>(owner: u64, block: NonNull<u8>, layout: Layout) {
    // SAFETY: forwarded (any runtime's cache may keep it: it is plain heap memory).
    let kept = S::with_local(owner, |runtime| unsafe {
        runtime.free_block(block, layout)
    });
    if kept.is_none() {
        // SAFETY: forwarded: allocated with `layout`.
        unsafe { weft_core::sync::alloc::dealloc(block.as_ptr(), layout) };
    }
}

/// Wakes the task `raw`.
///
/// # Safety
/// `raw` is live; if `owned_ref`, the caller hands over one unit of its `refs`, otherwise it
/// holds one for the duration of the call.
#[inline]
unsafe fn wake_task<S: Schedule>(raw: NonNull<Header>, owned_ref: bool) {
    // SAFETY: live by the caller's guarantee; `owner` is immutable, readable anywhere.
    let owner = unsafe { raw.as_ref() }.owner;
    let local = S::with_local(owner, |runtime| {
        // SAFETY: `with_local` runs this on the owner's thread (the `Schedule` contract), and
        // the caller's reference keeps the task alive for the call.
        let task = unsafe { TaskRef::new(raw) };
        runtime.wake_local(task.notify());
    });
    if local.is_some() {
        // SAFETY: the caller's unit, given up (banked if the local side still holds the
        // task); `with_local` ran, so we are on the owner thread.
        if owned_ref && !unsafe { raw::bank(raw) } {
            // SAFETY: as above.
            unsafe { raw::drop_ref(raw) };
        }
        return;
    }
    if !owned_ref {
        // SAFETY: the caller holds a reference; the remote entry takes its own unit.
        unsafe { raw::inc_ref(raw) };
    }
    // SAFETY: live, and the entry owns one unit (handed over or just taken).
    S::wake_remote(unsafe { RemoteTask::new(raw) });
}

fn header(data: *const ()) -> NonNull<Header> {
    // The data pointer was made from a `NonNull<Header>` (`raw::poll_task`, `clone`).
    NonNull::new(data as *mut Header).unwrap_or_else(|| unreachable!("null task waker"))
}
