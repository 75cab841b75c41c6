//! `--on-exist update` and modification times (issue 27, part 5): a completed file carries the
//! server's `Last-Modified`, however it landed; `update` asks `If-Modified-Since` that date,
//! keeps the file on `304`, and replaces it only with a verified newer copy.

use crate::support::server::{FaultServer, Reply, Route};
use crate::support::{MIB, SAMPLE, SAMPLE_SHA256, Status, Workspace, body, ranged};
use std::time::SystemTime;

const MINE: &str = "the user's own copy\n";
const OLD: &str = "Wed, 21 Oct 2015 07:28:00 GMT";
const NEW: &str = "Thu, 01 Feb 2024 10:00:00 GMT";

fn date(text: &str) -> SystemTime {
    httpdate::parse_http_date(text).unwrap()
}

fn mtime(ws: &Workspace, name: &str) -> SystemTime {
    std::fs::metadata(ws.out().join(name))
        .unwrap()
        .modified()
        .unwrap()
}

/// Writes `name` in the download directory, last modified at `when`.
fn write_dated(ws: &Workspace, name: &str, contents: &str, when: &str) {
    ws.write_out(name, contents);
    let file = std::fs::File::options()
        .write(true)
        .open(ws.out().join(name))
        .unwrap();
    file.set_modified(date(when)).unwrap();
}

/// Answers `304` to an `If-Modified-Since` of `current` or later, else `200` with `body` dated
/// `current` (a server that compares dates, as RFC 9110 §13.1.3 says).
fn conditional(body: &'static str, current: &'static str) -> Route {
    Route::func(move |request, _| {
        let asked = request
            .header("if-modified-since")
            .and_then(|d| httpdate::parse_http_date(d).ok());
        match asked {
            Some(since) if since >= date(current) => Reply {
                status: 304,
                ..Reply::ok("")
            }
            .last_modified(current),
            _ => Reply::ok(body).last_modified(current),
        }
    })
}

#[test]
fn a_completed_file_is_dated_by_the_servers_last_modified() {
    let big = body(3 * MIB, 3);
    let split = body(9 * MIB, 9);
    let s = FaultServer::start([
        (
            "/small.txt",
            Route::always(Reply::ok("small").last_modified(OLD)),
        ),
        (
            "/large.bin",
            Route::always(Reply::ok(&big).last_modified(NEW)),
        ),
        (
            "/split.bin",
            Route::always(ranged(&split).last_modified(OLD)),
        ),
    ]);
    let ws = Workspace::new();
    // `update` with nothing there yet is a plain download: nothing to ask about.
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--split", "3", "--on-exist", "update"])
            .args([
                s.url("/small.txt"),
                s.url("/large.bin"),
                s.url("/split.bin"),
            ]),
    );
    run.code(0);
    assert_eq!(run.summary().stats.completed, 3, "{}", run.report());
    assert_eq!(ws.read_out("large.bin"), big);
    assert_eq!(ws.read_out("split.bin"), split);
    assert!(
        s.requests_to("/split.bin").len() > 1,
        "the large file was split"
    );
    assert_eq!(mtime(&ws, "small.txt"), date(OLD), "{}", run.report());
    assert_eq!(mtime(&ws, "large.bin"), date(NEW));
    assert_eq!(mtime(&ws, "split.bin"), date(OLD));
    assert!(
        s.requests()
            .iter()
            .all(|r| r.header("if-modified-since").is_none()),
        "no condition without an existing file"
    );
}

#[test]
fn a_resumed_file_is_dated_by_the_servers_last_modified() {
    let data = body(3 * MIB, 41);
    let s = FaultServer::start([(
        "/dated.bin",
        Route::script(vec![
            Reply::ok(&data)
                .last_modified(OLD)
                .honour_range()
                .truncate_after(2 * MIB),
            Reply::ok(&data).last_modified(OLD).honour_range(),
        ]),
    )]);
    let ws = Workspace::new();
    let run = ws.fetch_whole(&s.url("/dated.bin"), "dated.bin", &data);
    let requests = s.requests_to("/dated.bin");
    assert_eq!(requests.len(), 2, "{}", run.report());
    assert!(
        requests[1].header("range").is_some(),
        "the second one resumed"
    );
    assert_eq!(mtime(&ws, "dated.bin"), date(OLD));
}

#[test]
fn update_keeps_an_unchanged_file_after_one_conditional_request() {
    let s = FaultServer::start([("/a.txt", conditional("fresh", OLD))]);
    let ws = Workspace::new();
    write_dated(&ws, "a.txt", MINE, OLD);
    // A part without resume metadata cannot be continued: it is not kept either.
    ws.write_out("a.txt.part", "junk");
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--progress", "plain", "--on-exist", "update"])
            .arg(s.url("/a.txt")),
    );
    run.code(0)
        .stderr_has("skip    a.txt (unchanged on the server)");
    let summary = run.summary();
    let f = summary.file("a.txt");
    assert_eq!(f.status, Status::Skipped, "{}", run.report());
    assert_eq!(f.reason.as_deref(), Some("unchanged"));
    assert_eq!((f.attempts, f.http_status), (1, Some(304)));
    assert_eq!(f.bytes, MINE.len() as u64);
    assert!(summary.ok);
    let requests = s.requests_to("/a.txt");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("if-modified-since"), Some(OLD));
    assert_eq!(ws.read_out_string("a.txt"), MINE);
    assert_eq!(mtime(&ws, "a.txt"), date(OLD), "the date is untouched too");
    assert_eq!(ws.out_files(), ["a.txt"]);
}

#[test]
fn update_replaces_a_file_the_server_has_a_newer_version_of() {
    let s = FaultServer::start([("/a.txt", conditional("fresh from the server", NEW))]);
    let ws = Workspace::new();
    write_dated(&ws, "a.txt", MINE, OLD);
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--on-exist", "update"])
            .arg(s.url("/a.txt")),
    );
    run.code(0);
    let summary = run.summary();
    let f = summary.file("a.txt");
    assert_eq!(f.status, Status::Completed, "{}", run.report());
    assert_eq!(f.reason, None);
    assert_eq!(
        s.requests_to("/a.txt")[0].header("if-modified-since"),
        Some(OLD)
    );
    assert_eq!(ws.read_out_string("a.txt"), "fresh from the server");
    assert_eq!(mtime(&ws, "a.txt"), date(NEW));
    assert_eq!(ws.out_files(), ["a.txt"]);

    // Now current: the next run asks about the new date and keeps it.
    let again = ws.run(
        ws.fetch()
            .args(["--json", "--on-exist", "update"])
            .arg(s.url("/a.txt")),
    );
    again.code(0);
    assert_eq!(again.summary().file("a.txt").status, Status::Skipped);
    assert_eq!(
        s.requests_to("/a.txt")[1].header("if-modified-since"),
        Some(NEW)
    );
}

#[test]
fn update_keeps_the_old_file_when_the_new_copy_fails() {
    let s = FaultServer::start([
        ("/down.txt", Route::always(Reply::status(500))),
        (
            "/wrong.txt",
            Route::always(Reply::ok("not the fox").last_modified(NEW)),
        ),
    ]);
    let ws = Workspace::new();
    write_dated(&ws, "down.txt", MINE, OLD);
    write_dated(&ws, "wrong.txt", MINE, OLD);
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\n\n[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{SAMPLE_SHA256}\"\n",
            s.url("/down.txt"),
            s.url("/wrong.txt"),
        ),
    );
    let run =
        ws.run(
            ws.fetch()
                .args(["--json", "--on-exist", "update", "--retries", "1", "m.toml"]),
        );
    run.code(1);
    let summary = run.summary();
    let down = summary.file("down.txt");
    assert_eq!(down.status, Status::Failed, "{}", run.report());
    assert_eq!(down.error.as_ref().unwrap().kind, "http_status");
    let wrong = summary.file("wrong.txt");
    assert_eq!(wrong.error.as_ref().unwrap().kind, "checksum");
    for name in ["down.txt", "wrong.txt"] {
        assert_eq!(ws.read_out_string(name), MINE, "{name}\n{}", run.report());
        assert_eq!(mtime(&ws, name), date(OLD), "{name}");
    }
    assert_eq!(ws.out_files(), ["down.txt", "wrong.txt"], "no .part left");
}

#[test]
fn update_trusts_a_matching_checksum_and_replaces_a_mismatching_file() {
    let s = FaultServer::start([
        (
            "/fox.txt",
            Route::always(Reply::ok(SAMPLE).last_modified(OLD)),
        ),
        (
            "/stale.txt",
            Route::always(Reply::ok(SAMPLE).last_modified(OLD)),
        ),
    ]);
    let ws = Workspace::new();
    ws.write_out("fox.txt", SAMPLE);
    // Newer than the server's copy, yet wrong: a date cannot vouch for it, the checksum can.
    write_dated(&ws, "stale.txt", MINE, NEW);
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{SAMPLE_SHA256}\"\n\n[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{SAMPLE_SHA256}\"\n",
            s.url("/fox.txt"),
            s.url("/stale.txt"),
        ),
    );
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--on-exist", "update", "m.toml"]),
    );
    run.code(0);
    let summary = run.summary();
    let fox = summary.file("fox.txt");
    assert_eq!(fox.status, Status::Skipped, "{}", run.report());
    assert_eq!(fox.reason.as_deref(), Some("verified"));
    assert_eq!(fox.attempts, 0);
    assert_eq!(
        s.hits("/fox.txt"),
        0,
        "a matching checksum needs no request"
    );
    let stale = summary.file("stale.txt");
    assert_eq!(stale.status, Status::Completed);
    let requests = s.requests_to("/stale.txt");
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("if-modified-since"),
        None,
        "a file known wrong is fetched whatever its date"
    );
    assert_eq!(ws.read_out_string("stale.txt"), SAMPLE);
    assert_eq!(mtime(&ws, "stale.txt"), date(OLD));
}
