//! Elsewhere: no precise timer; the driver relies on the poll timeout (rounded up to 1 ms).

use std::io;
use std::time::Duration;

use mio::{Registry, Token};

#[derive(Debug)]
pub(crate) struct PreciseTimer;

impl PreciseTimer {
    pub(crate) fn new() -> io::Result<PreciseTimer> {
        Ok(PreciseTimer)
    }

    pub(crate) fn register(&self, _registry: &Registry, _token: Token) -> io::Result<()> {
        Ok(())
    }

    pub(crate) fn arm(&self, _after: Duration) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(crate) fn clear(&self) {}
}
