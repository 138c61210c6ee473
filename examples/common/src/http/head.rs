//! The request head: [`httparse`] reads the request line and the header fields; this module
//! decides from them how the body is framed (RFC 9112 §6) and whether the connection stays
//! open.
//!
//! # Why httparse
//!
//! The tokenizer is where a hand-written parser is weakest: which bytes may appear in a
//! method, a target, a field name or value, what a line end is, how whitespace is treated.
//! httparse is hyper's parser: it checks every byte against RFC 9110's grammar, allocates
//! nothing, is continuously fuzzed, and is already in the dependency tree of every hyper
//! user. What it deliberately leaves to its caller is the framing — `Content-Length`,
//! `Transfer-Encoding` — and that is where this example's earlier hand-written parser had its
//! worst bug (an unchecked `head + Content-Length` that wrapped). That part is below, with
//! checked arithmetic and RFC 9112's rules for conflicting fields.

use std::mem::MaybeUninit;

use super::{Error, Limits};

/// The most header fields a request may have (httparse fills a fixed array); more is `431`.
pub const MAX_HEADERS: usize = 64;

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes (`Content-Length`; 0 when the request has neither field).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head, borrowing the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head<'a> {
    /// `GET`, `POST`, ... (any RFC 9110 token).
    pub method: &'a str,
    /// The request target, e.g. `/`.
    pub target: &'a str,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Whether the client wants the connection kept open after the response.
    pub keep_alive: bool,
    /// How the body that follows is delimited.
    pub framing: Framing,
    /// `Expect: 100-continue`: the client waits for `100 Continue` before sending its body.
    pub expect_continue: bool,
}

/// Parses the request head at the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or the head and the number of bytes it took
/// (the body, if any, follows).
///
/// # Errors
///
/// [`Error::HeadTooLarge`] past [`Limits::max_head`] bytes or [`MAX_HEADERS`] fields;
/// [`Error::BodyTooLarge`] for a `Content-Length` past [`Limits::max_body`];
/// [`Error::NotImplemented`] for a transfer coding other than `chunked`;
/// [`Error::BadRequest`] for anything else that is not a valid HTTP/1.x request head.
pub fn parse_head<'b>(buf: &'b [u8], limits: &Limits) -> Result<Option<(Head<'b>, usize)>, Error> {
    // Left uninitialized: httparse writes the fields it finds (this saves zeroing 2 KiB
    // per request).
    let mut fields = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut fields) {
        Ok(httparse::Status::Complete(len)) if len <= limits.max_head => len,
        Ok(httparse::Status::Complete(_)) => return Err(Error::HeadTooLarge),
        Ok(httparse::Status::Partial) if buf.len() > limits.max_head => {
            return Err(Error::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Error::HeadTooLarge),
        Err(_) => return Err(Error::BadRequest),
    };
    // A complete parse fills all three.
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version)
    else {
        return Err(Error::BadRequest);
    };

    let mut fields = Fields::default();
    for field in req.headers.iter() {
        fields.add(field.name, field.value)?;
    }
    let framing = fields.framing(minor_version, limits)?;
    Ok(Some((
        Head {
            method,
            target,
            minor_version,
            keep_alive: !fields.close && (minor_version == 1 || fields.keep_alive),
            framing,
            expect_continue: fields.expect_continue,
        },
        len,
    )))
}

/// What the fields that matter to us say, gathered over all their lines.
#[derive(Debug, Default)]
struct Fields {
    /// The `Content-Length` every line and list element agreed on.
    content_length: Option<u64>,
    /// Whether any `Transfer-Encoding` line was present.
    transfer_encoding: bool,
    /// How many of the transfer codings were `chunked`.
    chunked: usize,
    /// Whether the last transfer coding was `chunked`.
    chunked_last: bool,
    /// Whether there was a transfer coding other than `chunked`.
    other_coding: bool,
    /// `Connection: close`.
    close: bool,
    /// `Connection: keep-alive`.
    keep_alive: bool,
    /// `Expect: 100-continue`.
    expect_continue: bool,
}

impl Fields {
    /// Takes in one field line.
    fn add(&mut self, name: &str, value: &[u8]) -> Result<(), Error> {
        if name.eq_ignore_ascii_case("content-length") {
            // `Content-Length: 42, 42` (or two lines of 42) is one length said twice, which
            // RFC 9110 §8.6 lets us accept; two different lengths are the shape of request
            // smuggling, and a 400.
            for item in value.split(|&b| b == b',') {
                let n = parse_length(trim(item))?;
                match self.content_length {
                    Some(m) if m != n => return Err(Error::BadRequest),
                    _ => self.content_length = Some(n),
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            self.transfer_encoding = true;
            for coding in list(value) {
                // A coding may carry parameters (`gzip;q=1`): the name is what counts.
                let name = trim(coding.split(|&b| b == b';').next().unwrap_or_default());
                let chunked = name.eq_ignore_ascii_case(b"chunked") && name.len() == coding.len();
                self.chunked += usize::from(chunked);
                self.other_coding |= !chunked;
                self.chunked_last = chunked;
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for option in list(value) {
                self.close |= option.eq_ignore_ascii_case(b"close");
                self.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("expect") {
            self.expect_continue |= trim(value).eq_ignore_ascii_case(b"100-continue");
        }
        Ok(())
    }

    /// How the body is delimited, by RFC 9112 §6.1 and §6.3.
    fn framing(&self, minor_version: u8, limits: &Limits) -> Result<Framing, Error> {
        if self.transfer_encoding {
            // Each of these leaves the body's end in doubt; the RFC says 400 and close.
            let ambiguous = minor_version == 0 // HTTP/1.0 has no transfer codings
                || self.content_length.is_some() // both: the shape of request smuggling
                || !self.chunked_last // only a final `chunked` marks the end
                || self.chunked > 1; // `chunked` applied twice
            if ambiguous {
                return Err(Error::BadRequest);
            }
            if self.other_coding {
                return Err(Error::NotImplemented);
            }
            return Ok(Framing::Chunked);
        }
        match self.content_length {
            Some(n) if n > limits.max_body => Err(Error::BodyTooLarge),
            Some(n) => Ok(Framing::Length(n)),
            None => Ok(Framing::Length(0)),
        }
    }
}

/// Parses `1*DIGIT`. A number too large for `u64` is larger than any body we take, so it
/// comes back as `u64::MAX` (and is refused as too large).
fn parse_length(digits: &[u8]) -> Result<u64, Error> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Error::BadRequest);
    }
    Ok(digits
        .iter()
        .try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .unwrap_or(u64::MAX))
}

/// The non-empty elements of a comma-separated field value (RFC 9110 §5.6.1: empty ones
/// are ignored), trimmed.
fn list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|item| !item.is_empty())
}

/// `s` without leading and trailing spaces and tabs.
fn trim(s: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = s.iter().position(|b| !ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8]) -> Result<Option<(Head<'_>, usize)>, Error> {
        parse_head(buf, &Limits::default())
    }

    fn framing(buf: &[u8]) -> Result<Framing, Error> {
        parse(buf).map(|r| r.expect("a whole head").0.framing)
    }

    #[test]
    fn simple_get() {
        let (h, n) = parse(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.method, h.target, h.minor_version, h.keep_alive),
            ("GET", "/", 1, true)
        );
        assert_eq!((h.framing, n), (Framing::Length(0), 27));
    }

    #[test]
    fn incomplete_needs_more() {
        let full = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(framing(full), Ok(Framing::Length(5)));
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |b: &[u8]| parse(b).unwrap().unwrap().0.keep_alive;
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n"
        ));
    }

    #[test]
    fn content_length_is_checked() {
        // The request from the issue: its length once wrapped an addition.
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: 18446744073709551560\r\n\r\n"),
            Err(Error::BodyTooLarge)
        );
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n"),
            Err(Error::BodyTooLarge)
        );
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            Err(Error::BodyTooLarge)
        );
        for bad in [
            &b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\n",
        ] {
            assert_eq!(framing(bad), Err(Error::BadRequest), "{bad:?}");
        }
    }

    #[test]
    fn conflicting_lengths_are_400_and_equal_ones_are_one() {
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Err(Error::BadRequest)
        );
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n"),
            Err(Error::BadRequest)
        );
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5, 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
    }

    #[test]
    fn transfer_codings_follow_rfc_9112() {
        let te = |v: &str| {
            framing(format!("POST / HTTP/1.1\r\nTransfer-Encoding: {v}\r\n\r\n").as_bytes())
        };
        assert_eq!(te("chunked"), Ok(Framing::Chunked));
        assert_eq!(te("Chunked"), Ok(Framing::Chunked));
        assert_eq!(te(", chunked"), Ok(Framing::Chunked));
        assert_eq!(te("gzip, chunked"), Err(Error::NotImplemented));
        assert_eq!(te("gzip"), Err(Error::BadRequest)); // the end is unknowable
        assert_eq!(te("chunked, gzip"), Err(Error::BadRequest));
        assert_eq!(te("chunked, chunked"), Err(Error::BadRequest));
        assert_eq!(te("chunked;x=1"), Err(Error::BadRequest));
        assert_eq!(te(""), Err(Error::BadRequest));
        assert_eq!(
            framing(
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
            ),
            Err(Error::NotImplemented)
        );
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
            Err(Error::BadRequest)
        );
        assert_eq!(
            framing(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(Error::BadRequest)
        );
    }

    #[test]
    fn malformed_is_rejected() {
        for bad in [
            &b"garbage\r\n\r\n"[..],
            b"GET /\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\nName : v\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
            b"GET / HTTP/1.1\r\n folded\r\n\r\n",
            b"GET /a b HTTP/1.1\r\n\r\n",
            b"\x16\x03\x01\x02\x00",
        ] {
            assert_eq!(parse(bad), Err(Error::BadRequest), "{bad:?}");
        }
    }

    #[test]
    fn oversized_heads_are_431() {
        let mut req = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
        req.extend(std::iter::repeat_n(b'a', Limits::default().max_head));
        assert_eq!(parse(&req), Err(Error::HeadTooLarge));
        req.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse(&req), Err(Error::HeadTooLarge));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        let req = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse(req.as_bytes()), Err(Error::HeadTooLarge));
    }

    #[test]
    fn expect_continue() {
        let (h, _) = parse(b"PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.expect_continue);
    }
}
