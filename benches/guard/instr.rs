//! The workloads of the instruction-count guard (`cargo xtask instr`), on weft or on tokio.
//!
//! ```text
//! instr <workload> <weft|tokio> <n>
//! ```
//!
//! Runs one workload of `n` operations inside a spawned main task and prints the number of
//! operations it performed on stdout. The guard runs it under `valgrind --tool=callgrind` at
//! two sizes and divides the difference of the two totals by the difference of the operation
//! counts: the runtime's construction, process start-up and everything else that does not
//! grow with `n` cancel out, and what is left is the cost of one operation. The workloads
//! start no thread and wait for nothing but one timer, so the same binary gives the same
//! count twice, up to a few branches on the clock's value (`cargo xtask instr --verify`).
//!
//! Each runtime uses its own primitives: weft's `spawn`, `yield_now`, channels, `Mutex` and
//! timers beside tokio's (current_thread runtime, built as `benches/*.rs` build it).
//!
//! | workload | one operation |
//! |---|---|
//! | `spawn` | spawn a task that returns at once, await its handle (`n` tasks spawned first) |
//! | `yield` | one `yield_now` (10 tasks yielding `n / 10` times each) |
//! | `chained_spawn` | a task spawning the next (depth `n`) |
//! | `ping_pong` | a round trip between two tasks over two capacity-1 mpsc channels |
//! | `mpsc_throughput` | a message from one task to another, capacity 1,024 |
//! | `oneshot` | create a oneshot, spawn a task that sends on it, await the receiver and the task |
//! | `broadcast` | one value delivered to one of 16 receiver tasks |
//! | `mutex` | lock and unlock an uncontended async `Mutex` |
//! | `watch_select` | one turn of a `select!` loop (a server's, waiting on a shutdown `watch`): a `yield_now` wins, the pending `changed()` beside it is dropped |
//! | `timer_insert_cancel` | create a sleep (deadlines spread over 10 s), poll it once, drop it (`n` sleeps alive at once) |
//! | `timer_fire` | a task sleeping until its deadline (spread over 64 ms), woken by it: the driver finds all `n` expired at once |
//!
//! This file is also built in the workspace (the example `instr`) so that clippy and rustfmt
//! see it; the guard builds it on its own against any weft checkout (`--checkout DIR`).

use std::future::Future;
use std::hint::black_box;
use std::time::Duration;

mod insert_cancel;
use insert_cancel::insert_then_cancel;

/// The workloads the binary knows, in the guard's order.
const WORKLOADS: &[&str] = &[
    "spawn",
    "yield",
    "chained_spawn",
    "ping_pong",
    "mpsc_throughput",
    "oneshot",
    "broadcast",
    "mutex",
    "watch_select",
    "timer_insert_cancel",
    "timer_fire",
];

/// Tasks in `yield`.
const YIELD_TASKS: u64 = 10;
/// Receivers in `broadcast`.
const FANOUT: u64 = 16;
/// Capacity in `mpsc_throughput`.
const CAPACITY: usize = 1_024;
/// How far in the future `timer_fire`'s first deadline lies. Both wheels count 1 ms ticks
/// from the runtime's start, with levels of 64 slots: deadlines about 1 s after the start
/// sit on level 1 while the wheel's current tick is in an earlier 64 ms stretch, and every
/// sleep then takes the same path. So every task must register its sleep at least
/// `FIRE_MARGIN` before the first deadline, under callgrind too: checked, and the run fails
/// if not.
const FIRE_AFTER: Duration = Duration::from_secs(1);
/// The margin before `timer_fire`'s first deadline by which every sleep must be registered.
const FIRE_MARGIN: Duration = Duration::from_millis(64);
/// `timer_fire`'s deadlines are spread evenly over this many milliseconds, the same number
/// of sleeps in each. With one shared deadline, the run in 64 where it falls on the first
/// tick of a 64 ms stretch costs weft 100 instructions a sleep more (the sleeps skip level 0
/// and reach the ready heap in reverse order); spread evenly, one tick in 64 is such a tick
/// in every run, whatever the clock's phase.
const FIRE_SPREAD: Duration = Duration::from_millis(64);
/// How long past `timer_fire`'s last deadline the thread wakes from its blocking sleep.
const FIRE_PAST: Duration = Duration::from_millis(5);

/// `n` pseudo-random offsets in `[32 ms, 10 s)`, the same for every runtime and run. Each
/// lies 32 ms into a 64 ms stretch: both wheels have levels of 64 one-millisecond slots, and
/// which level a timer goes to depends on its deadline relative to the wheel's current
/// tick. A few milliseconds more or less between the runtime's start and this workload's
/// (callgrind is slow, and other load varies) then never moves a timer to another level,
/// which would change the instructions it costs.
fn offsets(n: u64) -> Vec<Duration> {
    let mut x: u64 = 1;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let stretch = (x >> 33) % 156; // 156 x 64 ms < 10 s
            Duration::from_millis(stretch * 64 + 32) + Duration::from_nanos((x >> 8) % 1_000_000)
        })
        .collect()
}

/// The workloads, written once against the names each runtime's module brings into scope:
/// `spawn`, `join`, `yield_now`, `mpsc`, `oneshot`, `broadcast`, `watch`, `select`, `Mutex`,
/// `Instant`, `sleep_until` and `unconstrained`. Each returns the number of operations it
/// performed.
macro_rules! workloads {
    () => {
        pub async fn spawn_many(n: u64) -> u64 {
            let handles: Vec<_> = (0..n).map(|i| spawn(async move { black_box(i) })).collect();
            for h in handles {
                black_box(join(h).await);
            }
            n
        }

        pub async fn yield_many(n: u64) -> u64 {
            let per_task = n / YIELD_TASKS;
            let handles: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    spawn(async move {
                        for _ in 0..per_task {
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                join(h).await;
            }
            per_task * YIELD_TASKS
        }

        fn chain(depth: u64, done: oneshot::Sender<u64>) {
            if depth == 0 {
                let _ = done.send(0);
            } else {
                drop(spawn(async move { chain(depth - 1, done) }));
            }
        }

        pub async fn chained_spawn(n: u64) -> u64 {
            let (tx, rx) = oneshot::channel();
            chain(n, tx);
            rx.await.unwrap();
            n
        }

        pub async fn ping_pong(n: u64) -> u64 {
            let (to_b, mut from_a) = mpsc::channel::<u64>(1);
            let (to_a, mut from_b) = mpsc::channel::<u64>(1);
            let b = spawn(async move {
                while let Some(v) = from_a.recv().await {
                    to_a.send(v + 1).await.unwrap();
                }
            });
            let mut v = 0;
            for _ in 0..n {
                to_b.send(v).await.unwrap();
                v = from_b.recv().await.unwrap();
            }
            assert_eq!(v, n);
            drop(to_b);
            join(b).await;
            n
        }

        pub async fn mpsc_throughput(n: u64) -> u64 {
            let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
            let producer = spawn(async move {
                for i in 0..n {
                    tx.send(i).await.unwrap();
                }
            });
            let consumer = spawn(async move {
                let mut sum = 0u64;
                while let Some(v) = rx.recv().await {
                    sum = sum.wrapping_add(v);
                }
                sum
            });
            join(producer).await;
            black_box(join(consumer).await);
            n
        }

        pub async fn oneshots(n: u64) -> u64 {
            for i in 0..n {
                let (tx, rx) = oneshot::channel();
                let h = spawn(async move { tx.send(i).unwrap() });
                assert_eq!(rx.await.unwrap(), i);
                join(h).await;
            }
            n
        }

        pub async fn broadcast_fanout(n: u64) -> u64 {
            let (tx, rx) = broadcast::channel::<u64>(n.max(1) as usize);
            let receivers: Vec<_> = (0..FANOUT)
                .map(|_| {
                    let mut rx = rx.resubscribe();
                    spawn(async move {
                        let mut got = 0u64;
                        while let Ok(v) = rx.recv().await {
                            got += 1;
                            black_box(v);
                        }
                        got
                    })
                })
                .collect();
            drop(rx);
            for i in 0..n {
                tx.send(i).unwrap();
            }
            drop(tx);
            for r in receivers {
                assert_eq!(join(r).await, n);
            }
            n * FANOUT
        }

        pub async fn mutex(n: u64) -> u64 {
            let m = Mutex::new(0u64);
            for i in 0..n {
                *m.lock().await += i;
            }
            black_box(m.into_inner());
            n
        }

        pub async fn watch_select(n: u64) -> u64 {
            let (tx, mut rx) = watch::channel(0u64);
            let mut turns = 0;
            for _ in 0..n {
                // `yield_now` is pending once (so `changed()` is polled and waits), then wins.
                select! {
                    biased;
                    () = yield_now() => turns += 1,
                    changed = rx.changed() => changed.unwrap(),
                }
            }
            drop(tx);
            black_box(turns)
        }

        pub async fn timer_insert_cancel(n: u64) -> u64 {
            let offs = offsets(n);
            let mut buf = Vec::with_capacity(offs.len());
            let base = Instant::now();
            unconstrained(insert_then_cancel(&mut buf, &offs, |o| {
                sleep_until(base + o)
            }))
            .await;
            n
        }

        pub async fn timer_fire(n: u64) -> u64 {
            let first = Instant::now() + FIRE_AFTER;
            let deadline = first + FIRE_SPREAD;
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    let at = first + Duration::from_millis(i % FIRE_SPREAD.as_millis() as u64);
                    spawn(async move { sleep_until(at).await })
                })
                .collect();
            // Every task runs once (registering its sleep) before this one runs again.
            yield_now().await;
            if Instant::now() + FIRE_MARGIN >= first {
                eprintln!(
                    "instr: timer_fire: registering {n} sleeps took longer than {:?}",
                    FIRE_AFTER - FIRE_MARGIN
                );
                std::process::exit(3);
            }
            // Block the thread until past the last deadline: the driver's next poll then finds
            // every sleep expired and fires them in one batch. Parking until the deadlines
            // instead would make the count depend on timing: how many sleeps a wake finds
            // due, and whether it comes a little before an exact deadline (weft keeps
            // nanoseconds) or after.
            std::thread::sleep(deadline.duration_since(Instant::now()) + FIRE_PAST);
            for h in handles {
                join(h).await;
            }
            n
        }

        /// Runs `workload` with `n` operations in a task spawned by `block_on` (`None`: unknown).
        pub fn run(workload: &str, n: u64) -> Option<u64> {
            Some(match workload {
                "spawn" => block_on(spawn_many(n)),
                "yield" => block_on(yield_many(n)),
                "chained_spawn" => block_on(chained_spawn(n)),
                "ping_pong" => block_on(ping_pong(n)),
                "mpsc_throughput" => block_on(mpsc_throughput(n)),
                "oneshot" => block_on(oneshots(n)),
                "broadcast" => block_on(broadcast_fanout(n)),
                "mutex" => block_on(mutex(n)),
                "watch_select" => block_on(watch_select(n)),
                "timer_insert_cancel" => block_on(timer_insert_cancel(n)),
                "timer_fire" => block_on(timer_fire(n)),
                _ => return None,
            })
        }
    };
}

mod on_weft {
    use super::*;
    use weft::coop::unconstrained;
    use weft::select;
    use weft::spawn;
    use weft::sync::{broadcast, mpsc, oneshot, watch, Mutex};
    use weft::time::{sleep_until, Instant};
    use weft::yield_now;

    async fn join<T>(h: weft::JoinHandle<T>) -> T {
        h.await.unwrap()
    }

    /// Builds a runtime as users get it and runs `fut` in a task spawned on it.
    fn block_on<T: 'static>(fut: impl Future<Output = T> + 'static) -> T {
        let rt = weft::Runtime::new().expect("weft runtime");
        let main = rt.spawn(fut);
        rt.block_on(main).unwrap()
    }

    workloads!();
}

mod on_tokio {
    use super::*;
    use tokio::select;
    use tokio::sync::{broadcast, mpsc, oneshot, watch, Mutex};
    use tokio::task::{spawn, unconstrained, yield_now};
    use tokio::time::{sleep_until, Instant};

    async fn join<T>(h: tokio::task::JoinHandle<T>) -> T {
        h.await.unwrap()
    }

    /// Builds a current_thread runtime (with the timer, which the timer workloads need) and
    /// runs `fut` in a task spawned on it.
    fn block_on<T: Send + 'static>(fut: impl Future<Output = T> + Send + 'static) -> T {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("tokio runtime");
        let main = rt.spawn(fut);
        rt.block_on(main).unwrap()
    }

    workloads!();
}

fn usage() -> ! {
    eprintln!(
        "usage: instr <workload> <weft|tokio> <n>; workloads: {}",
        WORKLOADS.join(", ")
    );
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [workload, runtime, n] = &args[..] else {
        usage()
    };
    let Ok(n) = n.parse::<u64>() else { usage() };
    let ops = match runtime.as_str() {
        "weft" => on_weft::run(workload, n),
        "tokio" => on_tokio::run(workload, n),
        _ => usage(),
    };
    match ops {
        Some(ops) => println!("{ops}"),
        None => usage(),
    }
}
