//! Resume (SPEC §4): a `.part` worth keeping is continued with `Range` + `If-Range`, within a
//! run (the next attempt) and across runs (the same command again); a server that ignores
//! `Range` or a resource that changed restarts from zero, never splicing two versions.

#[cfg(target_os = "linux")]
use crate::support::run_on_small_tmpfs;
use crate::support::{
    FaultServer, MIB, OUT, Reply, Route, Status, Workspace, body, dl_std, sha256_hex, wait_until,
};
use std::time::Duration;

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

    ws.fetch_whole(&s.url("/big.bin"), "big.bin", &data);
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
    ws.fetch_whole(&s.url("/big.bin"), "big.bin", &data);
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
    let second = ws.fetch_whole(&s.url("/big.bin"), "big.bin", &v2);
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

// ---- Issue 4: nothing lost ----

/// The resume metadata dl keeps beside `NAME.part`, written by hand (format of version 1).
fn write_meta(ws: &Workspace, name: &str, url: &str, etag: Option<&str>, total: usize) {
    let meta = serde_json::json!({
        "version": 1,
        "url": url,
        "etag": etag.map(|t| format!("\"{t}\"")),
        "last_modified": null,
        "total": total,
    });
    ws.write_out(&format!("{name}.part.meta"), meta.to_string());
}

#[test]
fn a_reset_at_half_resumes_with_range_and_if_range_and_ends_byte_exact() {
    let data = body(BIG, 40);
    let s = FaultServer::start([(
        "/big.bin",
        Route::script(vec![
            Reply::ok(&data)
                .etag("v1")
                .honour_range()
                .reset_after(BIG / 2),
            Reply::ok(&data).etag("v1").honour_range(),
        ]),
    )]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg("--json").arg(s.url("/big.bin")));
    run.code(0);
    let summary = run.summary();
    let f = summary.file("big.bin");
    assert_eq!(f.status, Status::Completed, "{}", run.report());
    assert_eq!(f.attempts, 2, "{}", run.report());
    assert_eq!(f.bytes, BIG as u64);
    assert_eq!(
        f.sha256.as_deref(),
        Some(&*sha256_hex(&data)),
        "the sha256 covers the resumed prefix too"
    );
    assert!(
        ws.read_out("big.bin") == data,
        "byte-exact\n{}",
        run.report()
    );
    assert_eq!(ws.out_files(), ["big.bin"], "no .part, no .part.meta left");

    let reqs = s.requests_to("/big.bin");
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("range"), None);
    let offset = range_start(reqs[1].header("range"))
        .unwrap_or_else(|| run.fail(format_args!("the retry resumes: {:?}", reqs[1])));
    assert!(offset > 0 && offset <= (BIG / 2) as u64, "offset {offset}");
    assert_eq!(reqs[1].header("if-range"), Some("\"v1\""));
    assert_eq!(
        s.body_bytes(&reqs[1]),
        BIG as u64 - offset,
        "only the missing bytes are fetched again"
    );
}

#[test]
fn a_last_modified_validator_is_enough_to_resume() {
    let data = body(BIG, 41);
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    let s = FaultServer::start([(
        "/dated.bin",
        Route::script(vec![
            Reply::ok(&data)
                .last_modified(date)
                .honour_range()
                .truncate_after(CUT),
            Reply::ok(&data).last_modified(date).honour_range(),
        ]),
    )]);
    let ws = Workspace::new();
    ws.fetch_whole(&s.url("/dated.bin"), "dated.bin", &data);
    let reqs = s.requests_to("/dated.bin");
    assert_eq!(reqs.len(), 2);
    assert!(range_start(reqs[1].header("range")).is_some_and(|o| o > 0));
    assert_eq!(reqs[1].header("if-range"), Some(date));
    assert!(s.body_bytes(&reqs[1]) < BIG as u64);
}

#[test]
fn a_rerun_against_a_server_that_ignores_range_gets_the_exact_file_without_a_doubled_prefix() {
    let data = body(BIG, 42);
    let s = FaultServer::start([(
        "/big.bin",
        Route::script(vec![
            Reply::ok(&data)
                .etag("v1")
                .honour_range()
                .truncate_after(CUT),
            Reply::ok(&data).etag("v1"), // Range ignored: 200 with the whole file
        ]),
    )]);
    let ws = Workspace::new();
    let first = ws.run(ws.fetch().args(["--retries", "0"]).arg(s.url("/big.bin")));
    first.code(1);
    first.check(
        ws.out().join("big.bin.part.meta").exists(),
        "setup: a resumable part",
    );
    let second = ws.run(ws.fetch().arg("--json").arg(s.url("/big.bin")));
    second.code(0);
    let got = ws.read_out("big.bin");
    assert_eq!(got.len(), BIG, "no duplicated prefix\n{}", second.report());
    assert!(got == data, "exact\n{}", second.report());
    assert_eq!(
        second.summary().file("big.bin").sha256.as_deref(),
        Some(&*sha256_hex(&data))
    );
    let reqs = s.requests_to("/big.bin");
    assert!(
        range_start(reqs[1].header("range")).is_some(),
        "dl asked to resume"
    );
    assert_eq!(ws.out_files(), ["big.bin"]);
}

#[test]
fn a_resource_that_changed_between_attempts_ends_as_exactly_the_new_content() {
    // v2 is shorter than what the part already holds of v1: the restart must truncate it.
    let v1 = body(BIG, 43);
    let v2 = body(MIB + MIB / 2, 44);
    let s = FaultServer::start([(
        "/moving.bin",
        Route::script(vec![
            Reply::ok(&v1).etag("v1").honour_range().reset_after(CUT),
            Reply::ok(&v2).etag("v2").honour_range(),
        ]),
    )]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg("--json").arg(s.url("/moving.bin")));
    run.code(0);
    let summary = run.summary();
    let f = summary.file("moving.bin");
    assert_eq!(f.attempts, 2, "{}", run.report());
    assert_eq!(f.bytes, v2.len() as u64);
    assert_eq!(f.sha256.as_deref(), Some(&*sha256_hex(&v2)));
    assert!(
        ws.read_out("moving.bin") == v2,
        "exactly v2\n{}",
        run.report()
    );
    let reqs = s.requests_to("/moving.bin");
    assert_eq!(
        reqs[1].header("if-range"),
        Some("\"v1\""),
        "the resume was guarded"
    );
}

#[test]
fn a_416_on_a_complete_part_completes_from_disk_without_refetching() {
    let data = body(2 * MIB, 45);
    let s = FaultServer::start([(
        "/done.bin",
        Route::always(Reply::ok(&data).etag("v1").honour_range()),
    )]);
    let ws = Workspace::new();
    let url = s.url("/done.bin");
    ws.write_out("done.bin.part", &data);
    write_meta(&ws, "done.bin", &url, Some("v1"), data.len());
    let run = ws.run(ws.fetch().arg("--json").arg(&url));
    run.code(0);
    let summary = run.summary();
    let f = summary.file("done.bin");
    assert_eq!(f.status, Status::Completed, "{}", run.report());
    assert_eq!(f.bytes, data.len() as u64);
    assert_eq!(f.sha256.as_deref(), Some(&*sha256_hex(&data)));
    assert!(ws.read_out("done.bin") == data);
    assert_eq!(ws.out_files(), ["done.bin"], "{}", run.report());
    let reqs = s.requests_to("/done.bin");
    assert_eq!(reqs.len(), 1, "{}", run.report());
    assert_eq!(
        range_start(reqs[0].header("range")),
        Some(data.len() as u64)
    );
    assert_eq!(reqs[0].header("if-range"), Some("\"v1\""));
    assert_eq!(s.body_bytes_to("/done.bin"), 0, "zero body bytes re-sent");
}

#[test]
fn a_416_on_a_complete_part_is_verified_against_the_manifest_checksum() {
    let data = body(2 * MIB, 46);
    let s = FaultServer::start([
        (
            "/good.bin",
            Route::always(Reply::ok(&data).etag("v1").honour_range()),
        ),
        (
            "/bad.bin",
            Route::always(Reply::ok(&data).etag("v1").honour_range()),
        ),
    ]);
    let ws = Workspace::new();
    let sum = sha256_hex(&data);
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{sum}\"\n\n[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{sum}\"\n",
            s.url("/good.bin"),
            s.url("/bad.bin")
        ),
    );
    ws.write_out("good.bin.part", &data);
    write_meta(&ws, "good.bin", &s.url("/good.bin"), Some("v1"), data.len());
    // Same length, one byte wrong: the 416 says "complete", the checksum says otherwise.
    let mut corrupt = data.clone();
    corrupt[MIB] ^= 0xff;
    ws.write_out("bad.bin.part", &corrupt);
    write_meta(&ws, "bad.bin", &s.url("/bad.bin"), Some("v1"), data.len());

    let run = ws.run(ws.fetch().args(["--json", "m.toml"]));
    run.code(1);
    let summary = run.summary();
    assert_eq!(summary.file("good.bin").status, Status::Completed);
    assert!(ws.read_out("good.bin") == data);
    let bad = summary.file("bad.bin");
    assert_eq!(bad.status, Status::Failed, "{}", run.report());
    assert_eq!(bad.error.as_ref().unwrap().kind, "checksum");
    assert!(
        !ws.out().join("bad.bin").exists(),
        "a corrupt part never lands under the final name"
    );
    assert_eq!(s.body_bytes_to("/good.bin"), 0);

    // The bad part is not kept: the same command again downloads it whole and verifies it.
    let again = ws.run(ws.fetch().args(["--json", "m.toml"]));
    again.code(0);
    assert!(ws.read_out("bad.bin") == data, "{}", again.report());
}

#[test]
fn a_416_naming_another_version_restarts_from_zero() {
    let v1 = body(2 * MIB, 47);
    let v2 = body(2 * MIB + 10, 48);
    let len = v1.len();
    let v2_for_route = v2.clone();
    let s = FaultServer::start([(
        "/x.bin",
        Route::func(move |req, _| {
            if req.header("range").is_some() {
                Reply::status(416)
                    .header("Content-Range", &format!("bytes */{len}"))
                    .etag("v2")
            } else {
                Reply::ok(&v2_for_route).etag("v2")
            }
        }),
    )]);
    let ws = Workspace::new();
    ws.write_out("x.bin.part", &v1);
    write_meta(&ws, "x.bin", &s.url("/x.bin"), Some("v1"), len);
    ws.fetch_whole(&s.url("/x.bin"), "x.bin", &v2);
    assert_eq!(s.hits("/x.bin"), 2);
}

#[test]
fn kill_9_mid_download_then_the_same_command_fetches_only_the_rest() {
    let total = 4 * MIB;
    let data = body(total, 49);
    let s = FaultServer::start([(
        "/big.bin",
        Route::script(vec![
            Reply::ok(&data)
                .etag("v1")
                .honour_range()
                .stall_after(3 * MIB),
            Reply::ok(&data).etag("v1").honour_range(),
        ]),
    )]);
    let ws = Workspace::new();
    let part = ws.out().join("big.bin.part");
    let mut child = dl_std(&ws)
        .args([
            "fetch",
            "--dir",
            OUT,
            "--read-timeout",
            "30s",
            "--progress",
            "none",
        ])
        .arg(s.url("/big.bin"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn dl");
    let far_enough = wait_until(Duration::from_secs(20), || {
        std::fs::metadata(&part).is_ok_and(|m| m.len() >= (5 * MIB / 2) as u64)
    });
    child.kill().expect("SIGKILL dl");
    child.wait().expect("reap dl");
    assert!(
        far_enough,
        "the first run never wrote 2.5 MiB: {}",
        ws.listing()
    );
    let on_disk = std::fs::metadata(&part).expect("the .part survives").len();
    assert!(
        ws.out().join("big.bin.part.meta").exists(),
        "its metadata too: {}",
        ws.listing()
    );
    assert!(!ws.out().join("big.bin").exists());

    let run = ws.fetch_whole(&s.url("/big.bin"), "big.bin", &data);
    assert_eq!(
        run.summary().file("big.bin").sha256.as_deref(),
        Some(&*sha256_hex(&data))
    );
    assert_eq!(ws.out_files(), ["big.bin"]);
    let reqs = s.requests_to("/big.bin");
    assert_eq!(reqs.len(), 2, "{}", run.report());
    assert_eq!(
        range_start(reqs[1].header("range")),
        Some(on_disk),
        "the re-run continues from what is on disk"
    );
    let refetched = s.body_bytes(&reqs[1]);
    assert_eq!(refetched, total as u64 - on_disk);
    assert!(
        refetched < (total / 2) as u64,
        "re-fetched {refetched} of {total} bytes"
    );
}

/// Runs the same command after `setup` left bad local state for `big.bin`: it must restart
/// that file cleanly (no Range sent), warn on stderr, and end with the exact file only.
fn restarts_cleanly(warning: &str, setup: impl FnOnce(&Workspace, &str, &[u8])) {
    let data = body(2 * MIB, 50);
    let s = FaultServer::start([(
        "/big.bin",
        Route::always(Reply::ok(&data).etag("v1").honour_range()),
    )]);
    let ws = Workspace::new();
    setup(&ws, &s.url("/big.bin"), &data);
    let run = ws.fetch_whole(&s.url("/big.bin"), "big.bin", &data);
    assert_eq!(ws.out_files(), ["big.bin"], "{}", run.report());
    assert_eq!(
        run.summary().file("big.bin").sha256.as_deref(),
        Some(&*sha256_hex(&data))
    );
    let reqs = s.requests_to("/big.bin");
    assert_eq!(reqs.len(), 1, "{}", run.report());
    assert_eq!(
        reqs[0].header("range"),
        None,
        "nothing unverified is resumed"
    );
    run.stderr_has(warning);
}

#[test]
fn a_part_without_metadata_restarts_with_a_warning() {
    restarts_cleanly("no resume metadata", |ws, _, data| {
        ws.write_out("big.bin.part", &data[..MIB + MIB / 2]);
    });
}

#[test]
fn metadata_without_a_part_restarts_with_a_warning() {
    restarts_cleanly("without a .part", |ws, url, data| {
        write_meta(ws, "big.bin", url, Some("v1"), data.len());
    });
}

#[test]
fn a_part_longer_than_the_resource_restarts_with_a_warning() {
    restarts_cleanly("longer than the resource", |ws, url, data| {
        let mut longer = data.to_vec();
        longer.extend_from_slice(&[7; 1000]);
        ws.write_out("big.bin.part", longer);
        write_meta(ws, "big.bin", url, Some("v1"), data.len());
    });
}

#[test]
fn torn_metadata_restarts_with_a_warning() {
    restarts_cleanly("unreadable resume metadata", |ws, _, data| {
        ws.write_out("big.bin.part", &data[..MIB + 10]);
        ws.write_out("big.bin.part.meta", "{\"vers");
    });
}

#[test]
fn metadata_of_another_url_restarts_with_a_warning() {
    restarts_cleanly("belongs to another download", |ws, _, data| {
        ws.write_out("big.bin.part", &data[..MIB + 10]);
        write_meta(
            ws,
            "big.bin",
            "http://127.0.0.1:9/elsewhere/big.bin",
            Some("v1"),
            data.len(),
        );
    });
}

// ---- Disk full (issue 4 item 6) ----
// Made with /dev/full and tmpfs mounts in a user namespace: Linux only.

/// Three files with --workers 1: a 2 MiB `big.bin` (with an ETag, so it gets resume
/// metadata) first, then two small ones.
#[cfg(target_os = "linux")]
fn disk_full_server() -> (FaultServer, Vec<u8>) {
    let data = body(2 * MIB, 51);
    let s = FaultServer::start([
        ("/big.bin", Route::always(Reply::ok(&data).etag("v1"))),
        ("/small1.txt", Route::always(Reply::ok("one"))),
        ("/small2.txt", Route::always(Reply::ok("two"))),
    ]);
    (s, data)
}

#[cfg(target_os = "linux")]
fn disk_full_args(s: &FaultServer) -> Vec<String> {
    [
        "fetch",
        "--dir",
        OUT,
        "--retry-delay",
        "1ms",
        "--json",
        "--workers",
        "1",
        "--progress",
        "plain",
    ]
    .into_iter()
    .map(String::from)
    .chain(
        ["/big.bin", "/small1.txt", "/small2.txt"]
            .into_iter()
            .map(|p| s.url(p)),
    )
    .collect()
}

/// What a disk-full run must look like: exit 1, the file that hit it failed as "io" with its
/// path, the queued ones cancelled without a request, "cannot write to disk" said, no final
/// file.
#[cfg(target_os = "linux")]
fn assert_disk_full(run: &crate::support::Run, s: &FaultServer) {
    run.code(1);
    run.stderr_has("cannot write to disk");
    let summary = run.summary();
    let big = summary.file("big.bin");
    assert_eq!(big.status, Status::Failed, "{}", run.report());
    let e = big.error.as_ref().unwrap();
    assert_eq!(e.kind, "io", "{}", run.report());
    assert!(
        e.message.contains("big.bin.part"),
        "the message names the path: {}",
        e.message
    );
    assert_eq!(big.attempts, 1, "a full disk is not retried");
    for name in ["small1.txt", "small2.txt"] {
        assert_eq!(
            summary.file(name).status,
            Status::Cancelled,
            "{name}: no new file starts once the disk is full\n{}",
            run.report()
        );
        assert_eq!(s.hits(&format!("/{name}")), 0, "{name}");
    }
    assert_eq!(summary.stats.cancelled, 2);
}

#[cfg(target_os = "linux")]
#[test]
fn a_disk_that_fills_up_fails_the_file_as_io_stops_new_files_and_exits_1() {
    // A real 256 KiB file system (skipped where it cannot be made). The big file comes
    // without a length, so no space can be reserved for it: its writes find the disk full.
    let data = body(2 * MIB, 52);
    let s = FaultServer::start([
        (
            "/big.bin",
            Route::always(Reply::ok(&data).etag("v1").close_delimited()),
        ),
        ("/small1.txt", Route::always(Reply::ok("one"))),
        ("/small2.txt", Route::always(Reply::ok("two"))),
    ]);
    let ws = Workspace::new();
    let Some((run, held)) = run_on_small_tmpfs(&ws, "256k", &disk_full_args(&s)) else {
        return;
    };
    assert_disk_full(&run, &s);
    let names: Vec<&str> = held.iter().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(
        names,
        ["big.bin.part", "big.bin.part.meta"],
        "no final file on the full disk, and the partial download is kept for a re-run\n{}",
        run.report()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_too_big_for_the_disk_fails_at_once_and_the_smaller_ones_still_land() {
    // Its length is known, so its space is reserved first: the disk is not full, this file
    // just does not fit. It fails without a byte written or left behind, and the run goes on.
    let (s, _) = disk_full_server();
    let ws = Workspace::new();
    let Some((run, held)) = run_on_small_tmpfs(&ws, "256k", &disk_full_args(&s)) else {
        return;
    };
    run.code(1);
    let summary = run.summary();
    let big = summary.file("big.bin");
    assert_eq!(big.status, Status::Failed, "{}", run.report());
    let e = big.error.as_ref().unwrap();
    assert_eq!(e.kind, "io", "{}", run.report());
    assert!(
        e.message
            .contains("cannot reserve 2.00 MiB for dl-out/big.bin.part"),
        "{}",
        run.report()
    );
    assert_eq!(big.attempts, 1, "{}", run.report());
    assert_eq!(summary.stats.completed, 2, "{}", run.report());
    assert_eq!(held, ["small1.txt 3", "small2.txt 3"], "{}", run.report());
}
