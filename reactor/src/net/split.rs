//! The halves of a stream ([`TcpStream`](crate::net::TcpStream) and
//! [`UnixStream`](crate::net::UnixStream)), written once: `stream_halves!` defines, in the
//! module that invokes it, tokio's five types for that stream:
//!
//! * `ReadHalf<'a>` / `WriteHalf<'a>` (from `split`): two views of one `&Stream`, free to
//!   make, for use in one task;
//! * `OwnedReadHalf` / `OwnedWriteHalf` (from `into_split`): two `Rc`s of one stream, so
//!   each half can move into its own task (on the same runtime); dropping the write half
//!   shuts down the write side unless it was `forget`-ed or reunited;
//! * `ReuniteError`, the error of putting back together halves of different streams.
//!
//! Every method forwards to the stream's own method of the same name; the I/O traits (tokio's
//! and futures-io's) come from `async_io.rs`.

/// Defines the halves of `$stream`, whose addresses are `$addr`, in the calling module, with
/// the functions `split(&mut $stream)` and `split_owned(Rc<$stream>)` that make them.
macro_rules! stream_halves {
    ($stream:ident, $addr:ty) => {
        use std::net::Shutdown;
        use std::rc::Rc;

        use $crate::io::{Interest, Ready};
        use $crate::net::async_io::{impl_async_read, impl_async_write};

        #[doc = concat!("The read half of a [`", stringify!($stream), "`], from [`",
            stringify!($stream), "::split`]. Implements tokio's and futures-io's `AsyncRead`.")]
        #[derive(Debug)]
        pub struct ReadHalf<'a>(&'a $stream);

        #[doc = concat!("The write half of a [`", stringify!($stream), "`], from [`",
            stringify!($stream), "::split`]. Implements tokio's and futures-io's `AsyncWrite`; ",
            "shutting it down shuts down the stream's write side.")]
        #[derive(Debug)]
        pub struct WriteHalf<'a>(&'a $stream);

        #[doc = concat!("The owned read half of a [`", stringify!($stream), "`], from [`",
            stringify!($stream), "::into_split`]. Implements tokio's and futures-io's `AsyncRead`.")]
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            inner: Rc<$stream>,
        }

        #[doc = concat!("The owned write half of a [`", stringify!($stream), "`], from [`",
            stringify!($stream), "::into_split`]. Implements tokio's and futures-io's `AsyncWrite`.")]
        ///
        /// Dropping it shuts down the stream's write side (the peer reads end-of-file), unless
        /// it was [`forget`](OwnedWriteHalf::forget)-ed or reunited.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            inner: Rc<$stream>,
            shutdown_on_drop: bool,
        }

        /// The error of [`OwnedReadHalf::reunite`]: the halves came from different streams.
        /// Gives them back.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("tried to reunite halves that are not from the same socket")
            }
        }

        impl std::error::Error for ReuniteError {}

        pub(crate) fn split(stream: &mut $stream) -> (ReadHalf<'_>, WriteHalf<'_>) {
            (ReadHalf(stream), WriteHalf(stream))
        }

        pub(crate) fn split_owned(stream: Rc<$stream>) -> (OwnedReadHalf, OwnedWriteHalf) {
            let write = OwnedWriteHalf {
                inner: stream.clone(),
                shutdown_on_drop: true,
            };
            (OwnedReadHalf { inner: stream }, write)
        }

        impl OwnedReadHalf {
            /// Puts the halves back together into the stream, if they came from the same one.
            ///
            /// # Errors
            ///
            /// [`ReuniteError`], holding both halves, if they did not.
            pub fn reunite(self, other: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                if !Rc::ptr_eq(&self.inner, &other.inner) {
                    return Err(ReuniteError(self, other));
                }
                let mut write = other;
                write.shutdown_on_drop = false;
                let inner = write.inner.clone();
                drop(write);
                drop(self.inner);
                Ok(Rc::try_unwrap(inner).expect("both halves were given up"))
            }
        }

        impl OwnedWriteHalf {
            /// Drops the half without shutting down the write side.
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }

            /// Puts the halves back together (see [`OwnedReadHalf::reunite`]).
            ///
            /// # Errors
            ///
            /// [`ReuniteError`] if they came from different streams.
            pub fn reunite(self, other: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                other.reunite(self)
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    let _ = self.inner.shutdown_std(Shutdown::Write);
                }
            }
        }

        $crate::net::split::half_methods!(ReadHalf<'_>, $stream, |h| h.0, $addr, read);
        $crate::net::split::half_methods!(WriteHalf<'_>, $stream, |h| h.0, $addr, write);
        $crate::net::split::half_methods!(OwnedReadHalf, $stream, |h| h.inner, $addr, read);
        $crate::net::split::half_methods!(OwnedWriteHalf, $stream, |h| h.inner, $addr, write);

        impl_async_read!(ReadHalf<'_>, [], |s| s.0.io());
        impl_async_write!(
            WriteHalf<'_>,
            [],
            |s| s.0.io(),
            close = |s| s.0.shutdown_std(Shutdown::Write)
        );
        impl_async_read!(OwnedReadHalf, [], |s| s.inner.io());
        impl_async_write!(
            OwnedWriteHalf,
            [],
            |s| s.inner.io(),
            close = |s| s.inner.shutdown_std(Shutdown::Write)
        );
    };
}

/// The methods of one half `$half` of a `$stream`, reached as `$get` (with `$h` bound to
/// `&self`): the addresses, `AsRef`, and the readiness and `try_*` methods of its direction
/// (`read` or `write`).
macro_rules! half_methods {
    ($half:ty, $stream:ty, |$h:ident| $get:expr, $addr:ty, $dir:ident) => {
        impl $half {
            /// The local address of the connection.
            ///
            /// # Errors
            ///
            /// As `getsockname(2)`.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                let $h = self;
                $get.local_addr()
            }

            /// The address of the peer.
            ///
            /// # Errors
            ///
            /// As `getpeername(2)`.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                let $h = self;
                $get.peer_addr()
            }

            /// Waits until the stream's readiness meets `interest` (see the stream's
            /// `ready`).
            ///
            /// # Errors
            ///
            /// When the runtime that owns the stream has shut down.
            pub async fn ready(&self, interest: Interest) -> std::io::Result<Ready> {
                let $h = self;
                $get.ready(interest).await
            }
        }

        impl AsRef<$stream> for $half {
            fn as_ref(&self) -> &$stream {
                let $h = self;
                &$get
            }
        }

        $crate::net::split::half_methods!(@$dir $half, |$h| $get);
    };
    (@read $half:ty, |$h:ident| $get:expr) => {
        impl $half {
            /// Waits until the stream may be readable (see the stream's `readable`).
            ///
            /// # Errors
            ///
            /// When the runtime that owns the stream has shut down.
            pub async fn readable(&self) -> std::io::Result<()> {
                let $h = self;
                $get.readable().await
            }

            /// Reads what is available now, else `WouldBlock` (see the stream's `try_read`).
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or as `read(2)`.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                let $h = self;
                $get.try_read(buf)
            }

            /// Reads into several buffers now, else `WouldBlock`.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or as `readv(2)`.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                let $h = self;
                $get.try_read_vectored(bufs)
            }

            /// Reads into `buf`'s spare capacity now, else `WouldBlock`.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or as `read(2)`.
            pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
                let $h = self;
                $get.try_read_buf(buf)
            }
        }
    };
    (@write $half:ty, |$h:ident| $get:expr) => {
        impl $half {
            /// Waits until the stream may be writable (see the stream's `writable`).
            ///
            /// # Errors
            ///
            /// When the runtime that owns the stream has shut down.
            pub async fn writable(&self) -> std::io::Result<()> {
                let $h = self;
                $get.writable().await
            }

            /// Writes what fits now, else `WouldBlock`.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or as `write(2)`.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                let $h = self;
                $get.try_write(buf)
            }

            /// Writes from several buffers now (`writev(2)`), else `WouldBlock`.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or as `writev(2)`.
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                let $h = self;
                $get.try_write_vectored(bufs)
            }
        }
    };
}

pub(crate) use {half_methods, stream_halves};
