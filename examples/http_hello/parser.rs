//! A small HTTP/1.1 request-head parser for the `http_hello` example, and the step that
//! turns a buffer of (pipelined) requests into their answers.
//!
//! It is deliberately strict and allocation-free: it reads the request line and the headers it
//! needs (`Connection`, `Content-Length`, `Transfer-Encoding`) out of a byte buffer and says how
//! many bytes the request took, so a connection can parse pipelined requests one after another
//! from the same buffer.

/// The most bytes a request head (request line + headers + blank line) may take.
pub const MAX_HEAD: usize = 8 * 1024;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The request target, e.g. `/`.
    pub path: &'a str,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
    /// Bytes of body that follow the head.
    pub content_length: usize,
}

/// Why a request could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Not HTTP/1.x: answer 400 and close.
    Malformed,
    /// The head passed [`MAX_HEAD`] bytes: answer 431 and close.
    HeadTooLarge,
    /// A chunked body, which this server does not take: answer 501 and close.
    Unsupported,
}

/// Parses one request from the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or the request and the number of bytes it
/// takes (head and body).
pub fn parse(buf: &[u8]) -> Result<Option<(Request<'_>, usize)>, ParseError> {
    let Some(head_end) = find_head_end(buf) else {
        return if buf.len() > MAX_HEAD {
            Err(ParseError::HeadTooLarge)
        } else {
            // Still reject garbage early: the request line must look like one.
            check_partial_request_line(buf)?;
            Ok(None)
        };
    };
    if head_end > MAX_HEAD {
        return Err(ParseError::HeadTooLarge);
    }
    let head = std::str::from_utf8(&buf[..head_end - 4]).map_err(|_| ParseError::Malformed)?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().ok_or(ParseError::Malformed)?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Malformed);
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ParseError::Malformed);
    }
    if path.is_empty() || path.bytes().any(|b| b.is_ascii_control()) {
        return Err(ParseError::Malformed);
    }
    let minor_version = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        _ => return Err(ParseError::Malformed),
    };
    let mut keep_alive = minor_version == 1;
    let mut content_length = 0usize;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(ParseError::Malformed)?;
        if name.is_empty() || name.bytes().any(|b| b == b' ' || b == b'\t') {
            return Err(ParseError::Malformed);
        }
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().map_err(|_| ParseError::Malformed)?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(ParseError::Unsupported);
        }
    }
    let total = head_end + content_length;
    if buf.len() < total {
        return Ok(None);
    }
    Ok(Some((
        Request {
            method,
            path,
            minor_version,
            keep_alive,
            content_length,
        },
        total,
    )))
}

/// The index just past the `\r\n\r\n` that ends the head, if the buffer has it.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Rejects a buffer whose first line can already be seen not to be a request line.
fn check_partial_request_line(buf: &[u8]) -> Result<(), ParseError> {
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = &buf[..line_end];
    let method_len = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    if !line[..method_len].iter().all(|b| b.is_ascii_uppercase()) {
        return Err(ParseError::Malformed);
    }
    if line_end < buf.len() && !line.ends_with(b"\r") {
        return Err(ParseError::Malformed);
    }
    Ok(())
}

/// `200 OK` with the body "Hello, World!".
pub const OK: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
/// `404 Not Found`.
pub const NOT_FOUND: &[u8] =
    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nNot Found";

/// The answer to a request that could not be parsed (the connection closes after it).
pub fn error_response(e: ParseError) -> &'static [u8] {
    match e {
        ParseError::Malformed => {
            b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 11\r\n\r\nBad Request"
        }
        ParseError::HeadTooLarge => {
            b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        }
        ParseError::Unsupported => {
            b"HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        }
    }
}

/// Answers every complete request at the start of `buf`, appending the responses to `out`
/// (so pipelined requests get one write). Returns how many bytes of `buf` were consumed and
/// whether the connection must close after `out` is written (the client asked for it, or a
/// request was bad). The same step serves the weft server and its tokio peer.
pub fn answer(buf: &[u8], out: &mut Vec<u8>) -> (usize, bool) {
    let mut consumed = 0;
    loop {
        match parse(&buf[consumed..]) {
            Ok(Some((req, len))) => {
                consumed += len;
                let found = req.method == "GET" && req.path == "/";
                out.extend_from_slice(if found { OK } else { NOT_FOUND });
                if !req.keep_alive {
                    return (consumed, true);
                }
            }
            Ok(None) => return (consumed, false),
            Err(e) => {
                out.extend_from_slice(error_response(e));
                return (consumed, true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_get() {
        let (r, n) = parse(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.method, r.path, r.minor_version, r.keep_alive),
            ("GET", "/", 1, true)
        );
        assert_eq!(n, 27);
    }

    #[test]
    fn pipelined_requests_parse_one_by_one() {
        let two = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
        let (a, n) = parse(two).unwrap().unwrap();
        assert_eq!(a.path, "/a");
        let (b, m) = parse(&two[n..]).unwrap().unwrap();
        assert_eq!((b.path, b.keep_alive), ("/b", false));
        assert_eq!(n + m, two.len());
    }

    #[test]
    fn incomplete_needs_more() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHo"), Ok(None));
        assert_eq!(parse(b""), Ok(None));
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"),
            Ok(None)
        );
    }

    #[test]
    fn body_is_counted() {
        let req = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        let (r, n) = parse(req).unwrap().unwrap();
        assert_eq!((r.content_length, n), (5, req.len()));
    }

    #[test]
    fn http10_defaults_to_close() {
        let (r, _) = parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!r.keep_alive);
        let (r, _) = parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(r.keep_alive);
    }

    #[test]
    fn malformed_is_rejected() {
        for bad in [
            &b"garbage\r\n\r\n"[..],
            b"GET /\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            b"get / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            b"\x16\x03\x01\x02\x00",
        ] {
            assert_eq!(
                parse(bad),
                Err(ParseError::Malformed),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn oversized_head_is_431() {
        let mut req = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
        req.extend(std::iter::repeat(b'a').take(MAX_HEAD));
        assert_eq!(parse(&req), Err(ParseError::HeadTooLarge));
        req.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse(&req), Err(ParseError::HeadTooLarge));
    }

    #[test]
    fn chunked_is_unsupported() {
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(ParseError::Unsupported)
        );
    }
}
