//! Resume (SPEC §4): a `.part` worth keeping is continued with `Range` + `If-Range`, within a
//! run (the next attempt) and across runs (the same command again); a server that ignores
//! `Range` or a resource that changed restarts from zero, never splicing two versions.

use crate::support::{FaultServer, Reply, Route, Status, Workspace, body};

/// Large enough for dl to keep resume metadata (small files are simply restarted).
const BIG: usize = 3 * 1024 * 1024;
const CUT: usize = 2 * 1024 * 1024;

fn range_start(value: Option<&str>) -> Option<u64> {
    value?
        .strip_prefix("bytes=")?
        .strip_suffix('-')?
        .parse()
        .ok()
}

#[test]
fn a_retry_continues_the_part_with_range_and_if_range() {
    let data = body(BIG, 21);
    let s = FaultServer::start([(
        "/big.bin",
        Route::script(vec![
            Reply::ok(&data)
                .etag("v1")
                .honour_range()
                .truncate_after(CUT),
            Reply::ok(&data).etag("v1").honour_range(),
        ]),
    )]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg("--json").arg(s.url("/big.bin")));
    run.code(0);
    let summary = run.summary();
    let f = summary.file("big.bin");
    assert_eq!(f.status, Status::Completed);
    assert_eq!(f.attempts, 2, "{}", run.report());
    assert_eq!(f.bytes, BIG as u64);
    assert!(
        ws.read_out("big.bin") == data,
        "resumed content is exact\n{}",
        run.report()
    );
    let reqs = s.requests_to("/big.bin");
    assert_eq!(reqs[0].header("range"), None);
    let offset = range_start(reqs[1].header("range"))
        .unwrap_or_else(|| run.fail(format_args!("second request resumes: {:?}", reqs[1])));
    assert!(offset > 0 && offset <= CUT as u64, "offset {offset}");
    assert_eq!(reqs[1].header("if-range"), Some("\"v1\""));
    assert!(!ws.out().join("big.bin.part").exists());
}

#[test]
fn the_same_command_again_resumes_a_failed_download() {
    let data = body(BIG, 22);
    let s = FaultServer::start([(
        "/big.bin",
        Route::script(vec![
            Reply::ok(&data)
                .etag("v1")
                .honour_range()
                .truncate_after(CUT),
            Reply::ok(&data).etag("v1").honour_range(),
        ]),
    )]);
    let ws = Workspace::new();
    let first = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "0"])
            .arg(s.url("/big.bin")),
    );
    first.code(1);
    let f = first.summary().file("big.bin").clone();
    assert!(f.error.as_ref().unwrap().retryable, "{}", first.report());
    first.check(
        !ws.out().join("big.bin").exists(),
        "nothing under the final name after a failure",
    );
    first.check(
        ws.out().join("big.bin.part").exists(),
        "a resumable .part is kept for the next run",
    );
    let part = std::fs::read(ws.out().join("big.bin.part")).unwrap();
    assert!(
        data.starts_with(&part),
        "the .part is a prefix of the resource"
    );

    let second = ws.run(ws.fetch().arg("--json").arg(s.url("/big.bin")));
    second.code(0);
    assert!(
        ws.read_out("big.bin") == data,
        "content\n{}",
        second.report()
    );
    let reqs = s.requests_to("/big.bin");
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        range_start(reqs[1].header("range")),
        Some(part.len() as u64)
    );
    assert!(!ws.out().join("big.bin.part").exists());
}

#[test]
fn a_server_ignoring_range_restarts_from_zero() {
    let data = body(BIG, 23);
    let s = FaultServer::start([(
        "/big.bin",
        Route::script(vec![
            Reply::ok(&data).etag("v1").truncate_after(CUT),
            Reply::ok(&data).etag("v1"),
        ]),
    )]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg("--json").arg(s.url("/big.bin")));
    run.code(0);
    assert!(
        ws.read_out("big.bin") == data,
        "whole content, no splice\n{}",
        run.report()
    );
}

#[test]
fn a_completed_download_leaves_no_resume_metadata_behind() {
    // Regression: a file large enough for resume metadata (> 1 MiB, with an ETag) used to
    // leave `NAME.part.meta` in --dir after it completed, even when nothing went wrong.
    let data = body(BIG, 29);
    let s = FaultServer::start([("/big.bin", Route::always(Reply::ok(&data).etag("v1")))]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg(s.url("/big.bin")));
    run.code(0);
    assert!(ws.read_out("big.bin") == data);
    assert_eq!(
        ws.out_files(),
        ["big.bin"],
        "only the file itself\n{}",
        run.report()
    );
}

#[test]
fn a_changed_resource_restarts_from_zero() {
    let v1 = body(BIG, 24);
    let v2 = body(BIG + 1000, 25);
    let s = FaultServer::start([(
        "/big.bin",
        Route::script(vec![
            Reply::ok(&v1).etag("v1").honour_range().truncate_after(CUT),
            Reply::ok(&v2).etag("v2").honour_range(),
        ]),
    )]);
    let ws = Workspace::new();
    let first = ws.run(ws.fetch().args(["--retries", "0"]).arg(s.url("/big.bin")));
    first.code(1);
    let second = ws.run(ws.fetch().arg("--json").arg(s.url("/big.bin")));
    second.code(0);
    assert!(
        ws.read_out("big.bin") == v2,
        "exactly v2\n{}",
        second.report()
    );
    assert_eq!(second.summary().file("big.bin").bytes, v2.len() as u64);
}

#[test]
fn a_changed_resource_is_not_spliced_even_if_the_server_ignores_if_range() {
    // The 206 carries the resource's current ETag ("v2"), which is not the validator the
    // .part was written under ("v1"): continuing would splice two versions (SPEC §4).
    let v1 = body(BIG, 26);
    let v2 = body(BIG, 27);
    let s = FaultServer::start([(
        "/big.bin",
        Route::script(vec![
            Reply::ok(&v1).etag("v1").honour_range().truncate_after(CUT),
            Reply::ok(&v2).etag("v2").honour_range_ignoring_if_range(),
        ]),
    )]);
    let ws = Workspace::new();
    let first = ws.run(ws.fetch().args(["--retries", "0"]).arg(s.url("/big.bin")));
    first.code(1);
    let second = ws.run(ws.fetch().arg("--json").arg(s.url("/big.bin")));
    let spliced = ws.out().join("big.bin").exists() && ws.read_out("big.bin") != v2;
    second.check(
        !spliced,
        "the final file is a splice of v1 and v2: the 206's ETag was not checked",
    );
}

#[test]
fn small_failed_downloads_leave_no_part() {
    let data = body(100_000, 28);
    let s = FaultServer::start([(
        "/small.bin",
        Route::always(
            Reply::ok(&data)
                .etag("v1")
                .honour_range()
                .truncate_after(50_000),
        ),
    )]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().args(["--retries", "0"]).arg(s.url("/small.bin")));
    run.code(1);
    assert!(ws.out_files().is_empty(), "{}", run.report());
}

#[test]
fn a_planned_file_named_like_anothers_resume_metadata_is_not_clobbered() {
    // Bug: `x.bin.part.meta` is dl's resume metadata for `x.bin`, but the plan does not
    // reserve that name the way it reserves `x.bin.part`. The completed file
    // `x.bin.part.meta` is deleted ("resume metadata without a .part file") and replaced by
    // x.bin's metadata, while the summary still reports it as completed.
    let data = body(BIG, 30);
    let s = FaultServer::start([
        ("/x.bin", Route::always(Reply::ok(&data).etag("v1"))),
        (
            "/x.bin.part.meta",
            Route::always(Reply::ok("a file of its own")),
        ),
    ]);
    let ws = Workspace::new();
    ws.write(
        "urls.txt",
        format!("{}\n{}\n", s.url("/x.bin.part.meta"), s.url("/x.bin")),
    );
    let run = ws.run(ws.fetch().args(["--workers", "1", "urls.txt"]));
    match run.code {
        // Rejected up front, like a clash with another file's `.part`: fine.
        Some(2) => {
            assert_eq!(s.total_hits(), 0);
        }
        _ => {
            run.code(0);
            assert!(ws.read_out("x.bin") == data);
            assert_eq!(
                ws.read_out_string("x.bin.part.meta"),
                "a file of its own",
                "{}",
                run.report()
            );
        }
    }
}
