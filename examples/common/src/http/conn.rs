//! One HTTP/1.1 connection's protocol state, without I/O: bytes in, responses out.
//!
//! The serving loop reads from its socket into [`Connection::receive`], calls
//! [`Connection::answer`] to turn what arrived into responses, writes them, and uses
//! [`Connection::phase`] to pick its read deadline. Everything here is bounded by the
//! [`Limits`]: the input buffer holds at most a partial head plus one read (bodies are
//! discarded as they arrive), and one call to `answer` writes at most [`OUT_HIGH`] bytes plus
//! one response, so a client that pipelines requests and never reads cannot grow the output.

use super::chunked::ChunkedDecoder;
use super::head::{parse_head, Framing, Head};
use super::{Error, Limits, Persist, Response, CONTINUE};

/// `answer` stops taking requests once this many response bytes are waiting to be written.
pub const OUT_HIGH: usize = 16 * 1024;

/// What the connection is waiting for; the serving loop gives each its own deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing of a request has arrived: between requests, or a new connection.
    Idle,
    /// Part of a request head has arrived.
    Head,
    /// A request body is being read (and discarded).
    Body,
    /// The connection is done: write what is left, then close.
    Closed,
}

/// What the serving loop does after [`Connection::answer`]: in each case, first write what
/// it appended to `out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Read more: every complete request has been answered.
    Read,
    /// Call `answer` again once the output is written: it stopped at [`OUT_HIGH`].
    Again,
    /// Close the connection: the last response has been appended.
    Close,
}

/// The response chosen for a request whose body is still being read.
#[derive(Debug, Clone, Copy)]
struct Pending {
    response: Response,
    persist: Persist,
    head_only: bool,
}

/// Where the connection is in its current request.
#[derive(Debug, Clone)]
enum State {
    /// Expecting a request head.
    Head,
    /// Discarding a `Content-Length` body: the bytes left.
    Body { left: u64, then: Pending },
    /// Discarding a chunked body.
    Chunked {
        decoder: ChunkedDecoder,
        then: Pending,
    },
    /// No more requests on this connection.
    Closed,
}

/// The protocol state of one HTTP/1.1 connection.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    state: State,
    /// Bytes received and not yet consumed. A partial head is parsed again from its start
    /// when more arrives: at most [`Limits::max_head`] bytes per read.
    input: Vec<u8>,
    /// Set by [`close_after_current`](Self::close_after_current).
    closing: bool,
    /// No request head has been parsed yet.
    new: bool,
}

impl Connection {
    /// A new connection, expecting its first request.
    pub fn new(limits: Limits) -> Connection {
        Connection {
            limits,
            state: State::Head,
            input: Vec::new(),
            closing: false,
            new: true,
        }
    }

    /// Takes in bytes read from the socket. Call [`answer`](Self::answer) before reading
    /// again: that is what keeps the buffer bounded.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// How many received bytes are not consumed yet.
    pub fn buffered(&self) -> usize {
        self.input.len()
    }

    /// What the connection is waiting for.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Head if self.input.is_empty() => Phase::Idle,
            State::Head => Phase::Head,
            State::Body { .. } | State::Chunked { .. } => Phase::Body,
            State::Closed => Phase::Closed,
        }
    }

    /// Whether no request head has arrived yet on this connection.
    pub fn is_new(&self) -> bool {
        self.new
    }

    /// Makes the response to the request in progress the last one, with
    /// `Connection: close` (a server that is shutting down).
    pub fn close_after_current(&mut self) {
        self.closing = true;
    }

    /// Ends the connection with `error`'s response (e.g. a timeout noticed by the serving
    /// loop), unless it is already over.
    pub fn fail(&mut self, error: Error, out: &mut Vec<u8>) {
        if !matches!(self.state, State::Closed) {
            error.response().write(out, Persist::Close, false);
            self.state = State::Closed;
        }
    }

    /// Answers the requests received so far, appending their responses to `out`.
    /// `respond` picks the response to each request from its head.
    pub fn answer(
        &mut self,
        out: &mut Vec<u8>,
        mut respond: impl FnMut(&Head<'_>) -> Response,
    ) -> Answer {
        let mut at = 0; // bytes of `input` consumed
        let answer = loop {
            if out.len() >= OUT_HIGH {
                break Answer::Again;
            }
            match &mut self.state {
                State::Closed => break Answer::Close,
                State::Head => {
                    // RFC 9112 §2.2: empty lines before a request line are ignored.
                    while let Some(b'\r' | b'\n') = self.input.get(at) {
                        at += 1;
                    }
                    let pending = &self.input[at..];
                    if pending.is_empty() {
                        break Answer::Read;
                    }
                    match parse_head(pending, &self.limits) {
                        Ok(None) => break Answer::Read,
                        Ok(Some((head, len))) => {
                            at += len;
                            self.new = false;
                            self.state = self.start(&head, respond(&head), out);
                        }
                        Err(e) => {
                            self.fail(e, out);
                            break Answer::Close;
                        }
                    }
                }
                State::Body { left, then } => {
                    let n = (*left).min((self.input.len() - at) as u64);
                    at += n as usize; // n <= input.len() - at
                    *left -= n;
                    if *left > 0 {
                        break Answer::Read;
                    }
                    let then = *then;
                    self.finish(then, out);
                }
                State::Chunked { decoder, then } => match decoder.discard(&self.input[at..]) {
                    Ok(n) if decoder.is_done() => {
                        at += n;
                        let then = *then;
                        self.finish(then, out);
                    }
                    Ok(_) => {
                        at = self.input.len();
                        break Answer::Read;
                    }
                    Err(e) => {
                        self.fail(e, out);
                        break Answer::Close;
                    }
                },
            }
        };
        self.input.drain(..at);
        answer
    }

    /// The state after the head of a request answered by `response`.
    fn start(&self, head: &Head<'_>, response: Response, out: &mut Vec<u8>) -> State {
        let persist = match (head.keep_alive && !self.closing, head.minor_version) {
            (false, _) => Persist::Close,
            (true, 0) => Persist::KeepAlive,
            (true, _) => Persist::Default,
        };
        let then = Pending {
            response,
            persist,
            head_only: head.method == "HEAD",
        };
        match head.framing {
            Framing::Length(0) => {
                // No body: answer now (the state is only a formality).
                State::Body { left: 0, then }
            }
            framing => {
                if head.expect_continue && head.minor_version == 1 {
                    out.extend_from_slice(CONTINUE);
                }
                match framing {
                    Framing::Length(left) => State::Body { left, then },
                    Framing::Chunked => State::Chunked {
                        decoder: ChunkedDecoder::new(self.limits),
                        then,
                    },
                }
            }
        }
    }

    /// Writes the response to a request whose body has been read.
    fn finish(&mut self, then: Pending, out: &mut Vec<u8>) {
        // A shutdown that began while the body was read still gets its `Connection: close`.
        let persist = if self.closing {
            Persist::Close
        } else {
            then.persist
        };
        then.response.write(out, persist, then.head_only);
        self.state = match persist {
            Persist::Close => State::Closed,
            _ => State::Head,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Response = Response {
        head: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
        body: b"ok",
    };

    /// Feeds `input` in pieces of `step` bytes; returns the output and the last answer.
    fn run(input: &[u8], step: usize) -> (String, Answer) {
        let mut conn = Connection::new(Limits::default());
        let mut out = Vec::new();
        let mut last = Answer::Read;
        for piece in input.chunks(step) {
            conn.receive(piece);
            loop {
                last = conn.answer(&mut out, |_| OK);
                if last != Answer::Again {
                    break;
                }
            }
            if last == Answer::Close {
                break;
            }
        }
        (String::from_utf8_lossy(&out).into_owned(), last)
    }

    #[test]
    fn pipelined_requests_with_bodies() {
        let input = b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\
                      POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
                      \r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        for step in [1, 2, 7, input.len()] {
            let (out, last) = run(input, step);
            assert_eq!(out.matches("200 OK").count(), 3, "step {step}: {out}");
            assert!(out.ends_with("Connection: close\r\n\r\nok"), "{out}");
            assert_eq!(last, Answer::Close);
        }
    }

    #[test]
    fn errors_close_with_their_status() {
        let (out, last) = run(b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 5);
        assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
        assert_eq!(last, Answer::Close);
        let (out, _) = run(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            100,
        );
        assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
        let (out, _) = run(b"POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 100);
        assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
    }

    #[test]
    fn head_answers_have_no_body_and_http10_keep_alive_is_said() {
        let (out, _) = run(b"HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 100);
        assert_eq!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn expect_continue_gets_100_first() {
        let (out, _) = run(
            b"PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nab",
            100,
        );
        assert!(
            out.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"),
            "{out}"
        );
    }

    #[test]
    fn output_is_bounded_per_call() {
        let one = b"GET / HTTP/1.1\r\n\r\n";
        let many: Vec<u8> = one
            .iter()
            .copied()
            .cycle()
            .take(one.len() * 10_000)
            .collect();
        let mut conn = Connection::new(Limits::default());
        conn.receive(&many);
        let mut out = Vec::new();
        let mut calls = 0;
        while conn.answer(&mut out, |_| OK) == Answer::Again {
            assert!(out.len() < OUT_HIGH + 100);
            out.clear();
            calls += 1;
        }
        assert!(calls > 1);
        assert_eq!(conn.phase(), Phase::Idle);
    }

    #[test]
    fn phases() {
        let mut conn = Connection::new(Limits::default());
        let mut out = Vec::new();
        assert_eq!(conn.phase(), Phase::Idle);
        conn.receive(b"POST / HTTP/1.1\r\nContent-Le");
        assert_eq!(conn.answer(&mut out, |_| OK), Answer::Read);
        assert_eq!(conn.phase(), Phase::Head);
        conn.receive(b"ngth: 4\r\n\r\nab");
        assert_eq!(conn.answer(&mut out, |_| OK), Answer::Read);
        assert_eq!(conn.phase(), Phase::Body);
        conn.close_after_current();
        conn.receive(b"cd");
        assert_eq!(conn.answer(&mut out, |_| OK), Answer::Close);
        assert_eq!(conn.phase(), Phase::Closed);
        assert!(out.ends_with(b"Connection: close\r\n\r\nok"));
    }

    #[test]
    fn garbage_is_refused_on_first_sight() {
        let (out, last) = run(b"\x16\x03\x01\x00\xa5\x01\x00\x00", 100);
        assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
        assert_eq!(last, Answer::Close);
    }
}
