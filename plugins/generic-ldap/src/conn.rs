//! Connecting, TLS, binding, the Root DSE and vendor detection; error classification.

use std::path::Path;
use std::sync::Arc;

use ldap3::{LdapConn, LdapConnSettings, LdapError, LdapResult, Scope, SearchEntry};
use plugin_api::prelude::*;
use rustls::ClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::entry::{attr_values, first_value};
use crate::settings::{BindMethod, Security, Settings};

pub const OID_PAGED_RESULTS: &str = "1.2.840.113556.1.4.319";
pub const OID_PERMISSIVE_MODIFY: &str = "1.2.840.113556.1.4.1413";
pub const OID_PASSWORD_MODIFY: &str = "1.3.6.1.4.1.4203.1.11.1";
pub const OID_SYNC_REQUEST: &str = "1.3.6.1.4.1.4203.1.9.1.1";

/// Errors inside the crate; converted to [`ConnectorError`] or export codes at the edges.
#[derive(Debug, thiserror::Error)]
pub enum LdapFailure {
    #[error("configuration: {0}")]
    Config(String),
    #[error("TLS setup: {0}")]
    Tls(String),
    /// The server could not be reached, or the connection broke or timed out.
    #[error("connection to {url} failed: {message}")]
    Connection { url: String, message: String },
    /// The server answered with an error result.
    #[error("{op}: LDAP result {rc} ({name}){}{}", if .text.is_empty() { "" } else { ": " }, .text)]
    Result {
        op: String,
        rc: u32,
        name: &'static str,
        text: String,
    },
    /// noSuchObject about something other than the object itself: the object exists (a base
    /// search found it), so a DN the change names (a new parent, a member) does not.
    #[error(
        "{op}: LDAP result 32 (noSuchObject){}{}; the object itself exists, so a DN this change names (a new parent or a member) does not",
        if .text.is_empty() { "" } else { ": " },
        .text
    )]
    MissingReference { op: String, text: String },
    #[error("{0}")]
    Protocol(String),
    /// The connector refused the entry before sending anything (the caller's to fix).
    #[error("{0}")]
    Rejected(String),
    /// An add or rename to a DN outside every container the connector serves (the `Base DNs`
    /// parameter, else the server's naming contexts): refused before anything is sent.
    #[error(
        "{op}: the DN '{dn}' is not under any base DN this connector serves ({}); choose a DN under one of them, or add its container to 'Base DNs'",
        .bases.join("; ")
    )]
    OutsideBases {
        op: String,
        dn: String,
        bases: Vec<String>,
    },
    /// A delta cannot continue from its watermark; the host runs a full import.
    #[error("{0}")]
    FullImportRequired(String),
}

impl LdapFailure {
    /// Classifies an ldap3 error from operation `op`.
    pub fn from_ldap(op: &str, url: &str, e: LdapError) -> Self {
        match e {
            LdapError::LdapResult { result } => Self::result(op, result.rc, result.text),
            LdapError::FilterParsing => Self::Protocol(format!("{op}: invalid search filter")),
            LdapError::Rustls { source } => Self::Connection {
                url: url.to_owned(),
                message: format!("TLS: {source}"),
            },
            other => Self::Connection {
                url: url.to_owned(),
                message: format!("{op}: {other}"),
            },
        }
    }

    pub fn result(op: &str, rc: u32, text: String) -> Self {
        Self::Result {
            op: op.to_owned(),
            rc,
            name: result_name(rc),
            text,
        }
    }

    /// True when the connection should be dropped and re-established.
    pub fn is_connection(&self) -> bool {
        match self {
            Self::Connection { .. } => true,
            // busy, unavailable, unwilling-to-perform-because-shutting-down style codes
            Self::Result { rc, .. } => matches!(rc, 51 | 52 | 81),
            _ => false,
        }
    }

    /// The ECMA export code for this failure.
    pub fn export_code(&self) -> ExportErrorCode {
        match self {
            Self::Connection { .. } => ExportErrorCode::ConnectedDirectoryError,
            Self::Config(_) | Self::Tls(_) => ExportErrorCode::CustomStopRun,
            Self::Protocol(_) | Self::FullImportRequired(_) => ExportErrorCode::CustomContinueRun,
            Self::Result { rc, .. } => export_code_for(*rc),
            // A request naming a DN that does not exist: the client's to fix (400), not a
            // missing object (404).
            Self::MissingReference { .. } | Self::OutsideBases { .. } => ExportErrorCode::InvalidDn,
            Self::Rejected(_) => ExportErrorCode::SyntaxViolation,
        }
    }
}

/// An operation's result: Ok for success, else the failure named after `op`.
pub fn check_result(op: &str, r: &LdapResult) -> LResult<()> {
    if r.rc == 0 {
        Ok(())
    } else {
        Err(LdapFailure::result(op, r.rc, r.text.clone()))
    }
}

/// LDAP result code → ECMA export code.
pub fn export_code_for(rc: u32) -> ExportErrorCode {
    match rc {
        32 => ExportErrorCode::ConnectedDirectoryMissingObject,
        68 => ExportErrorCode::ConnectedDirectoryExistingObject,
        // objectClassViolation, invalidAttributeSyntax, constraintViolation, undefinedType,
        // noSuchAttribute, attributeOrValueExists, inappropriateMatching, notAllowedOnRDN,
        // objectClassModsProhibited
        65 | 21 | 19 | 17 | 16 | 20 | 18 | 67 | 69 => ExportErrorCode::SyntaxViolation,
        // invalidDNSyntax, namingViolation
        34 | 64 => ExportErrorCode::InvalidDn,
        // insufficientAccessRights, inappropriateAuthentication, invalidCredentials,
        // strongerAuthRequired, confidentialityRequired, unwillingToPerform
        50 | 48 | 49 | 8 | 13 | 53 => ExportErrorCode::PermissionIssue,
        // operationsError, timeLimitExceeded, busy, unavailable, loopDetect, other,
        // server down / timeout (client-side codes)
        1 | 3 | 51 | 52 | 54 | 80 | 81 | 85 => ExportErrorCode::ConnectedDirectoryError,
        _ => ExportErrorCode::CustomContinueRun,
    }
}

pub fn result_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        18 => "inappropriateMatching",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        54 => "loopDetect",
        64 => "namingViolation",
        65 => "objectClassViolation",
        66 => "notAllowedOnNonLeaf",
        67 => "notAllowedOnRDN",
        68 => "entryAlreadyExists",
        69 => "objectClassModsProhibited",
        80 => "other",
        _ => "unknown",
    }
}

impl From<LdapFailure> for ConnectorError {
    fn from(e: LdapFailure) -> Self {
        let kind = match &e {
            LdapFailure::Config(_) | LdapFailure::Tls(_) => ErrorKind::Config,
            LdapFailure::FullImportRequired(_) => ErrorKind::FullImportRequired,
            LdapFailure::Rejected(_) | LdapFailure::OutsideBases { .. } => ErrorKind::InvalidInput,
            f if f.is_connection() => ErrorKind::Connection,
            LdapFailure::Result {
                rc: 49 | 48 | 7, ..
            } => ErrorKind::Config,
            _ => ErrorKind::Internal,
        };
        ConnectorError::new(kind, e.to_string())
    }
}

pub type LResult<T> = Result<T, LdapFailure>;

/// Directory server families, detected from the Root DSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    OpenLdap,
    Ds389,
    OpenDj,
    AdLds,
    ApacheDs,
    Unknown,
}

impl Vendor {
    /// The anchor attribute that survives renames, None when the DN must be the anchor.
    pub fn default_anchor(self) -> Option<&'static str> {
        match self {
            Vendor::OpenLdap => Some("entryUUID"),
            Vendor::OpenDj => Some("entryUUID"),
            Vendor::Ds389 => Some("nsUniqueId"),
            Vendor::AdLds => Some("objectGUID"),
            Vendor::ApacheDs => Some("entryUUID"),
            Vendor::Unknown => None,
        }
    }
}

/// What the Root DSE says about the server.
#[derive(Debug, Clone)]
pub struct RootDse {
    pub naming_contexts: Vec<String>,
    pub controls: Vec<String>,
    pub extensions: Vec<String>,
    pub subschema: String,
    pub vendor: Vendor,
    pub vendor_name: String,
    pub last_change_number: Option<u64>,
}

impl RootDse {
    pub fn supports_control(&self, oid: &str) -> bool {
        self.controls.iter().any(|c| c == oid)
    }
    pub fn supports_extension(&self, oid: &str) -> bool {
        self.extensions.iter().any(|c| c == oid)
    }

    fn from_entry(e: &SearchEntry) -> Self {
        let get = |name: &str| attr_values(e, name);
        let first = |name: &str| first_value(e, name);
        let object_classes = get("objectClass");
        let vendor_name = first("vendorName").unwrap_or_default();
        let lower = vendor_name.to_lowercase();
        let controls = get("supportedControl");
        let capabilities = get("supportedCapabilities");
        let vendor = if object_classes
            .iter()
            .any(|c| c.eq_ignore_ascii_case("OpenLDAProotDSE"))
        {
            Vendor::OpenLdap
        } else if lower.contains("389") || lower.contains("fedora") || lower.contains("red hat") {
            Vendor::Ds389
        } else if lower.contains("forgerock")
            || lower.contains("ping identity")
            || lower.contains("opends")
            || lower.contains("opendj")
            || lower.contains("sun microsystems")
        {
            Vendor::OpenDj
        } else if capabilities
            .iter()
            .any(|c| c == "1.2.840.113556.1.4.1851" || c == "1.2.840.113556.1.4.800")
        {
            // 1.4.1851 = ADAM/AD LDS, 1.4.800 = AD
            Vendor::AdLds
        } else if lower.contains("apache") {
            Vendor::ApacheDs
        } else {
            Vendor::Unknown
        };
        RootDse {
            naming_contexts: get("namingContexts"),
            controls,
            extensions: get("supportedExtension"),
            subschema: first("subschemaSubentry").unwrap_or_else(|| "cn=Subschema".to_owned()),
            vendor,
            vendor_name,
            last_change_number: first("lastChangeNumber").and_then(|v| v.parse().ok()),
        }
    }
}

/// Opens a connection and binds, per the settings.
pub fn connect(settings: &Settings, host: &HostServices) -> LResult<LdapConn> {
    let url = settings.url();
    let mut ls = LdapConnSettings::new().set_conn_timeout(settings.conn_timeout);
    if settings.security != Security::None && settings.socket.is_none() {
        ls = ls.set_config(tls_config(settings, host)?);
        if settings.security == Security::StartTls {
            ls = ls.set_starttls(true);
        }
    }
    let mut conn = LdapConn::with_settings(ls, &url)
        .map_err(|e| LdapFailure::from_ldap("connect", &url, e))?;
    let bind = match settings.binding {
        BindMethod::Anonymous => None,
        BindMethod::Simple => Some(
            conn.with_timeout(settings.conn_timeout)
                .simple_bind(&settings.user, settings.password.expose()),
        ),
        BindMethod::SaslExternal => Some(
            conn.with_timeout(settings.conn_timeout)
                .sasl_external_bind(),
        ),
    };
    if let Some(bind) = bind {
        let r = bind.map_err(|e| LdapFailure::from_ldap("bind", &url, e))?;
        if r.rc != 0 {
            return Err(LdapFailure::result(
                &format!("bind as {:?}", settings.user),
                r.rc,
                r.text,
            ));
        }
    }
    Ok(conn)
}

/// Reads the Root DSE.
pub fn read_root_dse(conn: &mut LdapConn, settings: &Settings) -> LResult<RootDse> {
    let url = settings.url();
    let r = conn
        .with_timeout(settings.op_timeout)
        .search("", Scope::Base, "(objectClass=*)", vec!["*", "+"])
        .map_err(|e| LdapFailure::from_ldap("read Root DSE", &url, e))?;
    let (entries, _) = r
        .success()
        .map_err(|e| LdapFailure::from_ldap("read Root DSE", &url, e))?;
    let entry = entries
        .into_iter()
        .next()
        .map(SearchEntry::construct)
        .ok_or_else(|| LdapFailure::Protocol("the server returned no Root DSE".into()))?;
    Ok(RootDse::from_entry(&entry))
}

fn tls_config(settings: &Settings, host: &HostServices) -> LResult<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| LdapFailure::Tls(e.to_string()))?;
    let builder = if settings.verify {
        let mut roots = rustls::RootCertStore::empty();
        match &settings.ca_file {
            Some(file) => {
                let certs = read_certs(file)?;
                if certs.is_empty() {
                    return Err(LdapFailure::Tls(format!(
                        "{} holds no PEM certificate",
                        file.display()
                    )));
                }
                for c in certs {
                    roots
                        .add(c)
                        .map_err(|e| LdapFailure::Tls(format!("{}: {e}", file.display())))?;
                }
            }
            None => {
                let native = rustls_native_certs::load_native_certs();
                for c in native.certs {
                    let _ = roots.add(c);
                }
                if roots.is_empty() {
                    return Err(LdapFailure::Tls(
                        "no system CA certificates found; configure a CA certificate file".into(),
                    ));
                }
            }
        }
        builder.with_root_certificates(roots)
    } else {
        host.warn(&format!(
            "TLS certificate verification is DISABLED for {}: the connection is encrypted but the server is not authenticated",
            settings.url()
        ));
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    };
    let config = match (&settings.client_cert, &settings.client_key) {
        (Some(cert), Some(key)) => {
            let certs = read_certs(cert)?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| LdapFailure::Tls(format!("{}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| LdapFailure::Tls(e.to_string()))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The certificates of a PEM file.
fn read_certs(file: &Path) -> LResult<Vec<CertificateDer<'static>>> {
    let failed =
        |e: rustls_pki_types::pem::Error| LdapFailure::Tls(format!("{}: {e}", file.display()));
    CertificateDer::pem_file_iter(file)
        .map_err(failed)?
        .collect::<Result<_, _>>()
        .map_err(failed)
}

/// Accepts any server certificate (only when verification was explicitly turned off);
/// handshake signatures are still checked so the session keys belong to the presented key.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One connection that is re-established on demand: after the server restarts, the next
/// call reconnects instead of failing forever.
pub struct Session {
    pub settings: Arc<Settings>,
    pub host: HostServices,
    conn: Option<LdapConn>,
    pub root: Option<RootDse>,
}

impl Session {
    pub fn new(settings: Arc<Settings>, host: HostServices) -> Self {
        Self {
            settings,
            host,
            conn: None,
            root: None,
        }
    }

    /// The live connection, connecting (and reading the Root DSE the first time) if needed.
    pub fn conn(&mut self) -> LResult<&mut LdapConn> {
        if self.conn.as_mut().is_some_and(|c| c.is_closed()) {
            self.conn = None;
        }
        if self.conn.is_none() {
            let mut c = connect(&self.settings, &self.host)?;
            if self.root.is_none() {
                self.root = Some(read_root_dse(&mut c, &self.settings)?);
            }
            self.conn = Some(c);
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// Makes sure the connection works now: a kept-open connection to a server that has
    /// restarted only notices on its next request, so a cheap Root DSE read is sent first and,
    /// when it fails for connection reasons, the connection is made again. Call it before a
    /// batch of writes, which are never retried themselves (they may have been applied).
    pub fn ensure_alive(&mut self) -> LResult<()> {
        let timeout = self.settings.conn_timeout;
        let url = self.url();
        let probe = self
            .conn()?
            .with_timeout(timeout)
            .search("", Scope::Base, "(objectClass=*)", vec!["1.1"])
            .map_err(|e| LdapFailure::from_ldap("probe", &url, e));
        match probe {
            Ok(_) => Ok(()),
            Err(e) if e.is_connection() => {
                self.note(&e);
                self.conn().map(|_| ())
            }
            Err(e) => Err(e),
        }
    }

    pub fn root(&mut self) -> LResult<&RootDse> {
        self.conn()?;
        Ok(self.root.as_ref().expect("read on connect"))
    }

    /// Forget the connection after a failure that may have broken it.
    pub fn note(&mut self, e: &LdapFailure) {
        if e.is_connection()
            && let Some(mut c) = self.conn.take()
        {
            let _ = c.unbind();
        }
    }

    /// Runs `f` on this session, forgetting the connection when `f` fails in a way that may
    /// have broken it (see [`Session::note`]).
    pub fn forget_on_failure<T>(&mut self, f: impl FnOnce(&mut Self) -> LResult<T>) -> LResult<T> {
        let result = f(self);
        if let Err(e) = &result {
            self.note(e);
        }
        result
    }

    pub fn url(&self) -> String {
        self.settings.url()
    }
}
