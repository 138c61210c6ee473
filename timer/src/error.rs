//! Errors of the time API.

use std::error::Error;
use std::fmt;
use std::io;

/// The deadline of a [`timeout`](crate::timeout) / [`wait_for`](crate::wait_for) passed before
/// its future completed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, Elapsed};
///
/// Timer::new(true).block_on(async {
///     let never = std::future::pending::<()>();
///     let err: Elapsed = weft_timer::timeout(Duration::from_secs(1), never).await.unwrap_err();
///     assert_eq!(err.to_string(), "deadline has elapsed");
///     let io: std::io::Error = err.into();
///     assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}
