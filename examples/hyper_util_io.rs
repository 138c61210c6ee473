//! hyper 1.x on weft through hyper-util's `TokioIo`: weft's `TcpStream` speaks tokio's
//! `AsyncRead` / `AsyncWrite`, so the adapter every tokio-based hyper server uses wraps it
//! unchanged. `cargo run --example hyper_util_io -- 8081`, then `curl 127.0.0.1:8081/`.
//!
//! `GET /` answers "Hello from hyper on weft!", `GET /echo?x` answers `x`, anything else
//! `404`. HTTP/1.1 with keep-alive; no tokio runtime runs.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use weft::net::TcpListener;

/// Answers one request.
pub async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match (req.method().as_str(), req.uri().path()) {
        ("GET", "/") => (
            StatusCode::OK,
            Bytes::from_static(b"Hello from hyper on weft!"),
        ),
        ("GET", "/echo") => (
            StatusCode::OK,
            Bytes::from(req.uri().query().unwrap_or("").to_owned()),
        ),
        _ => (StatusCode::NOT_FOUND, Bytes::from_static(b"not found")),
    };
    let mut res = Response::new(Full::new(body));
    *res.status_mut() = status;
    Ok(res)
}

/// Accepts connections for ever, one weft task each, served by hyper's HTTP/1 connection
/// around `TokioIo<weft::net::TcpStream>`.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        weft::spawn(async move {
            let conn =
                http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(handle));
            if let Err(e) = conn.await {
                eprintln!("hyper_util_io: {peer}: {e}");
            }
        });
    }
}

#[allow(dead_code)] // tests include this file for `serve`, not `main`
#[weft::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8081);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "hyper_util_io: listening on http://{}",
        listener.local_addr()?
    );
    serve(listener).await
}
