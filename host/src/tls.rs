//! TLS: the configured certificate, or a self-signed one generated in the state directory
//! (like Microsoft's host: SAN host name, localhost, 127.0.0.1; valid two years).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Generate(String),
    #[error("TLS configuration: {0}")]
    Config(String),
    #[error("the certificate {path} expired on {not_after}")]
    Expired { path: PathBuf, not_after: String },
}

/// Where the generated certificate lives.
pub fn generated_paths(state_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = state_dir.join("tls");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// This machine's host name (for the certificate's SAN and the URLs we print).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Generates a self-signed certificate valid for two years and writes it (key mode 0600).
pub fn generate_self_signed(state_dir: &Path, host: &str) -> Result<(PathBuf, PathBuf), TlsError> {
    let (cert_path, key_path) = generated_paths(state_dir);
    let dir = cert_path.parent().expect("tls dir");
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut names = vec![
        host.to_owned(),
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
    ];
    names.dedup();
    let mut params =
        rcgen::CertificateParams::new(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, host.to_owned());
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(730);
    let key = rcgen::KeyPair::generate().map_err(|e| TlsError::Generate(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    // Atomically and 0600 even over an existing file: a half-written or readable key is
    // worse than none.
    crate::state::write_private_atomic(&key_path, key.serialize_pem().as_bytes()).map_err(
        |source| TlsError::Write {
            path: key_path.clone(),
            source,
        },
    )?;
    crate::state::write_atomic(&cert_path, cert.pem().as_bytes()).map_err(|source| {
        TlsError::Write {
            path: cert_path.clone(),
            source,
        }
    })?;
    Ok((cert_path, key_path))
}

/// When the certificate at `path` stops being valid (seconds since the epoch).
pub fn not_after(path: &Path) -> Result<i64, TlsError> {
    summary(path).map(|s| s.not_after)
}

/// Certificate details for reports (`ecma-host diagnose`).
#[derive(Debug, Clone)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub names: Vec<String>,
    /// Seconds since the epoch.
    pub not_after: i64,
}

/// Subject, issuer, names and expiry of the first certificate in the PEM file at `path`.
pub fn summary(path: &Path) -> Result<CertSummary, TlsError> {
    let read_err = |message: String| TlsError::Read {
        path: path.to_owned(),
        message,
    };
    let pem = std::fs::read(path).map_err(|e| read_err(e.to_string()))?;
    let der = CertificateDer::from_pem_slice(&pem).map_err(|e| read_err(e.to_string()))?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(&der).map_err(|e| read_err(e.to_string()))?;
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => d.to_string(),
                    x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                        4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*ip).unwrap_or_default())
                            .to_string(),
                        16 => {
                            std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*ip).unwrap_or_default())
                                .to_string()
                        }
                        _ => format!("{ip:?}"),
                    },
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(CertSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names,
        not_after: cert.validity().not_after.timestamp(),
    })
}

/// Where the listener's certificate and key are read from: the configured pair, else the
/// generated one (made on first use).
pub fn cert_paths(
    cert: Option<&Path>,
    key: Option<&Path>,
    state_dir: &Path,
) -> Result<(PathBuf, PathBuf), TlsError> {
    match (cert, key) {
        (Some(c), Some(k)) => Ok((c.to_owned(), k.to_owned())),
        (None, None) => Ok(generated_paths(state_dir)),
        _ => Err(TlsError::Config(
            "set both tls_cert and tls_key, or neither (for a generated certificate)".into(),
        )),
    }
}

/// The listener's certificate, replaceable while it serves: `reload` (SIGHUP) reads the files
/// again and swaps the key in for new handshakes; connections already open keep theirs.
pub struct CertStore {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<rustls::crypto::CryptoProvider>,
    current: arc_swap::ArcSwap<CertifiedKey>,
}

impl std::fmt::Debug for CertStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertStore")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

impl CertStore {
    fn open(
        cert_path: PathBuf,
        key_path: PathBuf,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, TlsError> {
        let key = load_certified_key(&cert_path, &key_path, &provider)?;
        Ok(Self {
            cert_path,
            key_path,
            provider,
            current: arc_swap::ArcSwap::from_pointee(key),
        })
    }

    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Reads the certificate and key again. A pair that cannot serve (unreadable, expired,
    /// a key that does not match) leaves the current one in place; the error says why.
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = load_certified_key(&self.cert_path, &self.key_path, &self.provider)?;
        self.current.store(Arc::new(key));
        Ok(())
    }
}

/// Reads, checks and pairs a certificate chain and its key. Warns 30 days before expiry;
/// refuses an expired certificate and a key that is not the certificate's.
fn load_certified_key(
    cert_path: &Path,
    key_path: &Path,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let expires = not_after(cert_path)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let when = time::OffsetDateTime::from_unix_timestamp(expires)
        .map(|t| t.date().to_string())
        .unwrap_or_default();
    if expires <= now {
        return Err(TlsError::Expired {
            path: cert_path.to_owned(),
            not_after: when,
        });
    }
    if expires - now < 30 * 24 * 3600 {
        tracing::warn!(cert = %cert_path.display(), "the TLS certificate expires on {when}; renew it (ecma-host gen-cert --force for a self-signed one)");
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Read {
            path: cert_path.to_owned(),
            message: e.to_string(),
        })?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| TlsError::Read {
        path: key_path.to_owned(),
        message: e.to_string(),
    })?;
    CertifiedKey::from_der(certs, key, provider).map_err(|e| {
        TlsError::Config(format!(
            "{} with {}: {e}",
            cert_path.display(),
            key_path.display()
        ))
    })
}

/// The rustls configuration for the listener and the certificate store behind it (see
/// [`CertStore::reload`]).
pub fn server_config(
    cert: Option<&Path>,
    key: Option<&Path>,
    state_dir: &Path,
    host: &str,
) -> Result<(Arc<ServerConfig>, Arc<CertStore>), TlsError> {
    let (cert_path, key_path) = cert_paths(cert, key, state_dir)?;
    if cert.is_none() && !(cert_path.exists() && key_path.exists()) {
        tracing::info!(
            "no TLS certificate configured: generating a self-signed one in {}",
            cert_path.display()
        );
        generate_self_signed(state_dir, host)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let store = Arc::new(CertStore::open(cert_path, key_path, provider.clone())?);
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(store.clone());
    Ok((Arc::new(config), store))
}
