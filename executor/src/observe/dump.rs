//! The task dump: a readable table of every live task (asyncio's `all_tasks`, tokio's dump).

use std::fmt::Write;
use std::time::Duration;

use super::TaskSnapshot;

fn fmt_duration(d: Option<Duration>) -> String {
    match d {
        None => "-".to_string(),
        Some(d) if d < Duration::from_millis(1) => format!("{}us", d.as_micros()),
        Some(d) if d < Duration::from_secs(1) => format!("{:.1}ms", d.as_secs_f64() * 1e3),
        Some(d) => format!("{:.2}s", d.as_secs_f64()),
    }
}

/// Renders `tasks` as a table.
pub(crate) fn render(tasks: &[TaskSnapshot]) -> String {
    let rows: Vec<[String; 7]> = tasks
        .iter()
        .map(|t| {
            [
                t.id.to_string(),
                t.name.as_deref().unwrap_or("-").to_string(),
                t.state.to_string(),
                t.polls.to_string(),
                fmt_duration(t.poll_time),
                fmt_duration(t.since_wake),
                format!("{}:{}", t.location.file(), t.location.line()),
            ]
        })
        .collect();
    let header = [
        "ID",
        "NAME",
        "STATE",
        "POLLS",
        "POLL TIME",
        "SINCE WAKE",
        "SPAWNED AT",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                let _ = write!(out, "{c}");
            } else {
                let _ = write!(out, "{c:<w$}  ");
            }
        }
        out.push('\n');
    };
    line(&mut out, &header);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&mut out, &cells);
    }
    let _ = write!(out, "{} task(s)", rows.len());
    out
}
