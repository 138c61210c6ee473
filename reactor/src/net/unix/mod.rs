//! Unix domain sockets: [`UnixListener`], [`UnixStream`], [`UnixDatagram`].

mod datagram;
mod listener;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use stream::UnixStream;

/// The address of a Unix domain socket (std's).
pub use std::os::unix::net::SocketAddr;
