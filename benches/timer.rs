//! Timer benches: weft beside tokio's current_thread runtime and async-io, on the same
//! workloads in the same run.
//!
//! * `timer_insert_cancel`: 100,000 sleeps with deadlines spread over 10 s (in a fixed
//!   pseudo-random order), each polled once so that it registers, then all dropped (cancelled).
//!   Criterion reports the time per batch; the summary reports it per sleep.
//! * `timer_fire`: 10,000 sleeps of 1–10 ms, one task each, awaited concurrently. Reported:
//!   the total time, and the mean lateness past each deadline (as seen by the woken task).
//!
//! weft runs as users get it (`weft::Runtime::new()`, `weft::time`). Every measurement is
//! taken inside a spawned main task (async-io: a task on async-executor's `LocalExecutor`,
//! driven by `async_io::block_on`), with the runtime built outside the timed region. glibc is told to keep freed memory (`mallopt`, for every column alike), so page
//! faults on refaulted memory do not add noise. After criterion, `cargo bench` also prints an
//! interleaved summary (one repetition of each runtime per round; medians of per-round ratios)
//! with the load that other processes put on the machine during each round.
//!
//! ```text
//! cargo bench --bench timer -- --warm-up-time 1 --measurement-time 3
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};

#[path = "guard/insert_cancel.rs"]
mod insert_cancel;
use insert_cancel::insert_then_cancel;

const INSERT_N: usize = 100_000;
const FIRE_N: usize = 10_000;
const ROUNDS: usize = 9;

/// `n` pseudo-random durations in `[lo, hi)`, the same for every runtime.
fn offsets(n: usize, lo: Duration, hi: Duration, seed: u64) -> Arc<[Duration]> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let r = (x >> 11) as f64 / (1u64 << 53) as f64;
            lo + (hi - lo).mul_f64(r)
        })
        .collect()
}

/// Sums the lateness of woken tasks.
#[derive(Default)]
struct Lateness(AtomicU64);

impl Lateness {
    fn record(&self, deadline: Instant) {
        let late = Instant::now().saturating_duration_since(deadline);
        self.0.fetch_add(late.as_nanos() as u64, Ordering::Relaxed);
    }

    fn mean(&self, n: usize) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed) / n as u64)
    }
}

mod weft_side {
    use super::*;
    use weft::spawn;

    pub type Sleep = weft::time::Sleep;

    pub struct Rt {
        rt: weft::Runtime,
    }

    impl Rt {
        pub fn new() -> Rt {
            Rt {
                rt: weft::Runtime::new().expect("weft runtime"),
            }
        }

        fn run<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> T {
            self.rt.block_on(async { spawn(fut).await.unwrap() })
        }

        pub fn insert_cancel(
            &self,
            mut buf: Vec<Sleep>,
            offs: Arc<[Duration]>,
        ) -> (Duration, Vec<Sleep>) {
            self.run(async move {
                let base = weft::time::Instant::now();
                let start = Instant::now();
                let work =
                    insert_then_cancel(&mut buf, &offs, |o| weft::time::sleep_until(base + o));
                weft::coop::unconstrained(work).await;
                (start.elapsed(), buf)
            })
        }

        pub fn fire(&self, offs: Arc<[Duration]>) -> (Duration, Duration) {
            self.run(async move {
                let start = Instant::now();
                let late = Arc::new(Lateness::default());
                let handles: Vec<_> = offs
                    .iter()
                    .map(|&o| {
                        let deadline = start + o;
                        let late = late.clone();
                        spawn(async move {
                            weft::time::sleep_until(deadline.into()).await;
                            late.record(deadline);
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
                (start.elapsed(), late.mean(offs.len()))
            })
        }
    }
}

mod tokio_side {
    use super::*;

    pub type Sleep = tokio::time::Sleep;

    pub struct Rt {
        rt: tokio::runtime::Runtime,
    }

    impl Rt {
        pub fn new() -> Rt {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("tokio runtime");
            Rt { rt }
        }

        fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
            self.rt.block_on(async { tokio::spawn(fut).await.unwrap() })
        }

        pub fn insert_cancel(
            &self,
            mut buf: Vec<Sleep>,
            offs: Arc<[Duration]>,
        ) -> (Duration, Vec<Sleep>) {
            self.run(async move {
                let base = tokio::time::Instant::now();
                let start = Instant::now();
                let work =
                    insert_then_cancel(&mut buf, &offs, |o| tokio::time::sleep_until(base + o));
                tokio::task::unconstrained(work).await;
                (start.elapsed(), buf)
            })
        }

        pub fn fire(&self, offs: Arc<[Duration]>) -> (Duration, Duration) {
            self.run(async move {
                let start = Instant::now();
                let late = Arc::new(Lateness::default());
                let handles: Vec<_> = offs
                    .iter()
                    .map(|&o| {
                        let deadline = start + o;
                        let late = late.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep_until(deadline.into()).await;
                            late.record(deadline);
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
                (start.elapsed(), late.mean(offs.len()))
            })
        }
    }
}

mod async_io_side {
    use super::*;
    use async_executor::LocalExecutor;
    use std::rc::Rc;

    pub type Sleep = async_io::Timer;

    pub struct Rt {
        ex: Rc<LocalExecutor<'static>>,
    }

    impl Rt {
        pub fn new() -> Rt {
            Rt {
                ex: Rc::new(LocalExecutor::new()),
            }
        }

        fn run<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> T {
            async_io::block_on(self.ex.run(self.ex.spawn(fut)))
        }

        pub fn insert_cancel(
            &self,
            mut buf: Vec<Sleep>,
            offs: Arc<[Duration]>,
        ) -> (Duration, Vec<Sleep>) {
            self.run(async move {
                let base = Instant::now();
                let start = Instant::now();
                insert_then_cancel(&mut buf, &offs, |o| async_io::Timer::at(base + o)).await;
                (start.elapsed(), buf)
            })
        }

        pub fn fire(&self, offs: Arc<[Duration]>) -> (Duration, Duration) {
            let ex = self.ex.clone();
            self.run(async move {
                let start = Instant::now();
                let late = Arc::new(Lateness::default());
                let handles: Vec<_> = offs
                    .iter()
                    .map(|&o| {
                        let deadline = start + o;
                        let late = late.clone();
                        ex.spawn(async move {
                            async_io::Timer::at(deadline).await;
                            late.record(deadline);
                        })
                    })
                    .collect();
                for h in handles {
                    h.await;
                }
                (start.elapsed(), late.mean(offs.len()))
            })
        }
    }
}

fn insert_offsets() -> Arc<[Duration]> {
    offsets(
        INSERT_N,
        Duration::from_millis(10),
        Duration::from_secs(10),
        1,
    )
}

fn fire_offsets() -> Arc<[Duration]> {
    offsets(
        FIRE_N,
        Duration::from_millis(1),
        Duration::from_millis(10),
        2,
    )
}

/// Runs `one` (one batch: its time, and the buffer back) `iters` times.
fn batches<B>(
    iters: u64,
    buf: &mut Option<B>,
    mut one: impl FnMut(B) -> (Duration, B),
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let (d, back) = one(buf.take().unwrap());
        *buf = Some(back);
        total += d;
    }
    total
}

fn bench_insert_cancel(c: &mut Criterion) {
    let offs = insert_offsets();
    let mut g = c.benchmark_group("timer_insert_cancel");
    g.throughput(Throughput::Elements(INSERT_N as u64));
    g.sample_size(20);

    let rt = weft_side::Rt::new();
    let mut buf = Some(Vec::with_capacity(INSERT_N));
    g.bench_function("weft", |b| {
        b.iter_custom(|iters| batches(iters, &mut buf, |v| rt.insert_cancel(v, offs.clone())))
    });

    let rt = tokio_side::Rt::new();
    let mut buf = Some(Vec::with_capacity(INSERT_N));
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| batches(iters, &mut buf, |v| rt.insert_cancel(v, offs.clone())))
    });

    let rt = async_io_side::Rt::new();
    let mut buf = Some(Vec::with_capacity(INSERT_N));
    g.bench_function("async-io", |b| {
        b.iter_custom(|iters| batches(iters, &mut buf, |v| rt.insert_cancel(v, offs.clone())))
    });
    g.finish();
}

fn bench_fire(c: &mut Criterion) {
    let offs = fire_offsets();
    let mut g = c.benchmark_group("timer_fire");
    g.sample_size(10);
    let mut lateness = Vec::new();

    macro_rules! fire {
        ($name:literal, $rt:expr) => {{
            let rt = $rt;
            let (mut sum, mut n) = (Duration::ZERO, 0u32);
            g.bench_function($name, |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (t, late) = rt.fire(offs.clone());
                        total += t;
                        sum += late;
                        n += 1;
                    }
                    total
                })
            });
            lateness.push(($name, sum / n.max(1)));
        }};
    }
    fire!("weft", weft_side::Rt::new());
    fire!("tokio", tokio_side::Rt::new());
    fire!("async-io", async_io_side::Rt::new());
    g.finish();
    for (name, late) in lateness {
        println!("timer_fire/{name}: mean lateness {late:?} (over all iterations)");
    }
}

criterion_group!(benches, bench_insert_cancel, bench_fire);

/// Busy jiffies of the whole machine and of this process.
fn jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    let busy = cpu
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 3 && i != 4 && i < 8)
        .map(|(_, v)| v)
        .sum();
    let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name: state, ppid, ..., utime (field 14), stime (field 15).
    let f: Vec<&str> = me
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let mine = field(11) + field(12);
    (busy, mine)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// One round's figures, per runtime (weft, tokio, async-io).
struct Row {
    /// insert+cancel, ns per sleep.
    insert: [f64; 3],
    /// timer_fire total, ms.
    fire: [f64; 3],
    /// timer_fire mean lateness, us.
    late: [f64; 3],
}

/// One repetition of each runtime per round; medians of per-round ratios (MEASURING.md).
fn interleaved_summary() {
    let weft = weft_side::Rt::new();
    let tokio = tokio_side::Rt::new();
    let aio = async_io_side::Rt::new();
    let (ins, fire) = (insert_offsets(), fire_offsets());
    let (mut b0, mut b1, mut b2) = (
        Some(Vec::with_capacity(INSERT_N)),
        Some(Vec::with_capacity(INSERT_N)),
        Some(Vec::with_capacity(INSERT_N)),
    );
    let per = |d: Duration| d.as_nanos() as f64 / INSERT_N as f64;
    let split =
        |(total, late): (Duration, Duration)| (total.as_secs_f64() * 1e3, late.as_secs_f64() * 1e6);
    let mut rows = Vec::new();
    println!("\ninterleaved rounds: insert+cancel ns/sleep | fire total ms / mean lateness us");
    for round in 0..=ROUNDS {
        let (busy0, mine0) = jiffies();
        let wall0 = Instant::now();
        let insert = [
            per(batches(1, &mut b0, |v| weft.insert_cancel(v, ins.clone()))),
            per(batches(1, &mut b1, |v| tokio.insert_cancel(v, ins.clone()))),
            per(batches(1, &mut b2, |v| aio.insert_cancel(v, ins.clone()))),
        ];
        let fired = [
            split(weft.fire(fire.clone())),
            split(tokio.fire(fire.clone())),
            split(aio.fire(fire.clone())),
        ];
        let (busy1, mine1) = jiffies();
        // Jiffies are 1/100 s: other processes' CPU as a share of one core.
        let others = (busy1 - busy0).saturating_sub(mine1 - mine0) as f64
            / 100.0
            / wall0.elapsed().as_secs_f64();
        if round == 0 {
            continue; // warm-up
        }
        println!(
            "round {round}: weft {:.1} tokio {:.1} async-io {:.1} | weft {:.2}/{:.0} \
             tokio {:.2}/{:.0} async-io {:.2}/{:.0} | other load {:.0}% of a core",
            insert[0],
            insert[1],
            insert[2],
            fired[0].0,
            fired[0].1,
            fired[1].0,
            fired[1].1,
            fired[2].0,
            fired[2].1,
            others * 100.0,
        );
        rows.push(Row {
            insert,
            fire: fired.map(|f| f.0),
            late: fired.map(|f| f.1),
        });
    }
    let med = |f: &dyn Fn(&Row) -> f64| median(rows.iter().map(f).collect());
    println!(
        "median insert+cancel per sleep: weft {:.1} ns, tokio {:.1} ns, async-io {:.1} ns",
        med(&|r| r.insert[0]),
        med(&|r| r.insert[1]),
        med(&|r| r.insert[2]),
    );
    println!(
        "median per-round ratio insert+cancel: weft/tokio {:.3}, weft/async-io {:.3}",
        med(&|r| r.insert[0] / r.insert[1]),
        med(&|r| r.insert[0] / r.insert[2]),
    );
    println!(
        "median fire total: weft {:.2} ms, tokio {:.2} ms, async-io {:.2} ms; \
         per-round ratio weft/tokio {:.3}, weft/async-io {:.3}",
        med(&|r| r.fire[0]),
        med(&|r| r.fire[1]),
        med(&|r| r.fire[2]),
        med(&|r| r.fire[0] / r.fire[1]),
        med(&|r| r.fire[0] / r.fire[2]),
    );
    println!(
        "median mean lateness: weft {:.0} us, tokio {:.0} us, async-io {:.0} us",
        med(&|r| r.late[0]),
        med(&|r| r.late[1]),
        med(&|r| r.late[2]),
    );
}

/// Tells glibc to keep freed memory, for every column alike (MEASURING.md: page faults on
/// refaulted memory are noise here).
fn keep_freed_memory() {
    // SAFETY: `mallopt` only tunes the allocator; it is called before any other thread
    // exists (criterion and the runtimes start later).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

fn main() {
    keep_freed_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo xtask bench` runs the groups one at a time and asks for the summary once.
    if std::env::args().any(|a| a == "--bench")
        && std::env::var_os("WEFT_BENCH_NO_SUMMARY").is_none()
    {
        interleaved_summary();
    }
}
