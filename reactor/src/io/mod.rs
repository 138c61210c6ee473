//! Registration of I/O sources with the runtime's driver.
//!
//! | file | part |
//! |---|---|
//! | `driver.rs` | `IoDriver`: the source table, event dispatch, the thread's current handle |
//! | `enter.rs` | [`EnterGuard`]: the driver (timer and I/O) made current on a thread |
//! | `interest.rs` | [`Interest`] and [`Ready`]: the readiness bits, as tokio's types of those names |
//! | `scheduled.rs` | `ScheduledIo`: one source's readiness and the wakers of its reader and writer |
//! | `poll_evented.rs` | `PollEvented`: a registered mio source and the try / wait / retry loop |
//! | `slab.rs` | a minimal slab for waiter keys |
//! | `uninit.rs` | receiving into uninitialized memory (`ReadBuf`, `BufMut`): the one unsafe room |
//!
//! Each socket owns a `PollEvented`, which registers its mio source with the driver that is
//! current on the thread (edge-triggered, for reading and writing) and keeps an
//! `Rc<ScheduledIo>` that the driver also finds by the source's token. The driver marks
//! readiness from events and wakes the waiters the reported bits satisfy; an operation
//! clears its direction's readiness exactly when it returns `WouldBlock`. Dropping a socket
//! deregisters its source, then closes it.

mod driver;
mod enter;
mod interest;
mod poll_evented;
mod scheduled;
mod slab;
pub(crate) mod uninit;

pub(crate) use driver::{Handle, IoDriver};
pub use enter::EnterGuard;
pub use interest::{Interest, Ready};
pub(crate) use poll_evented::PollEvented;
pub(crate) use scheduled::Direction;
