//! A standalone loop of the channel benches' workloads on one weft runtime, for counting
//! instructions with callgrind (`benches/channel_instr.sh`) or timing alternating runs.
//!
//! ```text
//! cargo run --release --example mpsc_loop -- <workload> [rounds] [capacity]
//! ```
//!
//! * `weft`, `kanal`: one producer task, one consumer task, capacity 1,024 (or `capacity`),
//!   1,000,000 u64 (the `mpsc_throughput` bench) over weft's bounded mpsc or kanal's bounded
//!   async channel.
//! * `weft_threads`, `kanal_threads`: the same, with the producer on a second thread (its own
//!   weft runtime); the channel is made on the consumer's thread.
//! * `ping_pong`: two tasks, 100,000 round trips over two capacity-1 weft channels.
//! * `oneshot`, `tokio_oneshot`: 100,000 times, create a oneshot (weft's or tokio's), send
//!   from a spawned task, await it (the `oneshot` bench).
//!
//! * `queue`: the `weft` workload over weft's asyncio-style `Queue` (maxsize 1,024 or
//!   `capacity`; the consumer stops after `MESSAGES` gets).
//! * `mutex`, `tokio_mutex`: 1,000,000 times, lock and unlock an uncontended async mutex
//!   (weft's or tokio's) from one task.
//! * `mutex_contended`, `tokio_mutex_contended`: two tasks take turns, 1,000,000 locks in
//!   all; each holds the lock across a `yield_now`, so every lock waits in the queue.
//!
//! Prints ns per message (per round trip for `ping_pong`) for each round on stderr.

use std::hint::black_box;
use std::time::Instant;

const MESSAGES: u64 = 1_000_000;
/// The default capacity (the bench's).
const CAPACITY: usize = 1_024;
const ROUND_TRIPS: u64 = 100_000;
const ONESHOTS: u64 = 100_000;

/// The mpsc_throughput bench's loop: `$channel` gives `(tx, rx)`, and `$received` is the
/// pattern a successful `rx.recv().await` matches (weft's gives an `Option`, kanal's a
/// `Result`).
macro_rules! throughput_loop {
    ($channel:expr, $received:pat => $v:ident) => {{
        #[allow(unused_mut)] // weft's `recv` takes `&mut self`, kanal's `&self`
        let (tx, mut rx) = $channel;
        let producer = weft::spawn(async move {
            for i in 0..MESSAGES {
                tx.send(i).await.unwrap();
            }
        });
        let consumer = weft::spawn(async move {
            let mut sum = 0u64;
            while let $received = rx.recv().await {
                sum = sum.wrapping_add($v);
            }
            sum
        });
        producer.await.unwrap();
        black_box(consumer.await.unwrap());
    }};
}

/// As `throughput_loop`, with the producer on a second thread running its own runtime.
macro_rules! cross_thread_loop {
    ($channel:expr, $received:pat => $v:ident) => {{
        #[allow(unused_mut)] // as above
        let (tx, mut rx) = $channel;
        let producer = std::thread::spawn(move || {
            weft::run(async move {
                for i in 0..MESSAGES {
                    tx.send(i).await.unwrap();
                }
            })
        });
        let mut sum = 0u64;
        while let $received = rx.recv().await {
            sum = sum.wrapping_add($v);
        }
        black_box(sum);
        producer.join().unwrap();
    }};
}

async fn weft_throughput(cap: usize) {
    throughput_loop!(weft::sync::mpsc::channel::<u64>(cap), Some(v) => v);
}

async fn kanal_throughput(cap: usize) {
    throughput_loop!(kanal::bounded_async::<u64>(cap), Ok(v) => v);
}

async fn weft_cross_thread(cap: usize) {
    cross_thread_loop!(weft::sync::mpsc::channel::<u64>(cap), Some(v) => v);
}

async fn kanal_cross_thread(cap: usize) {
    cross_thread_loop!(kanal::bounded_async::<u64>(cap), Ok(v) => v);
}

async fn ping_pong() {
    let (to_b, mut from_a) = weft::sync::mpsc::channel::<u64>(1);
    let (to_a, mut from_b) = weft::sync::mpsc::channel::<u64>(1);
    let b = weft::spawn(async move {
        while let Some(v) = from_a.recv().await {
            to_a.send(v + 1).await.unwrap();
        }
    });
    let a = weft::spawn(async move {
        let mut v = 0;
        for _ in 0..ROUND_TRIPS {
            to_b.send(v).await.unwrap();
            v = from_b.recv().await.unwrap();
        }
        v
    });
    assert_eq!(a.await.unwrap(), ROUND_TRIPS);
    b.await.unwrap();
}

/// The oneshot bench's loop over a `channel()` function (weft's or tokio's oneshot).
macro_rules! oneshot_loop {
    ($channel:path) => {
        for i in 0..ONESHOTS {
            let (tx, rx) = $channel();
            let h = weft::spawn(async move { tx.send(i).unwrap() });
            assert_eq!(rx.await.unwrap(), i);
            h.await.unwrap();
        }
    };
}

async fn queue_throughput(cap: usize) {
    let q = weft::Queue::new(cap);
    let producer = weft::spawn({
        let q = q.clone();
        async move {
            for i in 0..MESSAGES {
                q.put(i).await;
            }
        }
    });
    let consumer = weft::spawn(async move {
        let mut sum = 0u64;
        for _ in 0..MESSAGES {
            sum = sum.wrapping_add(q.get().await);
        }
        sum
    });
    producer.await.unwrap();
    black_box(consumer.await.unwrap());
}

/// Lock and unlock an uncontended mutex `MESSAGES` times.
macro_rules! mutex_loop {
    ($mutex:expr) => {{
        let m = $mutex;
        for i in 0..MESSAGES {
            *m.lock().await += i;
        }
        black_box(m.into_inner());
    }};
}

/// Two tasks take a mutex `MESSAGES` times in all, yielding while they hold it.
macro_rules! contended_mutex_loop {
    ($mutex:expr) => {{
        let m = std::sync::Arc::new($mutex);
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let m = m.clone();
                weft::spawn(async move {
                    for i in 0..MESSAGES / 2 {
                        let mut g = m.lock().await;
                        *g += i;
                        weft::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        black_box(*m.lock().await);
    }};
}

async fn mutexes() {
    mutex_loop!(weft::sync::Mutex::new(0u64));
}

async fn tokio_mutexes() {
    mutex_loop!(tokio::sync::Mutex::new(0u64));
}

async fn contended_mutexes() {
    contended_mutex_loop!(weft::sync::Mutex::new(0u64));
}

async fn tokio_contended_mutexes() {
    contended_mutex_loop!(tokio::sync::Mutex::new(0u64));
}

async fn oneshots() {
    oneshot_loop!(weft::sync::oneshot::channel);
}

async fn tokio_oneshots() {
    oneshot_loop!(tokio::sync::oneshot::channel);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "weft".to_string());
    let rounds: u32 = args
        .next()
        .map_or(3, |s| s.parse().expect("rounds: a number"));
    let cap: usize = args
        .next()
        .map_or(CAPACITY, |s| s.parse().expect("capacity: a number"));
    let per = match which.as_str() {
        "weft"
        | "kanal"
        | "weft_threads"
        | "kanal_threads"
        | "mutex"
        | "tokio_mutex"
        | "queue"
        | "mutex_contended"
        | "tokio_mutex_contended" => MESSAGES,
        "ping_pong" => ROUND_TRIPS,
        "oneshot" | "tokio_oneshot" => ONESHOTS,
        other => {
            eprintln!(
                "mpsc_loop: unknown workload {other:?} \
                 (weft, kanal, weft_threads, kanal_threads, ping_pong, oneshot, \
                 tokio_oneshot, queue, mutex, tokio_mutex, mutex_contended or \
                 tokio_mutex_contended)"
            );
            std::process::exit(2);
        }
    };
    weft::run(async move {
        for _ in 0..rounds {
            let start = Instant::now();
            match which.as_str() {
                "weft" => weft_throughput(cap).await,
                "kanal" => kanal_throughput(cap).await,
                "weft_threads" => weft_cross_thread(cap).await,
                "kanal_threads" => kanal_cross_thread(cap).await,
                "ping_pong" => ping_pong().await,
                "oneshot" => oneshots().await,
                "mutex" => mutexes().await,
                "queue" => queue_throughput(cap).await,
                "mutex_contended" => contended_mutexes().await,
                "tokio_mutex_contended" => tokio_contended_mutexes().await,
                "tokio_mutex" => tokio_mutexes().await,
                _ => tokio_oneshots().await,
            }
            let ns = start.elapsed().as_nanos() as f64 / per as f64;
            eprintln!("{which}: {ns:.1} ns");
        }
    });
}
