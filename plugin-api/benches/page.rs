//! Import pages: writing one (what a connector pays per entry) and reading it in place (what
//! the host pays), on a page shaped like a Generic SQL table import: 1000 entries, an integer
//! anchor and six single-valued attributes (integers, strings, a boolean).
//!
//! ```text
//! cargo bench -p plugin-api --bench page
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use plugin_api::page::{PackedPage, PageWriter, ValueRef};
use plugin_api::prelude::*;

const ENTRIES: usize = 1000;

struct Row {
    id: i64,
    name: String,
    email: String,
    active: bool,
    age: i64,
    dept: String,
}

fn rows() -> Vec<Row> {
    (0..ENTRIES as i64)
        .map(|i| Row {
            id: i,
            name: format!("user-{i}"),
            email: format!("user{i}@example.com"),
            active: i % 2 == 0,
            age: i % 90,
            dept: format!("dept-{}", i % 17),
        })
        .collect()
}

fn write(rows: &[Row], capacity: usize) -> PageWriter {
    let mut page = PageWriter::with_capacity(capacity);
    // Names looked up once per page, as Generic SQL does.
    let [user, id, name, email, active, age, dept] =
        ["User", "id", "name", "email", "active", "age", "dept"].map(|n| page.name(n));
    let mut dn = String::new();
    for r in rows {
        dn.clear();
        dn.push_str(itoa_like(r.id, &mut [0; 20]));
        let mut e = page.entry(user, ObjectModification::Add, &dn, &dn);
        e.anchor(id, ValueRef::Integer(r.id));
        e.add(id, ValueRef::Integer(r.id));
        e.add(name, ValueRef::String(&r.name));
        e.add(email, ValueRef::String(&r.email));
        e.add(active, ValueRef::Boolean(r.active));
        e.add(age, ValueRef::Integer(r.age));
        e.add(dept, ValueRef::String(&r.dept));
    }
    page
}

/// Decimal digits of a non-negative integer without allocating.
fn itoa_like(mut v: i64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).expect("digits")
}

/// Every field and value touched, as the host's import does before it builds cache records.
fn read_all(page: &PackedPage) -> usize {
    let mut bytes = 0;
    for e in page.entries() {
        let e = e.expect("entry");
        bytes += e.identifier.len() + e.dn.len() + e.object_type.len();
        for (name, v) in e.anchors() {
            bytes += name.len();
            if let ValueRef::Integer(i) = v {
                bytes += i as usize & 1;
            }
        }
        for c in e.changes() {
            bytes += c.name.len();
            for v in c.added_values() {
                bytes += match black_box(v) {
                    ValueRef::String(s) | ValueRef::Reference(s) => s.len(),
                    ValueRef::Binary(b) => b.len(),
                    _ => 8,
                };
            }
        }
    }
    bytes
}

fn pages(c: &mut Criterion) {
    let rows = rows();
    let size = write(&rows, 0).byte_len();
    let mut g = c.benchmark_group("import page (1000 entries)");
    g.throughput(Throughput::Elements(ENTRIES as u64));
    g.bench_function("write", |b| {
        b.iter(|| black_box(write(black_box(&rows), size)).byte_len())
    });
    let (bytes, n) = write(&rows, size).into_parts();
    let page = PackedPage::new(bytes, n);
    g.bench_function("check entries", |b| {
        b.iter(|| black_box(&page).entries().filter(Result::is_ok).count())
    });
    g.bench_function("read in place", |b| b.iter(|| read_all(black_box(&page))));
    g.bench_function("decode to CsEntryChange", |b| {
        b.iter(|| black_box(&page).to_entries().expect("decode").len())
    });
    g.finish();
    println!("page size: {size} bytes ({} per entry)", size / ENTRIES);
}

criterion_group!(benches, pages);

fn main() {
    // PAGE_BENCH_ONLY=read: that operation 1000 times and nothing else, for
    // `valgrind --tool=callgrind`, whose instruction counts do not depend on the machine's load.
    if let Ok(op) = std::env::var("PAGE_BENCH_ONLY") {
        let rows = rows();
        let (bytes, n) = write(&rows, 0).into_parts();
        let page = PackedPage::new(bytes, n);
        for _ in 0..1000 {
            match op.as_str() {
                "write" => drop(black_box(write(black_box(&rows), page.len() * 200))),
                "check" => drop(black_box(page.entries().filter(Result::is_ok).count())),
                _ => drop(black_box(read_all(black_box(&page)))),
            }
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
