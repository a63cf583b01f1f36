//! The status page: one read-only HTML page, rendered on the server, with no script and no
//! external asset (the host may have no internet; the page works with JavaScript off). It
//! refreshes itself every 30 s through a `<meta>` tag.
//!
//! Every string from outside the host's code (application and connector names, error texts
//! a target sent, watermarks, export result codes) goes through [`escape`]. The page answers
//! only requests addressed to a loopback name ([`host_is_loopback`]): a web page that points
//! its own domain at 127.0.0.1 (DNS rebinding) cannot read it.

use std::fmt::Write;

use actix_web::{HttpRequest, HttpResponse, web};

use super::AdminContext;
use super::chart::traffic_chart;
use super::report::{AppReport, AppState, HostReport, ImportReport, host_report};
use super::text::short_time;

/// Seconds between the page's own refreshes.
const REFRESH_SECS: u32 = 30;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(page))
        .default_service(web::to(not_found));
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("the status page is at /\n")
}

async fn page(req: HttpRequest, ctx: web::Data<AdminContext>) -> HttpResponse {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !host_is_loopback(host) {
        return HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("the status page answers requests for 127.0.0.1, [::1] or localhost only\n");
    }
    let report = host_report(&ctx, None);
    let minutes = ctx.state.traffic.last_hour();
    let html = render(&report, &traffic_chart(&minutes));
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // No script may run, nothing may be loaded: the page is text, styles and one SVG.
        .insert_header((
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
        ))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", "no-referrer"))
        .insert_header(("cache-control", "no-store"))
        .body(html)
}

/// Whether a `Host` header names this machine's loopback interface (any port).
pub fn host_is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f23;background:#fff}\
h1{font-size:1.4em;margin:0 0 .2em}p.meta{color:#57606a;margin:0 0 1em}\
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}\
th,td{border:1px solid #d0d7de;padding:.4em .6em;text-align:left;vertical-align:top}\
th{background:#f6f8fa}td.num{text-align:right}\
.state{font-weight:600;padding:.1em .5em;border-radius:.8em;white-space:nowrap}\
.ready{background:#dafbe1;color:#116329}.importing{background:#ddf4ff;color:#0550ae}\
.retrying,.starting{background:#fff8c5;color:#7d4e00}.failed{background:#ffebe9;color:#a40e26}\
.error{color:#a40e26;white-space:pre-wrap;word-break:break-word}small{color:#57606a}";

/// The whole page.
pub fn render(report: &HostReport, chart_svg: &str) -> String {
    let mut h = String::with_capacity(8 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>ecma-host status</title><style>{STYLE}</style></head><body>\n\
<h1>ecma-host status</h1>\n<p class=\"meta\">version {} &middot; pid {} &middot; started {} (up {}) &middot; SCIM at {} &middot; state in {} &middot; this page refreshes every {REFRESH_SECS} s</p>\n",
        escape(&report.version),
        report.pid,
        escape(&short_time(&report.started)),
        super::text::duration_words(report.uptime_secs),
        escape(&report.scim),
        escape(&report.state_dir),
    );
    h.push_str(
        "<table id=\"applications\"><caption style=\"text-align:left;font-weight:600;padding-bottom:.4em\">Applications</caption>\n\
<thead><tr><th>Application</th><th>State</th><th>Cache</th><th>Last full import</th>\
<th>Last delta import</th><th>Next autosync</th><th>Exports since start</th></tr></thead><tbody>\n",
    );
    for app in &report.applications {
        app_row(&mut h, app);
    }
    if report.applications.is_empty() {
        h.push_str("<tr><td colspan=\"7\">no application is configured</td></tr>\n");
    }
    h.push_str("</tbody></table>\n<h2 style=\"font-size:1.1em\">SCIM requests, last hour</h2>\n");
    h.push_str(chart_svg);
    h.push_str("\n</body></html>\n");
    h
}

fn app_row(h: &mut String, app: &AppReport) {
    let word = app.state.word();
    let _ = write!(
        h,
        "<tr class=\"app\" data-app=\"{name}\"><td><strong>{name}</strong><br><small>{connector}</small></td>\
<td><span class=\"state {word}\">{word}</span>",
        name = escape(&app.name),
        connector = escape(&app.connector),
    );
    if app.importing {
        let read = app.objects_read.unwrap_or_default();
        let _ = write!(h, "<br><small>importing now: {read} objects read</small>");
    }
    if let Some(secs) = app.retry_in_secs {
        let _ = write!(h, "<br><small>next attempt in {secs} s</small>");
    }
    if let Some(reason) = &app.reason
        && app.state != AppState::Ready
    {
        let _ = write!(h, "<div class=\"error\">{}</div>", escape(reason));
    }
    if let Some(failure) = &app.last_failure {
        let _ = write!(
            h,
            "<div class=\"error\">last {} import failed at {}: {}</div>",
            if failure.full { "full" } else { "delta" },
            escape(&short_time(&failure.started)),
            escape(failure.first_error.as_deref().unwrap_or("(no message)"))
        );
    }
    h.push_str("</td><td>");
    if app.cache.is_empty() {
        h.push_str("&ndash;");
    }
    for c in &app.cache {
        let _ = write!(
            h,
            "{}: <strong>{}</strong><br>",
            escape(&c.resource_type),
            c.objects
        );
    }
    h.push_str("</td>");
    import_cell(h, app.last_full.as_ref());
    import_cell(h, app.last_delta.as_ref());
    h.push_str("<td>");
    match &app.next_run {
        Some(at) => {
            let _ = write!(
                h,
                "{}<br><small>{}</small>",
                escape(&short_time(at)),
                escape(app.next_run_kind.as_deref().unwrap_or(""))
            );
        }
        None if app.autosync_minutes <= 0.0 => h.push_str("autosync off"),
        None => {
            let _ = write!(h, "every {} min, not scheduled yet", app.autosync_minutes);
        }
    }
    let marks: Vec<(&String, &String)> = app
        .watermarks
        .iter()
        .filter(|(_, w)| !w.is_empty())
        .collect();
    if !marks.is_empty() {
        h.push_str("<br><small>watermark: ");
        for (i, (ot, w)) in marks.into_iter().enumerate() {
            let _ = write!(
                h,
                "{}{}: {}",
                if i > 0 { ", " } else { "" },
                escape(ot),
                escape(w)
            );
        }
        h.push_str("</small>");
    }
    h.push_str("</td><td>");
    if app.exports.is_empty() {
        h.push_str("none");
    }
    for (code, n) in &app.exports {
        let _ = write!(h, "{}: {n}<br>", escape(code));
    }
    h.push_str("</td></tr>\n");
}

fn import_cell(h: &mut String, run: Option<&ImportReport>) {
    let Some(r) = run else {
        h.push_str("<td>none yet</td>");
        return;
    };
    let _ = write!(
        h,
        "<td>{} <small>({:.1} s)</small><br>{} objects: +{} added, {} changed, &minus;{} deleted, {} unchanged<br>{} errors",
        escape(&short_time(&r.started)),
        r.duration_ms as f64 / 1000.0,
        r.objects,
        r.added,
        r.changed,
        r.deleted,
        r.unchanged,
        r.errors
    );
    if let Some(e) = &r.first_error {
        let _ = write!(h, "<div class=\"error\">{}</div>", escape(e));
    }
    h.push_str("</td>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_loopback_host_names() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        for ok in [
            "127.0.0.1:8586",
            "localhost:8586",
            "LOCALHOST",
            "[::1]:8586",
            "127.1.2.3",
        ] {
            assert!(host_is_loopback(ok), "{ok}");
        }
        for bad in [
            "evil.example:8586",
            "",
            "10.0.0.1:8586",
            "localhost.evil.example",
        ] {
            assert!(!host_is_loopback(bad), "{bad}");
        }
    }
}
