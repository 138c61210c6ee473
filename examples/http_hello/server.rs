//! The `http_hello` server: connection handling on top of [`parser`](super::parser).

use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

use super::parser::answer;

const IDLE: Duration = Duration::from_secs(30);

/// Serves one connection until the peer closes, asks to close, errs, or idles for 30 s.
pub async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 8192];
    loop {
        let n = match weft::time::timeout(IDLE, stream.read(&mut chunk)).await {
            Ok(r) => r?,
            Err(_elapsed) => return Ok(()), // idle: close
        };
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        // Answer every complete request in the buffer, then write all answers at once.
        let (consumed, close) = answer(&buf, &mut out);
        buf.drain(..consumed);
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if close {
            stream.shutdown().await?;
            return Ok(());
        }
    }
}

/// Accepts connections on `listener` forever.
pub async fn accept_loop(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        weft::spawn(async move {
            if let Err(e) = serve(stream).await {
                eprintln!("http_hello: connection error: {e}");
            }
        });
    }
}
