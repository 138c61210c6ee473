//! A server on `--workers N` thread-per-core workers: each worker has its own runtime and
//! its own listener on the one port (`SO_REUSEPORT`), and serves its connections with the
//! usual [`Server`] (connection cap, modes, deadlines). Ctrl-C stops every worker
//! gracefully: each stops accepting and drains its connections within the drain timeout.
//!
//! **Balance.** The kernel spreads connections over the listeners by a hash of their
//! addresses, which leaves one worker with more than its share (256 connections from wrk
//! were split 118/139, 122/136 and 127/130 in three runs). A worker cannot take over
//! another's connections later (each is registered with its worker's reactor), so the
//! busier worker's clients wait longer, for as long as they stay connected. So a worker
//! that accepts a connection while it serves at least two more than the least busy worker
//! hands it over, as a `std::net::TcpStream`, through a bounded queue that the other worker
//! accepts from beside its listener. When that queue is full the connection stays.
//!
//! ```no_run
//! use examples_common::workers::{serve_workers, Plan};
//!
//! let plan = Plan { program: "demo", workers: 2, port: 8080, max_connections: 1024,
//!                   drain_timeout: std::time::Duration::from_secs(5), scheme: "" };
//! serve_workers(plan, |_worker| {
//!     |stream, mode| async move {
//!         let _ = (stream, mode); // serve the connection
//!         Ok(())
//!     }
//! })
//! .unwrap();
//! ```

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use weft::net::{TcpListener, TcpStream};
use weft::signal::unix::{signal, SignalKind};
use weft::sync::{mpsc, watch, Event};
use weft::workers::Worker;

use crate::serve::{Accept, Mode, Server};

/// Connections waiting in one worker's hand-over queue, at most.
const HANDOVER_QUEUE: usize = 64;

/// How to run the workers.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// For messages.
    pub program: &'static str,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// The port on 127.0.0.1 (0: worker 0 picks one, the others bind the same).
    pub port: u16,
    /// Connections each worker serves at once.
    pub max_connections: usize,
    /// How long connections get to finish after Ctrl-C.
    pub drain_timeout: Duration,
    /// Printed before the address in the "listening on" line (`"http://"`, or `""`).
    pub scheme: &'static str,
}

impl Plan {
    /// Reads `--workers` (default 1) and `--drain-timeout` (default 5 s) from `args`; the
    /// port and the connection cap are the server's `options`.
    pub fn from_args(
        program: &'static str,
        scheme: &'static str,
        options: &crate::serve::Options,
        args: &mut crate::cli::Args,
    ) -> Plan {
        Plan {
            program,
            workers: args.value(
                "--workers",
                1usize,
                "worker threads, each with its own runtime and listener on the port (0: one per \
                 core)",
            ),
            port: options.port,
            max_connections: options.max_connections,
            drain_timeout: args.seconds(
                "--drain-timeout",
                Duration::from_secs(5),
                "with workers: how long open connections get to finish after Ctrl-C",
            ),
            scheme,
        }
    }
}

/// Runs `make(worker)`'s connection handler on every worker until Ctrl-C, then drains.
///
/// # Errors
///
/// A worker's error (binding, accepting), or the workers' failures (a panic).
pub fn serve_workers<M, S, Fut>(plan: Plan, make: M) -> io::Result<()>
where
    M: Fn(&Worker) -> S + Send + Sync + 'static,
    S: FnMut(TcpStream, watch::Receiver<Mode>) -> Fut + 'static,
    Fut: Future<Output = io::Result<()>> + 'static,
{
    let port = Arc::new(AtomicU16::new(plan.port));
    let bound = Arc::new(Event::new());
    // Sized by the first worker to start, from the count the builder settled on.
    let shared: Arc<OnceLock<Arc<Balance>>> = Arc::default();
    let outputs = weft::Builder::new()
        .workers(plan.workers)
        .shutdown_timeout(plan.drain_timeout + Duration::from_secs(1))
        .run(move |worker| {
            let (port, bound) = (port.clone(), bound.clone());
            let balance = shared
                .get_or_init(|| Arc::new(Balance::new(worker.count())))
                .clone();
            let serve = make(&worker);
            async move {
                let served = serve_worker(&worker, plan, &port, &bound, &balance, serve).await;
                if served.is_err() {
                    worker.shutdown(); // one worker failing stops them all
                }
                served
            }
        })
        .map_err(|e| io::Error::other(format!("{}: {e}", plan.program)))?;
    outputs.into_iter().collect()
}

/// One worker's server: listen, serve until a stop, drain.
async fn serve_worker<S, Fut>(
    worker: &Worker,
    plan: Plan,
    port: &AtomicU16,
    bound: &Event,
    balance: &Arc<Balance>,
    mut serve: S,
) -> io::Result<()>
where
    S: FnMut(TcpStream, watch::Receiver<Mode>) -> Fut,
    Fut: Future<Output = io::Result<()>> + 'static,
{
    let listener = listen(worker, port, bound).await?;
    if worker.id() == 0 {
        // The Ctrl-C listener is in place before the "listening" line: a SIGINT that follows
        // the line (a script's, a test's) stops the server gracefully, never by the signal's
        // default action, and the server holds every descriptor it keeps from here on.
        let mut interrupt = signal(SignalKind::interrupt())?;
        log::info!("listening on {}{}", plan.scheme, listener.local_addr()?);
        let all = worker.handle().clone();
        weft::spawn(async move {
            if interrupt.recv().await.is_some() {
                log::info!("Ctrl-C: stopping every worker");
                all.shutdown();
            }
        });
    }
    let mut server = Server::new(plan.max_connections);
    let me = worker.id();
    let handed = balance.take_queue(me);
    let source = Balanced {
        me,
        listener: &listener,
        handed,
        balance,
    };
    // Each connection counts for this worker until its task ends.
    let counted = |stream, mode| {
        let counted = Counted {
            balance: balance.clone(),
            worker: me,
        };
        let connection = serve(stream, mode);
        async move {
            let _counted = counted;
            connection.await
        }
    };
    weft::select! {
        served = server.run_from(source, counted) => served?,
        () = worker.stopping() => {}
    }
    drop(listener); // stop accepting
    server.drain(plan.drain_timeout).await;
    Ok(())
}

/// This worker's listener: worker 0 binds first (and picks the port if it is 0); with
/// several workers each binds the port with `SO_REUSEPORT`.
async fn listen(worker: &Worker, port: &AtomicU16, bound: &Event) -> io::Result<TcpListener> {
    let shared = worker.count() > 1;
    let bind = |port: u16| async move {
        if shared {
            TcpListener::bind_reuseport(("127.0.0.1", port)).await
        } else {
            TcpListener::bind(("127.0.0.1", port)).await
        }
    };
    if worker.id() == 0 {
        let listener = bind(port.load(Ordering::Acquire)).await;
        if let Ok(l) = &listener {
            port.store(l.local_addr()?.port(), Ordering::Release);
        }
        bound.set(); // on failure too, so that the others do not wait forever
        return listener;
    }
    bound.wait().await;
    match port.load(Ordering::Acquire) {
        0 => Err(io::Error::other("worker 0 could not bind")),
        p => bind(p).await,
    }
}

/// The workers' connection counts and hand-over queues.
struct Balance {
    /// Connections each worker serves (or has been handed and not yet taken).
    serving: Vec<AtomicUsize>,
    /// Each worker's hand-over queue.
    queues: Vec<mpsc::Sender<std::net::TcpStream>>,
    /// Their receiving ends, until each worker takes its own.
    receivers: Mutex<Vec<Option<mpsc::Receiver<std::net::TcpStream>>>>,
}

impl Balance {
    fn new(workers: usize) -> Balance {
        let (queues, receivers) = (0..workers)
            .map(|_| {
                let (tx, rx) = mpsc::channel(HANDOVER_QUEUE);
                (tx, Some(rx))
            })
            .unzip();
        Balance {
            serving: (0..workers).map(|_| AtomicUsize::new(0)).collect(),
            queues,
            receivers: Mutex::new(receivers),
        }
    }

    /// Worker `me`'s hand-over queue (once).
    fn take_queue(&self, me: usize) -> Option<mpsc::Receiver<std::net::TcpStream>> {
        self.receivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(me)?
            .take()
    }

    /// Which worker should serve a connection that worker `me` accepted: `me`, unless
    /// another serves at least two fewer (the least busy one, then).
    fn choose(serving: &[usize], me: usize) -> usize {
        let (least, &fewest) = serving
            .iter()
            .enumerate()
            .min_by_key(|&(_, n)| *n)
            .unwrap_or((me, &0));
        if serving.get(me).is_some_and(|&mine| mine >= fewest + 2) {
            least
        } else {
            me
        }
    }

    /// Gives `stream` (accepted by worker `me`) to a less busy worker if there is one and its
    /// queue has room; otherwise returns it, counted for `me`.
    fn place(&self, me: usize, stream: TcpStream) -> Option<TcpStream> {
        let serving: Vec<usize> = self
            .serving
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect();
        let to = Balance::choose(&serving, me);
        if to == me {
            return self.count(me, stream);
        }
        let std = match stream.into_std() {
            Ok(std) => std,
            Err(e) => {
                log::warn!("could not hand a connection over: {e}");
                return None;
            }
        };
        self.serving[to].fetch_add(1, Ordering::Relaxed);
        let Err(full) = self.queues[to].try_send(std) else {
            return None;
        };
        self.uncount(to);
        // Back under this worker's reactor; if that fails the connection is dropped (closed),
        // as a failed accept would be.
        match TcpStream::from_std(full.into_inner()) {
            Ok(stream) => self.count(me, stream),
            Err(e) => {
                log::warn!("could not keep a connection: {e}");
                None
            }
        }
    }

    fn count(&self, me: usize, stream: TcpStream) -> Option<TcpStream> {
        if let Some(n) = self.serving.get(me) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        Some(stream)
    }

    fn uncount(&self, worker: usize) {
        if let Some(n) = self.serving.get(worker) {
            n.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// One connection of worker `worker`, counted until dropped.
struct Counted {
    balance: Arc<Balance>,
    worker: usize,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.balance.uncount(self.worker);
    }
}

/// A worker's connections: from its listener (some handed to less busy workers) and from
/// its hand-over queue.
struct Balanced<'a> {
    me: usize,
    listener: &'a TcpListener,
    handed: Option<mpsc::Receiver<std::net::TcpStream>>,
    balance: &'a Balance,
}

impl Accept for Balanced<'_> {
    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        let Balanced {
            me,
            listener,
            handed,
            balance,
        } = self;
        loop {
            let handed = async {
                match handed {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            weft::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = accepted?;
                    if let Some(stream) = balance.place(*me, stream) {
                        return Ok((stream, peer));
                    }
                }
                std = handed => {
                    // Counted for this worker when it was handed over. A connection that
                    // went away meanwhile is skipped, not an error of the server.
                    let Some(std) = std else { continue };
                    let stream = TcpStream::from_std(std).and_then(|s| Ok((s.peer_addr()?, s)));
                    match stream {
                        Ok((peer, stream)) => return Ok((stream, peer)),
                        Err(e) => {
                            balance.uncount(*me);
                            log::debug!("a handed-over connection is gone: {e}");
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Balance;

    #[test]
    fn a_connection_moves_only_to_a_worker_serving_two_fewer() {
        assert_eq!(Balance::choose(&[0, 0], 0), 0);
        assert_eq!(Balance::choose(&[1, 0], 0), 0);
        assert_eq!(Balance::choose(&[2, 0], 0), 1);
        assert_eq!(Balance::choose(&[5, 4, 3], 0), 2);
        assert_eq!(Balance::choose(&[3, 9, 4], 1), 0);
        assert_eq!(Balance::choose(&[7], 0), 0);
    }
}
