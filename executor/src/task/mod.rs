//! The task's room: its allocation, its state, and every transition between states.
//!
//! | file | part |
//! |---|---|
//! | `raw.rs` | here be dragons: the one heap block per task, its vtable, the reference counts |
//! | `state.rs` | [`TaskId`], the flag word, [`TaskState`] (with its diagram), [`Priority`] |
//! | `harness.rs` | the safe API the runtime drives: tokens for each local reference, `Completed`, the `Schedule` trait |
//! | `waker.rs` | the `RawWaker` vtable: a wake reaches the runtime through `Schedule` |
//! | `join.rs` | [`JoinHandle`] and [`AbortHandle`] |
//! | `error.rs` | [`JoinError`] |
//! | `cache.rs` | freed task blocks kept for the next spawns of their size |
//!
//! Every `unsafe` operation on a task header lives in these files, each argued where it is.
//! The runtime (`runtime.rs`) holds only tokens and proofs and calls safe methods on them;
//! it implements `Schedule`, so this module imports nothing from the runtime.
//!
//! # The life of a task
//!
//! `new_task` allocates the block and returns three tokens: the runtime's hold
//! (`OwnedTask`, kept in its owned list), the first queue entry
//! (`Notified`) and the user's [`JoinHandle`]. The run loop pops a
//! `Notified`, turns it into a `Running`, polls it (a `Polled`), and ends the poll: a task that
//! returned `Pending` waits for a wake, which makes a new `Notified`; a task that ended yields
//! a `Completed` proof, with which the runtime takes its `OwnedTask` out
//! of the owned list and finishes it. The memory goes when the last token (and the last waker
//! or abort handle) is gone.

pub(crate) mod cache;
mod error;
pub(crate) mod harness;
mod join;
#[cfg(all(test, weft_loom))]
mod loom_models;
pub(crate) mod raw;
pub(crate) mod state;
mod waker;

use std::future::Future;

pub use error::JoinError;
pub use join::{AbortHandle, JoinHandle};
pub use state::{Priority, TaskId, TaskState};

use harness::{Notified, OwnedTask, Owner, Schedule};
use state::flags::{HANDLE, NOTIFIED, OWNED};

/// Allocates a task running `fut` for the runtime `owner` (scheduler `S`), in state `Created`:
/// returns the runtime's hold on it, its first run-queue entry and the user's handle.
pub(crate) fn new_task<F: Future + 'static, S: Schedule>(
    fut: F,
    owner: &Owner,
    id: TaskId,
    priority: Priority,
    blocks: &mut cache::BlockCache,
) -> (OwnedTask, Notified, JoinHandle<F::Output>) {
    let raw = raw::allocate::<F, S>(
        fut,
        owner.id(),
        id.as_u64(),
        priority as u8,
        OWNED | NOTIFIED | HANDLE,
        TaskState::Created,
        blocks,
    );
    // SAFETY: just allocated for `owner` (we are on its thread: `&Owner` proves it) with
    // exactly these three flags set, one for each token, and output type `F::Output`.
    unsafe {
        (
            OwnedTask::new(raw),
            Notified::new(raw),
            JoinHandle::new(raw),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::raw::Header;
    use std::sync::atomic::Ordering;
    use std::task::{Poll, Waker};

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
                if polls == 1 {
                    // Bank a unit: clone and wake by value, on this thread.
                    let clone = cx.waker().clone();
                    clone.wake();
                    return Poll::Pending;
                }
                // Send two wakers away (the first from the bank), then finish.
                tx.send(cx.waker().clone()).unwrap();
                tx.send(cx.waker().clone()).unwrap();
                Poll::Ready(())
            }));
            task.await.unwrap();
        });
        drop(rt);
        keeper.join().unwrap();
    }

    #[test]
    fn task_blocks_are_reused_by_the_next_spawn_of_their_size() {
        // A task that ended on its runtime's thread leaves its block in the runtime's cache:
        // the next task of the same size gets the same block.
        fn addr(w: &Waker) -> usize {
            w.data() as usize
        }
        let rt = crate::Runtime::new();
        rt.block_on(async {
            let first = crate::spawn(std::future::poll_fn(|cx| Poll::Ready(addr(cx.waker()))));
            let a = first.await.unwrap();
            let second = crate::spawn(std::future::poll_fn(|cx| Poll::Ready(addr(cx.waker()))));
            assert_eq!(second.await.unwrap(), a);
        });
    }

    #[test]
    fn header_is_at_most_64_bytes() {
        assert!(
            std::mem::size_of::<Header>() <= 64,
            "header is {} bytes",
            std::mem::size_of::<Header>()
        );
    }
}
