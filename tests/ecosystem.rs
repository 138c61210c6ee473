//! The crates services are built from, on weft, over 127.0.0.1: tokio-util's `Framed` +
//! `LinesCodec`, tokio-rustls, hyper through hyper-util's `TokioIo`, and axum. Each example's
//! server is included from `examples/` and answered by a client of the same ecosystem.

#[path = "../examples/axum_hello.rs"]
mod axum_hello;
#[path = "../examples/framed_lines.rs"]
mod framed_lines;
#[path = "../examples/hyper_util_io.rs"]
mod hyper_util_io;
#[path = "../examples/tls_echo.rs"]
mod tls_echo;

use std::net::SocketAddr;
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_rustls::rustls::{self, pki_types::ServerName, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_util::codec::{Framed, LinesCodec};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

#[weft::test]
async fn framed_lines_answers_each_command_line() {
    let (l, addr) = listener().await;
    weft::spawn(framed_lines::serve(l));
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut client = Framed::new(stream, LinesCodec::new());
    for (cmd, want) in [
        ("PING", "PONG"),
        ("ECHO hello there", "hello there"),
        ("REV weft", "tfew"),
        ("NOPE", "ERR unknown command"),
    ] {
        client.send(cmd).await.unwrap();
        assert_eq!(client.next().await.unwrap().unwrap(), want);
    }
    // Pipelined: three commands in one write, three answers in order.
    let raw = client.get_mut();
    raw.write_all(b"PING\nECHO a\r\nREV ab\n").await.unwrap();
    for want in ["PONG", "a", "ba"] {
        assert_eq!(client.next().await.unwrap().unwrap(), want);
    }
    client.send("QUIT").await.unwrap();
    assert!(client.next().await.is_none(), "QUIT closes the connection");
}

#[weft::test]
async fn framed_lines_refuses_a_line_longer_than_its_bound() {
    let (l, addr) = listener().await;
    weft::spawn(framed_lines::serve(l));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let long = vec![b'x'; framed_lines::MAX_LINE + 1];
    stream.write_all(&long).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert_eq!(answer, "ERR line too long\n");
}

fn tls_client(trusted: Option<&tls_echo::Identity>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    if let Some(id) = trusted {
        roots.add(id.cert.clone()).unwrap();
    }
    let config = ClientConfig::builder_with_provider(tls_echo::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

#[weft::test]
async fn tls_echo_returns_every_byte_over_tls() {
    let id = tls_echo::identity();
    let (l, addr) = listener().await;
    weft::spawn(tls_echo::serve(l, tls_echo::acceptor(&id).unwrap()));
    let stream = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = tls_client(Some(&id)).connect(name, stream).await.unwrap();
    let (mut rd, mut wr) = weft::io::split(tls);
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let writer = {
        let payload = payload.clone();
        weft::spawn(async move {
            wr.write_all(&payload).await.unwrap();
            wr.shutdown().await.unwrap(); // close_notify
        })
    };
    let mut back = Vec::new();
    rd.read_to_end(&mut back).await.unwrap();
    writer.await.unwrap();
    assert_eq!(back.len(), payload.len());
    assert!(back == payload);
}

#[weft::test]
async fn tls_echo_is_refused_by_a_client_that_does_not_trust_it() {
    let id = tls_echo::identity();
    let (l, addr) = listener().await;
    weft::spawn(tls_echo::serve(l, tls_echo::acceptor(&id).unwrap()));
    let stream = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let err = tls_client(None).connect(name, stream).await.unwrap_err();
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    assert!(
        matches!(inner, Some(rustls::Error::InvalidCertificate(_))),
        "{err}"
    );
}

/// An HTTP/1 client connection on `addr`: hyper's, around `TokioIo<weft::net::TcpStream>`.
async fn http_client(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    weft::spawn(conn);
    sender
}

async fn call(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    method: &str,
    path: &str,
    json: Option<&str>,
) -> (StatusCode, String) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    if json.is_some() {
        req = req.header("content-type", "application/json");
    }
    let body = Full::new(Bytes::from(json.unwrap_or("").to_owned()));
    let res = sender.send_request(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[weft::test]
async fn hyper_serves_and_calls_through_hyper_util_tokio_io() {
    let (l, addr) = listener().await;
    weft::spawn(hyper_util_io::serve(l));
    let mut c = http_client(addr).await;
    // Three requests on one kept-alive connection.
    assert_eq!(
        call(&mut c, "GET", "/", None).await,
        (StatusCode::OK, "Hello from hyper on weft!".to_owned())
    );
    assert_eq!(
        call(&mut c, "GET", "/echo?abc", None).await,
        (StatusCode::OK, "abc".to_owned())
    );
    assert_eq!(
        call(&mut c, "GET", "/nope", None).await.0,
        StatusCode::NOT_FOUND
    );
    // A client with an empty body type, as most are written.
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut s, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    weft::spawn(conn);
    let req = Request::get("/")
        .header("host", "x")
        .body(Empty::<Bytes>::new())
        .unwrap();
    assert_eq!(s.send_request(req).await.unwrap().status(), StatusCode::OK);
}

#[weft::test]
async fn axum_router_with_json_and_shared_state_on_weft() {
    let (l, addr) = listener().await;
    weft::spawn(axum_hello::serve(l, axum_hello::app()));
    let mut c = http_client(addr).await;
    assert_eq!(
        call(&mut c, "GET", "/", None).await,
        (StatusCode::OK, "Hello, World!".to_owned())
    );
    let (status, body) = call(&mut c, "POST", "/users", Some(r#"{"name":"ada"}"#)).await;
    assert_eq!(status, StatusCode::CREATED);
    let ada: axum_hello::User = serde_json::from_str(&body).unwrap();
    assert_eq!(
        ada,
        axum_hello::User {
            id: 1,
            name: "ada".into()
        }
    );
    // Shared state: a second connection sees the first one's user.
    let mut c2 = http_client(addr).await;
    let (status, body) = call(&mut c2, "GET", "/users/1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<axum_hello::User>(&body).unwrap(),
        ada
    );
    assert_eq!(
        call(&mut c2, "GET", "/users/9", None).await.0,
        StatusCode::NOT_FOUND
    );
    // Malformed JSON is axum's 400 (or 422), not a crash.
    let (status, _) = call(&mut c, "POST", "/users", Some("{not json")).await;
    assert!(status.is_client_error(), "{status}");
    let (status, body) = call(&mut c, "GET", "/stats", None).await;
    assert_eq!(status, StatusCode::OK);
    // GET /, POST, GET /users/1, GET /users/9, GET /stats: the failed POST never reached
    // its handler.
    assert_eq!(
        serde_json::from_str::<axum_hello::Stats>(&body).unwrap(),
        axum_hello::Stats {
            users: 1,
            requests: 5
        }
    );
}
