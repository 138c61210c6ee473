//! A small Redis-compatible server on weft:
//! `cargo run --release --example mini_redis -- --port 6379` (`-- --help` lists its options
//! and limits).
//!
//! Speaks RESP2 (and inline commands) on 127.0.0.1. Strings with expiry: `GET`, `SET` with
//! `EX`/`PX`/`NX`/`XX`/`KEEPTTL`, `DEL`, `EXISTS`, `TTL`, `PTTL`, `DBSIZE`, `FLUSHDB`;
//! pub/sub: `PUBLISH`, `SUBSCRIBE`, `UNSUBSCRIBE`; and `PING`, `ECHO`, `QUIT`, plus the
//! `CONFIG GET` / `COMMAND` / `CLIENT` / `HELLO` that `redis-cli` and `redis-benchmark` send
//! (see `command.rs`). Pipelined commands are answered in one write per read. A client that
//! breaks the protocol gets `-ERR Protocol error: ...` and is disconnected; the server goes
//! on. Memory is bounded: keys and values by `--maxmemory` (then `SET` answers `OOM`), all
//! clients' buffers together by `--maxmemory-clients`. Everything runs on one thread: no
//! persistence, no replication, one database.
//!
//! Files: `db.rs` (keys and expiry), `pubsub.rs` (channels), `command.rs` (the commands),
//! `memory.rs` (the clients' memory budget), `server.rs` (options, sockets, connections). The
//! protocol itself is `examples_common::resp`, which the fuzzer and the tests also use.

mod command;
mod db;
mod memory;
mod pubsub;
mod server;

use std::rc::Rc;

use examples_common::cli::Args;
use weft::net::TcpListener;

#[weft::main]
async fn main() -> std::io::Result<()> {
    let mut args = Args::from_env("mini_redis", "a small Redis-compatible server on 127.0.0.1");
    let config = Rc::new(server::Config::from_args(&mut args));
    args.finish_or_exit();
    config.server.init_logger("mini_redis");

    let listener = TcpListener::bind(("127.0.0.1", config.server.port)).await?;
    log::info!("listening on {}", listener.local_addr()?);
    server::run(listener, config).await
}
