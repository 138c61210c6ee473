//! TCP: [`TcpListener`], [`TcpStream`], and the stream's halves.

mod listener;
mod split;
mod split_owned;
mod stream;

pub(crate) use listener::{no_address, BACKLOG};
pub use listener::{Incoming, TcpListener};
pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;
