//! [`UnixDatagram`].

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use std::task::{Context, Poll};

use bytes::BufMut;
use socket2::{SockAddr, SockRef};
use tokio::io::ReadBuf;

use crate::io::uninit::{recv_buf_mut, recv_from_buf_mut, recv_read_buf, Recv};
use crate::io::{Direction, Interest, PollEvented};
use crate::net::readiness::impl_readiness;
use crate::net::unix::{socket_addr, unix_addr};

/// A Unix domain datagram socket.
///
/// # Examples
///
/// ```
/// use weft_reactor::net::UnixDatagram;
/// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
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
    /// A socket bound to `path` (on Linux, `"\0name"` is an abstract name: see the
    /// [module](crate::net::unix) docs).
    ///
    /// # Errors
    ///
    /// As `bind(2)`, or when no weft runtime is running on this thread.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let addr = socket_addr(path.as_ref())?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::bind_addr(&addr)?)
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
        // socket2's address reads a leading NUL as an abstract name, as `bind` does.
        SockRef::from(self.io.get_ref()).connect(&SockAddr::unix(path)?)
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
        self.io.async_io(Interest::WRITABLE, |s| s.send(buf)).await
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
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
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
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
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
        let addr = SockAddr::unix(path)?;
        self.io
            .async_io(Interest::WRITABLE, |s| SockRef::from(s).send_to(buf, &addr))
            .await
    }

    /// Sends `buf` to the socket at `path` now if possible, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `sendto(2)`.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = SockAddr::unix(path)?;
        self.io
            .try_io(Interest::WRITABLE, |s| SockRef::from(s).send_to(buf, &addr))
    }

    /// Receives a datagram and its sender's address now if one is queued, else
    /// `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recvfrom(2)`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Receives a datagram from the connected peer into `buf`'s spare capacity (growing it
    /// if it has none), waiting for one.
    ///
    /// # Errors
    ///
    /// As `recv(2)`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::net::UnixDatagram;
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let (a, b) = UnixDatagram::pair()?;
    /// a.send(b"one").await?;
    /// let mut buf = Vec::new();
    /// assert_eq!(b.recv_buf(&mut buf).await?, 3);
    /// assert_eq!(buf, b"one");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io
            .async_io(Interest::READABLE, |s| recv_buf_mut(SockRef::from(s), buf))
            .await
    }

    /// Like [`recv_buf`](UnixDatagram::recv_buf), now or `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recv(2)`.
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io
            .try_io(Interest::READABLE, |s| recv_buf_mut(SockRef::from(s), buf))
    }

    /// Receives a datagram and its sender's address into `buf`'s spare capacity, waiting
    /// for one.
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| {
                let (n, from) = recv_from_buf_mut(SockRef::from(s), buf)?;
                Ok((n, unix_addr(&from)?))
            })
            .await
    }

    /// Like [`recv_buf_from`](UnixDatagram::recv_buf_from), now or `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recvfrom(2)`.
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| {
            let (n, from) = recv_from_buf_mut(SockRef::from(s), buf)?;
            Ok((n, unix_addr(&from)?))
        })
    }

    /// Polls to send `buf` to the connected peer. Only the most recent `poll_send*` caller
    /// is woken.
    ///
    /// # Errors
    ///
    /// As `send(2)`.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
    }

    /// Polls to receive a datagram from the connected peer into `buf`'s unfilled part.
    /// Only the most recent `poll_recv*` caller is woken.
    ///
    /// # Errors
    ///
    /// As `recv(2)`.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.io
            .poll_io(cx, Direction::Read, |s| {
                recv_read_buf(SockRef::from(s), Recv::Plain, buf)
            })
            .map_ok(drop)
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
            .async_io(Interest::READABLE, |s| s.recv_from(buf))
            .await
    }

    /// Sends now if possible, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `send(2)`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| s.send(buf))
    }

    /// Receives now if a datagram is queued, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recv(2)`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.recv(buf))
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

impl_readiness!(UnixDatagram, poll_recv_ready, poll_send_ready);

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
