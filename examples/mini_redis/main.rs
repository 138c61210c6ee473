//! A small Redis-compatible server on weft:
//! `cargo run --release --example mini_redis -- --port 6379`.
//!
//! Speaks RESP2 (and inline commands) on 127.0.0.1. Strings with expiry: `GET`, `SET` with
//! `EX`/`PX`/`NX`/`XX`/`KEEPTTL`, `DEL`, `EXISTS`, `TTL`, `PTTL`, `DBSIZE`, `FLUSHDB`;
//! pub/sub: `PUBLISH`, `SUBSCRIBE`, `UNSUBSCRIBE`; and `PING`, `ECHO`, `QUIT`, plus the
//! `CONFIG GET` / `COMMAND` / `CLIENT` / `HELLO` that `redis-cli` and `redis-benchmark` send
//! (see `command.rs`). Pipelined commands are answered in one write per read. A client that
//! breaks the protocol gets `-ERR Protocol error: ...` and is disconnected; the server goes
//! on. Everything runs on one thread: no persistence, no replication, one database.
//!
//! Files: `resp.rs` (the protocol), `db.rs` (keys and expiry), `pubsub.rs` (channels),
//! `command.rs` (the commands), `server.rs` (sockets and connections).

mod command;
mod db;
mod pubsub;
// The frame parser and `Frame` serve clients, the tests and the fuzz target, not the server.
#[allow(dead_code)]
mod resp;
mod server;

use weft::net::TcpListener;

/// The command line's help text.
const USAGE: &str = "usage: mini_redis [--port N]   (default 6379, on 127.0.0.1)";

/// Reads `--port N` / `--port=N` from the command line.
fn port() -> Result<u16, String> {
    let mut port = 6379;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--port" | "-p" => args.next(),
            "-h" | "--help" => return Err(USAGE.to_string()),
            _ => match arg.strip_prefix("--port=") {
                Some(v) => Some(v.to_string()),
                None => return Err(format!("unknown argument {arg:?}\n{USAGE}")),
            },
        };
        port = value
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("--port needs a number from 0 to 65535\n{USAGE}"))?;
    }
    Ok(port)
}

#[weft::main]
async fn main() -> std::io::Result<()> {
    let port = port().unwrap_or_else(|msg| {
        eprintln!("{msg}");
        std::process::exit(2);
    });
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("mini_redis: listening on {}", listener.local_addr()?);
    server::run(listener).await
}
