//! [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::{Context, Poll};

use bytes::BufMut;
use socket2::{SockAddr, SockRef};
use tokio::io::ReadBuf;

use crate::io::uninit::{recv_buf_mut, recv_from_buf_mut, recv_from_read_buf, recv_read_buf, Recv};
use crate::io::{Direction, Interest, PollEvented};
use crate::net::addr::{resolve, ToSocketAddrs};
use crate::net::readiness::impl_readiness;
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
/// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
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
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
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
        self.io.async_io(Interest::WRITABLE, |s| s.send(buf)).await
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
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
    }

    /// Sends `buf` to `target` (its first resolved address).
    ///
    /// # Errors
    ///
    /// As `sendto(2)`, or a resolution error.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let addr = resolve(target).await?.next().ok_or_else(no_address)?;
        self.io
            .async_io(Interest::WRITABLE, |s| s.send_to(buf, addr))
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
            .async_io(Interest::READABLE, |s| s.recv_from(buf))
            .await
    }

    /// Receives a datagram into `buf` without removing it from the queue.
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)` with `MSG_PEEK`.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| s.peek_from(buf))
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

    /// Polls to receive a datagram from the connected peer into `buf`'s unfilled part (the
    /// rest of a longer one is discarded). Only the task of the most recent `poll_recv*`
    /// call is woken. Tokio's signature: the datagram is what `buf` gained.
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.io
            .poll_io(cx, Direction::Read, |s| {
                recv_read_buf(SockRef::from(s), Recv::Plain, buf)
            })
            .map_ok(drop)
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

    /// Polls to receive a datagram into `buf`'s unfilled part; returns its source.
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UdpSocket::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Direction::Read, |s| {
            let (_, from) = recv_from_read_buf(SockRef::from(s), Recv::Plain, buf)?;
            inet(from)
        })
    }

    /// Polls to peek at the next datagram (it stays queued) into `buf`'s unfilled part;
    /// returns its source.
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)` with `MSG_PEEK`.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Direction::Read, |s| {
            let (_, from) = recv_from_read_buf(SockRef::from(s), Recv::Peek, buf)?;
            inet(from)
        })
    }

    /// Sends now if the socket can take it, else `WouldBlock`.
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

    /// Receives a datagram from the connected peer into `buf`'s spare capacity (a `Vec<u8>`
    /// or `BytesMut` grows if it has none), now if one is queued, else `WouldBlock`. A
    /// datagram longer than the spare capacity is cut.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recv(2)`.
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io
            .try_io(Interest::READABLE, |s| recv_buf_mut(SockRef::from(s), buf))
    }

    /// Receives a datagram from the connected peer into `buf`'s spare capacity, waiting
    /// for one.
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
    /// use weft_reactor::net::UdpSocket;
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// b.connect(a.local_addr()?).await?;
    /// a.send_to(b"datagram", b.local_addr()?).await?;
    /// let mut buf = Vec::with_capacity(64);
    /// assert_eq!(b.recv_buf(&mut buf).await?, 8);
    /// assert_eq!(buf, b"datagram");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io
            .async_io(Interest::READABLE, |s| recv_buf_mut(SockRef::from(s), buf))
            .await
    }

    /// Receives a datagram and its source into `buf`'s spare capacity now if one is
    /// queued, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recvfrom(2)`.
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| {
            let (n, from) = recv_from_buf_mut(SockRef::from(s), buf)?;
            Ok((n, inet(from)?))
        })
    }

    /// Receives a datagram and its source into `buf`'s spare capacity, waiting for one.
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
                Ok((n, inet(from)?))
            })
            .await
    }

    /// Sends to `target` now if the socket can take it, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `sendto(2)`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |s| s.send_to(buf, target))
    }

    /// Receives a datagram and its source now if one is queued, else `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recvfrom(2)`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Receives the next datagram from the connected peer into `buf` without removing it
    /// from the queue, waiting for one.
    ///
    /// # Errors
    ///
    /// As `recv(2)` with `MSG_PEEK`.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.peek(buf)).await
    }

    /// Like [`peek`](UdpSocket::peek), now or `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recv(2)` with `MSG_PEEK`.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.peek(buf))
    }

    /// Like [`peek_from`](UdpSocket::peek_from), now or `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recvfrom(2)` with `MSG_PEEK`.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.peek_from(buf))
    }

    /// The source of the next datagram, which stays queued, waiting for one. Unlike
    /// [`peek_from`](UdpSocket::peek_from) with a short buffer, this is correct on every
    /// platform (Windows reports a short buffer as an error).
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)` with `MSG_PEEK`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::net::UdpSocket;
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.send_to(b"who", b.local_addr()?).await?;
    /// assert_eq!(b.peek_sender().await?, a.local_addr()?);
    /// let mut buf = [0; 3];
    /// assert_eq!(b.recv_from(&mut buf).await?, (3, a.local_addr()?)); // still queued
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io
            .async_io(Interest::READABLE, |s| {
                inet(SockRef::from(s).peek_sender()?)
            })
            .await
    }

    /// Like [`peek_sender`](UdpSocket::peek_sender), now or `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `recvfrom(2)` with `MSG_PEEK`.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io(Interest::READABLE, |s| {
            inet(SockRef::from(s).peek_sender()?)
        })
    }

    /// Polls for the source of the next datagram (see
    /// [`peek_sender`](UdpSocket::peek_sender)).
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)` with `MSG_PEEK`.
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Direction::Read, |s| {
            inet(SockRef::from(s).peek_sender()?)
        })
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

    /// The IPv4 type-of-service byte (`IP_TOS`) this socket's datagrams carry.
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn tos_v4(&self) -> io::Result<u32> {
        SockRef::from(self.io.get_ref()).tos_v4()
    }

    /// Sets `IP_TOS`, the type-of-service byte of the IPv4 datagrams this socket sends.
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # async fn dox() -> std::io::Result<()> {
    /// let socket = weft_reactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.set_tos_v4(0x10)?; // IPTOS_LOWDELAY
    /// assert_eq!(socket.tos_v4()?, 0x10);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_tos_v4(tos)
    }

    /// The IPv6 traffic class (`IPV6_TCLASS`) this socket's datagrams carry.
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`; an IPv4 socket has none.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        SockRef::from(self.io.get_ref()).tclass_v6()
    }

    /// Sets `IPV6_TCLASS`, the traffic class of the IPv6 datagrams this socket sends.
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`; an IPv4 socket has none.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # async fn dox() -> std::io::Result<()> {
    /// let socket = weft_reactor::net::UdpSocket::bind("[::1]:0").await?;
    /// socket.set_tclass_v6(0x10)?;
    /// assert_eq!(socket.tclass_v6()?, 0x10);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_tclass_v6(tclass)
    }

    /// Whether multicast datagrams this socket sends to an IPv4 group loop back to the
    /// local host's members (`IP_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_LOOP` (on by default).
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// The time-to-live of multicast datagrams this socket sends (`IP_MULTICAST_TTL`).
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IP_MULTICAST_TTL` (1 by default: the datagrams stay on the local network).
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use weft_reactor::net::UdpSocket;
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let socket = UdpSocket::bind("0.0.0.0:0").await?;
    /// socket.set_multicast_ttl_v4(4)?;
    /// assert_eq!(socket.multicast_ttl_v4()?, 4);
    /// socket.set_multicast_loop_v4(false)?;
    /// assert!(!socket.multicast_loop_v4()?);
    /// # let _ = Ipv4Addr::UNSPECIFIED;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// Whether multicast datagrams this socket sends to an IPv6 group loop back
    /// (`IPV6_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface whose address is
    /// `interface` (`Ipv4Addr::UNSPECIFIED`: the kernel's choice). Tokio's signature (by
    /// value).
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)` with `IP_ADD_MEMBERSHIP`.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with index `interface`
    /// (0: the kernel's choice).
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)` with `IPV6_ADD_MEMBERSHIP`.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)` with `IP_DROP_MEMBERSHIP`.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv6 multicast group.
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)` with `IPV6_DROP_MEMBERSHIP`.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
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

impl_readiness!(UdpSocket, poll_recv_ready, poll_send_ready);

/// The IP address of a datagram's source (a UDP socket's peers are always IP).
fn inet(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP address"))
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
