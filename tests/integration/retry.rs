//! Retries: transient failures (5xx except 501/505, 408, 429, resets, truncated bodies,
//! timeouts, refused connections) are retried `--retries` times; permanent ones make exactly
//! one request. `Retry-After` is a floor. Mirrors take over on transient failures.

use crate::support::server::{BlackHole, Request, refused_port};
use crate::support::{
    Event, FaultServer, OUT, Reply, Route, Status, Workspace, body, retries_of, sha256_hex,
};
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
    ws.fetch_whole(&server.url("/moving.bin"), "moving.bin", &v2);
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

// ---- Issue 3: retries, timeouts and per-host politeness against a hostile server ----

/// Milliseconds from `earlier` to `later` (both as the server saw them).
fn gap_ms(earlier: &Request, later: &Request) -> u128 {
    later.at.duration_since(earlier.at).as_millis()
}

#[test]
fn a_503_twice_then_200_completes_on_the_third_attempt_with_a_retry_event_per_retry() {
    let server = FaultServer::start([(
        "/twice.txt",
        Route::script(vec![
            Reply::status(503),
            Reply::status(503),
            Reply::ok("third time lucky"),
        ]),
    )]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--progress", "ndjson", "--retries", "3"])
            .arg(server.url("/twice.txt")),
    );
    run.code(0);
    let s = run.summary();
    let f = s.file("twice.txt");
    assert_eq!(f.status, Status::Completed, "{}", run.report());
    assert_eq!(f.attempts, 3, "{}", run.report());
    assert_eq!(f.http_status, Some(200));
    assert_eq!(f.error, None);
    assert_eq!(f.sha256.as_deref(), Some(&*sha256_hex(b"third time lucky")));
    assert_eq!(ws.read_out_string("twice.txt"), "third time lucky");
    assert_eq!(server.hits("/twice.txt"), 3);

    let events = run.events();
    let retries = retries_of(&events, "twice.txt");
    let numbers: Vec<(u32, u32)> = retries.iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(
        numbers,
        [(2, 4), (3, 4)],
        "retry events name the next attempt out of retries + 1\n{}",
        run.report()
    );
    for (_, _, delay_ms, reason) in &retries {
        assert!(
            reason.contains("503"),
            "the reason names the status: {reason}"
        );
        assert!(
            *delay_ms <= 2,
            "--retry-delay 1ms: {delay_ms} ms\n{}",
            run.report()
        );
    }
    let completed = events.iter().find_map(|e| match e {
        Event::Completed {
            attempts,
            http_status,
            ..
        } => Some((*attempts, *http_status)),
        _ => None,
    });
    assert_eq!(completed, Some((3, 200)), "{}", run.report());
}

#[test]
fn retry_after_holds_back_every_request_to_the_same_host() {
    // Two workers: /first gets 429 + Retry-After: 1 while the other worker is busy with
    // /slow (300 ms). /second starts on that worker after /slow, i.e. after the 429: it must
    // wait out the host's Retry-After too, not only the file that got it.
    let server = FaultServer::start([
        (
            "/first",
            Route::script(vec![
                Reply::status(429).header("Retry-After", "1"),
                Reply::ok("first"),
            ]),
        ),
        (
            "/slow",
            Route::always(Reply::ok("slow").delay(Duration::from_millis(300))),
        ),
        ("/second", Route::always(Reply::ok("second"))),
    ]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args([
                "--json",
                "--progress",
                "ndjson",
                "--workers",
                "2",
                "--max-retry-delay",
                "10ms",
            ])
            .arg(server.url("/first"))
            .arg(server.url("/slow"))
            .arg(server.url("/second")),
    );
    run.code(0);
    let s = run.summary();
    assert_eq!(s.stats.completed, 3, "{}", run.report());
    assert_eq!(s.file("first").attempts, 2);
    assert_eq!(s.file("second").attempts, 1);

    let first = server.requests_to("/first");
    let second = server.requests_to("/second");
    assert_eq!((first.len(), second.len()), (2, 1), "{}", run.report());
    let own_wait = gap_ms(&first[0], &first[1]);
    assert!(
        own_wait >= 950,
        "the file that got the 429 waits Retry-After (1 s), waited {own_wait} ms\n{}",
        run.report()
    );
    let shared_wait = gap_ms(&first[0], &second[0]);
    assert!(
        shared_wait >= 950,
        "a request to the same host waits for the 429's Retry-After too: /second came {shared_wait} ms after the 429\n{}",
        run.report()
    );
    let delay = retries_of(&run.events(), "first")
        .first()
        .map(|r| r.2)
        .unwrap_or_else(|| run.fail("no retry event for /first"));
    assert!(delay >= 1000, "delay_ms {delay} honours Retry-After: 1");
}

#[test]
fn a_503_holds_back_other_files_to_the_host_but_not_other_hosts() {
    // Like 429, a 503 with Retry-After throttles its host; a file on another host (another
    // port) is not held back.
    let busy = FaultServer::start([
        (
            "/a",
            Route::script(vec![
                Reply::status(503).header("Retry-After", "1"),
                Reply::ok("a"),
            ]),
        ),
        (
            "/slow",
            Route::always(Reply::ok("slow").delay(Duration::from_millis(200))),
        ),
        ("/b", Route::always(Reply::ok("b"))),
    ]);
    let other = FaultServer::start([("/c", Route::always(Reply::ok("c")))]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--workers", "2", "--max-retry-delay", "10ms"])
            .arg(busy.url("/a"))
            .arg(busy.url("/slow"))
            .arg(other.url("/c"))
            .arg(busy.url("/b")),
    );
    run.code(0);
    let a = busy.requests_to("/a");
    let b = busy.requests_to("/b");
    let c = other.requests_to("/c");
    assert!(
        gap_ms(&a[0], &b[0]) >= 950,
        "same host waits\n{}",
        run.report()
    );
    let c_after = c[0].at.duration_since(started);
    let a_retry = a[1].at.duration_since(started);
    assert!(
        c_after < a_retry,
        "another host is not held back: /c at {c_after:?}, /a's retry at {a_retry:?}\n{}",
        run.report()
    );
}

#[test]
fn a_retry_after_beyond_the_ceiling_fails_at_once_with_one_request() {
    // 301 s is just above the default --max-retry-after (5m).
    let server = FaultServer::start([
        (
            "/seconds",
            Route::always(Reply::status(503).header("Retry-After", "301")),
        ),
        ("/fine", Route::always(Reply::ok("fine"))),
    ]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "5"])
            .arg(server.url("/seconds"))
            .arg(server.url("/fine")),
    );
    run.code(1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{}",
        run.report()
    );
    let s = run.summary();
    let f = s.file("seconds");
    assert_eq!(f.status, Status::Failed);
    assert_eq!(f.attempts, 1, "{}", run.report());
    assert_eq!(f.http_status, Some(503));
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.kind, "http_status");
    assert!(e.retryable, "a later run could succeed");
    assert!(
        e.message.contains("--max-retry-after") && e.message.contains("Retry-After"),
        "the message says why it did not wait: {}",
        e.message
    );
    assert_eq!(server.hits("/seconds"), 1);
    assert_eq!(s.file("fine").status, Status::Completed);
}

#[test]
fn a_retry_after_date_beyond_max_retry_after_fails_at_once() {
    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(7200));
    let server = FaultServer::start([(
        "/date",
        Route::always(Reply::status(429).header("Retry-After", &later)),
    )]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "5", "--max-retry-after", "10m"])
            .arg(server.url("/date")),
    );
    run.code(1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{}",
        run.report()
    );
    let s = run.summary();
    let f = s.file("date");
    assert_eq!(f.attempts, 1, "{}", run.report());
    assert_eq!(f.http_status, Some(429));
    assert!(
        f.error
            .as_ref()
            .unwrap()
            .message
            .contains("--max-retry-after"),
        "{}",
        run.report()
    );
    assert_eq!(server.hits("/date"), 1);
}

#[test]
fn a_retry_after_date_is_a_floor_too() {
    // HTTP-dates have whole seconds: "now + 2 s" asks for between 1 and 2 s.
    let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    let server = FaultServer::start([(
        "/date",
        Route::script(vec![
            Reply::status(503).header("Retry-After", &soon),
            Reply::ok("ok"),
        ]),
    )]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--max-retry-delay", "10ms"])
            .arg(server.url("/date")),
    );
    run.code(0);
    let reqs = server.requests_to("/date");
    assert_eq!(reqs.len(), 2);
    let waited = gap_ms(&reqs[0], &reqs[1]);
    assert!(
        waited >= 900,
        "the retry waited for the date: {waited} ms\n{}",
        run.report()
    );
}

#[test]
fn a_stall_before_or_after_the_headers_is_a_timeout_and_the_retry_completes() {
    let data = body(10_000, 15);
    let server = FaultServer::start([
        (
            "/body-stall.bin",
            Route::script(vec![Reply::ok(&data).stall_after(1_000), Reply::ok(&data)]),
        ),
        (
            "/head-stall.bin",
            Route::script(vec![Reply::no_response(), Reply::ok(&data)]),
        ),
    ]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args([
                "--json",
                "--progress",
                "ndjson",
                "--workers",
                "2",
                "--read-timeout",
                "300ms",
            ])
            .arg(server.url("/body-stall.bin"))
            .arg(server.url("/head-stall.bin")),
    );
    run.code(0);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{}",
        run.report()
    );
    let s = run.summary();
    let events = run.events();
    for name in ["body-stall.bin", "head-stall.bin"] {
        let f = s.file(name);
        assert_eq!(f.status, Status::Completed, "{name}\n{}", run.report());
        assert_eq!(f.attempts, 2, "{name}\n{}", run.report());
        assert!(ws.read_out(name) == data, "{name}: exact content");
        let retries = retries_of(&events, name);
        assert_eq!(retries.len(), 1, "{name}\n{}", run.report());
        assert!(
            retries[0].3.contains("timed out")
                || retries[0].3.contains("no data")
                || retries[0].3.contains("no response"),
            "{name}: the reason says it was a timeout: {}",
            retries[0].3
        );
    }
    assert_eq!(server.hits("/body-stall.bin"), 2);
    assert_eq!(server.hits("/head-stall.bin"), 2);
    assert_eq!(ws.out_files(), ["body-stall.bin", "head-stall.bin"]);
}

#[test]
fn a_500_forever_fails_within_its_retry_budget_with_capped_exponential_backoff() {
    let server = FaultServer::start([("/broken", Route::always(Reply::status(500)))]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.dl()
            .args([
                "fetch",
                "--dir",
                OUT,
                "--json",
                "--progress",
                "ndjson",
                "--retries",
                "4",
                "--retry-delay",
                "20ms",
                "--max-retry-delay",
                "80ms",
            ])
            .arg(server.url("/broken")),
    );
    run.code(1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded total time\n{}",
        run.report()
    );
    let s = run.summary();
    assert!(!s.ok);
    let f = s.file("broken");
    assert_eq!(f.status, Status::Failed);
    assert_eq!(f.attempts, 5, "attempts == retries + 1\n{}", run.report());
    assert_eq!(f.http_status, Some(500), "the final status");
    assert_eq!(f.bytes, 0);
    assert_eq!(f.sha256, None);
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.kind, "http_status");
    assert!(e.retryable);
    assert!(
        e.message.contains("500") && e.message.ends_with("after 5 attempts"),
        "{}",
        e.message
    );
    let reqs = server.requests_to("/broken");
    assert_eq!(reqs.len(), 5, "exactly the budget");

    // Backoff doubles from 20 ms, capped at 80 ms, with "equal jitter" (half fixed).
    let bounds = [(10, 20), (20, 40), (40, 80), (40, 80)];
    let events = run.events();
    let retries = retries_of(&events, "broken");
    assert_eq!(retries.len(), 4, "{}", run.report());
    for (i, ((attempt, max, delay_ms, reason), (lo, hi))) in retries.iter().zip(bounds).enumerate()
    {
        assert_eq!((*attempt, *max), (i as u32 + 2, 5));
        assert!(
            (lo..=hi).contains(delay_ms),
            "retry {attempt}: delay_ms {delay_ms} outside [{lo}, {hi}]\n{}",
            run.report()
        );
        assert!(reason.contains("500"), "{reason}");
        let waited = gap_ms(&reqs[i], &reqs[i + 1]);
        assert!(
            waited >= u128::from(*delay_ms),
            "the request came {waited} ms after the previous one, before its delay {delay_ms} ms"
        );
    }
    let failed = events.iter().find_map(|e| match e {
        Event::Failed {
            attempts,
            http_status,
            error,
            ..
        } => Some((*attempts, *http_status, error.clone())),
        _ => None,
    });
    let (attempts, http_status, error) = failed.unwrap_or_else(|| run.fail("no failed event"));
    assert_eq!((attempts, http_status), (5, Some(500)));
    assert_eq!(&error, e, "the event and the summary agree");
}

/// The outcome of running many files against a refused port (and one live file last).
fn host_down_run(workers: &str) -> (crate::support::Run, FaultServer) {
    let port = refused_port();
    let live = FaultServer::start([("/alive.bin", Route::always(Reply::ok("alive")))]);
    let ws = Workspace::new();
    let mut list: String = (0..10)
        .map(|i| format!("http://127.0.0.1:{port}/down{i}.bin\n"))
        .collect();
    list.push_str(&live.url("/alive.bin"));
    ws.write("urls.txt", list);
    let run = ws.run(ws.fetch().args([
        "--json",
        "--progress",
        "ndjson",
        "--workers",
        workers,
        "--retries",
        "5",
        "--connect-timeout",
        "2s",
        "urls.txt",
    ]));
    run.code(1);
    (run, live)
}

/// Checks a host-down run: the live host's file completes, the down host's files fail
/// quickly with host_unavailable, spending far fewer than 10 × 5 retries.
fn assert_host_down(run: &crate::support::Run, live: &FaultServer, max_retries: usize) {
    let s = run.summary();
    let alive = s.file("alive.bin");
    assert_eq!(
        alive.status,
        Status::Completed,
        "other hosts are not affected\n{}",
        run.report()
    );
    assert_eq!(live.hits("/alive.bin"), 1);
    let events = run.events();
    let mut retries = 0;
    let mut fast = 0;
    for i in 0..10 {
        let name = format!("down{i}.bin");
        let f = s.file(&name);
        assert_eq!(f.status, Status::Failed, "{name}\n{}", run.report());
        let e = f.error.as_ref().unwrap();
        assert!(e.retryable, "{name}: a later run could succeed");
        retries += retries_of(&events, &name).len();
        if e.kind == "host_unavailable" && f.attempts <= 1 {
            fast += 1;
            assert!(e.message.contains("unreachable"), "{}", e.message);
        }
    }
    assert!(
        retries <= max_retries,
        "the breaker stops the retries: {retries} retry events for the down host (budget 50)\n{}",
        run.report()
    );
    assert!(
        fast >= 6,
        "most of the down host's files fail at once with host_unavailable ({fast} of 10)\n{}",
        run.report()
    );
}

#[test]
fn a_host_that_is_down_trips_the_breaker_and_its_other_files_fail_fast() {
    let (run, live) = host_down_run("1");
    assert_host_down(&run, &live, 8);
    let s = run.summary();
    let later: Vec<_> = (1..10)
        .map(|i| s.file(&format!("down{i}.bin")).clone())
        .collect();
    assert!(
        later
            .iter()
            .all(|f| f.error.as_ref().unwrap().kind == "host_unavailable" && f.attempts <= 1),
        "once the host is down, its queued files are not tried\n{}",
        run.report()
    );
}

#[test]
fn the_breaker_holds_with_concurrent_workers_on_the_down_host() {
    let (run, live) = host_down_run("4");
    assert_host_down(&run, &live, 16);
}

#[test]
fn a_connect_timeout_is_a_retried_timeout() {
    let Some(hole) = BlackHole::start() else {
        crate::support::skip("this kernel does not drop SYNs on a full backlog");
        return;
    };
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "1", "--connect-timeout", "200ms"])
            .arg(format!("http://127.0.0.1:{}/hole.bin", hole.port())),
    );
    run.code(1);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_secs(10),
        "two attempts of 200 ms each: {elapsed:?}\n{}",
        run.report()
    );
    let s = run.summary();
    let f = s.file("hole.bin");
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.kind, "timeout", "{}", run.report());
    assert!(e.retryable);
    assert_eq!(f.attempts, 2);
    assert_eq!(f.http_status, None);
}

/// A server whose `/a.txt` is answered with keep-alive (so dl pools the connection) and
/// which hangs up on the next request that comes on that connection, as a server whose idle
/// timeout fired just as the request was sent.
fn stale_keep_alive_server() -> FaultServer {
    FaultServer::start([
        ("/a.txt", Route::always(Reply::ok("a").keep_alive())),
        (
            "/b.txt",
            Route::func(|req, _| {
                if req.conn_seq > 0 {
                    Reply::hang_up()
                } else {
                    Reply::ok("b")
                }
            }),
        ),
    ])
}

fn run_after_keep_alive(
    ws: &Workspace,
    server: &FaultServer,
    extra: &[&str],
) -> crate::support::Run {
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--workers", "1"])
            .args(extra)
            .arg(server.url("/a.txt"))
            .arg(server.url("/b.txt")),
    );
    let stale = server
        .requests()
        .iter()
        .any(|r| r.path == "/b.txt" && r.conn_seq > 0);
    run.check(
        stale,
        "setup: the second file should have gone on the pooled connection",
    );
    run
}

#[test]
fn a_request_on_a_stale_keep_alive_connection_is_retried() {
    let server = stale_keep_alive_server();
    let ws = Workspace::new();
    let run = run_after_keep_alive(&ws, &server, &[]);
    run.code(0);
    let s = run.summary();
    let b = s.file("b.txt");
    assert_eq!(b.status, Status::Completed, "{}", run.report());
    assert!(b.attempts <= 2, "{}", run.report());
    assert_eq!(ws.read_out_string("a.txt"), "a");
    assert_eq!(ws.read_out_string("b.txt"), "b");
}

#[test]
fn a_stale_keep_alive_connection_does_not_spend_the_files_retry_budget() {
    // Issue 3 item 7: "A pooled keep-alive connection that the server closed is retried
    // transparently": the file did nothing wrong, the connection was stale before its request
    // was sent (curl and browsers re-send such a request once on a fresh connection). With
    // --retries 0 the file must still complete.
    let server = stale_keep_alive_server();
    let ws = Workspace::new();
    let run = run_after_keep_alive(&ws, &server, &["--retries", "0"]);
    run.code(0);
    let s = run.summary();
    let b = s.file("b.txt");
    assert_eq!(
        b.status,
        Status::Completed,
        "a stale pooled connection is not the file's failure, even with --retries 0\n{}",
        run.report()
    );
    assert_eq!(ws.read_out_string("b.txt"), "b");
}

#[test]
fn keep_alive_connections_closed_by_the_server_right_after_each_answer_are_not_failures() {
    let paths: Vec<String> = (0..6).map(|i| format!("/k{i}.txt")).collect();
    let server = FaultServer::start(paths.iter().map(|p| {
        (
            p.as_str(),
            Route::always(Reply::ok(format!("content of {p}")).keep_alive_then_close()),
        )
    }));
    let ws = Workspace::new();
    let mut cmd = ws.fetch();
    cmd.args(["--json", "--workers", "1"]);
    cmd.args(paths.iter().map(|p| server.url(p)));
    let run = ws.run(&mut cmd);
    run.code(0);
    let s = run.summary();
    for p in &paths {
        let f = s.file(&p[1..]);
        assert_eq!(f.status, Status::Completed, "{p}\n{}", run.report());
        assert!(f.attempts <= 2, "{p}\n{}", run.report());
        assert_eq!(ws.read_out_string(&p[1..]), format!("content of {p}"));
    }
}

#[test]
fn max_per_host_caps_connections_per_host_not_per_run() {
    let slow = |n: usize, prefix: &'static str| {
        (0..n)
            .map(move |i| format!("/{prefix}{i}"))
            .collect::<Vec<_>>()
    };
    let a_paths = slow(6, "a");
    let b_paths = slow(6, "b");
    let serve = |paths: &[String]| {
        FaultServer::start(paths.iter().map(|p| {
            (
                p.as_str(),
                Route::always(Reply::ok("slow").delay(Duration::from_millis(150))),
            )
        }))
    };
    let a = serve(&a_paths);
    let b = serve(&b_paths);
    let ws = Workspace::new();
    let mut cmd = ws.fetch();
    cmd.args(["--json", "--workers", "6", "--max-per-host", "2"]);
    for (pa, pb) in a_paths.iter().zip(&b_paths) {
        cmd.arg(a.url(pa)).arg(b.url(pb));
    }
    let run = ws.run(&mut cmd);
    run.code(0);
    assert_eq!(run.summary().stats.completed, 12);
    for (name, server) in [("a", &a), ("b", &b)] {
        assert_eq!(server.total_hits(), 6);
        assert_eq!(
            server.max_concurrent(),
            2,
            "host {name}: at most --max-per-host 2 at once, and the cap is per host\n{}",
            run.report()
        );
    }
}

#[test]
fn the_default_per_host_cap_is_eight() {
    let paths: Vec<String> = (0..12).map(|i| format!("/p{i}")).collect();
    let server = FaultServer::start(paths.iter().map(|p| {
        (
            p.as_str(),
            Route::always(Reply::ok("p").delay(Duration::from_millis(200))),
        )
    }));
    let ws = Workspace::new();
    let mut cmd = ws.fetch();
    cmd.args(["--workers", "12"]);
    cmd.args(paths.iter().map(|p| server.url(p)));
    let run = ws.run(&mut cmd);
    run.code(0);
    let most = server.max_concurrent();
    assert!(
        (2..=8).contains(&most),
        "12 workers, one host: {most} at once\n{}",
        run.report()
    );
}

#[test]
fn min_speed_abandons_a_trickle_and_the_retry_completes() {
    let data = body(4_000, 16);
    let server = FaultServer::start([(
        "/crawl-then-run.bin",
        Route::script(vec![
            Reply::ok(&data).trickle(10, Duration::from_millis(50)),
            Reply::ok(&data),
        ]),
    )]);
    let ws = Workspace::new();
    let started = Instant::now();
    let run = ws.run(
        ws.fetch()
            .args([
                "--json",
                "--progress",
                "ndjson",
                "--min-speed",
                "10K",
                "--min-speed-time",
                "300ms",
            ])
            .arg(server.url("/crawl-then-run.bin")),
    );
    run.code(0);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{}",
        run.report()
    );
    let s = run.summary();
    let f = s.file("crawl-then-run.bin");
    assert_eq!(f.attempts, 2, "{}", run.report());
    assert!(ws.read_out("crawl-then-run.bin") == data);
    let retries = retries_of(&run.events(), "crawl-then-run.bin");
    assert_eq!(retries.len(), 1);
    assert!(
        retries[0].3.contains("--min-speed"),
        "the reason names the option: {}",
        retries[0].3
    );
}
