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

mod error;
pub(crate) mod harness;
mod join;
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
) -> (OwnedTask, Notified, JoinHandle<F::Output>) {
    let raw = raw::allocate::<F, S>(
        fut,
        owner.id(),
        id.as_u64(),
        priority as u8,
        OWNED | NOTIFIED | HANDLE,
        TaskState::Created,
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

    #[test]
    fn header_is_at_most_64_bytes() {
        assert!(
            std::mem::size_of::<Header>() <= 64,
            "header is {} bytes",
            std::mem::size_of::<Header>()
        );
    }
}
