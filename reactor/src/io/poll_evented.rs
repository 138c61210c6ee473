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
use weft_core::slab::Key;

use super::interest::{Interest, Ready, READABLE, WRITABLE};
use super::scheduled::{Direction, ScheduledIo};
use super::uninit::{recv_buf_mut, recv_read_buf, Recv};
use crate::driver::{shut_down, Handle};

/// A mio source registered with a runtime's driver. Deregistered, then closed, on drop.
pub(crate) struct PollEvented<E: Source> {
    /// `None` only after `into_inner` took it.
    io: Option<E>,
    handle: Handle,
    /// Its place in the driver's source table.
    key: Key,
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
        PollEvented::with_readiness(io, READABLE | WRITABLE)
    }

    /// Registers `io`, one end of a new connected pair: writable at once, and not readable
    /// (nothing has been written to it yet).
    pub(crate) fn new_fresh_pair(io: E) -> io::Result<PollEvented<E>> {
        PollEvented::with_readiness(io, WRITABLE)
    }

    /// Registers `io`, a socket whose connect is in progress: nothing is ready until the
    /// driver reports it.
    pub(crate) fn new_connecting(io: E) -> io::Result<PollEvented<E>> {
        PollEvented::with_readiness(io, 0)
    }

    fn with_readiness(mut io: E, ready: u8) -> io::Result<PollEvented<E>> {
        let handle = Handle::current()?;
        let (key, shared) = handle.register_source(&mut io, ready)?;
        Ok(PollEvented {
            io: Some(io),
            handle,
            key,
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
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.shared.clear(dir.mask()),
                r => return Poll::Ready(r),
            }
        }
    }

    /// `Ready(Ok)` once `dir` is marked ready, consuming a unit of budget first (the
    /// sockets' public `poll_read_ready` / `poll_write_ready`, as tokio's do).
    pub(crate) fn poll_ready_budgeted(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<()>> {
        ready!(weft_executor::coop::poll_proceed(cx));
        self.poll_ready(cx, dir)
    }

    /// Runs `op` now if the readiness satisfies `interest`, else returns `WouldBlock`;
    /// clears that readiness when `op` returns `WouldBlock`. Never waits, never consumes
    /// budget (tokio's `try_io`).
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        if self.handle.is_shutdown() {
            return Err(shut_down());
        }
        let mask = interest.mask();
        if self.shared.ready_bits(mask) == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let r = op(self.get_ref());
        if matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.shared.clear(mask);
        }
        r
    }

    /// Waits until the readiness satisfies `interest`, and returns the part of it that does
    /// (tokio's `ready`). Several tasks may wait at once: each is woken.
    pub(crate) fn ready(&self, interest: Interest) -> Readiness<'_> {
        Readiness {
            shared: &self.shared,
            handle: &self.handle,
            mask: interest.mask(),
            key: None,
        }
    }

    /// Clears `dir`'s readiness: for callers that ran an operation themselves and got
    /// `WouldBlock` (or, for a connect, learnt that it is not finished).
    pub(crate) fn clear_readiness(&self, dir: Direction) {
        self.shared.clear(dir.mask());
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for readiness that satisfies
    /// `interest` in between (tokio's `async_io`). The future behind the `async fn`s taking
    /// `&self`: it may be awaited by several tasks at once, each with its own waiter entry.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            self.ready(interest).await?;
            // The budget is spent by the operation, not by the wait (as tokio's `async_io`):
            // a `readable()` / `writable()` that finds the socket ready is free.
            std::future::poll_fn(weft_executor::coop::poll_proceed).await;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.shared.clear(interest.mask())
                }
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
        let released = self.handle.release(self.key);
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

/// Future of [`PollEvented::ready`]: resolves once the readiness meets its mask. Consumes
/// a unit of budget per poll. Dropping it removes its waiter entry.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Readiness<'a> {
    shared: &'a ScheduledIo,
    handle: &'a Handle,
    mask: u8,
    key: Option<Key>,
}

impl Future for Readiness<'_> {
    type Output = io::Result<Ready>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        let this = self.get_mut();
        // No budget here: a wait for readiness is not an operation (tokio's `readiness`
        // spends none either); `async_io` spends it for the operation that follows.
        if this.handle.is_shutdown() {
            return Poll::Ready(Err(shut_down()));
        }
        this.shared
            .poll_waiter(cx, this.mask, &mut this.key)
            .map(|bits| Ok(Ready::from_bits(bits)))
    }
}

impl Drop for Readiness<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.remove_waiter(key);
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

    /// Reads into the unfilled part of `buf` once readable, without zeroing it first
    /// (tokio's `AsyncRead::poll_read`).
    pub(crate) fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>>
    where
        E: std::os::fd::AsFd,
    {
        let len = buf.remaining();
        let r = self.poll_io(cx, Direction::Read, |io| {
            recv_read_buf(socket2::SockRef::from(io), Recv::Plain, buf)
        });
        self.after_partial(&r, len, Direction::Read);
        r.map_ok(drop)
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

    /// Reads what is available now, else `WouldBlock` (tokio's `try_read`).
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Read;
        self.try_io(Interest::READABLE, |mut io| io.read(buf))
    }

    /// Reads into several buffers now (`readv(2)`), else `WouldBlock`.
    pub(crate) fn try_read_vectored(
        &self,
        bufs: &mut [std::io::IoSliceMut<'_>],
    ) -> io::Result<usize> {
        use std::io::Read;
        self.try_io(Interest::READABLE, |mut io| io.read_vectored(bufs))
    }

    /// Reads into `buf`'s spare capacity now (growing it if it has none), else
    /// `WouldBlock`.
    pub(crate) fn try_read_buf<B: bytes::BufMut + ?Sized>(&self, buf: &mut B) -> io::Result<usize>
    where
        E: std::os::fd::AsFd,
    {
        self.try_io(Interest::READABLE, |io| {
            recv_buf_mut(socket2::SockRef::from(io), buf)
        })
    }

    /// Writes what fits now, else `WouldBlock`.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        use std::io::Write;
        self.try_io(Interest::WRITABLE, |mut io| io.write(buf))
    }

    /// Writes from several buffers now (`writev(2)`), else `WouldBlock`.
    pub(crate) fn try_write_vectored(&self, bufs: &[std::io::IoSlice<'_>]) -> io::Result<usize> {
        use std::io::Write;
        self.try_io(Interest::WRITABLE, |mut io| io.write_vectored(bufs))
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
