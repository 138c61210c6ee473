//! The chat server: one task per connection, one broadcast channel for the room.
//!
//! Each connection task runs two loops side by side with `select!`: the *reader* parses lines
//! from the socket and publishes them; the *writer* forwards the room's broadcast (minus the
//! client's own lines) and the replies meant for this client alone (an mpsc channel) to the
//! socket. Whichever loop ends first ends the connection; a last word for the client (`bye`,
//! or why it is being disconnected) is written after both loops are gone.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;
use std::sync::Arc;

use weft::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use weft::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use weft::net::{TcpListener, TcpStream};
use weft::sync::broadcast::{self, error::RecvError};
use weft::sync::mpsc;

/// The longest line a client may send, in bytes, without its newline.
pub const MAX_LINE: usize = 4096;
/// Lines the room keeps for a client that is behind; past that, it is told what it missed.
pub const HISTORY: usize = 256;
/// The longest nickname, in bytes.
pub const MAX_NICK: usize = 24;

/// Serves the chat room on `listener` until accepting fails.
pub async fn run(listener: TcpListener) -> io::Result<()> {
    let room = Rc::new(Room::new(HISTORY));
    loop {
        let (stream, _) = listener.accept().await?;
        let room = room.clone();
        weft::spawn(async move {
            if let Err(e) = client(&room, stream).await {
                eprintln!("chat: connection error: {e}");
            }
        });
    }
}

/// A line published to the room.
#[derive(Clone, Debug)]
struct Event {
    /// The client that sent it: it is not sent back to them.
    from: u64,
    /// The whole line, newline included, shared by every receiver.
    text: Arc<str>,
}

/// Who is here, and the channel they all listen to.
struct Room {
    tx: broadcast::Sender<Event>,
    names: RefCell<BTreeMap<u64, String>>,
    next_id: Cell<u64>,
}

impl Room {
    fn new(history: usize) -> Room {
        let (tx, _) = broadcast::channel(history);
        Room {
            tx,
            names: RefCell::new(BTreeMap::new()),
            next_id: Cell::new(1),
        }
    }

    /// A new client: its id and its guest name.
    fn join(&self) -> (u64, String) {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let name = format!("guest-{id}");
        self.names.borrow_mut().insert(id, name.clone());
        (id, name)
    }

    fn leave(&self, id: u64) -> String {
        self.names.borrow_mut().remove(&id).unwrap_or_default()
    }

    fn name(&self, id: u64) -> String {
        self.names.borrow()[&id].clone()
    }

    /// Sends `line` (without its newline) to everyone but `from`.
    fn publish(&self, from: u64, line: &str) {
        let text = Arc::from(format!("{line}\n"));
        // No receiver at all is not an error: nobody else is here.
        let _ = self.tx.send(Event { from, text });
    }

    /// Renames `id` to `nick`, or says why not.
    fn rename(&self, id: u64, nick: &str) -> Result<String, String> {
        if nick.is_empty() || nick.len() > MAX_NICK {
            return Err(format!("a nickname has 1 to {MAX_NICK} characters"));
        }
        if !nick
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err("a nickname has only letters, digits, '_' and '-'".into());
        }
        if nick.starts_with("guest-") {
            return Err("names starting with guest- are kept for guests".into());
        }
        let mut names = self.names.borrow_mut();
        if names.iter().any(|(&other, n)| other != id && n == nick) {
            return Err(format!("{nick} is taken"));
        }
        let slot = names.get_mut(&id).expect("a connected client has a name");
        Ok(std::mem::replace(slot, nick.to_string()))
    }

    fn who(&self) -> String {
        let names = self.names.borrow();
        names
            .values()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Serves one client from its arrival to its departure.
async fn client(room: &Room, stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (id, name) = room.join();
    // Subscribe before announcing, so whatever follows the welcome reaches this client.
    let events = room.tx.subscribe();
    let (direct_tx, direct_rx) = mpsc::unbounded_channel();
    let _ = direct_tx.send(format!(
        "*** welcome, {name}. /nick NAME renames you, /who lists who is here, /quit leaves.\n"
    ));
    room.publish(id, &format!("*** {name} joined"));

    let (reader, mut writer) = stream.into_split();
    let outcome = weft::select! {
        r = read_loop(room, id, reader, &direct_tx) => r,
        r = write_loop(id, &mut writer, events, direct_rx) => r.map(|()| None),
    };
    let name = room.leave(id);
    room.publish(id, &format!("*** {name} left"));
    match outcome {
        Ok(Some(last_word)) => {
            writer.write_all(last_word.as_bytes()).await?;
            writer.shutdown().await
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Reads lines and acts on them. Returns the last word for the client when it must go.
async fn read_loop(
    room: &Room,
    id: u64,
    reader: OwnedReadHalf,
    direct: &mpsc::UnboundedSender<String>,
) -> io::Result<Option<String>> {
    let mut lines = LineReader::new(reader);
    loop {
        let line = match lines.next_line().await? {
            Line::Text(line) => line,
            Line::End => return Ok(None),
            Line::TooLong => {
                return Ok(Some(format!(
                    "*** error: a line is at most {MAX_LINE} bytes; closing\n"
                )))
            }
            Line::NotUtf8 => {
                return Ok(Some(
                    "*** error: lines must be UTF-8; closing\n".to_string(),
                ))
            }
        };
        let reply = if let Some(command) = line.strip_prefix('/') {
            let (verb, arg) = command.split_once(' ').unwrap_or((command, ""));
            match verb {
                "quit" => return Ok(Some("*** bye\n".to_string())),
                "who" => format!("*** here: {}", room.who()),
                "nick" => match room.rename(id, arg.trim()) {
                    Ok(old) => {
                        let new = room.name(id);
                        room.publish(id, &format!("*** {old} is now {new}"));
                        format!("*** you are now {new}")
                    }
                    Err(why) => format!("*** error: {why}"),
                },
                _ => format!("*** error: unknown command /{verb}"),
            }
        } else if line.trim().is_empty() {
            continue;
        } else {
            room.publish(id, &format!("{}: {line}", room.name(id)));
            continue;
        };
        // The writer outlives the reader inside `select!`, so the receiver is there.
        let _ = direct.send(reply + "\n");
    }
}

/// Writes the room's lines (but the client's own) and the client's replies to the socket.
/// Ends when the peer is gone.
async fn write_loop(
    id: u64,
    writer: &mut OwnedWriteHalf,
    mut events: broadcast::Receiver<Event>,
    mut direct: mpsc::UnboundedReceiver<String>,
) -> io::Result<()> {
    loop {
        weft::select! {
            Some(reply) = direct.recv() => writer.write_all(reply.as_bytes()).await?,
            event = events.recv() => match event {
                Ok(event) if event.from == id => {}
                Ok(event) => writer.write_all(event.text.as_bytes()).await?,
                Err(RecvError::Lagged(n)) => {
                    let note = format!("*** you were too slow: {n} lines skipped\n");
                    writer.write_all(note.as_bytes()).await?;
                }
                // The room outlives every client: this does not happen.
                Err(RecvError::Closed) => return Ok(()),
            },
        }
    }
}

/// One line read by [`LineReader`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line, without its `\n` or `\r\n`.
    Text(String),
    /// The peer closed the connection (a last line without a newline is still returned
    /// before this).
    End,
    /// The line passed [`MAX_LINE`] bytes.
    TooLong,
    /// The line is not UTF-8.
    NotUtf8,
}

/// Splits a byte stream into lines of at most [`MAX_LINE`] bytes.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for a newline.
    scanned: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(1024),
            scanned: 0,
            eof: false,
        }
    }

    /// The next line. Cancel safe: bytes read stay in the buffer.
    pub async fn next_line(&mut self) -> io::Result<Line> {
        loop {
            if let Some(i) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + i;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                self.scanned = 0;
                line.pop(); // the '\n'
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Self::check(line));
            }
            self.scanned = self.buf.len();
            if self.buf.len() > MAX_LINE {
                return Ok(Line::TooLong);
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(Line::End);
                }
                self.scanned = 0;
                return Ok(Self::check(std::mem::take(&mut self.buf)));
            }
            // Read into a scratch buffer, so a cancelled read leaves `buf` as it was.
            let mut chunk = [0u8; 1024];
            let n = self.inner.read(&mut chunk).await?;
            if n == 0 {
                self.eof = true;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn check(line: Vec<u8>) -> Line {
        if line.len() > MAX_LINE {
            return Line::TooLong;
        }
        match String::from_utf8(line) {
            Ok(text) => Line::Text(text),
            Err(_) => Line::NotUtf8,
        }
    }
}
