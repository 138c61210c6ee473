//! The `http_hello` application: which response each request gets. The weft server
//! (`server.rs`) and its tokio peer (`benches/peers/tokio_http.rs`) both use it.

use examples_common::http::{Head, Response};

/// `200 OK`, "Hello, World!".
pub const HELLO: Response = Response {
    head: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n",
    body: b"Hello, World!",
};

/// `404 Not Found`.
pub const NOT_FOUND: Response = Response {
    head: b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n",
    body: b"Not Found",
};

/// The application: `GET /` (or `HEAD /`) is hello, everything else is not found.
pub fn respond(head: &Head<'_>) -> Response {
    match (head.method, head.target) {
        ("GET" | "HEAD", "/") => HELLO,
        _ => NOT_FOUND,
    }
}
