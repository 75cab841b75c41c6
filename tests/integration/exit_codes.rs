//! Exit codes (0 all done, 1 some failed, 2 usage/input), a closed stdout pipe, and `--shard`
//! slices that together cover the input exactly once.

use crate::support::{FaultServer, OUT, Reply, Route, Workspace, dl_std};
use std::collections::BTreeSet;
use std::process::Stdio;

fn server() -> FaultServer {
    FaultServer::start([
        ("/ok.txt", Route::always(Reply::ok("ok"))),
        ("/missing.txt", Route::always(Reply::status(404))),
    ])
}

#[test]
fn zero_when_everything_completed_or_was_skipped() {
    let s = server();
    let ws = Workspace::new();
    ws.run(ws.fetch().arg(s.url("/ok.txt"))).code(0);
    ws.run(ws.fetch().arg(s.url("/ok.txt"))).code(0); // skipped the second time
    assert_eq!(s.hits("/ok.txt"), 1);
}

#[test]
fn one_when_any_file_failed() {
    let s = server();
    let ws = Workspace::new();
    ws.run(ws.fetch().arg(s.url("/ok.txt")).arg(s.url("/missing.txt")))
        .code(1);
    assert_eq!(ws.read_out_string("ok.txt"), "ok");
}

#[test]
fn two_for_usage_and_input_errors() {
    let ws = Workspace::new();
    ws.run(ws.fetch().arg("ftp://127.0.0.1/x")).code(2);
    ws.run(ws.fetch().arg("missing-list.txt")).code(2);
    ws.run(ws.dl().args(["fetch", "--bogus", "http://127.0.0.1:9/x"]))
        .code(2);
    assert!(!ws.out().exists());
}

#[test]
fn two_when_the_download_dir_cannot_be_created() {
    let s = server();
    let ws = Workspace::new();
    ws.write("a-file", "not a directory");
    let run = ws.run(
        ws.dl()
            .args(["fetch", "--dir", "a-file/sub"])
            .arg(s.url("/ok.txt")),
    );
    run.code(2).stdout_empty().stderr_has("a-file");
    assert_eq!(s.total_hits(), 0);
}

/// Runs dl with stdout piped and the read end closed at once: writing the summary hits a
/// broken pipe, which must not turn into a panic (101) or a signal death.
fn run_with_closed_stdout(ws: &Workspace, args: &[String]) -> std::process::ExitStatus {
    let mut child = dl_std(ws)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dl");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait for dl");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "dl panicked: {stderr}");
    // The reader that closed the pipe wanted no more: nothing to tell anyone.
    assert!(
        !stderr.contains("error"),
        "a closed pipe is not an error: {stderr}"
    );
    output.status
}

/// Issue 28: stdout on a full disk. The files are on disk, so the exit code stays the one the
/// downloads earned (0 or 1, never 2), and stderr says the summary was lost.
#[cfg(target_os = "linux")]
#[test]
fn a_summary_that_cannot_be_written_is_reported_and_keeps_the_earned_exit_code() {
    let s = server();
    for json in [false, true] {
        for (paths, code) in [(&["/ok.txt"][..], 0), (&["/ok.txt", "/missing.txt"][..], 1)] {
            let ws = Workspace::new();
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("open /dev/full");
            let mut cmd = dl_std(&ws);
            cmd.args(["fetch", "--dir", OUT, "--progress", "none"]);
            if json {
                cmd.arg("--json");
            }
            let output = cmd
                .args(paths.iter().map(|p| s.url(p)))
                .stdout(full)
                .output()
                .expect("run dl");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(code), "json={json}: {stderr}");
            assert!(
                stderr.contains("dl: error: cannot write the summary to stdout: ")
                    && stderr.contains("No space left on device"),
                "json={json}: {stderr}"
            );
            assert_eq!(ws.read_out_string("ok.txt"), "ok");
        }
    }
}

#[test]
fn a_closed_stdout_is_not_a_crash_and_keeps_the_earned_exit_code() {
    let s = server();
    let args = |json: bool, urls: &[&str]| {
        let mut v: Vec<String> = ["fetch", "--dir", OUT, "--progress", "none"]
            .map(String::from)
            .to_vec();
        if json {
            v.push("--json".into());
        }
        v.extend(urls.iter().map(|u| s.url(u)));
        v
    };
    for json in [false, true] {
        let ws = Workspace::new();
        let status = run_with_closed_stdout(&ws, &args(json, &["/ok.txt"]));
        assert_eq!(status.code(), Some(0), "json={json}: {status:?}");
        assert_eq!(ws.read_out_string("ok.txt"), "ok");

        let ws = Workspace::new();
        let status = run_with_closed_stdout(&ws, &args(json, &["/ok.txt", "/missing.txt"]));
        assert_eq!(status.code(), Some(1), "json={json}: {status:?}");
    }
    let ws = Workspace::new();
    let status =
        run_with_closed_stdout(&ws, &["fetch".into(), "--dry-run".into(), s.url("/ok.txt")]);
    assert_eq!(status.code(), Some(0), "dry-run: {status:?}");
    let status = run_with_closed_stdout(&ws, &["completions".into(), "bash".into()]);
    assert_eq!(status.code(), Some(0), "completions: {status:?}");
}

#[test]
fn shards_partition_the_input_and_together_fetch_everything_once() {
    let n_files = 30;
    let paths: Vec<String> = (0..n_files).map(|i| format!("/part-{i}.bin")).collect();
    let s = FaultServer::start(
        paths
            .iter()
            .map(|p| (p.as_str(), Route::always(Reply::ok(p.as_bytes())))),
    );
    let ws = Workspace::new();
    ws.write(
        "urls.txt",
        paths.iter().map(|p| s.url(p) + "\n").collect::<String>(),
    );
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let dir = format!("shard{k}");
        let run = ws.run(ws.dl().args([
            "fetch",
            "--json",
            "--progress",
            "none",
            "--dir",
            &dir,
            "--shard",
            &shard,
            "urls.txt",
        ]));
        run.code(0);
        let summary = run.summary();
        run.check(
            !summary.files.is_empty() && summary.files.len() < n_files,
            "each of 3 shards of 30 files takes some, not all",
        );
        for f in &summary.files {
            total += 1;
            run.check(
                seen.insert(f.path.clone()),
                format_args!("{} in two shards", f.path),
            );
        }
        // The same slice again picks the same files (deterministic).
        let again = ws.run(ws.dl().args([
            "fetch",
            "--dry-run",
            "--json",
            "--shard",
            &shard,
            "urls.txt",
        ]));
        again.code(0);
        let plan: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
        let planned: BTreeSet<String> = plan["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        let fetched: BTreeSet<String> = summary.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(planned, fetched, "shard {shard} is deterministic");
    }
    assert_eq!(total, n_files);
    assert_eq!(seen.len(), n_files);
    for p in &paths {
        assert_eq!(s.hits(p), 1, "{p} fetched exactly once across shards");
    }
}
