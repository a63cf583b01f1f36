//! TLS: the configured certificate, or a self-signed one generated in the state directory
//! (like Microsoft's host: SAN host name, localhost, 127.0.0.1; valid two years).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
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
    write_private(&key_path, key.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, cert.pem()).map_err(|source| TlsError::Write {
        path: cert_path.clone(),
        source,
    })?;
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|source| TlsError::Write {
        path: path.to_owned(),
        source,
    })?;
    f.write_all(bytes).map_err(|source| TlsError::Write {
        path: path.to_owned(),
        source,
    })
}

/// When the certificate at `path` stops being valid (seconds since the epoch).
pub fn not_after(path: &Path) -> Result<i64, TlsError> {
    let pem = std::fs::read(path).map_err(|e| TlsError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let der = CertificateDer::from_pem_slice(&pem).map_err(|e| TlsError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|e| TlsError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    Ok(cert.validity().not_after.timestamp())
}

/// The rustls configuration for the listener. Warns 30 days before expiry; refuses an expired
/// certificate.
pub fn server_config(
    cert: Option<&Path>,
    key: Option<&Path>,
    state_dir: &Path,
    host: &str,
) -> Result<(Arc<ServerConfig>, PathBuf), TlsError> {
    let (cert_path, key_path) = match (cert, key) {
        (Some(c), Some(k)) => (c.to_owned(), k.to_owned()),
        (None, None) => {
            let (c, k) = generated_paths(state_dir);
            if c.exists() && k.exists() {
                (c, k)
            } else {
                tracing::info!(
                    "no TLS certificate configured: generating a self-signed one in {}",
                    c.display()
                );
                generate_self_signed(state_dir, host)?
            }
        }
        _ => {
            return Err(TlsError::Config(
                "set both tls_cert and tls_key, or neither (for a generated certificate)".into(),
            ));
        }
    };
    let expires = not_after(&cert_path)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let when = time::OffsetDateTime::from_unix_timestamp(expires)
        .map(|t| t.date().to_string())
        .unwrap_or_default();
    if expires <= now {
        return Err(TlsError::Expired {
            path: cert_path,
            not_after: when,
        });
    }
    if expires - now < 30 * 24 * 3600 {
        tracing::warn!(cert = %cert_path.display(), "the TLS certificate expires on {when}; renew it (ecma-host gen-cert --force for a self-signed one)");
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Read {
            path: cert_path.clone(),
            message: e.to_string(),
        })?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| TlsError::Read {
        path: key_path.clone(),
        message: e.to_string(),
    })?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok((Arc::new(config), cert_path))
}
