//! `io::empty`, `io::repeat` and `io::sink` that spend the cooperative budget, as tokio's do:
//! each is always ready, so a loop on one would otherwise never let other tasks (or a
//! `timeout` around it) run.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use weft_core::coop;

/// A reader that is always at end of file (tokio's and futures' `io::empty`).
///
/// # Examples
///
/// ```
/// use weft::io::AsyncReadExt;
///
/// weft::run(async {
///     let mut buf = Vec::new();
///     assert_eq!(weft::io::empty().read_to_end(&mut buf).await.unwrap(), 0);
/// });
/// ```
pub fn empty() -> Empty {
    Empty(())
}

/// Reader of [`empty`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Empty(());

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(coop::poll_proceed(cx));
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(coop::poll_proceed(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _: usize) {}
}

/// A reader that yields `byte` forever (tokio's and futures' `io::repeat`).
///
/// # Examples
///
/// ```
/// use weft::io::AsyncReadExt;
///
/// weft::run(async {
///     let mut buf = [0; 3];
///     weft::io::repeat(7).read_exact(&mut buf).await.unwrap();
///     assert_eq!(buf, [7, 7, 7]);
/// });
/// ```
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

/// Reader of [`repeat`].
#[derive(Debug, Clone, Copy)]
pub struct Repeat {
    byte: u8,
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(coop::poll_proceed(cx));
        let unfilled = buf.initialize_unfilled();
        unfilled.fill(self.byte);
        let n = unfilled.len();
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// A writer that takes everything and keeps nothing (tokio's and futures' `io::sink`).
///
/// # Examples
///
/// ```
/// use weft::io::AsyncWriteExt;
///
/// weft::run(async {
///     assert_eq!(weft::io::sink().write(b"gone").await.unwrap(), 4);
/// });
/// ```
pub fn sink() -> Sink {
    Sink(())
}

/// Writer of [`sink`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Sink(());

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(coop::poll_proceed(cx));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(coop::poll_proceed(cx));
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
