//! Memory beside time: what a task, a timer and a channel cost in bytes, on weft and on tokio.
//!
//! ```text
//! cargo run --release --example memory -- heap <weft|tokio>
//! cargo run --release --example memory -- rss <tasks|timers> <weft|tokio> [n]
//! ```
//!
//! * `heap`: a counting global allocator gives the live heap bytes and the allocations each
//!   thing adds: an idle task (a spawned `pending()` future, polled once, handle dropped; the
//!   runtime's own bookkeeping per task, such as a task-list slot, included), a
//!   registered `Sleep` (polled once; its own size counted too, as it lives in the caller's
//!   memory), and one channel of each kind right after it is made (the handles' own sizes
//!   counted too). Averages over `HEAP_N` of each. Prints `name bytes allocations` lines.
//! * `rss`: the process's resident memory (`VmRSS`, `VmHWM` from `/proc/self/status`)
//!   before and after spawning `n` (default 1,000,000) tasks that wait forever (`tasks`), or
//!   that each wait on a one-hour sleep (`timers`); all polled once. Run each in its own
//!   process so the figures do not mix. Prints `name value` lines.
//!
//! `cargo xtask bench` runs every case in a child process and puts the figures in
//! BENCHMARKS.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

/// Counts live heap bytes and allocations made, for the `heap` figures.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: forwarded: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many of each thing the `heap` figures average over.
const HEAP_N: usize = 10_000;
/// How many tasks the `heap` figure for a task averages over: a power of two, so that the
/// runtime's own lists, which grow by doubling, hold no slack (their share per task is in the
/// figure: a fresh runtime, `n` tasks).
const TASKS_N: usize = 16_384;
/// The default count for `rss`.
const RSS_N: usize = 1_000_000;

/// Heap bytes and allocations that `make` adds per item, for `n` items kept alive until
/// measured (in `keep`, allocated beforehand so that it is not counted), plus `extra` bytes
/// per item that live outside the heap (sizes of handles held by the caller).
fn per_item<T>(name: &str, n: usize, extra: usize, mut make: impl FnMut() -> T) {
    let mut keep = Vec::with_capacity(n);
    let (live0, allocs0) = (LIVE.load(Relaxed), ALLOCS.load(Relaxed));
    for _ in 0..n {
        keep.push(make());
    }
    let (live1, allocs1) = (LIVE.load(Relaxed), ALLOCS.load(Relaxed));
    let bytes = (live1 - live0) as f64 / n as f64 + extra as f64;
    let allocs = (allocs1 - allocs0) as f64 / n as f64;
    println!("{name} {bytes:.1} {allocs:.2}");
    drop(black_box(keep));
}

/// The same heap figures for tasks, measured inside a runtime: live bytes added by `n` tasks
/// spawned by `spawn` (handles dropped) once `settle` has let each run once (it awaits a task
/// spawned after them: both runtimes run their local queue in order).
async fn per_task<S: Future>(
    name: &str,
    n: usize,
    mut spawn: impl FnMut(),
    settle: impl FnOnce() -> S,
) {
    let (live0, allocs0) = (LIVE.load(Relaxed), ALLOCS.load(Relaxed));
    for _ in 0..n {
        spawn();
    }
    settle().await;
    let (live1, allocs1) = (LIVE.load(Relaxed), ALLOCS.load(Relaxed));
    let bytes = (live1 - live0) as f64 / n as f64;
    let allocs = (allocs1 - allocs0) as f64 / n as f64;
    println!("{name} {bytes:.1} {allocs:.2}");
}

/// The heap figures, written once against the names each runtime's module brings into scope:
/// `runtime()`, `spawn`, `settle`, `unconstrained`, `Instant`, the channel modules
/// (`broadcast`, `mpsc`, `oneshot`, `watch`), and `Held` / `hold` / `SLEEP_OUTSIDE_HEAP`
/// for sleeps (weft's `Sleep` is `Unpin` and held as it is, so its own size is added;
/// tokio's is `!Unpin` and boxed, so its size is in the heap figure).
macro_rules! heap_figures {
    () => {
        pub fn heap() {
            let rt = runtime();
            rt.block_on(async {
                per_task(
                    "task",
                    TASKS_N,
                    || drop(spawn(std::future::pending::<()>())),
                    settle,
                )
                .await;
                let far = Instant::now() + Duration::from_secs(3600);
                let mut sleeps: Vec<Held> = Vec::with_capacity(HEAP_N);
                let (live0, allocs0) = (LIVE.load(Relaxed), ALLOCS.load(Relaxed));
                for _ in 0..HEAP_N {
                    sleeps.push(hold(far));
                }
                // Unconstrained: the cooperative budget would make all but the first 128
                // polls return Pending without registering.
                unconstrained(std::future::poll_fn(|cx| {
                    for s in sleeps.iter_mut() {
                        let _ = std::pin::Pin::new(s).poll(cx);
                    }
                    std::task::Poll::Ready(())
                }))
                .await;
                let (live1, allocs1) = (LIVE.load(Relaxed), ALLOCS.load(Relaxed));
                println!(
                    "sleep {:.1} {:.2}",
                    (live1 - live0) as f64 / HEAP_N as f64 + SLEEP_OUTSIDE_HEAP as f64,
                    (allocs1 - allocs0) as f64 / HEAP_N as f64
                );
                drop(sleeps);
            });
            let (tx, rx) = oneshot::channel::<u64>();
            per_item(
                "oneshot",
                HEAP_N,
                std::mem::size_of_val(&tx) + std::mem::size_of_val(&rx),
                oneshot::channel::<u64>,
            );
            let (tx, rx) = mpsc::channel::<u64>(16);
            let sizes = std::mem::size_of_val(&tx) + std::mem::size_of_val(&rx);
            per_item("mpsc_16", HEAP_N, sizes, || mpsc::channel::<u64>(16));
            per_item("mpsc_1024", HEAP_N / 10, sizes, || {
                mpsc::channel::<u64>(1024)
            });
            let (tx, rx) = mpsc::unbounded_channel::<u64>();
            let sizes = std::mem::size_of_val(&tx) + std::mem::size_of_val(&rx);
            per_item(
                "mpsc_unbounded",
                HEAP_N,
                sizes,
                mpsc::unbounded_channel::<u64>,
            );
            let (tx, rx) = broadcast::channel::<u64>(16);
            let sizes = std::mem::size_of_val(&tx) + std::mem::size_of_val(&rx);
            per_item("broadcast_16", HEAP_N, sizes, || {
                broadcast::channel::<u64>(16)
            });
            let (tx, rx) = watch::channel(0u64);
            per_item(
                "watch",
                HEAP_N,
                std::mem::size_of_val(&tx) + std::mem::size_of_val(&rx),
                || watch::channel(0u64),
            );
        }
    };
}

mod on_weft {
    use super::*;
    use weft::coop::unconstrained;
    use weft::spawn;
    use weft::sync::{broadcast, mpsc, oneshot, watch};
    use weft::time::Instant;

    /// Returns once every task spawned before has been polled once.
    pub async fn settle() {
        spawn(async {}).await.unwrap();
    }

    fn runtime() -> weft::Runtime {
        weft::Runtime::new().expect("weft runtime")
    }
    type Held = weft::time::Sleep;
    fn hold(at: Instant) -> Held {
        weft::time::sleep_until(at)
    }
    const SLEEP_OUTSIDE_HEAP: usize = std::mem::size_of::<Held>();
    heap_figures!();
}

mod on_tokio {
    use super::*;
    use tokio::sync::{broadcast, mpsc, oneshot, watch};
    use tokio::task::{spawn, unconstrained};

    /// Returns once every task spawned before has been polled once.
    pub async fn settle() {
        spawn(async {}).await.unwrap();
    }
    use tokio::time::Instant;

    fn runtime() -> tokio::runtime::Runtime {
        super::tokio_rt()
    }
    type Held = std::pin::Pin<Box<tokio::time::Sleep>>;
    fn hold(at: Instant) -> Held {
        Box::pin(tokio::time::sleep_until(at))
    }
    const SLEEP_OUTSIDE_HEAP: usize = 0;
    heap_figures!();
}

/// `VmRSS` and `VmHWM` in KiB, from `/proc/self/status`.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn rss(what: &str, runtime: &str, n: usize) {
    let hour = Duration::from_secs(3600);
    let before = rss_kib();
    match (what, runtime) {
        ("tasks", "weft") => weft::Runtime::new().expect("weft").block_on(async {
            for _ in 0..n {
                drop(weft::spawn(std::future::pending::<()>()));
            }
            on_weft::settle().await;
            report(before, n);
        }),
        ("timers", "weft") => weft::Runtime::new().expect("weft").block_on(async {
            for _ in 0..n {
                drop(weft::spawn(weft::time::sleep(hour)));
            }
            on_weft::settle().await;
            report(before, n);
        }),
        ("tasks", "tokio") => tokio_rt().block_on(async {
            for _ in 0..n {
                drop(tokio::spawn(std::future::pending::<()>()));
            }
            on_tokio::settle().await;
            report(before, n);
        }),
        ("timers", "tokio") => tokio_rt().block_on(async {
            for _ in 0..n {
                drop(tokio::spawn(tokio::time::sleep(hour)));
            }
            on_tokio::settle().await;
            report(before, n);
        }),
        _ => usage(),
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn report((rss0, _): (u64, u64), n: usize) {
    let (rss1, hwm) = rss_kib();
    println!("rss_before_kib {rss0}");
    println!("rss_after_kib {rss1}");
    println!("hwm_kib {hwm}");
    println!(
        "bytes_per_item {:.1}",
        (rss1 - rss0) as f64 * 1024.0 / n as f64
    );
}

fn usage() -> ! {
    eprintln!("usage: memory heap <weft|tokio> | memory rss <tasks|timers> <weft|tokio> [n]");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["heap", "weft"] => on_weft::heap(),
        ["heap", "tokio"] => on_tokio::heap(),
        ["rss", what, runtime] => rss(what, runtime, RSS_N),
        ["rss", what, runtime, n] => rss(what, runtime, n.parse().unwrap_or_else(|_| usage())),
        _ => usage(),
    }
}
