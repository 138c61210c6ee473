//! Shared helpers of the reactor's integration tests.
#![allow(dead_code)]

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use weft_executor::Runtime;
use weft_reactor::Driver;

/// Runs `fut` on a fresh runtime on the reactor's driver.
pub fn run<F: Future>(fut: F) -> F::Output {
    let rt = Runtime::with_park(Driver::new().expect("driver"));
    rt.block_on(fut)
}

/// The soft limit on open file descriptors.
pub fn nofile_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes only into the `rlimit` we pass, which is valid and
    // exclusively borrowed for the call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    assert_eq!(rc, 0, "getrlimit: {}", std::io::Error::last_os_error());
    #[allow(clippy::unnecessary_cast)] // `rlim_t` is `u64` on Linux, not everywhere
    let cur = lim.rlim_cur as u64;
    cur
}

/// A future that counts how often it is polled.
pub struct CountPolls<F> {
    pub inner: Pin<Box<F>>,
    pub polls: Rc<Cell<usize>>,
}

impl<F: Future> CountPolls<F> {
    pub fn new(inner: F) -> (CountPolls<F>, Rc<Cell<usize>>) {
        let polls = Rc::new(Cell::new(0));
        (
            CountPolls {
                inner: Box::pin(inner),
                polls: polls.clone(),
            },
            polls,
        )
    }
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

/// A unique path for a Unix socket in the temp dir (removed first if present).
pub fn socket_path(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("weft-test-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}
