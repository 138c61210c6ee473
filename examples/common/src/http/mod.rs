//! HTTP/1.1 requests without I/O: the head parser, the body framing, and a [`Connection`]
//! that turns received bytes into responses.
//!
//! The serving loop around it (sockets, deadlines) is the example's; everything a client
//! controls is decided here, with a limit on each thing it can make us hold:
//!
//! | a client sends                              | we answer                      |
//! |---------------------------------------------|--------------------------------|
//! | a head past [`Limits::max_head`] bytes or [`MAX_HEADERS`] fields | `431` and close |
//! | a body past [`Limits::max_body`] bytes       | `413` and close                |
//! | two different `Content-Length`s, or one that is not digits | `400` and close  |
//! | `Transfer-Encoding` with `Content-Length`, in HTTP/1.0, or not ending in `chunked` | `400` and close |
//! | a transfer coding other than `chunked`      | `501` and close                |
//! | anything that is not HTTP/1.x               | `400` and close                |
//!
//! Bodies are read and thrown away as they arrive (this module's servers need none), so a
//! body never sits in memory whole: a connection holds at most one partial head and one
//! read.

mod chunked;
mod conn;
mod head;

pub use chunked::ChunkedDecoder;
pub use conn::{Answer, Connection, Phase, OUT_HIGH};
pub use head::{parse_head, Framing, Head, MAX_HEADERS};

/// What a client may make the server hold or read for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes a request head (request line, header fields, blank line) may take.
    pub max_head: usize,
    /// The most bytes a request body may have (for a chunked body: its data, without the
    /// framing).
    pub max_body: u64,
}

impl Default for Limits {
    /// 8 KiB heads (what most servers allow) and 1 MiB bodies.
    fn default() -> Limits {
        Limits {
            max_head: 8 * 1024,
            max_body: 1024 * 1024,
        }
    }
}

/// Why a request is refused. Every one of them ends the connection: after it, where the
/// next request starts cannot be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// `400`: not HTTP/1.x, or framing that cannot be trusted.
    BadRequest,
    /// `408`: the head or the body did not arrive in time (sent by the serving loop).
    Timeout,
    /// `413`: the body is longer than [`Limits::max_body`].
    BodyTooLarge,
    /// `431`: the head is longer than [`Limits::max_head`] or has too many fields.
    HeadTooLarge,
    /// `501`: a transfer coding other than `chunked`.
    NotImplemented,
}

impl Error {
    /// The response to send before closing.
    pub fn response(self) -> Response {
        match self {
            Error::BadRequest => BAD_REQUEST,
            Error::Timeout => REQUEST_TIMEOUT,
            Error::BodyTooLarge => BODY_TOO_LARGE,
            Error::HeadTooLarge => HEAD_TOO_LARGE,
            Error::NotImplemented => NOT_IMPLEMENTED,
        }
    }
}

/// A canned response: its status line and header fields, and its body.
///
/// `head` ends with the last field's CRLF but not the blank line: [`Response::write`] adds a
/// `Connection` field when one is needed, then the blank line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// `HTTP/1.1 <status>\r\n` and the fields, `Content-Length` included.
    pub head: &'static [u8],
    /// The body, exactly `Content-Length` bytes.
    pub body: &'static [u8],
}

/// Which `Connection` field a response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// None: HTTP/1.1's default, the connection stays open.
    Default,
    /// `Connection: keep-alive`, for an HTTP/1.0 client that asked for it.
    KeepAlive,
    /// `Connection: close`: this is the last response.
    Close,
}

impl Response {
    /// Appends the response to `out`; without its body for a `HEAD` request.
    pub fn write(&self, out: &mut Vec<u8>, persist: Persist, head_only: bool) {
        out.extend_from_slice(self.head);
        match persist {
            Persist::Default => {}
            Persist::KeepAlive => out.extend_from_slice(b"Connection: keep-alive\r\n"),
            Persist::Close => out.extend_from_slice(b"Connection: close\r\n"),
        }
        out.extend_from_slice(b"\r\n");
        if !head_only {
            out.extend_from_slice(self.body);
        }
    }
}

/// Sent to a client that asked `Expect: 100-continue` before sending its body.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// `400 Bad Request`.
pub const BAD_REQUEST: Response = Response {
    head: b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n",
    body: b"Bad Request",
};
/// `408 Request Timeout`.
pub const REQUEST_TIMEOUT: Response = Response {
    head: b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n",
    body: b"",
};
/// `413 Content Too Large`.
pub const BODY_TOO_LARGE: Response = Response {
    head: b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n",
    body: b"",
};
/// `431 Request Header Fields Too Large`.
pub const HEAD_TOO_LARGE: Response = Response {
    head: b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n",
    body: b"",
};
/// `501 Not Implemented`.
pub const NOT_IMPLEMENTED: Response = Response {
    head: b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n",
    body: b"",
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Each canned response's `Content-Length` is its body's length.
    #[test]
    fn content_lengths_match_bodies() {
        for e in [
            Error::BadRequest,
            Error::Timeout,
            Error::BodyTooLarge,
            Error::HeadTooLarge,
            Error::NotImplemented,
        ] {
            let r = e.response();
            let head = std::str::from_utf8(r.head).unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(len, r.body.len(), "{head}");
            assert!(head.ends_with("\r\n") && !head.ends_with("\r\n\r\n"));
        }
    }

    #[test]
    fn connection_field_and_head_only() {
        let mut out = Vec::new();
        BAD_REQUEST.write(&mut out, Persist::Close, false);
        assert!(out.ends_with(b"Connection: close\r\n\r\nBad Request"));
        out.clear();
        BAD_REQUEST.write(&mut out, Persist::KeepAlive, true);
        assert!(out.ends_with(b"Content-Length: 11\r\nConnection: keep-alive\r\n\r\n"));
    }
}
