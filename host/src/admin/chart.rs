//! The status page's chart as inline SVG: requests per minute as bars, mean latency as a
//! line on its own scale, over the last hour. Only numbers go into it (no text from outside).

use std::fmt::Write;

use super::traffic::Minute;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 64.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 28.0;

/// Bars and a line for `minutes` (oldest first).
pub fn traffic_chart(minutes: &[Minute]) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max_requests = minutes.iter().map(|m| m.requests).max().unwrap_or(0).max(1);
    let max_ms = minutes
        .iter()
        .map(|m| m.mean_ms)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let total: u64 = minutes.iter().map(|m| m.requests).sum();
    let errors: u64 = minutes.iter().map(|m| m.errors).sum();
    let n = minutes.len().max(1) as f64;
    let slot = plot_w / n;
    let mut s = String::with_capacity(16 * 1024);
    let _ = write!(
        s,
        "<svg id=\"traffic\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"SCIM requests per minute and mean latency over the last hour\">\
<title>{total} requests ({errors} answered 5xx) in the last hour; busiest minute {max_requests}; highest mean latency {max_ms:.1} ms</title>\
<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"#f6f8fa\" stroke=\"#d0d7de\"/>"
    );
    for (i, m) in minutes.iter().enumerate() {
        if m.requests == 0 {
            continue;
        }
        let bar_h = plot_h * m.requests as f64 / max_requests as f64;
        let x = LEFT + i as f64 * slot + slot * 0.1;
        let y = TOP + plot_h - bar_h;
        let fill = if m.errors > 0 { "#cf222e" } else { "#0969da" };
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bar_h:.1}\" fill=\"{fill}\" opacity=\"0.75\"><title>{} requests, {} 5xx, mean {:.1} ms</title></rect>",
            slot * 0.8,
            m.requests,
            m.errors,
            m.mean_ms
        );
    }
    let points: Vec<String> = minutes
        .iter()
        .enumerate()
        .filter(|(_, m)| m.requests > 0)
        .map(|(i, m)| {
            let x = LEFT + (i as f64 + 0.5) * slot;
            let y = TOP + plot_h - plot_h * m.mean_ms / max_ms;
            format!("{x:.1},{y:.1}")
        })
        .collect();
    if !points.is_empty() {
        let _ = write!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#bc4c00\" stroke-width=\"2\"/>",
            points.join(" ")
        );
        for p in &points {
            let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                s,
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"2.5\" fill=\"#bc4c00\"/>"
            );
        }
    }
    let base = TOP + plot_h;
    let _ = write!(
        s,
        "<g font-family=\"sans-serif\" font-size=\"11\" fill=\"#57606a\">\
<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{max_requests}/min</text>\
<text x=\"{lx}\" y=\"{base}\" text-anchor=\"end\">0</text>\
<text x=\"{rx}\" y=\"{ty}\" fill=\"#bc4c00\">{max_ms:.0} ms</text>\
<text x=\"{rx}\" y=\"{base}\" fill=\"#bc4c00\">0 ms</text>\
<text x=\"{LEFT}\" y=\"{by}\">60 min ago</text>\
<text x=\"{end}\" y=\"{by}\" text-anchor=\"end\">now</text>\
<text x=\"{mid}\" y=\"{by}\" text-anchor=\"middle\">{total} requests, {errors} 5xx &#8212; bars: requests/min, line: mean latency</text></g></svg>",
        lx = LEFT - 6.0,
        ty = TOP + 10.0,
        rx = WIDTH - RIGHT + 6.0,
        by = HEIGHT - 8.0,
        end = WIDTH - RIGHT,
        mid = LEFT + plot_w / 2.0,
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bar_per_minute_with_traffic_and_a_line_through_their_latencies() {
        let mut minutes = vec![Minute::default(); 60];
        minutes[10] = Minute {
            requests: 4,
            mean_ms: 12.0,
            ..Minute::default()
        };
        minutes[59] = Minute {
            requests: 2,
            errors: 1,
            mean_ms: 3.0,
            ..Minute::default()
        };
        let svg = traffic_chart(&minutes);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert_eq!(
            svg.matches("requests, ").count(),
            3,
            "two bars and the legend: {svg}"
        );
        assert!(svg.contains("4/min") && svg.contains("12 ms"), "{svg}");
        assert!(
            svg.contains("#cf222e"),
            "a minute with 5xx answers is red: {svg}"
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        // No traffic at all: an empty frame, no line.
        let empty = traffic_chart(&vec![Minute::default(); 60]);
        assert!(!empty.contains("<polyline") && empty.contains("0 requests"));
    }
}
