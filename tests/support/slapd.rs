//! A throwaway OpenLDAP `slapd` for tests: cn=config built offline with `slapadd -n0`, run in
//! the foreground (`-d 0`) so the harness owns the PID, stopped by kill + wait in `Drop`.
//!
//! Every instance has: suffix `dc=example,dc=com` (root `cn=admin,dc=example,dc=com` /
//! `secret`), an accesslog database `cn=accesslog` fed by the accesslog overlay (delta
//! import), syncprov, LDAP on a free port, LDAPS on another, ldapi on a short socket path
//! under /tmp, and a test CA + server certificate (SAN `localhost`, `127.0.0.1`) so StartTLS
//! and LDAPS can be verified.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::servers::{free_port, require_binary, run};

pub const SUFFIX: &str = "dc=example,dc=com";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=com";
pub const ADMIN_PW: &str = "secret";
/// A bind identity with read-only access (for permission errors).
pub const READER_DN: &str = "cn=reader,dc=example,dc=com";
pub const READER_PW: &str = "reader";

/// Options for [`Slapd::start_with`].
#[derive(Debug, Clone, Default)]
pub struct SlapdOptions {
    /// LDIF loaded with `slapadd` into the main database before the server starts (fast bulk
    /// load for benchmarks). It must not contain the suffix entry; the harness adds it.
    pub preload_ldif: Option<PathBuf>,
    /// Disable the accesslog overlay (to exercise fallback delta strategies).
    pub no_accesslog: bool,
    /// Run syncprov without a session log: content sync can then only answer a cookie with
    /// a present phase (deletes implied by absence).
    pub no_sync_sessionlog: bool,
    /// A schema loaded into cn=config after the standard ones (core, cosine, inetorgperson,
    /// nis).
    pub extra_schema: Option<ExtraSchema>,
}

/// A schema of the test's own: RFC 4512 attribute type and object class descriptions, loaded
/// as one `olcSchemaConfig` entry.
#[derive(Debug, Clone)]
pub struct ExtraSchema {
    /// The entry's `cn` under `cn=schema,cn=config`.
    pub name: String,
    pub attribute_types: Vec<String>,
    pub object_classes: Vec<String>,
}

/// An octet-string attribute (no text, compared byte for byte) usable as a client-chosen
/// binary anchor; in the auxiliary class [`BINARY_ID_CLASS`].
pub const BINARY_ID_ATTR: &str = "ecmaBinaryId";
pub const BINARY_ID_CLASS: &str = "ecmaBinaryObject";

impl ExtraSchema {
    /// [`BINARY_ID_ATTR`] (Octet String syntax, `octetStringMatch`, single-valued) in the
    /// auxiliary class [`BINARY_ID_CLASS`]. OIDs from OpenLDAP's experimental arc.
    pub fn binary_id() -> Self {
        Self {
            name: "ecmabinary".into(),
            attribute_types: vec![format!(
                "( 1.3.6.1.4.1.4203.666.100.1 NAME '{BINARY_ID_ATTR}' DESC 'a binary identifier' \
                 EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )"
            )],
            object_classes: vec![format!(
                "( 1.3.6.1.4.1.4203.666.100.2 NAME '{BINARY_ID_CLASS}' SUP top AUXILIARY \
                 MAY {BINARY_ID_ATTR} )"
            )],
        }
    }

    fn ldif(&self) -> String {
        let mut s = format!(
            "dn: cn={name},cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: {name}\n",
            name = self.name
        );
        for a in &self.attribute_types {
            s.push_str(&format!("olcAttributeTypes: {a}\n"));
        }
        for c in &self.object_classes {
            s.push_str(&format!("olcObjectClasses: {c}\n"));
        }
        s.push('\n');
        s
    }
}

/// A running slapd.
pub struct Slapd {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub port: u16,
    pub ldaps_port: u16,
    /// `ldap://127.0.0.1:PORT`
    pub url: String,
    /// `ldaps://127.0.0.1:PORT`
    pub ldaps_url: String,
    /// `ldapi://%2Ftmp%2F...`
    pub ldapi_url: String,
    /// Path of the ldapi socket.
    pub socket_path: PathBuf,
    /// PEM file of the CA that signed the server certificate.
    pub ca_file: PathBuf,
    /// PEM file of an unrelated CA (to prove verification refuses it).
    pub wrong_ca_file: PathBuf,
    /// Client certificate and key signed by the test CA (subject `CLIENT_CERT_SUBJECT`).
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A client certificate with the same subject, signed by the unrelated CA.
    pub wrong_client_cert: PathBuf,
    pub wrong_client_key: PathBuf,
    slapd: PathBuf,
}

impl Slapd {
    /// Starts a slapd with default options, or returns None (skip) when slapd is not installed
    /// outside CI. Under `CI=true` a missing slapd panics.
    pub fn start() -> Option<Self> {
        Self::start_with(SlapdOptions::default())
    }

    pub fn start_with(options: SlapdOptions) -> Option<Self> {
        let slapd = require_binary("slapd", &["/usr/sbin"])?;
        let slapadd = require_binary("slapadd", &["/usr/sbin"])?;
        // Unix socket paths are limited to 108 bytes: keep the directory short, under /tmp.
        let dir = tempfile::Builder::new()
            .prefix("slapd-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let d = dir.path();
        std::fs::create_dir_all(d.join("slapd.d")).unwrap();
        std::fs::create_dir_all(d.join("db")).unwrap();
        std::fs::create_dir_all(d.join("log")).unwrap();

        let (ca_pem, cert_pem, key_pem, client_pem, client_key_pem) = make_certs();
        let (wrong_ca_pem, _, _, wrong_client_pem, wrong_client_key_pem) = make_certs();
        std::fs::write(d.join("ca.pem"), ca_pem).unwrap();
        std::fs::write(d.join("wrong-ca.pem"), wrong_ca_pem).unwrap();
        std::fs::write(d.join("server.pem"), cert_pem).unwrap();
        std::fs::write(d.join("server.key"), key_pem).unwrap();
        std::fs::write(d.join("client.pem"), client_pem).unwrap();
        std::fs::write(d.join("client.key"), client_key_pem).unwrap();
        std::fs::write(d.join("wrong-client.pem"), wrong_client_pem).unwrap();
        std::fs::write(d.join("wrong-client.key"), wrong_client_key_pem).unwrap();

        let config = config_ldif(
            d,
            !options.no_accesslog,
            !options.no_sync_sessionlog,
            options.extra_schema.as_ref(),
        );
        std::fs::write(d.join("config.ldif"), config).unwrap();
        run(
            Command::new(&slapadd)
                .arg("-n0")
                .arg("-F")
                .arg(d.join("slapd.d"))
                .arg("-l")
                .arg(d.join("config.ldif")),
            "slapadd (cn=config)",
        );

        let mut data = format!(
            "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
             dn: {READER_DN}\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\ncn: reader\nuserPassword: {READER_PW}\n\n"
        );
        if let Some(extra) = &options.preload_ldif {
            data.push_str(&std::fs::read_to_string(extra).expect("read preload LDIF"));
        }
        std::fs::write(d.join("data.ldif"), data).unwrap();
        run(
            Command::new(&slapadd)
                .arg("-q")
                .arg("-F")
                .arg(d.join("slapd.d"))
                .arg("-b")
                .arg(SUFFIX)
                .arg("-l")
                .arg(d.join("data.ldif")),
            "slapadd (data)",
        );

        let socket_path = d.join("ldapi");
        let ldapi_url = format!(
            "ldapi://{}",
            socket_path.to_str().unwrap().replace('/', "%2F")
        );
        let port = free_port();
        let mut ldaps_port = free_port();
        while ldaps_port == port {
            ldaps_port = free_port();
        }
        let mut s = Slapd {
            child: None,
            url: format!("ldap://127.0.0.1:{port}"),
            ldaps_url: format!("ldaps://127.0.0.1:{ldaps_port}"),
            ldapi_url,
            socket_path,
            ca_file: d.join("ca.pem"),
            wrong_ca_file: d.join("wrong-ca.pem"),
            client_cert: d.join("client.pem"),
            client_key: d.join("client.key"),
            wrong_client_cert: d.join("wrong-client.pem"),
            wrong_client_key: d.join("wrong-client.key"),
            port,
            ldaps_port,
            dir,
            slapd,
        };
        s.launch();
        Some(s)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("slapd.log"))
            .unwrap();
        let child = Command::new(&self.slapd)
            .arg("-F")
            .arg(self.dir.path().join("slapd.d"))
            .arg("-h")
            .arg(format!(
                "ldap://127.0.0.1:{}/ ldaps://127.0.0.1:{}/ {}",
                self.port, self.ldaps_port, self.ldapi_url
            ))
            .arg("-d")
            .arg("0")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn slapd");
        self.child = Some(child);
        crate::servers::wait_for_ldap(
            self.child.as_mut().expect("just spawned"),
            &self.url,
            &self.dir.path().join("slapd.log"),
            Duration::from_secs(10),
        );
    }

    /// Stops the server (kill + wait). The data directory stays, so [`Slapd::restart`] brings
    /// the same directory back on the same ports.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            crate::servers::kill(&mut child);
        }
    }

    /// Starts the server again after [`Slapd::stop`].
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Freezes the server (SIGSTOP): it keeps its sockets but stops answering, as a directory
    /// that hangs mid-operation. [`Slapd::resume`] lets it go on.
    pub fn pause(&self) {
        if let Some(child) = &self.child {
            crate::servers::send_signal(child.id(), crate::servers::Signal::Stop);
        }
    }

    pub fn resume(&self) {
        if let Some(child) = &self.child {
            crate::servers::send_signal(child.id(), crate::servers::Signal::Cont);
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// A connection bound as the root DN.
    pub fn admin(&self) -> ldap3::LdapConn {
        let mut c = ldap3::LdapConn::new(&self.url).expect("connect");
        c.simple_bind(ADMIN_DN, ADMIN_PW)
            .expect("bind")
            .success()
            .expect("bind ok");
        c
    }

    /// Creates `ou=<name>,dc=example,dc=com` (tests use one OU each so they can run in
    /// parallel against one server) and returns its DN.
    pub fn create_ou(&self, name: &str) -> String {
        let dn = format!("ou={name},{SUFFIX}");
        let mut c = self.admin();
        let r = c
            .add(
                &dn,
                vec![
                    ("objectClass", ["organizationalUnit"].into()),
                    ("ou", [name].into()),
                ],
            )
            .expect("add ou");
        assert!(r.rc == 0 || r.rc == 68, "add {dn}: {r:?}");
        dn
    }

    /// Reads one entry (all user attributes plus `entryUUID`), None when it does not exist.
    pub fn read(&self, dn: &str) -> Option<ldap3::SearchEntry> {
        let mut c = self.admin();
        let r = c
            .search(
                dn,
                ldap3::Scope::Base,
                "(objectClass=*)",
                vec!["*", "entryUUID"],
            )
            .ok()?;
        let (mut entries, _) = r.success().ok()?;
        entries.pop().map(ldap3::SearchEntry::construct)
    }
}

impl Slapd {
    /// Adds an inetOrgPerson `uid=<uid>,<ou>` with the [`BINARY_ID_CLASS`] class and `id` as
    /// its [`BINARY_ID_ATTR`] (started with [`ExtraSchema::binary_id`]); returns its DN.
    pub fn add_with_binary_id(&self, ou: &str, uid: &str, id: &[u8]) -> String {
        let dn = format!("uid={},{ou}", ldap3::dn_escape(uid));
        let attrs: Vec<(&[u8], HashSet<&[u8]>)> = vec![
            (
                b"objectClass",
                HashSet::from([&b"inetOrgPerson"[..], BINARY_ID_CLASS.as_bytes()]),
            ),
            (b"uid", HashSet::from([uid.as_bytes()])),
            (b"cn", HashSet::from([uid.as_bytes()])),
            (b"sn", HashSet::from([&b"Binary"[..]])),
            (BINARY_ID_ATTR.as_bytes(), HashSet::from([id])),
        ];
        let r = self.admin().add(&dn, attrs).expect("add");
        assert_eq!(r.rc, 0, "add {dn}: {r:?}");
        dn
    }

    /// The [`BINARY_ID_ATTR`] bytes of the entry at `dn`; None without the entry or a value.
    pub fn binary_id(&self, dn: &str) -> Option<Vec<u8>> {
        let (entries, _) = self
            .admin()
            .search(
                dn,
                ldap3::Scope::Base,
                "(objectClass=*)",
                vec![BINARY_ID_ATTR],
            )
            .ok()?
            .success()
            .ok()?;
        let e = ldap3::SearchEntry::construct(entries.into_iter().next()?);
        // ldap3 keeps values that happen to be UTF-8 as text, the others as bytes.
        let text = e
            .attrs
            .get(BINARY_ID_ATTR)
            .and_then(|v| v.first())
            .map(|v| v.clone().into_bytes());
        text.or_else(|| e.bin_attrs.get(BINARY_ID_ATTR)?.first().cloned())
    }
}

/// The host configuration of one users-only application `name` over the Generic LDAP plugin
/// (users under `ou=people`, matched by `uid`); `app_extra` lines go into the `[[app]]` table.
pub fn users_app_toml(s: &Slapd, name: &str, app_extra: &str) -> String {
    ldap_app_toml(s, name, app_extra, false)
}

/// [`users_app_toml`] with groups too (`groupOfNames` under `ou=groups`, members in `member`).
pub fn users_and_groups_app_toml(s: &Slapd, name: &str, app_extra: &str) -> String {
    ldap_app_toml(s, name, app_extra, true)
}

fn ldap_app_toml(s: &Slapd, name: &str, app_extra: &str, groups: bool) -> String {
    let users_dn = format!("inetOrgPerson = uid={{uid}},ou=people,{SUFFIX}");
    let (object_types, dn_templates, group_type) = if groups {
        (
            "inetOrgPerson, groupOfNames",
            format!("\"\"\"\n{users_dn}\ngroupOfNames = cn={{cn}},ou=groups,{SUFFIX}\n\"\"\""),
            "\n[[app.object_type]]\nscim = \"Group\"\ntarget = \"groupOfNames\"\nattributes = [\"cn\"]\ncore = { displayName = \"cn\" }\nmembers_attribute = \"member\"\n",
        )
    } else {
        ("inetOrgPerson", format!("\"{users_dn}\""), "")
    };
    format!(
        r#"
[[app]]
name = "{name}"
connector = "generic-ldap"
token = "{{TOKEN}}"
autosync_minutes = 0
{app_extra}
[app.parameters.connectivity]
Host = "127.0.0.1"
Port = "{port}"
Binding = "Simple"
"User name" = "{admin}"
Password = {{ secret = "{pw}" }}
"Base DNs" = "{suffix}"
"Object types" = "{object_types}"
"DN templates" = {dn_templates}

[[app.object_type]]
scim = "User"
target = "inetOrgPerson"
query_attributes = ["uid"]
attributes = ["uid", "cn", "sn"]
core = {{ userName = "uid" }}
{group_type}"#,
        port = s.port,
        admin = ADMIN_DN,
        pw = ADMIN_PW,
        suffix = SUFFIX,
    )
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Subject of the client certificate the harness issues; slapd maps it to the root DN, so a
/// SASL EXTERNAL bind with it can write.
pub const CLIENT_CERT_SUBJECT: &str = "cn=ecma-connector";

/// A fresh CA, a server certificate and a client certificate (`CLIENT_CERT_SUBJECT`) it
/// signed: (ca.pem, server.pem, server.key, client.pem, client.key).
fn make_certs() -> (String, String, String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ecma-host test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &issuer).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, "ecma-connector");
    client.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client.signed_by(&client_key, &issuer).unwrap();
    (
        ca_cert.pem(),
        cert.pem(),
        key.serialize_pem(),
        client_cert.pem(),
        client_key.serialize_pem(),
    )
}

fn config_ldif(
    d: &Path,
    accesslog: bool,
    sessionlog: bool,
    extra_schema: Option<&ExtraSchema>,
) -> String {
    let dir = d.display();
    let mut s = format!(
        r#"dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {dir}/slapd.pid
olcTLSCACertificateFile: {dir}/ca.pem
olcTLSCertificateFile: {dir}/server.pem
olcTLSCertificateKeyFile: {dir}/server.key
olcTLSVerifyClient: try
olcAuthzRegexp: {{0}}"^{CLIENT_CERT_SUBJECT}$" "{ADMIN_DN}"
olcSizeLimit: unlimited

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: accesslog
olcModuleLoad: syncprov

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file:///etc/ldap/schema/nis.ldif

{extra_schema}dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: unlimited

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: cn=accesslog
olcRootDN: {ADMIN_DN}
olcDbDirectory: {dir}/log
olcDbMaxSize: 1073741824
olcDbIndex: default eq
olcDbIndex: objectClass,reqStart,reqResult
olcAccess: {{0}}to * by * read
olcSizeLimit: unlimited

dn: olcDatabase={{2}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{2}}mdb
olcSuffix: {SUFFIX}
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PW}
olcDbDirectory: {dir}/db
olcDbMaxSize: 4294967296
olcDbIndex: objectClass eq
olcDbIndex: entryUUID eq
olcDbIndex: uid,cn eq
olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth write by * read
olcLimits: {{0}}* size=unlimited time=unlimited
olcSizeLimit: unlimited

dn: olcOverlay={{0}}syncprov,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {{0}}syncprov
{sessionlog}
"#,
        extra_schema = extra_schema.map(ExtraSchema::ldif).unwrap_or_default(),
        sessionlog = if sessionlog {
            "olcSpSessionlog: 1000\n"
        } else {
            ""
        }
    );
    if accesslog {
        s.push_str(
            r#"dn: olcOverlay={1}accesslog,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {1}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE
olcAccessLogOld: (objectClass=*)
olcAccessLogOldAttr: objectClass

"#,
        );
    }
    s
}

/// Driving the generic-ldap connector through the real ABI (the built library, loaded the
/// way the host loads it).
pub mod connector {
    use std::sync::{Arc, Mutex};

    use plugin_api::host::{ConnectorInstance, ConnectorPlugin};
    use plugin_api::loader::{LoadedPlugin, load_plugin};
    use plugin_api::model::*;
    use plugin_api::sdk::{HostCallbacks, HostServices};

    use super::{ADMIN_DN, ADMIN_PW, SUFFIX, Slapd};
    use crate::drive::{export_batch, import_to_end};
    use crate::plugins::plugin_path;

    pub fn plugin() -> LoadedPlugin {
        load_plugin(&plugin_path("generic_ldap")).expect("load generic_ldap plugin")
    }

    /// Configuration for the harness server: simple bind as the root DN over plain LDAP.
    pub fn config(s: &Slapd) -> ConfigParameters {
        let mut c = ConfigParameters::new();
        c.set("Host", "127.0.0.1")
            .set("Port", s.port.to_string())
            .set("Binding", "Simple")
            .set("User name", ADMIN_DN)
            .set_secret("Password", ADMIN_PW)
            .set("Base DNs", SUFFIX)
            .set("Object types", "inetOrgPerson, groupOfNames")
            .set("Connection timeout", "5")
            .set("Operation timeout", "30");
        c
    }

    /// Log lines the connector sent to the host.
    #[derive(Default)]
    pub struct Captured(pub Mutex<Vec<(LogLevel, String)>>);
    impl HostCallbacks for Captured {
        fn log(&self, level: LogLevel, _target: &str, message: &str) {
            self.0.lock().unwrap().push((level, message.to_owned()));
        }
        fn is_cancelled(&self) -> bool {
            false
        }
    }

    pub fn instance(
        p: &LoadedPlugin,
        config: &ConfigParameters,
    ) -> (Box<dyn ConnectorInstance>, Arc<Captured>) {
        let log = Arc::new(Captured::default());
        let inst = p
            .create_instance(config, HostServices::new(log.clone()))
            .expect("create instance");
        (inst, log)
    }

    pub fn schema(p: &LoadedPlugin, config: &ConfigParameters) -> Schema {
        p.schema(config).expect("schema")
    }

    /// Runs an import to the end: (entries, final watermark, number of pages).
    pub fn import(
        inst: &mut dyn ConnectorInstance,
        schema: &Schema,
        import_type: ImportType,
        custom_data: &str,
        page_size: u32,
    ) -> ConnectorResult<(Vec<CsEntryChange>, String, usize)> {
        let (entries, pages, watermark) = import_to_end(
            inst,
            OpenImportRequest {
                import_type,
                page_size,
                custom_data: custom_data.to_owned(),
                partition: None,
                schema: schema.clone(),
            },
        )?;
        Ok((entries, watermark, pages))
    }

    pub fn export(
        inst: &mut dyn ConnectorInstance,
        schema: &Schema,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        export_batch(
            inst,
            OpenExportRequest {
                batch_size: entries.len() as u32,
                partition: None,
                schema: schema.clone(),
            },
            entries,
        )
    }

    /// An export entry with an identifier.
    pub fn entry(
        id: &str,
        object_type: &str,
        modification: ObjectModification,
        dn: &str,
    ) -> CsEntryChange {
        let mut e = CsEntryChange::new(object_type, modification);
        e.identifier = id.to_owned();
        e.dn = dn.to_owned();
        e
    }

    /// All values of `attr` as text, sorted.
    pub use crate::drive::values_of as values;
}
