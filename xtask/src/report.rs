//! `BENCHMARKS.md` and its charts, from what `cargo xtask bench` recorded.
//!
//! Reads `target/bench-report/run.json` (what ran, when, on what machine, the memory
//! figures), criterion's saved estimates of each round (`<round's home>/**/new/estimates.json`,
//! with `benchmark.json` beside it naming the group and entry), the guard's last instruction
//! counts (`target/instr/last.txt`) and the tables the wrk and redis scripts wrote
//! (`target/bench-report/{wrk,redis}.md`). Writes `BENCHMARKS.md` at the root and one SVG
//! chart per group in `benches/charts/`.
//!
//! Time per operation is criterion's median time per iteration divided by the operations in
//! one iteration (`bench::GROUPS`), and with several rounds the median of that over the
//! rounds. A ratio (weft / peer) is the median of the per-round ratios, with their range. An
//! estimate older than the run is not used.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde_json::Value;

use crate::bench::{report_dir, Group, GROUPS};
use crate::svg::{self, Bar};
use crate::util;

/// One criterion entry's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    /// Median nanoseconds per iteration (over the rounds that measured it).
    pub ns: f64,
    /// Each round's median nanoseconds per iteration; `None` where a round has no result.
    pub rounds: Vec<Option<f64>>,
}

/// A ratio over rounds: the median of the per-round ratios, and their range.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Ratio {
    median: f64,
    min: f64,
    max: f64,
    /// Rounds in which both entries have a result.
    n: usize,
}

impl Ratio {
    /// `a / b` in every round that measured both.
    fn of(a: &Entry, b: &Entry) -> Option<Ratio> {
        let per_round: Vec<f64> = a
            .rounds
            .iter()
            .zip(&b.rounds)
            .filter_map(|(x, y)| Some(x.as_ref()? / y.as_ref()?))
            .collect();
        let median = median(per_round.clone())?;
        Some(Ratio {
            median,
            min: per_round.iter().copied().fold(f64::INFINITY, f64::min),
            max: per_round.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            n: per_round.len(),
        })
    }

    /// `0.27`, or `0.27 (0.24-0.29)` over several rounds; the median in bold if `bold`.
    fn show(&self, bold: bool) -> String {
        let m = if bold {
            format!("**{:.2}**", self.median)
        } else {
            format!("{:.2}", self.median)
        };
        if self.n > 1 {
            format!("{m} ({:.2}-{:.2})", self.min, self.max)
        } else {
            m
        }
    }
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// One result per entry from each round's results: `ns` the median over the rounds.
pub fn merge_rounds(rounds: &[BTreeMap<String, Vec<Entry>>]) -> BTreeMap<String, Vec<Entry>> {
    let mut names: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for round in rounds {
        for (group, entries) in round {
            let set = names.entry(group).or_default();
            set.extend(entries.iter().map(|e| e.name.as_str()));
        }
    }
    names
        .into_iter()
        .map(|(group, entry_names)| {
            let entries = entry_names
                .into_iter()
                .filter_map(|name| {
                    let per_round: Vec<Option<f64>> = rounds
                        .iter()
                        .map(|r| r.get(group)?.iter().find(|e| e.name == name).map(|e| e.ns))
                        .collect();
                    Some(Entry {
                        name: name.to_string(),
                        ns: median(per_round.iter().flatten().copied().collect())?,
                        rounds: per_round,
                    })
                })
                .collect();
            (group.to_string(), entries)
        })
        .collect()
}

/// `cargo xtask report`: rewrites the page from the last run's records.
pub fn main(args: &[String]) -> Result<bool, String> {
    util::Args::new(args).positional()?;
    write(&util::root())?;
    eprintln!("report: wrote BENCHMARKS.md");
    Ok(true)
}

/// Reads the records under `root` and writes `BENCHMARKS.md` and the charts.
pub fn write(root: &Path) -> Result<(), String> {
    let dir = report_dir(root);
    let run_path = dir.join("run.json");
    let run: Value = serde_json::from_str(&std::fs::read_to_string(&run_path).map_err(|e| {
        format!(
            "{}: {e} (run `cargo xtask bench` first)",
            run_path.display()
        )
    })?)
    .map_err(|e| format!("{}: {e}", run_path.display()))?;
    let since = run["started_unix"].as_u64().unwrap_or(0);
    // Each round's criterion home (a run before rounds existed used target/criterion).
    let homes: Vec<PathBuf> = match run["criterion_homes"].as_array() {
        Some(h) => h
            .iter()
            .filter_map(|p| p.as_str())
            .map(|p| root.join(p))
            .collect(),
        None => vec![root.join("target/criterion")],
    };
    let per_round: Vec<_> = homes.iter().map(|h| criterion_results(h, since)).collect();
    let results = merge_rounds(&per_round);
    let charts = root.join("benches/charts");
    std::fs::create_dir_all(&charts).map_err(|e| format!("{}: {e}", charts.display()))?;
    let mut ran = BTreeMap::new();
    for g in run["groups"].as_array().into_iter().flatten() {
        if let Some(id) = g["id"].as_str() {
            ran.insert(id.to_string(), g.clone());
        }
    }
    let mut page = String::new();
    header(&mut page, &run);
    summary(&mut page, &ran, &results);
    for (bench, title, about) in SECTIONS {
        let groups: Vec<&Group> = GROUPS
            .iter()
            .filter(|g| g.bench == *bench && ran.contains_key(g.id))
            .collect();
        if groups.is_empty() {
            continue;
        }
        let _ = writeln!(page, "\n## {title} (`benches/{bench}.rs`)\n\n{about}");
        for g in groups {
            group_section(&mut page, g, &ran[g.id], results.get(g.id), &charts)?;
        }
        if *bench == "timer" {
            timer_summary(&mut page, root, &ran);
        }
    }
    memory(&mut page, &run);
    instructions(&mut page, root);
    servers(&mut page, &dir, &run);
    std::fs::write(root.join("BENCHMARKS.md"), page).map_err(|e| format!("BENCHMARKS.md: {e}"))
}

/// The benches, their titles and what the reader should know about their peers.
const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "executor",
        "Executor",
        "Peers: tokio's `current_thread` runtime, async-executor's `LocalExecutor` (smol's), \
         futures' `LocalPool`; each runtime's own `spawn`, `yield_now` and join. `weft+metrics` \
         is weft with `Builder::metrics(true)`. Times are taken inside a spawned task.",
    ),
    (
        "timer",
        "Timers",
        "Peers: tokio (`current_thread`, 1 ms wheel) and async-io (smol's reactor, exact \
         deadlines in a `BTreeMap`).",
    ),
    (
        "channel",
        "Channels",
        "weft's channels beside tokio::sync, flume, kanal, async-channel and futures::channel, \
         each on weft's executor (`/weft-rt`) and on its own (`tokio-rt`, `smol-rt` = \
         async-executor, `local-pool`). \"weft / tokio\" compares with tokio's channel on \
         tokio's runtime. kanal and async-channel have no oneshot or broadcast: a bounded(1) \
         channel, or one channel per receiver, stands in.",
    ),
    (
        "net",
        "Network",
        "TCP echo on 127.0.0.1, server and clients on one runtime: weft, tokio \
         `current_thread`, smol. Mostly kernel time (two system calls per message per side).",
    ),
];

fn header(page: &mut String, run: &Value) {
    let s = |k: &str| run[k].as_str().unwrap_or("").to_string();
    let minutes = run["seconds"].as_f64().unwrap_or(0.0) / 60.0;
    let rounds = run["rounds"].as_u64().unwrap_or(1);
    let plural = if rounds == 1 { "" } else { "s" };
    let over = if rounds == 1 {
        ""
    } else {
        ", median over the rounds"
    };
    let _ = write!(
        page,
        "# Benchmarks\n\n\
         <!-- Written by `cargo xtask bench` (xtask/src/report.rs): rerun it rather than edit. -->\n\n\
         weft beside its peers on the same workloads, every figure below from one run of one \
         command:\n\n\
         ```sh\n{}\n```\n\n\
         | | |\n|---|---|\n\
         | date | {} |\n| machine | {} |\n| commit | `{}` |\n| compiler | {} |\n\
         | criterion | `{}`, {rounds} round{plural}; time per operation = median time per iteration / operations per iteration{over} |\n\
         | wall time of the run | {minutes:.1} min, build included |\n\n\
         **How to read it.** This machine is a shared 2-core VM on which other builds run at the \
         same time: absolute times drift by up to 2x within minutes, and its speed changes by up \
         to 1.5x for seconds at a time even when nothing else runs, so compare **ratios within \
         this run** (weft / peer: below 1 means weft is faster), and mind the *other load* column \
         (CPU that other processes used while the group ran, in cores). Criterion runs a group's \
         entries one after another, not interleaved, so one round can set an entry measured in \
         a slow spell beside one measured in a fast spell. The run therefore repeats every group \
         in rounds spread over the run; a ratio is the **median of the per-round ratios**, with \
         their range in brackets. The instruction counts further down do not depend on load. How \
         to run one bench on its own: [benches/README.md](benches/README.md).\n",
        s("command"),
        s("date"),
        s("machine"),
        s("commit"),
        s("rustc"),
        s("criterion_args"),
    );
}

/// weft's time per operation beside tokio's and the best peer's.
struct Comparison {
    weft: f64,
    tokio: Option<f64>,
    /// weft / tokio over the rounds.
    vs_tokio: Option<Ratio>,
    /// The fastest entry that is not weft (by its median over rounds): its name and time.
    best: Option<(String, f64)>,
    /// weft / the best peer over the rounds.
    vs_best: Option<Ratio>,
}

fn compare(g: &Group, entries: &[Entry]) -> Option<Comparison> {
    let weft_entry = entries.iter().find(|e| e.name == "weft")?;
    let tokio_entry = entries.iter().find(|e| e.name == g.tokio);
    let best_entry = entries
        .iter()
        .filter(|e| !e.name.starts_with("weft"))
        .min_by(|a, b| a.ns.total_cmp(&b.ns));
    Some(Comparison {
        weft: weft_entry.ns / g.ops,
        tokio: tokio_entry.map(|e| e.ns / g.ops),
        vs_tokio: tokio_entry.and_then(|t| Ratio::of(weft_entry, t)),
        best: best_entry.map(|e| (e.name.clone(), e.ns / g.ops)),
        vs_best: best_entry.and_then(|b| Ratio::of(weft_entry, b)),
    })
}

fn ratio(r: Option<Ratio>) -> String {
    r.map_or("-".into(), |r| r.show(true))
}

fn summary(
    page: &mut String,
    ran: &BTreeMap<String, Value>,
    results: &BTreeMap<String, Vec<Entry>>,
) {
    let _ = write!(
        page,
        "\n## Summary\n\n\
         | group | time per | weft | tokio | weft / tokio | best peer | weft / best peer | other load |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    for g in GROUPS.iter().filter(|g| ran.contains_key(g.id)) {
        let load = ran[g.id]["other_load"].as_f64().unwrap_or(0.0);
        match results.get(g.id).and_then(|e| compare(g, e)) {
            Some(Comparison {
                weft,
                tokio,
                vs_tokio,
                best,
                vs_best,
            }) => {
                let (best_name, best_ns) = best.map_or(("-".into(), None), |(n, v)| (n, Some(v)));
                let _ = writeln!(
                    page,
                    "| {} | {} | {} | {} | {} | {} {} | {} | {load:.1} |",
                    g.id,
                    g.unit,
                    svg::format_ns(weft),
                    tokio.map_or("-".into(), svg::format_ns),
                    ratio(vs_tokio),
                    best_name,
                    best_ns.map_or(String::new(), |v| format!("({})", svg::format_ns(v))),
                    ratio(vs_best),
                );
            }
            None => {
                let _ = writeln!(
                    page,
                    "| {} | {} | no result in this run | | | | | {load:.1} |",
                    g.id, g.unit
                );
            }
        }
    }
}

fn group_section(
    page: &mut String,
    g: &Group,
    ran: &Value,
    entries: Option<&Vec<Entry>>,
    charts: &Path,
) -> Result<(), String> {
    let file = format!("{}.svg", g.id.replace('/', "_"));
    let _ = write!(
        page,
        "\n### {}\n\n{}. Time per {}; other load {:.1} cores, {:.0} s.\n\n",
        g.id,
        g.what,
        g.unit,
        ran["other_load"].as_f64().unwrap_or(0.0),
        ran["seconds"].as_f64().unwrap_or(0.0),
    );
    let Some(entries) = entries.filter(|e| !e.is_empty()) else {
        let _ = writeln!(
            page,
            "No result in this run (see `{}`).",
            ran["log"].as_str().unwrap_or("")
        );
        return Ok(());
    };
    let mut sorted = entries.clone();
    sorted.sort_by(|a, b| a.ns.total_cmp(&b.ns));
    let bars: Vec<Bar> = sorted
        .iter()
        .map(|e| Bar {
            label: e.name.clone(),
            value: e.ns / g.ops,
            weft: e.name.starts_with("weft"),
        })
        .collect();
    let chart = svg::bar_chart(
        &format!("{}: time per {} (lower is better)", g.id, g.unit),
        &bars,
    );
    let path = charts.join(&file);
    std::fs::write(&path, chart).map_err(|e| format!("{}: {e}", path.display()))?;
    let _ = write!(
        page,
        "![{}](benches/charts/{file})\n\n| runtime | time per {} | weft / this |\n|---|---|---|\n",
        g.id, g.unit
    );
    let weft = entries.iter().find(|e| e.name == "weft");
    for e in &sorted {
        let v = e.ns / g.ops;
        let r = match weft {
            _ if e.name == "weft" => "1.00".into(),
            Some(w) => Ratio::of(w, e).map_or("-".into(), |r| r.show(false)),
            None => "-".into(),
        };
        let _ = writeln!(page, "| {} | {} | {r} |", e.name, svg::format_ns(v));
    }
    Ok(())
}

/// The timer bench's own interleaved rounds, as it printed them (in the last timer log).
fn timer_summary(page: &mut String, root: &Path, ran: &BTreeMap<String, Value>) {
    let Some(log) = ran.get("timer_fire").and_then(|g| g["log"].as_str()) else {
        return;
    };
    let text = std::fs::read_to_string(root.join(log)).unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("median") || l.starts_with("timer_fire/") && l.contains("lateness")
        })
        .collect();
    if !lines.is_empty() {
        let _ = write!(
            page,
            "\nThe timer bench also runs the runtimes in interleaved rounds (one batch of each \
             per round) and prints medians of per-round ratios, and the mean lateness past \
             each deadline:\n\n```text\n{}\n```\n",
            lines.join("\n")
        );
    }
}

fn memory(page: &mut String, run: &Value) {
    let m = &run["memory"];
    let Some(map) = m.as_object().filter(|m| !m.is_empty()) else {
        return;
    };
    let get = |k: &str, i: usize| map.get(k).and_then(|v| v[i].as_f64());
    let cell = |v: Option<f64>, unit: &str| v.map_or("-".into(), |v| format!("{v:.0} {unit}"));
    let _ = write!(
        page,
        "\n## Memory (`benches/peers/memory.rs`)\n\n\
         Heap bytes each thing adds, counted by a counting global allocator (live bytes after / \
         count; handles' own sizes included for channels, the `Sleep`'s own size for timers), \
         and the allocations it makes. Each case runs in its own process.\n\n\
         | thing | weft bytes | weft allocs | tokio bytes | tokio allocs | weft / tokio |\n\
         |---|---|---|---|---|---|\n"
    );
    for (name, label) in [
        ("task", "idle task (`pending()`, polled once, handle dropped; the runtime's own bookkeeping included)"),
        ("sleep", "registered `Sleep` (tokio's boxed: it is `!Unpin`)"),
        ("oneshot", "oneshot channel"),
        ("mpsc_16", "mpsc, capacity 16"),
        ("mpsc_1024", "mpsc, capacity 1,024 (weft allocates its whole ring at creation, tokio blocks of 32 slots as messages come)"),
        ("mpsc_unbounded", "unbounded mpsc"),
        ("broadcast_16", "broadcast, capacity 16"),
        ("watch", "watch"),
    ] {
        let (w, wa) = (get(&format!("heap weft {name}"), 0), get(&format!("heap weft {name}"), 1));
        let (t, ta) = (get(&format!("heap tokio {name}"), 0), get(&format!("heap tokio {name}"), 1));
        let r = match (w, t) {
            (Some(w), Some(t)) if t > 0.0 => format!("{:.2}", w / t),
            _ => "-".into(),
        };
        let _ = writeln!(
            page,
            "| {label} | {} | {} | {} | {} | {r} |",
            cell(w, "B"),
            wa.map_or("-".into(), |v| format!("{v:.2}")),
            cell(t, "B"),
            ta.map_or("-".into(), |v| format!("{v:.2}")),
        );
    }
    let _ = write!(
        page,
        "\nResident memory (`VmRSS`, `VmHWM` from `/proc/self/status`, separate processes), \
         1,000,000 tasks spawned and polled once, glibc malloc as is:\n\n\
         | | weft peak RSS | weft per item | tokio peak RSS | tokio per item | weft / tokio |\n\
         |---|---|---|---|---|---|\n"
    );
    for (case, label) in [
        ("rss_tasks", "1,000,000 idle tasks"),
        ("rss_timers", "1,000,000 tasks waiting on a 1 h sleep"),
    ] {
        let hwm = |rt: &str| get(&format!("{case} {rt} hwm_kib"), 0).map(|k| k / 1024.0);
        let per = |rt: &str| get(&format!("{case} {rt} bytes_per_item"), 0);
        let r = match (per("weft"), per("tokio")) {
            (Some(w), Some(t)) if t > 0.0 => format!("{:.2}", w / t),
            _ => "-".into(),
        };
        let _ = writeln!(
            page,
            "| {label} | {} | {} | {} | {} | {r} |",
            cell(hwm("weft"), "MiB"),
            cell(per("weft"), "B"),
            cell(hwm("tokio"), "MiB"),
            cell(per("tokio"), "B"),
        );
    }
}

fn instructions(page: &mut String, root: &Path) {
    let Ok(text) = std::fs::read_to_string(root.join("target/instr/last.txt")) else {
        return;
    };
    let Ok(counts) = crate::instr::parse_counts(&text) else {
        return;
    };
    let header = text
        .lines()
        .find(|l| l.starts_with("# checkout"))
        .map_or("", |l| l.trim_start_matches("# "));
    let _ = write!(
        page,
        "\n## Instructions per operation (callgrind)\n\n\
         The regression guard's figures (`cargo xtask instr`, {header}): instructions per \
         operation at small sizes, the same whatever else runs on the machine. CI fails when \
         weft's count grows more than 10 % against `benches/guard/baseline.txt`.\n\n\
         | workload | weft | tokio | weft / tokio |\n|---|---|---|---|\n"
    );
    for w in crate::instr::WORKLOADS {
        if let Some(c) = counts.get(w.0) {
            let _ = writeln!(
                page,
                "| {} | {:.1} | {:.1} | **{:.3}** |",
                w.0,
                c.weft,
                c.tokio,
                c.ratio()
            );
        }
    }
}

fn servers(page: &mut String, dir: &Path, run: &Value) {
    for s in run["servers"].as_array().into_iter().flatten() {
        let name = s["name"].as_str().unwrap_or("");
        let title = if name == "wrk" {
            "HTTP server (`benches/wrk.sh`)"
        } else {
            "Redis server (`benches/redis.sh`)"
        };
        let _ = write!(page, "\n## {title}\n\n");
        if let Some(why) = s["skipped"].as_str() {
            let _ = writeln!(page, "Not run: {why}.");
            continue;
        }
        match std::fs::read_to_string(dir.join(format!("{name}.md"))) {
            Ok(fragment) => page.push_str(&fragment),
            Err(_) => {
                let _ = writeln!(
                    page,
                    "The script wrote no table (see `target/bench-report/logs/{name}.log`)."
                );
            }
        }
    }
}

/// Every criterion entry whose estimates were written at or after `since` (Unix seconds),
/// by group id.
pub fn criterion_results(home: &Path, since: u64) -> BTreeMap<String, Vec<Entry>> {
    let mut out: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    if let Some((group, e)) = read_entry(&path, since) {
                        out.entry(group).or_default().push(e);
                    }
                } else {
                    stack.push(path);
                }
            }
        }
    }
    for entries in out.values_mut() {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out
}

/// One `new/` directory: its group id and entry, if fresh enough.
fn read_entry(new: &Path, since: u64) -> Option<(String, Entry)> {
    let estimates: PathBuf = new.join("estimates.json");
    let modified = std::fs::metadata(&estimates)
        .and_then(|m| m.modified())
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs();
    if modified < since {
        return None;
    }
    let bench: Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("benchmark.json")).ok()?).ok()?;
    let est: Value = serde_json::from_str(&std::fs::read_to_string(&estimates).ok()?).ok()?;
    let group = bench["group_id"].as_str()?.to_string();
    let name = bench["function_id"]
        .as_str()
        .or_else(|| bench["value_str"].as_str())?
        .to_string();
    let ns = est["median"]["point_estimate"].as_f64()?;
    Some((
        group,
        Entry {
            name,
            ns,
            rounds: vec![Some(ns)],
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, ns: f64) -> Entry {
        Entry {
            name: name.into(),
            ns,
            rounds: vec![Some(ns)],
        }
    }

    fn round(entries: &[(&str, f64)]) -> BTreeMap<String, Vec<Entry>> {
        let e = entries.iter().map(|(n, v)| entry(n, *v)).collect();
        [("channel/oneshot".to_string(), e)].into()
    }

    #[test]
    fn rounds_merge_into_medians_and_ratios_are_medians_of_per_round_ratios() {
        // weft was measured in a slow spell in round 2: its own median is 110, but the
        // ratio to tokio is the median of 0.25, 0.5 and 0.3.
        let merged = merge_rounds(&[
            round(&[("weft", 100.0), ("tokio/tokio-rt", 400.0)]),
            round(&[("weft", 150.0), ("tokio/tokio-rt", 300.0)]),
            round(&[("weft", 110.0), ("tokio/tokio-rt", 366.0 + 2.0 / 3.0)]),
        ]);
        let entries = &merged["channel/oneshot"];
        let weft = entries.iter().find(|e| e.name == "weft").unwrap();
        assert_eq!(weft.ns, 110.0);
        assert_eq!(weft.rounds, vec![Some(100.0), Some(150.0), Some(110.0)]);
        let tokio = entries.iter().find(|e| e.name == "tokio/tokio-rt").unwrap();
        let r = Ratio::of(weft, tokio).unwrap();
        assert!((r.median - 0.3).abs() < 1e-9, "{r:?}");
        assert_eq!((r.min, r.max, r.n), (0.25, 0.5, 3));
        assert_eq!(r.show(true), "**0.30** (0.25-0.50)");
    }

    #[test]
    fn a_round_without_an_entry_is_left_out_of_its_median_and_ratios() {
        let merged = merge_rounds(&[
            round(&[("weft", 100.0), ("tokio/tokio-rt", 400.0)]),
            round(&[("tokio/tokio-rt", 300.0)]),
        ]);
        let entries = &merged["channel/oneshot"];
        let weft = entries.iter().find(|e| e.name == "weft").unwrap();
        assert_eq!(
            (weft.ns, weft.rounds.clone()),
            (100.0, vec![Some(100.0), None])
        );
        let tokio = entries.iter().find(|e| e.name == "tokio/tokio-rt").unwrap();
        assert_eq!(tokio.ns, 350.0);
        let r = Ratio::of(weft, tokio).unwrap();
        assert_eq!((r.median, r.n), (0.25, 1));
        assert_eq!(r.show(false), "0.25");
    }

    #[test]
    fn weft_is_compared_with_tokio_and_the_fastest_other_entry() {
        let g = GROUPS.iter().find(|g| g.id == "channel/oneshot").unwrap();
        let entries = vec![
            entry("weft", 1_000_000.0),
            entry("tokio/tokio-rt", 4_000_000.0),
            entry("tokio/weft-rt", 2_000_000.0),
            entry("kanal/smol-rt", 3_000_000.0),
        ];
        let c = compare(g, &entries).unwrap();
        assert_eq!(c.weft, 100.0); // 10,000 rounds per iteration
        assert_eq!(c.tokio, Some(400.0));
        assert_eq!(c.vs_tokio.map(|r| r.median), Some(0.25));
        assert_eq!(c.best, Some(("tokio/weft-rt".to_string(), 200.0)));
        assert_eq!(c.vs_best.map(|r| r.median), Some(0.5));
    }

    #[test]
    fn criterion_results_are_read_from_fresh_new_directories() {
        let home = std::env::temp_dir().join(format!("xtask-report-test-{}", std::process::id()));
        let new = home.join("channel_oneshot/weft/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"channel/oneshot","function_id":null,"value_str":"weft"}"#,
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":1234.5}}"#,
        )
        .unwrap();
        let got = criterion_results(&home, 0);
        assert_eq!(got["channel/oneshot"], vec![entry("weft", 1234.5)]);
        // Older than the run: ignored.
        assert!(criterion_results(&home, u64::MAX / 2).is_empty());
        std::fs::remove_dir_all(&home).unwrap();
    }
}
