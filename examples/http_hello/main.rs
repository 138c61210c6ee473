//! A minimal HTTP/1.1 server: `cargo run --release --example http_hello -- 8080`.
//!
//! Answers `200 OK` "Hello, World!" to `GET /`, `404` to other paths, `400` to malformed
//! requests (then closes that connection), `431` when a request head passes 8 KiB, `501` to
//! chunked bodies; keeps connections alive and answers pipelined requests in one write; closes
//! a connection idle for 30 s. Listens on 127.0.0.1 at the port given as the first argument
//! (default 8080).

mod parser;
mod server;

use weft::net::TcpListener;

#[weft::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8080);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("http_hello: listening on http://{}", listener.local_addr()?);
    server::accept_loop(listener).await
}
