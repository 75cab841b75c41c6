//! Which servers the clients trust: the operating system's certificate store (found by
//! rustls-native-certs, with the bundled webpki roots where it holds none), plus
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` when set, plus the caller's own CA certificates; or,
//! with `insecure`, no verification at all. Also how a TLS failure is recognised and worded.
//! No retry decisions here.

use crate::engine::config::Trust;
use crate::error::Error;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::ffi::OsString;
use std::path::Path;

const ENV_CERT_FILE: &str = "SSL_CERT_FILE";
const ENV_CERT_DIR: &str = "SSL_CERT_DIR";

/// Reads the CA certificates of a PEM file (one or more `BEGIN CERTIFICATE` blocks). Fails,
/// saying why without naming the file (the caller does), when it cannot be read, holds no
/// certificate, or holds one that cannot serve as a trust anchor: a bad file is refused before
/// any request instead of failing every download with "not trusted".
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    for (n, cert) in certs.iter().enumerate() {
        if let Err(e) = usable(cert) {
            return Err(format!("certificate {} of {}: {e}", n + 1, certs.len()));
        }
    }
    Ok(certs)
}

/// Whether rustls accepts `cert` as a trust anchor (what reqwest requires of every root it
/// is given: one it refuses would fail the whole client).
fn usable(cert: &CertificateDer<'_>) -> Result<(), rustls::Error> {
    rustls::RootCertStore::empty().add(cert.clone())
}

/// The roots of one engine's TLS clients, loaded once and shared by them.
#[derive(Debug, Clone)]
pub(super) struct Roots {
    certs: Vec<CertificateDer<'static>>,
    /// Add the bundled webpki roots: the system trust is asked for and has no certificate.
    webpki: bool,
    insecure: bool,
}

impl Roots {
    /// No root at all: for clients that never verify a certificate (plain HTTP).
    pub fn none() -> Roots {
        Roots {
            certs: Vec::new(),
            webpki: false,
            insecure: false,
        }
    }

    /// The roots `trust` asks for (the system's store is read here).
    pub fn load(trust: &Trust) -> Roots {
        let mut certs = if trust.system && !trust.insecure {
            system_roots(&|name| std::env::var_os(name))
        } else {
            Vec::new()
        };
        let webpki = trust.system && certs.is_empty();
        if webpki {
            tracing::debug!("no system CA certificates found: trusting the bundled webpki roots");
        }
        for cert in &trust.extra {
            match usable(cert) {
                Ok(()) => certs.push(cert.clone()),
                Err(e) => tracing::warn!("a CA certificate given to the engine is ignored: {e}"),
            }
        }
        Roots {
            certs,
            webpki,
            insecure: trust.insecure,
        }
    }

    /// `builder` trusting these roots and nothing else.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, Error> {
        if self.insecure {
            return Ok(builder.danger_accept_invalid_certs(true));
        }
        let mut builder = builder
            .tls_built_in_root_certs(false)
            .tls_built_in_webpki_certs(self.webpki);
        for cert in &self.certs {
            let cert =
                reqwest::Certificate::from_der(cert).map_err(|e| Error::Client(e.to_string()))?;
            builder = builder.add_root_certificate(cert);
        }
        Ok(builder)
    }
}

/// The system store plus `SSL_CERT_FILE` / `SSL_CERT_DIR`, keeping only the certificates
/// rustls can use (system stores hold a few ancient ones it cannot parse).
fn system_roots(env: &dyn Fn(&str) -> Option<OsString>) -> Vec<CertificateDer<'static>> {
    let file = env(ENV_CERT_FILE).filter(|v| !v.is_empty());
    let dirs: Vec<_> = env(ENV_CERT_DIR)
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mut certs = os_store(file.is_some() || !dirs.is_empty());
    if let Some(file) = file {
        match read_ca_file(Path::new(&file)) {
            Ok(found) => certs.extend(found),
            Err(e) => tracing::warn!("{ENV_CERT_FILE}={}: {e}; ignored", file.to_string_lossy()),
        }
    }
    for dir in dirs {
        let found = rustls_native_certs::load_certs_from_paths(None, Some(&dir));
        for e in &found.errors {
            tracing::warn!("{ENV_CERT_DIR}: {e}; ignored");
        }
        certs.extend(found.certs);
    }
    certs.retain(|c| usable(c).is_ok());
    certs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    certs.dedup();
    certs
}

/// The operating system's own store. rustls-native-certs reads `SSL_CERT_FILE` /
/// `SSL_CERT_DIR` *instead of* it when either is set; `env_set` says so, and then on
/// Linux and the BSDs the usual certificate directories are read directly, so that those
/// variables add to the system's trust (SPEC §2). macOS and Windows keep the crate's rule.
fn os_store(env_set: bool) -> Vec<CertificateDer<'static>> {
    #[cfg(all(unix, not(target_os = "macos")))]
    if env_set {
        let mut certs = Vec::new();
        for dir in openssl_probe::candidate_cert_dirs() {
            let found = rustls_native_certs::load_certs_from_paths(None, Some(dir));
            certs.extend(found.certs);
        }
        return certs;
    }
    let _ = env_set;
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::debug!("system certificate store: {e}");
    }
    found.certs
}

/// The TLS error behind a failed request, if one is: rustls reports it as a
/// `rustls::Error` that reaches reqwest inside one or more `io::Error`s, whose `source()`
/// skips the error they wrap, so each one is opened with `get_ref`.
pub(super) fn tls_error(e: &reqwest::Error) -> Option<&rustls::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(inner) = source {
        let mut layer = inner;
        while let Some(io) = layer.downcast_ref::<std::io::Error>() {
            match io.get_ref() {
                Some(wrapped) => layer = wrapped,
                None => break,
            }
        }
        if let Some(tls) = layer.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        source = inner.source();
    }
    None
}

/// What a TLS failure tells the user, with what to do about a certificate.
pub(super) fn tls_message(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(_) => {
            let text = e.to_string();
            let why = text
                .strip_prefix("invalid peer certificate: ")
                .unwrap_or(&text);
            format!(
                "certificate not trusted: {why} (use --cacert FILE to trust a private CA, \
                 or -k to skip verification)"
            )
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_usable_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(
            read_ca_file(&missing)
                .unwrap_err()
                .starts_with("cannot read it")
        );
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "hello\n").unwrap();
        assert!(
            read_ca_file(&garbage)
                .unwrap_err()
                .contains("no PEM certificate")
        );
        let bad = dir.path().join("bad.pem");
        std::fs::write(
            &bad,
            "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(
            read_ca_file(&bad)
                .unwrap_err()
                .starts_with("certificate 1 of 1")
        );
    }

    #[test]
    fn certificate_failures_say_what_to_do() {
        let e = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(
            tls_message(&e),
            "certificate not trusted: UnknownIssuer (use --cacert FILE to trust a private CA, \
             or -k to skip verification)"
        );
    }
}
