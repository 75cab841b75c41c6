//! Progress on stderr, never stdout: `--progress plain` lines, `--progress ndjson` events (each
//! line one JSON object with an "event"; per file queued … started … completed), `none`, `-q`.

use crate::support::{
    Event, FaultServer, OUT, Reply, Route, SAMPLE, SAMPLE_SHA256, Workspace, body, dl_std,
    progress_of, wait_until,
};
use std::process::Stdio;
use std::time::Duration;

fn mixed_server() -> FaultServer {
    FaultServer::start([
        ("/good.txt", Route::always(Reply::ok(SAMPLE))),
        ("/gone.txt", Route::always(Reply::status(404))),
        (
            "/flaky.txt",
            Route::script(vec![Reply::status(503), Reply::ok("second time")]),
        ),
    ])
}

#[test]
fn plain_progress_prints_one_line_per_outcome_on_stderr_only() {
    let s = mixed_server();
    let ws = Workspace::new();
    ws.write_out("kept.txt", "mine");
    let run = ws.run(
        ws.fetch()
            .args(["--progress", "plain"])
            .arg(s.url("/good.txt"))
            .arg(s.url("/gone.txt"))
            .arg(s.url("/flaky.txt"))
            .arg(s.url("/kept.txt")),
    );
    run.code(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
    run.check(has("done    good.txt ("), "a done line for good.txt")
        .check(has("FAILED  gone.txt: 404"), "a FAILED line for gone.txt")
        .check(
            has("retry   flaky.txt: attempt 2/6 in "),
            "a retry line for flaky.txt",
        )
        .check(has("done    flaky.txt ("), "a done line for flaky.txt")
        .check(has("skip    kept.txt (exists)"), "a skip line for kept.txt");
    for line in run.stdout.lines() {
        run.check(
            !line.starts_with("done ")
                && !line.starts_with("FAILED")
                && !line.starts_with("retry "),
            "progress lines never go to stdout",
        );
    }
    run.stdout_has("good.txt").stdout_has("4 files:");
}

/// Lines are buffered (one write per interval, not per file), but never held back until the
/// end: a finished file is on stderr while another still downloads.
#[test]
fn plain_lines_reach_stderr_while_the_run_goes_on() {
    let s = FaultServer::start([
        ("/good.txt", Route::always(Reply::ok(SAMPLE))),
        (
            "/stall.bin",
            Route::always(Reply::ok(body(600_000, 5)).stall_after(100_000)),
        ),
    ]);
    let ws = Workspace::new();
    let log = ws.root().join("stderr.log");
    let mut child = dl_std(&ws)
        .args(["fetch", "--progress", "plain", "--workers", "1"])
        .args(["--read-timeout", "30s", "--dir", OUT])
        .arg(s.url("/good.txt"))
        .arg(s.url("/stall.bin"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn dl");
    let shown = wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&log).is_ok_and(|text| text.contains("done    good.txt ("))
    });
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(shown, "the done line was not written while the run went on");
    assert!(running, "dl ended early: the stall did not hold it");
}

#[test]
fn plain_progress_with_json_keeps_stdout_pure() {
    let s = mixed_server();
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--progress", "plain", "--json"])
            .arg(s.url("/good.txt"))
            .arg(s.url("/gone.txt")),
    );
    run.code(1).stderr_has("done    good.txt");
    let summary = run.summary();
    assert_eq!(summary.files.len(), 2);
}

#[test]
fn ndjson_events_parse_and_tell_each_files_story_in_order() {
    let s = mixed_server();
    let ws = Workspace::new();
    ws.write_out("kept.txt", "mine");
    let run = ws.run(
        ws.fetch()
            .args(["--progress", "ndjson", "--json", "--workers", "3"])
            .arg(s.url("/good.txt"))
            .arg(s.url("/gone.txt"))
            .arg(s.url("/flaky.txt"))
            .arg(s.url("/kept.txt")),
    );
    run.code(1);
    let summary = run.summary();
    let events = run.events();
    run.check(!events.is_empty(), "ndjson events on stderr");

    let story = |path: &str| -> Vec<&'static str> {
        let mut names: Vec<&'static str> = events
            .iter()
            .filter(|e| e.path() == Some(path))
            .map(Event::name)
            .collect();
        names.dedup(); // progress events repeat
        names
    };
    assert_eq!(
        story("good.txt"),
        ["queued", "started", "progress", "completed"],
        "{}",
        run.report()
    );
    assert_eq!(
        story("gone.txt"),
        ["queued", "started", "failed"],
        "{}",
        run.report()
    );
    let flaky = story("flaky.txt");
    assert_eq!(flaky.first(), Some(&"queued"), "{}", run.report());
    assert_eq!(flaky.get(1), Some(&"started"));
    assert!(flaky.contains(&"retry"));
    assert_eq!(flaky.last(), Some(&"completed"));
    assert_eq!(story("kept.txt"), ["queued", "skipped"], "{}", run.report());

    let mut finals = 0;
    for e in &events {
        match e {
            Event::Queued { url, id, .. } => {
                assert!(url.starts_with("http://127.0.0.1:"), "{url}");
                assert!(*id < 4);
            }
            Event::Completed {
                path,
                bytes,
                attempts,
                http_status,
                sha256,
                ..
            } if path == "good.txt" => {
                finals += 1;
                assert_eq!(*bytes, SAMPLE.len() as u64);
                assert_eq!(*attempts, 1);
                assert_eq!(*http_status, 200);
                assert_eq!(sha256, SAMPLE_SHA256);
            }
            Event::Completed { attempts, .. } => {
                finals += 1;
                assert_eq!(*attempts, 2, "flaky.txt took two attempts");
            }
            Event::Failed {
                error,
                attempts,
                http_status,
                ..
            } => {
                finals += 1;
                assert_eq!(error.kind, "http_status");
                assert!(!error.retryable);
                assert_eq!(*attempts, 1);
                assert_eq!(*http_status, Some(404));
            }
            Event::Retry {
                attempt,
                max_attempts,
                reason,
                ..
            } => {
                assert_eq!((*attempt, *max_attempts), (2, 6));
                assert!(reason.contains("503"), "{reason}");
            }
            Event::Skipped { .. } => finals += 1,
            _ => {}
        }
    }
    assert_eq!(
        finals,
        4,
        "exactly one final event per file\n{}",
        run.report()
    );
    let ids: std::collections::BTreeSet<u32> = events
        .iter()
        .filter_map(|e| match e {
            Event::Queued { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), summary.files.len());
}

#[test]
fn ndjson_progress_reports_bytes_up_to_the_total() {
    let data = body(2 * 1024 * 1024, 3);
    let s = FaultServer::start([("/big.bin", Route::always(Reply::ok(&data)))]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--progress", "ndjson"])
            .arg(s.url("/big.bin")),
    );
    run.code(0);
    let progress = progress_of(&run.events());
    run.check(!progress.is_empty(), "progress events");
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "{progress:?}"
    );
    assert_eq!(
        progress.last(),
        Some(&(data.len() as u64, Some(data.len() as u64)))
    );
}

#[test]
fn progress_none_and_quiet_keep_stderr_empty_on_success() {
    let s = mixed_server();
    for flags in [&["--progress", "none"][..], &["-q"]] {
        let ws = Workspace::new();
        let run = ws.run(ws.fetch().args(flags).arg(s.url("/good.txt")));
        run.code(0).check(
            run.stderr.is_empty(),
            format_args!("{flags:?}: nothing on stderr"),
        );
        assert_eq!(ws.read_out("good.txt"), SAMPLE.as_bytes());
    }
}

/// SPEC §2: `-q` is quiet success, loud failure: no table on stdout, one line per failed
/// file on stderr, nothing about the files that were done.
#[test]
fn quiet_prints_no_table_and_one_stderr_line_per_failed_file() {
    let s = mixed_server();
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["-q"])
            .arg(s.url("/good.txt"))
            .arg(s.url("/gone.txt")),
    );
    run.code(1).stdout_empty();
    let lines: Vec<&str> = run.stderr.lines().collect();
    run.check(
        lines.len() == 1 && lines[0].starts_with("dl: gone.txt: http_status: 404"),
        "exactly one line, for the failed file",
    );
}

#[test]
fn quiet_with_json_still_prints_the_document() {
    let s = mixed_server();
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["-q", "--json"])
            .arg(s.url("/good.txt"))
            .arg(s.url("/gone.txt")),
    );
    run.code(1);
    let summary = run.summary();
    assert_eq!((summary.stats.completed, summary.stats.failed), (1, 1));
}

#[test]
fn the_table_lists_each_file_and_the_totals() {
    let s = mixed_server();
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--progress", "none"])
            .arg(s.url("/good.txt"))
            .arg(s.url("/gone.txt")),
    );
    run.code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    run.check(
        lines
            .iter()
            .any(|l| l.starts_with("completed") && l.contains("good.txt")),
        "a completed row",
    )
    .check(
        lines.iter().any(|l| {
            l.starts_with("failed") && l.contains("gone.txt") && l.contains("http_status")
        }),
        "a failed row with the error kind",
    )
    .check(
        lines.last().is_some_and(|l| {
            l.starts_with("2 files: 1 completed, 0 skipped, 1 failed, 0 cancelled")
        }),
        "a totals line last",
    );
}
