//! A line-based TCP chat server on a broadcast channel:
//! `cargo run --release --example chat -- 8080`, then `nc 127.0.0.1 8080` in a few terminals.
//!
//! Listens on 127.0.0.1 at the port given as the first argument (default 8080). Every line a
//! client sends goes to every other client as `name: line`. Commands: `/nick NAME` renames,
//! `/who` lists who is here, `/quit` leaves. A line longer than 4 KiB, or one that is not
//! UTF-8, gets an error and closes that one connection; the server goes on. A client too
//! slow to keep up is told how many lines it missed (the broadcast channel's `Lagged`).
//!
//! The server lives in `server.rs`, which `tests/chat.rs` also compiles.

mod server;

use weft::net::TcpListener;

#[weft::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8080);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("chat: listening on {}", listener.local_addr()?);
    server::run(listener).await
}
