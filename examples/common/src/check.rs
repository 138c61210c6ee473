//! The properties every parser in this crate keeps, whatever bytes arrive in whatever
//! pieces: the fuzz targets in `fuzz/` and the property tests in `tests/parsers.rs` run these.
//!
//! Each function takes arbitrary bytes (the first ones choose how the rest is cut into
//! pieces, and which limits apply) and panics if a property fails:
//!
//! - no panic, and every call returns: a parser either consumes bytes, asks for more, or
//!   errors (the number of calls is bounded by the input's length);
//! - what a parser holds stays within its limits;
//! - the result does not depend on how the input was cut into pieces.

use crate::http::{self, Answer, Connection, Limits, Response, OUT_HIGH};
use crate::lines::{LineError, Lines};
use crate::resp::{parse_frame, CommandParser, ProtocolError};

/// Splits `data` into (a piece size from its first byte, the rest).
fn piece_and_rest(data: &[u8]) -> (usize, &[u8]) {
    match data.split_first() {
        Some((&0, rest)) | Some((_, rest @ [])) => (rest.len().max(1), rest),
        Some((&n, rest)) => (usize::from(n), rest),
        None => (1, data),
    }
}

/// HTTP: [`http::parse_head`] and [`Connection`] on `data`.
pub fn http(data: &[u8]) {
    let Some((&knob, data)) = data.split_first() else {
        return;
    };
    // Small limits half the time, so that fuzzing reaches them.
    let limits = if knob & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_head: 32 + usize::from(knob) * 2,
            max_body: u64::from(knob) * 4,
        }
    };
    let (piece, input) = piece_and_rest(data);

    if let Ok(Some((_, n))) = http::parse_head(input, &limits) {
        assert!(n <= input.len() && n <= limits.max_head);
        assert!(matches!(http::parse_head(&input[..n], &limits), Ok(Some((_, m))) if m == n));
    }

    let whole = serve(input, input.len().max(1), &limits);
    let pieces = serve(input, piece, &limits);
    assert_eq!(whole.closed, pieces.closed, "closed, for pieces of {piece}");
    assert_eq!(
        before_error(&whole.out),
        before_error(&pieces.out),
        "responses, for pieces of {piece}"
    );
}

/// What a connection answered to some input.
struct Served {
    out: Vec<u8>,
    closed: bool,
}

/// The answer the checks give to every request.
const OK: Response = Response {
    head: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
    body: b"ok",
};

/// Feeds `input` to a connection `piece` bytes at a time, as a serving loop would.
fn serve(input: &[u8], piece: usize, limits: &Limits) -> Served {
    let mut conn = Connection::new(*limits);
    let mut all = Vec::new();
    let mut out = Vec::new();
    for chunk in input.chunks(piece) {
        conn.receive(chunk);
        // Each `Again` needs OUT_HIGH bytes of responses, each of which took input bytes.
        for calls in 0.. {
            assert!(calls <= input.len() + 1, "answer does not make progress");
            let answer = conn.answer(&mut out, |_| OK);
            assert!(
                out.len() < OUT_HIGH + 1024,
                "one call wrote {} bytes",
                out.len()
            );
            all.append(&mut out);
            match answer {
                Answer::Again => continue,
                Answer::Read => {
                    assert!(
                        conn.buffered() <= limits.max_head,
                        "holds {}",
                        conn.buffered()
                    );
                    break;
                }
                Answer::Close => {
                    // Closed stays closed, and says nothing more.
                    assert_eq!(conn.answer(&mut out, |_| OK), Answer::Close);
                    assert!(out.is_empty());
                    return Served {
                        out: all,
                        closed: true,
                    };
                }
            }
        }
    }
    Served {
        out: all,
        closed: false,
    }
}

/// The responses before the first error response: which error ends a connection may depend on
/// where the input was cut (a head that is both too long and malformed), whether one does
/// may not.
fn before_error(out: &[u8]) -> (&[u8], bool) {
    let error = out
        .windows(10)
        .position(|w| w.starts_with(b"HTTP/1.1 4") || w.starts_with(b"HTTP/1.1 5"));
    match error {
        Some(i) => (&out[..i], true),
        None => (out, false),
    }
}

/// What a command parser made of some input: each command's arguments, then how it ended.
type Commands = (Vec<Vec<Vec<u8>>>, Result<(), ProtocolError>);

/// RESP: [`CommandParser`] and [`parse_frame`] on `data`.
pub fn resp(data: &[u8]) {
    let (piece, input) = piece_and_rest(data);
    let whole = commands(input, input.len().max(1));
    let pieces = commands(input, piece);
    assert_eq!(whole, pieces, "commands, for pieces of {piece}");

    if let Ok(Some((frame, n))) = parse_frame(input) {
        assert!(n <= input.len());
        assert_eq!(parse_frame(&input[..n]), Ok(Some((frame, n))));
        // No prefix decides (every prefix of a short frame; a sample of a long one's).
        for cut in (0..n).step_by(n / 256 + 1) {
            assert_eq!(parse_frame(&input[..cut]), Ok(None), "a prefix decided");
        }
    }
}

/// Runs a command parser over `input` fed `piece` bytes at a time, as the server does:
/// complete commands are consumed from the front of its buffer.
fn commands(input: &[u8], piece: usize) -> Commands {
    let mut parser = CommandParser::new();
    let mut buf = Vec::new();
    let mut parsed = Vec::new();
    for chunk in input.chunks(piece) {
        buf.extend_from_slice(chunk);
        for calls in 0.. {
            assert!(calls <= input.len() + 1, "parse does not make progress");
            match parser.parse(&buf) {
                Ok(Some(n)) => {
                    assert!(n > 0 && n <= buf.len(), "took {n} of {}", buf.len());
                    parsed.push(parser.args(&buf).iter_from(0).map(<[u8]>::to_vec).collect());
                    buf.drain(..n);
                }
                Ok(None) => break,
                Err(e) => return (parsed, Err(e)),
            }
        }
    }
    (parsed, Ok(()))
}

/// What a line splitter made of some input: the lines, then the first error if any.
type Split = (Vec<String>, Option<LineError>);

/// Chat lines: [`Lines`] on `data`.
pub fn lines(data: &[u8]) {
    let Some((&knob, data)) = data.split_first() else {
        return;
    };
    let max = usize::from(knob % 64);
    let (piece, input) = piece_and_rest(data);
    let whole = split(input, input.len().max(1), max);
    let pieces = split(input, piece, max);
    assert_eq!(whole, pieces, "lines, for pieces of {piece} (max {max})");
}

/// Runs a splitter over `input` fed `piece` bytes at a time, until the first error.
fn split(input: &[u8], piece: usize, max: usize) -> Split {
    let mut lines = Lines::new(max);
    let mut out = Vec::new();
    for chunk in input.chunks(piece) {
        lines.push(chunk);
        for calls in 0.. {
            assert!(calls <= input.len() + 1, "next_line does not make progress");
            match lines.next_line() {
                Some(Ok(line)) => {
                    assert!(line.len() <= max && !line.contains('\n'), "{line:?}");
                    out.push(line);
                }
                Some(Err(e)) => return (out, Some(e)),
                None => break,
            }
        }
        // A line end waits for at most `max` bytes and a CR.
        assert!(lines.buffered() <= max + 1, "holds {}", lines.buffered());
    }
    match lines.finish() {
        Some(Ok(line)) => {
            assert!(line.len() <= max && !line.contains('\n'));
            out.push(line);
            (out, None)
        }
        Some(Err(e)) => (out, Some(e)),
        None => (out, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checks_pass_on_valid_input() {
        http(b"\x00\x05GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab");
        http(b"\x01\x03POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n");
        resp(b"\x03*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n");
        lines(b"\x08\x02hello\r\nworld\nlast");
    }

    /// Found by the property test: when a partial head was parsed again only once a new line
    /// end arrived, garbage after the first piece (`#`, then `{`) was refused when sent
    /// whole but waited for more when sent a byte at a time.
    #[test]
    fn regression_refusal_does_not_depend_on_the_cuts() {
        http(&[20, 1, 35, 123, 0]);
    }
}
