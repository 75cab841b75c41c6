//! An HTTPS server on 127.0.0.1 for the TLS tests. Certificates are made per test by rcgen: a
//! CA, and a leaf for `127.0.0.1` and `localhost` signed by it. tokio-rustls offers ALPN `h2`
//! and `http/1.1`, and hyper-util's server speaks whichever the client picked. Files are
//! served with an ETag and `Accept-Ranges: bytes`, `Range` honoured unless an `If-Range`
//! names another version; a file can have its first answer cut short (the connection fails
//! mid-body). Every request is recorded with its HTTP version, and connections are counted.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The ETag every file is served with.
pub const ETAG: &str = "\"v1\"";

/// A test CA and a server certificate it signed.
pub struct Pki {
    /// The CA certificate, PEM: what `--cacert` or `SSL_CERT_FILE` is given.
    pub ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl Pki {
    pub fn new() -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "dl test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("a CA certificate");
        let leaf_key = KeyPair::generate().expect("a server key");
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("server params")
            .signed_by(&leaf_key, &Issuer::new(ca, ca_key))
            .expect("a server certificate");
        Pki {
            ca_pem: ca_cert.pem(),
            chain: vec![leaf.der().clone(), ca_cert.der().clone()],
            key: leaf_key.serialize_der(),
        }
    }

    /// Writes the CA certificate into `dir` as `ca.pem`; returns its path.
    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write ca.pem");
        path
    }

    fn server_config(&self) -> rustls::ServerConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .expect("a server certificate and key");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        config
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    pub range: Option<String>,
    pub if_range: Option<String>,
}

struct State {
    files: HashMap<String, Bytes>,
    /// Paths whose first answer stops after this many body bytes.
    cut: Mutex<HashMap<String, usize>>,
    seen: Mutex<Vec<Seen>>,
    accepted: AtomicUsize,
}

/// The HTTPS server; stops when dropped.
pub struct TlsServer {
    addr: SocketAddr,
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TlsServer {
    /// Serves `files` (path → content) with `pki`'s certificate; `cut` lists paths whose first
    /// answer fails after that many body bytes.
    pub fn start(pki: &Pki, files: Vec<(String, Vec<u8>)>, cut: &[(&str, usize)]) -> TlsServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the TLS server");
        let state = Arc::new(State {
            files: files
                .into_iter()
                .map(|(p, b)| (p, Bytes::from(b)))
                .collect(),
            cut: Mutex::new(cut.iter().map(|(p, n)| (p.to_string(), *n)).collect()),
            seen: Mutex::new(Vec::new()),
            accepted: AtomicUsize::new(0),
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(pki.server_config()));
        let accept_state = state.clone();
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                accept_state.accepted.fetch_add(1, Ordering::SeqCst);
                let (acceptor, state) = (acceptor.clone(), accept_state.clone());
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to serve.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(answer(&state, request)) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsServer {
            addr,
            state,
            runtime: Some(runtime),
        }
    }

    /// `https://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// TCP connections accepted so far (handshakes that failed included).
    pub fn connections(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

fn answer(state: &State, request: Request<Incoming>) -> Response<Body> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let seen = Seen {
        path: request.uri().path().to_string(),
        version: format!("{:?}", request.version()),
        range: header("range"),
        if_range: header("if-range"),
    };
    state.seen.lock().unwrap().push(seen.clone());
    let Some(data) = state.files.get(&seen.path) else {
        return reply(
            StatusCode::NOT_FOUND,
            full(Bytes::from_static(b"not found")),
            &[],
        );
    };
    let total = data.len();
    let range = seen
        .range
        .as_deref()
        .filter(|_| seen.if_range.as_deref().is_none_or(|v| v == ETAG))
        .and_then(|r| parse_range(r, total));
    let (status, slice, content_range) = match range {
        Some((from, to)) => (
            StatusCode::PARTIAL_CONTENT,
            data.slice(from..=to),
            Some(format!("bytes {from}-{to}/{total}")),
        ),
        None => (StatusCode::OK, data.clone(), None),
    };
    let length = slice.len().to_string();
    let mut headers = vec![
        ("etag", ETAG.to_string()),
        ("accept-ranges", "bytes".to_string()),
        ("content-length", length),
    ];
    headers.extend(content_range.map(|c| ("content-range", c)));
    let body = match state.cut.lock().unwrap().remove(&seen.path) {
        // The failure comes a moment after the bytes, so that they reach the client first
        // (an HTTP/2 reset would otherwise overtake them).
        Some(at) => {
            let head = slice.slice(..at.min(slice.len()));
            // Some(Some(bytes)): send them; Some(None): fail after a moment; None: done.
            let frames = futures_util::stream::unfold(Some(Some(head)), |step| async move {
                match step? {
                    Some(head) => Some((Ok(Frame::data(head)), Some(None))),
                    None => {
                        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                        Some((Err(std::io::Error::other("cut short by the test")), None))
                    }
                }
            });
            StreamBody::new(frames).boxed()
        }
        None => full(slice),
    };
    reply(status, body, &headers)
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

fn reply(status: StatusCode, body: Body, headers: &[(&str, String)]) -> Response<Body> {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, value);
    }
    response.body(body).expect("a valid response")
}

/// `bytes=A-` or `bytes=A-B` within `total`, as (first, last) byte.
fn parse_range(text: &str, total: usize) -> Option<(usize, usize)> {
    let (from, to) = text.strip_prefix("bytes=")?.split_once('-')?;
    let from: usize = from.trim().parse().ok()?;
    let to = match to.trim() {
        "" => total.checked_sub(1)?,
        to => to.parse::<usize>().ok()?.min(total.checked_sub(1)?),
    };
    (from <= to).then_some((from, to))
}
