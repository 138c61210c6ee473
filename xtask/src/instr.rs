//! The instruction-count guard: a regression check that does not depend on wall time.
//!
//! The workloads live in `benches/guard/instr.rs` (and its modules beside it). For a weft checkout (this workspace, or
//! `--checkout DIR`), that file is built as a small package of its own against the
//! checkout's `weft` (release, LTO, one codegen unit, as the benches are built; the
//! checkout's `Cargo.lock` pins tokio), in `target/instr/<checkout>/`. Building it outside
//! the checkout means the same harness measures any commit, before or after a refactor.
//!
//! Each workload runs under `valgrind --tool=callgrind` at two sizes, `n` and `2n`, on weft
//! and on tokio. The figure is `(total(2n) - total(n)) / (ops(2n) - ops(n))`: instructions
//! per operation, with process start-up, runtime construction and all other fixed costs
//! cancelled out. The counts do not depend on other load on the machine: `--verify` runs
//! everything twice and reports how many totals came out the same (most; the rest differ by
//! branches on the clock's value, see `VERIFY_LIMIT`).
//!
//! The verdict, for each workload in the baseline: weft's count may grow by at most the
//! tolerance (10 %), and so may its ratio to tokio's count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::util::{self, Args};

/// The guard's workloads, their base size `n` and the part of weft they exercise.
/// Sizes are small: a count takes a second or two under callgrind.
pub const WORKLOADS: &[(&str, u64, &str)] = &[
    ("spawn", 1_000, "executor"),
    ("yield", 2_000, "executor"),
    ("chained_spawn", 1_000, "executor"),
    ("ping_pong", 1_000, "channel"),
    ("mpsc_throughput", 20_000, "channel"),
    ("oneshot", 1_000, "channel"),
    ("broadcast", 200, "channel"),
    ("mutex", 5_000, "channel"),
    ("watch_select", 2_000, "channel"),
    ("timer_insert_cancel", 2_000, "timer"),
    ("timer_fire", 1_000, "timer"),
];

const RUNTIMES: [&str; 2] = ["weft", "tokio"];

/// tokio's features in the guard's build: those the workspace's benches build it with.
const TOKIO_FEATURES: &str =
    r#"["rt", "rt-multi-thread", "macros", "time", "sync", "net", "io-util"]"#;

/// How far, in percent, `--verify` lets a per-operation figure move between two runs. Not
/// every total repeats exactly: a few branches depend on the clock's value (the carry when
/// `Instant + Duration` overflows a second, in tokio's timer workload up to 0.9 % of the
/// figure; weft's driver poll after a spent budget when the last park is 1 ms old).
const VERIFY_LIMIT: f64 = 2.0;

/// Where the baseline lives, relative to the workspace root.
pub const BASELINE: &str = "benches/guard/baseline.txt";

/// Instructions per operation of one workload on both runtimes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Counts {
    pub n: u64,
    pub weft: f64,
    pub tokio: f64,
}

impl Counts {
    pub fn ratio(&self) -> f64 {
        self.weft / self.tokio
    }
}

pub fn main(args: &[String]) -> Result<bool, String> {
    let mut args = Args::new(args);
    let root = util::root();
    let checkout = match args.value("--checkout")? {
        Some(dir) => std::fs::canonicalize(&dir).map_err(|e| format!("--checkout {dir}: {e}"))?,
        None => root.clone(),
    };
    let tolerance = args.number::<f64>("--tolerance")?.unwrap_or(10.0);
    let baseline = match args.value("--baseline")? {
        Some(f) => PathBuf::from(f),
        None => root.join(BASELINE),
    };
    let save = args.flag("--save");
    let verify = args.flag("--verify");
    let jobs = args
        .number::<usize>("--jobs")?
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let names = args.positional()?;
    for name in &names {
        if !WORKLOADS.iter().any(|w| w.0 == name) {
            return Err(format!("unknown workload {name:?}"));
        }
    }
    let selected: Vec<_> = WORKLOADS
        .iter()
        .filter(|w| names.is_empty() || names.iter().any(|n| n == w.0))
        .copied()
        .collect();

    let valgrind = util::output(Command::new("valgrind").arg("--version"))
        .ok_or("needs valgrind (apt-get install valgrind)")?;
    let start = std::time::Instant::now();
    let bin = build(&root, &checkout)?;
    let built = start.elapsed();
    eprintln!(
        "instr: built {} in {:.0} s; counting with {valgrind}, {jobs} at a time",
        bin.display(),
        built.as_secs_f64()
    );
    let counts = measure(&bin, &selected, jobs, verify)?;
    eprintln!(
        "instr: done in {:.0} s ({:.0} s counting)",
        start.elapsed().as_secs_f64(),
        (start.elapsed() - built).as_secs_f64()
    );
    let commit = util::commit(&checkout);
    let last = root.join("target/instr/last.txt");
    let header = format!(
        "checkout {commit} ({}), {valgrind}, {}",
        checkout.display(),
        util::output(Command::new("rustc").arg("--version")).unwrap_or_default()
    );
    std::fs::write(&last, write_counts(&header, &counts))
        .map_err(|e| format!("{}: {e}", last.display()))?;

    if save {
        std::fs::write(&baseline, write_counts(&header, &counts))
            .map_err(|e| format!("{}: {e}", baseline.display()))?;
        print!("{}", table(&counts, None, tolerance).0);
        println!("\nwrote {}", baseline.display());
        return Ok(true);
    }
    let text = std::fs::read_to_string(&baseline)
        .map_err(|e| format!("{}: {e} (write one with --save)", baseline.display()))?;
    let base = parse_counts(&text)?;
    let (report, ok) = table(&counts, Some(&base), tolerance);
    print!("{report}");
    println!(
        "\n{} (tolerance {tolerance} %, baseline {})",
        if ok { "guard: pass" } else { "guard: FAIL" },
        baseline.display()
    );
    Ok(ok)
}

/// Writes the guard's package for `checkout` and builds it; returns the binary.
fn build(root: &Path, checkout: &Path) -> Result<PathBuf, String> {
    let key = if checkout == root {
        "self".to_string()
    } else {
        checkout
            .to_string_lossy()
            .trim_matches('/')
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    };
    let dir = root.join("target/instr").join(key);
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let manifest = format!(
        "# Written by `cargo xtask instr`: the guard's workloads (benches/guard/instr.rs)\n\
         # built against the weft checkout in {checkout}.\n\
         [package]\nname = \"weft-instr\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [[bin]]\nname = \"instr\"\npath = \"src/main.rs\"\n\n\
         [dependencies]\nweft = {{ path = {checkout:?} }}\n\
         tokio = {{ version = \"1\", features = {TOKIO_FEATURES} }}\n\n\
         [profile.release]\nlto = true\ncodegen-units = 1\n\n\
         [workspace]\n",
        checkout = checkout.display().to_string(),
    );
    write_if_changed(&dir.join("Cargo.toml"), manifest.as_bytes())?;
    // benches/guard/instr.rs is the binary; the other files there are its modules.
    let guard = root.join("benches/guard");
    let files = std::fs::read_dir(&guard).map_err(|e| format!("{}: {e}", guard.display()))?;
    for file in files {
        let path = file.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if let Some(module) = name.strip_suffix(".rs") {
            let source = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let target = if module == "instr" { "main.rs" } else { &name };
            write_if_changed(&dir.join("src").join(target), &source)?;
        }
    }
    // The checkout's lock file pins tokio and the rest; cargo prunes what this package does
    // not use. Copied again only when the checkout's changes.
    if let Ok(lock) = std::fs::read(checkout.join("Cargo.lock")) {
        if write_if_changed(&dir.join("Cargo.lock.src"), &lock)? {
            std::fs::write(dir.join("Cargo.lock"), &lock).map_err(|e| e.to_string())?;
        }
    }
    util::run(
        util::cargo()
            .args(["build", "--release", "--quiet", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(dir.join("target")),
    )?;
    Ok(dir.join("target/release/instr"))
}

/// Writes `bytes` to `path` unless it already holds them (so cargo sees no change); says
/// whether it wrote.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, String> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(true)
}

/// One run of the binary under callgrind: the instructions it executed and the operations
/// it reported.
fn callgrind(bin: &Path, workload: &str, runtime: &str, n: u64) -> Result<(u64, u64), String> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(bin)
        .args([workload, runtime, &n.to_string()])
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("{workload} {runtime} {n} failed:\n{stderr}"));
    }
    let total = stderr
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, v)| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            format!("{workload} {runtime} {n}: no total in callgrind's output:\n{stderr}")
        })?;
    let ops = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("{workload} {runtime} {n}: no operation count on stdout"))?;
    Ok((total, ops))
}

/// Counts every selected workload on both runtimes at `n` and `2n`, `jobs` runs at a time.
fn measure(
    bin: &Path,
    selected: &[(&str, u64, &str)],
    jobs: usize,
    verify: bool,
) -> Result<Vec<(String, Counts)>, String> {
    let repeats = if verify { 2 } else { 1 };
    let mut runs = Vec::new();
    for &(w, n, _) in selected {
        for rt in RUNTIMES {
            for size in [n, 2 * n] {
                for rep in 0..repeats {
                    runs.push((w, rt, size, rep));
                }
            }
        }
    }
    let next = AtomicUsize::new(0);
    let results = Mutex::new(BTreeMap::new());
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(w, rt, size, rep)) = runs.get(i) else {
                    break;
                };
                match callgrind(bin, w, rt, size) {
                    Ok(r) => {
                        results.lock().unwrap().insert((w, rt, size, rep), r);
                    }
                    Err(e) => errors.lock().unwrap().push(e),
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap();
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    let results = results.into_inner().unwrap();
    let per_op = |w: &str, rt: &str, n: u64, rep: usize| {
        let (t1, o1) = results[&(w, rt, n, rep)];
        let (t2, o2) = results[&(w, rt, 2 * n, rep)];
        (t2 as f64 - t1 as f64) / (o2 as f64 - o1 as f64)
    };
    if verify {
        let (mut same, mut worst) = (0, (0.0, String::new()));
        for (&(w, rt, size, rep), &(total, _)) in &results {
            if rep == 0 {
                continue;
            }
            let first = results[&(w, rt, size, 0)].0;
            if first == total {
                same += 1;
            } else {
                eprintln!("instr: --verify: {w} {rt} {size}: total {first} then {total}");
            }
        }
        for &(w, n, _) in selected {
            for rt in RUNTIMES {
                let (a, b) = (per_op(w, rt, n, 0), per_op(w, rt, n, 1));
                let d = (b / a - 1.0).abs() * 100.0;
                if d >= worst.0 {
                    worst = (d, format!("{w} on {rt}: {a:.2} then {b:.2}"));
                }
            }
        }
        eprintln!(
            "instr: --verify: {same} of {} totals the same twice; per operation, the largest \
             difference is {:.3} % ({})",
            results.len() / 2,
            worst.0,
            worst.1
        );
        if worst.0 > VERIFY_LIMIT {
            return Err(format!(
                "a figure moved by more than {VERIFY_LIMIT} % between two runs"
            ));
        }
    }
    Ok(selected
        .iter()
        .map(|&(w, n, _)| {
            let c = Counts {
                n,
                weft: per_op(w, "weft", n, 0),
                tokio: per_op(w, "tokio", n, 0),
            };
            (w.to_string(), c)
        })
        .collect())
}

/// The baseline file's text: a header of `#` lines, then `workload n weft tokio` per line.
pub fn write_counts(header: &str, counts: &[(String, Counts)]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# weft's instruction-count guard (`cargo xtask instr`): callgrind instructions per\n\
         # operation, the difference of runs at n and 2n operations divided by n.\n\
         # {header}\n\
         # workload                 n        weft       tokio"
    );
    for (w, c) in counts {
        let _ = writeln!(s, "{w:<20} {:>7} {:>11.1} {:>11.1}", c.n, c.weft, c.tokio);
    }
    s
}

/// Reads what `write_counts` wrote.
pub fn parse_counts(text: &str) -> Result<BTreeMap<String, Counts>, String> {
    let mut map = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("baseline: cannot read {line:?}");
        let [w, n, weft, tokio] = f[..] else {
            return Err(bad());
        };
        let c = Counts {
            n: n.parse().map_err(|_| bad())?,
            weft: weft.parse().map_err(|_| bad())?,
            tokio: tokio.parse().map_err(|_| bad())?,
        };
        map.insert(w.to_string(), c);
    }
    Ok(map)
}

/// The verdict for one workload: `None` when it passes, or what grew too much.
pub fn verdict(now: &Counts, base: &Counts, tolerance: f64) -> Option<String> {
    let limit = 1.0 + tolerance / 100.0;
    let mut why = Vec::new();
    if now.weft > base.weft * limit {
        why.push(format!(
            "weft +{:.1} %",
            (now.weft / base.weft - 1.0) * 100.0
        ));
    }
    if now.ratio() > base.ratio() * limit {
        why.push(format!(
            "weft/tokio +{:.1} %",
            (now.ratio() / base.ratio() - 1.0) * 100.0
        ));
    }
    (!why.is_empty()).then(|| why.join(", "))
}

/// The table the guard prints, and whether every workload passed.
fn table(
    counts: &[(String, Counts)],
    base: Option<&BTreeMap<String, Counts>>,
    tolerance: f64,
) -> (String, bool) {
    let mut s = String::new();
    let mut ok = true;
    let _ = write!(
        s,
        "{:<20} {:>10} {:>10} {:>10}",
        "instr/op", "weft", "tokio", "weft/tokio"
    );
    if base.is_some() {
        let _ = write!(
            s,
            " {:>10} {:>8} {:>10} {:>8}  verdict",
            "base weft", "change", "base ratio", "change"
        );
    }
    s.push('\n');
    for (w, c) in counts {
        let _ = write!(
            s,
            "{w:<20} {:>10.1} {:>10.1} {:>10.3}",
            c.weft,
            c.tokio,
            c.ratio()
        );
        if let Some(base) = base {
            match base.get(w) {
                None => s.push_str("  (not in the baseline)"),
                Some(b) => {
                    let v = verdict(c, b, tolerance);
                    ok &= v.is_none();
                    let _ = write!(
                        s,
                        " {:>10.1} {:>+7.1}% {:>10.3} {:>+7.1}%  {}",
                        b.weft,
                        (c.weft / b.weft - 1.0) * 100.0,
                        b.ratio(),
                        (c.ratio() / b.ratio() - 1.0) * 100.0,
                        v.map_or("ok".to_string(), |why| format!("FAIL: {why}")),
                    );
                    if b.n != c.n {
                        let _ = write!(s, " (baseline taken at n = {})", b.n);
                    }
                }
            }
        }
        s.push('\n');
    }
    (s, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(weft: f64, tokio: f64) -> Counts {
        Counts {
            n: 1_000,
            weft,
            tokio,
        }
    }

    #[test]
    fn the_baseline_file_reads_back_what_was_written() {
        let written = vec![
            ("spawn".to_string(), counts(512.25, 1_900.0)),
            ("oneshot".to_string(), counts(1_080.0, 2_400.5)),
        ];
        let text = write_counts("checkout abc", &written);
        let read = parse_counts(&text).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read["oneshot"], counts(1_080.0, 2_400.5));
        // One decimal is kept.
        assert!((read["spawn"].weft - 512.2).abs() < 0.051);
        assert!(parse_counts("spawn 1000 12").is_err());
    }

    #[test]
    fn growth_beyond_the_tolerance_fails_and_within_it_passes() {
        let base = counts(1_000.0, 2_000.0);
        assert_eq!(verdict(&counts(1_099.0, 2_000.0), &base, 10.0), None);
        assert_eq!(verdict(&counts(900.0, 2_000.0), &base, 10.0), None);
        let grown = verdict(&counts(1_150.0, 2_000.0), &base, 10.0).unwrap();
        assert!(grown.contains("weft +15.0 %") && grown.contains("weft/tokio +15.0 %"));
        // tokio got cheaper (another tokio version): weft's count alone is unchanged, but
        // its ratio to tokio's worsened by 25 %.
        let ratio = verdict(&counts(1_000.0, 1_600.0), &base, 10.0).unwrap();
        assert_eq!(ratio, "weft/tokio +25.0 %");
        // A 3 % tolerance, as a refactor's check would use.
        assert!(verdict(&counts(1_040.0, 2_000.0), &base, 3.0).is_some());
    }

    #[test]
    fn a_failing_workload_fails_the_table() {
        let base: BTreeMap<_, _> = [("spawn".to_string(), counts(1_000.0, 2_000.0))].into();
        let now = vec![("spawn".to_string(), counts(1_200.0, 2_000.0))];
        let (text, ok) = table(&now, Some(&base), 10.0);
        assert!(!ok && text.contains("FAIL"));
        let now = vec![("spawn".to_string(), counts(1_010.0, 2_000.0))];
        assert!(table(&now, Some(&base), 10.0).1);
    }
}
