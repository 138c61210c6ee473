//! hyper 1.x on weft (feature `hyper`): hyper's runtime traits implemented with weft's I/O,
//! tasks and timer.
//!
//! hyper 1.x names the runtime it needs through four traits in `hyper::rt`; this module
//! implements each with the weft piece that does the job:
//!
//! | hyper needs | weft gives | through |
//! |---|---|---|
//! | `rt::Read` + `rt::Write`: the connection's bytes | any tokio `AsyncRead` / `AsyncWrite` ([`TcpStream`](crate::net::TcpStream), …) | [`WeftIo`] |
//! | `rt::Timer`: header-read timeouts, keep-alive | [`time::sleep`] and the (pausable) weft clock | [`WeftTimer`] |
//! | `rt::Executor`: background tasks (HTTP/2 streams) | [`spawn`](crate::spawn) | [`WeftExecutor`] |
//!
//! An HTTP/1 server needs only the first two: it serves each connection as one future, which
//! the accept loop spawns as one weft task.
//!
//! # Examples
//!
//! A "Hello, World!" server and a client making one request to it, on one runtime:
//!
//! ```
//! use std::convert::Infallible;
//!
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::{Bytes, Incoming};
//! use hyper::service::service_fn;
//! use hyper::{Request, Response};
//! use weft::compat::hyper::{WeftIo, WeftTimer};
//! use weft::net::{TcpListener, TcpStream};
//!
//! async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from_static(b"Hello, World!"))))
//! }
//!
//! weft::run(async {
//!     // The server: one weft task per connection.
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     weft::spawn(async move {
//!         while let Ok((stream, _)) = listener.accept().await {
//!             let conn = hyper::server::conn::http1::Builder::new()
//!                 .timer(WeftTimer)
//!                 .serve_connection(WeftIo::new(stream), service_fn(hello));
//!             weft::spawn(conn);
//!         }
//!     });
//!
//!     // The client: the connection future runs as its own task.
//!     let stream = TcpStream::connect(addr).await?;
//!     let (mut sender, conn) = hyper::client::conn::http1::handshake(WeftIo::new(stream)).await?;
//!     weft::spawn(conn);
//!     let req = Request::get("/")
//!         .header("host", "localhost")
//!         .body(Empty::<Bytes>::new())?;
//!     let res = sender.send_request(req).await?;
//!     assert_eq!(res.status(), 200);
//!     assert_eq!(res.into_body().collect().await?.to_bytes(), "Hello, World!");
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! .unwrap();
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use ::hyper::rt::{self, ReadBufCursor};
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::time::{self, Instant};

pin_project! {
    /// An I/O object seen through the other ecosystem's traits: a tokio-io stream as
    /// hyper's `rt::Read` + `rt::Write`, or a hyper one as tokio's `AsyncRead` +
    /// `AsyncWrite` (what hyper-util's `TokioIo` does, without the dependency).
    ///
    /// The first is how a weft socket reaches hyper (`WeftIo::new(tcp_stream)`); the second
    /// is how a hyper-owned stream, such as an upgraded connection
    /// (`hyper::upgrade::Upgraded`), comes back to tokio-io code.
    ///
    /// Reads go straight into the unfilled (uninitialized) part of hyper's buffer, through
    /// tokio's `ReadBuf`. Writes forward `is_write_vectored` from `T` (true for weft's
    /// sockets), so hyper hands a response's head and body to one `writev(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::compat::hyper::WeftIo;
    ///
    /// weft::run(async {
    ///     let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let io = WeftIo::new(stream); // ready for hyper's `serve_connection` / `handshake`
    ///     assert_eq!(io.get_ref().peer_addr()?, listener.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// A hyper-owned stream as tokio-io:
    ///
    /// ```
    /// use weft::compat::hyper::WeftIo;
    /// use weft::io::{AsyncRead, AsyncWrite};
    ///
    /// fn is_tokio_io<T: AsyncRead + AsyncWrite>() {}
    /// is_tokio_io::<WeftIo<hyper::upgrade::Upgraded>>();
    /// ```
    #[derive(Debug)]
    pub struct WeftIo<T> {
        #[pin]
        inner: T,
    }
}

impl<T> WeftIo<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::compat::hyper::WeftIo;
    ///
    /// let io = WeftIo::new(std::io::Cursor::new(b"GET / HTTP/1.1\r\n\r\n".to_vec()));
    /// # let _ = io;
    /// ```
    pub fn new(inner: T) -> WeftIo<T> {
        WeftIo { inner }
    }

    /// The wrapped I/O object.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::compat::hyper::WeftIo;
    ///
    /// let io = WeftIo::new(std::io::Cursor::new(vec![1, 2, 3]));
    /// assert_eq!(io.get_ref().get_ref(), &[1, 2, 3]);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped I/O object, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::compat::hyper::WeftIo;
    ///
    /// let mut io = WeftIo::new(std::io::Cursor::new(vec![1, 2, 3]));
    /// io.get_mut().set_position(2);
    /// assert_eq!(io.get_ref().position(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped I/O object, pinned.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use weft::compat::hyper::WeftIo;
    ///
    /// let mut io = pin!(WeftIo::new(std::io::Cursor::new(vec![1, 2, 3])));
    /// assert_eq!(io.as_mut().get_pin_mut().get_ref().len(), 3);
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut T> {
        self.project().inner
    }

    /// Unwraps the I/O object.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::compat::hyper::WeftIo;
    ///
    /// let io = WeftIo::new(std::io::Cursor::new(vec![1, 2, 3]));
    /// assert_eq!(io.into_inner().into_inner(), [1, 2, 3]);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// tokio-io → hyper.
impl<T: AsyncRead> rt::Read for WeftIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `as_mut` requires that no byte of the slice be de-initialized. It goes only
        // into a tokio `ReadBuf`, whose safe API writes initialized bytes only.
        let dst = unsafe { buf.as_mut() };
        let start = dst.as_ptr().cast::<u8>();
        let mut tbuf = ReadBuf::uninit(dst);
        ready!(self.project().inner.poll_read(cx, &mut tbuf))?;
        // `AsyncRead` is a safe trait: an implementation may replace the `ReadBuf` it was
        // given with another one. The filled count below is only about our slice if the
        // `ReadBuf` still views it.
        assert!(
            std::ptr::eq(tbuf.filled().as_ptr(), start),
            "AsyncRead::poll_read swapped the ReadBuf it was given"
        );
        let n = tbuf.filled().len();
        // SAFETY: `ReadBuf` keeps its filled part initialized, and the assertion shows that
        // part is the first `n` bytes of hyper's unfilled slice: `advance(n)` marks only
        // initialized bytes as filled.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

/// tokio-io → hyper.
impl<T: AsyncWrite> rt::Write for WeftIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
}

/// hyper → tokio-io (e.g. `hyper::upgrade::Upgraded`).
impl<T: rt::Read> AsyncRead for WeftIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = {
            // SAFETY: `unfilled_mut` requires that no byte be de-initialized through the
            // slice; it goes only into a hyper `ReadBuf`, whose API writes initialized bytes
            // only (and cannot be replaced through the cursor hyper's reader gets).
            let mut hbuf = rt::ReadBuf::uninit(unsafe { buf.unfilled_mut() });
            ready!(self.project().inner.poll_read(cx, hbuf.unfilled()))?;
            hbuf.filled().len()
        };
        // SAFETY: hyper's `ReadBuf` keeps its filled part, the first `n` bytes of our
        // unfilled part, initialized.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// hyper → tokio-io (e.g. `hyper::upgrade::Upgraded`).
impl<T: rt::Write> AsyncWrite for WeftIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

/// hyper's `rt::Executor`: runs each future hyper hands over as a weft task ([`spawn`]).
///
/// An HTTP/1 connection never uses it. HTTP/2 (hyper's `http2` feature) runs every stream
/// as a task, and takes the executor in `hyper::server::conn::http2::Builder::new(exec)` and
/// `hyper::client::conn::http2::handshake(exec, io)`. hyper 1.x puts no `Send` bound on those
/// futures: the bound is the executor's own, and this one, like [`spawn`], takes futures that
/// are not `Send`, so the services may hold `Rc`s. The tasks go to the runtime of the thread
/// that calls `execute`, which for hyper is the thread polling the connection.
///
/// # Panics
///
/// `execute` panics if no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// use hyper::rt::Executor;
/// use weft::compat::hyper::WeftExecutor;
///
/// weft::run(async {
///     let (tx, rx) = weft::sync::oneshot::channel();
///     let not_send = Rc::new(7);
///     WeftExecutor.execute(async move {
///         let _ = tx.send(*not_send * 6);
///     });
///     assert_eq!(rx.await.unwrap(), 42);
/// });
/// ```
///
/// [`spawn`]: crate::spawn
#[derive(Clone, Copy, Debug, Default)]
pub struct WeftExecutor;

impl<F> rt::Executor<F> for WeftExecutor
where
    F: Future + 'static,
{
    #[track_caller]
    fn execute(&self, fut: F) {
        // Detached: hyper keeps its own handles (channels) to what the task does.
        drop(crate::spawn(fut));
    }
}

/// hyper's `rt::Timer` on the weft timer: what hyper's `header_read_timeout`, keep-alive
/// timeouts and friends sleep on.
///
/// Its clock is weft's ([`Instant::now`](crate::time::Instant::now)), so it follows a
/// paused runtime: a test with `start_paused` sees hyper's timeouts fire at once, at exactly
/// the configured time. hyper's HTTP/1 server arms its 30 s header-read timeout by default
/// once a timer is set.
///
/// The sleeps it returns wrap [`time::Sleep`] (`Send + Sync`, as hyper asks); like it, they
/// must be polled on the thread of the runtime they were made on. `reset` moves a weft sleep
/// in place (no new allocation, no new timer entry).
///
/// # Panics
///
/// `sleep` and `sleep_until` panic if no weft runtime is running on this thread (hyper calls
/// them while the connection is polled).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use hyper::rt::Timer;
/// use weft::compat::hyper::WeftTimer;
///
/// let rt = weft::Builder::new().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = WeftTimer.now();
///     WeftTimer.sleep(Duration::from_secs(30)).await;
///     assert_eq!(WeftTimer.now() - start, Duration::from_secs(30)); // at once: paused clock
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct WeftTimer;

impl rt::Timer for WeftTimer {
    #[track_caller]
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(WeftSleep(time::sleep(duration)))
    }

    #[track_caller]
    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(WeftSleep(time::sleep_until(Instant::from_std(deadline))))
    }

    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<WeftSleep>() {
            Some(weft) => Pin::new(&mut weft.get_mut().0).reset(Instant::from_std(new_deadline)),
            // Someone else's sleep: replace it, as hyper's default `reset` does.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A weft [`Sleep`](crate::time::Sleep) as hyper's `rt::Sleep`.
#[derive(Debug)]
struct WeftSleep(time::Sleep);

impl Future for WeftSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl rt::Sleep for WeftSleep {}
