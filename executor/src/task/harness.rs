//! The harness: every change of a task's flags and state, behind a safe API for the runtime.
//!
//! The runtime never touches a header. It holds *tokens*, each the one holder of a local
//! reference (see `raw.rs`), and *proofs* of a state:
//!
//! | type | flag it holds | held by | made by | gone by |
//! |---|---|---|---|---|
//! | [`OwnedTask`] | `OWNED` | the owned list | `new_task` | [`OwnedTask::finish`], [`OwnedTask::close`] |
//! | [`Notified`] | `NOTIFIED` | the run queue | `new_task`, [`TaskRef::notify`] | [`Notified::run`], drop |
//! | [`Running`] / [`Polled`] | `RUNNING` | the loop, for one poll | [`Notified::run`] | [`Polled::end`] |
//! | `JoinHandle` | `HANDLE` | the user | `new_task` | drop |
//! | [`Completed`] | — | the loop | [`Polled::end`], a cancel, [`RemoteTask::receive`] | [`OwnedTask::finish`] |
//!
//! Tokens are neither `Clone` nor `Send`, and each flag is set exactly while its token lives,
//! so safe code cannot keep a task's memory past its last reference, nor touch a task off its
//! owner's thread. A [`Completed`] exists at most once per task: making one takes the task's
//! owned-list slot out of its header.
//!
//! ```text
//!   new_task ──► Notified ──run──► Running ──poll──► Polled ──end──┬─► (Pending) ◄─ a wake makes
//!                  ▲                                               │      a new Notified
//!                  └───────────── TaskRef::notify ◄── wake ────────┘
//!                                                                  └─► Completed ──► OwnedTask::finish
//!   JoinHandle::cancel (not running) ──► Completed (runtime current) or a RemoteTask to it
//! ```
//!
//! The runtime is the [`Schedule`] implementor; wakers and handles reach it only through that
//! trait, so this module imports nothing from the runtime.

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::task::Waker;

use weft_core::context::RuntimeContext;

use super::raw::{self, Header, PollOutcome, NO_SLOT};
use super::state::flags::*;
use super::state::{Priority, TaskId, TaskState};

/// The runtime that owns tasks, as its tasks' wakers and handles see it.
///
/// # Safety
///
/// `with_local(owner, f)` must call `f` only on the thread of the runtime whose id is `owner`
/// (and pass that runtime). A task's flags, state and stage are plain `Cell`s that only that
/// thread may touch; the harness touches them inside `f` on the strength of this promise.
pub(crate) unsafe trait Schedule: Sized + 'static {
    /// Calls `f` with the runtime `owner` if it is running on this thread.
    fn with_local<R>(owner: u64, f: impl FnOnce(&Self) -> R) -> Option<R>;

    /// A wake on the owner's thread. `task` is `None` when the task was already queued or has
    /// finished (the wake still counts, for the metrics).
    fn wake_local(&self, task: Option<Notified>);

    /// A wake from another thread, or on the owner's thread while its runtime is not
    /// running: the runtime's remote queue takes it (or drops it, if the runtime is gone).
    fn wake_remote(task: RemoteTask);

    /// A task ended outside a poll (cancelled through a handle): the runtime forgets it.
    fn release(&self, task: Completed);

    /// A `JoinHandle` of a task that panicked was dropped unread (debug mode reports it).
    fn unobserved_panic(&self, task: TaskId);

    /// Keeps a freed task block for the next spawns, or frees it (`cache.rs`).
    ///
    /// # Safety
    /// `block` was allocated with `layout` (a `cache::block_layout`), nothing uses it, and it
    /// holds nothing that needs dropping.
    unsafe fn free_block(&self, block: std::ptr::NonNull<u8>, layout: std::alloc::Layout);
}

/// A runtime's identity as the owner of its tasks. It owns the runtime's context, which is
/// `!Send` and whose id is unique in the process, so an `&Owner` can only be had on the
/// thread of the runtime with that id.
pub(crate) struct Owner {
    cx: RuntimeContext,
}

impl Owner {
    pub(crate) fn new(cx: RuntimeContext) -> Owner {
        Owner { cx }
    }

    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.cx.id().as_u64()
    }

    /// The runtime's context, to enter while it runs.
    pub(crate) fn context(&self) -> &RuntimeContext {
        &self.cx
    }
}

/// Clears the local reference `flag` and releases the task if it was the last one.
///
/// # Safety
/// Owner thread; the task is live; the caller held `flag` (it is the token for it).
#[inline]
pub(crate) unsafe fn drop_local(raw: NonNull<Header>, flag: u16) {
    // SAFETY: the caller's token kept the task alive until now.
    let header = unsafe { raw.as_ref() };
    header.clear(flag);
    if !header.has(LOCAL) {
        // SAFETY: owner thread, and that was the last local reference.
        unsafe { raw::release_local(raw) };
    }
}

/// A borrowed view of a live task, on its owner's thread.
///
/// It keeps the raw pointer rather than a `&Header`: a pointer made from a reference to the
/// header may only reach the header, and tokens made here must reach the whole block.
#[derive(Clone, Copy)]
pub(crate) struct TaskRef<'a> {
    raw: NonNull<Header>,
    _task: PhantomData<&'a Header>,
}

impl<'a> TaskRef<'a> {
    /// # Safety
    /// Owner thread; the task stays alive for `'a`.
    #[inline]
    pub(crate) unsafe fn new(raw: NonNull<Header>) -> TaskRef<'a> {
        TaskRef {
            raw,
            _task: PhantomData,
        }
    }

    #[inline]
    fn header(self) -> &'a Header {
        // SAFETY: alive for `'a` and on the owner's thread, by `new`'s contract.
        unsafe { self.raw.as_ref() }
    }

    pub(crate) fn id(self) -> TaskId {
        TaskId(self.header().id)
    }

    pub(crate) fn state(self) -> TaskState {
        self.header().task_state()
    }

    pub(crate) fn priority(self) -> Priority {
        Priority::from_u8(self.header().priority)
    }

    /// The run-queue level of the task's priority (0 is the most urgent).
    #[inline]
    pub(crate) fn level(self) -> usize {
        usize::from(self.header().priority)
    }

    pub(crate) fn polls(self) -> u64 {
        self.header().polls.get()
    }

    /// The task's index in its runtime's owned list, until it leaves it.
    pub(crate) fn slot(self) -> Option<u32> {
        let slot = self.header().slot.get();
        (slot != NO_SLOT).then_some(slot)
    }

    pub(crate) fn is_panicked(self) -> bool {
        self.header().has(PANICKED)
    }

    pub(crate) fn has_handle(self) -> bool {
        self.header().has(HANDLE)
    }

    /// A wake: queues the task unless it is already queued or has finished. The returned
    /// token goes into the run queue.
    #[inline]
    pub(crate) fn notify(self) -> Option<Notified> {
        let header = self.header();
        if header.has(NOTIFIED | COMPLETE) {
            return None;
        }
        header.set(NOTIFIED);
        if !header.has(RUNNING) {
            header.set_state(TaskState::Scheduled);
        }
        Some(Notified { raw: self.raw })
    }
}

/// The runtime's hold on a task, in its owned list, from spawn until the runtime has done its
/// bookkeeping for the task's end (the `OWNED` reference).
pub(crate) struct OwnedTask {
    raw: NonNull<Header>,
}

impl OwnedTask {
    /// # Safety
    /// `raw` is live, ours, and its `OWNED` flag is set for this token alone.
    pub(crate) unsafe fn new(raw: NonNull<Header>) -> OwnedTask {
        OwnedTask { raw }
    }

    #[inline]
    pub(crate) fn task(&self) -> TaskRef<'_> {
        // SAFETY: `OWNED` keeps the task alive; the token is `!Send`, so we are on the owner's
        // thread.
        unsafe { TaskRef::new(self.raw) }
    }

    /// Records the task's index in the owned list.
    pub(crate) fn set_slot(&self, slot: u32) {
        self.task().header().slot.set(slot);
    }

    /// Ends the runtime's hold on a task whose end (`done`) it has accounted for: returns the
    /// waker of the task's awaiter, to be woken once the runtime's state is consistent.
    pub(crate) fn finish(self, done: Completed) -> Option<Waker> {
        debug_assert_eq!(
            done.id,
            self.task().id(),
            "finish with another task's proof"
        );
        self.close()
    }

    /// At shutdown, marks the task as out of the owned list (which the runtime has drained):
    /// a cancel that reaches it from now on (from another task's drop) has nothing to remove.
    pub(crate) fn leave_owned_list(&self) {
        self.task().header().slot.set(NO_SLOT);
    }

    /// At shutdown, once every drained task has [left the owned
    /// list](Self::leave_owned_list): drops the task's future if it has not finished. This
    /// runs the future's drop, which is user code.
    pub(crate) fn cancel_for_shutdown(&self) {
        let header = self.task().header();
        debug_assert_eq!(header.slot.get(), NO_SLOT, "still in the owned list");
        if !header.has(COMPLETE | RUNNING) {
            // SAFETY: owner thread (the token is `!Send`), live (`OWNED`), not in a poll (the
            // runtime shuts down outside its loop), not complete.
            unsafe { drop_future(self.raw) };
        }
    }

    /// Ends the runtime's hold after a shutdown: returns the awaiter's waker, as
    /// [`finish`](Self::finish).
    pub(crate) fn close(self) -> Option<Waker> {
        // SAFETY: owner thread; the join waker is only touched on this thread, and no borrow of
        // it is alive (the handle's poll does not run now).
        unsafe { (*self.task().header().join_waker.get()).take() }
    }
}

impl Drop for OwnedTask {
    fn drop(&mut self) {
        // SAFETY: our token: owner thread, live, `OWNED` is ours.
        unsafe { drop_local(self.raw, OWNED) };
    }
}

/// A task in the run queue (the `NOTIFIED` reference).
pub(crate) struct Notified {
    raw: NonNull<Header>,
}

impl Notified {
    /// # Safety
    /// `raw` is live, ours, and its `NOTIFIED` flag is set for this token alone.
    pub(crate) unsafe fn new(raw: NonNull<Header>) -> Notified {
        Notified { raw }
    }

    #[inline]
    pub(crate) fn task(&self) -> TaskRef<'_> {
        // SAFETY: `NOTIFIED` keeps the task alive; `!Send` keeps us on the owner's thread.
        unsafe { TaskRef::new(self.raw) }
    }

    /// A new task enters the run queue: `Created` becomes `Scheduled`.
    pub(crate) fn set_scheduled(&self) {
        self.task().header().set_state(TaskState::Scheduled);
    }

    /// Marks the schedule that queued this task as sampled (observation): its next poll is
    /// timed. Returns the task's owned-list slot, where the runtime keeps the wake's time.
    pub(crate) fn stamp_wake(&self) -> Option<u32> {
        let task = self.task();
        task.header().set(WAKE_STAMPED);
        task.slot()
    }

    /// Takes the task out of the queue to poll it; `None` if it finished while it was queued
    /// (cancelled), in which case only the queue's reference is given up.
    #[inline]
    pub(crate) fn run(self) -> Option<Running> {
        let header = self.task().header();
        if header.has(COMPLETE) {
            return None; // dropping `self` clears `NOTIFIED`
        }
        // The queue's reference becomes the poll's: `RUNNING` is set before `NOTIFIED` is
        // cleared, so the local side never looks empty in between.
        header.set(RUNNING);
        header.clear(NOTIFIED);
        header.set_state(TaskState::Running);
        header.polls.set(header.polls.get() + 1);
        let raw = self.raw;
        std::mem::forget(self);
        Some(Running { raw })
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // SAFETY: our token: owner thread, live, `NOTIFIED` is ours.
        unsafe { drop_local(self.raw, NOTIFIED) };
    }
}

/// A task about to be polled (the `RUNNING` reference).
pub(crate) struct Running {
    raw: NonNull<Header>,
}

impl Running {
    #[inline]
    pub(crate) fn task(&self) -> TaskRef<'_> {
        // SAFETY: `RUNNING` keeps the task alive; `!Send` keeps us on the owner's thread.
        unsafe { TaskRef::new(self.raw) }
    }

    /// Whether the schedule that queued this task was sampled; clears the mark.
    #[inline]
    pub(crate) fn take_wake_stamp(&self) -> bool {
        let header = self.task().header();
        let stamped = header.has(WAKE_STAMPED);
        header.clear(WAKE_STAMPED);
        stamped
    }

    /// Polls the task once, with a waker borrowed from the task (no reference count
    /// traffic). The future's code runs here.
    #[inline]
    pub(crate) fn poll(self) -> Polled {
        // SAFETY: owner thread (`!Send` token), live (`RUNNING`), not complete (checked by
        // `Notified::run`, and nothing completes a `RUNNING` task: a cancel only requests),
        // and not in a poll already (this token is consumed).
        let outcome = unsafe { raw::poll_task(self.raw) };
        let raw = self.raw;
        std::mem::forget(self);
        Polled { raw, outcome }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only reached if the token is dropped without a poll.
        // SAFETY: our token: owner thread, live, `RUNNING` is ours.
        unsafe { drop_local(self.raw, RUNNING) };
    }
}

/// A task just polled, still holding the `RUNNING` reference until [`end`](Self::end).
pub(crate) struct Polled {
    raw: NonNull<Header>,
    outcome: PollOutcome,
}

impl Polled {
    #[inline]
    pub(crate) fn task(&self) -> TaskRef<'_> {
        // SAFETY: `RUNNING` keeps the task alive; `!Send` keeps us on the owner's thread.
        unsafe { TaskRef::new(self.raw) }
    }

    pub(crate) fn outcome(&self) -> PollOutcome {
        self.outcome
    }

    /// The state the poll left the task in, before [`end`](Self::end) records it (for the
    /// `on_after_poll` hook).
    pub(crate) fn result_state(&self) -> TaskState {
        match self.outcome {
            PollOutcome::Pending if self.task().header().has(NOTIFIED) => TaskState::Scheduled,
            PollOutcome::Pending => TaskState::Suspended,
            PollOutcome::Complete => TaskState::Completed,
            PollOutcome::Panicked => TaskState::Panicked,
        }
    }

    /// Records the poll's outcome. A task that returned `Pending` after a cancel was
    /// requested during the poll is cancelled now (its future's drop runs here). Returns the
    /// proof of the task's end, if it ended.
    #[inline]
    pub(crate) fn end(self) -> Option<Completed> {
        let header = self.task().header();
        let done = match self.outcome {
            PollOutcome::Pending if header.has(CANCEL_REQUESTED) => {
                // SAFETY: owner thread, live (`RUNNING` is still ours, released below), no
                // longer in a poll, not complete (a pending poll does not complete it).
                unsafe { drop_future(self.raw) };
                true
            }
            PollOutcome::Pending => {
                header.set_state(if header.has(NOTIFIED) {
                    TaskState::Scheduled
                } else {
                    TaskState::Suspended
                });
                // The common case, kept short: a task that has not ended is still in its
                // runtime's owned list (only its end takes it out), so `OWNED` outlives
                // `RUNNING` here and there is nothing to release. (Were that ever wrong, the
                // cost would be a leak, never a use after free.)
                debug_assert!(header.has(OWNED));
                header.clear(RUNNING);
                std::mem::forget(self);
                return None;
            }
            PollOutcome::Complete => {
                header.set(COMPLETE);
                header.set_state(TaskState::Completed);
                true
            }
            PollOutcome::Panicked => {
                header.set(COMPLETE | PANICKED);
                header.set_state(TaskState::Panicked);
                true
            }
        };
        let completed = if done { Completed::take(header) } else { None };
        let raw = self.raw;
        std::mem::forget(self);
        // SAFETY: `RUNNING` was this token's; owner thread; live until this call.
        unsafe { drop_local(raw, RUNNING) };
        completed
    }
}

impl Drop for Polled {
    fn drop(&mut self) {
        // Only reached if the token is dropped without `end` (a bug, or an unwind).
        // SAFETY: our token: owner thread, live, `RUNNING` is ours.
        unsafe { drop_local(self.raw, RUNNING) };
    }
}

/// Proof that a task has ended and is still in its runtime's owned list, at
/// [`slot`](Self::slot). At most one exists per task: making it takes the slot out of the
/// task's header.
#[derive(Debug)]
pub(crate) struct Completed {
    slot: u32,
    id: TaskId,
}

impl Completed {
    fn take(header: &Header) -> Option<Completed> {
        debug_assert!(header.has(COMPLETE));
        let slot = header.slot.replace(NO_SLOT);
        (slot != NO_SLOT).then_some(Completed {
            slot,
            id: TaskId(header.id),
        })
    }

    /// The task's index in the owned list.
    pub(crate) fn slot(&self) -> u32 {
        self.slot
    }
}

/// A wake on its way to the task's owner from another thread (one unit of the task's atomic
/// reference count). `Send`: it only carries the pointer and the unit.
pub(crate) struct RemoteTask {
    raw: NonNull<Header>,
}

// SAFETY: the pointer carries a unit of the atomic count, which may be given up on any thread
// (`raw::drop_ref` only frees memory); the non-atomic parts of the header are touched only
// through `receive`, which checks that it runs on the owner's thread.
unsafe impl Send for RemoteTask {}

/// What a [`RemoteTask`] means once it reached its owner.
pub(crate) enum Received {
    /// A wake: the token to queue, or `None` if the task was already queued or finished.
    Woken(Option<Notified>),
    /// The task was cancelled while its runtime was not running: its end is the runtime's to
    /// account for.
    Completed(Completed),
}

impl RemoteTask {
    /// # Safety
    /// `raw` is live, and the caller gives this entry one unit of its `refs`.
    pub(crate) unsafe fn new(raw: NonNull<Header>) -> RemoteTask {
        RemoteTask { raw }
    }

    /// The id of the runtime the task belongs to.
    pub(crate) fn owner(&self) -> u64 {
        // SAFETY: our unit keeps the header alive; `owner` is immutable.
        unsafe { self.raw.as_ref() }.owner
    }

    /// Turns the wake into what it means, on the owner's thread (`owner` proves it).
    pub(crate) fn receive(self, owner: &Owner) -> Received {
        if self.owner() != owner.id() {
            // Not ours (cannot happen through the registry): touch nothing, drop the unit.
            return Received::Woken(None);
        }
        // SAFETY: `owner` exists only on the thread of the runtime with this id, the task's
        // owner; our unit keeps the task alive during the call.
        let task = unsafe { TaskRef::new(self.raw) };
        if task.header().has(COMPLETE) {
            return match Completed::take(task.header()) {
                Some(done) => Received::Completed(done),
                None => Received::Woken(None),
            };
        }
        Received::Woken(task.notify())
        // Our unit is given up when `self` drops: the local side holds its own unit while a
        // token exists, so this never frees a task that a token still names.
    }
}

impl Drop for RemoteTask {
    fn drop(&mut self) {
        // SAFETY: our unit, given up; the pointer is not used afterwards.
        unsafe { raw::drop_ref(self.raw) };
    }
}

/// Drops the future of a task that is neither running nor complete, and marks it complete.
///
/// # Safety
/// Owner thread; `raw` live, not in a poll, not `COMPLETE`.
unsafe fn drop_future(raw: NonNull<Header>) {
    // SAFETY: by the caller's guarantee.
    let header = unsafe { raw.as_ref() };
    // Mark first: wakes and cancels that the future's drop causes see a finished task.
    header.set(COMPLETE);
    // SAFETY: owner thread, not in a poll.
    let panicked = unsafe { (header.vtable.cancel)(raw) };
    if panicked {
        header.set(PANICKED);
        header.set_state(TaskState::Panicked);
    } else {
        header.set(CANCELLED);
        header.set_state(TaskState::Cancelled);
    }
}

/// Cancels a task through one of its handles: drops its future now, or, if it is being
/// polled, right after that poll returns. The awaiter then sees `JoinError::Cancelled`.
///
/// # Safety
/// Owner thread; the caller holds a reference that keeps the task alive during the call.
pub(crate) unsafe fn cancel(raw: NonNull<Header>) {
    // SAFETY: by the caller's guarantee.
    let header = unsafe { raw.as_ref() };
    if header.has(COMPLETE) {
        return;
    }
    if header.has(RUNNING) {
        header.set(CANCEL_REQUESTED);
        return;
    }
    // SAFETY: owner thread, live, not in a poll, not complete.
    unsafe { drop_future(raw) };
    // SAFETY: owner thread, live; the vtable's function is the task's scheduler's.
    unsafe { (header.vtable.cancelled_by_handle)(raw) };
}

/// The scheduler's side of [`cancel`] (the vtable's `cancelled_by_handle`): the runtime
/// forgets the task now if it is running on this thread; otherwise the awaiter is woken now
/// and the runtime hears of it through its remote queue when it next runs.
///
/// # Safety
/// As [`cancel`], and the task is complete.
pub(crate) unsafe fn cancelled_by_handle<S: Schedule>(raw: NonNull<Header>) {
    // SAFETY: by the caller's guarantee.
    let header = unsafe { raw.as_ref() };
    let released = S::with_local(header.owner, |runtime| {
        if let Some(done) = Completed::take(header) {
            runtime.release(done);
        }
    });
    if released.is_none() {
        // SAFETY: owner thread (the caller's guarantee); no borrow of the join waker is alive.
        let waker = unsafe { (*header.join_waker.get()).take() };
        if let Some(w) = waker {
            w.wake();
        }
        // SAFETY: the caller's reference keeps the task alive; the entry takes its own unit.
        unsafe { raw::inc_ref(raw) };
        // SAFETY: live, and the unit just taken is the entry's.
        S::wake_remote(unsafe { RemoteTask::new(raw) });
    }
}

/// The vtable's `unobserved_panic` for scheduler `S`.
pub(crate) fn unobserved_panic<S: Schedule>(owner: u64, task: u64) {
    S::with_local(owner, |runtime| runtime.unobserved_panic(TaskId(task)));
}
