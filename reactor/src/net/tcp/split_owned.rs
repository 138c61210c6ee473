//! Owned halves of a [`TcpStream`]: two `Rc`s of one stream, so each half can move into
//! its own task (on the same runtime).

use std::error::Error;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;

use crate::net::async_io::{impl_async_read, impl_async_write};
use crate::net::TcpStream;

/// The owned read half of a [`TcpStream`], from [`TcpStream::into_split`]. Implements
/// [`futures_io::AsyncRead`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Rc<TcpStream>,
}

/// The owned write half of a [`TcpStream`], from [`TcpStream::into_split`]. Implements
/// [`futures_io::AsyncWrite`].
///
/// Dropping it shuts down the stream's write side (the peer reads end-of-file), unless it
/// was [`forget`](OwnedWriteHalf::forget)-ed or reunited.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Rc<TcpStream>,
    shutdown_on_drop: bool,
}

/// The error of [`OwnedReadHalf::reunite`]: the halves came from different streams. Gives
/// them back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl Error for ReuniteError {}

pub(crate) fn split_owned(stream: Rc<TcpStream>) -> (OwnedReadHalf, OwnedWriteHalf) {
    (
        OwnedReadHalf {
            inner: stream.clone(),
        },
        OwnedWriteHalf {
            inner: stream,
            shutdown_on_drop: true,
        },
    )
}

impl OwnedReadHalf {
    /// Puts the halves back together into the stream, if they came from the same one.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`], holding both halves, if they did not.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let driver = weft_reactor::Driver::new().unwrap();
    /// # let handle = driver.handle();
    /// # let rt = weft_executor::Runtime::with_park(driver);
    /// # let _enter = handle.enter();
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = TcpStream::connect(listener.local_addr()?).await?;
    /// let (rd, wr) = stream.into_split();
    /// let stream = rd.reunite(wr).expect("same stream");
    /// # let _ = stream;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
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

    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Reads data without removing it from the queue (see [`TcpStream::peek`]).
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peek`].
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.peek(buf).await
    }

    /// Waits until the stream may be readable (see [`TcpStream::readable`]).
    ///
    /// # Errors
    ///
    /// As [`TcpStream::readable`].
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Reads what is available now (see [`TcpStream::try_read`]).
    ///
    /// # Errors
    ///
    /// As [`TcpStream::try_read`].
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_read(buf)
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
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        other.reunite(self)
    }

    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Waits until the stream may be writable (see [`TcpStream::writable`]).
    ///
    /// # Errors
    ///
    /// As [`TcpStream::writable`].
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Writes what fits now (see [`TcpStream::try_write`]).
    ///
    /// # Errors
    ///
    /// As [`TcpStream::try_write`].
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_write(buf)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.inner.shutdown(Shutdown::Write);
        }
    }
}

impl AsRef<TcpStream> for OwnedReadHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl_async_read!(OwnedReadHalf, [], |s| s.inner.io());
impl_async_write!(
    OwnedWriteHalf,
    [],
    |s| s.inner.io(),
    close = |s| s.inner.shutdown(Shutdown::Write)
);
