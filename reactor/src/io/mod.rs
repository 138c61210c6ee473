//! The I/O sources' side of the driver: the source table, one source's readiness, and the
//! operations every socket type is built from.
//!
//! | file | part |
//! |---|---|
//! | `sources.rs` | `Sources`: the table of registered sources and the tokens that name them |
//! | `interest.rs` | [`Interest`] and [`Ready`]: the readiness bits, as tokio's types of those names |
//! | `scheduled.rs` | `ScheduledIo`: one source's readiness and who waits on it; why no wake-up is lost |
//! | `poll_evented.rs` | `PollEvented`: a registered mio source and the try / wait / retry loop |
//! | `uninit.rs` | receiving into uninitialized memory (`ReadBuf`, `BufMut`): the one unsafe room |
//!
//! Each socket owns a `PollEvented`, which registers its mio source with the driver of the
//! runtime running on the thread (through its [`Handle`](crate::Handle): edge-triggered, for
//! reading and writing) and keeps an `Rc<ScheduledIo>` that the driver also finds by the
//! source's token. The driver marks readiness from events and wakes the waiters the reported
//! bits satisfy; an operation clears its direction's readiness exactly when it returns
//! `WouldBlock`. Dropping a socket deregisters its source, then closes it.

mod interest;
mod poll_evented;
mod scheduled;
mod sources;
pub(crate) mod uninit;

pub use interest::{Interest, Ready};
pub(crate) use poll_evented::PollEvented;
pub(crate) use scheduled::{ready_from_event, Direction, ScheduledIo};
pub(crate) use sources::{Sources, IO_TAG};
