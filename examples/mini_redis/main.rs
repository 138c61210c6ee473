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
//!
//! `--workers N` (N > 1) shards the key space over N thread-per-core workers, shared-nothing:
//! each owns the keys that hash to it and accepts on its own listener on the port
//! (`SO_REUSEPORT`); a command on another worker's key is sent there over its remote queue
//! (`shard.rs`). With one worker or several, Ctrl-C stops the server gracefully: it stops
//! accepting and gives open connections `--drain-timeout` to finish.

mod command;
mod db;
mod memory;
mod pubsub;
mod server;
mod shard;

use std::rc::Rc;

use examples_common::cli::Args;
use examples_common::workers::{serve_workers, Plan};
use weft::net::TcpListener;
use weft::signal::unix::{signal, SignalKind};

fn main() -> std::io::Result<()> {
    let mut args = Args::from_env("mini_redis", "a small Redis-compatible server on 127.0.0.1");
    let config = server::Config::from_args(&mut args);
    let plan = Plan::from_args("mini_redis", "", &config.server, &mut args);
    args.finish_or_exit();
    config.server.init_logger("mini_redis");

    if plan.workers == 1 {
        return weft::run(async move {
            let config = Rc::new(config);
            // Listening for Ctrl-C before the "listening" line, as `serve_workers` does.
            let mut interrupt = signal(SignalKind::interrupt())?;
            let listener = TcpListener::bind(("127.0.0.1", config.server.port)).await?;
            log::info!("listening on {}", listener.local_addr()?);
            let stop = async move {
                match interrupt.recv().await {
                    Some(()) => log::info!("Ctrl-C: stopping"),
                    None => std::future::pending().await,
                }
            };
            server::run_until(listener, config, stop, plan.drain_timeout).await
        });
    }
    serve_workers(plan, move |worker| {
        let config = Rc::new(config.clone());
        let shared = server::start_shard(&config);
        let peers = shard::Peers::new(worker.clone());
        let (me, count) = (worker.id(), worker.count());
        move |stream, _mode| {
            let id = server::next_shard_id(&shared, me, count);
            let mut session = command::Session::new(shared.clone(), id);
            session.peers = Some(peers.clone());
            server::serve(stream, session, config.clone())
        }
    })
}
