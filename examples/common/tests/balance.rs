//! `serve_workers` spreads connections evenly over its workers, whatever the kernel's
//! `SO_REUSEPORT` hash does: a worker serving two more connections than another hands the
//! next one it accepts over (see `examples_common::workers`).
//!
//! 200 connections held open at once: with the kernel's hash alone the two workers' shares
//! differ by about 7 (one standard deviation of a fair coin over 200 tosses) and are within 2
//! of each other about one time in six; with the hand-over they always are.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use examples_common::workers::{serve_workers, Plan};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::workers::WorkersHandle;

const WORKERS: usize = 2;
const CONNECTIONS: usize = 200;

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn connections_are_spread_evenly_and_handed_over_ones_are_served() {
    let port = free_port();
    let plan = Plan {
        program: "balance-test",
        workers: WORKERS,
        port,
        max_connections: 1024,
        drain_timeout: Duration::from_secs(2),
        scheme: "",
    };
    let handle: Arc<Mutex<Option<WorkersHandle>>> = Arc::default();
    let h = handle.clone();
    let server = std::thread::spawn(move || {
        serve_workers(plan, move |worker| {
            *h.lock().unwrap() = Some(worker.handle().clone());
            let id = worker.id() as u8;
            // Each connection: say which worker serves it, then stay until the client leaves.
            move |mut stream: weft::net::TcpStream, _mode| async move {
                stream.write_all(&[id]).await?;
                let mut rest = Vec::new();
                stream.read_to_end(&mut rest).await?;
                Ok(())
            }
        })
    });

    // Worker 0 binds first; until worker 1 has bound too, worker 0 accepts everything (and
    // hands every second connection over). Connect until the port answers, within a bound.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut clients = Vec::new();
    let mut by_worker = [0usize; WORKERS];
    while clients.len() < CONNECTIONS {
        let mut c = match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(c) => c,
            Err(e) => {
                assert!(clients.is_empty() && Instant::now() < deadline, "{e}");
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut who = [0u8; 1];
        c.read_exact(&mut who).unwrap();
        by_worker[usize::from(who[0])] += 1;
        clients.push(c);
    }
    let (a, b) = (by_worker[0], by_worker[1]);
    assert!(a.abs_diff(b) <= 2, "connections per worker: {by_worker:?}");

    // The clients leave; the workers stop and drain.
    drop(clients);
    let stop = handle.lock().unwrap().clone().expect("the workers started");
    stop.shutdown();
    server.join().unwrap().unwrap();
}
