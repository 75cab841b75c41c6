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

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub length: Length,
    pub fault: Fault,
    /// Answer `Range: bytes=N-` with 206 (guarded by `If-Range` against the ETag unless
    /// `ignore_if_range`).
    pub ranges: bool,
    /// A server that honours `Range` but not `If-Range` (RFC 9110 allows ignoring it).
    pub ignore_if_range: bool,
    /// Wait this long before answering.
    pub delay: Duration,
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
        });
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let accept_state = state.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = accept_state.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, &state).await;
                });
            }
        });
        FaultServer {
            addr,
            state,
            runtime: Some(runtime),
        }
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

    /// The most requests that were being answered at the same time.
    pub fn max_concurrent(&self) -> usize {
        self.state
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
    }

    /// The paths requested, in arrival order.
    pub fn order(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.path).collect()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(mut stream: TcpStream, state: &State) -> std::io::Result<()> {
    let Some(head) = read_head(&mut stream).await? else {
        return Ok(());
    };
    let request = {
        let mut log = state.log.lock().unwrap_or_else(|p| p.into_inner());
        let request = parse_head(&head, log.len());
        log.push(request.clone());
        request
    };
    let active = ActiveGuard::new(state);
    let Some(route) = state.routes.get(&request.path) else {
        let reply = Reply::status(404);
        let after = write_reply(&mut stream, &request, &reply).await?;
        drop(active);
        return finish(&mut stream, after).await;
    };
    let previous = state
        .log
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|r| r.path == request.path && r.seq < request.seq)
        .count();
    let reply = (route.0)(&request, previous);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.fault == Fault::NoResponse {
        return wait_for_client_to_leave(&mut stream).await;
    }
    let after = write_reply(&mut stream, &request, &reply).await?;
    drop(active);
    finish(&mut stream, after).await
}

/// What is left to do with a connection once the reply is written.
enum After {
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
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(end);
            return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
        }
        if buf.len() > 64 * 1024 {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn parse_head(head: &str, seq: usize) -> Request {
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

/// `bytes=N-` → N.
fn range_start(value: &str) -> Option<u64> {
    value
        .trim()
        .strip_prefix("bytes=")?
        .strip_suffix('-')?
        .parse()
        .ok()
}

async fn write_reply(
    stream: &mut TcpStream,
    request: &Request,
    reply: &Reply,
) -> std::io::Result<After> {
    let mut status = reply.status;
    let mut body: &[u8] = &reply.body;
    let mut extra = Vec::new();
    if reply.ranges && status == 200 {
        let etag = reply
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("etag"))
            .map(|(_, v)| v.as_str());
        let if_range_ok = match request.header("if-range") {
            _ if reply.ignore_if_range => true,
            None => true,
            Some(v) => Some(v) == etag,
        };
        if let Some(start) = request.header("range").and_then(range_start)
            && if_range_ok
        {
            let len = reply.body.len() as u64;
            if start < len {
                status = 206;
                extra.push(format!("Content-Range: bytes {start}-{}/{len}", len - 1));
                body = &reply.body[start as usize..];
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
    head.push_str("Connection: close\r\n");
    for line in extra {
        head.push_str(&line);
        head.push_str("\r\n");
    }
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    match reply.fault {
        Fault::None | Fault::NoResponse => {
            stream.write_all(body).await?;
            stream.flush().await?;
            stream.shutdown().await?;
        }
        Fault::Truncate(n) => {
            stream.write_all(&body[..n.min(body.len())]).await?;
            stream.flush().await?;
            stream.shutdown().await?;
        }
        Fault::Reset(n) => {
            stream.write_all(&body[..n.min(body.len())]).await?;
            stream.flush().await?;
            // Let the client read what was sent, so the reset comes mid-body.
            tokio::time::sleep(Duration::from_millis(50)).await;
            stream.set_zero_linger()?;
            return Ok(After::Done); // dropping the stream now sends RST
        }
        Fault::Stall(n) => {
            stream.write_all(&body[..n.min(body.len())]).await?;
            stream.flush().await?;
            wait_for_client_to_leave(stream).await?;
            return Ok(After::Done);
        }
        Fault::Trickle { bytes, every } => {
            for piece in body.chunks(bytes.max(1)) {
                stream.write_all(piece).await?;
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
