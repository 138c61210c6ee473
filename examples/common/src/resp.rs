//! RESP2, the Redis serialization protocol: the command parser the server reads requests
//! with, a general frame parser (for clients, tests and fuzzing), and the reply encoders.
//!
//! ```text
//! request  = multibulk / inline
//! multibulk = "*" count CRLF 1*("$" len CRLF bytes CRLF)   e.g. *2\r\n$3\r\nGET\r\n$1\r\nk\r\n
//! inline    = words separated by spaces, ending in LF       e.g. PING\r\n
//! frame     = "+" text CRLF / "-" text CRLF / ":" int CRLF
//!           / "$" len CRLF bytes CRLF / "$-1" CRLF / "*" count CRLF *frame / "*-1" CRLF
//! ```
//!
//! # Limits
//!
//! Lengths are checked before anything is buffered or allocated for them: a bulk longer than
//! [`MAX_BULK_LEN`], an array longer than [`MAX_ARRAY_LEN`], a number line or an inline
//! command without its line end after [`MAX_NUMBER_LINE`] / [`MAX_INLINE_LEN`] bytes, and a
//! frame nested deeper than [`MAX_DEPTH`] are protocol errors. Nothing is preallocated from a
//! length the peer sent, beyond a small cap.
//!
//! # Errors
//!
//! A [`ProtocolError`] means the byte stream cannot be resynchronised: the server answers
//! `-ERR Protocol error: <Display>` and closes the connection.

use std::fmt;
use std::ops::Range;

/// The longest bulk string accepted (Redis's default `proto-max-bulk-len`, 512 MiB).
pub const MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// The most elements an array (a command's arguments) may have (Redis's limit, 2^20).
pub const MAX_ARRAY_LEN: usize = 1024 * 1024;
/// The longest an inline command line may be, line end included (Redis's 64 KiB).
pub const MAX_INLINE_LEN: usize = 64 * 1024;
/// The longest a `*count`, `$len` or `:int` line may be before its CRLF: 20 characters
/// hold any `i64`; anything longer is garbage, refused before it is buffered further.
pub const MAX_NUMBER_LINE: usize = 20;
/// The deepest [`parse_frame`] nests arrays (it recurses once per level).
pub const MAX_DEPTH: usize = 32;
/// Upper bound on the capacity reserved up front for an array's elements, whatever count
/// the peer announced: the rest grows as elements actually arrive.
const PREALLOC_CAP: usize = 64;

/// Why a byte stream is not RESP. The `Display` text follows Redis's wording after
/// `Protocol error: `.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// A `*count` that is not a number or exceeds [`MAX_ARRAY_LEN`].
    InvalidMultibulkLength,
    /// A `$len` that is not a number, negative in a request, or exceeds [`MAX_BULK_LEN`].
    InvalidBulkLength,
    /// A `:int` that is not a number.
    InvalidInteger,
    /// A command's element that is not a bulk string: holds the byte found instead of `$`.
    ExpectedBulk(u8),
    /// Bulk data not followed by CRLF.
    MissingCrlf,
    /// A number line longer than [`MAX_NUMBER_LINE`] without its CRLF.
    NumberLineTooLong,
    /// An inline command longer than [`MAX_INLINE_LEN`] without its line end.
    InlineTooBig,
    /// An inline command with an unclosed quote, or a closing quote not followed by a space.
    UnbalancedQuotes,
    /// A frame starting with a byte that is not a RESP2 type marker.
    UnknownType(u8),
    /// Arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ProtocolError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ProtocolError::InvalidInteger => f.write_str("invalid integer"),
            ProtocolError::ExpectedBulk(b) => {
                write!(f, "expected '$', got '{}'", char::from(*b).escape_default())
            }
            ProtocolError::MissingCrlf => f.write_str("expected CRLF after bulk data"),
            ProtocolError::NumberLineTooLong => f.write_str("too big count string"),
            ProtocolError::InlineTooBig => f.write_str("too big inline request"),
            ProtocolError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            ProtocolError::UnknownType(b) => {
                write!(f, "unknown type '{}'", char::from(*b).escape_default())
            }
            ProtocolError::TooDeep => f.write_str("nested too deep"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Finds the CRLF-terminated line starting at `from` (at most `buf.len()`): `Ok(Some((line,
/// next)))` with `next` the index after the CRLF, `Ok(None)` if it is incomplete,
/// `Err(too_long)` if `max` bytes and a CRLF's room passed without one.
fn line(
    buf: &[u8],
    from: usize,
    max: usize,
    too_long: ProtocolError,
) -> Result<Option<(&[u8], usize)>, ProtocolError> {
    let window = &buf[from..buf.len().min(from.saturating_add(max + 2))];
    match window.windows(2).position(|w| w == b"\r\n") {
        Some(i) => Ok(Some((&window[..i], from + i + 2))),
        None if window.len() >= max + 2 => Err(too_long),
        None => Ok(None),
    }
}

/// Parses a decimal `i64`: an optional `-` and 1 to 19 digits, nothing else (no `+`, no
/// spaces), with overflow checked.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Reads a `len` line at `from` (the byte after the type marker) and checks it against
/// `0..=max`; `-1` is returned as `-1` when `allow_null`.
fn length(
    buf: &[u8],
    from: usize,
    max: usize,
    allow_null: bool,
    bad: ProtocolError,
) -> Result<Option<(i64, usize)>, ProtocolError> {
    let Some((text, next)) = line(buf, from, MAX_NUMBER_LINE, ProtocolError::NumberLineTooLong)?
    else {
        return Ok(None);
    };
    let n = parse_int(text).ok_or(bad)?;
    // `max` is far below i64::MAX, so the cast is exact.
    if n > max as i64 || n < -1 || (n == -1 && !allow_null) {
        return Err(bad);
    }
    Ok(Some((n, next)))
}

/// The arguments of the command that [`CommandParser::parse`] last returned, borrowed from
/// the parsed buffer (or, for an inline command, from the parser's own copy).
#[derive(Clone, Copy)]
pub struct Args<'a> {
    /// The bytes the ranges index.
    base: &'a [u8],
    /// One range of `base` per argument.
    ranges: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    /// How many arguments, the command name included.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there are none (an empty request, which gets no reply).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The `i`th argument (0 is the command name).
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.ranges.get(i).map(|r| &self.base[r.clone()])
    }

    /// The arguments from the `from`th on.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = &'a [u8]> + 'a {
        let base = self.base;
        self.ranges
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .map(move |r| &base[r.clone()])
    }
}

impl fmt::Debug for Args<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter_from(0).map(String::from_utf8_lossy))
            .finish()
    }
}

/// Parses requests (commands) one at a time, without allocating per command once warm.
///
/// A multibulk command that arrives in pieces is parsed where the previous call stopped, so
/// a large command read in many small reads costs linear time. The caller's part of that
/// contract: after `parse` returned `Ok(None)`, call it again with the same bytes at the
/// start of `buf` (more may follow). The buffer may move between calls (offsets are kept
/// relative to its start).
#[derive(Debug, Default)]
pub struct CommandParser {
    /// The arguments, as ranges of the buffer (or of `scratch` when `inline`).
    args: Vec<Range<usize>>,
    /// Unescaped arguments of an inline command.
    scratch: Vec<u8>,
    /// Whether `args` index `scratch` rather than the caller's buffer.
    inline: bool,
    /// Inside a multibulk command: the bulk strings still to read; 0 when not inside one.
    remaining: usize,
    /// Inside a multibulk command: where the next bulk string starts.
    pos: usize,
}

impl CommandParser {
    /// A parser with nothing parsed.
    pub fn new() -> CommandParser {
        CommandParser::default()
    }

    /// Parses one command from the start of `buf`.
    ///
    /// Returns `Ok(Some(n))` when a whole command took the first `n` bytes (its arguments
    /// are then in [`args`](Self::args); an empty request, `*0` or a blank line, has none and
    /// gets no reply), `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] when `buf` does not start with a valid request.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        if self.remaining > 0 {
            return self.parse_bulks(buf);
        }
        match buf.first() {
            None => Ok(None),
            Some(b'*') => self.parse_multibulk(buf),
            Some(_) => self.parse_inline(buf),
        }
    }

    /// The bytes the parser holds on the heap (its argument list and inline scratch).
    pub fn heap_size(&self) -> usize {
        self.args.capacity() * std::mem::size_of::<Range<usize>>() + self.scratch.capacity()
    }

    /// The arguments of the command the last successful `parse` returned; `buf` must be the
    /// buffer it was given.
    pub fn args<'a>(&'a self, buf: &'a [u8]) -> Args<'a> {
        Args {
            base: if self.inline { &self.scratch } else { buf },
            ranges: &self.args,
        }
    }

    /// Forgets the last command, and gives back what a very large one took.
    fn reset(&mut self) {
        self.args.clear();
        self.scratch.clear();
        if self.args.capacity() > 16 * PREALLOC_CAP {
            self.args.shrink_to(PREALLOC_CAP);
        }
        if self.scratch.capacity() > 64 * 1024 {
            self.scratch.shrink_to(1024);
        }
    }

    /// Parses a `*count` request header, then as many of its bulk strings as have arrived.
    fn parse_multibulk(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        self.reset();
        self.inline = false;
        let bad = ProtocolError::InvalidMultibulkLength;
        let Some((n, next)) = length(buf, 1, MAX_ARRAY_LEN, true, bad)? else {
            return Ok(None);
        };
        if n <= 0 {
            return Ok(Some(next)); // `*0` and `*-1`: an empty request, skipped
        }
        // 0 < n <= MAX_ARRAY_LEN: the cast is exact.
        let n = n as usize;
        self.args.reserve(n.min(PREALLOC_CAP));
        self.remaining = n;
        self.pos = next;
        self.parse_bulks(buf)
    }

    /// Reads the bulk strings of a multibulk command from `self.pos` on.
    fn parse_bulks(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        while self.remaining > 0 {
            let Some(&marker) = buf.get(self.pos) else {
                return Ok(None);
            };
            if marker != b'$' {
                self.remaining = 0;
                return Err(ProtocolError::ExpectedBulk(marker));
            }
            let bad = ProtocolError::InvalidBulkLength;
            let (len, start) = match length(buf, self.pos + 1, MAX_BULK_LEN, false, bad) {
                Ok(Some(v)) => v,
                Ok(None) => return Ok(None),
                Err(e) => {
                    self.remaining = 0;
                    return Err(e);
                }
            };
            // 0 <= len <= MAX_BULK_LEN: the cast is exact.
            let end = start + len as usize;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                self.remaining = 0;
                return Err(ProtocolError::MissingCrlf);
            }
            self.args.push(start..end);
            self.pos = end + 2;
            self.remaining -= 1;
        }
        Ok(Some(self.pos))
    }

    /// Parses an inline request: one line of blank-separated, optionally quoted words.
    fn parse_inline(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let window = &buf[..buf.len().min(MAX_INLINE_LEN)];
        let Some(lf) = window.iter().position(|&b| b == b'\n') else {
            return if buf.len() >= MAX_INLINE_LEN {
                Err(ProtocolError::InlineTooBig)
            } else {
                Ok(None)
            };
        };
        self.reset();
        self.inline = true;
        split_inline(&buf[..lf], &mut self.scratch, &mut self.args)?;
        Ok(Some(lf + 1))
    }
}

/// Splits an inline command line into arguments the way `redis-cli` quotes them (Redis's
/// `sdssplitargs`): words separated by blanks; `"..."` with `\n \r \t \b \a \\ \" \xHH`
/// escapes; `'...'` with only `\'`. A closing quote must be followed by a blank or the end.
/// The unescaped arguments are appended to `scratch`, their ranges to `args`.
fn split_inline(
    line: &[u8],
    scratch: &mut Vec<u8>,
    args: &mut Vec<Range<usize>>,
) -> Result<(), ProtocolError> {
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c);
    let mut i = 0;
    loop {
        while i < line.len() && blank(line[i]) {
            i += 1;
        }
        if i == line.len() {
            return Ok(());
        }
        let start = scratch.len();
        while i < line.len() && !blank(line[i]) {
            match line[i] {
                b'"' => i = quoted(line, i + 1, b'"', scratch)?,
                b'\'' => i = quoted(line, i + 1, b'\'', scratch)?,
                b => {
                    scratch.push(b);
                    i += 1;
                }
            }
        }
        args.push(start..scratch.len());
    }
}

/// Copies a quoted section that starts at `i` (after the opening `quote`) into `scratch`,
/// unescaping it; returns the index after the closing quote.
fn quoted(
    line: &[u8],
    mut i: usize,
    quote: u8,
    scratch: &mut Vec<u8>,
) -> Result<usize, ProtocolError> {
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    loop {
        let Some(&b) = line.get(i) else {
            return Err(ProtocolError::UnbalancedQuotes);
        };
        if b == quote {
            // Redis requires a blank (or the end) after a closing quote.
            return match line.get(i + 1) {
                None | Some(b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c) => Ok(i + 1),
                Some(_) => Err(ProtocolError::UnbalancedQuotes),
            };
        }
        if b == b'\\' && i + 1 < line.len() {
            let e = line[i + 1];
            if quote == b'"' {
                let hex_pair = (e == b'x' && i + 3 < line.len())
                    .then(|| Some(hex(line[i + 2])? << 4 | hex(line[i + 3])?))
                    .flatten();
                let (byte, len) = match (e, hex_pair) {
                    (b'x', Some(v)) => (v, 4),
                    (b'n', _) => (b'\n', 2),
                    (b'r', _) => (b'\r', 2),
                    (b't', _) => (b'\t', 2),
                    (b'b', _) => (0x08, 2),
                    (b'a', _) => (0x07, 2),
                    (other, _) => (other, 2),
                };
                scratch.push(byte);
                i += len;
                continue;
            }
            if e == b'\'' {
                scratch.push(b'\'');
                i += 2;
                continue;
            }
            // Any other backslash in single quotes is literal.
        }
        scratch.push(b);
        i += 1;
    }
}

/// A RESP2 value, for clients and tests (the server's hot path uses [`CommandParser`] and
/// the `write_*` encoders instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `+text`
    Simple(String),
    /// `-text`
    Error(String),
    /// `:n`
    Integer(i64),
    /// `$len` followed by the bytes.
    Bulk(Vec<u8>),
    /// `$-1` (or `*-1`): no value.
    Null,
    /// `*count` followed by the elements.
    Array(Vec<Frame>),
}

impl Frame {
    /// A command: an array of bulk strings.
    pub fn command<I, A>(args: I) -> Frame
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        Frame::Array(
            args.into_iter()
                .map(|a| Frame::Bulk(a.as_ref().to_vec()))
                .collect(),
        )
    }

    /// A bulk string.
    pub fn bulk(b: impl AsRef<[u8]>) -> Frame {
        Frame::Bulk(b.as_ref().to_vec())
    }

    /// Appends the frame's encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Simple(s) => write_simple(out, s.as_bytes()),
            Frame::Error(s) => write_error(out, s.as_bytes()),
            Frame::Integer(n) => write_integer(out, *n),
            Frame::Bulk(b) => write_bulk(out, b),
            Frame::Null => write_null(out),
            Frame::Array(items) => {
                write_array_len(out, items.len());
                for item in items {
                    item.encode(out);
                }
            }
        }
    }

    /// The frame's encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Parses one frame from the start of `buf`: `Ok(Some((frame, n)))` when it took the first
/// `n` bytes, `Ok(None)` when more bytes are needed.
///
/// # Errors
///
/// A [`ProtocolError`] when `buf` does not start with a valid frame.
pub fn parse_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
    frame_at(buf, 0, 0)
}

/// Parses the frame at `buf[at..]`, `depth` arrays deep; returns it and the index after it.
fn frame_at(buf: &[u8], at: usize, depth: usize) -> Result<Option<(Frame, usize)>, ProtocolError> {
    let Some(&marker) = buf.get(at) else {
        return Ok(None);
    };
    let text_line =
        |buf: &[u8]| match line(buf, at + 1, MAX_INLINE_LEN, ProtocolError::InlineTooBig)? {
            Some((t, next)) => Ok(Some((String::from_utf8_lossy(t).into_owned(), next))),
            None => Ok(None),
        };
    let frame = match marker {
        b'+' => text_line(buf)?.map(|(s, n)| (Frame::Simple(s), n)),
        b'-' => text_line(buf)?.map(|(s, n)| (Frame::Error(s), n)),
        b':' => {
            match line(
                buf,
                at + 1,
                MAX_NUMBER_LINE,
                ProtocolError::NumberLineTooLong,
            )? {
                Some((t, next)) => {
                    let n = parse_int(t).ok_or(ProtocolError::InvalidInteger)?;
                    Some((Frame::Integer(n), next))
                }
                None => None,
            }
        }
        b'$' => {
            let bad = ProtocolError::InvalidBulkLength;
            match length(buf, at + 1, MAX_BULK_LEN, true, bad)? {
                None => None,
                Some((-1, next)) => Some((Frame::Null, next)),
                Some((len, start)) => {
                    let end = start + len as usize;
                    if buf.len() < end + 2 {
                        None
                    } else if &buf[end..end + 2] != b"\r\n" {
                        return Err(ProtocolError::MissingCrlf);
                    } else {
                        Some((Frame::Bulk(buf[start..end].to_vec()), end + 2))
                    }
                }
            }
        }
        b'*' => {
            if depth >= MAX_DEPTH {
                return Err(ProtocolError::TooDeep);
            }
            let bad = ProtocolError::InvalidMultibulkLength;
            match length(buf, at + 1, MAX_ARRAY_LEN, true, bad)? {
                None => None,
                Some((-1, next)) => Some((Frame::Null, next)),
                Some((n, mut next)) => {
                    let n = n as usize;
                    let mut items = Vec::with_capacity(n.min(PREALLOC_CAP));
                    for _ in 0..n {
                        let Some((item, after)) = frame_at(buf, next, depth + 1)? else {
                            return Ok(None);
                        };
                        items.push(item);
                        next = after;
                    }
                    Some((Frame::Array(items), next))
                }
            }
        }
        other => return Err(ProtocolError::UnknownType(other)),
    };
    Ok(frame)
}

/// Appends the decimal digits of `n`.
fn write_decimal(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `marker`, `n` and CRLF.
fn write_header(out: &mut Vec<u8>, marker: u8, n: i64) {
    out.push(marker);
    write_decimal(out, n);
    out.extend_from_slice(b"\r\n");
}

/// Appends a simple string, `+text\r\n`; `text` must not contain CR or LF.
pub fn write_simple(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'+');
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

/// Appends an error, `-text\r\n` (`text` starts with its code, e.g. `ERR`); CR and LF in
/// `text` become spaces, so that a message built from client input cannot break the stream.
pub fn write_error(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'-');
    out.extend(
        text.iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// Appends an integer, `:n\r\n`.
pub fn write_integer(out: &mut Vec<u8>, n: i64) {
    write_header(out, b':', n);
}

/// Appends a bulk string, `$len\r\nbytes\r\n`.
pub fn write_bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    write_header(out, b'$', bytes.len() as i64);
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// Appends the null bulk string, `$-1\r\n`.
pub fn write_null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

/// Appends an array header, `*n\r\n`; the caller appends the `n` elements.
pub fn write_array_len(out: &mut Vec<u8>, n: usize) {
    write_header(out, b'*', n as i64);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses one command, returning its arguments as strings and the bytes it took.
    fn command(buf: &[u8]) -> Result<Option<(Vec<String>, usize)>, ProtocolError> {
        let mut p = CommandParser::new();
        Ok(p.parse(buf)?.map(|n| {
            let args = p.args(buf);
            (
                args.iter_from(0)
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
                n,
            )
        }))
    }

    #[test]
    fn multibulk_command() {
        let buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1";
        let (args, n) = command(buf).unwrap().unwrap();
        assert_eq!(args, ["SET", "k", "hello"]);
        assert_eq!(n, buf.len() - 2);
    }

    #[test]
    fn binary_safe_bulk() {
        let buf = b"*2\r\n$3\r\nGET\r\n$4\r\na\r\nb\r\n";
        let (args, _) = command(buf).unwrap().unwrap();
        assert_eq!(args[1], "a\r\nb");
    }

    #[test]
    fn every_prefix_of_a_command_is_incomplete() {
        let buf = b"*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
        for cut in 0..buf.len() {
            assert_eq!(command(&buf[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(command(buf).unwrap().is_some());
    }

    #[test]
    fn resumes_where_it_stopped() {
        let buf = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        let mut p = CommandParser::new();
        for cut in 0..buf.len() {
            assert_eq!(p.parse(&buf[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(p.parse(buf), Ok(Some(buf.len())));
        let args: Vec<&[u8]> = p.args(buf).iter_from(0).collect();
        assert_eq!(args, [&b"SET"[..], b"key", b"value"]);
        // The next command starts afresh.
        assert_eq!(p.parse(b"PING\r\n"), Ok(Some(6)));
        assert_eq!(p.args(b"PING\r\n").get(0), Some(&b"PING"[..]));
    }

    #[test]
    fn inline_commands() {
        let (args, n) = command(b"SET k v\r\nGET k\r\n").unwrap().unwrap();
        assert_eq!((args, n), (vec!["SET".into(), "k".into(), "v".into()], 9));
        let (args, _) = command(b"PING\n").unwrap().unwrap();
        assert_eq!(args, ["PING"]);
        let (args, _) = command(b"  \r\n").unwrap().unwrap();
        assert!(args.is_empty());
        assert_eq!(command(b"PIN"), Ok(None));
    }

    #[test]
    fn inline_quotes() {
        let (args, _) = command(b"SET \"a b\" 'it\\'s' \"\\x41\\n\"\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(args, ["SET", "a b", "it's", "A\n"]);
        assert_eq!(
            command(b"SET \"open\r\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
        assert_eq!(
            command(b"SET \"a\"b\r\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
    }

    #[test]
    fn inline_too_big() {
        let long = vec![b'a'; MAX_INLINE_LEN];
        assert_eq!(command(&long), Err(ProtocolError::InlineTooBig));
        assert_eq!(command(&long[..MAX_INLINE_LEN - 1]), Ok(None));
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        assert_eq!(command(b"*0\r\n").unwrap().unwrap(), (vec![], 4));
        assert_eq!(command(b"*-1\r\n").unwrap().unwrap(), (vec![], 5));
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(
            command(b"*x\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            command(b"*-2\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            command(b"*\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            command(b"*+1\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            command(b"*1\r\n$-1\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            command(b"*1\r\n$1x\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            command(b"*1\r\n:1\r\n"),
            Err(ProtocolError::ExpectedBulk(b':'))
        );
        assert_eq!(
            command(b"*1\r\n$1\r\nab\r\n"),
            Err(ProtocolError::MissingCrlf)
        );
        assert_eq!(
            command(b"*1\rx\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
    }

    #[test]
    fn huge_lengths_are_refused_not_allocated() {
        // Refused from the header alone, before any data: nothing is reserved for them.
        let too_many = format!("*{}\r\n", MAX_ARRAY_LEN + 1);
        assert_eq!(
            command(too_many.as_bytes()),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        let too_long = format!("*1\r\n${}\r\n", MAX_BULK_LEN + 1);
        assert_eq!(
            command(too_long.as_bytes()),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            command(b"*1\r\n$99999999999999999999999\r\n"),
            Err(ProtocolError::NumberLineTooLong)
        );
        assert_eq!(
            command(b"*9223372036854775808\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        // Within the limits but not sent: just incomplete, with a small reservation.
        let mut p = CommandParser::new();
        assert_eq!(
            p.parse(format!("*{MAX_ARRAY_LEN}\r\n").as_bytes()),
            Ok(None)
        );
        assert!(p.args.capacity() <= PREALLOC_CAP);
        assert_eq!(
            command(format!("*1\r\n${MAX_BULK_LEN}\r\nab").as_bytes()),
            Ok(None)
        );
        assert_eq!(
            parse_frame(format!("*{MAX_ARRAY_LEN}\r\n").as_bytes()),
            Ok(None)
        );
        assert_eq!(
            parse_frame(b"$9999999999\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
    }

    #[test]
    fn number_line_without_crlf_is_bounded() {
        let mut buf = b"*".to_vec();
        buf.extend(std::iter::repeat(b'1').take(MAX_NUMBER_LINE + 2));
        // Room for the number and a CR whose LF may follow: still incomplete.
        assert_eq!(command(&buf[..MAX_NUMBER_LINE + 2]), Ok(None));
        assert_eq!(command(&buf), Err(ProtocolError::NumberLineTooLong));
    }

    #[test]
    fn frames_round_trip() {
        let f = Frame::Array(vec![
            Frame::Simple("OK".into()),
            Frame::Error("ERR no".into()),
            Frame::Integer(-42),
            Frame::bulk("bytes\r\n"),
            Frame::Null,
            Frame::Array(vec![]),
            Frame::Array(vec![
                Frame::Integer(i64::MIN),
                Frame::Array(vec![Frame::bulk("")]),
            ]),
        ]);
        let bytes = f.to_bytes();
        assert_eq!(parse_frame(&bytes), Ok(Some((f, bytes.len()))));
        for cut in 0..bytes.len() {
            assert_eq!(parse_frame(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn nested_arrays() {
        let buf = b"*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n$1\r\nx\r\n";
        let expected = Frame::Array(vec![
            Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)]),
            Frame::Array(vec![Frame::bulk("x")]),
        ]);
        assert_eq!(parse_frame(buf), Ok(Some((expected, buf.len()))));
        // A command cannot nest: its elements must be bulk strings.
        assert_eq!(command(buf), Err(ProtocolError::ExpectedBulk(b'*')));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1) + ":1\r\n";
        assert_eq!(parse_frame(deep.as_bytes()), Err(ProtocolError::TooDeep));
        let ok = "*1\r\n".repeat(MAX_DEPTH) + ":1\r\n";
        assert!(parse_frame(ok.as_bytes()).unwrap().is_some());
    }

    #[test]
    fn frame_errors() {
        assert_eq!(
            parse_frame(b"?x\r\n"),
            Err(ProtocolError::UnknownType(b'?'))
        );
        assert_eq!(parse_frame(b":12a\r\n"), Err(ProtocolError::InvalidInteger));
        assert_eq!(
            parse_frame(b"$-2\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(parse_frame(b"$1\r\nabc"), Err(ProtocolError::MissingCrlf));
        assert_eq!(parse_frame(b"*-1\r\n"), Ok(Some((Frame::Null, 5))));
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b"-"), None);
        assert_eq!(parse_int(b""), None);
        assert_eq!(parse_int(b" 1"), None);
        let mut out = Vec::new();
        for n in [0, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            out.clear();
            write_integer(&mut out, n);
            assert_eq!(out, format!(":{n}\r\n").into_bytes());
        }
    }

    #[test]
    fn errors_cannot_break_the_stream() {
        let mut out = Vec::new();
        write_error(&mut out, b"ERR bad\r\n+OK");
        assert_eq!(out, b"-ERR bad  +OK\r\n");
    }

    #[test]
    fn protocol_error_text() {
        assert_eq!(
            ProtocolError::ExpectedBulk(b'x').to_string(),
            "expected '$', got 'x'"
        );
        assert_eq!(
            ProtocolError::InvalidBulkLength.to_string(),
            "invalid bulk length"
        );
    }

    /// A small deterministic PRNG (xorshift64*), so that the generated cases repeat.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Bytes that matter to the protocol, and a few that do not.
    const ALPHABET: &[u8] = b"*$:+-\r\n0123456789 -abcXYZ\"'\\x\t";

    /// A valid request, a mutated one, or noise.
    fn input(rng: &mut Rng) -> Vec<u8> {
        let mut buf = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let args: Vec<Vec<u8>> = (0..1 + rng.below(4))
                .map(|_| {
                    (0..rng.below(12))
                        .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                        .collect()
                })
                .collect();
            if rng.below(4) == 0 {
                let words: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
                buf.extend_from_slice(&words.join(&b' '));
                buf.extend_from_slice(b"\r\n");
            } else {
                Frame::command(&args).encode(&mut buf);
            }
        }
        match rng.below(4) {
            0 => {} // valid
            1 | 2 => {
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(buf.len() + 1);
                    let b = ALPHABET[rng.below(ALPHABET.len())];
                    match rng.below(3) {
                        0 if at < buf.len() => buf[at] = b,
                        1 if at < buf.len() => {
                            buf.remove(at);
                        }
                        _ => buf.insert(at, b),
                    }
                }
            }
            _ => {
                buf = (0..rng.below(40))
                    .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                    .collect();
            }
        }
        buf
    }

    type Parsed = Result<Option<(Vec<Vec<u8>>, usize)>, ProtocolError>;

    /// Runs `p` on `buf`, copying out what it parsed.
    fn run(p: &mut CommandParser, buf: &[u8]) -> Parsed {
        let r = p.parse(buf);
        r.map(|o| o.map(|n| (p.args(buf).iter_from(0).map(<[u8]>::to_vec).collect(), n)))
    }

    /// Parsing never panics, and is prefix-consistent: feeding one parser longer and longer
    /// prefixes (resuming after each `None`) gives, at the first prefix that decides, what a
    /// fresh parser gives on that prefix and on the whole input.
    #[test]
    fn generated_inputs_parse_consistently() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..20_000 {
            let buf = input(&mut rng);
            let mut whole = CommandParser::new();
            let expected = run(&mut whole, &buf);
            let mut incremental = CommandParser::new();
            let mut decided = None;
            for cut in 0..=buf.len() {
                let got = run(&mut incremental, &buf[..cut]);
                if got != Ok(None) {
                    let fresh_r = run(&mut CommandParser::new(), &buf[..cut]);
                    assert_eq!(
                        got,
                        fresh_r,
                        "case {case}: {:?}",
                        String::from_utf8_lossy(&buf)
                    );
                    decided = Some(got);
                    break;
                }
            }
            let decided = decided.unwrap_or(Ok(None));
            assert_eq!(
                decided,
                expected,
                "case {case}: {:?}",
                String::from_utf8_lossy(&buf)
            );
            // The frame parser on the same bytes: no panic, and prefix-consistent too.
            let frame = parse_frame(&buf);
            if let Ok(Some((f, n))) = &frame {
                assert_eq!(parse_frame(&buf[..*n]), Ok(Some((f.clone(), *n))));
            }
        }
    }
}
