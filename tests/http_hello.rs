//! The `http_hello` example's server answering over a real socket on 127.0.0.1.

#[path = "../examples/http_hello/app.rs"]
#[allow(dead_code)]
mod app;
#[path = "../examples/http_hello/server.rs"]
#[allow(dead_code)] // the options are read by main.rs, not here
mod server;

use std::rc::Rc;
use std::time::Duration;

use examples_common::serve::Server;
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// Starts the server with its default options on an ephemeral port; returns its address.
async fn start() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Rc::new(server::Config::default());
    weft::spawn(async move {
        let mut server = Server::new(config.server.max_connections);
        server
            .run(&listener, |stream, mode| {
                server::serve(stream, config.clone(), mode)
            })
            .await
    });
    addr
}

/// Sends `request`, then reads until the server closes or `responses` answers arrived.
async fn exchange(addr: std::net::SocketAddr, request: &[u8], responses: usize) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).to_string();
        if text.matches("HTTP/1.1 ").count() >= responses && complete(&text) {
            return text;
        }
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            return text;
        }
        got.extend_from_slice(&buf[..n]);
    }
}

/// Whether the last response's body has fully arrived.
fn complete(text: &str) -> bool {
    let Some(last) = text.rfind("HTTP/1.1 ") else {
        return false;
    };
    let resp = &text[last..];
    let Some(head_end) = resp.find("\r\n\r\n") else {
        return false;
    };
    let len: usize = resp
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    resp.len() >= head_end + 4 + len
}

#[weft::test]
async fn get_root_is_hello_world() {
    let addr = start().await;
    let r = exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1).await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.ends_with("\r\n\r\nHello, World!"), "{r}");
}

#[weft::test]
async fn other_paths_are_404() {
    let addr = start().await;
    let r = exchange(addr, b"GET /nope HTTP/1.1\r\n\r\n", 1).await;
    assert!(r.starts_with("HTTP/1.1 404 Not Found\r\n"), "{r}");
}

#[weft::test]
async fn pipelined_requests_are_answered_in_order() {
    let addr = start().await;
    let req =
        b"GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n";
    let r = exchange(addr, req, 3).await;
    let statuses: Vec<&str> = r.split("HTTP/1.1 ").skip(1).map(|p| &p[..3]).collect();
    assert_eq!(statuses, ["200", "404", "200"], "{r}");
    // The last one asked to close, and the response says so.
    assert!(r.ends_with("Connection: close\r\n\r\nHello, World!"), "{r}");
}

#[weft::test]
async fn malformed_request_gets_400_and_close() {
    let addr = start().await;
    let r = exchange(addr, b"BLAH\r\n\r\n", 5).await; // reads to EOF: the server closes
    assert!(r.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{r}");
    assert_eq!(r.matches("HTTP/1.1 ").count(), 1);
    // The server goes on serving others.
    let ok = exchange(addr, b"GET / HTTP/1.1\r\n\r\n", 1).await;
    assert!(ok.starts_with("HTTP/1.1 200 OK"), "{ok}");
}

#[weft::test]
async fn oversized_head_gets_431() {
    let addr = start().await;
    let mut req = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    req.extend(std::iter::repeat_n(b'a', 9000));
    req.extend_from_slice(b"\r\n\r\n");
    let r = exchange(addr, &req, 5).await;
    assert!(r.starts_with("HTTP/1.1 431 "), "{r}");
}

#[weft::test]
async fn bodies_are_read_and_discarded() {
    let addr = start().await;
    let req = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\
                POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n\
                GET / HTTP/1.1\r\n\r\n";
    let r = exchange(addr, req, 3).await;
    assert_eq!(r.matches("HTTP/1.1 404 ").count(), 2, "{r}");
    assert!(r.ends_with("Hello, World!"), "{r}");
}

#[weft::test(start_paused = true)]
async fn a_head_that_trickles_gets_408_after_10s() {
    let addr = start().await;
    let start = weft::time::Instant::now();
    // Part of a head, and then nothing: the 10 s head deadline fires (on the paused clock).
    let r = exchange(addr, b"GET / HTTP/1.1\r\nHost:", 5).await;
    assert!(r.starts_with("HTTP/1.1 408 "), "{r}");
    assert!(start.elapsed() >= Duration::from_secs(10));
}

#[weft::test(start_paused = true)]
async fn idle_connection_is_closed_after_30s() {
    let addr = start().await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    assert!(buf[..n].ends_with(b"Hello, World!"));
    let start = weft::time::Instant::now();
    // Nothing more sent: the server's 30 s idle timeout fires (instantly, on the paused clock).
    let n = s.read(&mut buf).await.unwrap();
    assert_eq!(n, 0);
    assert!(start.elapsed() >= Duration::from_secs(30));
}
