//! The server: the accept loop, one task per connection, and the periodic expiry purge.
//!
//! A connection reads whatever the socket has into its input buffer, runs every complete
//! command in it, appends all the replies to one output buffer, and writes that buffer once
//! per read. With TCP_NODELAY set, a pipelined batch costs one `read` and one `write`, and
//! no reply waits on Nagle's algorithm for the client's delayed ACK (tokio's mini-redis
//! stalls at ~18 k req/s under `redis-benchmark -P 16` that way).

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};
use weft::time::{Duration, Instant, MissedTickBehavior};

use crate::command::{execute, Flow, Session};
use crate::db::Db;
use crate::pubsub::PubSub;
use crate::resp::{write_error, CommandParser};

/// How often expired keys nobody reads are purged (Redis's default `hz 10`).
pub const PURGE_PERIOD: Duration = Duration::from_millis(100);
/// The most keys one purge step removes before letting the connections run.
const PURGE_BATCH: usize = 1024;
/// The input buffer's initial size, and the least free room a read is given (Redis reads
/// 16 KiB at a time).
const READ_SIZE: usize = 16 * 1024;
/// A connection whose unparsed input passes this is closed (Redis's
/// `client-query-buffer-limit`).
const MAX_QUERY_BUFFER: usize = 1024 * 1024 * 1024;
/// Buffers grown past this (a large value, a long pipeline) are given back once empty.
const KEEP_CAPACITY: usize = 1024 * 1024;

/// The state every connection shares.
#[derive(Debug, Default)]
pub struct Shared {
    /// The key space.
    pub db: RefCell<Db>,
    /// The channels and their subscribers.
    pub pubsub: PubSub,
    /// The next connection's id.
    next_id: Cell<u64>,
}

impl Shared {
    /// Empty state.
    pub fn new() -> Shared {
        Shared::default()
    }
}

/// Serves Redis clients on `listener` until accepting fails for a reason other than a
/// transient one (a connection reset before it was accepted, or running out of file
/// descriptors, after which it waits 100 ms and goes on).
///
/// # Errors
///
/// The error that stopped the accept loop.
pub async fn run(listener: TcpListener) -> io::Result<()> {
    let shared = Rc::new(Shared::new());
    let purge = weft::spawn(purge_loop(shared.clone()));
    // Stop the purge task however this future ends, returned or dropped.
    let _purge = CancelOnDrop(purge);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) if is_transient(&e) => {
                eprintln!("mini_redis: accept: {e}; retrying in 100 ms");
                weft::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(e) if is_aborted(&e) => continue,
            Err(e) => return Err(e),
        };
        let id = shared.next_id.get();
        shared.next_id.set(id + 1);
        let session = Session::new(shared.clone(), id);
        weft::spawn(async move {
            if let Err(e) = serve(stream, session).await {
                if !is_disconnect(&e) {
                    eprintln!("mini_redis: connection {id}: {e}");
                }
            }
        });
    }
}

/// Cancels its task when dropped.
struct CancelOnDrop(weft::JoinHandle<()>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Out of descriptors or buffers: worth waiting for, not worth stopping for.
fn is_transient(e: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const ENOBUFS: i32 = 105;
    const ENOMEM: i32 = 12;
    matches!(e.raw_os_error(), Some(EMFILE | ENFILE | ENOBUFS | ENOMEM))
}

/// A connection that went away before `accept` returned it.
fn is_aborted(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// The peer left: nothing worth logging.
fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof
    )
}

/// Removes expired keys every [`PURGE_PERIOD`], a batch at a time.
async fn purge_loop(shared: Rc<Shared>) {
    let mut tick = weft::time::interval(PURGE_PERIOD);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        while shared
            .db
            .borrow_mut()
            .purge_expired(Instant::now(), PURGE_BATCH)
            == PURGE_BATCH
        {
            weft::yield_now().await;
        }
    }
}

/// Bytes read and not yet consumed: `buf[start..end]`. `buf` is kept at its full length
/// (zero-filled when grown) so that reads go straight into it.
struct Input {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Input {
    /// An empty buffer of [`READ_SIZE`] bytes.
    fn new() -> Input {
        Input {
            buf: vec![0; READ_SIZE],
            start: 0,
            end: 0,
        }
    }

    /// The unconsumed bytes.
    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Room for the next read, at least [`READ_SIZE`] bytes: moves the unconsumed bytes to
    /// the front, or grows the buffer, when the tail is shorter.
    fn spare(&mut self) -> &mut [u8] {
        if self.buf.len() - self.end < READ_SIZE {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < READ_SIZE {
                let len = (self.buf.len() * 2).max(self.end + READ_SIZE);
                self.buf.resize(len, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Marks the first `n` pending bytes consumed.
    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > KEEP_CAPACITY {
                self.buf = vec![0; READ_SIZE];
            }
        }
    }
}

/// Serves one connection until the client closes it, sends `QUIT`, breaks the protocol,
/// falls too far behind on its pub/sub messages, or the socket fails.
///
/// # Errors
///
/// The socket's error.
pub async fn serve(mut stream: TcpStream, mut session: Session) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut input = Input::new();
    let mut parser = CommandParser::new();
    let mut out: Vec<u8> = Vec::with_capacity(READ_SIZE);
    let mut close = false;
    loop {
        if let Some(sub) = &session.subscription {
            sub.outbox().take_into(&mut out);
            close |= sub.outbox().overflowed();
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
            if out.capacity() > KEEP_CAPACITY {
                out = Vec::with_capacity(READ_SIZE);
            }
        }
        if close {
            // Shut down the write side so the client reads our last reply, then EOF.
            return stream.shutdown().await;
        }
        // Wait for input (in pub/sub mode, also for a message to deliver).
        let n = match &session.subscription {
            Some(sub) if sub.count() > 0 => weft::select! {
                biased;
                r = stream.read(input.spare()) => r?,
                () = sub.outbox().ready() => continue,
            },
            _ => stream.read(input.spare()).await?,
        };
        if n == 0 {
            return Ok(());
        }
        input.end += n;
        // Messages published before these commands go out before their replies.
        if let Some(sub) = &session.subscription {
            sub.outbox().take_into(&mut out);
        }
        close = run_commands(&mut input, &mut parser, &mut session, &mut out);
    }
}

/// Runs every complete command in `input`, appending the replies to `out`; returns whether
/// the connection must close (`QUIT`, a protocol error, an oversized query).
fn run_commands(
    input: &mut Input,
    parser: &mut CommandParser,
    session: &mut Session,
    out: &mut Vec<u8>,
) -> bool {
    loop {
        let pending = input.pending();
        match parser.parse(pending) {
            Ok(Some(n)) => {
                let args = parser.args(pending);
                let flow = if args.is_empty() {
                    Flow::Continue // `*0` or a blank line: no reply, as in Redis
                } else {
                    execute(args, session, out)
                };
                input.consume(n);
                if flow == Flow::Close {
                    return true;
                }
            }
            Ok(None) if pending.len() > MAX_QUERY_BUFFER => {
                write_error(out, b"ERR Protocol error: query buffer limit exceeded");
                return true;
            }
            Ok(None) => return false,
            Err(e) => {
                write_error(out, format!("ERR Protocol error: {e}").as_bytes());
                return true;
            }
        }
    }
}
