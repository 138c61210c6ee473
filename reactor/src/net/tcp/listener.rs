//! [`TcpListener`] and the accept loop's back-off.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use crate::io::{Direction, Interest, PollEvented};
use crate::net::accept::AcceptBackoff;
use crate::net::addr::{resolve, ToSocketAddrs};
use crate::net::TcpStream;

/// The listen backlog of every listener. A burst of a few hundred connects overflows the
/// traditional 128 and makes clients wait a full second for their SYN to be retransmitted.
pub(crate) const BACKLOG: i32 = 1024;

/// A TCP socket server, listening for connections.
///
/// # Accept errors
///
/// When the process (`EMFILE`) or the system (`ENFILE`) is out of file descriptors, or the
/// kernel out of socket buffers (`ENOBUFS`, `ENOMEM`), the pending connection stays queued
/// and [`accept`](TcpListener::accept) backs off: it waits 50 ms (on the runtime's timer) and
/// tries again, instead of spinning on the error or returning it (which ends most accept
/// loops). A connection that failed before it was accepted (`ECONNABORTED`, `ECONNRESET`)
/// is skipped. Other errors are returned.
///
/// # Examples
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use weft_reactor::net::{TcpListener, TcpStream};
///
/// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
/// # rt.block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let server = weft_executor::spawn(async move {
///     let (mut socket, _peer) = listener.accept().await?;
///     let mut buf = [0; 5];
///     socket.read_exact(&mut buf).await?;
///     socket.write_all(&buf).await?;
///     Ok::<_, std::io::Error>(())
/// });
/// let mut client = TcpStream::connect(addr).await?;
/// client.write_all(b"hello").await?;
/// let mut buf = [0; 5];
/// client.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hello");
/// server.await.unwrap()?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
    backoff: AcceptBackoff,
}

impl TcpListener {
    /// Binds a listener to `addr` (with `SO_REUSEADDR` and a backlog of 1,024). If `addr`
    /// resolves to several addresses, each is tried in turn until one binds.
    ///
    /// # Errors
    ///
    /// When no address binds (the last error is returned), none resolves, or no weft
    /// runtime is running on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = weft_reactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// assert_ne!(listener.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        TcpListener::bind_with(addr, false).await
    }

    /// Binds a listener to `addr` with `SO_REUSEPORT` as well: several listeners (one per
    /// thread-per-core worker, say) may bind the same address, and the kernel spreads the
    /// incoming connections between them (on Linux, by a hash of the connection's
    /// addresses). Every listener on the port must set it, and all must belong to the same
    /// user. Otherwise as [`bind`](TcpListener::bind).
    ///
    /// # Errors
    ///
    /// As [`bind`](TcpListener::bind), and where the OS has no `SO_REUSEPORT`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// use weft_reactor::net::TcpListener;
    ///
    /// let a = TcpListener::bind_reuseport("127.0.0.1:0").await?;
    /// let b = TcpListener::bind_reuseport(a.local_addr()?).await?; // the same port
    /// assert_eq!(a.local_addr()?, b.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn bind_reuseport<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        TcpListener::bind_with(addr, true).await
    }

    /// Binds to the first of `addr`'s addresses that works; the last error if none does.
    async fn bind_with<A: ToSocketAddrs>(addr: A, reuse_port: bool) -> io::Result<TcpListener> {
        let mut last = None;
        for addr in resolve(addr).await? {
            match bind_addr_with(addr, reuse_port).and_then(TcpListener::from_mio) {
                Ok(listener) => return Ok(listener),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_address))
    }

    fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new(listener)?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Adopts a standard listener (which should already listen) into the current runtime.
    /// It is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// When no weft runtime is running on this thread, or registration fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let std = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = weft_reactor::net::TcpListener::from_std(std)?;
    /// # let _ = listener;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    /// Deregisters the listener and returns it as a standard one (still non-blocking).
    ///
    /// # Errors
    ///
    /// When deregistration fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = weft_reactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let std = listener.into_std()?;
    /// # let _ = std;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_inner().map(Into::into)
    }

    /// Accepts a new connection, returning the stream and the peer's address.
    ///
    /// Several tasks may await `accept` on one listener at once (through an `Rc`): each
    /// connection goes to one of them.
    ///
    /// # Errors
    ///
    /// See [Accept errors](TcpListener#accept-errors): resource exhaustion is waited out, not
    /// returned.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a connection is only taken from the kernel by a poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, peer) = listener.accept().await?;
    /// assert_eq!(peer, client.local_addr()?);
    /// assert_eq!(server.peer_addr()?, client.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        loop {
            self.backoff.wait(self.io.handle()).await;
            let accepted = self.io.async_io(Interest::READABLE, |l| l.accept()).await;
            match self.backoff.check(accepted) {
                Some(Ok((stream, addr))) => return Ok((TcpStream::from_mio(stream)?, addr)),
                Some(Err(e)) => return Err(e),
                None => {}
            }
        }
    }

    /// Polls for a connection: `Ready` with one, or `Pending` after remembering the waker.
    ///
    /// Only the task of the most recent call is woken (as with tokio's `poll_accept`): one
    /// task at a time should poll a listener this way; [`accept`](TcpListener::accept)
    /// has no such limit.
    ///
    /// # Errors
    ///
    /// As for [`accept`](TcpListener::accept).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let _client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (_stream, _peer) = poll_fn(|cx| listener.poll_accept(cx)).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        loop {
            ready!(self.backoff.poll_wait(cx, self.io.handle()));
            let accepted = ready!(self.io.poll_io(cx, Direction::Read, |l| l.accept()));
            match self.backoff.check(accepted) {
                Some(Ok((stream, addr))) => {
                    return Poll::Ready(Ok((TcpStream::from_mio(stream)?, addr)))
                }
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => {}
            }
        }
    }

    /// A stream of incoming connections: [`accept`](TcpListener::accept) in a loop, without
    /// the peer addresses. It never ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// let _a = TcpStream::connect(addr).await?;
    /// let _b = TcpStream::connect(addr).await?;
    /// let mut incoming = listener.incoming();
    /// for _ in 0..2 {
    ///     let stream = incoming.next().await.unwrap()?;
    ///     assert_eq!(stream.local_addr()?, addr);
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = weft_reactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// assert!(listener.local_addr()?.ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The IP time-to-live of accepted sockets.
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = weft_reactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// listener.set_ttl(42)?;
    /// assert_eq!(listener.ttl()?, 42);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the IP time-to-live of accepted sockets.
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }
}

/// Creates, configures, binds and listens: `SO_REUSEADDR` so that a restarted server can
/// bind while old connections linger in `TIME_WAIT`, and our own backlog (mio's `bind`
/// uses 128), and `SO_REUSEPORT` if asked. All need `socket2`: std and mio offer neither.
fn bind_addr_with(addr: SocketAddr, reuse_port: bool) -> io::Result<mio::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    // `Socket::new` sets close-on-exec.
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

pub(crate) fn no_address() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any address",
    )
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

/// The stream of [`TcpListener::incoming`]: yields each accepted connection, never ends.
///
/// Polling it uses [`TcpListener::poll_accept`], so one task at a time should poll it.
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let (stream, _) = ready!(self.listener.poll_accept(cx))?;
        Poll::Ready(Some(Ok(stream)))
    }
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("listener", self.listener)
            .finish()
    }
}
