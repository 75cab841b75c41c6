//! Two `dl` runs sharing a directory (SPEC §4, issue 29): a file another run is downloading
//! is left to it (the advisory lock on its `.part`), this run waits and reports what it found
//! (the other run finished it: `skipped`), and a run killed with SIGKILL while it holds a file
//! releases it (the kernel drops the lock) for the next run to resume.
#![cfg(unix)]

use crate::support::server::{FaultServer, Reply, Route};
use crate::support::{OUT, Workspace, body, dl_std, wait_until};
use std::process::{Child, Stdio};
use std::time::Duration;

const MIB: usize = 1 << 20;

/// `big.bin`, sent slowly enough (about 5 MiB/s) for another process to meet it mid-way.
fn slow_server(data: &[u8]) -> FaultServer {
    FaultServer::start([(
        "/big.bin",
        Route::always(
            Reply::ok(data)
                .etag("v1")
                .honour_range()
                .trickle(64 << 10, Duration::from_millis(12)),
        ),
    )])
}

fn start(ws: &Workspace, server: &FaultServer) -> Child {
    dl_std(ws)
        .args(["fetch", "--json", "--progress", "none", "--dir", OUT])
        .arg(server.url("/big.bin"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dl")
}

/// Waits until the first run has written `at_least` bytes of the part.
fn part_has(ws: &Workspace, at_least: u64) -> bool {
    let part = ws.out().join("big.bin.part");
    wait_until(Duration::from_secs(20), || {
        std::fs::metadata(&part).is_ok_and(|m| m.len() >= at_least)
    })
}

#[test]
fn a_second_run_leaves_the_file_to_the_first_and_reports_it_skipped() {
    let data = body(6 * MIB, 11);
    let server = slow_server(&data);
    let ws = Workspace::new();
    let first = start(&ws, &server);
    assert!(
        part_has(&ws, MIB as u64),
        "the first run is writing its part"
    );
    let second = start(&ws, &server).wait_with_output().expect("second run");
    let first = first.wait_with_output().expect("first run");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(0), "{stderr}\n{stdout}");
    assert!(stderr.contains("another dl is downloading it"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(
        summary["files"][0]["status"], "skipped",
        "the second run found the first's file: {summary}"
    );
    assert!(ws.read_out("big.bin") == data, "byte-exact");
    assert_eq!(ws.out_files(), ["big.bin"], "no part or metadata left");
}

#[test]
fn a_run_killed_while_it_holds_a_file_lets_the_next_run_resume_it() {
    let data = body(6 * MIB, 12);
    let server = slow_server(&data);
    let ws = Workspace::new();
    let mut first = start(&ws, &server);
    assert!(part_has(&ws, 2 * MIB as u64), "the first run got going");
    assert!(
        ws.out().join("big.bin.part.meta").exists(),
        "with resume metadata"
    );
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    let second = start(&ws, &server).wait_with_output().expect("second run");
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(ws.read_out("big.bin") == data, "byte-exact");
    let resumed = server
        .requests_to("/big.bin")
        .iter()
        .any(|r| r.header("range").is_some_and(|v| v != "bytes=0-"));
    assert!(resumed, "the second run continued what the first left");
    assert_eq!(ws.out_files(), ["big.bin"], "no part or metadata left");
}
