//! Running as a service: `--version`, the packaged example configuration, SIGHUP reloading
//! the TLS certificate without dropping connections, `--insecure-http` kept to loopback, and
//! `ecma-host diagnose` writing an archive with no secret in it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ecma_host_tests::host::{KillOnDrop, wait_until_ready};
use ecma_host_tests::plugins::{plugin_path, target_dir};
use ecma_host_tests::servers::free_port;

fn exe() -> PathBuf {
    target_dir().join("ecma-host")
}

/// `[host]` lines plus one CSV application on loopback at `port`.
fn config_with(dir: &Path, port: u16, host_extra: &str, apps_extra: &str) -> PathBuf {
    let csv = dir.join("users.csv");
    std::fs::write(&csv, "id,login\n1,grace\n").unwrap();
    let config = dir.join("host.toml");
    std::fs::write(
        &config,
        format!(
            "[admin]\nstatus_page = \"off\"\n[host]\nlisten = \"127.0.0.1\"\nport = {port}\nhostname = \"localhost\"\nstate_dir = {state:?}\nplugins_dirs = []\nplugin_files = [{plugin:?}]\n{host_extra}\n[[app]]\nname = \"c\"\nconnector = \"csv\"\ntoken = \"csv-app-token-123456\"\n[app.parameters.connectivity]\nFile = {csv:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\n{apps_extra}",
            state = dir.join("state").display().to_string(),
            plugin = plugin_path("csv_connector").display().to_string(),
            csv = csv.display().to_string(),
        ),
    )
    .unwrap();
    config
}

fn serve(config: &Path, args: &[&str], log: &Path) -> KillOnDrop {
    KillOnDrop(
        Command::new(exe())
            .arg("serve")
            .args(args)
            .arg("--config")
            .arg(config)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn version_names_the_plugin_api_and_a_commit_of_this_repository() {
    let out = Command::new(exe()).arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "ecma-host {} (plugin-api {}, commit ",
        env!("CARGO_PKG_VERSION"),
        plugin_api::PLUGIN_API_VERSION
    );
    assert!(text.starts_with(&expected), "{text}");
    let commit = text[expected.len()..].trim().trim_end_matches(')');
    let in_git = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .output()
        .is_ok_and(|o| o.status.success());
    if in_git {
        assert!(
            commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "{text}"
        );
        let known = Command::new("git")
            .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
            .status()
            .unwrap();
        assert!(known.success(), "{commit} is no commit of this repository");
    } else {
        assert!(!commit.is_empty(), "{text}");
    }
}

#[test]
fn the_packaged_example_configuration_enables_nothing_and_points_at_the_package_paths() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/packaging/ecma-host.toml");
    let config = ecma_host::config::Config::from_toml(
        &std::fs::read_to_string(&example).unwrap(),
        &example,
        std::iter::empty(),
    )
    .unwrap();
    assert!(config.apps.is_empty());
    assert_eq!(
        config.host.plugins_dirs,
        vec![PathBuf::from("/usr/lib/ecma-host/plugins")]
    );
    assert_eq!(config.host.state_dir, PathBuf::from("/var/lib/ecma-host"));
    // check-config reads it by its argument, as the package's documentation says (here
    // without the package's plugin folder, which CI checks on the installed package).
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("ecma-host.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    let packaged = "plugins_dirs = [\"/usr/lib/ecma-host/plugins\"]";
    assert!(text.contains(packaged), "{text}");
    std::fs::write(&copy, text.replace(packaged, "plugins_dirs = []")).unwrap();
    let out = Command::new(exe())
        .arg("check-config")
        .arg(&copy)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("OK (0 application(s))"), "{stdout}");
}

#[test]
fn insecure_http_is_refused_off_loopback_unless_loudly_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config_with(dir.path(), port, "", "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("listen = \"127.0.0.1\"", "listen = \"0.0.0.0\"");
    std::fs::write(&config, text).unwrap();
    let refused = Command::new(exe())
        .args(["serve", "--insecure-http", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("not a loopback address") && stderr.contains("--insecure-http-on-network"),
        "{stderr}"
    );
    // The second flag alone means nothing.
    let alone = Command::new(exe())
        .args(["serve", "--insecure-http-on-network", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!alone.status.success());
    // Both: it serves (reached here over loopback only) and says so in the log.
    let log = dir.path().join("stderr.log");
    let _host = serve(
        &config,
        &["--insecure-http", "--insecure-http-on-network"],
        &log,
    );
    assert!(
        wait_until_ready(
            &format!("http://127.0.0.1:{port}/readyz"),
            None,
            Duration::from_secs(20)
        ),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("serving plain HTTP"), "{log_text}");
}

/// A self-signed certificate for localhost: (cert PEM, key PEM).
fn certificate(name: &str) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A TLS connection to the host trusting both test certificates.
fn connect(port: u16, trusted: &[&str]) -> Tls {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for pem in trusted {
        roots
            .add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
            .unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.flush().unwrap();
    tls
}

/// One keep-alive `GET /healthz` on an open connection: the status code.
fn healthz(tls: &mut Tls) -> u16 {
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tls.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    let mut body = vec![0u8; length];
    tls.read_exact(&mut body).unwrap();
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

/// The certificate the server presented, as PEM-free DER bytes.
fn presented(tls: &Tls) -> Vec<u8> {
    tls.conn.peer_certificates().unwrap()[0].to_vec()
}

fn der_of(pem: &str) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

fn hangup(pid: u32) {
    let sent = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn sighup_reloads_the_certificate_and_keeps_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (cert_a, key_a) = certificate("first");
    let (cert_b, key_b) = certificate("second");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, &cert_a).unwrap();
    std::fs::write(&key_path, &key_a).unwrap();
    let config = config_with(
        dir.path(),
        port,
        &format!(
            "tls_cert = {:?}\ntls_key = {:?}",
            cert_path.display().to_string(),
            key_path.display().to_string()
        ),
        "",
    );
    let log = dir.path().join("stderr.log");
    let host = serve(&config, &[], &log);
    let first_pem = dir.path().join("first.pem");
    std::fs::write(&first_pem, &cert_a).unwrap();
    assert!(
        wait_until_ready(
            &format!("https://localhost:{port}/readyz"),
            Some(&first_pem),
            Duration::from_secs(20)
        ),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let trusted = [cert_a.as_str(), cert_b.as_str()];
    let mut old = connect(port, &trusted);
    assert_eq!(healthz(&mut old), 200);
    assert_eq!(presented(&old), der_of(&cert_a));

    // The new pair, replaced as certbot or an admin would: write, then rename into place.
    std::fs::write(dir.path().join("cert.new"), &cert_b).unwrap();
    std::fs::write(dir.path().join("key.new"), &key_b).unwrap();
    std::fs::rename(dir.path().join("key.new"), &key_path).unwrap();
    std::fs::rename(dir.path().join("cert.new"), &cert_path).unwrap();
    hangup(host.0.id());
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let mut fresh = connect(port, &trusted);
        assert_eq!(healthz(&mut fresh), 200);
        if presented(&fresh) == der_of(&cert_b) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "new connections still get the old certificate"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The connection opened before the reload still serves, with the certificate it had.
    assert_eq!(healthz(&mut old), 200);
    assert_eq!(presented(&old), der_of(&cert_a));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("TLS certificate reloaded"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file: {text}"
    );

    // A broken pair (the first certificate with the second key) is refused: the current
    // certificate stays and the log says why.
    std::fs::write(&cert_path, &cert_a).unwrap();
    hangup(host.0.id());
    let deadline = Instant::now() + Duration::from_secs(5);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if text.contains("was not reloaded") {
            break text;
        }
        assert!(Instant::now() < deadline, "no refusal logged: {text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(text.contains("cert.pem"), "{text}");
    let mut after = connect(port, &trusted);
    assert_eq!(healthz(&mut after), 200);
    assert_eq!(presented(&after), der_of(&cert_b));
}

/// Every file of a tar.gz, unpacked by the system's tar: (path inside, text).
fn unpack(archive: &Path) -> Vec<(String, String)> {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mut files = Vec::new();
    let mut stack = vec![out.path().to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(out.path())
                    .unwrap()
                    .display()
                    .to_string();
                files.push((rel, std::fs::read_to_string(e.path()).unwrap()));
            }
        }
    }
    files
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> Option<&'a str> {
    files
        .iter()
        .find(|(n, _)| n.ends_with(&format!("/{name}")))
        .map(|(_, t)| t.as_str())
}

#[test]
fn diagnose_archives_the_host_without_its_secrets() {
    const LITERAL: &str = "literal-token-SECRET-1a2b";
    const FROM_FILE: &str = "file-token-SECRET-3c4d";
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let secret_file = dir.path().join("crm.secret");
    std::fs::write(&secret_file, format!("{FROM_FILE}\n")).unwrap();
    let csv = dir.path().join("crm.csv");
    std::fs::write(&csv, "id,login\n7,ada\n").unwrap();
    let config = config_with(
        dir.path(),
        port,
        "",
        &format!(
            "[[app]]\nname = \"crm\"\nconnector = \"csv\"\ntoken = {{ file = {:?} }}\n[app.parameters.connectivity]\nFile = {:?}\n[[app.object_type]]\nscim = \"User\"\ntarget = \"User\"\n",
            secret_file.display().to_string(),
            csv.display().to_string()
        ),
    );
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("\"csv-app-token-123456\"", &format!("{LITERAL:?}"));
    std::fs::write(&config, text).unwrap();
    let log = dir.path().join("host.log");
    let host = serve(&config, &[], &log);
    let cert = dir.path().join("state/tls/cert.pem");
    assert!(
        wait_until_ready(
            &format!("https://localhost:{port}/readyz"),
            Some(&cert),
            Duration::from_secs(20)
        ),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // A log line holding a secret (as an old version or a connector might have written)
    // is caught by the verbatim search.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(format!("a careless line with {FROM_FILE} in it\n").as_bytes())
        .unwrap();

    let archive = dir.path().join("support.tar.gz");
    let out = Command::new(exe())
        .args(["diagnose", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&archive)
        .arg("--log-file")
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&archive).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the archive is its owner's only");
    }
    let files = unpack(&archive);
    for (name, text) in &files {
        for secret in [LITERAL, FROM_FILE] {
            assert!(!text.contains(secret), "'{secret}' in {name}:\n{text}");
        }
    }
    let version = file(&files, "version.txt").unwrap();
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    let config_text = file(&files, "config.toml").unwrap();
    assert!(config_text.contains("[REDACTED]"), "{config_text}");
    assert!(
        config_text.contains(&secret_file.display().to_string()),
        "the secret's file is named, its content is not: {config_text}"
    );
    let status = file(&files, "status.json").unwrap_or_else(|| panic!("{files:?}"));
    let status: serde_json::Value = serde_json::from_str(status).unwrap();
    let apps: Vec<&str> = status["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(apps, ["c", "crm"], "{status}");
    let plugins = file(&files, "plugins.txt").unwrap();
    assert!(plugins.contains("csv"), "{plugins}");
    let certificate = file(&files, "certificate.txt").unwrap();
    assert!(certificate.contains("days left"), "{certificate}");
    let log_tail = file(&files, "log.txt").unwrap();
    assert!(
        log_tail.contains("listening") && log_tail.contains("a careless line with [REDACTED]"),
        "{log_tail}"
    );

    // Without a running host the archive says so instead of reporting states.
    drop(host);
    let archive = dir.path().join("offline.tar.gz");
    let out = Command::new(exe())
        .args(["diagnose", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&archive)
        .arg("--log-file")
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    let files = unpack(&archive);
    assert!(file(&files, "status.json").is_none());
    let status = file(&files, "status.txt").unwrap();
    assert!(status.contains("no running ecma-host"), "{status}");
}
