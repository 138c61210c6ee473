//! The task's flag word and its observable state.
//!
//! All of these live in plain `Cell`s of the header: they are read and written only on the
//! runtime's own thread. Other threads touch a task only through its atomic reference count
//! (see `raw.rs`), and send wakes to the owner through the remote queue.

/// Bit flags kept in `Header::flags`. Owner thread only.
pub(crate) mod flags {
    /// The task is in the local run queue (at most once: a wake that finds this bit set does
    /// nothing). Set by `schedule`, cleared when the executor pops the task.
    pub(crate) const NOTIFIED: u16 = 1 << 0;
    /// The executor is inside the task's `poll`. Set only between pop and the end of poll.
    pub(crate) const RUNNING: u16 = 1 << 1;
    /// The future is gone: its output (or a `JoinError`) is in the stage. Never cleared.
    pub(crate) const COMPLETE: u16 = 1 << 2;
    /// `cancel()` was called while the task was `RUNNING`; the executor drops the future as
    /// soon as that poll returns. Cannot be set once `COMPLETE`.
    pub(crate) const CANCEL_REQUESTED: u16 = 1 << 3;
    /// A `JoinHandle` exists. One of the two "local references".
    pub(crate) const HANDLE: u16 = 1 << 4;
    /// The runtime holds the task (owned list, run queue). The other local reference: cleared
    /// once the task is `COMPLETE` and no longer `NOTIFIED`, or at shutdown.
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

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
