//! Hand-written SVG bar charts: one horizontal bar per runtime, time per operation.
//!
//! A page of bars needs no plotting library: a few rectangles and text elements, sized from
//! the longest label and the largest value.

use std::fmt::Write as _;

/// One bar: a label, a value, and whether it is weft's (drawn in weft's colour).
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub weft: bool,
}

const WIDTH: f64 = 720.0;
const ROW: f64 = 22.0;
const TOP: f64 = 34.0;
const CHAR: f64 = 7.2;

/// Escapes text for SVG.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Formats nanoseconds with a unit that keeps three significant digits or so.
pub fn format_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns >= 100.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.1} ns")
    }
}

/// A horizontal bar chart of `bars` (nanoseconds), titled `title`, lower is better.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let label_w = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0) as f64
        * CHAR
        + 16.0;
    let value_w = 80.0;
    let plot_w = (WIDTH - label_w - value_w).max(100.0);
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max).max(1e-9);
    let height = TOP + ROW * bars.len() as f64 + 12.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="8" y="20" font-size="14" font-weight="bold">{}</text>"#,
        escape(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let w = (b.value / max * plot_w).max(1.0);
        let fill = if b.weft { "#d9480f" } else { "#868e96" };
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            y + 15.0,
            escape(&b.label)
        );
        let _ = writeln!(
            s,
            r#"<rect x="{label_w:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{fill}"/>"#,
            y + 3.0,
            ROW - 6.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            label_w + w + 6.0,
            y + 15.0,
            escape(&format_ns(b.value))
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_one_bar_per_entry_scaled_to_the_largest() {
        let bars = vec![
            Bar {
                label: "weft".into(),
                value: 50.0,
                weft: true,
            },
            Bar {
                label: "tokio <current_thread>".into(),
                value: 100.0,
                weft: false,
            },
        ];
        let svg = bar_chart("spawn_many & co", &bars);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(
            svg.contains("spawn_many &amp; co") && svg.contains("tokio &lt;current_thread&gt;")
        );
        // weft's bar is half tokio's.
        let widths: Vec<f64> = svg
            .match_indices(r#"width=""#)
            .skip(2) // the svg element and the background
            .map(|(i, m)| {
                let rest = &svg[i + m.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(widths.len(), 2);
        assert!((widths[0] * 2.0 - widths[1]).abs() < 0.2, "{widths:?}");
    }

    #[test]
    fn times_get_a_readable_unit() {
        assert_eq!(format_ns(12.34), "12.3 ns");
        assert_eq!(format_ns(123.4), "123 ns");
        assert_eq!(format_ns(12_345.0), "12.35 µs");
        assert_eq!(format_ns(2_500_000.0), "2.50 ms");
    }
}
