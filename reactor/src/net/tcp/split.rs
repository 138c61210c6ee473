//! The halves of a [`TcpStream`]: see `net/split.rs` for the four types and their common
//! methods. TCP's read halves can also peek.

use std::io;
use std::task::{Context, Poll};

use crate::net::split::stream_halves;
use crate::net::TcpStream;

stream_halves!(TcpStream, std::net::SocketAddr);

/// Peeking, on both read halves.
macro_rules! peek_methods {
    ($half:ty, |$h:ident| $get:expr) => {
        impl $half {
            /// Reads data without removing it from the queue, waiting until some is there
            /// (see [`TcpStream::peek`]).
            ///
            /// # Errors
            ///
            /// As [`TcpStream::peek`].
            pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let $h = self;
                $get.peek(buf).await
            }

            /// Polls to peek into `buf` (see [`TcpStream::poll_peek`]).
            ///
            /// # Errors
            ///
            /// As [`TcpStream::poll_peek`].
            pub fn poll_peek(
                &mut self,
                cx: &mut Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<usize>> {
                let $h = self;
                $get.poll_peek(cx, buf)
            }
        }
    };
}

peek_methods!(ReadHalf<'_>, |h| h.0);
peek_methods!(OwnedReadHalf, |h| h.inner);
