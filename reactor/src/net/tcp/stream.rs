//! [`TcpStream`].

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use std::task::{Context, Poll};

use bytes::BufMut;
use tokio::io::ReadBuf;

use crate::io::uninit::{recv_read_buf, Recv};
use crate::io::{Direction, Interest, PollEvented};
use crate::net::addr::{resolve, ToSocketAddrs};
use crate::net::async_io::impl_async_io;
use crate::net::readiness::impl_readiness;
use crate::net::tcp::no_address;
use crate::net::tcp::split::{
    split, split_owned, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf,
};

/// A TCP connection.
///
/// Reading and writing go through tokio's `AsyncRead` and `AsyncWrite` (with
/// `tokio::io::{AsyncReadExt, AsyncWriteExt}` for `read`, `write_all`, ...), and also through
/// futures-io's, implemented for `TcpStream` and for `&TcpStream`. Shutting it down through
/// `AsyncWrite` (`shutdown().await`, or futures-io's `close().await`) shuts down the write
/// side only; dropping it closes the socket.
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
/// let mut client = TcpStream::connect(listener.local_addr()?).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"ping").await?;
/// client.shutdown().await?; // the server reads end-of-file after "ping"
/// let mut got = Vec::new();
/// server.read_to_end(&mut got).await?;
/// assert_eq!(got, b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`. If it resolves to several addresses, each is tried in turn until
    /// one connects.
    ///
    /// # Errors
    ///
    /// The error of the last address tried (`ConnectionRefused` when nothing listens
    /// there), or a resolution error, or no weft runtime running on this thread.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the socket of the attempt under way.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let port = listener.local_addr()?.port();
    /// let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    /// assert_eq!(stream.peer_addr()?.port(), port);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in resolve(addr).await? {
            match TcpStream::connect_addr(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_address))
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let io = PollEvented::new_connecting(mio::net::TcpStream::connect(addr)?)?;
        // The connect is finished (or failed) when the socket turns writable. mio: check
        // `take_error`, then `peer_addr`; `NotConnected` means "not yet" (a spurious event).
        loop {
            io.ready(Interest::WRITABLE).await?;
            if let Some(e) = io.get_ref().take_error()? {
                return Err(e);
            }
            match io.get_ref().peer_addr() {
                Ok(_) => return Ok(TcpStream { io }),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    io.clear_readiness(Direction::Write)
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A stream accepted from a listener: usable at once.
    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Adopts a connected standard stream into the current runtime. It is switched to
    /// non-blocking mode.
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
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let stream = weft_reactor::net::TcpStream::from_std(std)?;
    /// # let _ = stream;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Deregisters the stream and returns it as a standard one (still non-blocking).
    ///
    /// # Errors
    ///
    /// When deregistration fails.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_inner().map(Into::into)
    }

    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As `getpeername(2)`: `NotConnected` once the peer is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side, or both (`shutdown(2)`), at once. Pending
    /// and later operations on a shut down side return at once (reads: end-of-file; writes:
    /// an error). Named as std's, not `shutdown`, so that tokio's
    /// `AsyncWriteExt::shutdown().await`, which shuts down the write side, is the method
    /// `stream.shutdown()` finds, as on tokio's `TcpStream`.
    ///
    /// # Errors
    ///
    /// As `shutdown(2)`: `NotConnected` when the connection is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use tokio::io::AsyncReadExt;
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut server, _) = listener.accept().await?;
    /// client.shutdown_std(Shutdown::Write)?;
    /// assert_eq!(server.read(&mut [0; 8]).await?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Whether `TCP_NODELAY` is set (Nagle's algorithm off).
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `TCP_NODELAY`: small writes go out at once instead of waiting for the ACK of
    /// earlier ones (which a peer may delay by 40 ms).
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_nodelay(true)?;
    /// assert!(stream.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        socket2::SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes dropping the stream reset the
    /// connection (the peer gets `ECONNRESET`) instead of closing it gracefully.
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_linger(Some(Duration::ZERO))?;
    /// assert_eq!(stream.linger()?, Some(Duration::ZERO));
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        socket2::SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// Sets `SO_LINGER` to zero: closing the socket then resets the connection (an RST, not
    /// a FIN), discarding unsent data, and leaves no `TIME_WAIT` behind. The same as
    /// [`set_linger(Some(Duration::ZERO))`](Self::set_linger).
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
    /// let stream = weft_reactor::net::TcpStream::connect("127.0.0.1:8080").await?;
    /// stream.set_zero_linger()?;
    /// assert_eq!(stream.linger()?, Some(std::time::Duration::ZERO));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(Duration::ZERO))
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

    /// Reads what is available now without waiting: `WouldBlock` if nothing is.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `read(2)`.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf)
    }

    /// Like [`try_read`](TcpStream::try_read), into several buffers (`readv(2)`).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `readv(2)`.
    pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.try_read_vectored(bufs)
    }

    /// Like [`try_read`](TcpStream::try_read), into `buf`'s spare capacity (a `Vec<u8>` or
    /// `BytesMut` grows if it has none), without zeroing it first. Returns the bytes read;
    /// `Ok(0)` is end-of-file.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `read(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, _) = listener.accept().await?;
    /// client.writable().await?;
    /// client.try_write(b"bytes")?;
    /// let mut got = Vec::with_capacity(16);
    /// while got.len() < 5 {
    ///     server.readable().await?;
    ///     match server.try_read_buf(&mut got) {
    ///         Ok(_) => {}
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// assert_eq!(got, b"bytes");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.try_read_buf(buf)
    }

    /// Writes what fits now without waiting: `WouldBlock` if nothing does.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `write(2)`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_write(buf)
    }

    /// Like [`try_write`](TcpStream::try_write), from several buffers (`writev(2)`).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as `writev(2)`.
    pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_write_vectored(bufs)
    }

    /// Reads data without removing it from the socket's queue, waiting until some is there.
    ///
    /// # Errors
    ///
    /// As `recv(2)` with `MSG_PEEK`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tokio::io::AsyncWriteExt;
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, _) = listener.accept().await?;
    /// client.write_all(b"x").await?;
    /// let mut buf = [0; 1];
    /// assert_eq!(server.peek(&mut buf).await?, 1);
    /// assert_eq!(server.peek(&mut buf).await?, 1); // still there
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.peek(buf)).await
    }

    /// Polls to peek into `buf`'s unfilled part; returns the bytes peeked (also marked
    /// filled). Shares its waker slot with `poll_read` (see
    /// [`poll_read_ready`](TcpStream::poll_read_ready)).
    ///
    /// # Errors
    ///
    /// As `recv(2)` with `MSG_PEEK`.
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| {
            recv_read_buf(socket2::SockRef::from(s), Recv::Peek, buf)
        })
    }

    /// Splits the stream into a read half and a write half that borrow it, for use in one
    /// task (e.g. with `join`). They cost nothing.
    ///
    /// With `futures_util::AsyncReadExt` in scope, `stream.split()` resolves to that trait's
    /// by-value `split` instead (method lookup tries `self` before `&mut self`): call
    /// `TcpStream::split(&mut stream)` or `(&mut stream).split()` then.
    ///
    /// # Examples
    ///
    /// ```
    /// use tokio::io::{copy, AsyncWriteExt};
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut server, _) = listener.accept().await?;
    /// client.write_all(b"echo").await?;
    /// client.shutdown().await?;
    /// let (mut rd, mut wr) = server.split();
    /// assert_eq!(copy(&mut rd, &mut wr).await?, 4); // echo until end-of-file
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits the stream into owned halves, which can move into different tasks.
    /// Dropping the write half shuts down the write side (unless it was
    /// [`forget`](OwnedWriteHalf::forget)-ed); [`OwnedReadHalf::reunite`] puts them back
    /// together.
    ///
    /// # Examples
    ///
    /// ```
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    /// use weft_reactor::net::{TcpListener, TcpStream};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut server, _) = listener.accept().await?;
    /// let (mut rd, mut wr) = client.into_split();
    /// let writer = weft_executor::spawn(async move { wr.write_all(b"hey").await });
    /// let mut buf = [0; 3];
    /// server.read_exact(&mut buf).await?;
    /// writer.await.unwrap()?;
    /// server.write_all(b"yo").await?;
    /// rd.read_exact(&mut buf[..2]).await?;
    /// assert_eq!(&buf[..2], b"yo");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(Rc::new(self))
    }

    pub(crate) fn io(&self) -> &PollEvented<mio::net::TcpStream> {
        &self.io
    }
}

impl_readiness!(TcpStream, poll_read_ready, poll_write_ready);

impl_async_io!(
    TcpStream,
    [],
    |s| s.io,
    close = |s| s.shutdown_std(Shutdown::Write)
);
impl_async_io!(
    &TcpStream,
    [],
    |s| s.io,
    close = |s| s.shutdown_std(Shutdown::Write)
);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
