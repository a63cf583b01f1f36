//! Cache benchmark (issue: cache at directory scale): a delta of 1,000 changes applied to a
//! cache of N users (default 1,000,000), and the memory the cache holds.
//!
//! ```text
//! cargo run --release -p ecma-host-tests --example cache_delta -- [N] [CHANGES]
//! ```
//! The users are the rows `tests/bench/host_load.sh` writes, as the CSV connector imports
//! them, in one object type with the indexes that benchmark's application has (`id` and
//! `userName`). A delta writes through the live cache the way a delta import does
//! (`TypeCache::put_imported`): each change is a new snapshot that shares everything else,
//! so the time must not grow with N.

use std::time::Instant;

use ecma_host::cache::TypeCache;
use ecma_host::mapping::Record;
use plugin_api::model::Value;

fn user(i: usize, generation: usize) -> Record {
    let mut r = Record::new();
    let text = |s: String| vec![Value::String(s)];
    r.insert("id".into(), text(format!("u{i:07}")));
    r.insert("userName".into(), text(format!("user{i}@contoso.com")));
    r.insert("givenName".into(), text(format!("Given{i}")));
    r.insert("surname".into(), text(format!("Surname{i}")));
    r.insert("mail".into(), text(format!("user{i}@contoso.com")));
    r.insert(
        "department".into(),
        text(format!("Dept{}", (i + generation) % 50)),
    );
    r
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let changes: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let cache = TypeCache::new(vec!["id".into(), "userName".into()]);
    let before = rss_kib();
    let started = Instant::now();
    cache.begin_full_import();
    let mut next = cache.empty_snapshot();
    for i in 0..n {
        let id = format!("u{i:07}");
        next.insert(cache.entry(
            &id,
            &format!("CN={id},OBJECT=USER"),
            &user(i, 0),
            Some(true),
            None,
        ));
    }
    cache.finish_full_import(next);
    let built = started.elapsed();
    let after = rss_kib();
    let packed: usize = cache.snapshot().iter().map(|e| e.heap_bytes()).sum();
    println!(
        "{n} users cached in {:.2} s; RSS +{:.1} MiB ({:.0} bytes/user all included; entries alone {:.0} bytes/user)",
        built.as_secs_f64(),
        (after - before) as f64 / 1024.0,
        (after - before) as f64 * 1024.0 / n as f64,
        packed as f64 / n as f64,
    );
    let mut times = Vec::new();
    for round in 1..=7 {
        let started = Instant::now();
        let snap = cache.snapshot();
        for k in 0..changes {
            let i = (k * 7919 + round * 104_729) % n;
            let id = format!("u{i:07}");
            let previous = snap.get(&id).cloned();
            cache.put_imported(cache.entry(
                &id,
                &format!("CN={id},OBJECT=USER"),
                &user(i, round),
                Some(true),
                previous.as_deref(),
            ));
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "delta of {changes} changes: median {:.1} ms (min {:.1}, max {:.1}) over {} rounds",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    );
}
