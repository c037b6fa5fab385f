//! Line charts drawn as SVG on the server: no chart library, nothing loaded from elsewhere.
//! Colours come from CSS classes (`series-0`, `series-1`, ...), so the SVG has no inline style.

use std::fmt::Write as _;

const W: f64 = 600.0;
const H: f64 = 180.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;

pub struct Series<'a> {
    pub name: &'a str,
    /// (unix seconds, value)
    pub points: Vec<(i64, f64)>,
}

/// A short number: 1234 -> "1.2k".
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn clock(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%H:%M").to_string())
        .unwrap_or_default()
}

/// An SVG line chart of `series` over [`from`, `to`] (unix seconds), y from 0.
pub fn line_chart(label: &str, unit: &str, from: i64, to: i64, series: &[Series<'_>]) -> String {
    let span = (to - from).max(1) as f64;
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let top = nice_ceiling(max);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |t: i64| LEFT + ((t - from) as f64 / span).clamp(0.0, 1.0) * pw;
    let y = |v: f64| TOP + ph - (v / top).clamp(0.0, 1.0) * ph;
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(label)
    );
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let yy = y(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 4.0,
            yy + 4.0,
            escape(&format!("{}{unit}", short(v)))
        );
    }
    for i in 0..=4 {
        let t = from + ((to - from) as f64 * f64::from(i) / 4.0) as i64;
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            x(t),
            H - 6.0,
            clock(t)
        );
    }
    for (i, s) in series.iter().enumerate() {
        if s.points.is_empty() {
            continue;
        }
        let pts: Vec<String> = s
            .points
            .iter()
            .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="line series-{i}" fill="none" points="{}"><title>{}</title></polyline>"#,
            pts.join(" "),
            escape(s.name)
        );
    }
    if series.iter().all(|s| s.points.is_empty()) {
        let _ = write!(
            out,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">no data yet</text>"#,
            W / 2.0,
            H / 2.0
        );
    }
    out.push_str("</svg>");
    out
}

/// 1, 2 or 5 times a power of ten, at least `v` (and at least 1).
fn nice_ceiling(v: f64) -> f64 {
    if !v.is_finite() || v <= 1.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Text for HTML/SVG markup built by hand (outside askama's escaping): `& < > "` escaped.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_lines_and_axes() {
        let svg = line_chart(
            "t<x>",
            " ms",
            0,
            100,
            &[Series {
                name: "p50",
                points: vec![(0, 1.0), (50, 7.0), (100, 3.0)],
            }],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<polyline") && svg.contains("t&lt;x&gt;"));
        assert!(!svg.contains("style="));
        assert!(line_chart("e", "", 0, 1, &[]).contains("no data yet"));
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(130.0), 200.0);
        assert_eq!(short(1234.0), "1.2k");
    }
}
