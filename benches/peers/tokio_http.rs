//! The `http_hello` server on tokio's current_thread runtime: the same parser and the same
//! connection code shape, for `benches/wrk.sh` to compare against.
//!
//! `cargo run --release --example tokio_http -- 8081`

#[path = "../../examples/http_hello/parser.rs"]
mod parser;

use std::time::Duration;

use parser::answer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const IDLE: Duration = Duration::from_secs(30);
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
