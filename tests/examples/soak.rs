//! Soak test (run by hand; see `tests/soak/README.md`): mixed Entra traffic against a
//! PostgreSQL and an OpenLDAP application of one host while the target servers are stopped,
//! crashed, frozen and restarted at random.
//!
//! ```text
//! cargo build --release --workspace
//! cargo run --release -p ecma-host-tests --example soak -- [MINUTES] [CLIENTS] [HOST_BINARY]
//! ```
//! Each client owns its own users (no two clients write one object), and on LDAP one group
//! whose membership it changes the way Entra does (`add`/`remove` of one member by PATCH). It
//! retries 5xx answers the way Entra does, and remembers what every acknowledged (2xx) write
//! left in the target. At the end it prints requests by status, retries, writes lost
//! (acknowledged but not in the target: must be 0), writes whose outcome stayed unknown (never
//! acknowledged), whether the cache equals the target, and the host's RSS: the host runs as
//! its own process (the release `ecma-host serve`), so the number is the host's alone.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::collections::BTreeSet;

use ecma_host_tests::host::{Answer, TestHost, blocking, spawn_host_process};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::slapd::{SUFFIX, Slapd, users_and_groups_app_toml};
use ecma_host_tests::sql::Target;
use serde_json::{Value, json};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A small xorshift generator: the soak needs variety, not statistical quality.
struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Default)]
struct Tally {
    by_status: BTreeMap<u16, u64>,
    retries: u64,
    acknowledged_writes: u64,
    unknown_outcomes: u64,
}

/// What one application looks like to the soak: its name, the attribute a PATCH changes, and
/// how a user's login is written.
#[derive(Clone, Copy)]
struct AppKind {
    name: &'static str,
    login_attr: &'static str,
    changed_attr: &'static str,
}

const SQL: AppKind = AppKind {
    name: "sql",
    login_attr: "login",
    changed_attr: "first_name",
};
const LDAP: AppKind = AppKind {
    name: "ldap",
    login_attr: "uid",
    changed_attr: "sn",
};

/// The host process's memory: RSS, and of it the anonymous (heap) and file-backed parts, in
/// MiB (`/proc/PID/smaps_rollup`).
fn memory(pid: u32) -> String {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let kib = |field: &str| -> f64 {
        rollup
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let threads = std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count());
    format!(
        "RSS {:.1} MiB (anonymous {:.1}, files {:.1}), {threads} threads",
        kib("Rss:") / 1024.0,
        kib("Anonymous:") / 1024.0,
        (kib("Rss:") - kib("Anonymous:")) / 1024.0
    )
}

/// The host process's RSS in MiB.
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// RSS samples (MiB, one every 15 s) as the largest of each minute, and the mean of the
/// first and of the last third of the samples after the first minute: whether the host
/// grows, or steps and stays.
fn memory_trend(samples: &[f64]) -> String {
    let per_minute: Vec<String> = samples
        .chunks(4)
        .map(|c| format!("{:.0}", c.iter().copied().fold(0.0, f64::max)))
        .collect();
    let settled = samples.get(4..).unwrap_or_default();
    let third = (settled.len() / 3).max(1);
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    format!(
        "largest RSS of each minute (MiB): {}; mean of the first third after minute 1 {:.1}, of the last third {:.1}",
        per_minute.join(" "),
        mean(&settled[..third.min(settled.len())]),
        mean(&settled[settled.len().saturating_sub(third)..]),
    )
}

/// Sends a request, retrying 5xx (and transport failures) for up to a minute like Entra's
/// retries; the last answer.
async fn with_retries(host: &TestHost, tally: &Mutex<Tally>, send: impl Fn() -> Req) -> Answer {
    let mut attempt = 0;
    loop {
        let req = send();
        let a = host.request(req.method, req.app, &req.path, req.body).await;
        {
            let mut t = tally.lock().unwrap();
            *t.by_status.entry(a.status).or_default() += 1;
        }
        if a.status < 500 || attempt >= 60 {
            return a;
        }
        attempt += 1;
        tally.lock().unwrap().retries += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

struct Req {
    method: &'static str,
    app: &'static str,
    path: String,
    body: Option<Value>,
}

/// What one client expects at the end.
#[derive(Default)]
struct Outcome {
    /// login → the changed attribute's value (None: deleted).
    users: HashMap<String, Option<String>>,
    /// Logins whose last write was never acknowledged.
    unknown: Vec<String>,
    /// The client's group (LDAP only).
    group: Option<GroupOutcome>,
}

/// A client's group: its SCIM id and display name, the logins it should have as members,
/// those whose last membership change was never acknowledged, and the SCIM ids of the
/// client's users (to read member ids back as logins).
struct GroupOutcome {
    id: String,
    name: String,
    members: BTreeSet<String>,
    unknown: BTreeSet<String>,
    ids: HashMap<String, String>,
}

const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// Creates the client's group (a 409 after a retried POST: the first attempt landed).
async fn create_group(host: &TestHost, tally: &Mutex<Tally>, name: &str) -> Option<String> {
    let body = json!({"schemas": [GROUP_URN], "displayName": name, "members": []});
    let a = with_retries(host, tally, || Req {
        method: "POST",
        app: LDAP.name,
        path: "/Groups".into(),
        body: Some(body.clone()),
    })
    .await;
    match a.status {
        201 => a.body["id"].as_str().map(str::to_owned),
        409 => with_retries(host, tally, || Req {
            method: "GET",
            app: LDAP.name,
            path: format!("/Groups?excludedAttributes=members&filter=displayName+eq+%22{name}%22"),
            body: None,
        })
        .await
        .body["Resources"][0]["id"]
            .as_str()
            .map(str::to_owned),
        _ => None,
    }
}

/// Adds or removes `login` (SCIM id `id`) as a member of `group`, as Entra does; records the
/// outcome.
async fn change_membership(
    host: &TestHost,
    tally: &Mutex<Tally>,
    group: &mut GroupOutcome,
    login: &str,
    id: &str,
    add: bool,
) {
    let op = if add { "Add" } else { "Remove" };
    let body = json!({"schemas": [PATCH], "Operations": [
        {"op": op, "path": "members", "value": [{"$ref": null, "value": id}]}]});
    let a = with_retries(host, tally, || Req {
        method: "PATCH",
        app: LDAP.name,
        path: format!("/Groups/{}", group.id),
        body: Some(body.clone()),
    })
    .await;
    if a.status == 200 {
        tally.lock().unwrap().acknowledged_writes += 1;
        group.unknown.remove(login);
        if add {
            group.members.insert(login.to_owned());
        } else {
            group.members.remove(login);
        }
    } else {
        group.members.remove(login);
        group.unknown.insert(login.to_owned());
    }
}

/// One client: creates, looks up, changes and deletes its own users in `app`, and on LDAP
/// adds them to and removes them from its own group.
async fn client(
    host: Arc<TestHost>,
    tally: Arc<Mutex<Tally>>,
    app: AppKind,
    client: usize,
    until: Instant,
) -> Outcome {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15 ^ ((client as u64 + 1) << 20));
    let mut out = Outcome::default();
    let mut ids: HashMap<String, String> = HashMap::new();
    if app.name == LDAP.name {
        let name = format!("soak-g{client}");
        match create_group(&host, &tally, &name).await {
            Some(id) => {
                out.group = Some(GroupOutcome {
                    id,
                    name,
                    members: BTreeSet::new(),
                    unknown: BTreeSet::new(),
                    ids: HashMap::new(),
                })
            }
            None => println!("client {client}: its group could not be created"),
        }
    }
    let mut n = 0;
    while Instant::now() < until {
        let live: Vec<String> = ids.keys().cloned().collect();
        let roll = rng.below(100);
        // About 50 live users per client: creates and deletes balance, so memory at the end
        // is comparable with memory at the start.
        if live.len() < 50 || (roll < 20 && live.len() < 80) {
            n += 1;
            let login = format!("c{client}n{n}");
            let value = format!("v{}", rng.next() % 1000);
            let filter = format!("/Users?filter={}+eq+%22{login}%22", app.login_attr);
            let body = match app.name {
                "sql" => json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                    EXT: {"login": login, "first_name": value}}),
                _ => json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                    "userName": login, EXT: {"cn": login, "sn": value}}),
            };
            let a = with_retries(&host, &tally, || Req {
                method: "POST",
                app: app.name,
                path: "/Users".into(),
                body: Some(body.clone()),
            })
            .await;
            // A 409 after a retried POST: the first attempt landed; Entra matches the user.
            let id = match a.status {
                201 => a.body["id"].as_str().map(str::to_owned),
                409 => with_retries(&host, &tally, || Req {
                    method: "GET",
                    app: app.name,
                    path: filter.clone(),
                    body: None,
                })
                .await
                .body["Resources"][0]["id"]
                    .as_str()
                    .map(str::to_owned),
                _ => None,
            };
            match id {
                Some(id) if a.status == 201 => {
                    tally.lock().unwrap().acknowledged_writes += 1;
                    out.users.insert(login.clone(), Some(value));
                    ids.insert(login, id);
                }
                _ => out.unknown.push(login),
            }
            continue;
        }
        let login = live[rng.below(live.len() as u64) as usize].clone();
        let id = ids[&login].clone();
        if roll < 55 {
            let value = format!("v{}", rng.next() % 1000);
            let body = json!({"schemas": [PATCH], "Operations": [
                {"op": "Replace", "path": format!("{EXT}:{}", app.changed_attr), "value": value}]});
            let a = with_retries(&host, &tally, || Req {
                method: "PATCH",
                app: app.name,
                path: format!("/Users/{id}"),
                body: Some(body.clone()),
            })
            .await;
            if a.status == 200 {
                tally.lock().unwrap().acknowledged_writes += 1;
                out.users.insert(login, Some(value));
            } else {
                ids.remove(&login);
                out.users.remove(&login);
                out.unknown.push(login);
            }
        } else if roll < 70 {
            // Entra removes a member before it deletes the user.
            if let Some(group) = out.group.as_mut()
                && (group.members.contains(&login) || group.unknown.contains(&login))
            {
                change_membership(&host, &tally, group, &login, &id, false).await;
            }
            let a = with_retries(&host, &tally, || Req {
                method: "DELETE",
                app: app.name,
                path: format!("/Users/{id}"),
                body: None,
            })
            .await;
            ids.remove(&login);
            if a.status == 204 || a.status == 404 {
                tally.lock().unwrap().acknowledged_writes += 1;
                out.users.insert(login, None);
            } else {
                out.users.remove(&login);
                out.unknown.push(login);
            }
        } else if roll < 85
            && let Some(group) = out.group.as_mut()
        {
            let add = !group.members.contains(&login);
            change_membership(&host, &tally, group, &login, &id, add).await;
        } else {
            with_retries(&host, &tally, || Req {
                method: "GET",
                app: app.name,
                path: format!("/Users?filter={}+eq+%22{login}%22", app.login_attr),
                body: None,
            })
            .await;
        }
    }
    if let Some(group) = out.group.as_mut() {
        group.ids = ids;
    }
    out
}

/// A group's members in the cache (logins, through the client's ids; an id the client does
/// not know shows as itself).
async fn cached_members(host: &TestHost, group: &GroupOutcome) -> BTreeSet<String> {
    let by_id: HashMap<&str, &str> = group
        .ids
        .iter()
        .map(|(login, id)| (id.as_str(), login.as_str()))
        .collect();
    let a = host
        .request("GET", LDAP.name, &format!("/Groups/{}", group.id), None)
        .await;
    a.body["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["value"].as_str())
        .map(|id| by_id.get(id).map_or(id, |l| *l).to_owned())
        .collect()
}

/// A group's members in the directory, as logins.
fn ldap_members(s: &Slapd, name: &str) -> BTreeSet<String> {
    s.read(&format!("cn={name},ou=groups,{SUFFIX}"))
        .and_then(|e| e.attrs.get("member").cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|dn| {
            let (rdn, _) = dn.split_once(',')?;
            rdn.strip_prefix("uid=").map(str::to_owned)
        })
        .collect()
}

/// Every user the cache serves: login → the changed attribute's value.
async fn cached_users(host: &TestHost, app: AppKind) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut start = 1;
    loop {
        let a = host
            .request(
                "GET",
                app.name,
                &format!("/Users?startIndex={start}&count=500"),
                None,
            )
            .await;
        let page = a.body["Resources"].as_array().cloned().unwrap_or_default();
        for r in &page {
            let login = match app.name {
                "sql" => r[EXT]["login"].as_str(),
                _ => r["userName"].as_str(),
            };
            let value = match &r[EXT][app.changed_attr] {
                Value::Array(a) => a.first().and_then(Value::as_str),
                v => v.as_str(),
            };
            if let (Some(l), Some(v)) = (login, value) {
                out.insert(l.to_owned(), v.to_owned());
            }
        }
        if page.len() < 500 {
            return out;
        }
        start += 500;
    }
}

fn sql_users(pg: &Target) -> BTreeMap<String, String> {
    pg.rows("SELECT login, first_name FROM soak_users")
        .into_iter()
        .filter_map(|r| Some((r[0].clone()?, r[1].clone()?)))
        .collect()
}

fn ldap_users(s: &Slapd) -> BTreeMap<String, String> {
    let mut c = s.admin();
    let (entries, _) = c
        .search(
            &format!("ou=people,{SUFFIX}"),
            ldap3::Scope::OneLevel,
            "(objectClass=inetOrgPerson)",
            vec!["uid", "sn"],
        )
        .unwrap()
        .success()
        .unwrap();
    entries
        .into_iter()
        .map(ldap3::SearchEntry::construct)
        .filter_map(|e| {
            Some((
                e.attrs.get("uid")?[0].clone(),
                e.attrs.get("sn")?[0].clone(),
            ))
        })
        .collect()
}

fn apps(pg: &Target, s: &Slapd) -> String {
    let sql = ecma_host_tests::sql::scim_app_toml("sql", &pg.url, "soak_users", "").replace(
        "autosync_minutes = 0\n",
        "autosync_minutes = 0\nsetup_retry_max_secs = 2\n[app.timeouts]\nexport_secs = 5\n",
    );
    format!(
        "{sql}{}",
        users_and_groups_app_toml(
            s,
            "ldap",
            "setup_retry_max_secs = 2\n[app.timeouts]\nexport_secs = 5"
        )
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let minutes: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let clients: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    // Another host binary (an installed package's, or a wrapper that runs it under a memory
    // profiler); the one built with this example by default.
    let binary = args
        .get(3)
        .map_or_else(|| target_dir().join("ecma-host"), std::path::PathBuf::from);
    let mut pg = Target::postgres().expect("PostgreSQL is needed");
    pg.exec(&[
        "DROP TABLE IF EXISTS soak_users",
        "CREATE TABLE soak_users (id SERIAL PRIMARY KEY, login VARCHAR(200) NOT NULL UNIQUE, first_name VARCHAR(200), last_name VARCHAR(200), email VARCHAR(200))",
    ]);
    let slapd = Arc::new(Mutex::new(Slapd::start().expect("slapd is needed")));
    slapd.lock().unwrap().create_ou("people");
    slapd.lock().unwrap().create_ou("groups");
    let config = apps(&pg, &slapd.lock().unwrap());
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let (host, process) = spawn_host_process(
            &binary,
            &config,
            &[plugin_path("generic_sql"), plugin_path("generic_ldap")],
            "",
        );
        let host = Arc::new(host);
        let pid = process.0.id();
        host.wait_ready().await;
        let memory_at_start = memory(pid);
        let started = Instant::now();
        let until = started + Duration::from_secs_f64(minutes * 60.0);
        let tally = Arc::new(Mutex::new(Tally::default()));
        let mut tasks = Vec::new();
        for c in 0..clients {
            for app in [SQL, LDAP] {
                tasks.push(tokio::spawn(client(host.clone(), tally.clone(), app, c, until)));
            }
        }
        // Chaos: every 15-40 s, one target is stopped, crashed or frozen for 3-12 s.
        let mut rng = Rng::new(started.elapsed().as_nanos() as u64 ^ 0xdead_beef);
        let mut events = Vec::new();
        let mut memory_after_a_minute = None;
        let sampler = tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < until {
                samples.push(rss_mib(pid));
                tokio::time::sleep(Duration::from_secs(15)).await;
            }
            samples
        });
        while Instant::now() + Duration::from_secs(20) < until {
            if memory_after_a_minute.is_none() && started.elapsed() > Duration::from_secs(60) {
                memory_after_a_minute = Some(memory(pid));
            }
            tokio::time::sleep(Duration::from_secs(15 + rng.below(25))).await;
            let outage = Duration::from_secs(3 + rng.below(10));
            let what = rng.below(4);
            let at = started.elapsed().as_secs();
            let label = blocking(|| match what {
                0 => {
                    pg.server.stop();
                    std::thread::sleep(outage);
                    pg.server.start_again();
                    "PostgreSQL stopped"
                }
                1 => {
                    let mut s = slapd.lock().unwrap();
                    s.stop();
                    std::thread::sleep(outage);
                    s.restart();
                    "slapd killed and restarted"
                }
                _ => {
                    let s = slapd.lock().unwrap();
                    s.pause();
                    std::thread::sleep(outage);
                    s.resume();
                    "slapd frozen (SIGSTOP)"
                }
            });
            events.push(format!("{at:>4}s {label} for {}s", outage.as_secs()));
        }
        let mut expected: BTreeMap<&str, (HashMap<String, Option<String>>, usize)> =
            BTreeMap::new();
        let mut groups = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            let outcome = t.await.unwrap();
            let app = if i % 2 == 0 { "sql" } else { "ldap" };
            let slot = expected.entry(app).or_default();
            slot.0.extend(outcome.users);
            slot.1 += outcome.unknown.len();
            let mut t = tally.lock().unwrap();
            t.unknown_outcomes += outcome.unknown.len() as u64;
            if let Some(g) = outcome.group {
                t.unknown_outcomes += g.unknown.len() as u64;
                groups.push(g);
            }
        }
        host.wait_ready().await;
        let t = std::mem::take(&mut *tally.lock().unwrap());
        println!("soak: {minutes} min, {clients} clients per application, {} target events:", events.len());
        for e in &events {
            println!("  {e}");
        }
        println!("requests by status: {:?}", t.by_status);
        println!("retries needed: {}", t.retries);
        println!("acknowledged writes: {}", t.acknowledged_writes);
        println!("writes never acknowledged (outcome unknown, not checked): {}", t.unknown_outcomes);
        for (app, kind) in [("sql", SQL), ("ldap", LDAP)] {
            let target = if app == "sql" {
                blocking(|| sql_users(&pg))
            } else {
                blocking(|| ldap_users(&slapd.lock().unwrap()))
            };
            let (exp, _) = &expected[app];
            let lost = exp
                .iter()
                .filter(|(login, want)| target.get(*login) != want.as_ref())
                .count();
            // The cache follows the target (re-reads after unknown outcomes are debounced).
            let mut equal = false;
            let mut cached = BTreeMap::new();
            for _ in 0..60 {
                cached = cached_users(&host, kind).await;
                if cached == target {
                    equal = true;
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            if !equal {
                let only_cached: Vec<_> = cached.iter().filter(|(k, v)| target.get(*k) != Some(v)).take(5).collect();
                let only_target: Vec<_> = target.iter().filter(|(k, v)| cached.get(*k) != Some(v)).take(5).collect();
                println!("{app}: cache differs from the target: cache has {only_cached:?}, target has {only_target:?}");
            }
            println!(
                "{app}: {} users in the target, writes lost {lost}, cache equals the target: {equal}",
                target.len()
            );
        }
        // Group membership: every acknowledged change is in the directory, and the cache
        // shows what the directory holds (members whose last change went unanswered aside).
        let (mut lost, mut differ, mut members) = (0, 0, 0);
        for g in &groups {
            let target = blocking(|| ldap_members(&slapd.lock().unwrap(), &g.name));
            let known = |set: &BTreeSet<String>| -> BTreeSet<String> {
                set.iter().filter(|m| !g.unknown.contains(*m)).cloned().collect()
            };
            let (target, want) = (known(&target), known(&g.members));
            lost += want.symmetric_difference(&target).count();
            members += target.len();
            let mut equal = false;
            for _ in 0..60 {
                if known(&cached_members(&host, g).await) == target {
                    equal = true;
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            differ += usize::from(!equal);
        }
        println!(
            "ldap groups: {} groups, {members} members in the directory, membership changes lost {lost}, groups whose cache differs from the directory {differ}",
            groups.len()
        );
        println!("host memory when ready:        {memory_at_start}");
        if let Some(m) = memory_after_a_minute {
            println!("host memory after one minute:  {m}");
        }
        println!("host memory at the end:        {}", memory(pid));
        println!("{}", memory_trend(&sampler.await.unwrap()));
        drop(process);
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}
