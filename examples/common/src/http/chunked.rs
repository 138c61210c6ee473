//! The chunked transfer coding (RFC 9112 §7.1), read and discarded as it arrives.
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//! chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! last-chunk   = 1*"0" [ chunk-ext ] CRLF
//! ```
//!
//! The decoder is a byte-at-a-time state machine (chunk data is skipped in one step), so it
//! needs no buffer: any split of the input gives the same result. Every quantity the client
//! chooses is checked: a chunk size in checked arithmetic and against the body limit before
//! its data arrives, a size line and the trailers against their own limits. Line ends must be
//! CRLF: a bare LF inside chunked framing is a known request-smuggling vector.

use super::{Error, Limits};

/// The longest a chunk-size line (size and extensions) may be.
const MAX_SIZE_LINE: usize = 1024;

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk size's hex digits: the value so far and whether there was a digit.
    Size { value: u64, digits: bool },
    /// After the size: extensions (or blanks), up to the CR.
    Extension { value: u64 },
    /// The LF of the size line.
    SizeLf { value: u64 },
    /// Chunk data: the bytes left.
    Data { left: u64 },
    /// The CR after chunk data.
    DataCr,
    /// The LF after chunk data.
    DataLf,
    /// At the start of a trailer line, or of the final blank line.
    TrailerStart,
    /// Inside a trailer field line.
    Trailer,
    /// The LF of a trailer line.
    TrailerLf,
    /// The LF of the final blank line.
    EndLf,
    /// The body is over.
    Done,
}

/// Reads a chunked body and throws its data away.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// Data bytes announced so far (every chunk size, summed): at most `limits.max_body`.
    data: u64,
    /// Bytes of the current size line.
    line: usize,
    /// Bytes of trailer section so far: at most `limits.max_head`.
    trailers: usize,
    limits: Limits,
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new(limits: Limits) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size {
                value: 0,
                digits: false,
            },
            data: 0,
            line: 0,
            trailers: 0,
            limits,
        }
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Reads what it can of the body from the start of `input`; returns how many bytes it
    /// took. Stops at the end of the body (then [`is_done`](Self::is_done)); what follows is
    /// the next request.
    ///
    /// # Errors
    ///
    /// [`Error::BodyTooLarge`] when the chunk sizes add up past [`Limits::max_body`];
    /// [`Error::HeadTooLarge`] when the trailers pass [`Limits::max_head`];
    /// [`Error::BadRequest`] for anything that is not chunked framing.
    pub fn discard(&mut self, input: &[u8]) -> Result<usize, Error> {
        let mut at = 0;
        while at < input.len() && self.state != State::Done {
            if let State::Data { left } = self.state {
                // Skip as much data as is here in one step.
                let n = left.min((input.len() - at) as u64);
                at += n as usize; // n <= input.len() - at
                self.state = match left - n {
                    0 => State::DataCr,
                    left => State::Data { left },
                };
                continue;
            }
            self.state = self.step(input[at])?;
            at += 1;
        }
        Ok(at)
    }

    /// The state after byte `b`, outside chunk data.
    fn step(&mut self, b: u8) -> Result<State, Error> {
        let next = match self.state {
            State::Size { .. } | State::Extension { .. } | State::SizeLf { .. } => {
                self.line += 1;
                if self.line > MAX_SIZE_LINE {
                    return Err(Error::BadRequest);
                }
                self.size_line(b)?
            }
            State::Data { .. } => unreachable!("data is skipped by `discard`"),
            State::DataCr if b == b'\r' => State::DataLf,
            State::DataLf if b == b'\n' => State::Size {
                value: 0,
                digits: false,
            },
            State::TrailerStart if b == b'\r' => State::EndLf,
            State::TrailerStart | State::Trailer => {
                self.trailers += 1;
                if self.trailers > self.limits.max_head {
                    return Err(Error::HeadTooLarge);
                }
                match b {
                    b'\r' => State::TrailerLf,
                    b'\t' => State::Trailer,
                    b if b.is_ascii_control() => return Err(Error::BadRequest),
                    _ => State::Trailer,
                }
            }
            State::TrailerLf if b == b'\n' => State::TrailerStart,
            State::EndLf if b == b'\n' => State::Done,
            State::DataCr | State::DataLf | State::TrailerLf | State::EndLf | State::Done => {
                return Err(Error::BadRequest)
            }
        };
        Ok(next)
    }

    /// The state after byte `b` of a chunk-size line.
    fn size_line(&mut self, b: u8) -> Result<State, Error> {
        let next = match (self.state, b) {
            (State::Size { value, .. }, b) if b.is_ascii_hexdigit() => {
                let digit = u64::from(char::from(b).to_digit(16).unwrap_or(0));
                // A size past u64 is past any body limit too.
                let value = value
                    .checked_mul(16)
                    .and_then(|v| v.checked_add(digit))
                    .ok_or(Error::BodyTooLarge)?;
                State::Size {
                    value,
                    digits: true,
                }
            }
            (State::Size { digits: false, .. }, _) => return Err(Error::BadRequest),
            (State::Size { value, .. }, b'\r') | (State::Extension { value }, b'\r') => {
                State::SizeLf { value }
            }
            // Extensions mean nothing to us; any visible text (or blank) up to the CR is
            // skipped, within the line's limit.
            (State::Size { value, .. }, b';' | b' ' | b'\t') => State::Extension { value },
            (State::Extension { value }, b) if b == b'\t' || !b.is_ascii_control() => {
                State::Extension { value }
            }
            (State::SizeLf { value }, b'\n') => {
                self.line = 0;
                self.data = self
                    .data
                    .checked_add(value)
                    .filter(|&total| total <= self.limits.max_body)
                    .ok_or(Error::BodyTooLarge)?;
                match value {
                    0 => State::TrailerStart,
                    left => State::Data { left },
                }
            }
            _ => return Err(Error::BadRequest),
        };
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `body` whole and byte by byte; both must agree. Returns what the whole one gave.
    fn decode(body: &[u8]) -> Result<(usize, bool), Error> {
        let mut whole = ChunkedDecoder::new(Limits::default());
        let r = whole.discard(body).map(|n| (n, whole.is_done()));
        let mut bytewise = ChunkedDecoder::new(Limits::default());
        let mut taken = 0;
        let mut split = Ok((0, false));
        for i in 0..body.len() {
            match bytewise.discard(&body[i..=i]) {
                Ok(n) => {
                    taken += n;
                    split = Ok((taken, bytewise.is_done()));
                }
                Err(e) => {
                    split = Err(e);
                    break;
                }
            }
            if bytewise.is_done() {
                break;
            }
        }
        if !body.is_empty() {
            assert_eq!(r, split, "{:?}", String::from_utf8_lossy(body));
        }
        r
    }

    #[test]
    fn bodies_end_where_they_should() {
        let body = b"5\r\nhello\r\n6;name=val\r\n world\r\n0\r\n\r\nGET /";
        assert_eq!(decode(body), Ok((body.len() - 5, true)));
        let with_trailer = b"1\r\nx\r\n0\r\nExpires: never\r\n\r\n";
        assert_eq!(decode(with_trailer), Ok((with_trailer.len(), true)));
        assert_eq!(decode(b"000\r\n\r\n"), Ok((7, true)));
        assert_eq!(decode(b"A\r\n0123456789"), Ok((13, false)));
    }

    #[test]
    fn framing_errors() {
        for bad in [
            &b"\r\n"[..],
            b"x\r\n",
            b"5\nhello\r\n",
            b"5\r\nhello\n",
            b"5\r\nhelloX",
            b"0\r\n\n",
            b"0\r\nX: \x01\r\n\r\n",
            b"-1\r\n",
        ] {
            assert_eq!(decode(bad), Err(Error::BadRequest), "{bad:?}");
        }
    }

    #[test]
    fn sizes_are_checked_before_data_arrives() {
        let max = Limits::default().max_body;
        assert_eq!(
            decode(format!("{:x}\r\n", max + 1).as_bytes()),
            Err(Error::BodyTooLarge)
        );
        assert_eq!(decode(b"ffffffffffffffffff\r\n"), Err(Error::BodyTooLarge));
        // Two chunks that fit alone but not together.
        let half = format!("{:x}\r\n", max / 2 + 1);
        let mut body = half.clone().into_bytes();
        body.extend(std::iter::repeat_n(b'a', (max / 2 + 1) as usize));
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(half.as_bytes());
        assert_eq!(decode(&body), Err(Error::BodyTooLarge));
        // Leading zeros are fine, and bounded by the line limit.
        assert_eq!(decode(b"00000000000000000000001\r\nx\r\n"), Ok((28, false)));
        let long = "0".repeat(MAX_SIZE_LINE + 1);
        assert_eq!(decode(long.as_bytes()), Err(Error::BadRequest));
    }

    #[test]
    fn trailers_are_bounded() {
        let mut body = b"0\r\nX: ".to_vec();
        body.extend(std::iter::repeat_n(b'a', Limits::default().max_head));
        assert_eq!(decode(&body), Err(Error::HeadTooLarge));
    }
}
