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
    let mut reader = CertReader::default();
    if let Some(file) = &file {
        match read_ca_file(Path::new(file)) {
            Ok(found) => {
                reader.mark_read(Path::new(file));
                reader.certs.extend(found);
            }
            Err(e) => tracing::warn!("{ENV_CERT_FILE}={}: {e}; ignored", file.to_string_lossy()),
        }
    }
    os_store(&mut reader, file.is_some() || !dirs.is_empty());
    for e in reader.errors.drain(..) {
        tracing::debug!("system certificate store: {e}");
    }
    for dir in dirs {
        reader.dir(&dir);
        for e in reader.errors.drain(..) {
            tracing::warn!("{ENV_CERT_DIR}: {e}; ignored");
        }
    }
    let mut certs = reader.certs;
    certs.retain(|c| usable(c).is_ok());
    certs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    certs.dedup();
    certs
}

/// The operating system's own store. rustls-native-certs reads `SSL_CERT_FILE` /
/// `SSL_CERT_DIR` *instead of* it when either is set; `env_set` says so, and then on
/// Linux and the BSDs the usual certificate directories are read directly, so that those
/// variables add to the system's trust (SPEC §2). macOS and Windows keep the crate's rule.
fn os_store(reader: &mut CertReader, env_set: bool) {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        // What rustls-native-certs reads here, through a reader that parses each file once.
        if env_set {
            for dir in openssl_probe::candidate_cert_dirs() {
                reader.dir(dir);
            }
        } else {
            let probe = openssl_probe::probe();
            if let Some(file) = probe.cert_file {
                reader.file(&file);
            }
            for dir in probe.cert_dir {
                reader.dir(&dir);
            }
        }
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        let _ = env_set;
        let found = rustls_native_certs::load_native_certs();
        reader
            .errors
            .extend(found.errors.iter().map(ToString::to_string));
        reader.certs.extend(found.certs);
    }
}

/// Certificates read from PEM files and directories of them (OpenSSL's CAfile and CAdir),
/// each file parsed once however many names and directories lead to it: a system directory
/// holds each certificate under two or three names, often the bundle file too, and the same
/// directory may be named by `SSL_CERT_DIR` and found by the probe. Parsing is what costs.
#[derive(Default)]
struct CertReader {
    certs: Vec<CertificateDer<'static>>,
    /// What could not be read, for the caller to report.
    errors: Vec<String>,
    /// `(device, inode)` of every file read.
    #[cfg(unix)]
    seen: std::collections::HashSet<(u64, u64)>,
}

impl CertReader {
    /// Whether the file of `meta` was not read before (always true where the system gives
    /// no file identity); it counts as read from now on.
    fn first_visit(&mut self, meta: &std::fs::Metadata) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.seen.insert((meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            true
        }
    }

    /// Counts `path` as read (its certificates were taken another way).
    fn mark_read(&mut self, path: &Path) {
        if let Ok(meta) = std::fs::metadata(path) {
            self.first_visit(&meta);
        }
    }

    /// The certificates of the file at `path` (links followed), unless it was read before.
    fn file(&mut self, path: &Path) {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => {
                if self.first_visit(&meta) {
                    self.pem(path);
                }
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {} // a dangling link
            Err(e) => self.errors.push(format!("{}: {e}", path.display())),
        }
    }

    /// The certificates of every file in `dir`.
    fn dir(&mut self, dir: &Path) {
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                for entry in entries {
                    match entry {
                        Ok(entry) => self.file(&entry.path()),
                        Err(e) => self.errors.push(format!("{}: {e}", dir.display())),
                    }
                }
            }
            Err(e) => self.errors.push(format!("{}: {e}", dir.display())),
        }
    }

    fn pem(&mut self, path: &Path) {
        match CertificateDer::pem_file_iter(path) {
            Ok(certs) => {
                for cert in certs {
                    match cert {
                        Ok(cert) => self.certs.push(cert),
                        Err(e) => self.errors.push(format!("{}: {e}", path.display())),
                    }
                }
            }
            Err(e) => self.errors.push(format!("{}: {e}", path.display())),
        }
    }
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

    #[cfg(unix)]
    #[test]
    fn each_certificate_file_is_parsed_once_whatever_leads_to_it() {
        let dir = tempfile::tempdir().unwrap();
        // "one" and "two", base64: the reader takes any DER; rustls judges it later.
        let pems = ["b25l", "dHdv"]
            .map(|der| format!("-----BEGIN CERTIFICATE-----\n{der}\n-----END CERTIFICATE-----\n"))
            .concat();
        let (a, bundle) = (dir.path().join("a.pem"), dir.path().join("bundle.crt"));
        std::fs::write(&a, &pems).unwrap();
        std::fs::write(&bundle, &pems).unwrap();
        std::os::unix::fs::symlink(&a, dir.path().join("1a2b3c4d.0")).unwrap();
        std::os::unix::fs::symlink("gone.pem", dir.path().join("dangling.0")).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();

        let mut reader = CertReader::default();
        reader.file(&a);
        reader.dir(dir.path());
        reader.dir(dir.path());
        let mut found: Vec<&[u8]> = reader.certs.iter().map(|c| c.as_ref()).collect();
        found.sort();
        assert_eq!(
            found,
            [&b"one"[..], b"one", b"two", b"two"],
            "a.pem once, the copy once"
        );
        assert!(reader.errors.is_empty(), "{:?}", reader.errors);
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
