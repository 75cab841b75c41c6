//! `--split` (several connections for one large file, resumable by ranges) and `--limit-rate`.

use crate::support::server::{FaultServer, Reply, Request, Route};
use crate::support::{MIB, Run, Workspace, body, ranged, sha256_hex};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Fetches `/big.bin` with `--split 3`, checks that it landed whole and byte-exact, and returns
/// the workspace (kept alive), the run and the server's requests for the file.
fn fetch_in_three(server: &FaultServer, data: &[u8]) -> (Workspace, Run, Vec<Request>) {
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--split", "3"])
            .arg(server.url("/big.bin")),
    );
    run.code(0);
    run.check(ws.read_out("big.bin") == data, "the file is byte-exact");
    let requests = server.requests_to("/big.bin");
    (ws, run, requests)
}

fn range_start(value: &str) -> u64 {
    let spec = value.trim().strip_prefix("bytes=").unwrap_or(value);
    spec.split('-')
        .next()
        .unwrap_or("")
        .parse()
        .unwrap_or(u64::MAX)
}

#[test]
fn split_downloads_one_file_over_several_ranged_connections() {
    // 16 MiB: three pieces of at least `MIN_PIECE`, so two range requests whatever the timing
    // (with 12 MiB, two pieces, and the second range request needed a steal).
    let data = body(16 * MIB, 7);
    let server = FaultServer::start([("/big.bin", Route::always(ranged(&data)))]);
    let (ws, run, requests) = fetch_in_three(&server, &data);
    let ranged: Vec<_> = requests
        .iter()
        .filter(|r| r.header("range").is_some())
        .collect();
    run.check(
        ranged.len() >= 2,
        format!("several range requests, got {requests:?}"),
    );
    run.check(
        ranged
            .iter()
            .all(|r| r.header("if-range") == Some("\"v1\"")),
        "every piece is guarded by If-Range",
    );
    let summary = run.summary();
    let f = summary.file("big.bin");
    run.check(
        f.sha256.as_deref() == Some(sha256_hex(&data).as_str()),
        "sha256 of the whole file",
    );
    run.check(
        f.attempts == 1,
        format!(
            "every piece was taken the first time: {} attempts",
            f.attempts
        ),
    );
    run.check(ws.out_files() == ["big.bin"], "no .part or metadata left");
}

#[test]
fn a_server_without_ranges_gets_one_connection_and_one_notice() {
    let a = body(9 * MIB, 1);
    let b = body(9 * MIB, 2);
    let server = FaultServer::start([
        ("/a.bin", Route::always(Reply::ok(&a).etag("a"))),
        ("/b.bin", Route::always(Reply::ok(&b).etag("b"))),
    ]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--split", "4", "--workers", "2"])
            .arg(server.url("/a.bin"))
            .arg(server.url("/b.bin")),
    );
    run.code(0);
    run.check(
        ws.read_out("a.bin") == a && ws.read_out("b.bin") == b,
        "exact files",
    );
    run.check(
        server.hits("/a.bin") == 1 && server.hits("/b.bin") == 1,
        "one request each",
    );
    run.check(
        run.stderr.matches("does not support ranges").count() == 1,
        "the fallback is said once",
    );
}

#[test]
fn a_split_download_resumes_only_its_missing_ranges() {
    let data = body(16 * MIB, 9);
    let healthy = Arc::new(AtomicBool::new(false));
    let route = {
        let (data, healthy) = (data.clone(), healthy.clone());
        Route::func(move |request, _| {
            let reply = ranged(&data);
            // The first connection (no Range) dies early while the ranged pieces succeed.
            if request.header("range").is_none() && !healthy.load(Ordering::SeqCst) {
                reply.reset_after(MIB)
            } else {
                reply
            }
        })
    };
    let server = FaultServer::start([("/big.bin", route)]);
    let ws = Workspace::new();
    let first = ws.run(
        ws.fetch()
            .args(["--json", "--split", "4", "--retries", "0"])
            .arg(server.url("/big.bin")),
    );
    first.code(1);
    let meta = String::from_utf8(ws.read_out("big.bin.part.meta")).unwrap_or_default();
    first.check(
        meta.contains("\"done\""),
        format!("metadata records the done ranges: {meta}"),
    );
    let before = server.requests_to("/big.bin").len();

    healthy.store(true, Ordering::SeqCst);
    let second = ws.run(
        ws.fetch()
            .args(["--json", "--split", "4"])
            .arg(server.url("/big.bin")),
    );
    second.code(0);
    second.check(
        ws.read_out("big.bin") == data,
        "the resumed file is byte-exact",
    );
    let again = &server.requests_to("/big.bin")[before..];
    second.check(
        again
            .iter()
            .all(|r| r.header("range").is_some_and(|v| range_start(v) > 0)),
        format!("only missing ranges were asked for: {again:?}"),
    );
    let f = second.summary().file("big.bin").clone();
    second.check(
        f.sha256.as_deref() == Some(sha256_hex(&data).as_str()),
        "sha256 covers every range",
    );
    second.check(ws.out_files() == ["big.bin"], "no .part or metadata left");
}

/// Each piece has a connection of its own, closed with its response: a pool would open
/// sockets beside the ones in use (a request that finds no idle connection starts a connect,
/// and when a connection comes back meanwhile it takes that one and the connect completes
/// anyway), which is how `--split 8` used to reach a 9th connection.
#[test]
fn split_pieces_open_no_connection_beyond_their_requests() {
    let data = body(16 * MIB, 6);
    let route = {
        let data = data.clone();
        Route::func(move |request, _| {
            let reply = ranged(&data).keep_alive();
            // Pieces [0, 4), [4, 8) and [8, 16) MiB. The first and the last are slow, so the
            // middle one steals from them once done, its response read to the end.
            let slow = request
                .header("range")
                .is_none_or(|r| range_start(r) == 8 * MIB as u64);
            if slow {
                reply.trickle(128 * 1024, Duration::from_millis(10))
            } else {
                reply
            }
        })
    };
    let server = FaultServer::start([("/big.bin", route)]);
    let (_ws, run, requests) = fetch_in_three(&server, &data);
    let starts: Vec<u64> = requests
        .iter()
        .filter_map(|r| r.header("range").map(range_start))
        .collect();
    run.check(
        starts.iter().any(|&s| s % (4 * MIB as u64) != 0),
        format!("a stolen half was fetched: ranges from {starts:?}"),
    );
    run.check(
        requests.iter().all(|r| r.conn_seq == 0),
        format!("no piece reused a pooled connection: {requests:?}"),
    );
    run.check(
        server.connections() == requests.len(),
        format!(
            "{} connections for {} requests",
            server.connections(),
            requests.len()
        ),
    );
}

/// A resumed download can have more holes than `--split` allows connections: the connections
/// take the holes in turn rather than one connection per hole.
#[test]
fn a_resumed_split_download_keeps_to_its_connections() {
    let data = body(16 * MIB, 8);
    let healthy = Arc::new(AtomicBool::new(false));
    let route = {
        let (data, healthy) = (data.clone(), healthy.clone());
        Route::func(move |request, _| {
            if healthy.load(Ordering::SeqCst) {
                // Long enough that requests sent together are answered together.
                ranged(&data).delay(Duration::from_millis(100))
            } else if request.header("range").is_some() {
                // Every ranged piece dies after a mebibyte, leaving a hole each.
                ranged(&data).reset_after(MIB)
            } else {
                ranged(&data)
            }
        })
    };
    let server = FaultServer::start([("/big.bin", route)]);
    let ws = Workspace::new();
    let first = ws.run(
        ws.fetch()
            .args(["--split", "4", "--retries", "0"])
            .arg(server.url("/big.bin")),
    );
    first.code(1);
    let meta = String::from_utf8(ws.read_out("big.bin.part.meta")).unwrap_or_default();
    let holes = meta.matches("],[").count() + 1;
    first.check(
        meta.contains("\"done\"") && holes >= 3,
        format!("every piece left a hole: {meta}"),
    );

    healthy.store(true, Ordering::SeqCst);
    let second = ws.run(
        ws.fetch()
            .args(["--json", "--split", "2"])
            .arg(server.url("/big.bin")),
    );
    second.code(0);
    second.check(
        ws.read_out("big.bin") == data,
        "the resumed file is byte-exact",
    );
    second.check(
        server.max_concurrent() <= 2,
        format!(
            "at most 2 requests at once, saw {}",
            server.max_concurrent()
        ),
    );
}

#[test]
fn limit_rate_caps_the_speed_of_all_transfers_together() {
    let a = body(300 * 1024, 3);
    let b = body(300 * 1024, 4);
    let server = FaultServer::start([
        ("/a.bin", Route::always(Reply::ok(&a))),
        ("/b.bin", Route::always(Reply::ok(&b))),
    ]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args(["--limit-rate", "600K", "--workers", "2"])
            .arg(server.url("/a.bin"))
            .arg(server.url("/b.bin")),
    );
    let elapsed = started.elapsed();
    run.code(0);
    run.check(
        ws.read_out("a.bin") == a && ws.read_out("b.bin") == b,
        "exact files",
    );
    // 600 KiB at 600 KiB/s, shared: about a second (less the 30 KiB the bucket starts with).
    // The upper bound only catches a limiter far too strict: ten times the expected time.
    run.check(
        elapsed >= Duration::from_millis(850) && elapsed < Duration::from_secs(10),
        format!("took {elapsed:?}"),
    );
}

/// A split download needs its whole size up front: on a disk too small it fails at once, as a
/// local write error (not after downloading gigabytes). Uses a real 4 MiB tmpfs in a private
/// mount namespace; skipped where that cannot be made.
#[cfg(target_os = "linux")]
#[test]
fn a_split_download_that_cannot_fit_fails_before_fetching_it() {
    let data = body(12 * MIB, 5);
    let server = FaultServer::start([("/big.bin", Route::always(ranged(&data)))]);
    let ws = Workspace::new();
    let args = ["fetch", "--dir", "dl-out", "--json", "--split", "4"]
        .map(String::from)
        .into_iter()
        .chain([server.url("/big.bin")])
        .collect::<Vec<_>>();
    let Some((run, held)) = crate::support::run_on_small_tmpfs(&ws, "4m", &args) else {
        return;
    };
    run.code(1);
    let summary = run.summary();
    let big = summary.file("big.bin");
    let error = big.error.clone().unwrap();
    run.check(
        error.kind == "io" && error.message.contains("cannot reserve 12.00 MiB for"),
        "fails as io, saying why",
    );
    run.check(big.attempts == 1, "without retrying");
    run.check(
        held.is_empty(),
        format!("and leaves nothing behind: {held:?}"),
    );
    run.check(
        server.body_bytes_to("/big.bin") < 8 * MIB as u64,
        "most of the file was never fetched",
    );
}
