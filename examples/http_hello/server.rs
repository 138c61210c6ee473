//! The `http_hello` server: its options, its one route, and the connection loop that drives
//! [`examples_common::http::Connection`] with a deadline on everything the client does.
//!
//! | the client                                   | the server                              |
//! |----------------------------------------------|-----------------------------------------|
//! | connects and sends nothing, or trickles a head | `--head-timeout` after it connected, or after the head's first byte: `408`, close |
//! | trickles a body                              | `--body-timeout` after the head: `408`, close |
//! | stays idle between requests                  | closed after `--idle-timeout`           |
//! | stops reading our responses                  | closed when a write makes no progress for `--write-timeout` |
//! | pipelines requests and never reads           | we stop reading too (at most 16 KiB of answers wait), then the write timeout |
//! | is one connection too many                   | accept pauses at `--max-connections`, and connections waiting on their client are shed |
//!
//! `graceful_shutdown` runs the same loop; on Ctrl-C its idle connections close at once and
//! busy ones finish their request with `Connection: close`.

use std::io;
use std::rc::Rc;
use std::time::Duration;

use examples_common::cli::Args;
use examples_common::http::{Answer, Connection, Error, Limits, Phase};
use examples_common::serve::{close_after_reply, write_all_within, Mode, Options};
use weft::io::AsyncReadExt;
use weft::net::TcpStream;
use weft::sync::watch;
use weft::time::Instant;

use crate::app::respond;

/// Everything the server can be told on its command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// The port, the connection cap, the write timeout, the log level.
    pub server: Options,
    /// The largest request head and body.
    pub limits: Limits,
    /// To send a whole request head.
    pub head_timeout: Duration,
    /// To send a whole request body.
    pub body_timeout: Duration,
    /// Between requests.
    pub idle_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            server: Options::new(8080),
            limits: Limits::default(),
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

impl Config {
    /// Reads the options from `args` (`--help` lists them, with these defaults).
    pub fn from_args(args: &mut Args) -> Config {
        let d = Config::default();
        Config {
            server: Options::from_args(args, d.server.port),
            limits: Limits {
                max_head: args.bytes(
                    "--max-head",
                    d.limits.max_head as u64,
                    "the largest request head (431 past it)",
                ) as usize,
                max_body: args.bytes(
                    "--max-body",
                    d.limits.max_body,
                    "the largest request body, read and discarded (413 past it)",
                ),
            },
            head_timeout: args.seconds(
                "--head-timeout",
                d.head_timeout,
                "to send a request head, from connecting or from its first byte",
            ),
            body_timeout: args.seconds(
                "--body-timeout",
                d.body_timeout,
                "to send a request body, from the end of its head",
            ),
            idle_timeout: args.seconds(
                "--idle-timeout",
                d.idle_timeout,
                "a kept-alive connection's wait for its next request",
            ),
        }
    }

    /// How long the connection may spend in `phase`.
    fn timeout(&self, phase: Phase) -> Duration {
        match phase {
            Phase::Idle => self.idle_timeout,
            Phase::Head => self.head_timeout,
            Phase::Body | Phase::Closed => self.body_timeout,
        }
    }
}

/// Bytes asked of the socket per read.
const READ_SIZE: usize = 8 * 1024;

/// Serves one connection until the client or a limit ends it, or the server sheds it.
///
/// # Errors
///
/// The socket's error, or `TimedOut` when the client stopped reading.
pub async fn serve(
    mut stream: TcpStream,
    config: Rc<Config>,
    mut mode: watch::Receiver<Mode>,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut conn = Connection::new(config.limits);
    let mut out = Vec::new();
    let mut buf = vec![0u8; READ_SIZE];
    let mut phase = conn.phase();
    // A new connection owes a request head within `head_timeout`, however it trickles in.
    let mut deadline = Instant::now() + config.head_timeout;
    loop {
        // Answer what has arrived, writing as we go: `answer` stops at 16 KiB of responses,
        // so a client that does not read holds that much here at most.
        let mut answered = false;
        let answer = loop {
            let answer = conn.answer(&mut out, respond);
            if !out.is_empty() {
                write_all_within(&mut stream, &out, config.server.write_timeout).await?;
                out.clear();
                answered = true;
            }
            if answer != Answer::Again {
                break answer;
            }
        };
        if answer == Answer::Close {
            close_after_reply(stream).await;
            return Ok(());
        }

        // Each wait on the client has its own clock, started when it begins: at a change
        // of phase, or when a response went out (a new request is awaited).
        if answered || conn.phase() != phase {
            phase = conn.phase();
            if !conn.is_new() {
                deadline = Instant::now() + config.timeout(phase);
            }
        }
        if *mode.borrow() == Mode::Draining {
            if phase == Phase::Idle {
                return Ok(());
            }
            conn.close_after_current();
        }

        let read = weft::select! {
            biased;
            read = weft::time::timeout_at(deadline, stream.read(&mut buf)) => read,
            Ok(()) = mode.changed() => {
                // At the cap, make room: a client that is not sending a body can come back.
                if *mode.borrow() == Mode::Full && phase != Phase::Body {
                    return Ok(());
                }
                continue;
            }
        };
        match read {
            Ok(Ok(0)) => return Ok(()),
            Ok(Ok(n)) => conn.receive(&buf[..n]),
            Ok(Err(e)) => return Err(e),
            Err(_elapsed) if phase == Phase::Idle => return Ok(()),
            Err(_elapsed) => {
                conn.fail(Error::Timeout, &mut out);
                write_all_within(&mut stream, &out, config.server.write_timeout).await?;
                close_after_reply(stream).await;
                return Ok(());
            }
        }
    }
}
