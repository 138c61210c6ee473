//! The `http_hello` example's server answering over a real socket on 127.0.0.1.

#[path = "../examples/http_hello/parser.rs"]
#[allow(dead_code)]
mod parser;
#[path = "../examples/http_hello/server.rs"]
mod server;

use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// Starts the server on an ephemeral port and returns its address.
async fn start() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    weft::spawn(server::accept_loop(listener));
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

#[weft::test(start_paused = true)]
async fn idle_connection_is_closed_after_30s() {
    let addr = start().await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let start = weft::time::Instant::now();
    let mut buf = [0u8; 16];
    // Nothing sent: the server's 30 s idle timeout fires (instantly, on the paused clock).
    let n = s.read(&mut buf).await.unwrap();
    assert_eq!(n, 0);
    assert!(start.elapsed() >= Duration::from_secs(30));
}
