//! The server: its options, the accept loop, one task per connection, and the periodic
//! expiry purge.
//!
//! A connection reads whatever the socket has into its input buffer, runs the complete
//! commands in it, appends the replies to one output buffer, and writes that buffer once
//! per read. With TCP_NODELAY set, a pipelined batch costs one `read` and one `write`, and
//! no reply waits on Nagle's algorithm for the client's delayed ACK (tokio's mini-redis
//! stalls at ~18 k req/s under `redis-benchmark -P 16` that way).
//!
//! What one client cannot do to the others:
//!
//! | the client                                   | the server                              |
//! |----------------------------------------------|-----------------------------------------|
//! | pipelines `GET`s of large values and never reads | runs commands only until [`OUT_HIGH`] bytes of replies wait, writes them, and reads nothing more until they are taken; a client that takes nothing for `--write-timeout` is disconnected |
//! | sends large or endless commands, from many connections | every buffer past the base is charged to `--maxmemory-clients`; the client that would pass it is disconnected |
//! | stores values until memory runs out         | `SET` gets Redis's `OOM` error past `--maxmemory` |
//! | trickles a command, or sends nothing         | a started command must be whole within `--command-timeout`; a client idle for `--timeout` is disconnected (not in pub/sub mode) |
//! | opens connections without end                | accept pauses at `--max-connections`    |

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::rc::Rc;

use examples_common::cli::Args;
use examples_common::resp::{write_error, CommandParser};
use examples_common::serve::{close_after_reply, write_all_within, Options, Server};
use weft::io::AsyncReadExt;
use weft::net::{TcpListener, TcpStream};
use weft::time::{Duration, Instant, MissedTickBehavior};

use crate::command::{execute, Flow, Session};
use crate::db::Db;
use crate::memory::{Budget, Charge};
use crate::pubsub::PubSub;

/// How often expired keys nobody reads are purged (Redis's default `hz 10`).
pub const PURGE_PERIOD: Duration = Duration::from_millis(100);
/// The most keys one purge step removes before letting the connections run.
const PURGE_BATCH: usize = 1024;
/// The input buffer's initial size, and the least free room a read is given (Redis reads
/// 16 KiB at a time). Each connection has this much input and output buffer without
/// charge; past it, buffers are charged to `--maxmemory-clients`.
const READ_SIZE: usize = 16 * 1024;
/// Commands stop running once this many reply bytes wait to be written.
pub const OUT_HIGH: usize = 64 * 1024;

/// The server's options.
#[derive(Debug, Clone)]
pub struct Config {
    /// The port, the connection cap, the write timeout, the log level.
    pub server: Options,
    /// Bytes of keys and values; past it `SET` fails with `OOM`.
    pub maxmemory: u64,
    /// Bytes of all clients' buffers together; the client that would pass it is
    /// disconnected.
    pub maxmemory_clients: u64,
    /// A client idle for this long is disconnected (not in pub/sub mode); zero: never.
    pub timeout: Duration,
    /// For a command to arrive whole once its first byte has.
    pub command_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            server: Options::new(6379),
            maxmemory: 64 << 20,
            maxmemory_clients: 64 << 20,
            timeout: Duration::from_secs(300),
            command_timeout: Duration::from_secs(30),
        }
    }
}

impl Config {
    /// Reads the options from `args` (`--help` lists them, with these defaults).
    pub fn from_args(args: &mut Args) -> Config {
        let d = Config::default();
        Config {
            server: Options::from_args(args, d.server.port),
            maxmemory: args.bytes(
                "--maxmemory",
                d.maxmemory,
                "bytes of keys and values; past it SET answers OOM",
            ),
            maxmemory_clients: args.bytes(
                "--maxmemory-clients",
                d.maxmemory_clients,
                "bytes of all clients' buffers; the client that would pass it is disconnected",
            ),
            timeout: args.seconds(
                "--timeout",
                d.timeout,
                "disconnect a client idle this long (0: never; pub/sub clients: never)",
            ),
            command_timeout: args.seconds(
                "--command-timeout",
                d.command_timeout,
                "for a command to arrive whole once it has started",
            ),
        }
    }
}

/// The state every connection shares.
#[derive(Debug)]
pub struct Shared {
    /// The key space.
    pub db: RefCell<Db>,
    /// The channels and their subscribers.
    pub pubsub: PubSub,
    /// What the clients' buffers are charged to.
    pub clients: Rc<Budget>,
    /// The next connection's id.
    next_id: Cell<u64>,
}

impl Shared {
    /// Empty state, with the memory limits of `config`.
    pub fn new(config: &Config) -> Shared {
        let clients = Budget::new(usize::try_from(config.maxmemory_clients).unwrap_or(usize::MAX));
        Shared {
            db: RefCell::new(Db::new(
                usize::try_from(config.maxmemory).unwrap_or(usize::MAX),
            )),
            pubsub: PubSub::new(clients.clone()),
            clients,
            next_id: Cell::new(1),
        }
    }
}

/// Serves Redis clients on `listener` until `stop` completes (or accepting fails); then stops
/// accepting and gives the open connections up to `drain` to finish, as `--workers N` does.
///
/// # Errors
///
/// The error that stopped the accept loop.
pub async fn run_until(
    listener: TcpListener,
    config: Rc<Config>,
    stop: impl Future<Output = ()>,
    drain: Duration,
) -> io::Result<()> {
    let shared = Rc::new(Shared::new(&config));
    let purge = weft::spawn(purge_loop(shared.clone()));
    // Stop the purge task however this future ends, returned or dropped.
    let _purge = CancelOnDrop(purge);
    let mut server = Server::new(config.server.max_connections);
    weft::select! {
        served = server.run(&listener, |stream, _mode| {
            let id = shared.next_id.get();
            shared.next_id.set(id + 1);
            serve(stream, Session::new(shared.clone(), id), config.clone())
        }) => served?,
        () = stop => {}
    }
    drop(listener); // stop accepting
    server.drain(drain).await;
    Ok(())
}

/// This worker's shard (`--workers N`): its own key space, purged by its own task, which
/// the runtime's shutdown stops.
pub fn start_shard(config: &Config) -> Rc<Shared> {
    let shared = Rc::new(Shared::new(config));
    drop(weft::spawn(purge_loop(shared.clone())));
    crate::shard::install(shared.clone());
    shared
}

/// The next connection id on worker `worker` of `count`: unique over all workers.
pub fn next_shard_id(shared: &Shared, worker: usize, count: usize) -> u64 {
    let n = shared.next_id.get();
    shared.next_id.set(n + 1);
    (n - 1) * count as u64 + worker as u64 + 1
}

/// Cancels its task when dropped.
struct CancelOnDrop(weft::JoinHandle<()>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
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
                // A fresh zeroed allocation (the allocator's zero pages) and a copy, rather
                // than zero-filling the grown tail byte by byte.
                let len = (self.buf.len() * 2).max(self.end + READ_SIZE);
                let mut grown = vec![0; len];
                grown[..self.end].copy_from_slice(&self.buf[..self.end]);
                self.buf = grown;
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
            if self.buf.len() > READ_SIZE {
                self.buf = vec![0; READ_SIZE]; // give back what a large command took
            }
        }
    }
}

/// What [`run_commands`] leaves the connection to do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Send this command to the workers its keys live on (`--workers N`), append the
    /// reply, then run the commands left.
    Forward(Vec<Vec<u8>>),
    /// Read more: no complete command is left.
    Read,
    /// Write the replies, then run the commands left: the output reached [`OUT_HIGH`].
    More,
    /// Write the replies, then close (`QUIT`, a protocol error).
    Close,
}

/// Serves one connection until the client closes it, sends `QUIT`, breaks the protocol,
/// breaks a limit, or the socket fails.
///
/// # Errors
///
/// The socket's error, or `TimedOut` for a client that stopped reading.
pub async fn serve(
    mut stream: TcpStream,
    mut session: Session,
    config: Rc<Config>,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut input = Input::new();
    let mut parser = CommandParser::new();
    let mut out: Vec<u8> = Vec::with_capacity(READ_SIZE);
    // This connection's buffers past their base size, charged to `--maxmemory-clients`.
    let mut memory = Charge::new(session.shared.clients.clone());
    // When the oldest command not yet whole began to arrive.
    let mut command_started: Option<Instant> = None;
    let mut step = Step::Read;
    loop {
        if let Some(sub) = &session.subscription {
            sub.outbox().take_into(&mut out);
            if sub.outbox().overflowed() {
                step = Step::Close;
            }
        }
        if !out.is_empty() {
            write_all_within(&mut stream, &out, config.server.write_timeout).await?;
            out.clear();
            if out.capacity() > OUT_HIGH {
                out = Vec::with_capacity(READ_SIZE); // give back what large replies took
            }
        }
        match step {
            Step::Close => {
                // The client is gone as far as the others can tell (its subscriptions too);
                // then shut down our side so it reads our last reply, then EOF.
                drop(session);
                close_after_reply(stream).await;
                return Ok(());
            }
            Step::More => {} // run the commands left before reading more
            Step::Forward(args) => {
                if let Some(peers) = session.peers.clone() {
                    peers.forward(args, &mut out).await;
                }
            }
            Step::Read => {
                // Wait for input: a started command has its deadline, an idle client its own.
                let deadline = match command_started {
                    Some(start) => Some(start + config.command_timeout),
                    None if session.is_subscribed() || config.timeout.is_zero() => None,
                    None => Some(Instant::now() + config.timeout),
                };
                let read = async {
                    match &session.subscription {
                        // In pub/sub mode, also wait for a message to deliver.
                        Some(sub) if sub.count() > 0 => weft::select! {
                            biased;
                            r = stream.read(input.spare()) => Some(r),
                            () = sub.outbox().ready() => None,
                        },
                        _ => Some(stream.read(input.spare()).await),
                    }
                };
                let read = match deadline {
                    Some(deadline) => match weft::time::timeout_at(deadline, read).await {
                        Ok(read) => read,
                        Err(_elapsed) => return Ok(()), // too slow, or idle: close
                    },
                    None => read.await,
                };
                let Some(n) = read.transpose()? else {
                    continue; // a message to deliver
                };
                if n == 0 {
                    return Ok(());
                }
                if input.pending().is_empty() {
                    command_started = Some(Instant::now());
                }
                input.end += n;
                // Messages published before these commands go out before their replies.
                if let Some(sub) = &session.subscription {
                    sub.outbox().take_into(&mut out);
                }
            }
        }

        let before = input.pending().len();
        step = run_commands(&mut input, &mut parser, &mut session, &mut out);
        // A command that completed restarts the clock: the next one starts now.
        if input.pending().is_empty() {
            command_started = None;
        } else if input.pending().len() < before {
            command_started = Some(Instant::now());
        }

        let held = (input.buf.len() - READ_SIZE)
            + parser.heap_size()
            + out.capacity().saturating_sub(READ_SIZE);
        if !memory.set(held) {
            log::debug!(
                "client {}: past --maxmemory-clients, disconnected",
                session.id
            );
            out = Vec::new();
            write_error(&mut out, b"ERR client memory limit reached");
            step = Step::Close;
        }
    }
}

/// Runs the complete commands in `input`, appending the replies to `out`, until none is
/// left, the replies reach [`OUT_HIGH`], or the connection must close.
fn run_commands(
    input: &mut Input,
    parser: &mut CommandParser,
    session: &mut Session,
    out: &mut Vec<u8>,
) -> Step {
    loop {
        if out.len() >= OUT_HIGH {
            return Step::More;
        }
        let pending = input.pending();
        match parser.parse(pending) {
            Ok(Some(n)) => {
                let args = parser.args(pending);
                if let Some(peers) = &session.peers {
                    if peers.must_forward(&args, session) {
                        let owned = args.iter_from(0).map(<[u8]>::to_vec).collect();
                        input.consume(n);
                        return Step::Forward(owned);
                    }
                }
                let flow = if args.is_empty() {
                    Flow::Continue // `*0` or a blank line: no reply, as in Redis
                } else {
                    execute(args, session, out)
                };
                input.consume(n);
                if flow == Flow::Close {
                    return Step::Close;
                }
            }
            Ok(None) => return Step::Read,
            Err(e) => {
                write_error(out, format!("ERR Protocol error: {e}").as_bytes());
                return Step::Close;
            }
        }
    }
}
