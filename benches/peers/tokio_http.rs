//! The `http_hello` server on tokio's current_thread runtime, for `benches/wrk.sh` to compare
//! against: the same protocol code (`examples_common::http::Connection` and
//! `examples/http_hello/app.rs`) and the same connection loop, with the same deadlines, the
//! same mode channel and the same connection cap, written with tokio's types.
//!
//! `cargo run --release --example tokio_http -- 8081` (current_thread),
//! `-- 8081 --workers 2` (the multi_thread runtime with 2 worker threads, one listener), or
//! `-- 8081 --per-core 2` (thread-per-core on tokio: 2 threads, each with a current_thread
//! runtime and its own `SO_REUSEPORT` listener, as `http_hello --workers 2` is built).

#[path = "../../examples/http_hello/app.rs"]
mod app;

use std::sync::Arc;
use std::time::Duration;

use examples_common::http::{Answer, Connection, Error, Limits, Phase};
use examples_common::serve::{Mode, WRITE_CHUNK};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

const MAX_CONNECTIONS: usize = 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

fn timeout_for(phase: Phase) -> Duration {
    match phase {
        Phase::Idle => IDLE_TIMEOUT,
        Phase::Head => HEAD_TIMEOUT,
        Phase::Body | Phase::Closed => BODY_TIMEOUT,
    }
}

async fn write_all_within(stream: &mut TcpStream, buf: &[u8]) -> std::io::Result<()> {
    for piece in buf.chunks(WRITE_CHUNK) {
        tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(piece))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    }
    Ok(())
}

async fn serve(mut stream: TcpStream, mut mode: watch::Receiver<Mode>) -> std::io::Result<()> {
    let mut conn = Connection::new(Limits::default());
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8 * 1024];
    let mut phase = conn.phase();
    let mut deadline = Instant::now() + HEAD_TIMEOUT;
    loop {
        let mut answered = false;
        let answer = loop {
            let answer = conn.answer(&mut out, app::respond);
            if !out.is_empty() {
                write_all_within(&mut stream, &out).await?;
                out.clear();
                answered = true;
            }
            if answer != Answer::Again {
                break answer;
            }
        };
        if answer == Answer::Close {
            let _ = stream.shutdown().await;
            return Ok(());
        }
        if answered || conn.phase() != phase {
            phase = conn.phase();
            if !conn.is_new() {
                deadline = Instant::now() + timeout_for(phase);
            }
        }
        if *mode.borrow() == Mode::Draining {
            if phase == Phase::Idle {
                return Ok(());
            }
            conn.close_after_current();
        }
        let read = tokio::select! {
            biased;
            read = tokio::time::timeout_at(deadline, stream.read(&mut buf)) => read,
            Ok(()) = mode.changed() => {
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
            Err(_) if phase == Phase::Idle => return Ok(()),
            Err(_) => {
                conn.fail(Error::Timeout, &mut out);
                write_all_within(&mut stream, &out).await?;
                return Ok(());
            }
        }
    }
}

/// Accepts on `listener` and serves each connection in a task, at most `max` at a time.
async fn accept_loop(listener: TcpListener, max: usize) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(max));
    let (mode, _) = watch::channel(Mode::Serving);
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                mode.send_replace(Mode::Full);
                let permit = permits.clone().acquire_owned().await;
                mode.send_replace(Mode::Serving);
                permit.expect("never closed")
            }
        };
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let mode = mode.subscribe();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = serve(stream, mode).await {
                eprintln!("tokio_http: connection error: {e}");
            }
        });
    }
}

/// A listener on `port` that shares the port with the other threads' (`SO_REUSEPORT`): the
/// kernel spreads connections between them.
fn reuseport_listener(port: u16) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(([127, 0, 0, 1], port).into())?;
    socket.listen(1024)
}

/// Thread-per-core on tokio: `n` threads, each with its own current_thread runtime and its
/// own listener on the shared port, serving what it accepts and sharing nothing. The
/// "listening" line comes once every thread has bound its listener.
fn per_core(port: u16, n: usize) -> std::io::Result<()> {
    let (bound, listening) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let bound = bound.clone();
            std::thread::spawn(move || -> std::io::Result<()> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async move {
                    let listener = reuseport_listener(port);
                    let _ = bound.send(listener.as_ref().map(|_| ()).map_err(|e| e.kind()));
                    accept_loop(listener?, MAX_CONNECTIONS / n).await
                })
            })
        })
        .collect();
    drop(bound);
    for _ in 0..n {
        match listening.recv() {
            Ok(Ok(())) => {}
            Ok(Err(kind)) => return Err(std::io::Error::new(kind, "a thread could not listen")),
            Err(_) => {
                return Err(std::io::Error::other(
                    "a server thread ended before listening",
                ))
            }
        }
    }
    eprintln!("tokio_http: {n} threads listening on http://127.0.0.1:{port}");
    for t in threads {
        t.join().expect("a server thread panicked")?;
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args
        .first()
        .map(|p| p.parse().expect("the port must be a number"))
        .unwrap_or(8081);
    let count = |flag: &str| -> usize {
        args.get(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{flag} takes a number"))
    };
    let workers: Option<usize> = match args.get(1).map(String::as_str) {
        Some("--workers") => Some(count("--workers")),
        Some("--per-core") => return per_core(port, count("--per-core").max(1)),
        Some(other) => panic!("unknown option {other}"),
        None => None,
    };
    let rt = match workers {
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        eprintln!("tokio_http: listening on http://{}", listener.local_addr()?);
        accept_loop(listener, MAX_CONNECTIONS).await
    })
}
