//! `--workers N`: the key space sharded over thread-per-core workers, shared-nothing.
//!
//! Each worker owns one shard (its own `Shared`: keys, expiry, pub/sub, memory budget) and
//! accepts connections on its own listener. A command on a key lives on the worker
//! `hash(key) % N`: a connection runs it in place when that is its own worker, and
//! otherwise sends it there ([`weft::workers::WorkersHandle::spawn_on`]) and awaits the
//! reply, in the order of the pipeline. `DEL`/`EXISTS` on several keys ask each key's
//! worker and add up; `DBSIZE`, `FLUSHDB` and `PUBLISH` ask every worker. Everything else
//! (`PING`, `SUBSCRIBE`, `CLIENT`, ...) runs on the connection's own worker, so a
//! subscriber hears a `PUBLISH` from any worker. `--maxmemory` is per worker.

use std::cell::RefCell;
use std::rc::Rc;

use examples_common::resp::{parse_int, write_error, write_integer, Args, CommandParser, Frame};
use weft::workers::Worker;

use crate::command::{execute, Session};
use crate::server::Shared;

thread_local! {
    /// This worker's shard, for the commands other workers send here.
    static SHARD: RefCell<Option<Rc<Shared>>> = const { RefCell::new(None) };
}

/// Makes `shared` this worker's shard.
pub fn install(shared: Rc<Shared>) {
    SHARD.with(|s| *s.borrow_mut() = Some(shared));
}

/// Where a connection's commands go: its worker, and how to reach the others.
#[derive(Debug, Clone)]
pub struct Peers {
    worker: Worker,
}

/// What [`Peers::forward`] does with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One key, argument 1: its worker answers.
    OneKey,
    /// Keys from argument 1 on: each key's worker answers with an integer; they add up.
    KeysSum,
    /// Every worker answers with an integer; they add up.
    AllSum,
    /// Every worker runs it; the first reply is the answer.
    All,
}

fn kind(name: &[u8]) -> Option<Kind> {
    let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
    if is("GET") || is("SET") || is("TTL") || is("PTTL") {
        Some(Kind::OneKey)
    } else if is("DEL") || is("EXISTS") {
        Some(Kind::KeysSum)
    } else if is("DBSIZE") || is("PUBLISH") {
        Some(Kind::AllSum)
    } else if is("FLUSHDB") {
        Some(Kind::All)
    } else {
        None
    }
}

/// FNV-1a: a fixed hash, so a key's worker is the same for every connection.
fn hash(key: &[u8]) -> u64 {
    key.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Peers {
    /// The peers of `worker`.
    pub fn new(worker: Worker) -> Peers {
        Peers { worker }
    }

    fn shard_of(&self, key: &[u8]) -> usize {
        (hash(key) % self.worker.count() as u64) as usize
    }

    /// Whether `args` must go to other workers ([`forward`](Self::forward)) rather than
    /// run here. Commands a subscribed connection may not run, and malformed ones, run here
    /// to get their error.
    pub fn must_forward(&self, args: &Args<'_>, session: &Session) -> bool {
        if self.worker.count() == 1 || session.is_subscribed() || args.len() < 2 {
            return args.len() == 1
                && self.worker.count() > 1
                && !session.is_subscribed()
                && args.get(0).and_then(kind) == Some(Kind::AllSum); // DBSIZE
        }
        let me = self.worker.id();
        match args.get(0).and_then(kind) {
            Some(Kind::OneKey) => args.get(1).is_some_and(|k| self.shard_of(k) != me),
            Some(Kind::KeysSum) => args.iter_from(1).any(|k| self.shard_of(k) != me),
            Some(Kind::AllSum | Kind::All) => true,
            None => false,
        }
    }

    /// Runs `args` where its keys live and appends the reply to `out`.
    pub async fn forward(&self, args: Vec<Vec<u8>>, out: &mut Vec<u8>) {
        let Some(kind) = args.first().and_then(|n| kind(n)) else {
            return write_error(out, b"ERR not a sharded command");
        };
        match kind {
            Kind::OneKey => {
                let shard = self.shard_of(&args[1]);
                out.extend(self.on(shard, args).await);
            }
            Kind::KeysSum => {
                let asks: Vec<_> = args[1..]
                    .iter()
                    .map(|k| self.on(self.shard_of(k), vec![args[0].clone(), k.clone()]))
                    .collect();
                self.sum(asks, out).await;
            }
            Kind::AllSum => {
                let asks: Vec<_> = (0..self.worker.count())
                    .map(|w| self.on(w, args.clone()))
                    .collect();
                self.sum(asks, out).await;
            }
            Kind::All => {
                let mut first = None;
                for w in 0..self.worker.count() {
                    let reply = self.on(w, args.clone()).await;
                    first.get_or_insert(reply);
                }
                out.extend(first.unwrap_or_default());
            }
        }
    }

    /// Adds up integer replies; the first error, if any, is the answer.
    async fn sum(&self, asks: Vec<impl std::future::Future<Output = Vec<u8>>>, out: &mut Vec<u8>) {
        let mut total = 0i64;
        for ask in asks {
            let reply = ask.await;
            match reply
                .strip_prefix(b":")
                .and_then(|r| r.strip_suffix(b"\r\n"))
                .and_then(parse_int)
            {
                Some(n) => total = total.saturating_add(n),
                None => {
                    out.extend(reply);
                    return;
                }
            }
        }
        write_integer(out, total);
    }

    /// Runs `args` on worker `shard` and returns its reply.
    async fn on(&self, shard: usize, args: Vec<Vec<u8>>) -> Vec<u8> {
        if shard == self.worker.id() {
            return run_here(&args);
        }
        match self
            .worker
            .spawn_on(shard, async move { run_here(&args) })
            .await
        {
            Ok(reply) => reply,
            Err(_) => b"-ERR the shard's worker is stopping\r\n".to_vec(),
        }
    }
}

/// Runs a command on this worker's shard, as a connection of its own would.
fn run_here(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(shared) = SHARD.with(|s| s.borrow().clone()) else {
        write_error(&mut out, b"ERR no shard on this worker");
        return out;
    };
    let frame = Frame::command(args).to_bytes();
    let mut parser = CommandParser::new();
    match parser.parse(&frame) {
        Ok(Some(_)) => {
            let mut session = Session::new(shared, 0);
            execute(parser.args(&frame), &mut session, &mut out);
        }
        _ => write_error(&mut out, b"ERR could not forward the command"),
    }
    out
}
