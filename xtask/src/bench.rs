//! `cargo xtask bench`: every bench group, weft and its peers side by side, then the report.
//!
//! 1. Builds the criterion benches (`benches/{executor,timer,channel,net}.rs`) and the
//!    `memory` example once.
//! 2. Runs the criterion groups in rounds (`--rounds`, 3 by default): each round runs every
//!    group on its own (a progress line per group, with its wall time and the CPU other
//!    processes used meanwhile), results in `target/bench-report/criterion/r<round>`. This
//!    machine's speed drifts by up to 1.5x for seconds at a time, and criterion measures a
//!    group's entries one after another: one round can compare an entry measured in a slow
//!    spell with one measured in a fast one. The report takes each entry's median over rounds
//!    and each ratio as the median of its per-round ratios.
//! 3. Memory: the `memory` example in child processes (heap bytes per task, sleep and
//!    channel; resident memory with 1,000,000 idle tasks and with 1,000,000 pending timers),
//!    weft beside tokio.
//! 4. The HTTP and Redis comparisons (`benches/wrk.sh`, `benches/redis.sh`) when wrk and
//!    redis-benchmark are installed (said so when not), each writing a table for the report.
//! 5. The instruction counts of the guard (`cargo xtask instr`) when valgrind is installed.
//! 6. `BENCHMARKS.md` and its charts (see `report.rs`).
//!
//! What ran is recorded in `target/bench-report/run.json`, so `cargo xtask report` can
//! rewrite the page from it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use serde_json::{json, Value};

use crate::machine::{self, LoadMeter};
use crate::util::{self, Args};

/// One criterion group: where it is, what one operation is, who its tokio entry is.
pub struct Group {
    /// The bench target (`benches/<bench>.rs`).
    pub bench: &'static str,
    /// Criterion's group id.
    pub id: &'static str,
    /// Operations per criterion iteration.
    pub ops: f64,
    /// What one operation is, for "time per ...".
    pub unit: &'static str,
    /// The entry that is tokio (each runtime with its own primitives).
    pub tokio: &'static str,
    /// The workload in a few words.
    pub what: &'static str,
}

macro_rules! group {
    ($bench:literal, $id:literal, $ops:expr, $unit:literal, $tokio:literal, $what:literal) => {
        Group {
            bench: $bench,
            id: $id,
            ops: $ops as f64,
            unit: $unit,
            tokio: $tokio,
            what: $what,
        }
    };
}

/// Every group, in the report's order.
pub const GROUPS: &[Group] = &[
    group!(
        "executor",
        "spawn_many",
        10_000,
        "task",
        "tokio",
        "spawn 10,000 tasks that return at once, await them all"
    ),
    group!(
        "executor",
        "yield_many",
        200_000,
        "yield",
        "tokio",
        "200 tasks x 1,000 `yield_now`"
    ),
    group!(
        "executor",
        "ping_pong",
        10_000,
        "round trip",
        "tokio",
        "two tasks bounce a message over futures' mpsc (the same channel for every runtime)"
    ),
    group!(
        "executor",
        "ping_pong_native",
        10_000,
        "round trip",
        "tokio",
        "the same over each runtime's own channel"
    ),
    group!(
        "executor",
        "chained_spawn",
        1_000,
        "spawn",
        "tokio",
        "each task spawns the next, depth 1,000"
    ),
    group!(
        "timer",
        "timer_insert_cancel",
        100_000,
        "sleep",
        "tokio",
        "100,000 sleeps over 10 s, each polled once (registered), then all dropped"
    ),
    group!(
        "timer",
        "timer_fire",
        1,
        "batch",
        "tokio",
        "10,000 sleeps of 1-10 ms, one task each, awaited together (total time)"
    ),
    group!(
        "channel",
        "channel/ping_pong",
        10_000,
        "round trip",
        "tokio/tokio-rt",
        "two tasks, 10,000 round trips over two capacity-1 channels"
    ),
    group!(
        "channel",
        "channel/mpsc_throughput",
        1_000_000,
        "message",
        "tokio/tokio-rt",
        "one producer, one consumer, capacity 1,024, 1,000,000 u64"
    ),
    group!(
        "channel",
        "channel/oneshot",
        10_000,
        "round",
        "tokio/tokio-rt",
        "create a oneshot, spawn a task that sends on it, await the receiver (and the task)"
    ),
    group!(
        "channel",
        "channel/broadcast",
        16_000,
        "delivery",
        "tokio/tokio-rt",
        "one sender, 16 receiver tasks, 1,000 values"
    ),
    group!(
        "net",
        "tcp_echo_64B",
        1_000,
        "round trip",
        "tokio",
        "50 connections x 20 round trips of 64 B, server and clients on one runtime"
    ),
    group!(
        "net",
        "tcp_echo_16KiB",
        1_000,
        "round trip",
        "tokio",
        "50 connections x 20 round trips of 16 KiB"
    ),
];

const BENCHES: [&str; 4] = ["executor", "timer", "channel", "net"];

/// Rounds of the criterion groups when `--rounds` is not given.
const DEFAULT_ROUNDS: usize = 3;

/// Where the run's records go.
pub fn report_dir(root: &Path) -> PathBuf {
    root.join("target/bench-report")
}

/// Criterion's home (`CRITERION_HOME`) for round `round` (from 1).
fn criterion_home(report_dir: &Path, round: usize) -> PathBuf {
    report_dir.join("criterion").join(format!("r{round}"))
}

/// What the rounds of one group added up to.
struct GroupRun {
    /// Wall time over all rounds.
    seconds: f64,
    /// Mean CPU other processes used while the group ran, in cores.
    load: f64,
    /// Every round succeeded.
    ok: bool,
    /// One log per round.
    logs: Vec<String>,
}

impl Default for GroupRun {
    fn default() -> Self {
        GroupRun {
            seconds: 0.0,
            load: 0.0,
            ok: true,
            logs: Vec::new(),
        }
    }
}

pub fn main(args: &[String]) -> Result<bool, String> {
    let command = format!("cargo xtask bench {}", args.join(" "));
    let mut args = Args::new(args);
    let quick = args.flag("--quick");
    let skip_servers = args.flag("--skip-servers");
    let skip_memory = args.flag("--skip-memory");
    let skip_instr = args.flag("--skip-instr");
    let warm_up = args.value("--warm-up")?.unwrap_or_else(|| "0.5".into());
    let measure = args.value("--measure")?.unwrap_or_else(|| "1".into());
    let rounds: usize = args
        .number("--rounds")?
        .unwrap_or(if quick { 1 } else { DEFAULT_ROUNDS });
    if rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    let only = args.positional()?;
    let selected: Vec<&Group> = GROUPS
        .iter()
        .filter(|g| only.is_empty() || only.iter().any(|o| o == g.id || o == g.bench))
        .collect();
    if selected.is_empty() {
        return Err(format!("no group matches {only:?}"));
    }
    let root = util::root();
    let dir = report_dir(&root);
    std::fs::create_dir_all(dir.join("logs")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let start = Instant::now();
    let started = SystemTime::now();

    let tools = Tools::find();
    eprintln!("bench: {}", tools.summary());
    eprintln!(
        "bench: {} groups x {rounds} rounds, --warm-up-time {warm_up} --measurement-time {measure}",
        selected.len()
    );

    // 1. Build.
    let meter = LoadMeter::start();
    let benches: Vec<&str> = BENCHES
        .into_iter()
        .filter(|b| selected.iter().any(|g| g.bench == *b))
        .collect();
    let bins = build_benches(&root, &benches)?;
    let memory_bin = if skip_memory {
        None
    } else {
        Some(build_example(&root, "memory")?)
    };
    let (took, load) = meter.stop();
    eprintln!(
        "[build] {:.0} s (other load {load:.1} cores)",
        took.as_secs_f64()
    );

    // 2. Criterion groups, in rounds: every selected group once per round, so that each
    //    entry is measured at `rounds` moments spread over the run (the report takes the
    //    median over rounds, and ratios as medians of per-round ratios).
    let homes: Vec<PathBuf> = (1..=rounds).map(|r| criterion_home(&dir, r)).collect();
    for home in &homes {
        // A round's estimates are read only from this run: start from an empty home.
        let _ = std::fs::remove_dir_all(home);
    }
    let mut per_group: Vec<GroupRun> = selected.iter().map(|_| GroupRun::default()).collect();
    for (r, home) in homes.iter().enumerate() {
        for (i, g) in selected.iter().enumerate() {
            let bin = &bins[g.bench];
            let filter = format!("^{}/", regex_escape(g.id));
            let log = dir
                .join("logs")
                .join(format!("{}.r{}.log", g.id.replace('/', "_"), r + 1));
            let meter = LoadMeter::start();
            let mut cmd = Command::new(bin);
            cmd.args([
                "--bench",
                "--warm-up-time",
                &warm_up,
                "--measurement-time",
                &measure,
            ])
            .arg(&filter)
            .env("CRITERION_HOME", home)
            .current_dir(&root);
            // The timer bench ends with an interleaved summary; once is enough.
            let last_timer = g.id == "timer_fire" && r + 1 == rounds;
            if g.bench == "timer" && !last_timer {
                cmd.env("WEFT_BENCH_NO_SUMMARY", "1");
            }
            let ok = run_logged(&mut cmd, &log)?;
            let (took, load) = meter.stop();
            eprintln!(
                "[round {}/{rounds} {:>2}/{}] {:<24} {:>4.0} s  other load {load:.1} cores{}",
                r + 1,
                i + 1,
                selected.len(),
                g.id,
                took.as_secs_f64(),
                if ok { "" } else { "  FAILED (see the log)" }
            );
            let run = &mut per_group[i];
            run.seconds += took.as_secs_f64();
            run.load += load / rounds as f64;
            run.ok &= ok;
            run.logs.push(
                log.strip_prefix(&root)
                    .unwrap_or(&log)
                    .display()
                    .to_string(),
            );
        }
    }
    let groups_run: Vec<Value> = selected
        .iter()
        .zip(&per_group)
        .map(|(g, run)| {
            json!({
                "id": g.id,
                "seconds": run.seconds,
                "other_load": run.load,
                "ok": run.ok,
                // The last round's log (the timer bench's summary is in it); all of them.
                "log": run.logs.last(),
                "logs": run.logs,
            })
        })
        .collect();

    // 3. Memory.
    let mut memory = BTreeMap::new();
    if let Some(bin) = memory_bin {
        let meter = LoadMeter::start();
        memory = run_memory(&bin)?;
        let (took, _) = meter.stop();
        eprintln!("[memory] {:.0} s", took.as_secs_f64());
    }

    // 4. Servers.
    let mut servers = Vec::new();
    for (name, script, needs, present) in [
        ("wrk", "benches/wrk.sh", "wrk", tools.wrk),
        (
            "redis",
            "benches/redis.sh",
            "redis-benchmark and redis-server",
            tools.redis,
        ),
    ] {
        let fragment = dir.join(format!("{name}.md"));
        let _ = std::fs::remove_file(&fragment);
        if skip_servers {
            servers.push(json!({"name": name, "skipped": "--skip-servers"}));
            continue;
        }
        if !present {
            let why =
                format!("{needs} not installed (apt-get install wrk redis-tools redis-server)");
            eprintln!("[{name}] skipped: {why}");
            servers.push(json!({"name": name, "skipped": why}));
            continue;
        }
        let meter = LoadMeter::start();
        let log = dir.join("logs").join(format!("{name}.log"));
        let mut cmd = Command::new("bash");
        cmd.arg(root.join(script))
            .current_dir(&root)
            .env("BENCH_REPORT_DIR", &dir);
        if name == "wrk" {
            // Rounds interleave the servers; the table gives medians of per-round ratios.
            cmd.arg("3s").env("ROUNDS", if quick { "1" } else { "5" });
        } else {
            cmd.env("REPS", "2")
                .env("N", if quick { "50000" } else { "100000" });
            cmd.env("QUIET_WAIT", "5").env("MINI_REDIS_INSTALL", "0");
        }
        let ok = run_logged(&mut cmd, &log)?;
        let (took, load) = meter.stop();
        eprintln!(
            "[{name}] {:.0} s  other load {load:.1} cores{}",
            took.as_secs_f64(),
            if ok { "" } else { "  FAILED (see the log)" }
        );
        servers.push(json!({"name": name, "ok": ok, "seconds": took.as_secs_f64()}));
    }

    // 5. Instruction counts.
    let mut instr = json!(null);
    if skip_instr || !tools.valgrind {
        let why = if skip_instr {
            "--skip-instr"
        } else {
            "valgrind not installed"
        };
        eprintln!("[instr] skipped: {why}");
        instr = json!({"skipped": why});
    } else {
        let meter = LoadMeter::start();
        // The verdict does not stop the run: the counts go into the report either way.
        let verdict = crate::instr::main(&[]);
        let (took, _) = meter.stop();
        eprintln!("[instr] {:.0} s", took.as_secs_f64());
        if let Err(e) = verdict {
            instr = json!({"skipped": e});
        }
    }

    // 6. The report.
    let run = json!({
        "command": command.trim_end(),
        "date": util::output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
            .unwrap_or_default(),
        "started_unix": started.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "seconds": start.elapsed().as_secs_f64(),
        "machine": machine::describe(),
        "commit": util::commit(&root),
        "rustc": util::output(Command::new("rustc").arg("--version")).unwrap_or_default(),
        "criterion_args": format!("--warm-up-time {warm_up} --measurement-time {measure}"),
        "rounds": rounds,
        "criterion_homes": homes
            .iter()
            .map(|h| h.strip_prefix(&root).unwrap_or(h).display().to_string())
            .collect::<Vec<_>>(),
        "groups": groups_run,
        "memory": memory,
        "servers": servers,
        "instr": instr,
    });
    let path = dir.join("run.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&run).unwrap_or_default(),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    crate::report::write(&root)?;
    eprintln!(
        "bench: done in {:.1} min; wrote BENCHMARKS.md",
        start.elapsed().as_secs_f64() / 60.0
    );
    Ok(true)
}

/// The optional tools the run uses.
struct Tools {
    wrk: bool,
    redis: bool,
    valgrind: bool,
}

impl Tools {
    fn find() -> Tools {
        let has = |tool: &str| {
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        Tools {
            wrk: has("wrk"),
            redis: has("redis-benchmark") && has("redis-server"),
            valgrind: has("valgrind"),
        }
    }

    fn summary(&self) -> String {
        let yes = |b: bool| if b { "yes" } else { "no" };
        format!(
            "wrk {}, redis-benchmark {}, valgrind {}",
            yes(self.wrk),
            yes(self.redis),
            yes(self.valgrind)
        )
    }
}

/// Builds the bench targets; returns each one's executable.
fn build_benches(root: &Path, benches: &[&str]) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut cmd = util::cargo();
    cmd.args([
        "bench",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    for b in benches {
        cmd.args(["--bench", b]);
    }
    let found = executables(cmd.current_dir(root), |t| benches.contains(&t))?;
    for b in benches {
        if !found.contains_key(*b) {
            return Err(format!("cargo built no executable for the bench {b}"));
        }
    }
    Ok(found)
}

/// Builds a release example; returns its executable.
fn build_example(root: &Path, name: &str) -> Result<PathBuf, String> {
    let mut cmd = util::cargo();
    cmd.args([
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
        "--example",
        name,
    ]);
    executables(cmd.current_dir(root), |t| t == name)?
        .remove(name)
        .ok_or_else(|| format!("cargo built no executable for the example {name}"))
}

/// Runs a cargo build with JSON messages and collects the executables of the targets `want`
/// accepts (compiler messages still reach the terminal).
fn executables(
    cmd: &mut Command,
    want: impl Fn(&str) -> bool,
) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let mut found = BTreeMap::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let (Some(name), Some(exe)) = (msg["target"]["name"].as_str(), msg["executable"].as_str())
        else {
            continue;
        };
        if want(name) {
            found.insert(name.to_string(), PathBuf::from(exe));
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{cmd:?} failed ({status})"));
    }
    Ok(found)
}

/// Runs `cmd` with its output going to `log`; says whether it succeeded.
fn run_logged(cmd: &mut Command, log: &Path) -> Result<bool, String> {
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let status = cmd
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    Ok(status.success())
}

/// Escapes the regex metacharacters that a group id may hold.
fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let meta = "\\.+*?()|[]{}^$".contains(c);
            meta.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// Runs every case of the `memory` example in its own process; `"<case> <runtime> <name>"`
/// to the printed values.
fn run_memory(bin: &Path) -> Result<BTreeMap<String, Vec<f64>>, String> {
    let mut out = BTreeMap::new();
    let cases: [(&str, &[&str]); 3] = [
        ("heap", &["heap"]),
        ("rss_tasks", &["rss", "tasks"]),
        ("rss_timers", &["rss", "timers"]),
    ];
    // Alternate the runtimes case by case (weft, tokio, weft, ...).
    for (case, args) in cases {
        for rt in ["weft", "tokio"] {
            let o = Command::new(bin)
                .args(args)
                .arg(rt)
                .output()
                .map_err(|e| format!("memory: {e}"))?;
            if !o.status.success() {
                return Err(format!(
                    "memory {} {rt} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&o.stderr)
                ));
            }
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                let mut f = line.split_whitespace();
                let Some(name) = f.next() else { continue };
                let values: Vec<f64> = f.filter_map(|v| v.parse().ok()).collect();
                out.insert(format!("{case} {rt} {name}"), values);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_become_anchored_filters() {
        assert_eq!(regex_escape("channel/ping_pong"), "channel/ping_pong");
        assert_eq!(regex_escape("a.b+c"), "a\\.b\\+c");
    }

    #[test]
    fn every_group_belongs_to_a_known_bench_and_ids_are_unique() {
        for g in GROUPS {
            assert!(BENCHES.contains(&g.bench), "{}", g.id);
            assert!(g.ops >= 1.0);
            assert_eq!(GROUPS.iter().filter(|h| h.id == g.id).count(), 1);
        }
    }
}
