//! A TCP echo server: `cargo run --release --example echo -- 8080`, then `nc 127.0.0.1 8080`
//! (`-- --help` lists its options).
//!
//! Listens on 127.0.0.1 at the port given as the first argument (default 8080). One task per
//! connection; each copies what it reads back to the peer until the peer closes.
//!
//! What a client cannot do to it: hold memory by not reading (the task reads nothing more
//! until the peer has taken back what it sent, and gives up on a peer that takes nothing for
//! `--write-timeout`), hold a connection forever by saying nothing (`--idle-timeout`), or
//! open more than `--max-connections` (accept pauses at the cap).

use std::rc::Rc;
use std::time::Duration;

use examples_common::cli::Args;
use examples_common::serve::{write_all_within, Options, Server};
use weft::io::AsyncReadExt;
use weft::net::{TcpListener, TcpStream};

/// The options.
struct Config {
    /// The port, the connection cap, the write timeout, the log level.
    server: Options,
    /// A connection that sends nothing for this long is closed.
    idle_timeout: Duration,
}

/// Copies what the peer sends back to it, until it closes, idles, or stops reading.
async fn serve(mut stream: TcpStream, config: Rc<Config>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let Ok(read) = weft::time::timeout(config.idle_timeout, stream.read(&mut buf)).await else {
            return Ok(()); // idle: close
        };
        let n = read?;
        if n == 0 {
            return Ok(());
        }
        // Nothing more is read until the peer has taken this back: that is the backpressure.
        write_all_within(&mut stream, &buf[..n], config.server.write_timeout).await?;
    }
}

#[weft::main]
async fn main() -> std::io::Result<()> {
    let mut args = Args::from_env("echo", "a TCP echo server on 127.0.0.1");
    let config = Rc::new(Config {
        server: Options::from_args(&mut args, 8080),
        idle_timeout: args.seconds(
            "--idle-timeout",
            Duration::from_secs(300),
            "a connection that sends nothing for this long is closed",
        ),
    });
    args.finish_or_exit();
    config.server.init_logger("echo");

    let listener = TcpListener::bind(("127.0.0.1", config.server.port)).await?;
    log::info!("listening on {}", listener.local_addr()?);
    Server::new(config.server.max_connections)
        .run(&listener, |stream, _mode| serve(stream, config.clone()))
        .await
}
