//! Workspace tasks for weft, run as `cargo xtask <task>` (the alias is in
//! `.cargo/config.toml`).
//!
//! * `instr`: the instruction-count guard. Counts callgrind instructions per operation of
//!   the executor, timer and channel workloads (`benches/guard/instr.rs`), weft beside
//!   tokio, and compares them with `benches/guard/baseline.txt`.
//!
//! `cargo xtask help` prints the options of each task.

mod instr;
mod util;

use std::process::ExitCode;

const HELP: &str = "\
usage: cargo xtask <task> [options]

tasks:
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
