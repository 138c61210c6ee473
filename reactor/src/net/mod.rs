//! Networking: TCP, UDP and Unix domain sockets, driven by the runtime's reactor. The
//! weft facade re-exports this module as `weft::net`.
//!
//! The types mirror tokio's `tokio::net`: `bind` and `connect` are `async` and accept
//! anything [`ToSocketAddrs`] does; `accept().await` gives `(stream, address)`; streams and
//! their halves implement tokio's `AsyncRead` / `AsyncWrite` (so tokio-util, tokio-rustls
//! and hyper-util run on them) and futures-io's (for smol's ecosystem). They belong to the
//! runtime they were created in (they are `!Send`); to move a socket to another runtime's
//! thread, convert it with `into_std` and adopt it there with `from_std`.
//!
//! Every operation consumes a unit of the task's cooperative budget, so a task that always
//! finds its socket ready still lets the others run.
//!
//! With `futures_util::AsyncReadExt` in scope, `stream.split()` on a `TcpStream` value
//! resolves to futures' by-value `split` (two halves behind a lock), not to
//! [`TcpStream::split`]: write `TcpStream::split(&mut stream)` or `(&mut stream).split()`
//! for the free borrowed halves. tokio's extension traits have no such method.
//!
//! # Readiness
//!
//! Every socket has tokio's readiness methods: `ready(interest)` (with [`Interest`](crate::Interest)
//! and [`Ready`](crate::Ready)), `readable()` / `writable()`, a `poll_*_ready` pair, `try_io` /
//! `async_io` for operations of one's own, and the `try_*` operations that never wait:
//!
//! ```
//! use weft_reactor::net::{TcpListener, TcpStream};
//! use weft_reactor::Interest;
//! # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
//! # rt.block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let client = TcpStream::connect(listener.local_addr()?).await?;
//! let (server, _) = listener.accept().await?;
//! let ready = client.ready(Interest::READABLE | Interest::WRITABLE).await?;
//! assert!(ready.is_writable());
//! client.try_write(b"hi")?;
//! let mut buf = [0; 2];
//! loop {
//!     server.readable().await?;
//!     match server.try_read(&mut buf) {
//!         Ok(n) => { assert_eq!(&buf[..n], &b"hi"[..n]); break }
//!         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
//!         Err(e) => return Err(e),
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Examples
//!
//! ```
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use weft_reactor::net::{TcpListener, TcpStream};
//!
//! # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
//! # rt.block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! // The server: one task per connection, each echoing until its client closes.
//! let server = weft_executor::spawn(async move {
//!     loop {
//!         let (mut socket, _) = listener.accept().await?;
//!         drop(weft_executor::spawn(async move {
//!             let (mut rd, mut wr) = TcpStream::split(&mut socket);
//!             tokio::io::copy(&mut rd, &mut wr).await
//!         }));
//!     }
//!     #[allow(unreachable_code)]
//!     Ok::<(), std::io::Error>(())
//! });
//!
//! let mut client = TcpStream::connect(addr).await?;
//! client.write_all(b"echo me").await?;
//! let mut buf = [0; 7];
//! client.read_exact(&mut buf).await?;
//! assert_eq!(&buf, b"echo me");
//! server.cancel();
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

mod accept;
mod addr;
mod async_io;
mod readiness;
mod split;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
