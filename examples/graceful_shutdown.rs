//! The `http_hello` server with a graceful shutdown: on Ctrl-C (SIGINT) it stops accepting,
//! gives the open connections up to 5 s to finish what they are doing, cancels whatever is
//! left, and exits 0.
//!
//! `cargo run --release --example graceful_shutdown -- 8080`, then Ctrl-C.

#[path = "http_hello/parser.rs"]
mod parser;
#[path = "http_hello/server.rs"]
#[allow(dead_code)]
mod server;

use std::time::Duration;

use weft::net::TcpListener;
use weft::task::JoinSet;

const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

#[weft::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8080);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "graceful_shutdown: listening on http://{}",
        listener.local_addr()?
    );

    let mut connections = JoinSet::new();
    let ctrl_c = weft::signal::ctrl_c();
    let mut ctrl_c = std::pin::pin!(ctrl_c);
    loop {
        weft::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                stream.set_nodelay(true)?;
                connections.spawn(server::serve(stream));
            }
            r = &mut ctrl_c => {
                r?;
                break;
            }
        }
        // Reap the connections that are done, so the set does not grow without bound.
        while let Some(done) = connections.try_join_next() {
            if let Ok(Err(e)) = done {
                eprintln!("graceful_shutdown: connection error: {e}");
            }
        }
    }

    drop(listener); // stop accepting: new connects are refused from here on
    let open = connections.len();
    eprintln!(
        "graceful_shutdown: stopping; waiting up to {DRAIN_DEADLINE:?} for {open} connection(s)"
    );
    let drained = weft::time::timeout(DRAIN_DEADLINE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        eprintln!(
            "graceful_shutdown: deadline passed, cancelling {} connection(s)",
            connections.len()
        );
        connections.shutdown().await;
    }
    eprintln!("graceful_shutdown: bye");
    Ok(())
}
