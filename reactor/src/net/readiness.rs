//! The readiness methods every socket type shares, as tokio's sockets have them: `ready`,
//! `readable`, `writable`, the `poll_*_ready` pair, `try_io` and `async_io`. One macro
//! writes them for a type whose `PollEvented` is its field `io`.

/// Implements the readiness methods for `$ty`; `$poll_read` / `$poll_write` name the
/// `poll_*_ready` pair (`poll_read_ready` for streams, `poll_recv_ready` for datagrams).
macro_rules! impl_readiness {
    ($ty:ident, $poll_read:ident, $poll_write:ident) => {
        impl $ty {
            /// Waits until the socket's readiness meets `interest`, and returns what the
            /// driver saw (tokio's `ready`). A hang-up satisfies reading and writing: the
            /// next operation reports it. The readiness can turn out false: a `try_*` call
            /// then returns `WouldBlock`, clears it, and the next wait is for the kernel.
            /// Several tasks may wait at once.
            ///
            /// # Errors
            ///
            /// When the runtime that owns the socket has shut down.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: dropping the future loses no readiness.
            pub async fn ready(
                &self,
                interest: $crate::Interest,
            ) -> std::io::Result<$crate::Ready> {
                self.io.ready(interest).await
            }

            /// Waits until the socket may be readable: `ready(Interest::READABLE)`.
            ///
            /// # Errors
            ///
            /// When the runtime that owns the socket has shut down.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.io.ready($crate::Interest::READABLE).await.map(drop)
            }

            /// Waits until the socket may be writable: `ready(Interest::WRITABLE)`.
            ///
            /// # Errors
            ///
            /// When the runtime that owns the socket has shut down.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.io.ready($crate::Interest::WRITABLE).await.map(drop)
            }

            /// Polls for read readiness, consuming a unit of the task's budget. Shares its
            /// waker slot with the other `poll_*` calls that read: only the task of the most
            /// recent one is woken (as in tokio).
            ///
            /// # Errors
            ///
            /// When the runtime that owns the socket has shut down.
            pub fn $poll_read(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io.poll_ready_budgeted(cx, $crate::io::Direction::Read)
            }

            /// Polls for write readiness (see the read side's method).
            ///
            /// # Errors
            ///
            /// When the runtime that owns the socket has shut down.
            pub fn $poll_write(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io
                    .poll_ready_budgeted(cx, $crate::io::Direction::Write)
            }

            /// Runs `f`, an operation of the caller's own on the socket (through its file
            /// descriptor), if the readiness meets `interest`; else returns `WouldBlock`
            /// without calling it. When `f` returns `WouldBlock`, the readiness is cleared,
            /// so `f` must only return it when the socket said so. Tokio's `try_io`.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or `f`'s error.
            pub fn try_io<R>(
                &self,
                interest: $crate::Interest,
                f: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.try_io(interest, |_| f())
            }

            /// Runs `f` until it does not return `WouldBlock`, waiting for readiness that
            /// meets `interest` in between (tokio's `async_io`; the contract on `f` is
            /// `try_io`'s).
            ///
            /// # Errors
            ///
            /// `f`'s error, or the runtime's shutdown.
            pub async fn async_io<R>(
                &self,
                interest: $crate::Interest,
                mut f: impl FnMut() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.async_io(interest, |_| f()).await
            }
        }
    };
}

pub(crate) use impl_readiness;
