//! What the report says about the machine, and the load other processes put on it.

use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/stat` and `/proc/*/stat` (USER_HZ: 100 on Linux).
const HZ: f64 = 100.0;

/// A one-line description: CPU model, cores, memory, kernel.
pub fn describe() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{model}, {cores} cores (nproc), {mem_gib:.0} GiB, Linux {}",
        kernel.trim()
    )
}

/// Busy ticks of the whole machine (all but idle and iowait), and the CPU ticks of our
/// finished children (what we ran ourselves).
fn ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy = cpu
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 3 && i != 4 && i < 8)
        .map(|(_, v)| v)
        .sum();
    let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name: state is field 3; utime, stime, cutime, cstime are 14-17.
    let f: Vec<u64> = me
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let field = |n: usize| f.get(n - 3).copied().unwrap_or(0);
    (busy, field(14) + field(15) + field(16) + field(17))
}

/// Measures how much CPU other processes used while a stretch of our work ran.
pub struct LoadMeter {
    start: Instant,
    busy: u64,
    ours: u64,
}

impl LoadMeter {
    pub fn start() -> LoadMeter {
        let (busy, ours) = ticks();
        LoadMeter {
            start: Instant::now(),
            busy,
            ours,
        }
    }

    /// Wall time since `start`, and the other processes' CPU over it, in cores.
    pub fn stop(&self) -> (Duration, f64) {
        let (busy, ours) = ticks();
        let wall = self.start.elapsed();
        let others = busy.saturating_sub(self.busy) as f64 - ours.saturating_sub(self.ours) as f64;
        (wall, (others / HZ / wall.as_secs_f64().max(1e-3)).max(0.0))
    }
}
