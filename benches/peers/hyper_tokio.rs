//! The `hyper_server` example on tokio's current_thread runtime, through hyper-util's
//! `TokioIo` and `TokioTimer`: the same service and the same hyper settings, to compare weft's
//! adapter against hyper's home runtime.
//!
//! `cargo run --release --features hyper --example hyper_tokio -- 8083`

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

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

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8083);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "hyper_tokio: listening on http://{}",
        listener.local_addr()?
    );
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new());
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("hyper_tokio: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(stream), service_fn(hello));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                eprintln!("hyper_tokio: {peer}: {e}");
            }
        });
    }
}
