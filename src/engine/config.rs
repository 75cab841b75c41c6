//! `EngineConfig`: the run-wide settings the engine works with, and their defaults. Plain
//! data; the command line's layering of sources ends before this (`settings`).

use crate::policy::{OnExist, RetryPolicy};
use crate::secret::Secret;
use reqwest::header::{HeaderName, HeaderValue};
use rustls::pki_types::CertificateDer;
use std::time::Duration;

/// How the engine downloads; the run-wide part of the settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Files downloaded at once.
    pub workers: usize,
    pub on_exist: OnExist,
    pub user_agent: String,
    /// Extra headers for every request (a file's own headers win over these). Like URL
    /// credentials, they go only to the origin of the URL they were given for.
    pub headers: Vec<(HeaderName, Secret<HeaderValue>)>,
    /// Send the headers and credentials to every origin a redirect leads to (curl's
    /// `--location-trusted`).
    pub location_trusted: bool,
    /// Name a file the input did not name from the server's `Content-Disposition`.
    pub content_disposition: bool,
    /// Ask for compressed transfers (gzip, br, zstd) and store the decoded bytes. Such files
    /// are never resumed or split: byte ranges of an encoded body do not compose.
    pub compressed: bool,
    /// Refuse files larger than this many bytes.
    pub max_size: Option<u64>,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// Longest silence while waiting for response headers or body bytes.
    pub read_timeout: Duration,
    /// A `Retry-After` longer than this fails the file instead of waiting.
    pub max_retry_after: Duration,
    /// An attempt averaging under this many bytes/s over `min_speed_time` is abandoned.
    pub min_speed: Option<u64>,
    pub min_speed_time: Duration,
    /// Connections to one host at once, across all files.
    pub max_per_host: usize,
    /// Connections for one large file (when the server supports Range).
    pub split: u32,
    /// Overall bandwidth cap in bytes/s, shared by all transfers.
    pub limit_rate: Option<u64>,
    /// Compute the sha256 of every file (for the summary). Costs about 0.5 s of CPU per GiB;
    /// off, it is still computed when a file's expected checksum is sha256.
    pub sha256: bool,
    /// Which TLS certificates are trusted.
    pub trust: Trust,
    /// Which proxy each request goes through.
    pub proxy: Proxies,
    /// Credentials by host name (`--netrc`), sent only to the host of a URL without
    /// credentials of its own; read a file with [`read_netrc`](crate::engine::read_netrc).
    pub netrc: Option<Netrc>,
}

/// Which proxy each request goes through. The default follows the environment
/// (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy` and their upper-case forms), except
/// for loopback hosts, which a proxy from the environment never gets.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    /// `--proxy`: every request goes this way, whatever the environment says (loopback hosts
    /// included); `None` leaves the choice to the environment.
    pub proxy: Option<ProxyChoice>,
    /// `--noproxy`: the hosts that bypass any proxy, replacing `no_proxy` / `NO_PROXY`:
    /// comma-separated host names (each also covers its subdomains), IP addresses or CIDR
    /// blocks, or `*` for every host.
    pub no_proxy: Option<String>,
}

/// A proxy given explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyChoice {
    /// No proxy at all (`--proxy ''`).
    Direct,
    /// Through this proxy.
    Via(ProxyUrl),
}

/// An `http://` or `https://` proxy URL. Its credentials (`http://user:password@host:port`)
/// become a `Proxy-Authorization` header; `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(url::Url);

impl ProxyUrl {
    /// Parses a proxy URL (`host:port` alone means `http://host:port`, as for curl). An empty
    /// text means no proxy. Messages never repeat the password.
    pub fn parse_choice(text: &str) -> Result<ProxyChoice, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(ProxyChoice::Direct);
        }
        let shown = crate::secret::redact_str(text);
        let full = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let url = url::Url::parse(&full).map_err(|e| format!("{shown:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "{shown:?}: a {} proxy is not supported (http:// or https:// only)",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{shown:?} names no proxy host"));
        }
        Ok(ProxyChoice::Via(ProxyUrl(url)))
    }

    /// The URL itself, credentials included: only for the client.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }
}

impl std::fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::secret::redact_url(&self.0))
    }
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

/// The entries of a netrc file: credentials by host name, and the `default` ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netrc {
    /// `machine NAME login L password P`, in file order; names lowercased.
    pub machines: Vec<(String, NetrcLogin)>,
    /// The `default` entry: for any host without a `machine` entry.
    pub default: Option<NetrcLogin>,
}

/// One netrc entry's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetrcLogin {
    pub login: String,
    pub password: Secret<String>,
}

impl Netrc {
    /// The credentials for `host`: its first `machine` entry (names compare without regard
    /// to case), else the `default` entry.
    pub fn lookup(&self, host: &str) -> Option<&NetrcLogin> {
        let host = host.trim_end_matches('.');
        self.machines
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(host))
            .map(|(_, login)| login)
            .or(self.default.as_ref())
    }
}

/// Which TLS certificates the clients trust. The default trusts the operating system's store
/// (the bundled webpki roots where it holds none) plus `SSL_CERT_FILE` / `SSL_CERT_DIR`.
#[derive(Debug, Clone)]
pub struct Trust {
    /// Trust the operating system's certificate store, plus the certificates named by
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` when they are set.
    pub system: bool,
    /// More CA certificates to trust, beside the system's (`--cacert`; read a PEM file
    /// with [`read_ca_file`](crate::engine::read_ca_file)).
    pub extra: Vec<CertificateDer<'static>>,
    /// Verify no certificate at all (`--insecure`): any server can pose as any host.
    pub insecure: bool,
}

impl Default for Trust {
    fn default() -> Self {
        Trust {
            system: true,
            extra: Vec::new(),
            insecure: false,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: 8,
            on_exist: OnExist::Skip,
            user_agent: concat!("dl/", env!("CARGO_PKG_VERSION")).to_string(),
            headers: Vec::new(),
            location_trusted: false,
            content_disposition: false,
            compressed: false,
            max_size: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            min_speed: None,
            min_speed_time: Duration::from_secs(30),
            max_per_host: 8,
            split: 1,
            limit_rate: None,
            sha256: true,
            trust: Trust::default(),
            proxy: Proxies::default(),
            netrc: None,
        }
    }
}
