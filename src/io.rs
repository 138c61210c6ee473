//! I/O traits and helpers: tokio's `tokio::io`, and [`Interest`] / [`Ready`] for the
//! sockets' readiness.
//!
//! The traits are tokio's own (`AsyncRead` with `ReadBuf`, `AsyncWrite`, ...), taken from the
//! tokio crate with its runtime features off, so tokio-util's codecs, tokio-rustls and
//! hyper-util's `TokioIo` run on weft's sockets unchanged. The helpers are tokio's too:
//! `AsyncReadExt::read_buf`, `AsyncBufReadExt::lines`, `BufReader`, `BufWriter`, `copy`,
//! `split`, `duplex`, ... ([`empty`], [`repeat`] and [`sink`] are weft's, with tokio's
//! API, so that they take from weft's cooperative budget).
//!
//! weft's sockets also implement futures-io's traits, for smol's ecosystem: those traits,
//! futures-util's extension traits and helpers are in [`io::futures`](mod@futures).
//!
//! # Examples
//!
//! ```
//! use weft::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use weft::net::{TcpListener, TcpStream};
//!
//! weft::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (server, _) = listener.accept().await?;
//!     client.write_all(b"one\ntwo\n").await?;
//!     client.shutdown().await?; // tokio's name: the write side only
//!     let mut lines = BufReader::new(server).lines();
//!     assert_eq!(lines.next_line().await?.as_deref(), Some("one"));
//!     assert_eq!(lines.next_line().await?.as_deref(), Some("two"));
//!     assert_eq!(lines.next_line().await?, None);
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! ```

mod util;

pub use std::io::{Error, ErrorKind, Result, SeekFrom};
pub use tokio::io::{
    copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf, duplex, join, simplex,
    split, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt,
    AsyncWrite, AsyncWriteExt, BufReader, BufStream, BufWriter, Chain, DuplexStream, Join, Lines,
    ReadBuf, ReadHalf, SimplexStream, Split, Take, WriteHalf,
};
pub use util::{empty, repeat, sink, Empty, Repeat, Sink};
pub use weft_reactor::{Interest, Ready};

/// futures-io's traits and futures-util's extension traits and helpers, for code of
/// smol's ecosystem: weft's sockets implement these traits too.
///
/// Import the extension traits from here *or* from `weft::io`, not both in one scope:
/// both name their methods `read`, `write_all`, ...
///
/// ```
/// use weft::io::futures::{AsyncReadExt, AsyncWriteExt};
/// use weft::net::UnixStream;
///
/// weft::run(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"smol").await?;
///     a.close().await?; // futures-io's name for shutting down the write side
///     let mut got = String::new();
///     b.read_to_string(&mut got).await?;
///     assert_eq!(got, "smol");
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub mod futures {
    pub use futures_util::io::*;
}
