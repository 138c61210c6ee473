//! The halves of a [`UnixStream`]: see `net/split.rs` for the four types and their methods.

use crate::net::UnixStream;

crate::net::split::stream_halves!(UnixStream, std::os::unix::net::SocketAddr);
