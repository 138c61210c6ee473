//! [`empty`], [`repeat`] and [`sink`]: tokio's always-ready readers and writer, taking from
//! weft's cooperative budget.
//!
//! tokio's own take from tokio's budget, which is not there on a weft runtime (tokio's
//! runtime is not compiled in), so a loop on them would never yield: `timeout(d, async {
//! loop { empty().read(&mut buf).await; } })` would spin for ever. These return `Pending`
//! once the task's budget is spent, like every other weft resource.

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use weft_executor::coop::poll_proceed;

/// A reader at end-of-file and a writer that drops everything, from [`empty`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Empty {
    _private: (),
}

/// A reader that is at end-of-file at once, and a writer that accepts and drops every byte
/// (tokio's `tokio::io::empty`).
///
/// # Examples
///
/// ```
/// use weft::io::{AsyncReadExt, AsyncWriteExt};
///
/// weft::run(async {
///     let mut e = weft::io::empty();
///     let mut buf = Vec::new();
///     assert_eq!(e.read_to_end(&mut buf).await?, 0);
///     assert_eq!(e.write(b"gone").await?, 4);
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn empty() -> Empty {
    Empty { _private: () }
}

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _amt: usize) {}
}

impl AsyncWrite for Empty {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for Empty {
    fn start_seek(self: Pin<&mut Self>, _position: SeekFrom) -> io::Result<()> {
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(0))
    }
}

/// A reader of one byte repeated for ever, from [`repeat`].
#[derive(Clone, Copy, Debug)]
pub struct Repeat {
    byte: u8,
}

/// A reader that fills every buffer with `byte` (tokio's `tokio::io::repeat`).
///
/// # Examples
///
/// ```
/// use weft::io::AsyncReadExt;
///
/// weft::run(async {
///     let mut buf = [0; 3];
///     weft::io::repeat(7).read_exact(&mut buf).await?;
///     assert_eq!(buf, [7, 7, 7]);
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(poll_proceed(cx));
        let dst = buf.initialize_unfilled();
        dst.fill(self.byte);
        let n = dst.len();
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// A writer that drops every byte, from [`sink`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Sink {
    _private: (),
}

/// A writer that accepts and drops every byte (tokio's `tokio::io::sink`).
///
/// # Examples
///
/// ```
/// use weft::io::AsyncWriteExt;
///
/// weft::run(async {
///     let mut s = weft::io::sink();
///     s.write_all(b"into the void").await?;
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn sink() -> Sink {
    Sink { _private: () }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_proceed(cx));
        Poll::Ready(Ok(()))
    }
}
