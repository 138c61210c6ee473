//! The `http_hello` server with a graceful shutdown:
//! `cargo run --release --example graceful_shutdown -- 8080`, then Ctrl-C.
//!
//! On Ctrl-C (SIGINT) or SIGTERM it stops accepting, and:
//!
//! - idle connections close at once;
//! - a connection in the middle of a request finishes it, and its response says
//!   `Connection: close` (so a keep-alive client knows to go elsewhere);
//! - after `--drain-timeout` (default 5 s) whatever is left is cancelled, and it exits 0.
//!
//! A second Ctrl-C during the drain exits at once, with status 130 (128 + SIGINT).
//! The options and limits are `http_hello`'s, plus `--drain-timeout` (`-- --help`).

#[path = "http_hello/app.rs"]
mod app;
#[path = "http_hello/server.rs"]
mod server;

use std::rc::Rc;
use std::time::Duration;

use examples_common::cli::Args;
use examples_common::serve::Server;
use weft::net::TcpListener;
use weft::signal::unix::{signal, SignalKind};

/// The exit status after a second Ctrl-C: the shell's convention for "killed by SIGINT".
const INTERRUPTED: i32 = 130;

#[weft::main]
async fn main() -> std::io::Result<()> {
    let mut args = Args::from_env(
        "graceful_shutdown",
        "http_hello with a graceful shutdown on Ctrl-C or SIGTERM",
    );
    let config = Rc::new(server::Config::from_args(&mut args));
    let drain_timeout = args.seconds(
        "--drain-timeout",
        Duration::from_secs(5),
        "how long open connections get to finish after Ctrl-C",
    );
    args.finish_or_exit();
    config.server.init_logger("graceful_shutdown");

    // Listen for the signals before serving, so that none is missed; a stream (unlike
    // `ctrl_c()` called twice) also keeps a second Ctrl-C that comes while we drain.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let listener = TcpListener::bind(("127.0.0.1", config.server.port)).await?;
    log::info!("listening on http://{}", listener.local_addr()?);

    let mut server = Server::new(config.server.max_connections);
    weft::select! {
        served = server.run(&listener, |stream, mode| server::serve(stream, config.clone(), mode)) => served?,
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    drop(listener); // stop accepting: new connections are refused from here on

    weft::select! {
        () = server.drain(drain_timeout) => {}
        _ = interrupt.recv() => {
            log::warn!("second Ctrl-C: exiting now");
            log::logger().flush();
            std::process::exit(INTERRUPTED);
        }
    }
    log::info!("bye");
    log::logger().flush();
    Ok(())
}
