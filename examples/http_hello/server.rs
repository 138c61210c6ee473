//! The `http_hello` server: connection handling on top of [`parser`](super::parser).

use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

use super::parser::{parse, ParseError};

const IDLE: Duration = Duration::from_secs(30);

const OK: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
const NOT_FOUND: &[u8] =
    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nNot Found";

fn error_response(e: ParseError) -> &'static [u8] {
    match e {
        ParseError::Malformed => {
            b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 11\r\n\r\nBad Request"
        }
        ParseError::HeadTooLarge => {
            b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        }
        ParseError::Unsupported => {
            b"HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        }
    }
}

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
        let mut consumed = 0;
        let mut close = false;
        loop {
            match parse(&buf[consumed..]) {
                Ok(Some((req, len))) => {
                    consumed += len;
                    let found = req.method == "GET" && req.path == "/";
                    out.extend_from_slice(if found { OK } else { NOT_FOUND });
                    if !req.keep_alive {
                        close = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    out.extend_from_slice(error_response(e));
                    close = true;
                    break;
                }
            }
        }
        buf.drain(..consumed);
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if close {
            stream.close().await?;
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
