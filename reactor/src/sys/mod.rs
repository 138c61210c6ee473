//! Platform code behind one door: a precise one-shot timer that the driver polls like a
//! socket, so it can wake at a timer's exact deadline (epoll's timeout has 1 ms granularity,
//! and mio rounds sub-millisecond timeouts up to it).
//!
//! # Contract
//!
//! Every backend provides `PreciseTimer` with:
//!
//! * `new() -> io::Result<PreciseTimer>`;
//! * `register(&self, &mio::Registry, Token) -> io::Result<()>`: adds it to the poll, readable
//!   when it expires;
//! * `arm(&self, after: Duration) -> io::Result<()>`: expire once, `after` from now (ns
//!   precision), replacing any earlier arming; an error means "not supported here", and the
//!   driver falls back to mio's rounded-up poll timeout;
//! * `clear(&self)`: consume an expiry after its event was seen.
//!
//! Miri has no `timerfd`: under it the fallback stands in, so that the driver's own tests run
//! there too.

#[cfg(all(target_os = "linux", not(miri)))]
#[allow(unsafe_code)]
mod timerfd;
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) use timerfd::PreciseTimer;

#[cfg(any(not(target_os = "linux"), miri))]
mod fallback;
#[cfg(any(not(target_os = "linux"), miri))]
pub(crate) use fallback::PreciseTimer;
