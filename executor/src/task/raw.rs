//! Here be dragons: the task allocation, its vtable, and its reference counts.
//!
//! # Layout
//!
//! One heap block per task: `TaskCell<F, T> { header: Header, stage: Stage<F, T> }`,
//! `#[repr(C)]` so that a pointer to the cell is a pointer to its header. The executor, the
//! wakers and the `JoinHandle` all hold a `NonNull<Header>` and reach the typed parts through
//! the vtable.
//!
//! # Ground rules
//!
//! * Everything in the header except `refs` is read and written **only on the owner thread**
//!   (the thread whose runtime has id `header.owner`). The immutable fields (`owner`, `vtable`,
//!   `id`) may be read anywhere.
//! * `refs` (atomic) counts the references that may travel between threads: every `Waker`,
//!   every entry of the runtime's remote queue, plus **one** for the local side while the local
//!   side holds the task at all.
//! * The local side is two flags (`HANDLE`, `OWNED`, see `state.rs`): the `JoinHandle` (which
//!   is `!Send`) and the runtime. When both are clear the owner thread drops the stage (future
//!   or output) and the join waker, then gives up the local side's unit of `refs`. So a thread
//!   that sees `refs` reach zero only frees memory: it never runs `F`'s or `T`'s drop.
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

use std::alloc::{self, Layout};
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use super::cache::{block_layout, BlockCache};
use super::state::flags::*;
use super::state::TaskState;
use super::waker;
use super::JoinError;

/// The fixed part at the start of every task allocation. At most 64 bytes (tested).
pub(crate) struct Header {
    /// Cross-thread references: wakers, remote-queue entries, +1 for the local side.
    pub(crate) refs: AtomicUsize,
    /// Typed operations on the rest of the block.
    pub(crate) vtable: &'static Vtable,
    /// Id of the runtime that owns the task (unique per process, never reused).
    pub(crate) owner: u64,
    /// The task's id (unique per process).
    pub(crate) id: u64,
    /// The waker of whoever awaits the `JoinHandle`. Owner thread only.
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// Index of the task's slot in the runtime's owned list, `NO_SLOT` once removed.
    pub(crate) slot: Cell<u32>,
    /// `state::flags`. Owner thread only.
    pub(crate) flags: Cell<u16>,
    /// `TaskState as u8`. Owner thread only.
    pub(crate) state: Cell<u8>,
    /// `Priority as u8`. Set at spawn.
    pub(crate) priority: u8,
    /// Polls so far. Owner thread only.
    pub(crate) polls: Cell<u64>,
}

pub(crate) const NO_SLOT: u32 = u32::MAX;

/// The typed half of a task, reached through `Header::vtable`.
pub(crate) struct Vtable {
    /// Polls the future (if still there) and stores its output, or the panic it raised as
    /// `JoinError::Panic`.
    pub(crate) poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> PollOutcome,
    /// Drops the future (if still there) and stores `JoinError::Cancelled`, or the panic that
    /// the drop raised (then returns `true`).
    pub(crate) cancel: unsafe fn(NonNull<Header>) -> bool,
    /// Moves the stored result into `*out`, which is a `Option<Result<T, JoinError>>`.
    pub(crate) take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops whatever the stage holds. Owner thread only.
    pub(crate) drop_stage: unsafe fn(NonNull<Header>),
    /// The layout the whole block was allocated with (see `cache::block_layout`), to free it
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

/// Allocates a task running `future`, in a block from `blocks` (a cached one if there is one
/// of its size). The returned pointer carries the local side's unit of `refs`; `flags` start
/// as `OWNED | HANDLE`.
pub(crate) fn allocate<F: Future + 'static>(
    future: F,
    owner: u64,
    id: u64,
    priority: u8,
    blocks: &mut BlockCache,
) -> NonNull<Header> {
    let vtable = vtable::<F>();
    let block = blocks.allocate(vtable.layout).cast::<TaskCell<F>>();
    let cell = TaskCell {
        header: Header {
            refs: AtomicUsize::new(1),
            vtable,
            owner,
            id,
            join_waker: UnsafeCell::new(None),
            slot: Cell::new(NO_SLOT),
            flags: Cell::new(OWNED | HANDLE),
            state: Cell::new(TaskState::Created as u8),
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

fn vtable<F: Future + 'static>() -> &'static Vtable {
    struct Gen<F>(F);
    impl<F: Future + 'static> Gen<F> {
        const VTABLE: Vtable = Vtable {
            poll: poll::<F>,
            cancel: cancel::<F>,
            take_output: take_output::<F>,
            drop_stage: drop_stage::<F>,
            layout: block_layout(Layout::new::<TaskCell<F>>()),
        };
    }
    &Gen::<F>::VTABLE
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
    // SAFETY: called by the executor on the owner thread for a live task it holds (OWNED),
    // with no other borrow of the stage alive.
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
    // SAFETY: as for `poll`: owner thread, the executor or a `JoinHandle` holds the task, and
    // the task is not being polled (the caller checked `RUNNING`).
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

unsafe fn take_output<F: Future>(ptr: NonNull<Header>, out: *mut ()) {
    // SAFETY: the `JoinHandle<F::Output>` calls this on the owner thread after `COMPLETE`.
    let stage = unsafe { stage::<F>(ptr) };
    if let Stage::Finished(result) = std::mem::replace(stage, Stage::Consumed) {
        // SAFETY: `out` points to an `Option<Result<F::Output, JoinError>>` owned by the
        // caller, who passes the pointer with the matching type (the handle is typed `T`).
        unsafe { *out.cast::<Option<Result<F::Output, JoinError>>>() = Some(result) };
    }
}

unsafe fn drop_stage<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: owner thread, called once the local side releases the task.
    let stage = unsafe { stage::<F>(ptr) };
    // A panic from dropping an output nobody took is swallowed: there is nobody to give it to.
    let _ = replace_stage(stage, Stage::Consumed);
}

/// Polls the task with a waker borrowed from the task itself (no reference-count traffic).
///
/// # Safety
/// Owner thread; the runtime holds the task (`OWNED`); it is not `COMPLETE`.
pub(crate) unsafe fn poll_task(ptr: NonNull<Header>) -> PollOutcome {
    // SAFETY: the waker is never dropped (ManuallyDrop), so it takes no reference; the task
    // outlives the poll because the runtime holds it. Clones made from it take their own.
    let waker = ManuallyDrop::new(unsafe { waker::borrowed(ptr) });
    let mut cx = Context::from_waker(&waker);
    // SAFETY: forwarded from the caller.
    unsafe { (ptr.as_ref().vtable.poll)(ptr, &mut cx) }
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
    if flags & (OWNED | HANDLE) == 0 || flags & BANK_FULL == BANK_FULL {
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

/// Called on the owner thread when both local references (`HANDLE`, `OWNED`) are gone:
/// drops the stage and the join waker, then gives up the local side's unit of `refs` and the
/// banked ones.
///
/// # Safety
/// Owner thread; `HANDLE` and `OWNED` were both just cleared by the caller; `ptr` is live.
pub(crate) unsafe fn release_local(ptr: NonNull<Header>) {
    // SAFETY: the caller guarantees the task is live and ours.
    let header = unsafe { ptr.as_ref() };
    // A taken output left the stage `Consumed`: nothing to drop (and no call to make).
    if !header.has(OUTPUT_TAKEN) {
        // SAFETY: owner thread, nobody else holds the stage.
        unsafe { (header.vtable.drop_stage)(ptr) };
    }
    // SAFETY: owner thread; the join waker is only touched on this thread.
    drop(unsafe { (*header.join_waker.get()).take() });
    // Nothing is banked after this: `bank` refuses once `OWNED` and `HANDLE` are clear.
    let flags = header.flags.get();
    header.flags.set(flags & !BANK_FULL);
    let ours = 1 + usize::from((flags & BANK_FULL) / BANK_ONE);
    // Acquire: pairs with the Release decrement of wakers dropped on other threads, so their
    // last uses of the block happen before we free it.
    if header.refs.load(Ordering::Acquire) == ours {
        // SAFETY: only the local side's units are left, and no waker can be created any more
        // (the future is gone), so nobody else can reach the block. Owner thread.
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

/// Takes one more cross-thread reference (a waker clone, a remote-queue entry).
///
/// # Safety
/// `ptr` is live and the caller holds a reference to it.
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

/// Frees the block on its owner thread: into the running runtime's block cache if there is
/// one, else back to the allocator.
///
/// # Safety
/// As for [`dealloc`], and we are on the task's owner thread.
unsafe fn dealloc_local(ptr: NonNull<Header>) {
    // SAFETY: live until now, by the caller's guarantee.
    let layout = unsafe { ptr.as_ref() }.vtable.layout;
    let cached = crate::runtime::with_current(|core| {
        // SAFETY: forwarded: the block is unused, holds nothing to drop, and was allocated
        // with `layout` (any runtime's cache may keep it: it is plain heap memory).
        unsafe { core.free_block(ptr.cast(), layout) }
    });
    if cached.is_none() {
        // SAFETY: forwarded.
        unsafe { dealloc(ptr) };
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_at_most_64_bytes() {
        assert!(
            std::mem::size_of::<Header>() <= 64,
            "header is {} bytes",
            std::mem::size_of::<Header>()
        );
    }

    #[test]
    fn one_block_holds_header_future_and_output() {
        // A future of 100 bytes with a u64 output: the block is the header plus the larger
        // of the two (plus the stage tag), nothing else.
        struct Big([u8; 100]);
        impl Future for Big {
            type Output = u64;
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u64> {
                Poll::Ready(self.0[0] as u64)
            }
        }
        let layout = vtable::<Big>().layout;
        assert!(layout.size() <= std::mem::size_of::<Header>() + 100 + 32);
    }

    /// The task's `refs`, read through the data pointer of one of its wakers.
    fn refs_of(waker: &Waker) -> usize {
        // SAFETY: a weft task waker's data pointer is its live header (the waker keeps it).
        unsafe { &*waker.data().cast::<Header>() }
            .refs
            .load(Ordering::SeqCst)
    }

    #[test]
    fn wakers_cloned_and_woken_on_the_owner_thread_use_the_bank() {
        use std::cell::RefCell;
        use std::rc::Rc;
        // Task A parks with a clone of its waker in `slot`; task B wakes it by value. The
        // first clone takes a new unit; from then on each wake banks the unit and the next
        // clone takes it back, so `refs` stays at the local unit plus one.
        let rt = crate::Runtime::new();
        let slot: Rc<RefCell<Option<Waker>>> = Rc::default();
        let rounds = 50;
        let seen = rt.block_on({
            let slot = slot.clone();
            async move {
                let a = crate::spawn({
                    let slot = slot.clone();
                    let mut left = rounds;
                    let mut seen = Vec::new();
                    std::future::poll_fn(move |cx| {
                        seen.push(refs_of(cx.waker()));
                        if left == 0 {
                            return Poll::Ready(std::mem::take(&mut seen));
                        }
                        left -= 1;
                        *slot.borrow_mut() = Some(cx.waker().clone());
                        Poll::Pending
                    })
                });
                let b = crate::spawn(async move {
                    for _ in 0..rounds {
                        while slot.borrow().is_none() {
                            crate::yield_now().await;
                        }
                        let waker = slot.borrow_mut().take();
                        waker.unwrap().wake();
                    }
                });
                b.await.unwrap();
                a.await.unwrap()
            }
        });
        // First poll: the local unit alone; after each wake: that plus the banked unit.
        assert_eq!(seen[0], 1);
        assert!(seen[1..].iter().all(|&r| r == 2), "{seen:?}");
    }

    #[test]
    fn banked_units_are_given_back_when_a_waker_outlives_the_task() {
        // A waker made from a banked unit outlives its task on another thread: the local
        // side gives its units back when the task ends, and the thread's drop frees the
        // block (Miri checks that nothing leaks or is freed twice).
        let rt = crate::Runtime::new();
        let (tx, rx) = std::sync::mpsc::channel::<Waker>();
        let keeper = std::thread::spawn(move || {
            let w = rx.recv().unwrap();
            let _second = rx.recv().unwrap();
            drop(w);
        });
        rt.block_on(async move {
            let mut polls = 0;
            let task = crate::spawn(std::future::poll_fn(move |cx| {
                polls += 1;
                match polls {
                    // Bank a unit: clone and wake by value, on this thread.
                    1 => {
                        let clone = cx.waker().clone();
                        clone.wake();
                        Poll::Pending
                    }
                    // Send two wakers away (the first from the bank), then finish.
                    _ => {
                        tx.send(cx.waker().clone()).unwrap();
                        tx.send(cx.waker().clone()).unwrap();
                        Poll::Ready(())
                    }
                }
            }));
            task.await.unwrap();
        });
        drop(rt);
        keeper.join().unwrap();
    }
}
