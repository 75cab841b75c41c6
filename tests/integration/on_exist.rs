//! `--on-exist skip|overwrite|rename|fail` (`update` has its own module): a file the user
//! already had is never replaced or truncated unless `overwrite` was asked for, and even then
//! only by a verified download.

use crate::support::{FaultServer, Reply, Route, SAMPLE, SAMPLE_SHA256, Status, Workspace, body};

const MINE: &str = "the user's own precious data\n";

fn server() -> FaultServer {
    FaultServer::start([
        ("/a.txt", Route::always(Reply::ok("fresh from the server"))),
        ("/fox.txt", Route::always(Reply::ok(SAMPLE))),
        ("/README", Route::always(Reply::ok("readme"))),
        (
            "/cut.txt",
            Route::always(Reply::ok(body(5000, 1)).truncate_after(100)),
        ),
    ])
}

#[test]
fn skip_is_the_default_and_leaves_the_file_alone_without_a_request() {
    let s = server();
    for explicit in [false, true] {
        let ws = Workspace::new();
        ws.write_out("a.txt", MINE);
        let mut cmd = ws.fetch();
        cmd.arg("--json");
        if explicit {
            cmd.args(["--on-exist", "skip"]);
        }
        let run = ws.run(cmd.arg(s.url("/a.txt")));
        run.code(0);
        let summary = run.summary();
        let f = summary.file("a.txt");
        assert_eq!(f.status, Status::Skipped, "{}", run.report());
        assert_eq!(f.bytes, MINE.len() as u64);
        assert_eq!(f.attempts, 0);
        assert_eq!(f.error, None);
        assert_eq!(summary.stats.skipped, 1);
        assert_eq!(
            summary.stats.bytes, 0,
            "skipped bytes are not downloaded bytes"
        );
        assert!(summary.ok);
        assert_eq!(ws.read_out_string("a.txt"), MINE);
        assert_eq!(ws.out_files(), ["a.txt"]);
    }
    assert_eq!(s.total_hits(), 0);
}

#[test]
fn skip_verifies_an_existing_file_against_a_matching_checksum() {
    let s = server();
    let ws = Workspace::new();
    ws.write_out("fox.txt", SAMPLE);
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{SAMPLE_SHA256}\"\n",
            s.url("/fox.txt")
        ),
    );
    let run = ws.run(ws.fetch().args(["--json", "--progress", "plain", "m.toml"]));
    run.code(0).stderr_has("skip    fox.txt");
    let summary = run.summary();
    let f = summary.file("fox.txt");
    assert_eq!(f.status, Status::Skipped);
    assert_eq!(f.sha256.as_deref(), Some(SAMPLE_SHA256));
    assert_eq!(s.total_hits(), 0);
}

#[test]
fn skip_with_a_mismatching_checksum_fails_and_leaves_the_file_untouched() {
    let s = server();
    let ws = Workspace::new();
    ws.write_out("fox.txt", MINE);
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{SAMPLE_SHA256}\"\n",
            s.url("/fox.txt")
        ),
    );
    let run = ws.run(ws.fetch().args(["--json", "m.toml"]));
    run.code(1);
    let summary = run.summary();
    let f = summary.file("fox.txt");
    assert_eq!(f.status, Status::Failed);
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.kind, "checksum", "{}", run.report());
    assert!(
        !e.retryable,
        "re-running alone cannot fix a wrong existing file"
    );
    assert_eq!(ws.read_out_string("fox.txt"), MINE);
    assert_eq!(ws.out_files(), ["fox.txt"]);
    assert_eq!(s.total_hits(), 0);
}

#[test]
fn overwrite_replaces_the_file_with_the_verified_download() {
    let s = server();
    let ws = Workspace::new();
    ws.write_out("a.txt", MINE);
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--on-exist", "overwrite"])
            .arg(s.url("/a.txt")),
    );
    run.code(0);
    assert_eq!(run.summary().file("a.txt").status, Status::Completed);
    assert_eq!(ws.read_out_string("a.txt"), "fresh from the server");
    assert_eq!(ws.out_files(), ["a.txt"]);
}

#[test]
fn overwrite_keeps_the_old_file_when_the_download_fails() {
    let s = server();
    let ws = Workspace::new();
    ws.write_out("a.txt", MINE);
    ws.write_out("missing.txt", MINE);
    ws.write_out("cut.txt", MINE);
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{SAMPLE_SHA256}\"\n\n[[file]]\nurl = \"{}\"\n\n[[file]]\nurl = \"{}\"\n",
            s.url("/a.txt"),
            s.url("/missing.txt"),
            s.url("/cut.txt"),
        ),
    );
    let run = ws.run(ws.fetch().args([
        "--json",
        "--on-exist",
        "overwrite",
        "--retries",
        "1",
        "m.toml",
    ]));
    run.code(1);
    let summary = run.summary();
    assert_eq!(summary.stats.failed, 3, "{}", run.report());
    assert_eq!(
        summary.file("a.txt").error.as_ref().unwrap().kind,
        "checksum"
    );
    assert_eq!(
        summary.file("missing.txt").error.as_ref().unwrap().kind,
        "http_status"
    );
    assert_eq!(
        summary.file("cut.txt").error.as_ref().unwrap().kind,
        "network"
    );
    for name in ["a.txt", "missing.txt", "cut.txt"] {
        assert_eq!(
            ws.read_out_string(name),
            MINE,
            "{name} untouched\n{}",
            run.report()
        );
    }
    assert_eq!(
        ws.out_files(),
        ["a.txt", "cut.txt", "missing.txt"],
        "no .part left"
    );
}

#[test]
fn rename_saves_the_new_file_under_the_next_free_number() {
    let s = server();
    let ws = Workspace::new();
    ws.write_out("a.txt", MINE);
    ws.write_out("README", MINE);
    let args = ["--json", "--on-exist", "rename"];
    let run = ws.run(
        ws.fetch()
            .args(args)
            .arg(s.url("/a.txt"))
            .arg(s.url("/README")),
    );
    run.code(0);
    let summary = run.summary();
    assert_eq!(summary.files[0].path, "a.1.txt", "{}", run.report());
    assert_eq!(summary.files[0].status, Status::Completed);
    assert_eq!(summary.files[1].path, "README.1");
    assert_eq!(ws.read_out_string("a.txt"), MINE);
    assert_eq!(ws.read_out_string("a.1.txt"), "fresh from the server");
    assert_eq!(ws.read_out_string("README.1"), "readme");

    let run = ws.run(ws.fetch().args(args).arg(s.url("/a.txt")));
    run.code(0);
    assert_eq!(run.summary().files[0].path, "a.2.txt", "{}", run.report());
    assert_eq!(
        ws.out_files(),
        ["README", "README.1", "a.1.txt", "a.2.txt", "a.txt"]
    );
    assert_eq!(ws.read_out_string("a.txt"), MINE);
}

#[test]
fn rename_without_a_conflict_keeps_the_planned_name() {
    let s = server();
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--on-exist", "rename"])
            .arg(s.url("/a.txt")),
    );
    run.code(0);
    assert_eq!(run.summary().files[0].path, "a.txt");
    assert_eq!(ws.out_files(), ["a.txt"]);
}

#[test]
fn rename_with_a_failed_download_creates_nothing() {
    let s = server();
    let ws = Workspace::new();
    ws.write_out("cut.txt", MINE);
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--on-exist", "rename", "--retries", "0"])
            .arg(s.url("/cut.txt")),
    );
    run.code(1);
    assert_eq!(ws.out_files(), ["cut.txt"], "{}", run.report());
    assert_eq!(ws.read_out_string("cut.txt"), MINE);
}

#[test]
fn fail_reports_exists_without_a_request_and_leaves_the_file() {
    let s = server();
    let ws = Workspace::new();
    ws.write_out("a.txt", MINE);
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--on-exist", "fail"])
            .arg(s.url("/a.txt"))
            .arg(s.url("/fox.txt")),
    );
    run.code(1);
    let summary = run.summary();
    let f = summary.file("a.txt");
    assert_eq!(f.status, Status::Failed);
    let e = f.error.as_ref().unwrap();
    assert_eq!(e.kind, "exists", "{}", run.report());
    assert!(!e.retryable);
    assert_eq!(f.attempts, 0);
    assert_eq!(summary.file("fox.txt").status, Status::Completed);
    assert_eq!(ws.read_out_string("a.txt"), MINE);
    assert_eq!(s.hits("/a.txt"), 0);
}

#[test]
fn an_existing_directory_under_the_name_is_never_replaced() {
    let s = server();
    for mode in ["skip", "overwrite", "update", "rename", "fail"] {
        let ws = Workspace::new();
        ws.write_out("a.txt/inside", MINE);
        let run = ws.run(
            ws.fetch()
                .args(["--json", "--on-exist", mode])
                .arg(s.url("/a.txt")),
        );
        run.check(
            matches!(run.code, Some(0 | 1)),
            format_args!("{mode}: an ordinary outcome, not a crash"),
        );
        assert_eq!(
            ws.read_out_string("a.txt/inside"),
            MINE,
            "{mode}\n{}",
            run.report()
        );
    }
}
