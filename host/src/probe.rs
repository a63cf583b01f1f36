//! A small HTTPS client for `test-connection` (and tests): trusts exactly the given CA.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot read CA certificate {path}: {message}")]
    Ca { path: String, message: String },
    #[error("TLS setup: {0}")]
    Tls(String),
    #[error("request failed: {0}")]
    Http(String),
}

/// Status and body of one response.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: u16,
    pub body: String,
}

/// A blocking client trusting `ca` (PEM) for HTTPS.
pub fn client(ca: Option<&Path>) -> Result<reqwest::blocking::Client, ProbeError> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = ca {
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| ProbeError::Ca {
                path: ca.display().to_string(),
                message: e.to_string(),
            })?;
        for c in certs {
            roots.add(c).map_err(|e| ProbeError::Tls(e.to_string()))?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ProbeError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| ProbeError::Http(e.to_string()))
}

/// `GET url` with a bearer token.
pub fn get(url: &str, token: &str, ca: Option<&Path>) -> Result<Outcome, ProbeError> {
    let response = client(ca)?
        .get(url)
        .bearer_auth(token)
        .send()
        .map_err(|e| ProbeError::Http(format!("{e:#}")))?;
    let status = response.status().as_u16();
    let body = response
        .text()
        .map_err(|e| ProbeError::Http(e.to_string()))?;
    Ok(Outcome { status, body })
}
