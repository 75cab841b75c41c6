//! Retries: transient failures (5xx except 501/505, 408, 429, resets, truncated bodies,
//! timeouts, refused connections) are retried `--retries` times; permanent ones make exactly
//! one request. `Retry-After` is a floor. Mirrors take over on transient failures.

use crate::support::{FaultServer, Reply, Route, Status, Workspace, body};
use std::time::{Duration, Instant};

#[test]
fn a_503_then_200_completes_on_the_second_attempt() {
    let server = FaultServer::start([(
        "/flaky.txt",
        Route::script(vec![Reply::status(503), Reply::ok("finally")]),
    )]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg("--json").arg(server.url("/flaky.txt")));
    run.code(0);
    let f = run.summary().file("flaky.txt").clone();
    assert_eq!(f.status, Status::Completed);
    assert_eq!(f.attempts, 2, "{}", run.report());
    assert_eq!(f.http_status, Some(200));
    assert_eq!(ws.read_out_string("flaky.txt"), "finally");
    assert_eq!(server.hits("/flaky.txt"), 2);
}

#[test]
fn a_persistent_503_uses_every_attempt_and_says_so() {
    let server = FaultServer::start([("/down", Route::always(Reply::status(503)))]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "2"])
            .arg(server.url("/down")),
    );
    run.code(1);
    let s = run.summary();
    let f = s.file("down");
    assert_eq!(f.status, Status::Failed);
    assert_eq!(f.attempts, 3, "{}", run.report());
    assert_eq!(f.http_status, Some(503));
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.kind, "http_status");
    assert!(e.retryable);
    assert!(e.message.ends_with("after 3 attempts"), "{}", run.report());
    assert_eq!(server.hits("/down"), 3);
    assert!(ws.out_files().is_empty(), "{}", run.report());
}

#[test]
fn transient_statuses_are_retried_and_permanent_ones_are_not() {
    let cases: [(u16, bool); 10] = [
        (408, true),
        (429, true),
        (500, true),
        (502, true),
        (504, true),
        (501, false),
        (505, false),
        (400, false),
        (403, false),
        (410, false),
    ];
    let paths: Vec<String> = cases.iter().map(|(c, _)| format!("/s{c}")).collect();
    let server = FaultServer::start(
        paths
            .iter()
            .zip(cases)
            .map(|(p, (c, _))| (p.as_str(), Route::always(Reply::status(c)))),
    );
    let ws = Workspace::new();
    let mut cmd = ws.fetch();
    cmd.args(["--json", "--retries", "2"]);
    for p in &paths {
        cmd.arg(server.url(p));
    }
    let run = ws.run(&mut cmd);
    run.code(1);
    let s = run.summary();
    for (p, (code, transient)) in paths.iter().zip(cases) {
        let f = s.file(&p[1..]);
        let e = f.error.as_ref().unwrap();
        let want_attempts = if transient { 3 } else { 1 };
        assert_eq!(f.http_status, Some(code));
        assert_eq!(e.retryable, transient, "{code}\n{}", run.report());
        assert_eq!(f.attempts, want_attempts, "{code}\n{}", run.report());
        assert_eq!(server.hits(p), want_attempts as usize, "{code}");
    }
}

#[test]
fn a_truncated_body_is_retried_until_the_budget_is_spent() {
    let data = body(8_000, 9);
    let server = FaultServer::start([(
        "/cut.bin",
        Route::always(Reply::ok(&data).truncate_after(3_000)),
    )]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "3"])
            .arg(server.url("/cut.bin")),
    );
    run.code(1);
    let s = run.summary();
    let f = s.file("cut.bin");
    assert_eq!(f.attempts, 4, "attempts == retries + 1\n{}", run.report());
    assert_eq!(f.error.as_ref().unwrap().kind, "network");
    assert!(
        f.error
            .as_ref()
            .unwrap()
            .message
            .ends_with("after 4 attempts")
    );
    assert_eq!(server.hits("/cut.bin"), 4);
    assert!(
        ws.out_files().is_empty(),
        "no final file, no .part\n{}",
        run.report()
    );
}

#[test]
fn a_truncated_then_whole_body_completes_with_the_whole_content() {
    let data = body(20_000, 10);
    let server = FaultServer::start([(
        "/cut.bin",
        Route::script(vec![
            Reply::ok(&data).truncate_after(5_000),
            Reply::ok(&data).reset_after(9_000),
            Reply::ok(&data),
        ]),
    )]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg("--json").arg(server.url("/cut.bin")));
    run.code(0);
    assert_eq!(
        run.summary().file("cut.bin").attempts,
        3,
        "{}",
        run.report()
    );
    assert!(ws.read_out("cut.bin") == data, "content\n{}", run.report());
    assert_eq!(ws.out_files(), ["cut.bin"]);
}

#[test]
fn changing_content_between_attempts_never_splices_two_versions() {
    let v1 = body(10_000, 11);
    let v2 = body(12_000, 12);
    let server = FaultServer::start([(
        "/moving.bin",
        Route::script(vec![
            Reply::ok(&v1).etag("v1").truncate_after(6_000),
            Reply::ok(&v2).etag("v2"),
        ]),
    )]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg("--json").arg(server.url("/moving.bin")));
    run.code(0);
    assert!(
        ws.read_out("moving.bin") == v2,
        "the file is exactly v2\n{}",
        run.report()
    );
}

#[test]
fn a_stalled_body_times_out_with_read_timeout() {
    let server = FaultServer::start([(
        "/stall.bin",
        Route::always(Reply::ok(body(10_000, 13)).stall_after(1_000)),
    )]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "1", "--read-timeout", "300ms"])
            .arg(server.url("/stall.bin")),
    );
    run.code(1);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{}",
        run.report()
    );
    let s = run.summary();
    let f = s.file("stall.bin");
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.kind, "timeout", "{}", run.report());
    assert!(e.retryable);
    assert_eq!(f.attempts, 2);
    assert_eq!(server.hits("/stall.bin"), 2);
    assert!(ws.out_files().is_empty(), "{}", run.report());
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = FaultServer::start([("/silent", Route::always(Reply::no_response()))]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "0", "--read-timeout", "300ms"])
            .arg(server.url("/silent")),
    );
    run.code(1);
    let s = run.summary();
    let f = s.file("silent");
    assert_eq!(
        f.error.as_ref().unwrap().kind,
        "timeout",
        "{}",
        run.report()
    );
    assert_eq!(f.http_status, None);
    assert_eq!(server.hits("/silent"), 1);
}

#[test]
fn a_refused_connection_is_a_retried_network_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "2", "--connect-timeout", "2s"])
            .arg(format!("http://127.0.0.1:{port}/nobody.bin")),
    );
    run.code(1);
    let s = run.summary();
    let f = s.file("nobody.bin");
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.kind, "network", "{}", run.report());
    assert!(e.retryable);
    assert_eq!(f.attempts, 3);
    assert_eq!(f.http_status, None);
}

#[test]
fn retries_zero_makes_one_request() {
    let server = FaultServer::start([("/down", Route::always(Reply::status(503)))]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "0"])
            .arg(server.url("/down")),
    );
    run.code(1);
    assert_eq!(run.summary().file("down").attempts, 1);
    assert_eq!(server.hits("/down"), 1);
}

#[test]
fn retry_after_is_a_floor_for_the_backoff() {
    let server = FaultServer::start([(
        "/busy",
        Route::script(vec![
            Reply::status(429).header("Retry-After", "1"),
            Reply::ok("ok"),
        ]),
    )]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args(["--progress", "ndjson", "--max-retry-delay", "10ms"])
            .arg(server.url("/busy")),
    );
    run.code(0);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{}",
        run.report()
    );
    let retry = run
        .events()
        .into_iter()
        .find_map(|e| match e {
            crate::support::Event::Retry {
                delay_ms, attempt, ..
            } => Some((delay_ms, attempt)),
            _ => None,
        })
        .unwrap_or_else(|| run.fail("no retry event"));
    assert!(
        retry.0 >= 1000,
        "delay_ms {} honours Retry-After: 1\n{}",
        retry.0,
        run.report()
    );
    assert_eq!(retry.1, 2);
    let reqs = server.requests_to("/busy");
    assert!(reqs.len() == 2);
}

#[test]
fn manifest_retries_override_the_command_line_per_file() {
    let server = FaultServer::start([
        ("/a", Route::always(Reply::status(503))),
        ("/b", Route::always(Reply::status(503))),
    ]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nretries = 0\n\n[[file]]\nurl = \"{}\"\n",
            server.url("/a"),
            server.url("/b")
        ),
    );
    let run = ws.run(ws.fetch().args(["--json", "--retries", "2", "m.toml"]));
    run.code(1);
    let s = run.summary();
    assert_eq!(s.file("a").attempts, 1, "{}", run.report());
    assert_eq!(s.file("b").attempts, 3, "{}", run.report());
    assert_eq!((server.hits("/a"), server.hits("/b")), (1, 3));
}

#[test]
fn mirrors_take_over_when_the_primary_fails_transiently() {
    let server = FaultServer::start([
        ("/primary/x.bin", Route::always(Reply::status(503))),
        ("/mirror/x.bin", Route::always(Reply::ok("from the mirror"))),
    ]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nmirrors = [\"{}\"]\n",
            server.url("/primary/x.bin"),
            server.url("/mirror/x.bin")
        ),
    );
    let run = ws.run(ws.fetch().args(["--json", "m.toml"]));
    run.code(0);
    assert_eq!(ws.read_out_string("x.bin"), "from the mirror");
    assert_eq!(server.hits("/primary/x.bin"), 1, "{}", run.report());
    assert_eq!(server.hits("/mirror/x.bin"), 1);
    let s = run.summary();
    assert_eq!(s.file("x.bin").attempts, 2);
    assert!(
        s.file("x.bin").url.ends_with("/primary/x.bin"),
        "the planned URL is reported"
    );
}

#[test]
fn min_speed_abandons_a_crawling_transfer_and_retries_it() {
    let data = body(4_000, 14);
    let server = FaultServer::start([(
        "/crawl.bin",
        Route::always(Reply::ok(&data).trickle(10, Duration::from_millis(50))),
    )]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args([
                "--json",
                "--retries",
                "1",
                "--min-speed",
                "10K",
                "--min-speed-time",
                "300ms",
            ])
            .arg(server.url("/crawl.bin")),
    );
    run.code(1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{}",
        run.report()
    );
    let s = run.summary();
    let f = s.file("crawl.bin");
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.kind, "timeout", "{}", run.report());
    assert!(e.retryable);
    assert_eq!(f.attempts, 2);
    assert_eq!(server.hits("/crawl.bin"), 2);
    assert!(!ws.out().join("crawl.bin").exists());
}
