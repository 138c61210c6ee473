//! [`EnterGuard`]: what `Handle::enter` returns, for code written before the runtime entered
//! its driver itself.

use std::fmt;
use std::marker::PhantomData;

/// Returned by [`Handle::enter`](crate::Handle::enter), which has nothing left to do: the
/// runtime's `block_on` enters its driver's context itself (the driver registers its timer
/// and I/O there when the runtime is built). Dropping it does nothing.
#[must_use = "kept for code written against the earlier API; it does nothing"]
pub struct EnterGuard {
    _not_send: PhantomData<*const ()>,
}

impl EnterGuard {
    pub(crate) fn new() -> EnterGuard {
        EnterGuard {
            _not_send: PhantomData,
        }
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
