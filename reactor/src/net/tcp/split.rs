//! Borrowed halves of a [`TcpStream`]: two views of one `&TcpStream`, free to make.

use std::io;
use std::net::{Shutdown, SocketAddr};

use crate::net::async_io::{impl_async_read, impl_async_write};
use crate::net::TcpStream;

/// The read half of a [`TcpStream`], from [`TcpStream::split`]. Implements
/// [`futures_io::AsyncRead`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The write half of a [`TcpStream`], from [`TcpStream::split`]. Implements
/// [`futures_io::AsyncWrite`]; closing it shuts down the stream's write side.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

pub(crate) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

impl ReadHalf<'_> {
    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// Reads data without removing it from the queue (see [`TcpStream::peek`]).
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peek`].
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.peek(buf).await
    }
}

impl WriteHalf<'_> {
    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }
}

impl AsRef<TcpStream> for ReadHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for WriteHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl_async_read!(ReadHalf<'_>, [], |s| s.0.io());
impl_async_write!(
    WriteHalf<'_>,
    [],
    |s| s.0.io(),
    close = |s| s.0.shutdown(Shutdown::Write)
);
