//! Splitting a byte stream into lines of bounded length, without I/O.
//!
//! The reader of a line protocol pushes what it read into [`Lines`] and takes complete lines
//! out. A line longer than the limit is refused as soon as the limit is passed, whether or
//! not its end has arrived, so the buffer never holds more than one line's worth plus one
//! read.
//!
//! ```
//! use examples_common::lines::{LineError, Lines};
//!
//! let mut lines = Lines::new(8);
//! lines.push(b"hello\r\nwor");
//! assert_eq!(lines.next_line(), Some(Ok("hello".to_string())));
//! assert_eq!(lines.next_line(), None); // "wor" waits for its end
//! lines.push(b"ld\n");
//! assert_eq!(lines.next_line(), Some(Ok("world".to_string())));
//! lines.push(b"far too long");
//! assert_eq!(lines.next_line(), Some(Err(LineError::TooLong)));
//! ```

/// Why a line was refused. Either way the stream cannot go on: where the next line starts
/// is not known (too long) or the peer does not speak the protocol (not UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    /// The line passed the limit.
    TooLong,
    /// The line is not UTF-8.
    NotUtf8,
}

/// A buffer that splits what is pushed into it at `\n` (a `\r` before it is dropped too).
#[derive(Debug)]
pub struct Lines {
    buf: Vec<u8>,
    /// Bytes at the start of `buf` already searched for a `\n`.
    scanned: usize,
    /// The longest line, without its line end.
    max: usize,
}

impl Lines {
    /// An empty splitter for lines of at most `max` bytes (not counting `\r\n`).
    pub fn new(max: usize) -> Lines {
        Lines {
            buf: Vec::new(),
            scanned: 0,
            max,
        }
    }

    /// Appends bytes read from the stream. Take the complete lines out with
    /// [`next_line`](Self::next_line) before pushing again: that is what bounds the buffer.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// How many bytes are buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete line, without its line end; `None` if no whole line is buffered
    /// yet. After an error, stop reading: the stream cannot go on.
    pub fn next_line(&mut self) -> Option<Result<String, LineError>> {
        match self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let end = self.scanned + i;
                self.scanned = 0;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop(); // the '\n'
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Some(self.check(line))
            }
            None => {
                self.scanned = self.buf.len();
                // A full line may wait for its '\n' after its '\r'; anything more is too long.
                let room = match self.buf.last() {
                    Some(b'\r') => self.max + 1,
                    _ => self.max,
                };
                (self.buf.len() > room).then_some(Err(LineError::TooLong))
            }
        }
    }

    /// At the end of the stream: the last line if it had no line end, else `None`.
    pub fn finish(&mut self) -> Option<Result<String, LineError>> {
        if self.buf.is_empty() {
            return None;
        }
        self.scanned = 0;
        let line = std::mem::take(&mut self.buf);
        Some(self.check(line))
    }

    fn check(&self, line: Vec<u8>) -> Result<String, LineError> {
        if line.len() > self.max {
            return Err(LineError::TooLong);
        }
        String::from_utf8(line).map_err(|_| LineError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_limits() {
        let mut lines = Lines::new(4);
        lines.push(b"one\r\ntwo\n\n1234\n12345\n");
        assert_eq!(lines.next_line(), Some(Ok("one".into())));
        assert_eq!(lines.next_line(), Some(Ok("two".into())));
        assert_eq!(lines.next_line(), Some(Ok(String::new())));
        assert_eq!(lines.next_line(), Some(Ok("1234".into())));
        assert_eq!(lines.next_line(), Some(Err(LineError::TooLong)));
    }

    #[test]
    fn a_long_line_is_refused_before_its_end() {
        let mut lines = Lines::new(4);
        lines.push(b"1234\r");
        assert_eq!(lines.next_line(), None);
        lines.push(b"\n123456");
        assert_eq!(lines.next_line(), Some(Ok("1234".into())));
        assert_eq!(lines.next_line(), Some(Err(LineError::TooLong)));
        assert_eq!(lines.next_line(), Some(Err(LineError::TooLong)));
    }

    #[test]
    fn last_line_and_bad_utf8() {
        let mut lines = Lines::new(4);
        lines.push(b"\xff\nend");
        assert_eq!(lines.next_line(), Some(Err(LineError::NotUtf8)));
        assert_eq!(lines.next_line(), None);
        assert_eq!(lines.finish(), Some(Ok("end".into())));
        assert_eq!(lines.finish(), None);
    }
}
