//! What every example server does the same way: accept at most N connections at once, tell
//! them when the server is full or shutting down, write with a deadline, and log what went
//! wrong without letting a client flood the log.
//!
//! ```no_run
//! use examples_common::serve::{Mode, Server};
//! use weft::net::TcpListener;
//!
//! # #[weft::main] async fn main() -> std::io::Result<()> {
//! let listener = TcpListener::bind("127.0.0.1:8080").await?;
//! let mut server = Server::new(1024);
//! server
//!     .run(&listener, |stream, mode| async move {
//!         // Serve `stream`; look at `mode` while waiting on the client.
//!         # let _ = (stream, mode);
//!         Ok(())
//!     })
//!     .await
//! # }
//! ```

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use log::LevelFilter;
use weft::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};
use weft::sync::{watch, OwnedSemaphorePermit, Semaphore};
use weft::task::JoinSet;

use crate::cli::Args;

/// The options every example server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// Connections served at once; at the cap, accept pauses.
    pub max_connections: usize,
    /// For a client to take [`WRITE_CHUNK`] bytes of what we send it.
    pub write_timeout: Duration,
    /// Which log lines are written.
    pub log_level: LevelFilter,
    /// Log lines a second, on average; past it they are dropped (and counted).
    pub log_rate: u32,
}

impl Options {
    /// The defaults, listening on `port`.
    pub fn new(port: u16) -> Options {
        Options {
            port,
            max_connections: 1024,
            write_timeout: Duration::from_secs(30),
            log_level: LevelFilter::Info,
            log_rate: 20,
        }
    }

    /// Installs the logger (see [`crate::logger`]) as these options say.
    pub fn init_logger(&self, program: &'static str) {
        crate::logger::init(program, self.log_level, self.log_rate);
    }

    /// Reads the options from `args`, with [`Options::new`]'s defaults.
    pub fn from_args(args: &mut Args, default_port: u16) -> Options {
        let d = Options::new(default_port);
        Options {
            port: args.port(d.port),
            max_connections: args.value(
                "--max-connections",
                d.max_connections,
                "connections served at once; at the cap, accept pauses",
            ),
            write_timeout: args.seconds(
                "--write-timeout",
                d.write_timeout,
                "for a client to take 64 KiB of what it is sent",
            ),
            log_level: args.value(
                "--log-level",
                d.log_level,
                "off, error, warn, info, debug or trace",
            ),
            log_rate: args.value(
                "--log-rate",
                d.log_rate,
                "log lines a second, on average; the rest are dropped and counted",
            ),
        }
    }
}

/// What the server asks of its connections, announced on a `watch` channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Business as usual.
    Serving,
    /// The server is at its connection cap and has stopped accepting. A connection that is
    /// waiting on its client (idle, or still receiving a request head) may close to make
    /// room for clients that are sending: each protocol decides.
    Full,
    /// The server is shutting down: idle connections close now, busy ones finish the request
    /// in hand, tell the client it was the last, and close.
    Draining,
}

/// The largest piece [`write_all_within`] gives the socket at a time: the write deadline is
/// per piece, so a slow reader must keep taking at least this much per deadline.
pub const WRITE_CHUNK: usize = 64 * 1024;

/// Where a [`Server`] takes its connections from.
pub trait Accept {
    /// The next connection; an error stops the server.
    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>>;
}

impl Accept for &TcpListener {
    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        TcpListener::accept(self).await
    }
}

/// Accepts connections and runs each as a task, at most `max_connections` at once.
///
/// At the cap, accept pauses (new clients wait in the kernel's listen queue) and [`Mode::Full`]
/// is announced until a connection ends.
#[derive(Debug)]
pub struct Server {
    max_connections: usize,
    permits: Arc<Semaphore>,
    mode: watch::Sender<Mode>,
    connections: JoinSet<()>,
}

impl Server {
    /// A server that will hold at most `max_connections` connections.
    pub fn new(max_connections: usize) -> Server {
        let (mode, _) = watch::channel(Mode::Serving);
        Server {
            max_connections,
            permits: Arc::new(Semaphore::new(max_connections)),
            mode,
            connections: JoinSet::new(),
        }
    }

    /// Accepts connections on `listener` and serves each with `serve(stream, mode)`, until
    /// accepting fails. Dropping the future stops accepting; the connections go on.
    ///
    /// # Errors
    ///
    /// The error that stopped the accept loop (weft's `accept` already waits out running out
    /// of descriptors, and skips connections reset before they were accepted).
    pub async fn run<F, Fut>(&mut self, listener: &TcpListener, serve: F) -> io::Result<()>
    where
        F: FnMut(TcpStream, watch::Receiver<Mode>) -> Fut,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        self.run_from(listener, serve).await
    }

    /// [`run`](Server::run) with connections from any [`Accept`] source (a listener, or
    /// the workers' balanced acceptor in [`crate::workers`]).
    ///
    /// # Errors
    ///
    /// The error that stopped the accept loop.
    pub async fn run_from<A, F, Fut>(&mut self, mut source: A, mut serve: F) -> io::Result<()>
    where
        A: Accept,
        F: FnMut(TcpStream, watch::Receiver<Mode>) -> Fut,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        loop {
            let permit = self.admit().await;
            let (stream, peer) = source.accept().await?;
            let connection = serve(stream, self.mode.subscribe());
            self.connections.spawn(async move {
                let _permit = permit; // the slot frees when the connection ends
                if let Err(e) = connection.await {
                    log_connection_error(peer, &e);
                }
            });
            // Forget the connections that ended, so the set stays as small as the server.
            while self.connections.try_join_next().is_some() {}
        }
    }

    /// A connection slot; waits for one while the server is full.
    async fn admit(&self) -> OwnedSemaphorePermit {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return permit;
        }
        log::warn!(
            "{} connections: accept paused until one ends",
            self.max_connections
        );
        self.mode.send_replace(Mode::Full);
        let permit = self.permits.clone().acquire_owned().await;
        self.mode.send_replace(Mode::Serving);
        permit.expect("the semaphore is never closed")
    }

    /// Shuts down gracefully: announces [`Mode::Draining`], waits up to `deadline` for the
    /// connections to finish, then cancels those left. Call it after the accept loop has
    /// stopped (and the listener is dropped).
    pub async fn drain(&mut self, deadline: Duration) {
        self.mode.send_replace(Mode::Draining);
        log::info!(
            "stopping; waiting up to {deadline:?} for {} connection(s)",
            self.connections.len()
        );
        let connections = &mut self.connections;
        let drained = weft::time::timeout(deadline, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            log::warn!(
                "deadline passed, cancelling {} connection(s)",
                self.connections.len()
            );
            self.connections.shutdown().await;
        }
    }
}

/// Logs why a connection ended badly: a peer that went away or stalled is routine (debug),
/// anything else is a warning. Either way the logger drops lines past its rate.
pub fn log_connection_error(peer: SocketAddr, e: &io::Error) {
    if is_routine(e) {
        log::debug!("{peer}: {e}");
    } else {
        log::warn!("{peer}: {e}");
    }
}

/// A peer that reset, went away mid-message, or was timed out.
fn is_routine(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::TimedOut
    )
}

/// The error for a peer that missed a deadline.
pub fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what.to_string())
}

/// Writes all of `buf`, [`WRITE_CHUNK`] bytes at a time; fails with `TimedOut` if the peer
/// does not take a piece within `stall` (a client that stopped reading).
///
/// # Errors
///
/// The socket's error, or `TimedOut`.
pub async fn write_all_within<W>(w: &mut W, buf: &[u8], stall: Duration) -> io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    for piece in buf.chunks(WRITE_CHUNK) {
        weft::time::timeout(stall, w.write_all(piece))
            .await
            .map_err(|_| timed_out("stopped reading"))??;
    }
    Ok(())
}

/// How long [`linger`] keeps reading what the client still sends.
pub const LINGER: Duration = Duration::from_secs(2);

/// Closes a connection whose last reply is written, so that the client gets to read it:
/// shuts down our side, then [`linger`]s.
pub async fn close_after_reply(mut stream: TcpStream) {
    if stream.shutdown().await.is_ok() {
        linger(&mut stream).await;
    }
}

/// Reads and discards what the client still sends, until it closes too, for at most
/// [`LINGER`]. Call it after shutting down the write side on a last reply.
///
/// Closing a socket with unread input makes the kernel send a reset, which can destroy the
/// last reply before the client reads it (a client still sending a body we refused, more
/// pipelined requests, the rest of an endless line).
pub async fn linger<R: AsyncRead + Unpin>(reader: &mut R) {
    let mut sink = [0u8; 4096];
    let _ = weft::time::timeout(LINGER, async {
        while let Ok(1..) = reader.read(&mut sink).await {}
    })
    .await;
}
