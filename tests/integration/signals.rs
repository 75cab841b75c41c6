//! Signals (SPEC §7): SIGTERM or a second SIGINT stop now (exit 143 / 130, summary still
//! printed, `.part` kept); a first SIGINT starts nothing new but lets running files finish.

use crate::support::{
    FaultServer, OUT, Reply, Route, Status, Summary, Workspace, body, dl_std, wait_until,
};
use std::process::{Child, Stdio};
use std::time::Duration;

fn send(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} failed");
}

struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn summary(&self) -> Summary {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not the JSON summary ({e})\nexit {:?}\n--- stdout\n{}\n--- stderr\n{}",
                self.code, self.stdout, self.stderr
            )
        })
    }
}

fn finish(child: Child) -> Finished {
    let out = child.wait_with_output().expect("wait for dl");
    Finished {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A server whose `/stall.bin` sends headers and some bytes, then nothing.
fn stalling_server() -> FaultServer {
    FaultServer::start([
        (
            "/stall.bin",
            Route::always(Reply::ok(body(100_000, 31)).stall_after(10_000)),
        ),
        ("/next.bin", Route::always(Reply::ok("next"))),
    ])
}

fn spawn(ws: &Workspace, s: &FaultServer, extra: &[&str]) -> Child {
    dl_std(ws)
        .args([
            "fetch",
            "--json",
            "--progress",
            "plain",
            "--workers",
            "1",
            "--dir",
            OUT,
        ])
        .args(extra)
        .arg(s.url("/stall.bin"))
        .arg(s.url("/next.bin"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dl")
}

#[test]
fn sigterm_stops_now_exits_143_prints_the_summary_and_keeps_the_part() {
    let s = stalling_server();
    let ws = Workspace::new();
    let child = spawn(&ws, &s, &["--read-timeout", "30s"]);
    assert!(
        wait_until(Duration::from_secs(20), || s.hits("/stall.bin") == 1
            && ws.out().join("stall.bin.part").exists()),
        "dl started the download"
    );
    send(&child, "TERM");
    let done = finish(child);
    assert_eq!(done.code, Some(143), "{}", done.stderr);
    let summary = done.summary();
    assert_eq!(summary.stats.cancelled, 2, "{summary:#?}");
    assert!(!summary.ok);
    assert!(summary.files.iter().all(|f| f.status == Status::Cancelled));
    assert_eq!(summary.files[0].error.as_ref().unwrap().kind, "cancelled");
    assert!(summary.files[0].error.as_ref().unwrap().retryable);
    assert_eq!(s.hits("/next.bin"), 0, "nothing new starts");
    assert!(
        ws.out().join("stall.bin.part").exists(),
        "the .part is kept"
    );
    assert!(!ws.out().join("stall.bin").exists());
}

#[test]
fn two_sigints_stop_now_with_exit_130() {
    let s = stalling_server();
    let ws = Workspace::new();
    let child = spawn(&ws, &s, &["--read-timeout", "30s"]);
    assert!(wait_until(Duration::from_secs(20), || s.hits("/stall.bin") == 1));
    send(&child, "INT");
    std::thread::sleep(Duration::from_millis(50));
    send(&child, "INT");
    let done = finish(child);
    assert_eq!(done.code, Some(130), "{}", done.stderr);
    let summary = done.summary();
    assert_eq!(summary.stats.cancelled, 2, "{summary:#?}");
    assert_eq!(s.hits("/next.bin"), 0);
}

#[test]
fn one_sigint_lets_the_running_file_finish_and_starts_nothing_new() {
    let s = stalling_server();
    let ws = Workspace::new();
    let child = spawn(&ws, &s, &["--read-timeout", "400ms", "--retries", "0"]);
    assert!(wait_until(Duration::from_secs(20), || s.hits("/stall.bin") == 1));
    send(&child, "INT");
    let done = finish(child);
    assert_eq!(done.code, Some(130), "{}", done.stderr);
    let summary = done.summary();
    assert_eq!(summary.files[0].status, Status::Failed, "{summary:#?}");
    assert_eq!(summary.files[0].error.as_ref().unwrap().kind, "timeout");
    assert_eq!(summary.files[1].status, Status::Cancelled);
    assert_eq!(
        s.hits("/next.bin"),
        0,
        "nothing new starts after the first SIGINT"
    );
    assert!(done.stderr.contains("interrupted"), "{}", done.stderr);
}
