//! A line-protocol server on tokio-util's `Framed` + `LinesCodec`, running on weft:
//! `cargo run --example framed_lines -- 7000`, then talk to it with `nc 127.0.0.1 7000`.
//!
//! One command a line, one answer a line:
//!
//! | command | answer |
//! |---|---|
//! | `PING` | `PONG` |
//! | `ECHO text` | `text` |
//! | `REV text` | `text` reversed |
//! | `QUIT` | none: the server closes the connection |
//! | anything else | `ERR unknown command` |
//!
//! A line longer than 8 KiB gets `ERR line too long` and the connection closes: the codec
//! buffers at most that much of one peer's input.

use futures::{SinkExt, StreamExt};
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};
use weft::net::{TcpListener, TcpStream};

/// The longest line a peer may send.
pub const MAX_LINE: usize = 8 * 1024;

/// Accepts connections for ever, one weft task each.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        weft::spawn(async move {
            if let Err(e) = connection(stream).await {
                eprintln!("framed_lines: {peer}: {e}");
            }
        });
    }
}

/// Serves one connection until the peer closes it, sends `QUIT` or a line that is too long.
pub async fn connection(stream: TcpStream) -> Result<(), LinesCodecError> {
    let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE));
    while let Some(line) = lines.next().await {
        let line = match line {
            Ok(line) => line,
            Err(LinesCodecError::MaxLineLengthExceeded) => {
                lines.send("ERR line too long").await?;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        match answer(&line) {
            Some(reply) => lines.send(reply).await?,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// The answer to one command, or `None` for `QUIT`.
pub fn answer(line: &str) -> Option<String> {
    let (cmd, arg) = line.split_once(' ').unwrap_or((line, ""));
    Some(match cmd {
        "PING" => "PONG".to_owned(),
        "ECHO" => arg.to_owned(),
        "REV" => arg.chars().rev().collect(),
        "QUIT" => return None,
        _ => "ERR unknown command".to_owned(),
    })
}

#[allow(dead_code)] // tests include this file for `serve`, not `main`
#[weft::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(7000);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("framed_lines: listening on {}", listener.local_addr()?);
    serve(listener).await
}
