//! The chat server: one task per connection, one broadcast channel for the room.
//!
//! Each connection task runs two loops side by side with `select!`: the *reader* parses lines
//! from the socket and publishes them; the *writer* forwards the room's broadcast (minus the
//! client's own lines) and the replies meant for this client alone (an mpsc channel) to the
//! socket. Whichever loop ends first ends the connection; a last word for the client (`bye`,
//! or why it is being disconnected) is written after both loops are gone.
//!
//! What one client cannot do to the others:
//!
//! - grow the server by not reading: its replies wait in a channel of [`OUTBOX`] lines, and
//!   while that is full its reader waits too (so it reads no more commands); the room's
//!   lines wait in the broadcast ring, shared by all, and a reader that falls [`HISTORY`]
//!   lines behind skips them and is told so; a client that takes nothing for
//!   `--write-timeout` is disconnected;
//! - send endless lines: a line passes `--max-line` bytes and the connection closes, before
//!   the rest of it is read;
//! - make one reply large: `/who` names at most [`WHO_NAMES`] people;
//! - hold a slot forever: silent for `--idle-timeout`, it is disconnected; at
//!   `--max-connections`, accept pauses.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use examples_common::cli::Args;
use examples_common::lines::{LineError, Lines};
use examples_common::serve::{linger, write_all_within, Options, Server};
use weft::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use weft::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use weft::net::{TcpListener, TcpStream};
use weft::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use weft::sync::mpsc;

/// Lines the room keeps for a client that is behind; past that, it is told what it missed.
pub const HISTORY: usize = 256;
/// The longest nickname, in bytes.
pub const MAX_NICK: usize = 24;
/// Replies for one client that may wait for its writer; past it, its reader waits.
pub const OUTBOX: usize = 8;
/// The most names `/who` lists.
pub const WHO_NAMES: usize = 32;
/// A client's writer gathers what is ready into writes of about this many bytes.
pub const BATCH: usize = 16 * 1024;

/// The server's options.
#[derive(Debug, Clone)]
pub struct Config {
    /// The port, the connection cap, the write timeout, the log level.
    pub server: Options,
    /// The longest line a client may send, in bytes, without its line end.
    pub max_line: usize,
    /// A client that sends nothing for this long is disconnected.
    pub idle_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            server: Options::new(8080),
            max_line: 4096,
            idle_timeout: Duration::from_secs(600),
        }
    }
}

impl Config {
    /// Reads the options from `args` (`--help` lists them, with these defaults).
    pub fn from_args(args: &mut Args) -> Config {
        let d = Config::default();
        Config {
            server: Options::from_args(args, d.server.port),
            max_line: args.bytes(
                "--max-line",
                d.max_line as u64,
                "the longest line a client may send",
            ) as usize,
            idle_timeout: args.seconds(
                "--idle-timeout",
                d.idle_timeout,
                "a client that sends nothing for this long is disconnected",
            ),
        }
    }
}

/// Serves the chat room on `listener` until accepting fails.
///
/// # Errors
///
/// The error that stopped the accept loop.
pub async fn run(listener: TcpListener, config: Rc<Config>) -> io::Result<()> {
    let room = Rc::new(Room::new(HISTORY));
    let mut server = Server::new(config.server.max_connections);
    server
        .run(&listener, |stream, _mode| {
            client(room.clone(), config.clone(), stream)
        })
        .await
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

    /// Who is here: the first [`WHO_NAMES`] names, and how many more there are.
    fn who(&self) -> String {
        let names = self.names.borrow();
        let mut list = names
            .values()
            .take(WHO_NAMES)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > WHO_NAMES {
            list += &format!(" and {} more", names.len() - WHO_NAMES);
        }
        list
    }
}

/// Serves one client from its arrival to its departure.
async fn client(room: Rc<Room>, config: Rc<Config>, stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (id, name) = room.join();
    // Subscribe before announcing, so whatever follows the welcome reaches this client.
    let events = room.tx.subscribe();
    let (direct_tx, direct_rx) = mpsc::channel(OUTBOX);
    let _ = direct_tx.try_send(format!(
        "*** welcome, {name}. /nick NAME renames you, /who lists who is here, /quit leaves.\n"
    ));
    room.publish(id, &format!("*** {name} joined"));

    let (reader, mut writer) = stream.into_split();
    let mut lines = LineReader::new(reader, config.max_line);
    let outcome = weft::select! {
        r = read_loop(&room, &config, id, &mut lines, &direct_tx) => r,
        r = write_loop(id, &config, &mut writer, events, direct_rx) => r.map(|()| None),
    };
    let name = room.leave(id);
    room.publish(id, &format!("*** {name} left"));
    match outcome {
        Ok(Some(last_word)) => {
            write_all_within(
                &mut writer,
                last_word.as_bytes(),
                config.server.write_timeout,
            )
            .await?;
            writer.shutdown().await?;
            // Let the client read the last word before our close resets its connection.
            linger(lines.get_mut()).await;
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Reads lines and acts on them. Returns the last word for the client when it must go.
async fn read_loop(
    room: &Room,
    config: &Config,
    id: u64,
    lines: &mut LineReader<OwnedReadHalf>,
    direct: &mpsc::Sender<String>,
) -> io::Result<Option<String>> {
    loop {
        let Ok(line) = weft::time::timeout(config.idle_timeout, lines.next_line()).await else {
            return Ok(Some("*** idle for too long; closing\n".to_string()));
        };
        let line = match line? {
            Line::Text(line) => line,
            Line::End => return Ok(None),
            Line::TooLong => {
                return Ok(Some(format!(
                    "*** error: a line is at most {} bytes; closing\n",
                    config.max_line
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
        // While the writer is behind, this waits, and no more commands are read: the
        // client's unread replies cannot pile up. (The writer outlives the reader inside
        // `select!`, so the receiver is there.)
        let _ = direct.send(reply + "\n").await;
    }
}

/// Writes the room's lines (but the client's own) and the client's replies to the socket,
/// gathering what is ready into one write of about [`BATCH`] bytes at most. Ends when the
/// peer is gone.
async fn write_loop(
    id: u64,
    config: &Config,
    writer: &mut OwnedWriteHalf,
    mut events: broadcast::Receiver<Event>,
    mut direct: mpsc::Receiver<String>,
) -> io::Result<()> {
    let mut out = String::new();
    loop {
        // Wait for something to send...
        weft::select! {
            Some(reply) = direct.recv() => out.push_str(&reply),
            event = events.recv() => match event {
                Ok(event) => add_event(id, &event, &mut out),
                Err(RecvError::Lagged(n)) => add_lag(n, &mut out),
                // The room outlives every client: this does not happen.
                Err(RecvError::Closed) => return Ok(()),
            },
        }
        // ...then take whatever else is ready, up to a batch.
        while out.len() < BATCH {
            if let Ok(reply) = direct.try_recv() {
                out.push_str(&reply);
                continue;
            }
            match events.try_recv() {
                Ok(event) => add_event(id, &event, &mut out),
                Err(TryRecvError::Lagged(n)) => add_lag(n, &mut out),
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        write_all_within(writer, out.as_bytes(), config.server.write_timeout).await?;
        out.clear();
    }
}

/// Adds a room line for client `id` to `out`, unless it is the client's own.
fn add_event(id: u64, event: &Event, out: &mut String) {
    if event.from != id {
        out.push_str(&event.text);
    }
}

/// Tells a client that fell behind the room's history what it missed.
fn add_lag(missed: u64, out: &mut String) {
    out.push_str(&format!("*** you were too slow: {missed} lines skipped\n"));
}

/// One line read by [`LineReader`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line, without its `\n` or `\r\n`.
    Text(String),
    /// The peer closed the connection (a last line without a newline is still returned
    /// before this).
    End,
    /// The line passed the limit.
    TooLong,
    /// The line is not UTF-8.
    NotUtf8,
}

impl From<Result<String, LineError>> for Line {
    fn from(line: Result<String, LineError>) -> Line {
        match line {
            Ok(text) => Line::Text(text),
            Err(LineError::TooLong) => Line::TooLong,
            Err(LineError::NotUtf8) => Line::NotUtf8,
        }
    }
}

/// Reads lines of at most a given length from a byte stream (the splitting itself is
/// [`examples_common::lines::Lines`], which the fuzzer and the property tests check).
pub struct LineReader<R> {
    inner: R,
    lines: Lines,
    eof: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    /// Reads lines of at most `max_line` bytes from `inner`.
    pub fn new(inner: R, max_line: usize) -> Self {
        LineReader {
            inner,
            lines: Lines::new(max_line),
            eof: false,
        }
    }

    /// The stream lines are read from.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The next line. Cancel safe: bytes read stay in the buffer.
    ///
    /// # Errors
    ///
    /// The stream's error.
    pub async fn next_line(&mut self) -> io::Result<Line> {
        loop {
            if let Some(line) = self.lines.next_line() {
                return Ok(line.into());
            }
            if self.eof {
                return Ok(self.lines.finish().map_or(Line::End, Line::from));
            }
            // Read into a scratch buffer, so a cancelled read leaves the lines as they were.
            let mut chunk = [0u8; 1024];
            let n = self.inner.read(&mut chunk).await?;
            self.eof = n == 0;
            self.lines.push(&chunk[..n]);
        }
    }
}
