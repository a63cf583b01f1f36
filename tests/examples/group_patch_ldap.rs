//! Large-group benchmark on a real directory (issue "production resilience"): adding one member
//! to a group of N members (default 100,000) through SCIM PATCH exactly as Entra sends it,
//! over the Generic LDAP connector against a real slapd, while wrk loads `/healthz` on the
//! same host.
//!
//! ```text
//! cargo build --release -p ecma-host -p generic-ldap
//! cargo run --release -p ecma-host-tests --example group_patch_ldap -- [N] [PATCHES]   (needs wrk)
//! ```
//! Unlike `tests/bench/group_patch.sh` (CSV, members that are not objects of the cache), the
//! members here are the application's own users: N + PATCHES `inetOrgPerson` entries under
//! `ou=people` loaded offline with `slapadd -q`, and one `groupOfNames` (`cn=Everyone` under
//! `ou=groups`) whose `member` holds the DNs of the first N. The host (the release
//! `ecma-host serve`, its own process) imports them all; then each PATCH adds one of the
//! remaining users with no query string, so each `200` answer carries the whole group, whose
//! size is checked (N + i + 1 members, the new one among them).
//!
//! Prints the load and import times, the PATCH time per request as the client sees it
//! (median, p90, max), the mean time in the host (the host's request time minus the
//! connector's export time, from `/metrics`) and of the export, `/healthz` p99 on the idle
//! host and during the PATCHes, and the host's RSS. Target: the PATCH under 50 ms in the
//! host, `/healthz` p99 under 10 ms. `PROFILE=<file>` records the host with
//! `perf record -g` during the PATCHes. `ANSWER=no_content` sets the application's
//! `group_patch_answer = "no_content"`: each PATCH answers 204 without the group.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecma_host_tests::host::{TOKEN, TestHost, spawn_host_process, test_runtime};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::servers::{Signal, send_signal};
use ecma_host_tests::slapd::{SUFFIX, Slapd, SlapdOptions, users_and_groups_app_toml};
use serde_json::{Value, json};

const APP: &str = "ldap";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn uid(i: usize) -> String {
    format!("u{i:07}")
}

fn user_dn(i: usize) -> String {
    format!("uid={},ou=people,{SUFFIX}", uid(i))
}

fn group_dn() -> String {
    format!("cn=Everyone,ou=groups,{SUFFIX}")
}

/// The two OUs, `users` inetOrgPersons and the group of the first `members` of them.
fn write_ldif(path: &Path, users: usize, members: usize) {
    let mut f = BufWriter::new(std::fs::File::create(path).expect("create LDIF"));
    for ou in ["people", "groups"] {
        write!(
            f,
            "dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
        )
        .unwrap();
    }
    for i in 0..users {
        let u = uid(i);
        write!(
            f,
            "dn: {}\nobjectClass: inetOrgPerson\nuid: {u}\ncn: User {u}\nsn: {u}\n\n",
            user_dn(i)
        )
        .unwrap();
    }
    writeln!(
        f,
        "dn: {}\nobjectClass: groupOfNames\ncn: Everyone",
        group_dn()
    )
    .unwrap();
    for i in 0..members {
        writeln!(f, "member: {}", user_dn(i)).unwrap();
    }
    writeln!(f).unwrap();
    f.flush().unwrap();
}

/// The process's resident memory now and at its peak (`/proc/PID/status`).
fn rss(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mib = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    format!(
        "RSS {:.0} MiB (peak {:.0} MiB)",
        mib("VmRSS:"),
        mib("VmHWM:")
    )
}

/// A background program stopped with SIGINT (wrk prints its report then, perf writes its
/// file): its window is exactly the measured one.
struct Interrupted(Child);

impl Interrupted {
    fn start(program: &str, args: &[&str]) -> Self {
        let child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        Self(child)
    }

    /// Interrupts it and returns what it printed on stdout.
    fn finish(self) -> String {
        send_signal(self.0.id(), Signal::Int);
        let out = self.0.wait_with_output().expect("wait");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }
}

/// wrk with four connections on `/healthz`, until [`healthz_p99`] stops it.
fn healthz_load(host: &TestHost) -> Interrupted {
    let url = format!("{}/healthz", host.base);
    Interrupted::start("wrk", &["-t1", "-c4", "-d3600s", "--latency", &url])
}

/// The p99 latency wrk reports (as it prints it, e.g. `1.20ms`).
fn healthz_p99(wrk: Interrupted) -> String {
    let report = wrk.finish();
    let p99 = report.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some("99%")).then(|| words.next().unwrap_or_default().to_owned())
    });
    let requests = report
        .lines()
        .find(|l| l.contains("requests in"))
        .unwrap_or_default();
    let p99 = p99.unwrap_or_else(|| panic!("no p99 in wrk's report:\n{report}"));
    assert!(
        !report.contains("Non-2xx") && !report.contains("Socket errors"),
        "/healthz failed under load:\n{report}"
    );
    format!("{p99} ({})", requests.trim())
}

async fn get(host: &TestHost, path: &str) -> Value {
    let a = host.request("GET", APP, path, None).await;
    assert_eq!(a.status, 200, "GET {path}: {}", a.body);
    a.body
}

/// The SCIM id of the one resource a filtered GET finds.
async fn only_id(host: &TestHost, path: &str) -> String {
    let body = get(host, path).await;
    let found = body["Resources"].as_array().map_or(&[][..], Vec::as_slice);
    assert_eq!(found.len(), 1, "GET {path}: {body}");
    found[0]["id"].as_str().expect("an id").to_owned()
}

/// Sums of one summary metric's `_sum` and `_count` over the samples with these labels.
async fn summary(host: &TestHost, name: &str, labels: &[(&str, &str)]) -> (f64, f64) {
    (
        host.metric_with(&format!("{name}_sum"), labels).await,
        host.metric_with(&format!("{name}_count"), labels).await,
    )
}

/// The host's request time and the connector's export time so far: (request s, requests,
/// export s, exports).
async fn host_times(host: &TestHost, status: u16) -> (f64, f64, f64, f64) {
    let status = status.to_string();
    let (http, requests) = summary(
        host,
        "ecma_http_request_duration_seconds",
        &[("app", APP), ("status", &status)],
    )
    .await;
    let (export, exports) = summary(
        host,
        "ecma_connector_call_duration_seconds",
        &[("app", APP), ("kind", "export")],
    )
    .await;
    (http, requests, export, exports)
}

/// One PATCH adding `user_id` to the group the way Entra does; the client time (until the
/// whole answer is read), the answer's size in bytes and the answer.
async fn add_member(
    host: &TestHost,
    group_id: &str,
    user_id: &str,
    expected: u16,
) -> (Duration, usize, Value) {
    let body = json!({
        "schemas": [PATCH_URN],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": user_id}]}]
    });
    let started = Instant::now();
    let resp = host
        .client
        .patch(host.app_url(APP, &format!("/Groups/{group_id}")))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .expect("PATCH sent");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("PATCH answer");
    let took = started.elapsed();
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(status, expected, "PATCH answered {status}: {answer}");
    (took, bytes.len(), answer)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let patches: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(30);
    assert!(n >= 1, "a groupOfNames needs at least one member");
    let profile = std::env::var_os("PROFILE");
    let no_content = std::env::var("ANSWER").is_ok_and(|a| a == "no_content");
    let (app_extra, status) = if no_content {
        ("group_patch_answer = \"no_content\"", 204)
    } else {
        ("", 200)
    };
    let binary = target_dir().join("ecma-host");
    assert!(
        binary.exists(),
        "{} not found: build it first (see the comment at the top)",
        binary.display()
    );
    let plugin = plugin_path("generic_ldap");
    assert!(
        Command::new("wrk").arg("-v").output().is_ok(),
        "wrk is required: apt-get install wrk"
    );
    println!(
        "== group of {n} members (users of the application), {patches} PATCHes adding one member each"
    );

    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let ldif = work.path().join("bench.ldif");
    write_ldif(&ldif, n + patches, n);
    let slapd = Slapd::start_with(SlapdOptions {
        preload_ldif: Some(ldif),
        ..SlapdOptions::default()
    })
    .expect("slapd is needed");
    println!(
        "slapd with {} users and the group (LDIF + slapadd -q): {:.1} s",
        n + patches,
        started.elapsed().as_secs_f64()
    );

    let rt = test_runtime();
    rt.block_on(async {
        let started = Instant::now();
        let (host, process) = spawn_host_process(
            &binary,
            &users_and_groups_app_toml(&slapd, APP, app_extra),
            &[plugin],
            "log_level = \"warn\"",
        );
        let pid = process.0.id();
        host.wait_app_ready(APP, Duration::from_secs(3600)).await;
        println!(
            "host start to ready (full import): {:.1} s; {}",
            started.elapsed().as_secs_f64(),
            rss(pid)
        );

        let started = Instant::now();
        let group_id = only_id(
            &host,
            "/Groups?filter=displayName%20eq%20%22Everyone%22&excludedAttributes=members",
        )
        .await;
        let mut new_members = Vec::with_capacity(patches);
        for i in n..n + patches {
            let path = format!("/Users?filter=userName%20eq%20%22{}%22", uid(i));
            new_members.push(only_id(&host, &path).await);
        }
        println!(
            "looked up the group and {patches} users: {:.1} s",
            started.elapsed().as_secs_f64()
        );

        let idle = healthz_load(&host);
        tokio::time::sleep(Duration::from_secs(5)).await;
        println!("/healthz p99, idle host:         {}", healthz_p99(idle));

        let before = host_times(&host, status).await;
        let wrk = healthz_load(&host);
        let perf = profile.as_ref().map(|file| {
            let pid = pid.to_string();
            let file = file.to_str().expect("PROFILE is a path");
            Interrupted::start("perf", &["record", "-g", "-o", file, "-p", &pid])
        });
        // wrk connects before the first PATCH.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut times = Vec::with_capacity(patches);
        let mut answer_bytes = 0;
        for (i, user_id) in new_members.iter().enumerate() {
            let (took, size, answer) = add_member(&host, &group_id, user_id, status).await;
            answer_bytes = size;
            times.push(took);
            if no_content {
                continue;
            }
            let members = answer["members"].as_array().map_or(&[][..], Vec::as_slice);
            assert_eq!(members.len(), n + i + 1, "members after PATCH {i}");
            assert!(
                members.iter().any(|m| m["value"] == user_id.as_str()),
                "PATCH {i}: {user_id} not among the members of the answer"
            );
        }
        let during = healthz_p99(wrk);
        if let Some(perf) = perf {
            perf.finish();
            println!("perf data: {}", profile.unwrap().to_string_lossy());
        }
        let after = host_times(&host, status).await;

        times.sort();
        println!(
            "PATCH add one member (client): median {:.1} ms, p90 {:.1} ms, max {:.1} ms; answers of {:.1} MB",
            ms(times[times.len() / 2]),
            ms(times[(times.len() * 9).div_ceil(10) - 1]),
            ms(times[times.len() - 1]),
            answer_bytes as f64 / 1e6
        );
        let requests = after.1 - before.1;
        let exports = after.3 - before.3;
        assert_eq!(requests, patches as f64, "PATCHes counted by the host");
        assert_eq!(exports, patches as f64, "exports counted by the host");
        let export = (after.2 - before.2) / exports;
        let in_host = (after.0 - before.0) / requests - export;
        println!(
            "in the host (request minus export, mean of {patches}): {:.1} ms; the connector's export: {:.1} ms",
            in_host * 1000.0,
            export * 1000.0
        );
        println!("/healthz p99 during the PATCHes: {during}");
        println!("host at the end: {}", rss(pid));
        drop(process);
    });

    let (entries, _) = slapd
        .admin()
        .search(
            &group_dn(),
            ldap3::Scope::Base,
            "(objectClass=*)",
            vec!["member"],
        )
        .expect("read the group")
        .success()
        .expect("the group");
    let group = ldap3::SearchEntry::construct(entries.into_iter().next().expect("the group"));
    let stored = group.attrs.get("member").map_or(0, Vec::len);
    assert_eq!(stored, n + patches, "member values in slapd");
    println!("slapd: the group has {stored} members");
}
