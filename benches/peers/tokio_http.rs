//! The `http_hello` server on tokio's current_thread runtime: the same parser and the same
//! connection code shape, for `benches/wrk.sh` to compare against.
//!
//! `cargo run --release --example tokio_http -- 8081`

#[path = "../../examples/http_hello/parser.rs"]
mod parser;

use std::time::Duration;

use parser::{parse, ParseError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 8192];
    loop {
        let n = match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
            Ok(r) => r?,
            Err(_elapsed) => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
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
            stream.shutdown().await?;
            return Ok(());
        }
    }
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8081);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        eprintln!("tokio_http: listening on http://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(async move {
                if let Err(e) = serve(stream).await {
                    eprintln!("tokio_http: connection error: {e}");
                }
            });
        }
    })
}
