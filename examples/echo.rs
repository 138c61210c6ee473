//! A TCP echo server: `cargo run --release --example echo -- 8080`, then `nc 127.0.0.1 8080`.
//!
//! Listens on 127.0.0.1 at the port given as the first argument (default 8080). One task per
//! connection; each copies what it reads back to the peer until the peer closes.

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

#[weft::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8080);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("echo: listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        weft::spawn(async move {
            if let Err(e) = serve(stream).await {
                eprintln!("echo: connection error: {e}");
            }
        });
    }
}
