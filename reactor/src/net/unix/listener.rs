//! [`UnixListener`].

use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{ready, Context, Poll};

use crate::io::{Direction, Interest, PollEvented};
use crate::net::accept::AcceptBackoff;
use crate::net::tcp::BACKLOG;
use crate::net::UnixStream;

/// A Unix domain socket server, listening for connections on a path.
///
/// Accept errors are handled as for [`TcpListener`](crate::net::TcpListener#accept-errors):
/// descriptor exhaustion is waited out (50 ms back-off), not returned.
///
/// # Examples
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use weft_reactor::net::{UnixListener, UnixStream};
/// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
/// # rt.block_on(async {
/// let path = std::env::temp_dir().join(format!("weft-doc-listener-{}.sock", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let mut client = UnixStream::connect(&path).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hi");
/// std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<mio::net::UnixListener>,
    backoff: AcceptBackoff,
}

impl UnixListener {
    /// Creates a listener bound to `path` (with a backlog of 1,024). Synchronous, as in
    /// tokio. The socket file is not removed when the listener is dropped.
    ///
    /// # Errors
    ///
    /// As `bind(2)` (`AddrInUse` if the file exists), or when no weft runtime is running on
    /// this thread.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        use socket2::{Domain, SockAddr, Socket, Type};
        // socket2 for the backlog: mio's `bind` picks its own.
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        socket.bind(&SockAddr::unix(path)?)?;
        socket.listen(BACKLOG)?;
        let std = std::os::unix::net::UnixListener::from(OwnedFd::from(socket));
        UnixListener::from_mio(mio::net::UnixListener::from_std(std))
    }

    /// Binds a listener to `addr`: a path name, or (on Linux) an abstract name.
    ///
    /// # Errors
    ///
    /// As `socket(2)`, `bind(2)` and `listen(2)`, or when no weft runtime is running on this
    /// thread.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # async fn dox() -> std::io::Result<()> {
    /// use std::os::unix::net::SocketAddr;
    /// use weft_reactor::net::UnixListener;
    ///
    /// let addr = SocketAddr::from_pathname("/tmp/weft-doc.sock")?;
    /// let listener = UnixListener::bind_addr(&addr)?;
    /// let (stream, _peer) = listener.accept().await?;
    /// # drop(stream);
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::from_mio(mio::net::UnixListener::bind_addr(addr)?)
    }

    fn from_mio(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: PollEvented::new(listener)?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Adopts a standard listener into the current runtime (switching it to non-blocking).
    ///
    /// # Errors
    ///
    /// When no weft runtime is running on this thread, or registration fails.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    /// Deregisters the listener and returns it as a standard one (still non-blocking).
    ///
    /// # Errors
    ///
    /// When deregistration fails.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.io.into_inner().map(Into::into)
    }

    /// Accepts a connection; returns the stream and the peer's (usually unnamed) address.
    ///
    /// # Errors
    ///
    /// As `accept(2)`, except that descriptor exhaustion is waited out.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        loop {
            self.backoff.wait(self.io.handle()).await;
            let accepted = self.io.async_io(Interest::READABLE, |l| l.accept()).await;
            match self.backoff.check(accepted) {
                Some(Ok((stream, addr))) => return Ok((UnixStream::from_mio(stream)?, addr)),
                Some(Err(e)) => return Err(e),
                None => {}
            }
        }
    }

    /// Polls for a connection. Only the task of the most recent call is woken.
    ///
    /// # Errors
    ///
    /// As [`accept`](UnixListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        loop {
            ready!(self.backoff.poll_wait(cx, self.io.handle()));
            let accepted = ready!(self.io.poll_io(cx, Direction::Read, |l| l.accept()));
            match self.backoff.check(accepted) {
                Some(Ok((stream, addr))) => {
                    return Poll::Ready(UnixStream::from_mio(stream).map(|s| (s, addr)))
                }
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => {}
            }
        }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
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

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl std::os::fd::AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for UnixListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
