//! Starting a real host in-process over HTTPS and talking SCIM to it like Entra does.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ecma_host::config::Config;
use ecma_host::plugins::PluginRegistry;
use ecma_host::runtime::{RunningHost, ServeOptions, build_slots, start};
use serde_json::Value;

/// The token every test application uses.
pub const TOKEN: &str = "test-token-0123456789abcdef";

/// A running host with its temporary state directory.
pub struct TestHost {
    pub host: Option<RunningHost>,
    pub base: String,
    pub client: reqwest::Client,
    pub state_dir: tempfile::TempDir,
    /// Each application's token (see [`app_tokens`]).
    tokens: std::collections::BTreeMap<String, String>,
}

/// Gives each `[[app]]` that uses `{TOKEN}` its own token (two applications may not share
/// one): the first gets [`TOKEN`], the next `TOKEN-<name>`. Returns the text and the tokens
/// by application name.
fn app_tokens(apps_toml: &str) -> (String, std::collections::BTreeMap<String, String>) {
    let mut tokens = std::collections::BTreeMap::new();
    let mut chunks = apps_toml.split("[[app]]");
    let mut out = chunks.next().unwrap_or_default().to_owned();
    for chunk in chunks {
        let name = chunk
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == "name").then(|| v.trim().trim_matches('"').to_owned())
            })
            .unwrap_or_default();
        let token = if tokens.is_empty() {
            TOKEN.to_owned()
        } else {
            format!("{TOKEN}-{name}")
        };
        if chunk.contains("{TOKEN}") {
            tokens.insert(name, token.clone());
        }
        out.push_str("[[app]]");
        out.push_str(&chunk.replace("{TOKEN}", &token));
    }
    (out, tokens)
}

/// `[host]` section and `[[app]]` tables: `apps_toml` may use `{TOKEN}` (each application
/// gets its own; [`TestHost::request`] sends the right one).
pub async fn start_host(apps_toml: &str, plugins: &[PathBuf]) -> TestHost {
    start_host_with(apps_toml, plugins, "").await
}

/// The configuration text of a test host on `port` (0: any) with its state in `state_dir`,
/// and each application's token.
fn host_config_text(
    state_dir: &Path,
    port: u16,
    apps_toml: &str,
    plugins: &[PathBuf],
    host_extra: &str,
) -> (String, std::collections::BTreeMap<String, String>) {
    let plugin_files: Vec<String> = plugins
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    let (apps_toml, tokens) = app_tokens(apps_toml);
    let text = format!(
        "[admin]\nstatus_page = \"off\"\n[host]\nlisten = \"127.0.0.1\"\nport = {port}\nhostname = \"localhost\"\nstate_dir = {:?}\nplugins_dirs = []\nplugin_files = [{}]\n{host_extra}\n{}",
        state_dir.display().to_string(),
        plugin_files.join(", "),
        apps_toml
    );
    (text, tokens)
}

pub async fn start_host_with(apps_toml: &str, plugins: &[PathBuf], host_extra: &str) -> TestHost {
    let state_dir = tempfile::tempdir().unwrap();
    let (text, tokens) = host_config_text(state_dir.path(), 0, apps_toml, plugins, host_extra);
    let config =
        Config::from_toml(&text, Path::new("test.toml"), std::iter::empty()).expect("test config");
    let registry = PluginRegistry::discover(&[], &config.host.plugin_files);
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    let slots = build_slots(&config).expect("tokens resolve");
    let host = start(&config, slots, Arc::new(registry), &ServeOptions::default())
        .await
        .expect("host starts");
    let cert = ecma_host::tls::generated_paths(state_dir.path()).0;
    let client = https_client(&cert);
    let base = format!("https://localhost:{}", host.addr.port());
    TestHost {
        host: Some(host),
        base,
        client,
        state_dir,
        tokens,
    }
}

/// A host running as its own process (`binary serve`), for what only a process shows: its
/// memory, its signals. Requests go through the returned [`TestHost`] (which has no
/// in-process host: [`TestHost::application`] is not available); dropping the
/// [`KillOnDrop`] ends the process.
pub fn spawn_host_process(
    binary: &Path,
    apps_toml: &str,
    plugins: &[PathBuf],
    host_extra: &str,
) -> (TestHost, KillOnDrop) {
    let state_dir = tempfile::tempdir().unwrap();
    let port = crate::servers::free_port();
    let (text, tokens) = host_config_text(state_dir.path(), port, apps_toml, plugins, host_extra);
    let config = state_dir.path().join("host.toml");
    std::fs::write(&config, text).unwrap();
    let child = std::process::Command::new(binary)
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let child = KillOnDrop(child);
    let cert = ecma_host::tls::generated_paths(state_dir.path()).0;
    let base = format!("https://localhost:{port}");
    assert!(
        wait_until_ready(
            &format!("{base}/healthz"),
            Some(&cert),
            std::time::Duration::from_secs(30)
        ),
        "{} did not start serving",
        binary.display()
    );
    let host = TestHost {
        host: None,
        base,
        client: https_client(&cert),
        state_dir,
        tokens,
    };
    (host, child)
}

/// A client that trusts exactly `cert` (the host's generated certificate).
pub fn https_client(cert: &Path) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(cert).expect("generated certificate");
    use rustls::pki_types::pem::PemObject;
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap()
}

/// One SCIM answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestHost {
    pub fn app_url(&self, app: &str, path: &str) -> String {
        format!("{}/ecma2host_{app}/scim{path}", self.base)
    }

    pub async fn request(
        &self,
        method: &str,
        app: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let token = self.tokens.get(app).map_or(TOKEN, String::as_str);
        self.request_with_token(method, app, path, body, Some(token))
            .await
    }

    pub async fn request_with_token(
        &self,
        method: &str,
        app: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.app_url(app, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `/readyz`: its status code and body.
    pub async fn readyz(&self) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_str(&r.text().await.unwrap()).unwrap(),
        )
    }

    /// Waits until every application finished its first import.
    pub async fn wait_ready(&self) {
        for _ in 0..400 {
            if self.readyz().await.0 == 200 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let (_, body) = self.readyz().await;
        panic!("host not ready after 10 s: {body}");
    }

    /// The `/readyz` entry of one application (`state`, `reason`, ...).
    pub async fn app_status(&self, app: &str) -> Value {
        self.readyz().await.1["applications"][app].clone()
    }

    /// Waits until one application is ready (the others may be in any state).
    pub async fn wait_app_ready(&self, app: &str, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let status = self.app_status(app).await;
            if status["state"] == "ready" {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "application '{app}' not ready after {timeout:?}: {status}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The sum of one metric's samples for one application, from `/metrics` (0 when the
    /// host has not recorded it yet).
    pub async fn metric(&self, name: &str, app: &str) -> f64 {
        self.metric_with(name, &[("app", app)]).await
    }

    /// The sum of one metric's samples that carry all these labels.
    pub async fn metric_with(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        text.lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
                    && wanted.iter().all(|w| l.contains(w.as_str()))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// The running application `name` (panics when it is not set up).
    pub fn application(&self, name: &str) -> Arc<ecma_host::app::Application> {
        self.host.as_ref().unwrap().state.apps[name]
            .app()
            .expect("the application is set up")
    }

    /// `ecma_import_changes_total` of one application, kind of import and kind of change.
    pub async fn import_changes(&self, app: &str, import: &str, change: &str) -> f64 {
        self.metric_with(
            "ecma_import_changes_total",
            &[("app", app), ("import", import), ("change", change)],
        )
        .await
    }

    pub async fn stop(mut self) {
        if let Some(h) = self.host.take() {
            h.stop().await;
        }
    }
}

/// The runtime the host tests run a host in: two workers, as on the machines CI uses.
pub fn test_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A child process (the real `ecma-host` binary) killed and reaped when dropped.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        crate::servers::kill(&mut self.0);
    }
}

/// Polls `readyz_url` (trusting `cert` for HTTPS) until it answers 200; false after `timeout`.
pub fn wait_until_ready(
    readyz_url: &str,
    cert: Option<&Path>,
    timeout: std::time::Duration,
) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if cert.is_none_or(Path::exists)
            && let Ok(o) = ecma_host::probe::get(readyz_url, "", cert)
            && o.status == 200
        {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// The fixture helpers (ldap3's blocking client, the SQL fixtures) block on runtimes of
/// their own: call them off the test's async workers.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Polls `check` every 20 ms until it holds; panics naming `what` after `timeout`.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    timeout: std::time::Duration,
    mut check: impl FnMut() -> F,
) {
    let deadline = std::time::Instant::now() + timeout;
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "not within {timeout:?}: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A demo written by `ecma-host demo --no-serve` into a fresh folder, listening (once served)
/// on a free port; `stdout` is what the command printed.
pub struct DemoSetup {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub stdout: String,
}

/// Writes the demo's configuration, database and token with the built binary.
pub fn prepare_demo() -> DemoSetup {
    let exe = crate::plugins::target_dir().join("ecma-host");
    assert!(exe.exists(), "run `cargo build --workspace` first");
    let dir = tempfile::tempdir().unwrap();
    let port = crate::servers::free_port();
    let out = std::process::Command::new(&exe)
        .args(["demo", "--no-serve", "--port", &port.to_string(), "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    DemoSetup {
        dir,
        port,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}
