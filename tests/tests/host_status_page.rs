//! The status page of the real binary: its HTML (the application table, states, cache
//! sizes, the last import, the traffic chart after a few SCIM requests, a hostile error text
//! escaped, loopback names only) and the page as a real headless browser (Debian's
//! chromium) renders it: a screenshot that is not blank and a DOM with the table.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ecma_host_tests::host::{KillOnDrop, https_client, test_runtime};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::servers::require_binary;
use serde_json::Value;

/// Text an attacker controls (a folder name the target reports in its error), with markup.
const HOSTILE: &str = "\"><img src=x onerror=alert('owned')><script>alert(1)";

fn exe() -> PathBuf {
    target_dir().join("ecma-host")
}

/// The demo plus an application whose target's error carries [`HOSTILE`], served with the
/// status page on a free loopback port.
struct Served {
    dir: tempfile::TempDir,
    port: u16,
    page: SocketAddr,
    _host: KillOnDrop,
}

fn serve() -> Served {
    let ecma_host_tests::host::DemoSetup { dir, port, .. } = ecma_host_tests::host::prepare_demo();
    let missing = dir.path().join(HOSTILE).join("users.csv");
    let config = dir.path().join("ecma-host.toml");
    let csv_plugin = plugin_path("csv_connector").display().to_string();
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "plugin_files = [",
        &format!("plugin_files = [{csv_plugin:?}, "),
        1,
    ) + &format!(
        "\n[[app]]\nname = \"hostile\"\nconnector = \"csv\"\ntoken = \"hostile-token-0123456789\"\nautosync_minutes = 0\nsetup_retry_max_secs = 2\n\
[app.parameters.connectivity]\nFile = {:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\n",
        missing.display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    let log = std::fs::File::create(dir.path().join("host.log")).unwrap();
    let host = KillOnDrop(
        Command::new(exe())
            .args(["serve", "--status-page", "127.0.0.1:0", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    // The page's port is in the report the admin socket gives; wait for the demo to serve
    // and the hostile application to have failed once.
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        let out = Command::new(exe())
            .args(["status", "--json", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        if out.status.success() {
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            let state = |name: &str| {
                report["applications"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["name"] == name)
                    .map(|a| a["state"].clone())
                    .unwrap()
            };
            if state("demo") == "ready" && state("hostile") == "retrying" {
                let url = report["statusPage"].as_str().unwrap();
                break url
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .parse()
                    .unwrap();
            }
        }
        assert!(
            Instant::now() < deadline,
            "host not ready: {}",
            std::fs::read_to_string(dir.path().join("host.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    Served {
        dir,
        port,
        page,
        _host: host,
    }
}

impl Served {
    /// A few SCIM requests, so the chart has a bar.
    fn scim_traffic(&self, requests: usize) {
        let cert = self.dir.path().join("state/tls/cert.pem");
        let token = std::fs::read_to_string(self.dir.path().join("token")).unwrap();
        test_runtime().block_on(async {
            let client = https_client(&cert);
            for _ in 0..requests {
                let r = client
                    .get(format!(
                        "https://localhost:{}/ecma2host_demo/scim/Users?filter=userName+eq+%22x%22",
                        self.port
                    ))
                    .bearer_auth(token.trim())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 200);
            }
        });
    }
}

/// One plain HTTP/1.1 GET with the given `Host` header: status, headers, body.
fn get(addr: SocketAddr, path: &str, host: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[test]
fn the_page_lists_the_applications_and_escapes_what_targets_say() {
    let served = serve();
    served.scim_traffic(3);
    let (status, head, html) = get(served.page, "/", &served.page.to_string());
    assert_eq!(status, 200, "{head}{html}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    assert!(html.contains("<table id=\"applications\">"), "{html}");
    assert!(html.contains("<meta http-equiv=\"refresh\""), "{html}");

    // The demo: ready, its cache size and its first full import with its counts.
    let row = |app: &str| {
        let start = html
            .find(&format!("data-app=\"{app}\""))
            .unwrap_or_else(|| panic!("no row for {app}: {html}"));
        let end = html[start..].find("</tr>").unwrap() + start;
        html[start..end].to_owned()
    };
    let demo = row("demo");
    assert!(
        demo.contains("<span class=\"state ready\">ready</span>"),
        "{demo}"
    );
    assert!(demo.contains("User: <strong>"), "{demo}");
    assert!(demo.contains(" objects: +"), "the last full import: {demo}");
    assert!(demo.contains("generic-sql"), "{demo}");

    // The hostile one: retrying, the target's error shown as text, never as markup.
    let hostile = row("hostile");
    assert!(
        hostile.contains("<span class=\"state retrying\">retrying</span>"),
        "{hostile}"
    );
    assert!(
        hostile.contains(
            "&quot;&gt;&lt;img src=x onerror=alert(&#39;owned&#39;)&gt;&lt;script&gt;alert(1)"
        ),
        "{hostile}"
    );
    assert!(!html.contains("<script"), "no script on the page: {html}");
    assert!(!html.contains("<img"), "{html}");

    // The chart: the requests just made are a bar of the current minute.
    assert!(html.contains("<svg id=\"traffic\""), "{html}");
    let bars = html.matches(" requests, ").count();
    assert!(bars >= 2, "a bar and the legend: {html}");
    assert!(!html.contains(">0 requests, 0 5xx"), "{html}");

    // A request for another host name (DNS rebinding) is refused; only / exists.
    let (status, _, _) = get(served.page, "/", "evil.example:8586");
    assert_eq!(status, 403);
    let (status, _, _) = get(
        served.page,
        "/",
        &format!("localhost:{}", served.page.port()),
    );
    assert_eq!(status, 200);
    let (status, _, _) = get(served.page, "/secrets", &served.page.to_string());
    assert_eq!(status, 404);
}

/// Runs chromium headless with a fresh profile; fails after a minute.
fn chromium(browser: &Path, profile: &Path, args: &[&str]) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium {args:?} did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// Width and height from a PNG's header (signature, then the IHDR chunk).
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 33, "not a PNG: {} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "IHDR first");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    assert!(bytes.windows(4).any(|w| w == b"IEND"), "a whole PNG");
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn a_headless_browser_renders_the_application_table() {
    let Some(browser) = require_binary("chromium", &[]) else {
        return;
    };
    let served = serve();
    served.scim_traffic(2);
    let url = format!("http://{}/", served.page);
    let work = tempfile::tempdir().unwrap();

    let shot = work.path().join("status.png");
    chromium(
        &browser,
        &work.path().join("profile-1"),
        &[
            "--window-size=1280,900",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
    );
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert_eq!(png_size(&png), (1280, 900));

    // Not blank: a blank page of the same size, shot by the same browser, compresses to a
    // few kilobytes; the page with its table, text and chart does not.
    let blank = work.path().join("blank.png");
    chromium(
        &browser,
        &work.path().join("profile-2"),
        &[
            "--window-size=1280,900",
            &format!("--screenshot={}", blank.display()),
            "data:text/html,<html><body></body></html>",
        ],
    );
    let blank = std::fs::read(&blank).unwrap();
    assert_eq!(png_size(&blank), (1280, 900));
    assert!(
        png.len() > blank.len() * 3,
        "the screenshot looks blank: {} bytes, a blank page {} bytes",
        png.len(),
        blank.len()
    );

    // The DOM the browser built: the table with both applications, the error as text.
    let dom = chromium(
        &browser,
        &work.path().join("profile-3"),
        &["--dump-dom", &url],
    );
    assert!(dom.contains("<table id=\"applications\">"), "{dom}");
    assert!(dom.contains("data-app=\"demo\""), "{dom}");
    assert!(
        dom.contains("<span class=\"state ready\">ready</span>"),
        "{dom}"
    );
    assert!(dom.contains("data-app=\"hostile\""), "{dom}");
    assert!(dom.contains("&lt;script&gt;alert"), "{dom}");
    assert!(!dom.contains("<script"), "{dom}");
    assert!(dom.contains("<svg id=\"traffic\""), "{dom}");
}
