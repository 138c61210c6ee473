//! A server on `--workers N` thread-per-core workers: each worker has its own runtime and
//! its own listener on the one port (`SO_REUSEPORT`), and serves the connections the kernel
//! gives it with the usual [`Server`] (connection cap, modes, deadlines). Ctrl-C stops every
//! worker gracefully: each stops accepting and drains its connections within the drain
//! timeout.
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
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft::net::{TcpListener, TcpStream};
use weft::sync::{watch, Event};
use weft::workers::Worker;

use crate::serve::{Mode, Server};

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
    let outputs = weft::Builder::new()
        .workers(plan.workers)
        .shutdown_timeout(plan.drain_timeout + Duration::from_secs(1))
        .run(move |worker| {
            let (port, bound) = (port.clone(), bound.clone());
            let serve = make(&worker);
            async move {
                let served = serve_worker(&worker, plan, &port, &bound, serve).await;
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
    serve: S,
) -> io::Result<()>
where
    S: FnMut(TcpStream, watch::Receiver<Mode>) -> Fut,
    Fut: Future<Output = io::Result<()>> + 'static,
{
    let listener = listen(worker, port, bound).await?;
    if worker.id() == 0 {
        log::info!("listening on {}{}", plan.scheme, listener.local_addr()?);
        let all = worker.handle().clone();
        weft::spawn(async move {
            if weft::signal::ctrl_c().await.is_ok() {
                log::info!("Ctrl-C: stopping every worker");
                all.shutdown();
            }
        });
    }
    let mut server = Server::new(plan.max_connections);
    weft::select! {
        served = server.run(&listener, serve) => served?,
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
