//! Export benchmark (issue: Generic SQL): SCIM creates per second through the running host
//! (HTTPS, the Generic SQL plugin, a real database) for each dialect the machine has.
//!
//! ```text
//! cargo build --release --workspace --features generic-sql/odbc
//! cargo run --release -p ecma-host-tests --example scim_creates -- [N] [CONCURRENCY]
//! ```
//! Each create is Entra's lookup-then-POST pair, like the provisioning service does it: a
//! `GET /Users?filter=login eq "..."` (404-free: 0 results) followed by `POST /Users`, which
//! the host turns into an export `Add` in one transaction with the generated anchor returned.

use std::time::Instant;

use ecma_host_tests::host::start_host;
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::sql::Target;
use serde_json::json;

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(8);
    let targets: Vec<(&str, Option<Target>)> = vec![
        ("sqlite", Some(Target::sqlite())),
        ("postgres", Target::postgres()),
        ("mariadb", Target::mariadb()),
        ("odbc-postgres", Target::postgres_odbc()),
    ];
    println!("{n} creates per dialect, {concurrency} concurrent clients, HTTPS keep-alive");
    for (name, t) in targets {
        let Some(t) = t else {
            println!("{name:<14} skipped (server not installed)");
            continue;
        };
        let rate = run(&t, n, concurrency);
        println!("{name:<14} {rate:>8.0} creates/s");
    }
}

fn run(t: &Target, n: usize, concurrency: usize) -> f64 {
    t.exec(&[
        "DROP TABLE IF EXISTS bench_scim_users",
        &format!(
            "CREATE TABLE bench_scim_users (id {pk}, login VARCHAR(200) NOT NULL UNIQUE, first_name VARCHAR(200), last_name VARCHAR(200), email VARCHAR(200))",
            pk = t.serial_pk()
        ),
    ]);
    let apps =
        ecma_host_tests::sql::scim_app_toml("bench", &t.connector_url, "bench_scim_users", "");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let secs = rt.block_on(async {
        let host = std::sync::Arc::new(start_host(&apps, &[plugin_path("generic_sql")]).await);
        host.wait_ready().await;
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (host, next) = (host.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let login = format!("user{i}@contoso.com");
                    let r = host
                        .request("GET", "bench", &format!("/Users?filter=login+eq+%22{login}%22"), None)
                        .await;
                    assert_eq!(r.body["totalResults"], 0, "{:?}", r.body);
                    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                        EXT: {"login": login, "first_name": "User", "last_name": format!("Number {i}"), "email": login}});
                    let r = host.request("POST", "bench", "/Users", Some(body)).await;
                    assert_eq!(r.status, 201, "{:?}", r.body);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed().as_secs_f64()
    });
    assert_eq!(t.count("SELECT COUNT(*) FROM bench_scim_users"), n as i64);
    n as f64 / secs
}
