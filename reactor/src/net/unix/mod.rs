//! Unix domain sockets: [`UnixListener`], [`UnixStream`] and its halves, [`UnixDatagram`].
//!
//! On Linux, every path these types take (to bind, connect or send to) may name a socket
//! in the abstract namespace instead of the file system, as tokio's do: a path whose first
//! byte is NUL (`"\0name"`) is the abstract name made of the bytes after it.

mod datagram;
mod listener;
mod split;
mod stream;

use std::io;
use std::path::Path;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::UnixStream;

/// The address of a Unix domain socket (std's).
pub use std::os::unix::net::SocketAddr;

/// The address `path` names: on Linux, an abstract name when its first byte is NUL.
pub(crate) fn socket_addr(path: &Path) -> io::Result<SocketAddr> {
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;
        if let Some((0, name)) = path.as_os_str().as_bytes().split_first() {
            return SocketAddr::from_abstract_name(name);
        }
    }
    SocketAddr::from_pathname(path)
}

/// socket2's address of a Unix socket as std's: a path, an abstract name (Linux), or
/// unnamed.
pub(crate) fn unix_addr(addr: &socket2::SockAddr) -> io::Result<SocketAddr> {
    if let Some(path) = addr.as_pathname() {
        return SocketAddr::from_pathname(path);
    }
    #[cfg(target_os = "linux")]
    if let Some(name) = addr.as_abstract_namespace() {
        use std::os::linux::net::SocketAddrExt;
        return SocketAddr::from_abstract_name(name);
    }
    // An unnamed socket (an unbound sender): std makes the unnamed address from the empty
    // path.
    SocketAddr::from_pathname("")
}
