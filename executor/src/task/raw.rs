//! Here be dragons: the task allocation, its vtable, and its reference counts. Only the
//! harness (`harness.rs`), the waker (`waker.rs`) and the handles (`join.rs`) call in here.
//!
//! # Layout
//!
//! One heap block per task: `TaskCell<F> { header: Header, stage: Stage<F> }`, `#[repr(C)]`
//! so that a pointer to the cell is a pointer to its header. Everything that holds a task
//! holds a `NonNull<Header>` and reaches the typed parts through the vtable.
//!
//! # Ground rules
//!
//! * Everything in the header except `refs` is read and written **only on the owner thread**
//!   (the thread of the runtime whose id is `header.owner`). The immutable fields (`owner`,
//!   `vtable`, `id`, `priority`) may be read anywhere.
//! * `refs` (atomic) counts the references that may travel between threads: every `Waker`,
//!   every `AbortHandle`, every entry of a remote queue, plus **one** for the *local side*
//!   while the local side holds the task at all.
//! * The local side is four flags (see `state.rs`), each held by exactly one token of the
//!   harness: `HANDLE` (the `JoinHandle`), `OWNED` (the runtime's owned list), `NOTIFIED`
//!   (the run queue) and `RUNNING` (the poll in progress). When the last of them is cleared
//!   the owner thread drops the stage (future or output) and the join waker, then gives up
//!   the local side's unit of `refs` ([`release_local`]). So a thread that sees `refs` reach
//!   zero only frees memory: it never runs `F`'s or its output's drop.
//! * The bank: on the owner thread, while the local side holds the task, a waker that goes
//!   away (woken by value, or dropped) leaves its unit of `refs` with the local side instead
//!   of decrementing `refs`, and the next waker cloned there takes a banked unit instead of
//!   incrementing it ([`bank`], [`unbank`]). `refs` still counts banked units, so other
//!   threads see a count that is never too low. A task that parks and is woken on its own
//!   thread again and again (a waker cloned into a channel, then woken) thus pays no atomic
//!   operation after the first time. The count lives in the high bits of `flags`.
//! * `refs == 1 + banked` seen on the owner thread while the local side still holds its unit
//!   means no waker exists anywhere, and none can appear (only a poll on this thread makes
//!   one), so the block is freed without a read-modify-write.
//! * A block whose last reference goes on the owner thread, while its runtime runs there, is
//!   kept in the runtime's block cache (`cache.rs`) for the next spawn of its size; blocks are
//!   allocated with the cache's layout for their size, so either way they are freed with the
//!   layout they were allocated with.

use std::alloc::Layout;
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use weft_core::sync::alloc;
use weft_core::sync::atomic::{self, AtomicUsize, Ordering};

use super::cache::{block_layout, BlockCache};
use super::error::JoinError;
use super::state::flags::{BANK_FULL, BANK_ONE, LOCAL, OUTPUT_TAKEN};
use super::state::TaskState;

/// The fixed part at the start of every task allocation. At most 64 bytes (tested).
pub(crate) struct Header {
    /// Cross-thread references: wakers, abort handles, remote-queue entries, +1 for the local
    /// side.
    pub(crate) refs: AtomicUsize,
    /// Typed operations on the rest of the block.
    pub(crate) vtable: &'static Vtable,
    /// Id of the runtime that owns the task (unique per process, never reused).
    pub(crate) owner: u64,
    /// The task's id (unique per process).
    pub(crate) id: u64,
    /// The waker of whoever awaits the `JoinHandle`. Owner thread only.
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// Index of the task's entry in the runtime's owned list, `NO_SLOT` once it has left it.
    /// Owner thread only.
    pub(crate) slot: Cell<u32>,
    /// `state::flags`. Owner thread only.
    pub(crate) flags: Cell<u16>,
    /// `TaskState as u8`. Owner thread only.
    pub(crate) state: Cell<u8>,
    /// `Priority as u8`. Set at spawn, never changed.
    pub(crate) priority: u8,
    /// Polls so far. Owner thread only.
    pub(crate) polls: Cell<u64>,
}

/// `Header::slot` of a task that is not (or no longer) in its runtime's owned list.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// The typed half of a task, reached through `Header::vtable`. Every function takes a live
/// task and must be called on its owner thread, unless it says otherwise.
pub(crate) struct Vtable {
    /// Polls the future (if still there) and stores its output, or the panic it raised as
    /// `JoinError::Panic`. The task must not be polled already (no re-entry).
    pub(crate) poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> PollOutcome,
    /// Drops the future (if still there) and stores `JoinError::Cancelled`, or the panic that
    /// the drop raised (then returns `true`). The task must not be in a poll.
    pub(crate) cancel: unsafe fn(NonNull<Header>) -> bool,
    /// Moves the stored result into `*out`, which must be a
    /// `MaybeUninit<Result<F::Output, JoinError>>`, and returns `true`; returns `false` (and
    /// writes nothing) if there is no result (already taken).
    pub(crate) take_output: unsafe fn(NonNull<Header>, *mut ()) -> bool,
    /// Drops whatever the stage holds.
    pub(crate) drop_stage: unsafe fn(NonNull<Header>),
    /// The runtime's side of a cancellation made through a handle (see `harness.rs`).
    pub(crate) cancelled_by_handle: unsafe fn(NonNull<Header>),
    /// Tells the owner's runtime (debug mode) that a panic went unobserved. Any thread.
    pub(crate) unobserved_panic: fn(owner: u64, task: u64),
    /// The waker vtable of the task's scheduler (`waker.rs`).
    pub(crate) waker: &'static RawWakerVTable,
    /// Frees a block on its owner's thread: into its runtime's block cache if that runtime
    /// runs here, else back to the allocator (`cache.rs`).
    pub(crate) free_local: unsafe fn(owner: u64, NonNull<u8>, Layout),
    /// The layout the whole block was allocated with (`cache::block_layout`), to free it
    /// from any thread.
    pub(crate) layout: Layout,
}

/// What one poll of a task came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PollOutcome {
    Pending,
    Complete,
    Panicked,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

impl Header {
    #[inline]
    pub(crate) fn has(&self, f: u16) -> bool {
        self.flags.get() & f != 0
    }
    #[inline]
    pub(crate) fn set(&self, f: u16) {
        self.flags.set(self.flags.get() | f);
    }
    #[inline]
    pub(crate) fn clear(&self, f: u16) {
        self.flags.set(self.flags.get() & !f);
    }
    #[inline]
    pub(crate) fn set_state(&self, s: TaskState) {
        self.state.set(s as u8);
    }
    pub(crate) fn task_state(&self) -> TaskState {
        TaskState::from_u8(self.state.get())
    }
}

/// What a task's vtable takes from its scheduler. Implemented for every scheduler (in
/// `waker.rs`); a trait with constants, so that the whole vtable is one `const` per (future
/// type, scheduler) pair, built at compile time.
pub(crate) trait SchedulerVtable: 'static {
    /// See [`Vtable::cancelled_by_handle`].
    const CANCELLED_BY_HANDLE: unsafe fn(NonNull<Header>);
    /// See [`Vtable::unobserved_panic`].
    const UNOBSERVED_PANIC: fn(owner: u64, task: u64);
    /// See [`Vtable::waker`].
    const WAKER: &'static RawWakerVTable;
    /// See [`Vtable::free_local`].
    const FREE_LOCAL: unsafe fn(owner: u64, NonNull<u8>, Layout);
}

/// Allocates a task running `future` under scheduler `S`, with the given flags and state, in
/// a block from `blocks` (a cached one if there is one of its size). The returned pointer
/// carries the local side's unit of `refs`.
pub(crate) fn allocate<F: Future + 'static, S: SchedulerVtable>(
    future: F,
    owner: u64,
    id: u64,
    priority: u8,
    flags: u16,
    state: TaskState,
    blocks: &mut BlockCache,
) -> NonNull<Header> {
    let vtable = vtable::<F, S>();
    let block = blocks.allocate(vtable.layout).cast::<TaskCell<F>>();
    let cell = TaskCell {
        header: Header {
            refs: AtomicUsize::new(1),
            vtable,
            owner,
            id,
            join_waker: UnsafeCell::new(None),
            slot: Cell::new(NO_SLOT),
            flags: Cell::new(flags),
            state: Cell::new(state as u8),
            priority,
            polls: Cell::new(0),
        },
        stage: UnsafeCell::new(Stage::Running(future)),
    };
    // SAFETY: the block is unused (new, or cached after its task was freed) and allocated
    // with `block_layout(Layout::new::<TaskCell<F>>())`, which is at least as large and as
    // aligned as a `TaskCell<F>`.
    unsafe { block.as_ptr().write(cell) };
    // The header is the first field of a `repr(C)` struct.
    block.cast::<Header>()
}

fn vtable<F: Future + 'static, S: SchedulerVtable>() -> &'static Vtable {
    struct Gen<F, S>(F, S);
    impl<F: Future + 'static, S: SchedulerVtable> Gen<F, S> {
        const VTABLE: Vtable = Vtable {
            poll: poll::<F>,
            cancel: cancel::<F>,
            take_output: take_output::<F>,
            drop_stage: drop_stage::<F>,
            cancelled_by_handle: S::CANCELLED_BY_HANDLE,
            unobserved_panic: S::UNOBSERVED_PANIC,
            waker: S::WAKER,
            free_local: S::FREE_LOCAL,
            layout: block_layout(Layout::new::<TaskCell<F>>()),
        };
    }
    &Gen::<F, S>::VTABLE
}

/// # Safety
/// `ptr` points to a live `TaskCell<F>`, we are on its owner thread, and nobody else holds a
/// reference into its stage for the duration of the call.
unsafe fn stage<'a, F: Future>(ptr: NonNull<Header>) -> &'a mut Stage<F> {
    // SAFETY: the caller guarantees the cell is a live `TaskCell<F>` and that the stage is not
    // aliased (the stage is only touched by these vtable functions, on the owner thread, and
    // none of them re-enters another while it holds the reference).
    unsafe { &mut *ptr.cast::<TaskCell<F>>().as_ref().stage.get() }
}

/// Replaces the stage, dropping the old value; a panic from that drop is returned.
fn replace_stage<F: Future>(
    stage: &mut Stage<F>,
    new: Stage<F>,
) -> Result<(), Box<dyn Any + Send>> {
    // Move the old value out first so that a panicking drop leaves a consistent stage.
    let old = std::mem::replace(stage, new);
    panic::catch_unwind(AssertUnwindSafe(move || drop(old)))
}

unsafe fn poll<F: Future>(ptr: NonNull<Header>, cx: &mut Context<'_>) -> PollOutcome {
    // SAFETY: the vtable contract: a live task of ours, on the owner thread, not in a poll
    // already, so no other borrow of the stage is alive.
    let stage = unsafe { stage::<F>(ptr) };
    let Stage::Running(fut) = stage else {
        return PollOutcome::Complete;
    };
    // SAFETY: the future lives inside the heap block, which never moves while the task
    // exists, and it is dropped in place (by `replace_stage`) before the block is freed.
    let fut = unsafe { Pin::new_unchecked(fut) };
    let result = panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx)));
    let outcome = match result {
        Ok(Poll::Pending) => return PollOutcome::Pending,
        Ok(Poll::Ready(v)) => Ok(v),
        Err(payload) => Err(JoinError::panic(payload)),
    };
    // Drop the future, then store the outcome. A panic while dropping a finished future
    // turns the result into that panic.
    let outcome = match replace_stage(stage, Stage::Consumed) {
        Ok(()) => outcome,
        Err(payload) => Err(JoinError::panic(payload)),
    };
    let kind = match outcome {
        Ok(_) => PollOutcome::Complete,
        Err(_) => PollOutcome::Panicked,
    };
    *stage = Stage::Finished(outcome);
    kind
}

unsafe fn cancel<F: Future>(ptr: NonNull<Header>) -> bool {
    // SAFETY: the vtable contract: a live task of ours, on the owner thread, not in a poll, so
    // no other borrow of the stage is alive.
    let stage = unsafe { stage::<F>(ptr) };
    if !matches!(stage, Stage::Running(_)) {
        return false;
    }
    let (outcome, panicked) = match replace_stage(stage, Stage::Consumed) {
        Ok(()) => (JoinError::Cancelled, false),
        Err(payload) => (JoinError::panic(payload), true),
    };
    *stage = Stage::Finished(Err(outcome));
    panicked
}

unsafe fn take_output<F: Future>(ptr: NonNull<Header>, out: *mut ()) -> bool {
    // SAFETY: the vtable contract: a live task of ours, on the owner thread; the handle calls
    // this outside any poll of the task.
    let stage = unsafe { stage::<F>(ptr) };
    let Stage::Finished(result) = stage else {
        return false;
    };
    // The output moves with one untyped copy of its bytes. (Moving it out of the enum by value
    // made LLVM split the copy at the boundaries of every variant's fields, the `Running`
    // future's included, and read the pieces back through overlapping stack stores: a
    // store-forwarding stall that took a tenth of a oneshot round's time.)
    // SAFETY: `out` points to a `MaybeUninit<Result<F::Output, JoinError>>` owned by the
    // caller, who passes the pointer with the matching type (the handle is typed `T`); the
    // two do not overlap (the caller's is not in the task's block).
    unsafe { std::ptr::copy_nonoverlapping(result, out.cast::<Result<F::Output, JoinError>>(), 1) };
    // SAFETY: the output was moved out just above: overwriting the stage without dropping
    // it is the move's other half.
    unsafe { std::ptr::write(stage, Stage::Consumed) };
    true
}

unsafe fn drop_stage<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the vtable contract: a live task of ours, on the owner thread, released by the
    // local side, so nothing else borrows the stage.
    let stage = unsafe { stage::<F>(ptr) };
    // A panic from dropping an output nobody took is swallowed: there is nobody to give it to.
    let _ = replace_stage(stage, Stage::Consumed);
}

/// Polls the task with a waker borrowed from the task itself (no reference-count traffic).
///
/// # Safety
/// Owner thread; the caller holds a local reference (`RUNNING`); the task is not complete and
/// not in a poll already.
pub(crate) unsafe fn poll_task(ptr: NonNull<Header>) -> PollOutcome {
    // SAFETY: the caller holds a local reference, so the header is live.
    let vtable = unsafe { ptr.as_ref() }.vtable;
    // SAFETY: the waker functions uphold the `RawWaker` contract for a header pointer. This
    // waker is never dropped (`ManuallyDrop`), so it takes no reference of its own; the task
    // outlives the poll because the caller holds it. Clones made from it take their own.
    let waker = ManuallyDrop::new(unsafe {
        Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), vtable.waker))
    });
    let mut cx = Context::from_waker(&waker);
    // SAFETY: forwarded from the caller.
    unsafe { (vtable.poll)(ptr, &mut cx) }
}

/// Called on the owner thread when the last local reference is gone: drops the stage and
/// the join waker, then gives up the local side's unit of `refs` and the banked ones.
///
/// # Safety
/// Owner thread; the caller just cleared the last local flag; `ptr` is live.
pub(crate) unsafe fn release_local(ptr: NonNull<Header>) {
    // SAFETY: the caller guarantees the task is live and ours.
    let header = unsafe { ptr.as_ref() };
    // A taken output left the stage `Consumed`: nothing to drop (and no call to make).
    if !header.has(OUTPUT_TAKEN) {
        // SAFETY: owner thread, and no local token is left, so nobody else holds the stage.
        unsafe { (header.vtable.drop_stage)(ptr) };
    }
    // SAFETY: owner thread; the join waker is only touched on this thread.
    drop(unsafe { (*header.join_waker.get()).take() });
    // Nothing is banked after this: `bank` refuses once no local flag is left.
    let flags = header.flags.get();
    header.flags.set(flags & !BANK_FULL);
    let ours = 1 + usize::from((flags & BANK_FULL) / BANK_ONE);
    // Acquire: pairs with the Release decrement of wakers dropped on other threads, so their
    // last uses of the block happen before we free it.
    if header.refs.load(Ordering::Acquire) == ours {
        // SAFETY: only the local side's units are left, and no waker can be created any more
        // (no poll can happen without a local token), so nobody else can reach the block.
        // Owner thread.
        unsafe { dealloc_local(ptr) };
        return;
    }
    // SAFETY: the block is live until our units are given back.
    let old = unsafe { ptr.as_ref() }
        .refs
        .fetch_sub(ours, Ordering::Release);
    if old == ours {
        atomic::fence(Ordering::Acquire);
        // SAFETY: those were the last units; every other user's accesses happen-before the
        // fence. Owner thread.
        unsafe { dealloc_local(ptr) };
    }
}

/// Keeps a waker's unit of `refs` in the local side's bank instead of giving it back. Returns
/// `false` (the caller then gives the unit back with [`drop_ref`]) when the local side has let
/// go of the task or the bank is full.
///
/// # Safety
/// `ptr` is live, we are on its owner thread, and the caller owns one unit of `refs`, which
/// it no longer uses after a `true`.
#[inline]
pub(crate) unsafe fn bank(ptr: NonNull<Header>) -> bool {
    // SAFETY: live, and the owner thread (which alone touches `flags`).
    let header = unsafe { ptr.as_ref() };
    let flags = header.flags.get();
    if flags & LOCAL == 0 || flags & BANK_FULL == BANK_FULL {
        return false;
    }
    header.flags.set(flags + BANK_ONE);
    true
}

/// Takes a unit of `refs` out of the local side's bank, for a new waker. Returns `false` (the
/// caller then takes one with [`inc_ref`]) when the bank is empty.
///
/// # Safety
/// `ptr` is live and we are on its owner thread.
#[inline]
pub(crate) unsafe fn unbank(ptr: NonNull<Header>) -> bool {
    // SAFETY: live, and the owner thread.
    let header = unsafe { ptr.as_ref() };
    let flags = header.flags.get();
    if flags & BANK_FULL == 0 {
        return false;
    }
    header.flags.set(flags - BANK_ONE);
    true
}

/// Takes one more cross-thread reference (a waker clone, a remote-queue entry, an abort
/// handle).
///
/// # Safety
/// `ptr` is live and the caller holds a reference to it (local or cross-thread).
#[inline]
pub(crate) unsafe fn inc_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller holds a reference, so the block is live.
    let old = unsafe { ptr.as_ref() }.refs.fetch_add(1, Ordering::Relaxed);
    // A count this high means leaked wakers in a loop; wrapping would be a use-after-free.
    if old > isize::MAX as usize {
        std::process::abort();
    }
}

/// Gives up one cross-thread reference; frees the block when it was the last. May run on any
/// thread: by the ground rules the stage is already dropped when the count can reach zero.
///
/// # Safety
/// The caller owns one unit of `refs` and does not use `ptr` afterwards.
#[inline]
pub(crate) unsafe fn drop_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller's unit keeps the block alive until this decrement.
    let old = unsafe { ptr.as_ref() }.refs.fetch_sub(1, Ordering::Release);
    if old == 1 {
        atomic::fence(Ordering::Acquire);
        // SAFETY: that was the last unit; every other user's accesses happen-before the fence.
        unsafe { dealloc(ptr) };
    }
}

/// Frees the block on its owner thread: into the owner runtime's block cache if it runs here.
///
/// # Safety
/// As for [`dealloc`], and we are on the task's owner thread.
unsafe fn dealloc_local(ptr: NonNull<Header>) {
    // SAFETY: live until now, by the caller's guarantee; `owner` and `vtable` are immutable.
    let (owner, vtable) = unsafe { (ptr.as_ref().owner, ptr.as_ref().vtable) };
    // SAFETY: forwarded: the block is unused, holds nothing to drop, and was allocated with
    // `vtable.layout`.
    unsafe { (vtable.free_local)(owner, ptr.cast(), vtable.layout) };
}

/// # Safety
/// No reference to the block remains, and its stage holds nothing that needs dropping.
unsafe fn dealloc(ptr: NonNull<Header>) {
    // SAFETY: live until now, by the caller's guarantee.
    let layout = unsafe { ptr.as_ref() }.vtable.layout;
    // SAFETY: the join waker is `None` (dropped by `release_local`); the rest of the header is
    // plain data. `Stage::Consumed` needs no drop. The block was allocated with this layout
    // (by `BlockCache::allocate`).
    unsafe { alloc::dealloc(ptr.as_ptr().cast::<u8>(), layout) };
}
