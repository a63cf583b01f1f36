//! `ecma-host status` for people: one block per application. Text from outside the host
//! (error messages a target sent, names) has its control characters replaced, so it cannot
//! move the cursor or recolour the terminal.

use std::fmt::Write;

use super::api::ImportOutcome;
use super::report::{AppReport, AppState, HostReport, ImportReport};

/// `3723` → `1 h 02 min`.
pub fn duration_words(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {:02} s", s / 60, s % 60),
        s if s < 86_400 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// `2024-05-01T10:00:00.123456Z` → `2024-05-01 10:00:00Z`: seconds are precise enough to
/// read, and the full value stays in the JSON.
pub fn short_time(rfc3339: &str) -> String {
    let (date_time, zone) = match rfc3339.find(['Z', '+']) {
        Some(i) => rfc3339.split_at(i),
        None => (rfc3339, ""),
    };
    let seconds = date_time.split('.').next().unwrap_or(date_time);
    format!("{}{zone}", seconds.replacen('T', " ", 1))
}

/// Text safe to print: control characters (escape sequences among them) become `?`.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { '?' } else { c })
        .collect::<String>()
        .replace('\n', " / ")
}

/// The whole report.
pub fn render(report: &HostReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ecma-host {} (pid {}), up {}; SCIM at {}; status page: {}",
        report.version,
        report.pid,
        duration_words(report.uptime_secs),
        report.scim,
        report.status_page.as_deref().unwrap_or("off"),
    );
    for app in &report.applications {
        out.push('\n');
        render_app(&mut out, app);
    }
    out
}

fn render_app(out: &mut String, app: &AppReport) {
    let _ = write!(
        out,
        "{} (connector {}): {}",
        printable(&app.name),
        printable(&app.connector),
        app.state.word()
    );
    if let Some(secs) = app.retry_in_secs {
        let _ = write!(out, ", next attempt in {secs} s");
    }
    if app.importing {
        let _ = write!(
            out,
            ", importing now ({} objects read)",
            app.objects_read.unwrap_or_default()
        );
    }
    out.push('\n');
    if let Some(reason) = &app.reason
        && app.state != AppState::Ready
    {
        let _ = writeln!(out, "  why:          {}", printable(reason));
    }
    let cache = if app.cache.is_empty() {
        "-".to_owned()
    } else {
        app.cache
            .iter()
            .map(|c| {
                format!(
                    "{} {} ({})",
                    printable(&c.resource_type),
                    c.objects,
                    printable(&c.object_type)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "  cache:        {cache}");
    let _ = writeln!(
        out,
        "  last full:    {}",
        import_words(app.last_full.as_ref())
    );
    let _ = writeln!(
        out,
        "  last delta:   {}",
        import_words(app.last_delta.as_ref())
    );
    if let Some(f) = &app.last_failure {
        let _ = writeln!(
            out,
            "  last failure: {} import at {}: {}",
            if f.full { "full" } else { "delta" },
            printable(&short_time(&f.started)),
            printable(f.first_error.as_deref().unwrap_or("(no message)"))
        );
    }
    let marks: Vec<String> = app
        .watermarks
        .iter()
        .filter(|(_, w)| !w.is_empty())
        .map(|(ot, w)| format!("{} {}", printable(ot), printable(w)))
        .collect();
    if !marks.is_empty() {
        let _ = writeln!(out, "  watermark:    {}", marks.join(", "));
    }
    let next = match &app.next_run {
        Some(at) => format!(
            "{} ({})",
            printable(&short_time(at)),
            printable(app.next_run_kind.as_deref().unwrap_or("import"))
        ),
        None if app.autosync_minutes <= 0.0 => "autosync off".to_owned(),
        None => format!(
            "not scheduled yet (autosync every {} min)",
            app.autosync_minutes
        ),
    };
    let _ = writeln!(out, "  next run:     {next}");
    let exports = if app.exports.is_empty() {
        "none".to_owned()
    } else {
        app.exports
            .iter()
            .map(|(code, n)| format!("{} {n}", printable(code)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "  exports:      {exports} (since start)");
}

/// One import run in a line.
pub fn import_words(run: Option<&ImportReport>) -> String {
    let Some(r) = run else {
        return "none yet".to_owned();
    };
    let mut s = format!(
        "{} ({:.1} s): {}",
        printable(&short_time(&r.started)),
        r.duration_ms as f64 / 1000.0,
        counts(r)
    );
    if let Some(e) = &r.first_error {
        let _ = write!(s, "; first error: {}", printable(e));
    }
    s
}

/// `250 objects: 3 added, 1 changed, 0 deleted, 246 unchanged, 0 entry errors`.
pub fn counts(r: &ImportReport) -> String {
    format!(
        "{} objects: {} added, {} changed, {} deleted, {} unchanged, {} entry errors",
        r.objects, r.added, r.changed, r.deleted, r.unchanged, r.errors
    )
}

/// The answer to `ecma-host import` against the running host.
pub fn import_outcome(o: &ImportOutcome) -> String {
    let mut s = format!(
        "{} import of '{}' on the running host{}: {}, {} ms",
        if o.import.full { "full" } else { "delta" },
        printable(&o.app),
        if o.dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        },
        counts(&o.import),
        o.import.duration_ms
    );
    if o.waited {
        s.push_str("\n(another import of this application was running; this one ran after it)");
    }
    if let Some(e) = &o.import.first_error {
        let _ = write!(s, "\nfirst entry error: {}", printable(e));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        assert_eq!(printable("a\x1b[31mred\x07\nnext"), "a?[31mred? / next");
        assert_eq!(duration_words(59), "59 s");
        assert_eq!(duration_words(3723), "1 h 02 min");
        assert_eq!(
            short_time("2024-05-01T10:00:00.123456789Z"),
            "2024-05-01 10:00:00Z"
        );
        assert_eq!(short_time("2024-05-01T10:00:00Z"), "2024-05-01 10:00:00Z");
    }
}
