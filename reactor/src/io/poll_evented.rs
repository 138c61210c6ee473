//! [`PollEvented`]: a mio source registered with the current runtime's driver, and the
//! operations every socket type is built from.
//!
//! Every operation follows one pattern: consume a unit of the task's cooperative budget,
//! wait until the direction is marked ready, try the system call, and if it returns
//! `WouldBlock`, clear the direction's readiness and wait again. Readiness is cleared there
//! and nowhere else (see `scheduled.rs` for why this loses no wake-up).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use mio::event::Source;

use super::driver::{shut_down, Handle};
use super::scheduled::{Direction, ScheduledIo, READ, WRITE};

/// A mio source registered with a runtime's driver. Deregistered, then closed, on drop.
pub(crate) struct PollEvented<E: Source> {
    /// `None` only after `into_inner` took it.
    io: Option<E>,
    handle: Handle,
    token: mio::Token,
    shared: Rc<ScheduledIo>,
}

impl<E: Source> PollEvented<E> {
    /// Registers `io`, usable at once (accepted, bound, adopted), with the current runtime.
    /// Its first operation in each direction is simply tried.
    ///
    /// # Errors
    ///
    /// When no weft runtime runs on this thread, or registration fails.
    pub(crate) fn new(io: E) -> io::Result<PollEvented<E>> {
        PollEvented::with_readiness(io, READ | WRITE)
    }

    /// Registers `io`, a socket whose connect is in progress: nothing is ready until the
    /// driver reports it.
    pub(crate) fn new_connecting(io: E) -> io::Result<PollEvented<E>> {
        PollEvented::with_readiness(io, 0)
    }

    fn with_readiness(mut io: E, ready: u8) -> io::Result<PollEvented<E>> {
        let handle = Handle::current()?;
        let (token, shared) = handle.register_source(&mut io, ready)?;
        Ok(PollEvented {
            io: Some(io),
            handle,
            token,
            shared,
        })
    }

    /// The source.
    #[inline]
    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("PollEvented used after into_inner")
    }

    /// Deregisters and returns the source.
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self.io.take().expect("PollEvented used after into_inner");
        self.handle.deregister(&mut io)?;
        Ok(io)
    }

    /// The driver this source is registered with.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// `Ready(Ok)` once `dir` is marked ready; otherwise remembers the waker (the direction's
    /// single `poll_*` slot: the last caller wins) and returns `Pending`. Does not consume
    /// budget.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        if self.handle.is_shutdown() {
            return Poll::Ready(Err(shut_down()));
        }
        self.shared.poll_ready(cx, dir).map(Ok)
    }

    /// Runs `op` once `dir` is ready, consuming a unit of budget first; on `WouldBlock`,
    /// clears the readiness and waits for the next event.
    #[inline]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(weft_executor::coop::poll_proceed(cx));
        loop {
            ready!(self.poll_ready(cx, dir))?;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.shared.clear(dir),
                r => return Poll::Ready(r),
            }
        }
    }

    /// Runs `op` now if `dir` is marked ready, else returns `WouldBlock`; clears the
    /// readiness when `op` returns `WouldBlock`. Never waits, never consumes budget.
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        if self.handle.is_shutdown() {
            return Err(shut_down());
        }
        if !self.shared.is_ready(dir) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let r = op(self.get_ref());
        if matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.shared.clear(dir);
        }
        r
    }

    /// Waits until `dir` is marked ready. Several tasks may wait at once: each is woken.
    pub(crate) fn readiness(&self, dir: Direction) -> Readiness<'_> {
        Readiness {
            shared: &self.shared,
            handle: &self.handle,
            dir,
            key: None,
        }
    }

    /// Clears `dir`'s readiness: for callers that ran an operation themselves and got
    /// `WouldBlock` (or, for a connect, learnt that it is not finished).
    pub(crate) fn clear_readiness(&self, dir: Direction) {
        self.shared.clear(dir);
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for readiness in between.
    /// The future behind the `async fn`s taking `&self`: it may be awaited by several tasks
    /// at once, each with its own waiter entry.
    pub(crate) async fn async_io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            self.readiness(dir).await?;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.shared.clear(dir),
                r => return r,
            }
        }
    }
}

impl<E: Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // Deregister before the source closes; an error (the poll is gone) changes nothing.
            let _ = self.handle.deregister(&mut io);
        }
        let released = self.handle.release(self.token);
        drop(released);
    }
}

impl<E: Source + std::fmt::Debug> std::fmt::Debug for PollEvented<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.io {
            Some(io) => io.fmt(f),
            None => f.write_str("PollEvented(<taken>)"),
        }
    }
}

/// Future of [`PollEvented::readiness`]: resolves once a direction is marked ready. Consumes
/// a unit of budget per poll. Dropping it removes its waiter entry.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Readiness<'a> {
    shared: &'a ScheduledIo,
    handle: &'a Handle,
    dir: Direction,
    key: Option<usize>,
}

impl Future for Readiness<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(weft_executor::coop::poll_proceed(cx));
        if this.handle.is_shutdown() {
            return Poll::Ready(Err(shut_down()));
        }
        this.shared.poll_waiter(cx, this.dir, &mut this.key).map(Ok)
    }
}

impl Drop for Readiness<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.remove_waiter(self.dir, key);
        }
    }
}

/// The byte-stream operations of TCP and Unix streams.
impl<E: Source> PollEvented<E>
where
    for<'a> &'a E: std::io::Read + std::io::Write,
{
    /// Reads into `buf` once readable.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        use std::io::Read;
        let len = buf.len();
        let r = self.poll_io(cx, Direction::Read, |mut io| io.read(buf));
        self.after_partial(&r, len, Direction::Read);
        r
    }

    /// See `ScheduledIo::clear_after_partial`: saves the `WouldBlock` system call that would
    /// otherwise follow every short read or write (one per request for a typical server).
    #[inline]
    fn after_partial(&self, r: &Poll<io::Result<usize>>, asked: usize, dir: Direction) {
        if let Poll::Ready(Ok(n)) = r {
            if *n > 0 && *n < asked {
                self.shared.clear_after_partial(dir);
            }
        }
    }

    /// Reads into `bufs` once readable.
    pub(crate) fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [std::io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        use std::io::Read;
        let len = bufs.iter().map(|b| b.len()).sum();
        let r = self.poll_io(cx, Direction::Read, |mut io| io.read_vectored(bufs));
        self.after_partial(&r, len, Direction::Read);
        r
    }

    /// Writes from `buf` once writable.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        use std::io::Write;
        let r = self.poll_io(cx, Direction::Write, |mut io| io.write(buf));
        self.after_partial(&r, buf.len(), Direction::Write);
        r
    }

    /// Writes from `bufs` once writable (one `writev(2)`).
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        use std::io::Write;
        let len = bufs.iter().map(|b| b.len()).sum();
        let r = self.poll_io(cx, Direction::Write, |mut io| io.write_vectored(bufs));
        self.after_partial(&r, len, Direction::Write);
        r
    }
}
