//! [`UnixStream`].

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use std::rc::Rc;

use bytes::BufMut;

use crate::io::{Interest, PollEvented};
use crate::net::async_io::impl_async_io;
use crate::net::readiness::impl_readiness;
use crate::net::unix::socket_addr;
use crate::net::unix::split::{
    split, split_owned, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf,
};

/// A Unix domain stream socket.
///
/// Like [`TcpStream`](crate::net::TcpStream): tokio's and futures-io's `AsyncRead` and
/// `AsyncWrite` for `UnixStream` and `&UnixStream`; shutting down through `AsyncWrite` shuts
/// down the write side only.
///
/// # Examples
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use weft_reactor::net::UnixStream;
/// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
/// # rt.block_on(async {
/// let (mut a, mut b) = UnixStream::pair()?;
/// a.write_all(b"ping").await?;
/// a.shutdown().await?;
/// let mut got = String::new();
/// b.read_to_string(&mut got).await?;
/// assert_eq!(got, "ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UnixStream {
    io: PollEvented<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`. On Linux, a path that starts with a NUL byte
    /// (`"\0name"`) names a socket in the abstract namespace, as in tokio.
    ///
    /// # Errors
    ///
    /// As `connect(2)`: `NotFound` if nothing is at `path`, `ConnectionRefused` if nothing
    /// listens there, `WouldBlock` if the listener's backlog is full.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        UnixStream::connect_addr(&socket_addr(path.as_ref())?).await
    }

    /// Connects to the socket at `addr`: a path name, or (on Linux) an abstract name.
    ///
    /// # Errors
    ///
    /// As `connect(2)`, or when no weft runtime is running on this thread.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # async fn dox() -> std::io::Result<()> {
    /// use std::os::unix::net::SocketAddr;
    /// use weft_reactor::net::UnixStream;
    ///
    /// let addr = SocketAddr::from_pathname("/tmp/weft-doc.sock")?;
    /// let stream = UnixStream::connect_addr(&addr).await?;
    /// # drop(stream);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_addr(addr: &std::os::unix::net::SocketAddr) -> io::Result<UnixStream> {
        let io = PollEvented::new_connecting(mio::net::UnixStream::connect_addr(addr)?)?;
        io.ready(Interest::WRITABLE).await?;
        if let Some(e) = io.get_ref().take_error()? {
            return Err(e);
        }
        Ok(UnixStream { io })
    }

    pub(crate) fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// A pair of connected sockets.
    ///
    /// # Errors
    ///
    /// As `socketpair(2)`, or when no weft runtime is running on this thread.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        let fresh = |io| -> io::Result<UnixStream> {
            Ok(UnixStream {
                io: PollEvented::new_fresh_pair(io)?,
            })
        };
        Ok((fresh(a)?, fresh(b)?))
    }

    /// Adopts a standard stream into the current runtime (switching it to non-blocking).
    ///
    /// # Errors
    ///
    /// When no weft runtime is running on this thread, or registration fails.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// Deregisters the stream and returns it as a standard one (still non-blocking).
    ///
    /// # Errors
    ///
    /// When deregistration fails.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        self.io.into_inner().map(Into::into)
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// As `getpeername(2)`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side, or both, at once (see
    /// [`TcpStream::shutdown_std`](crate::net::TcpStream::shutdown_std)).
    ///
    /// # Errors
    ///
    /// As `shutdown(2)`.
    pub fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Reads what is available now, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `read(2)`.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf)
    }

    /// Reads into several buffers now (`readv(2)`), else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `readv(2)`.
    pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.try_read_vectored(bufs)
    }

    /// Reads into `buf`'s spare capacity now, else `WouldBlock` (see
    /// [`TcpStream::try_read_buf`](crate::net::TcpStream::try_read_buf)).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `read(2)`.
    pub fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.try_read_buf(buf)
    }

    /// Writes what fits now, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `write(2)`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_write(buf)
    }

    /// Writes from several buffers now (`writev(2)`), else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `writev(2)`.
    pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_write_vectored(bufs)
    }

    /// Splits the stream into a read half and a write half that borrow it, for use in one
    /// task. They cost nothing.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits the stream into owned halves, which can move into different tasks (see
    /// [`TcpStream::into_split`](crate::net::TcpStream::into_split)).
    ///
    /// # Examples
    ///
    /// ```
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    /// use weft_reactor::net::UnixStream;
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let (a, mut b) = UnixStream::pair()?;
    /// let (mut rd, mut wr) = a.into_split();
    /// wr.write_all(b"hey").await?;
    /// drop(wr); // shuts down a's write side
    /// let mut got = Vec::new();
    /// b.read_to_end(&mut got).await?;
    /// assert_eq!(got, b"hey");
    /// b.write_all(b"yo").await?;
    /// let mut buf = [0; 2];
    /// rd.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"yo");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(Rc::new(self))
    }

    pub(crate) fn io(&self) -> &PollEvented<mio::net::UnixStream> {
        &self.io
    }
}

impl_readiness!(UnixStream, poll_read_ready, poll_write_ready);

impl_async_io!(
    UnixStream,
    [],
    |s| s.io,
    close = |s| s.shutdown_std(Shutdown::Write)
);
impl_async_io!(
    &UnixStream,
    [],
    |s| s.io,
    close = |s| s.shutdown_std(Shutdown::Write)
);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl std::os::fd::AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for UnixStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
