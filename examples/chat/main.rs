//! A line-based TCP chat server on a broadcast channel:
//! `cargo run --release --example chat -- 8080`, then `nc 127.0.0.1 8080` in a few terminals
//! (`-- --help` lists its options and limits).
//!
//! Listens on 127.0.0.1 at the port given as the first argument (default 8080). Every line a
//! client sends goes to every other client as `name: line`. Commands: `/nick NAME` renames,
//! `/who` lists who is here, `/quit` leaves. A line longer than `--max-line` (4 KiB), or one
//! that is not UTF-8, gets an error and closes that one connection; the server goes on. A
//! client too slow to keep up is told how many lines it missed (the broadcast channel's
//! `Lagged`); one that stops reading is disconnected after `--write-timeout`.
//!
//! The server lives in `server.rs`, which `tests/chat.rs` also compiles.

mod server;

use std::rc::Rc;

use examples_common::cli::Args;
use weft::net::TcpListener;

#[weft::main]
async fn main() -> std::io::Result<()> {
    let mut args = Args::from_env("chat", "a line-based chat server on 127.0.0.1");
    let config = Rc::new(server::Config::from_args(&mut args));
    args.finish_or_exit();
    config.server.init_logger("chat");

    let listener = TcpListener::bind(("127.0.0.1", config.server.port)).await?;
    log::info!("listening on {}", listener.local_addr()?);
    server::run(listener, config).await
}
