//! The I/O traits of the stream types and their halves, from two macros: tokio's
//! `AsyncRead` / `AsyncWrite` (what tokio-util, tokio-rustls and hyper-util speak) and
//! futures-io's (what smol's ecosystem speaks). Every implementation forwards to the
//! stream's `PollEvented`, and `poll_shutdown` / `poll_close` shut down only the write side
//! (the read side stays open until the stream is dropped).

/// Implements tokio's and futures-io's `AsyncRead` for `$ty` (generics `$($gen)*`), whose
/// `PollEvented` is `$io` with `$s` bound to `&self`.
macro_rules! impl_async_read {
    ($ty:ty, [$($gen:tt)*], |$s:ident| $io:expr) => {
        impl<$($gen)*> tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                $io.poll_read_buf(cx, buf)
            }
        }

        impl<$($gen)*> futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_read_vectored(cx, bufs)
            }
        }
    };
}

/// Implements tokio's and futures-io's `AsyncWrite` for `$ty` (generics `$($gen)*`), whose
/// `PollEvented` is `$io` with `$s` bound to `&self`, and whose write side `$close` shuts
/// down (with `$c` bound to `&self`).
macro_rules! impl_async_write {
    ($ty:ty, [$($gen:tt)*], |$s:ident| $io:expr, close = |$c:ident| $close:expr) => {
        impl<$($gen)*> tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_write_vectored(cx, bufs)
            }

            /// One `writev(2)` per call: callers may hand over several buffers at once.
            fn is_write_vectored(&self) -> bool {
                true
            }

            /// Writes go straight to the socket: nothing to flush.
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side only (as tokio's sockets do): the peer reads
            /// end-of-file, and this side can still read. A peer that is already gone
            /// (`NotConnected`) is not an error.
            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $c = &*self;
                std::task::Poll::Ready(match $close {
                    Err(e) if e.kind() == std::io::ErrorKind::NotConnected => Ok(()),
                    r => r,
                })
            }
        }

        impl<$($gen)*> futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $io.poll_write_vectored(cx, bufs)
            }

            /// Writes go straight to the socket: nothing to flush.
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side only: the peer reads end-of-file, and this side can
            /// still read. A peer that is already gone (`NotConnected`) is not an error.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $c = &*self;
                std::task::Poll::Ready(match $close {
                    Err(e) if e.kind() == std::io::ErrorKind::NotConnected => Ok(()),
                    r => r,
                })
            }
        }
    };
}

/// Both of the above.
macro_rules! impl_async_io {
    ($ty:ty, [$($gen:tt)*], |$s:ident| $io:expr, close = |$c:ident| $close:expr) => {
        $crate::net::async_io::impl_async_read!($ty, [$($gen)*], |$s| $io);
        $crate::net::async_io::impl_async_write!(
            $ty, [$($gen)*], |$s| $io, close = |$c| $close
        );
    };
}

pub(crate) use {impl_async_io, impl_async_read, impl_async_write};
