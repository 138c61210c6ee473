//! What a task is, as numbers: its id, its flag word, its observable state, its priority.
//!
//! The flags and the state live in plain `Cell`s of the header: they are read and written only
//! on the runtime's own thread, and only by the harness (`harness.rs`). Other threads touch a
//! task only through its atomic reference count (see `raw.rs`), and send wakes to the owner
//! through its remote queue.

use std::fmt;

/// A task's id, unique among all tasks of the process.
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let h = weft_executor::spawn(async { weft_executor::task_id() });
///     let id = h.id();
///     assert_eq!(h.await.unwrap(), id);
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub(crate) u64);

impl TaskId {
    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Bit flags kept in `Header::flags`. Owner thread only.
///
/// Four of them are the *local references* (see `raw.rs`): each is held by exactly one token
/// of the harness, and the task's memory is released when the last of them is cleared.
pub(crate) mod flags {
    /// The task is in the local run queue, at most once (a wake that finds this bit set does
    /// nothing). Held by the `Notified` token; set by a wake, cleared when the task is
    /// popped. A local reference.
    pub(crate) const NOTIFIED: u16 = 1 << 0;
    /// The executor is inside the task's `poll`. Held by the `Running` token, from pop to
    /// the end of the poll. A local reference.
    pub(crate) const RUNNING: u16 = 1 << 1;
    /// The future is gone: its output (or a `JoinError`) is in the stage. Never cleared.
    pub(crate) const COMPLETE: u16 = 1 << 2;
    /// `cancel()` was called while the task was `RUNNING`; the executor drops the future as
    /// soon as that poll returns. Cannot be set once `COMPLETE`.
    pub(crate) const CANCEL_REQUESTED: u16 = 1 << 3;
    /// A `JoinHandle` exists. A local reference.
    pub(crate) const HANDLE: u16 = 1 << 4;
    /// The task is in its runtime's owned list, held by the `OwnedTask` token: from spawn
    /// until the runtime has done its bookkeeping for the task's end (or shuts down). A local
    /// reference.
    pub(crate) const OWNED: u16 = 1 << 5;
    /// The output (or error) was taken by the `JoinHandle`.
    pub(crate) const OUTPUT_TAKEN: u16 = 1 << 6;
    /// A panic ended the task. Set with `COMPLETE`.
    pub(crate) const PANICKED: u16 = 1 << 7;
    /// The task was cancelled. Set with `COMPLETE`.
    pub(crate) const CANCELLED: u16 = 1 << 8;
    /// Somebody awaited (or will await) the result: a `JoinHandle` polled, or the handle was
    /// still alive when the task ended. Used by debug mode to report unobserved panics.
    pub(crate) const JOIN_INTEREST: u16 = 1 << 9;
    /// Observation only: the owned slot holds the time of the wake that queued the task, to
    /// be turned into a schedule latency at its next poll.
    pub(crate) const WAKE_STAMPED: u16 = 1 << 10;
    /// Not a flag: bits 11 to 15 count the units of `refs` the local side keeps in its bank
    /// (see `raw::bank`). One unit.
    pub(crate) const BANK_ONE: u16 = 1 << 11;
    /// The most units the bank holds (all five bits set).
    pub(crate) const BANK_FULL: u16 = 0b11111 << 11;

    /// The local references: the memory is released when none is left.
    pub(crate) const LOCAL: u16 = NOTIFIED | RUNNING | HANDLE | OWNED;
}

/// Where a task is in its life.
///
/// ```text
///            spawn            pop              poll → Pending
///  Created ─────────► Scheduled ─────► Running ───────────────► Suspended
///                        ▲                │  │                     │
///                        │                │  └─ woke itself ──┐    │ wake
///                        └────────────────┼───────────────────┴────┘
///                                         │ Ready / panic / cancel
///                                         ▼
///                          Completed | Panicked | Cancelled
/// ```
///
/// A task that is cancelled while suspended or scheduled goes straight to `Cancelled`.
///
/// # Examples
///
/// ```
/// use weft_executor::task::TaskState;
///
/// assert!(TaskState::Completed.is_terminal());
/// assert!(!TaskState::Suspended.is_terminal());
/// assert_eq!(TaskState::Running.to_string(), "running");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TaskState {
    /// Spawned, not yet in the run queue.
    Created = 0,
    /// In the run queue, waiting for its turn.
    Scheduled = 1,
    /// Being polled right now.
    Running = 2,
    /// Returned `Pending`; waits for a wake.
    Suspended = 3,
    /// Returned its output.
    Completed = 4,
    /// Cancelled (its future was dropped before it finished).
    Cancelled = 5,
    /// Panicked; the panic is in its `JoinError`.
    Panicked = 6,
}

impl Priority {
    pub(crate) fn from_u8(v: u8) -> Priority {
        match v {
            0 => Priority::High,
            1 => Priority::Normal,
            _ => Priority::Low,
        }
    }
}

impl TaskState {
    pub(crate) fn from_u8(v: u8) -> TaskState {
        match v {
            0 => TaskState::Created,
            1 => TaskState::Scheduled,
            2 => TaskState::Running,
            3 => TaskState::Suspended,
            4 => TaskState::Completed,
            5 => TaskState::Cancelled,
            _ => TaskState::Panicked,
        }
    }

    /// Whether the task has finished for good (completed, cancelled or panicked).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Completed | TaskState::Cancelled | TaskState::Panicked
        )
    }

    /// The state's lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Created => "created",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Suspended => "suspended",
            TaskState::Completed => "completed",
            TaskState::Cancelled => "cancelled",
            TaskState::Panicked => "panicked",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task's scheduling priority (see the runtime's priority policy).
///
/// # Examples
///
/// ```
/// use weft_executor::task::Priority;
///
/// assert_eq!(Priority::default(), Priority::Normal);
/// assert!(Priority::High < Priority::Low); // ordered by urgency: High first
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Priority {
    /// Runs before Normal and Low tasks.
    High = 0,
    /// The default.
    #[default]
    Normal = 1,
    /// Runs when nothing more urgent is ready (aging keeps it from starving).
    Low = 2,
}
