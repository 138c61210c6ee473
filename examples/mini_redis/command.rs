//! The commands: each parses its arguments, acts on the shared state, and appends its reply.
//!
//! Supported: `GET`, `SET key value [EX s | PX ms] [NX | XX] [KEEPTTL]`, `DEL`, `EXISTS`,
//! `TTL`, `PTTL`, `DBSIZE`, `FLUSHDB`, `FLUSHALL`, `PUBLISH`, `SUBSCRIBE`, `UNSUBSCRIBE`,
//! `PING`, `ECHO`, `QUIT`, `SELECT 0`, and what clients send when they connect: `CONFIG
//! GET` (answers `save` and `appendonly` as a server without persistence would), `COMMAND`
//! (an empty list), `CLIENT SETNAME / SETINFO / GETNAME / ID`, `HELLO [2]` (RESP3 is
//! refused with `NOPROTO`). Error texts follow Redis's.

use std::rc::Rc;

use weft::time::{Duration, Instant};

use examples_common::resp::{
    parse_int, write_array_len, write_bulk, write_error, write_integer, write_null, write_simple,
    Args,
};

use crate::db::{OutOfMemory, SetCondition, SetExpiry};
use crate::pubsub::Subscription;
use crate::server::Shared;

/// What the connection does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on reading commands.
    Continue,
    /// Write the replies so far, then close (`QUIT`).
    Close,
}

/// One connection's state as the commands see it.
#[derive(Debug)]
pub struct Session {
    /// The server's key space and pub/sub registry.
    pub shared: Rc<Shared>,
    /// Created by the first `SUBSCRIBE`; subscribed to nothing again after `UNSUBSCRIBE`.
    pub subscription: Option<Subscription>,
    /// A number unique to this connection (`CLIENT ID`).
    pub id: u64,
    /// With `--workers N`: the workers the other shards live on.
    pub peers: Option<crate::shard::Peers>,
}

impl Session {
    /// A new connection's session.
    pub fn new(shared: Rc<Shared>, id: u64) -> Session {
        Session {
            shared,
            subscription: None,
            id,
            peers: None,
        }
    }

    /// Whether the connection is in pub/sub mode: subscribed to at least one channel, so
    /// that only (UN)SUBSCRIBE, PING and QUIT are accepted.
    pub fn is_subscribed(&self) -> bool {
        self.subscription.as_ref().is_some_and(|s| s.count() > 0)
    }
}

/// The longest command name we know (`UNSUBSCRIBE`); longer names are unknown.
const MAX_NAME: usize = 16;

/// Runs the command in `args` (not empty) and appends its reply to `out`.
pub fn execute(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    let raw_name = args.get(0).unwrap_or_default();
    let mut upper = [0u8; MAX_NAME];
    let name = match upper.get_mut(..raw_name.len()) {
        Some(name) => {
            name.copy_from_slice(raw_name);
            name.make_ascii_uppercase();
            &name[..]
        }
        None => &b"?"[..], // too long for any known command
    };
    let Some(&(_, command, arity)) = COMMANDS.iter().find(|(n, _, _)| n.as_bytes() == name) else {
        unknown_command(args, out);
        return Flow::Continue;
    };
    if !arity.accepts(args.len()) {
        let name = String::from_utf8_lossy(raw_name).to_lowercase();
        error(
            out,
            format_args!("ERR wrong number of arguments for '{name}' command"),
        );
        return Flow::Continue;
    }
    if session.is_subscribed() && !PUBSUB_MODE.contains(&name) {
        let name = String::from_utf8_lossy(raw_name).to_lowercase();
        error(
            out,
            format_args!(
                "ERR Can't execute '{name}': only SUBSCRIBE / UNSUBSCRIBE / PING / QUIT are \
                 allowed in this context"
            ),
        );
        return Flow::Continue;
    }
    command(args, session, out)
}

/// How many arguments (the name included) a command takes.
#[derive(Debug, Clone, Copy)]
enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// At least this many.
    AtLeast(usize),
    /// Between the two, inclusive.
    Between(usize, usize),
}

impl Arity {
    /// Whether `n` arguments fit.
    fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
            Arity::Between(lo, hi) => (lo..=hi).contains(&n),
        }
    }
}

/// A command's implementation: reads `args`, appends one reply to the buffer.
type Command = fn(Args<'_>, &mut Session, &mut Vec<u8>) -> Flow;

/// The command table. GET and SET first: the benchmark's commands are found at once.
const COMMANDS: &[(&str, Command, Arity)] = &[
    ("GET", get, Arity::Exactly(2)),
    ("SET", set, Arity::AtLeast(3)),
    ("PING", ping, Arity::Between(1, 2)),
    ("PUBLISH", publish, Arity::Exactly(3)),
    ("SUBSCRIBE", subscribe, Arity::AtLeast(2)),
    ("UNSUBSCRIBE", unsubscribe, Arity::AtLeast(1)),
    ("DEL", del, Arity::AtLeast(2)),
    ("EXISTS", exists, Arity::AtLeast(2)),
    ("TTL", ttl, Arity::Exactly(2)),
    ("PTTL", pttl, Arity::Exactly(2)),
    ("DBSIZE", dbsize, Arity::Exactly(1)),
    ("FLUSHDB", flush, Arity::Between(1, 2)),
    ("FLUSHALL", flush, Arity::Between(1, 2)),
    ("ECHO", echo, Arity::Exactly(2)),
    ("QUIT", quit, Arity::AtLeast(1)),
    ("SELECT", select, Arity::Exactly(2)),
    ("CONFIG", config, Arity::AtLeast(2)),
    ("COMMAND", command, Arity::AtLeast(1)),
    ("CLIENT", client, Arity::AtLeast(2)),
    ("HELLO", hello, Arity::AtLeast(1)),
];

/// The commands a connection in pub/sub mode accepts.
const PUBSUB_MODE: &[&[u8]] = &[b"SUBSCRIBE", b"UNSUBSCRIBE", b"PING", b"QUIT"];

/// Appends an error reply built from `msg`.
fn error(out: &mut Vec<u8>, msg: std::fmt::Arguments<'_>) {
    match msg.as_str() {
        Some(s) => write_error(out, s.as_bytes()),
        None => write_error(out, msg.to_string().as_bytes()),
    }
}

/// Appends Redis's error for an unknown command, quoting its first arguments.
#[cold]
fn unknown_command(args: Args<'_>, out: &mut Vec<u8>) {
    let quote = |a: &[u8]| String::from_utf8_lossy(&a[..a.len().min(128)]).into_owned();
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        quote(args.get(0).unwrap_or_default())
    );
    for a in args.iter_from(1).take(16) {
        msg.push_str(&format!("'{}' ", quote(a)));
    }
    write_error(out, msg.as_bytes());
}

/// `GET key`
fn get(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    match session
        .shared
        .db
        .borrow_mut()
        .get(args.get(1).unwrap_or_default())
    {
        Some(v) => write_bulk(out, v),
        None => write_null(out),
    }
    Flow::Continue
}

/// `SET key value [EX seconds | PX milliseconds] [NX | XX] [KEEPTTL]`
fn set(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    let (Some(key), Some(value)) = (args.get(1), args.get(2)) else {
        unreachable!("arity checked");
    };
    let (cond, expiry) = match set_options(args) {
        Ok(o) => o,
        Err(msg) => {
            write_error(out, msg.as_bytes());
            return Flow::Continue;
        }
    };
    match session.shared.db.borrow_mut().set(key, value, cond, expiry) {
        Ok(true) => write_simple(out, b"OK"),
        Ok(false) => write_null(out),
        Err(OutOfMemory) => write_error(
            out,
            b"OOM command not allowed when used memory > 'maxmemory'.",
        ),
    }
    Flow::Continue
}

/// Parses SET's options (from the fourth argument on).
fn set_options(args: Args<'_>) -> Result<(SetCondition, SetExpiry), &'static str> {
    const SYNTAX: &str = "ERR syntax error";
    let mut cond = SetCondition::Always;
    let mut expiry = None;
    let mut opts = args.iter_from(3);
    while let Some(opt) = opts.next() {
        let upper = opt.to_ascii_uppercase();
        match &upper[..] {
            b"NX" | b"XX" if cond != SetCondition::Always => return Err(SYNTAX),
            b"NX" => cond = SetCondition::IfAbsent,
            b"XX" => cond = SetCondition::IfPresent,
            b"KEEPTTL" if expiry.is_some() => return Err(SYNTAX),
            b"KEEPTTL" => expiry = Some(SetExpiry::Keep),
            b"EX" | b"PX" if expiry.is_some() => return Err(SYNTAX),
            b"EX" | b"PX" => {
                let n = opts.next().ok_or(SYNTAX)?;
                let n = parse_int(n).ok_or("ERR value is not an integer or out of range")?;
                let invalid = "ERR invalid expire time in 'set' command";
                let n = u64::try_from(n).ok().filter(|&n| n > 0).ok_or(invalid)?;
                let ttl = match &upper[..] {
                    b"EX" => Duration::from_secs(n),
                    _ => Duration::from_millis(n),
                };
                let deadline = Instant::now().checked_add(ttl).ok_or(invalid)?;
                expiry = Some(SetExpiry::At(deadline));
            }
            _ => return Err(SYNTAX),
        }
    }
    Ok((cond, expiry.unwrap_or(SetExpiry::Persist)))
}

/// `DEL key [key ...]`
fn del(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    let mut db = session.shared.db.borrow_mut();
    let n = args.iter_from(1).filter(|k| db.remove(k)).count();
    write_integer(out, n as i64);
    Flow::Continue
}

/// `EXISTS key [key ...]` (a key named twice counts twice, as in Redis)
fn exists(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    let mut db = session.shared.db.borrow_mut();
    let n = args.iter_from(1).filter(|k| db.contains(k)).count();
    write_integer(out, n as i64);
    Flow::Continue
}

/// The remaining time to live of `key` in `unit`s, rounded to nearest: -2 if it does not
/// exist, -1 if it does not expire.
fn time_to_live(args: Args<'_>, session: &mut Session, unit: Duration) -> i64 {
    match session
        .shared
        .db
        .borrow_mut()
        .deadline(args.get(1).unwrap_or_default())
    {
        None => -2,
        Some(None) => -1,
        Some(Some(t)) => {
            let left = t.saturating_duration_since(Instant::now()).as_nanos();
            let unit = unit.as_nanos();
            i64::try_from((left + unit / 2) / unit).unwrap_or(i64::MAX)
        }
    }
}

/// `TTL key`
fn ttl(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    write_integer(out, time_to_live(args, session, Duration::from_secs(1)));
    Flow::Continue
}

/// `PTTL key`
fn pttl(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    write_integer(out, time_to_live(args, session, Duration::from_millis(1)));
    Flow::Continue
}

/// `DBSIZE`
fn dbsize(_: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    write_integer(out, session.shared.db.borrow().len() as i64);
    Flow::Continue
}

/// `FLUSHDB [ASYNC | SYNC]`, `FLUSHALL [ASYNC | SYNC]` (both flush now)
fn flush(_: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    session.shared.db.borrow_mut().clear();
    write_simple(out, b"OK");
    Flow::Continue
}

/// `PUBLISH channel message`
fn publish(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    let (Some(channel), Some(message)) = (args.get(1), args.get(2)) else {
        unreachable!("arity checked");
    };
    let n = session.shared.pubsub.publish(channel, message);
    write_integer(out, n as i64);
    Flow::Continue
}

/// Appends `[kind, channel, count]`, the confirmation of a (un)subscription.
fn write_confirmation(out: &mut Vec<u8>, kind: &[u8], channel: Option<&[u8]>, count: usize) {
    write_array_len(out, 3);
    write_bulk(out, kind);
    match channel {
        Some(c) => write_bulk(out, c),
        None => write_null(out),
    }
    write_integer(out, count as i64);
}

/// `SUBSCRIBE channel [channel ...]`
fn subscribe(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    let shared = &session.shared;
    let sub = session
        .subscription
        .get_or_insert_with(|| shared.pubsub.subscription());
    for channel in args.iter_from(1) {
        let Some(count) = sub.subscribe(channel) else {
            // Its subscriptions would take the clients past their memory: disconnect.
            write_error(out, b"ERR client memory limit reached");
            return Flow::Close;
        };
        write_confirmation(out, b"subscribe", Some(channel), count);
    }
    Flow::Continue
}

/// `UNSUBSCRIBE [channel ...]` (none: from every channel)
fn unsubscribe(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    let Some(sub) = session
        .subscription
        .as_mut()
        .filter(|s| s.count() > 0 || args.len() > 1)
    else {
        write_confirmation(out, b"unsubscribe", None, 0);
        return Flow::Continue;
    };
    if args.len() > 1 {
        for channel in args.iter_from(1) {
            let count = sub.unsubscribe(channel);
            write_confirmation(out, b"unsubscribe", Some(channel), count);
        }
    } else {
        for channel in sub.channels() {
            let count = sub.unsubscribe(&channel);
            write_confirmation(out, b"unsubscribe", Some(&channel), count);
        }
    }
    Flow::Continue
}

/// `PING [message]`; in pub/sub mode the reply is `[pong, message]`, as Redis's.
fn ping(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    match (session.is_subscribed(), args.get(1)) {
        (false, None) => write_simple(out, b"PONG"),
        (false, Some(msg)) => write_bulk(out, msg),
        (true, msg) => {
            write_array_len(out, 2);
            write_bulk(out, b"pong");
            write_bulk(out, msg.unwrap_or_default());
        }
    }
    Flow::Continue
}

/// `ECHO message`
fn echo(args: Args<'_>, _: &mut Session, out: &mut Vec<u8>) -> Flow {
    write_bulk(out, args.get(1).unwrap_or_default());
    Flow::Continue
}

/// `QUIT`
fn quit(_: Args<'_>, _: &mut Session, out: &mut Vec<u8>) -> Flow {
    write_simple(out, b"OK");
    Flow::Close
}

/// `SELECT index`: there is only database 0.
fn select(args: Args<'_>, _: &mut Session, out: &mut Vec<u8>) -> Flow {
    match args.get(1).and_then(parse_int) {
        Some(0) => write_simple(out, b"OK"),
        Some(_) => write_error(out, b"ERR DB index is out of range"),
        None => write_error(out, b"ERR value is not an integer or out of range"),
    }
    Flow::Continue
}

/// `CONFIG GET parameter [parameter ...]`: `save` is `""` and `appendonly` is `no` (no
/// persistence); other parameters are unknown and left out, as Redis does.
/// `redis-benchmark` asks for those two when it starts.
fn config(args: Args<'_>, _: &mut Session, out: &mut Vec<u8>) -> Flow {
    const PARAMS: &[(&[u8], &[u8])] = &[(b"save", b""), (b"appendonly", b"no")];
    let sub = args.get(1).unwrap_or_default();
    if !sub.eq_ignore_ascii_case(b"GET") || args.len() < 3 {
        write_error(
            out,
            b"ERR unsupported CONFIG subcommand or wrong number of arguments",
        );
        return Flow::Continue;
    }
    let found: Vec<_> = PARAMS
        .iter()
        .filter(|(p, _)| {
            args.iter_from(2)
                .any(|a| a.eq_ignore_ascii_case(p) || a == b"*")
        })
        .collect();
    write_array_len(out, 2 * found.len());
    for (param, value) in found {
        write_bulk(out, param);
        write_bulk(out, value);
    }
    Flow::Continue
}

/// `COMMAND [...]`: an empty list (no command documentation; `redis-cli` copes), or the
/// number of commands for `COMMAND COUNT`.
fn command(args: Args<'_>, _: &mut Session, out: &mut Vec<u8>) -> Flow {
    match args.get(1) {
        Some(sub) if sub.eq_ignore_ascii_case(b"COUNT") => {
            write_integer(out, COMMANDS.len() as i64)
        }
        _ => write_array_len(out, 0),
    }
    Flow::Continue
}

/// `CLIENT SETNAME name | SETINFO attr value | GETNAME | ID`: names are accepted and
/// forgotten.
fn client(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    let sub = args.get(1).unwrap_or_default().to_ascii_uppercase();
    match (&sub[..], args.len()) {
        (b"SETNAME", 3) | (b"SETINFO", 4) => write_simple(out, b"OK"),
        (b"GETNAME", 2) => write_null(out),
        (b"ID", 2) => write_integer(out, session.id as i64),
        _ => write_error(
            out,
            b"ERR unknown subcommand or wrong number of arguments for 'client'",
        ),
    }
    Flow::Continue
}

/// `HELLO [2 [SETNAME name]]`: the server's description in RESP2; RESP3 is refused.
fn hello(args: Args<'_>, session: &mut Session, out: &mut Vec<u8>) -> Flow {
    if let Some(version) = args.get(1) {
        match parse_int(version) {
            Some(2) => {}
            Some(_) => {
                write_error(out, b"NOPROTO unsupported protocol version");
                return Flow::Continue;
            }
            None => {
                write_error(
                    out,
                    b"ERR Protocol version is not an integer or out of range",
                );
                return Flow::Continue;
            }
        }
        let setname = args.len() == 4
            && args
                .get(2)
                .unwrap_or_default()
                .eq_ignore_ascii_case(b"SETNAME");
        if args.len() > 2 && !setname {
            write_error(out, b"ERR syntax error in HELLO option");
            return Flow::Continue;
        }
    }
    write_array_len(out, 14);
    for (k, v) in [(&b"server"[..], &b"mini_redis"[..]), (b"version", b"0.1.0")] {
        write_bulk(out, k);
        write_bulk(out, v);
    }
    write_bulk(out, b"proto");
    write_integer(out, 2);
    write_bulk(out, b"id");
    write_integer(out, session.id as i64);
    for (k, v) in [(&b"mode"[..], &b"standalone"[..]), (b"role", b"master")] {
        write_bulk(out, k);
        write_bulk(out, v);
    }
    write_bulk(out, b"modules");
    write_array_len(out, 0);
    Flow::Continue
}
