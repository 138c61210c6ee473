//! Workspace tasks for weft, run as `cargo xtask <task>` (the alias is in
//! `.cargo/config.toml`).
//!
//! * `bench`: every bench group with weft and its peers side by side, memory, the HTTP and
//!   Redis comparisons when their tools are installed, the instruction counts, then
//!   `BENCHMARKS.md` with a chart per group (`bench.rs`, `report.rs`, `svg.rs`).
//! * `report`: rewrites `BENCHMARKS.md` from the last run's records.
//! * `instr`: the instruction-count guard. Counts callgrind instructions per operation of
//!   the executor, timer and channel workloads (`benches/guard/instr.rs`), weft beside
//!   tokio, and compares them with `benches/guard/baseline.txt`.
//!
//! `cargo xtask help` prints the options of each task.

mod bench;
mod instr;
mod machine;
mod report;
mod svg;
mod util;

use std::process::ExitCode;

const HELP: &str = "\
usage: cargo xtask <task> [options]

tasks:
  bench [options] [GROUP|BENCH...]
      Runs every criterion group (or those named: a group id such as channel/oneshot, or
      a bench: executor, timer, channel, net) with weft and its peers, a progress line per
      group; then memory (benches/peers/memory.rs), benches/wrk.sh and benches/redis.sh
      when wrk and redis-benchmark are installed, the instruction counts when valgrind is;
      then writes BENCHMARKS.md and benches/charts/*.svg.
        --rounds N        run every criterion group N times, in rounds (default 3): times are
                          medians over rounds, ratios medians of per-round ratios
        --quick           one round, and one round of each server case
        --warm-up S       criterion's --warm-up-time (default 0.5)
        --measure S       criterion's --measurement-time (default 1)
        --skip-memory, --skip-servers, --skip-instr
  report
      Rewrites BENCHMARKS.md from the last `bench` run (target/bench-report/run.json).
  instr [options] [WORKLOAD...]
      The instruction-count guard: callgrind instructions per operation of the executor,
      timer and channel workloads (benches/guard/instr.rs), weft beside tokio, compared with
      benches/guard/baseline.txt. Fails when weft's count for a workload grows more than the
      tolerance, or its ratio to tokio's worsens more than the tolerance.
        --checkout DIR    measure the weft checkout in DIR (default: this workspace)
        --tolerance PCT   allowed growth, in percent (default 10)
        --save            write the counts to the baseline file instead of comparing
        --baseline FILE   the baseline file (default benches/guard/baseline.txt)
        --verify          run every count twice and fail if the two totals differ
        --jobs N          valgrind runs at once (default: the number of cores)
  help
      This text.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, rest)) => (t.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "bench" => bench::main(rest),
        "report" => report::main(rest),
        "instr" => instr::main(rest),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(true)
        }
        other => Err(format!(
            "unknown task {other:?}; `cargo xtask help` lists them"
        )),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}
