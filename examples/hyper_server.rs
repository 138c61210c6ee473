//! A hyper 1.x HTTP/1 server on weft:
//! `cargo run --release --features hyper --example hyper_server -- 8082`.
//!
//! Answers `200 OK` "Hello, World!" to `GET /` and `404` to everything else, keeps connections
//! alive, and serves each connection as one weft task. hyper reaches weft's socket through
//! `WeftIo` and weft's timer through `WeftTimer` (which arms hyper's 30 s header-read
//! timeout). Listens on 127.0.0.1 at the port given as the first argument (default 8082).

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use weft::compat::hyper::{WeftIo, WeftTimer};
use weft::net::TcpListener;

async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() == Method::GET && req.uri().path() == "/" {
        return Ok(Response::new(Full::new(Bytes::from_static(
            b"Hello, World!",
        ))));
    }
    let mut res = Response::new(Full::new(Bytes::from_static(b"Not Found")));
    *res.status_mut() = StatusCode::NOT_FOUND;
    Ok(res)
}

#[weft::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8082);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "hyper_server: listening on http://{}",
        listener.local_addr()?
    );
    let mut http = http1::Builder::new();
    http.timer(WeftTimer);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: the listener itself is fine; pause a
            // little rather than spin on the error, then go on.
            Err(e) => {
                eprintln!("hyper_server: accept: {e}");
                weft::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // hyper writes each response whole; no Nagle delay for it (best effort).
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(WeftIo::new(stream), service_fn(hello));
        weft::spawn(async move {
            if let Err(e) = conn.await {
                eprintln!("hyper_server: {peer}: {e}");
            }
        });
    }
}
