//! A logger for servers: `log`'s macros on the serving path never block and never flood.
//!
//! A server's log is a resource its clients can spend: one line per peer reset is one line
//! per packet an attacker sends. And `eprintln!` is a blocking write: when stderr is a pipe
//! nobody drains, or a terminal that scrolls slowly, the whole single-threaded server stops
//! inside it. So:
//!
//! - lines pass a token bucket first: `rate` a second on average, up to [`BURST_SECONDS`]
//!   of them at once; the rest are dropped (and counted) before they are even formatted;
//! - a line that passes is formatted on the caller's thread and handed to a writer thread
//!   with `try_send` on a bounded channel: if the writer is behind, the line is dropped and
//!   counted, the caller never waits;
//! - the writer thread does the blocking writes to stderr, and says how many lines were
//!   dropped.
//!
//! ```no_run
//! examples_common::logger::init("demo", log::LevelFilter::Info, 20);
//! log::info!("listening on 127.0.0.1:8080"); // "demo: listening on 127.0.0.1:8080"
//! log::warn!("something odd");                // "demo: warning: something odd"
//! ```

use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use log::{Level, LevelFilter, Log, Metadata, Record};

/// After a quiet spell, this many seconds' worth of lines may be logged at once.
pub const BURST_SECONDS: u32 = 5;
/// Lines waiting for the writer thread; past it, lines are dropped.
const QUEUE: usize = 1024;
/// How long [`Log::flush`] waits for the writer at most (it is called on the way out).
const FLUSH_WAIT: Duration = Duration::from_millis(200);

/// Installs the logger for the process, for records at `level` and above, at most `rate`
/// lines a second on average.
///
/// # Panics
///
/// If a logger is already installed, or the writer thread cannot start.
pub fn init(program: &'static str, level: LevelFilter, rate: u32) {
    let (tx, rx) = sync_channel(QUEUE);
    let logger: &'static Logger = Box::leak(Box::new(Logger {
        program,
        tx,
        bucket: Mutex::new(Bucket::full(rate)),
        dropped: AtomicU64::new(0),
        queued: AtomicUsize::new(0),
    }));
    std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || logger.write_lines(rx))
        .expect("the log writer thread starts");
    log::set_logger(logger).expect("only one logger is installed");
    log::set_max_level(level);
}

/// The logger [`init`] installs.
struct Logger {
    program: &'static str,
    tx: SyncSender<String>,
    bucket: Mutex<Bucket>,
    /// Lines dropped since the writer last said so.
    dropped: AtomicU64,
    /// Lines sent and not yet written.
    queued: AtomicUsize,
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let allowed = self
            .bucket
            .lock()
            .map(|mut b| b.take(Instant::now()))
            .unwrap_or(false);
        if !allowed {
            self.dropped.fetch_add(1, Relaxed);
            return;
        }
        let line = match record.level() {
            Level::Info => format!("{}: {}\n", self.program, record.args()),
            Level::Warn => format!("{}: warning: {}\n", self.program, record.args()),
            level => {
                let level = level.as_str().to_ascii_lowercase();
                format!("{}: {level}: {}\n", self.program, record.args())
            }
        };
        self.queued.fetch_add(1, Relaxed);
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Relaxed);
                self.dropped.fetch_add(1, Relaxed);
            }
        }
    }

    /// Waits a little for the writer to catch up (on the way out of the process).
    fn flush(&self) {
        let start = Instant::now();
        while self.queued.load(Relaxed) > 0 && start.elapsed() < FLUSH_WAIT {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Logger {
    /// The writer thread: writes each line, and every second the count of dropped ones.
    fn write_lines(&self, lines: Receiver<String>) {
        let mut stderr = std::io::stderr();
        loop {
            let line = lines.recv_timeout(Duration::from_secs(1));
            let dropped = self.dropped.swap(0, Relaxed);
            if dropped > 0 {
                let note = format!("{}: ({dropped} log lines dropped)\n", self.program);
                let _ = stderr.write_all(note.as_bytes());
            }
            match line {
                Ok(line) => {
                    // Nothing to do if stderr is gone: the server goes on without its log.
                    let _ = stderr.write_all(line.as_bytes());
                    self.queued.fetch_sub(1, Relaxed);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// A token bucket: `rate` tokens a second, up to [`BURST_SECONDS`] seconds' worth.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(rate: u32) -> Bucket {
        let rate = f64::from(rate);
        Bucket {
            rate,
            tokens: rate * f64::from(BURST_SECONDS),
            last: Instant::now(),
        }
    }

    /// Takes a token if there is one.
    fn take(&mut self, now: Instant) -> bool {
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * self.rate;
        let burst = self.rate * f64::from(BURST_SECONDS);
        self.tokens = (self.tokens + refill).min(burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate() {
        let mut b = Bucket::full(20);
        let t0 = b.last;
        let burst = (0..1000).filter(|_| b.take(t0)).count();
        assert_eq!(burst, 20 * BURST_SECONDS as usize);
        let later = t0 + Duration::from_secs(2);
        let refilled = (0..1000).filter(|_| b.take(later)).count();
        assert_eq!(refilled, 2 * 20);
    }
}
