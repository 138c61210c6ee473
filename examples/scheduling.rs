//! Scheduling you can see and steer: a latency-sensitive task that wakes every 1 ms, beside
//! a CPU-heavy background, under three policies:
//!
//! * `fifo`: the default (first come, first served; budget 128);
//! * `priority`: the same, with the latency task spawned at `Priority::High`;
//! * `budget-8`: FIFO with a cooperative budget of 8 operations per poll.
//!
//! The background is four tasks that each drain a channel, spending ~20 us of CPU per
//! message and never yielding on their own: only the cooperative budget makes them yield.
//! The program prints the p50 / p99 / max lateness of the 1 ms wake-ups for each policy, and
//! with `--svg FILE` also draws them as a bar chart.
//!
//! ```text
//! cargo run --release --example scheduling -- [--secs 1] [--svg scheduling.svg]
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use weft::metrics::Histogram;
use weft::task::{Builder as TaskBuilder, Priority};
use weft::time::Instant;

const BACKGROUND_TASKS: usize = 4;
const WORK_PER_MESSAGE: Duration = Duration::from_micros(20);
const PERIOD: Duration = Duration::from_millis(1);

struct Policy {
    name: &'static str,
    budget: u32,
    priority: Priority,
}

const POLICIES: [Policy; 3] = [
    Policy {
        name: "fifo",
        budget: 128,
        priority: Priority::Normal,
    },
    Policy {
        name: "priority",
        budget: 128,
        priority: Priority::High,
    },
    Policy {
        name: "budget-8",
        budget: 8,
        priority: Priority::Normal,
    },
];

/// Burns CPU for `d` (stands for real work: parsing, hashing, ...).
fn work(d: Duration) {
    let start = std::time::Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Runs one policy for `secs` and returns the lateness of the 1 ms wake-ups.
fn measure(policy: &Policy, secs: f64) -> Histogram {
    let rt = weft::Builder::new()
        .budget(policy.budget)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let run_for = Duration::from_secs_f64(secs);
        // Enough messages to keep every background task busy for the whole run.
        let per_task = (run_for.as_micros() / WORK_PER_MESSAGE.as_micros()) as usize + 1000;
        let mut background = Vec::new();
        for _ in 0..BACKGROUND_TASKS {
            let (tx, mut rx) = weft::sync::mpsc::unbounded_channel::<u32>();
            for i in 0..per_task {
                tx.send(i as u32).expect("receiver alive");
            }
            drop(tx);
            background.push(weft::spawn(async move {
                while let Some(_msg) = rx.recv().await {
                    work(WORK_PER_MESSAGE);
                }
            }));
        }
        let latency = TaskBuilder::new()
            .name("latency")
            .priority(policy.priority)
            .spawn(async move {
                let mut lateness = Histogram::new();
                let end = Instant::now() + run_for;
                let mut next = Instant::now() + PERIOD;
                while next < end {
                    weft::time::sleep_until(next).await;
                    let now = Instant::now();
                    lateness.record(now.saturating_duration_since(next));
                    next += PERIOD;
                    if next < now {
                        next = now + PERIOD; // fell behind: measure from here on
                    }
                }
                lateness
            });
        let lateness = latency.await.expect("latency task");
        for b in background {
            b.cancel();
        }
        lateness
    })
}

fn fmt_ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn svg(results: &[(&str, Histogram)]) -> String {
    let (w, h, left, bottom, top) = (640.0, 360.0, 60.0, 40.0, 30.0);
    let max = results
        .iter()
        .map(|(_, hist)| hist.max().as_secs_f64() * 1e3)
        .fold(0.1, f64::max);
    let plot_h = h - bottom - top;
    let group_w = (w - left - 20.0) / results.len() as f64;
    let bar_w = group_w / 4.0;
    let colors = ["#4c78a8", "#f58518", "#e45756"];
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="18" text-anchor="middle" font-size="14">Lateness of a 1 ms timer beside CPU-heavy tasks (ms)</text>"#,
        w / 2.0
    );
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = h - bottom - plot_h * f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{v:.2}</text>"##,
            w - 20.0,
            left - 6.0,
            y + 4.0
        );
    }
    for (gi, (name, hist)) in results.iter().enumerate() {
        let x0 = left + group_w * gi as f64 + bar_w / 2.0;
        let values = [hist.p50(), hist.p99(), hist.max()];
        for (bi, v) in values.iter().enumerate() {
            let ms = v.as_secs_f64() * 1e3;
            let bh = plot_h * ms / max;
            let x = x0 + bar_w * bi as f64;
            let y = h - bottom - bh;
            let _ = writeln!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{bh:.1}" fill="{}"/>"#,
                bar_w - 2.0,
                colors[bi]
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{name}</text>"#,
            x0 + bar_w * 1.5,
            h - bottom + 18.0
        );
    }
    for (i, label) in ["p50", "p99", "max"].iter().enumerate() {
        let x = w - 180.0 + 55.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="30" width="10" height="10" fill="{}"/><text x="{}" y="39">{label}</text>"#,
            colors[i],
            x + 14.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut secs = 1.0;
    let mut svg_path = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--secs" => secs = args.next().and_then(|v| v.parse().ok()).expect("--secs N"),
            "--svg" => svg_path = Some(args.next().expect("--svg FILE")),
            other => panic!("unknown argument {other:?} (expected --secs N, --svg FILE)"),
        }
    }
    println!(
        "{BACKGROUND_TASKS} background tasks ({} us of CPU per message), one task waking every {} ms; {secs} s per policy",
        WORK_PER_MESSAGE.as_micros(),
        PERIOD.as_millis()
    );
    println!(
        "{:<10} {:>8} {:>10} {:>10} {:>10}",
        "policy", "wakes", "p50 ms", "p99 ms", "max ms"
    );
    let mut results = Vec::new();
    for p in &POLICIES {
        let hist = measure(p, secs);
        println!(
            "{:<10} {:>8} {:>10} {:>10} {:>10}",
            p.name,
            hist.count(),
            fmt_ms(hist.p50()),
            fmt_ms(hist.p99()),
            fmt_ms(hist.max())
        );
        results.push((p.name, hist));
    }
    if let Some(path) = svg_path {
        std::fs::write(&path, svg(&results)).expect("write the SVG");
        println!("wrote {path}");
    }
}
