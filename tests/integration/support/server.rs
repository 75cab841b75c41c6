//! Test servers on 127.0.0.1 only.
//!
//! - httpmock helpers for ordinary answers (status codes, headers, redirects).
//! - `FaultServer`: a small tokio TCP server for what httpmock cannot do: a body cut short
//!   (Content-Length larger than what is sent), a connection reset mid-body, a stall (headers
//!   then silence, or no answer at all), Range honoured or ignored, content that changes between
//!   requests. Every request is recorded (path, headers, arrival order) so tests can count hits
//!   and check what was sent.
//!
//! A route answers the n-th request to its path (0-based) with a `Reply`: `Route::always`,
//! `Route::script` (one reply per successive request, the last one repeating) or `Route::func`.
//!
//! Connections carry one request each (`Connection: close`) unless a reply asks for
//! keep-alive (`Reply::keep_alive`, `Reply::keep_alive_then_close`); each request records its
//! connection and its place on it, so a route can treat a reused connection differently
//! (`Reply::hang_up` on a reused connection is a stale keep-alive connection). The body bytes
//! actually written are counted per request (`FaultServer::body_bytes_to`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An httpmock server answering `GET path` with 200 and `body`.
pub fn mock_ok<'a>(
    server: &'a httpmock::MockServer,
    path: &str,
    body: &[u8],
) -> httpmock::Mock<'a> {
    let body = body.to_vec();
    server.mock(|when, then| {
        when.method(httpmock::Method::GET).path(path);
        then.status(200).body(body);
    })
}

/// An httpmock server answering `GET path` with `status` and a short body.
pub fn mock_status<'a>(
    server: &'a httpmock::MockServer,
    path: &str,
    status: u16,
) -> httpmock::Mock<'a> {
    server.mock(|when, then| {
        when.method(httpmock::Method::GET).path(path);
        then.status(status).body(format!("status {status}"));
    })
}

/// A file served as a split-capable server serves it: an ETag, `Accept-Ranges: bytes`, and
/// `Range` honoured (guarded by `If-Range`).
pub fn ranged(data: &[u8]) -> Reply {
    Reply::ok(data)
        .etag("v1")
        .header("Accept-Ranges", "bytes")
        .honour_range()
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Arrival order over the whole server, from 0.
    pub seq: usize,
    pub method: String,
    /// The raw request target's path (percent-encoding kept, query removed).
    pub path: String,
    /// The raw request target, with the query.
    pub target: String,
    /// Header names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// When the request head had been read.
    pub at: Instant,
    /// The connection it came on, numbered from 0 in accept order.
    pub conn: usize,
    /// Its place on that connection: 0 for the first request, 1+ on a reused connection.
    pub conn_seq: usize,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the announced length relates to the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// `Content-Length` is the body's length.
    Exact,
    /// `Content-Length` says this, whatever is sent.
    Announce(u64),
    /// No `Content-Length`: the body ends when the connection closes.
    CloseDelimited,
}

/// What goes wrong while answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Send the headers and the first N body bytes, then close cleanly (a truncated body).
    Truncate(usize),
    /// Send the headers and the first N body bytes, then reset the connection (RST).
    Reset(usize),
    /// Send the headers and the first N body bytes, then say nothing until the client leaves.
    Stall(usize),
    /// Read the request and never answer (until the client leaves).
    NoResponse,
    /// Send the body `bytes` at a time, one piece every `every` (a slow server).
    Trickle {
        bytes: usize,
        every: Duration,
    },
    /// Read the request and close the connection without a word (what a client sees when it
    /// sends on a keep-alive connection the server has just closed).
    HangUp,
}

/// What happens to the connection after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// `Connection: close`, then close.
    Close,
    /// `Connection: keep-alive`; the next request on the connection is answered too.
    KeepAlive,
    /// `Connection: keep-alive`, but the server closes the connection right after the body
    /// (an idle timeout that fires at once): the client's pooled connection is stale.
    KeepAliveThenClose,
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub length: Length,
    pub fault: Fault,
    /// Answer `Range: bytes=N-` with 206 (guarded by `If-Range` against the ETag, or the
    /// Last-Modified date when there is no ETag, unless `ignore_if_range`); a start at or past
    /// the end gets 416 with `Content-Range: bytes */LEN`.
    pub ranges: bool,
    /// A server that honours `Range` but not `If-Range` (RFC 9110 allows ignoring it).
    pub ignore_if_range: bool,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Wait this long between the head and the body (the client reads them apart).
    pub body_pause: Duration,
    /// Keep-alive or not (only with `Fault::None`; other faults always end the connection).
    pub connection: Connection,
}

impl Reply {
    pub fn ok(body: impl AsRef<[u8]>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: body.as_ref().to_vec(),
            length: Length::Exact,
            fault: Fault::None,
            ranges: false,
            ignore_if_range: false,
            delay: Duration::ZERO,
            body_pause: Duration::ZERO,
            connection: Connection::Close,
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            ..Reply::ok(format!("status {status}\n"))
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn etag(self, tag: &str) -> Reply {
        self.header("ETag", &format!("\"{tag}\""))
    }

    pub fn last_modified(self, date: &str) -> Reply {
        self.header("Last-Modified", date)
    }

    pub fn truncate_after(mut self, sent: usize) -> Reply {
        self.fault = Fault::Truncate(sent);
        self
    }

    pub fn reset_after(mut self, sent: usize) -> Reply {
        self.fault = Fault::Reset(sent);
        self
    }

    pub fn stall_after(mut self, sent: usize) -> Reply {
        self.fault = Fault::Stall(sent);
        self
    }

    pub fn trickle(mut self, bytes: usize, every: Duration) -> Reply {
        self.fault = Fault::Trickle { bytes, every };
        self
    }

    pub fn no_response() -> Reply {
        Reply {
            fault: Fault::NoResponse,
            ..Reply::ok("")
        }
    }

    pub fn announce(mut self, length: u64) -> Reply {
        self.length = Length::Announce(length);
        self
    }

    pub fn close_delimited(mut self) -> Reply {
        self.length = Length::CloseDelimited;
        self
    }

    pub fn honour_range(mut self) -> Reply {
        self.ranges = true;
        self
    }

    /// Honours `Range` whatever `If-Range` says (so a changed resource would be spliced by a
    /// client that does not check the validators of the 206 itself).
    pub fn honour_range_ignoring_if_range(mut self) -> Reply {
        self.ranges = true;
        self.ignore_if_range = true;
        self
    }

    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// Sends the head, waits `pause`, then the body.
    pub fn pause_before_body(mut self, pause: Duration) -> Reply {
        self.body_pause = pause;
        self
    }

    /// Answers with `Connection: keep-alive` and serves the next request on the connection.
    pub fn keep_alive(mut self) -> Reply {
        self.connection = Connection::KeepAlive;
        self
    }

    /// Answers with `Connection: keep-alive`, then closes the connection right away.
    pub fn keep_alive_then_close(mut self) -> Reply {
        self.connection = Connection::KeepAliveThenClose;
        self
    }

    /// Reads the request and closes the connection without answering.
    pub fn hang_up() -> Reply {
        Reply {
            fault: Fault::HangUp,
            ..Reply::ok("")
        }
    }
}

type Responder = Box<dyn Fn(&Request, usize) -> Reply + Send + Sync>;

/// How one path answers its successive requests.
pub struct Route(Responder);

impl Route {
    /// The same reply every time.
    pub fn always(reply: Reply) -> Route {
        Route(Box::new(move |_, _| reply.clone()))
    }

    /// The n-th request gets the n-th reply; the last one repeats.
    pub fn script(replies: Vec<Reply>) -> Route {
        assert!(!replies.is_empty(), "a script needs at least one reply");
        Route(Box::new(move |_, n| {
            replies[n.min(replies.len() - 1)].clone()
        }))
    }

    /// Any logic: the request and how many requests to this path came before it.
    pub fn func(f: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Route {
        Route(Box::new(f))
    }
}

struct State {
    routes: HashMap<String, Route>,
    log: Mutex<Vec<Request>>,
    /// Requests being answered right now, and the most there ever were at once.
    active: Mutex<(usize, usize)>,
    /// Body bytes written for each request, by `seq`.
    sent: Mutex<HashMap<usize, u64>>,
    /// Connections accepted, whether or not a request came on them.
    accepted: AtomicUsize,
}

impl State {
    fn count_sent(&self, seq: usize, bytes: usize) {
        *self
            .sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(seq)
            .or_default() += bytes as u64;
    }
}

/// Counts a request as being answered while it lives.
struct ActiveGuard<'a>(&'a State);

impl<'a> ActiveGuard<'a> {
    fn new(state: &'a State) -> Self {
        let mut active = state.active.lock().unwrap_or_else(|p| p.into_inner());
        active.0 += 1;
        active.1 = active.1.max(active.0);
        ActiveGuard(state)
    }
}

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.active.lock().unwrap_or_else(|p| p.into_inner()).0 -= 1;
    }
}

/// A scripted HTTP/1.1 server on 127.0.0.1; one request per connection (`Connection: close`).
pub struct FaultServer {
    addr: SocketAddr,
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FaultServer {
    /// Starts serving `routes` (path → route); any other path gets 404 (and is recorded).
    pub fn start<'a>(routes: impl IntoIterator<Item = (&'a str, Route)>) -> FaultServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the fault server");
        let state = Arc::new(State {
            routes: routes
                .into_iter()
                .map(|(p, r)| (p.to_string(), r))
                .collect(),
            log: Mutex::new(Vec::new()),
            active: Mutex::new((0, 0)),
            sent: Mutex::new(HashMap::new()),
            accepted: AtomicUsize::new(0),
        });
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let accept_state = state.clone();
        runtime.spawn(async move {
            for conn in 0.. {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = accept_state.clone();
                state.accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let _ = serve(stream, &state, conn).await;
                });
            }
        });
        FaultServer {
            addr,
            state,
            runtime: Some(runtime),
        }
    }

    /// A server where each of `paths` answers 200 with `body of PATH`.
    pub fn bodies_of(paths: &[&str]) -> FaultServer {
        FaultServer::start(
            paths
                .iter()
                .map(|p| (*p, Route::always(Reply::ok(format!("body of {p}"))))),
        )
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.state
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The requests to `path`, in arrival order.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// How many requests `path` received.
    pub fn hits(&self, path: &str) -> usize {
        self.requests_to(path).len()
    }

    /// How many requests the server received in all.
    pub fn total_hits(&self) -> usize {
        self.requests().len()
    }

    /// The most requests that were waiting for their answer at the same time (from the
    /// request head to the start of the answer, `Reply::delay` included).
    pub fn max_concurrent(&self) -> usize {
        self.state
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
    }

    /// How many connections were accepted, whether or not a request came on them.
    pub fn connections(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// The paths requested, in arrival order.
    pub fn order(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.path).collect()
    }

    /// Body bytes written in answer to `request` (0 when it got no body or no answer).
    pub fn body_bytes(&self, request: &Request) -> u64 {
        self.state
            .sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&request.seq)
            .copied()
            .unwrap_or(0)
    }

    /// Body bytes written in answer to every request to `path`.
    pub fn body_bytes_to(&self, path: &str) -> u64 {
        self.requests_to(path)
            .iter()
            .map(|r| self.body_bytes(r))
            .sum()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(mut stream: TcpStream, state: &State, conn: usize) -> std::io::Result<()> {
    // A head and a body written apart must not wait for the client's delayed ACK (40 ms).
    stream.set_nodelay(true)?;
    let mut carry = Vec::new();
    for conn_seq in 0.. {
        let Some(head) = read_head(&mut stream, &mut carry).await? else {
            return Ok(());
        };
        let request = {
            let mut log = state.log.lock().unwrap_or_else(|p| p.into_inner());
            let request = parse_head(&head, log.len(), conn, conn_seq);
            log.push(request.clone());
            request
        };
        let active = ActiveGuard::new(state);
        let reply = match state.routes.get(&request.path) {
            None => Reply::status(404),
            Some(route) => {
                let previous = state
                    .log
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .filter(|r| r.path == request.path && r.seq < request.seq)
                    .count();
                (route.0)(&request, previous)
            }
        };
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        match reply.fault {
            Fault::NoResponse => return wait_for_client_to_leave(&mut stream).await,
            Fault::HangUp => return Ok(()), // dropping the stream closes it
            _ => {}
        }
        // Counted until the answer starts: once its last byte is sent, the client may already
        // have sent its next request (on another connection) before this task goes on.
        drop(active);
        let after = write_reply(&mut stream, state, &request, &reply).await?;
        match after {
            After::KeepOpen => continue,
            after => return finish(&mut stream, after).await,
        }
    }
    Ok(())
}

/// What is left to do with a connection once the reply is written.
enum After {
    /// Keep-alive: read the next request.
    KeepOpen,
    /// Read until the client closes, so the close is clean (no RST for unread bytes).
    Drain,
    /// Drop it now (a reset), or it was already waited out (a stall).
    Done,
}

async fn finish(stream: &mut TcpStream, after: After) -> std::io::Result<()> {
    if let After::Drain = after {
        let mut sink = [0u8; 256];
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(n) = stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }
    Ok(())
}

/// Reads up to the blank line ending the request head (`None` if the client left first).
/// Bytes after the head (the next request on a keep-alive connection) stay in `carry`.
async fn read_head(stream: &mut TcpStream, carry: &mut Vec<u8>) -> std::io::Result<Option<String>> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = carry.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&carry[..end]).into_owned();
            carry.drain(..end + 4);
            return Ok(Some(head));
        }
        if carry.len() > 64 * 1024 {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        carry.extend_from_slice(&chunk[..n]);
    }
}

fn parse_head(head: &str, seq: usize, conn: usize, conn_seq: usize) -> Request {
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let path = target.split('?').next().unwrap_or("").to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Request {
        seq,
        method,
        path,
        target,
        headers,
        at: Instant::now(),
        conn,
        conn_seq,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

/// `bytes=N-` → (N, None); `bytes=N-M` → (N, Some(M)). Other forms (suffixes, several
/// ranges) are not understood, so they get the whole body, as RFC 9110 allows.
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let (first, last) = value.trim().strip_prefix("bytes=")?.split_once('-')?;
    let first = first.parse().ok()?;
    let last = match last {
        "" => None,
        last => Some(last.parse().ok().filter(|&l| l >= first)?),
    };
    Some((first, last))
}

/// Writes body bytes in pieces, counting what was written for `seq`.
async fn write_body(
    stream: &mut TcpStream,
    state: &State,
    seq: usize,
    body: &[u8],
) -> std::io::Result<()> {
    for piece in body.chunks(64 * 1024) {
        stream.write_all(piece).await?;
        state.count_sent(seq, piece.len());
    }
    Ok(())
}

async fn write_reply(
    stream: &mut TcpStream,
    state: &State,
    request: &Request,
    reply: &Reply,
) -> std::io::Result<After> {
    let mut status = reply.status;
    let mut body: &[u8] = &reply.body;
    let mut extra = Vec::new();
    if reply.ranges && status == 200 {
        let header = |name: &str| {
            reply
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        // If-Range holds an entity tag or a date: compared with the ETag, else Last-Modified.
        let validator = header("etag").or_else(|| header("last-modified"));
        let if_range_ok = match request.header("if-range") {
            _ if reply.ignore_if_range => true,
            None => true,
            Some(v) => Some(v) == validator,
        };
        if let Some((start, last)) = request.header("range").and_then(parse_range)
            && if_range_ok
        {
            let len = reply.body.len() as u64;
            if start < len {
                let last = last.map_or(len - 1, |l| l.min(len - 1));
                status = 206;
                extra.push(format!("Content-Range: bytes {start}-{last}/{len}"));
                body = &reply.body[start as usize..=last as usize];
            } else {
                status = 416;
                extra.push(format!("Content-Range: bytes */{len}"));
                body = b"";
            }
        }
    }
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    match reply.length {
        Length::Exact => head.push_str(&format!("Content-Length: {}\r\n", body.len())),
        Length::Announce(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
        Length::CloseDelimited => {}
    }
    let connection = match (reply.fault, reply.connection) {
        (Fault::None, c) => c,
        _ => Connection::Close,
    };
    head.push_str(match connection {
        Connection::Close => "Connection: close\r\n",
        Connection::KeepAlive | Connection::KeepAliveThenClose => "Connection: keep-alive\r\n",
    });
    for line in extra {
        head.push_str(&line);
        head.push_str("\r\n");
    }
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    let seq = request.seq;
    match reply.fault {
        Fault::None | Fault::NoResponse | Fault::HangUp => {
            if !reply.body_pause.is_zero() {
                stream.flush().await?;
                tokio::time::sleep(reply.body_pause).await;
            }
            write_body(stream, state, seq, body).await?;
            stream.flush().await?;
            if connection == Connection::KeepAlive {
                return Ok(After::KeepOpen);
            }
            stream.shutdown().await?;
        }
        Fault::Truncate(n) => {
            write_body(stream, state, seq, &body[..n.min(body.len())]).await?;
            stream.flush().await?;
            stream.shutdown().await?;
        }
        Fault::Reset(n) => {
            write_body(stream, state, seq, &body[..n.min(body.len())]).await?;
            stream.flush().await?;
            // Let the client read what was sent, so the reset comes mid-body.
            tokio::time::sleep(Duration::from_millis(50)).await;
            stream.set_zero_linger()?;
            return Ok(After::Done); // dropping the stream now sends RST
        }
        Fault::Stall(n) => {
            write_body(stream, state, seq, &body[..n.min(body.len())]).await?;
            stream.flush().await?;
            wait_for_client_to_leave(stream).await?;
            return Ok(After::Done);
        }
        Fault::Trickle { bytes, every } => {
            for piece in body.chunks(bytes.max(1)) {
                write_body(stream, state, seq, piece).await?;
                stream.flush().await?;
                tokio::time::sleep(every).await;
            }
            stream.shutdown().await?;
        }
    }
    Ok(After::Drain)
}

/// Holds the connection open, silent, until the client closes it (at most 30 s).
async fn wait_for_client_to_leave(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut sink = [0u8; 256];
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    Ok(())
}

/// A port on 127.0.0.1 where nothing listens (bound, then released): connections are refused.
pub fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// A port on 127.0.0.1 where connecting hangs: a listener with a backlog of 0 that never
/// accepts, its queue already full, so the kernel drops further SYNs (a connect timeout on
/// loopback). Lives as long as the value.
pub struct BlackHole {
    port: u16,
    _clients: Vec<std::net::TcpStream>,
    _listener: tokio::net::TcpListener,
    _runtime: tokio::runtime::Runtime,
}

impl BlackHole {
    /// `None` when this kernel completes connections anyway (the test cannot be made here).
    pub fn start() -> Option<BlackHole> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("a tokio runtime for the black hole");
        let listener = runtime
            .block_on(async {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind("127.0.0.1:0".parse().expect("an address"))?;
                socket.listen(0)
            })
            .expect("listen on 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let mut clients = Vec::new();
        for _ in 0..16 {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(stream) => clients.push(stream),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Some(BlackHole {
                        port: addr.port(),
                        _clients: clients,
                        _listener: listener,
                        _runtime: runtime,
                    });
                }
                Err(_) => return None,
            }
        }
        None
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}
