//! [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use crate::io::{Direction, PollEvented};
use crate::net::addr::{resolve, ToSocketAddrs};
use crate::net::tcp::no_address;

/// A UDP socket.
///
/// Every method takes `&self`, so one socket can be shared (through an `Rc`) by a task that
/// sends and one that receives; several tasks may even await `recv` at once.
///
/// # Examples
///
/// ```
/// use weft_reactor::net::UdpSocket;
/// # let driver = weft_reactor::Driver::new().unwrap();
/// # let handle = driver.handle();
/// # let rt = weft_executor::Runtime::with_park(driver);
/// # let _enter = handle.enter();
/// # rt.block_on(async {
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr`; with several addresses, the first that binds.
    ///
    /// # Errors
    ///
    /// When no address binds (the last error is returned), none resolves, or no weft
    /// runtime is running on this thread.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let mut last = None;
        for addr in resolve(addr).await? {
            match mio::net::UdpSocket::bind(addr).and_then(UdpSocket::from_mio) {
                Ok(socket) => return Ok(socket),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_address))
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollEvented::new(socket)?,
        })
    }

    /// Adopts a standard socket into the current runtime (switching it to non-blocking).
    ///
    /// # Errors
    ///
    /// When no weft runtime is running on this thread, or registration fails.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    /// Deregisters the socket and returns it as a standard one (still non-blocking).
    ///
    /// # Errors
    ///
    /// When deregistration fails.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_inner().map(Into::into)
    }

    /// Sets the default destination of [`send`](UdpSocket::send) and the only source
    /// [`recv`](UdpSocket::recv) accepts: the first address of `addr` that connects.
    ///
    /// # Errors
    ///
    /// As `connect(2)`, or a resolution error.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::net::UdpSocket;
    /// # let driver = weft_reactor::Driver::new().unwrap();
    /// # let handle = driver.handle();
    /// # let rt = weft_executor::Runtime::with_park(driver);
    /// # let _enter = handle.enter();
    /// # rt.block_on(async {
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// b.connect(a.local_addr()?).await?;
    /// a.send(b"hi").await?;
    /// let mut buf = [0; 2];
    /// assert_eq!(b.recv(&mut buf).await?, 2);
    /// assert_eq!(a.peer_addr()?, b.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let mut last = None;
        for addr in resolve(addr).await? {
            match self.io.get_ref().connect(addr) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_address))
    }

    /// Sends `buf` to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// As `send(2)`: not connected, or `ConnectionRefused` after an ICMP "port
    /// unreachable" for an earlier datagram.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram was sent if and only if the future returned `Ok`.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer into `buf` (the rest of a longer one is
    /// discarded); returns its length.
    ///
    /// # Errors
    ///
    /// As `recv(2)`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no datagram is taken by a future that does not return it.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Sends `buf` to `target` (its first resolved address).
    ///
    /// # Errors
    ///
    /// As `sendto(2)`, or a resolution error.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let addr = resolve(target).await?.next().ok_or_else(no_address)?;
        self.io
            .async_io(Direction::Write, |s| s.send_to(buf, addr))
            .await
    }

    /// Receives a datagram into `buf`; returns its length and its source.
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

    /// Receives a datagram into `buf` without removing it from the queue.
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)` with `MSG_PEEK`.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Direction::Read, |s| s.peek_from(buf))
            .await
    }

    /// Polls to send `buf` to the connected peer. Only the task of the most recent
    /// `poll_send*` call is woken.
    ///
    /// # Errors
    ///
    /// As [`send`](UdpSocket::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
    }

    /// Polls to receive a datagram from the connected peer. Only the task of the most
    /// recent `poll_recv*` call is woken.
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))
    }

    /// Polls to send `buf` to `target`.
    ///
    /// # Errors
    ///
    /// As [`send_to`](UdpSocket::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
    }

    /// Polls to receive a datagram and its source.
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UdpSocket::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
    }

    /// Sends now if the socket can take it, else `WouldBlock`.
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

    /// Sends to `target` now if the socket can take it, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `sendto(2)`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send_to(buf, target))
    }

    /// Receives a datagram and its source now if one is queued, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recvfrom(2)`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from(buf))
    }

    /// Waits until the socket may be readable (it can report readiness that turns out
    /// false, see [`TcpStream::readable`](crate::net::TcpStream::readable)).
    ///
    /// # Errors
    ///
    /// When the runtime that owns the socket has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readiness(Direction::Read).await
    }

    /// Waits until the socket may be writable.
    ///
    /// # Errors
    ///
    /// When the runtime that owns the socket has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.readiness(Direction::Write).await
    }

    /// The local address of the socket.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` if [`connect`](UdpSocket::connect) was not called.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Whether broadcast (`SO_BROADCAST`) is allowed.
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Allows or forbids sending to broadcast addresses.
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// The IP time-to-live.
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the IP time-to-live.
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
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

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl std::os::fd::AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
