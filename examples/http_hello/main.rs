//! A minimal HTTP/1.1 server: `cargo run --release --example http_hello -- 8080`
//! (`-- --help` lists its options and limits).
//!
//! Answers `200 OK` "Hello, World!" to `GET /` (and `HEAD /`), `404` to other targets;
//! keeps connections alive and answers pipelined requests in order. Request bodies are read
//! and discarded (`Content-Length` or chunked). A request it cannot trust gets its status
//! and the connection closes: `400` (malformed, or conflicting lengths), `413` (body too
//! large), `431` (head too large), `501` (a transfer coding other than chunked), `408` (too
//! slow). Every limit and deadline is an option; see `server.rs` for what each one stops.
//! Listens on 127.0.0.1 at the port given as the first argument (default 8080).
//!
//! `--workers N` serves on N thread-per-core workers (0: one per core), each with its own
//! runtime and its own listener on the port (`SO_REUSEPORT`); Ctrl-C then stops them all
//! gracefully (each drains its connections for up to `--drain-timeout`).

mod app;
mod server;

use std::rc::Rc;

use examples_common::cli::Args;
use examples_common::workers::{serve_workers, Plan};

fn main() -> std::io::Result<()> {
    let mut args = Args::from_env("http_hello", "a minimal HTTP/1.1 server on 127.0.0.1");
    let config = server::Config::from_args(&mut args);
    let plan = Plan::from_args("http_hello", "http://", &config.server, &mut args);
    args.finish_or_exit();
    config.server.init_logger("http_hello");

    serve_workers(plan, move |_worker| {
        let config = Rc::new(config.clone());
        move |stream, mode| server::serve(stream, config.clone(), mode)
    })
}
