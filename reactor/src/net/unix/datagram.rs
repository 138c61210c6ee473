//! [`UnixDatagram`].

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::io::{Direction, PollEvented};

/// A Unix domain datagram socket.
///
/// # Examples
///
/// ```
/// use weft_reactor::net::UnixDatagram;
/// # let driver = weft_reactor::Driver::new().unwrap();
/// # let handle = driver.handle();
/// # let rt = weft_executor::Runtime::with_park(driver);
/// # let _enter = handle.enter();
/// # rt.block_on(async {
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"one").await?;
/// let mut buf = [0; 8];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"one");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UnixDatagram {
    io: PollEvented<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path`.
    ///
    /// # Errors
    ///
    /// As `bind(2)`, or when no weft runtime is running on this thread.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address.
    ///
    /// # Errors
    ///
    /// As `socket(2)`, or when no weft runtime is running on this thread.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A pair of connected sockets.
    ///
    /// # Errors
    ///
    /// As `socketpair(2)`, or when no weft runtime is running on this thread.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: PollEvented::new(socket)?,
        })
    }

    /// Adopts a standard socket into the current runtime (switching it to non-blocking).
    ///
    /// # Errors
    ///
    /// When no weft runtime is running on this thread, or registration fails.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    /// Deregisters the socket and returns it as a standard one (still non-blocking).
    ///
    /// # Errors
    ///
    /// When deregistration fails.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.io.into_inner().map(Into::into)
    }

    /// Sets the peer of [`send`](UnixDatagram::send) and [`recv`](UnixDatagram::recv).
    ///
    /// # Errors
    ///
    /// As `connect(2)`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends `buf` to the connected peer.
    ///
    /// # Errors
    ///
    /// As `send(2)`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// As `recv(2)`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Sends `buf` to the socket at `path`.
    ///
    /// # Errors
    ///
    /// As `sendto(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::net::UnixDatagram;
    /// # let driver = weft_reactor::Driver::new().unwrap();
    /// # let handle = driver.handle();
    /// # let rt = weft_executor::Runtime::with_park(driver);
    /// # let _enter = handle.enter();
    /// # rt.block_on(async {
    /// let path = std::env::temp_dir().join(format!("weft-doc-dgram-{}.sock", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let server = UnixDatagram::bind(&path)?;
    /// let client = UnixDatagram::unbound()?;
    /// client.send_to(b"hello", &path).await?;
    /// let mut buf = [0; 8];
    /// let (n, _from) = server.recv_from(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"hello");
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .async_io(Direction::Write, |s| s.send_to(buf, path))
            .await
    }

    /// Receives a datagram and the address of its sender.
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Direction::Read, |s| s.recv_from(buf))
            .await
    }

    /// Sends now if possible, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `send(2)`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// Receives now if a datagram is queued, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recv(2)`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.recv(buf))
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// As `getpeername(2)`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Errors
    ///
    /// As `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
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
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl std::os::fd::AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for UnixDatagram {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
