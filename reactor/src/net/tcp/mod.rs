//! TCP: [`TcpListener`], [`TcpStream`], and the stream's halves.

mod listener;
mod split;
mod stream;

pub(crate) use listener::{no_address, BACKLOG};
pub use listener::{Incoming, TcpListener};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::TcpStream;
