//! A throwaway 389 Directory Server: instance files rendered into a temp directory by
//! `ds389/start-389ds.sh` (from the package's own dse.ldif template, without systemd or
//! dscreate), then `ns-slapd` run as a child on a free loopback port and stopped by PID.
//! The Retro Changelog (`cn=changelog`, with `targetUniqueId`) is on, as the Generic LDAP
//! connector's changelog delta needs.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::servers::{free_port, require_binary};

pub const DS_SUFFIX: &str = "dc=example,dc=com";
pub const DS_ROOT_DN: &str = "cn=Directory Manager";
pub const DS_ROOT_PW: &str = "Secret123";

pub struct Ds389 {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub port: u16,
    pub url: String,
}

impl Ds389 {
    /// Starts an instance, or returns None (skip) when 389 DS is not installed outside CI.
    /// Under `CI=true` a missing server panics.
    pub fn start() -> Option<Self> {
        let ns_slapd = require_binary("ns-slapd", &["/usr/sbin"])?;
        let dir = tempfile::Builder::new()
            .prefix("ds389-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let port = free_port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("support/ds389/start-389ds.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(dir.path())
            .arg(port.to_string())
            .arg(DS_ROOT_PW)
            .env("DS_PREPARE_ONLY", "1")
            .env("DS_SUFFIX", DS_SUFFIX)
            .output()
            .expect("run start-389ds.sh");
        assert!(
            out.status.success(),
            "preparing the 389 DS instance failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let d = dir.path();
        let log = std::fs::File::create(d.join("log/ns-slapd.out")).unwrap();
        // With NOTIFY_SOCKET set ns-slapd stays in the foreground (systemd Type=notify), so
        // the child is the server; the socket need not exist.
        let child = Command::new(ns_slapd)
            .arg("-D")
            .arg(d.join("config"))
            .arg("-i")
            .arg(d.join("run/slapd.pid"))
            .env("NOTIFY_SOCKET", d.join("run/notify.sock"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn ns-slapd");
        let mut s = Ds389 {
            child: Some(child),
            url: format!("ldap://127.0.0.1:{port}"),
            port,
            dir,
        };
        s.wait_ready();
        s.create_suffix();
        Some(s)
    }

    fn wait_ready(&mut self) {
        // The errors log says why a start failed.
        crate::servers::wait_for_ldap(
            self.child.as_mut().expect("spawned"),
            &self.url,
            &self.dir.path().join("log/errors"),
            Duration::from_secs(60),
        );
    }

    /// The suffix entry, with read access for bound users to it and to the changelog.
    fn create_suffix(&self) {
        let mut c = self.admin();
        c.add(
            DS_SUFFIX,
            vec![
                ("objectClass", ["top", "domain"].into()),
                ("dc", ["example"].into()),
                (
                    "aci",
                    [r#"(targetattr!="userPassword")(version 3.0; acl "test: bound users read all"; allow (read,search,compare) userdn="ldap:///all";)"#].into(),
                ),
            ],
        )
        .expect("add suffix")
        .success()
        .expect("suffix added");
    }

    /// A connection bound as Directory Manager.
    pub fn admin(&self) -> ldap3::LdapConn {
        let mut c = ldap3::LdapConn::new(&self.url).expect("connect");
        c.simple_bind(DS_ROOT_DN, DS_ROOT_PW)
            .expect("bind")
            .success()
            .expect("bind ok");
        c
    }

    /// Creates `ou=<name>` under the suffix and returns its DN.
    pub fn create_ou(&self, name: &str) -> String {
        let dn = format!("ou={name},{DS_SUFFIX}");
        let r = self
            .admin()
            .add(
                &dn,
                vec![
                    ("objectClass", ["top", "organizationalUnit"].into()),
                    ("ou", [name].into()),
                ],
            )
            .expect("add ou");
        assert!(r.rc == 0 || r.rc == 68, "add {dn}: {r:?}");
        dn
    }

    /// Generic LDAP connector parameters for this server (Directory Manager, plain LDAP).
    pub fn connector_config(&self) -> plugin_api::model::ConfigParameters {
        let mut c = plugin_api::model::ConfigParameters::new();
        c.set("Host", "127.0.0.1")
            .set("Port", self.port.to_string())
            .set("Binding", "Simple")
            .set("User name", DS_ROOT_DN)
            .set_secret("Password", DS_ROOT_PW)
            .set("Base DNs", DS_SUFFIX)
            .set("Object types", "inetOrgPerson, groupOfNames")
            .set("Connection timeout", "5")
            .set("Operation timeout", "30");
        c
    }

    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            // The database closes cleanly on SIGTERM (about 2 s).
            crate::servers::terminate(child, Duration::from_secs(15));
        }
    }
}

impl Drop for Ds389 {
    fn drop(&mut self) {
        self.stop();
    }
}
