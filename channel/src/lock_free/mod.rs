//! The lock-free building blocks of the channels and locks. Each is a protocol between
//! threads whose correctness argument is written where it is implemented:
//!
//! | file | block | used by |
//! |---|---|---|
//! | `biased.rs` | [`BiasedWord`]: a state word updated with plain stores by the thread that owns it, until another thread revokes the bias for good; [`BiasedLock`], a spin-then-yield lock on one | the mpsc cores, `Semaphore` (so `Mutex`, `RwLock`), the bounded senders' wait list, `Queue` |
//! | `fence.rs` | [`AsymFence`]: a store-buffering fence that is cheap on one side (a compiler fence) and heavy on the other (`membarrier`) | the bounded mpsc's park/wake handshake, `BiasedWord`'s revocation |
//! | `backoff.rs` | [`Backoff`]: spin, then yield, while another thread finishes a few instructions | the mpsc cores |

mod backoff;
mod biased;
mod fence;

pub(crate) use backoff::Backoff;
pub(crate) use biased::{BiasedLock, BiasedLockGuard, BiasedWord};
pub(crate) use fence::{membarrier_available, AsymFence};

/// The plain locks of `broadcast`, `watch` and `Notify`: `parking_lot`'s, or loom's (with the
/// same face, from `weft_core::sync`) in a model-checking build.
#[cfg(not(weft_loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard};
#[cfg(weft_loom)]
pub(crate) use weft_core::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

#[cfg(all(test, weft_loom))]
mod loom_models;
