//! Every check a body passes holds the same with and without `--split` (issue 26): one matrix
//! in which each check runs in both modes against the same ranged file. `--split 4` on a
//! 16 MiB file with `Accept-Ranges` and an ETag is split; `--split 1` never is.

use crate::support::server::{FaultServer, Reply, Route};
use crate::support::{MIB, Run, Workspace, body, progress_of, ranged, sha256_hex};
use std::time::{Duration, Instant};

/// The two ways one file is fetched: whole over one connection, or in pieces over four.
const MODES: [&str; 2] = ["1", "4"];

/// Runs `dl fetch --json --split MODE ARGS... URL/big.bin` against `reply` and returns the
/// workspace, the run and the number of range requests the server saw.
fn fetch(mode: &str, reply: Reply, args: &[&str]) -> (Workspace, Run, usize) {
    let server = FaultServer::start([("/big.bin", Route::always(reply))]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "0", "--split", mode])
            .args(args)
            .arg(server.url("/big.bin")),
    );
    let ranges = server
        .requests_to("/big.bin")
        .iter()
        .filter(|r| r.header("range").is_some())
        .count();
    (ws, run, ranges)
}

/// The file failed with `kind`, and its message holds `says`.
fn failed_with(run: &Run, mode: &str, kind: &str, says: &str) {
    run.code(1);
    let summary = run.summary();
    let error = summary.file("big.bin").error.as_ref();
    run.check(
        error.is_some_and(|e| e.kind == kind && e.message.contains(says)),
        format!("--split {mode}: failed with {kind} saying {says:?}: {error:?}"),
    );
}

#[test]
fn max_size_refuses_a_large_file_before_its_body_in_both_modes() {
    let data = body(16 * MIB, 1);
    for mode in MODES {
        let (ws, run, ranges) = fetch(mode, ranged(&data), &["--max-size", "1M"]);
        failed_with(&run, mode, "too_large", "--max-size");
        run.check(
            ranges == 0,
            format!("--split {mode}: no piece was asked for"),
        );
        run.check(
            ws.out_files().is_empty(),
            format!("--split {mode}: nothing left on disk"),
        );
    }
}

#[test]
fn max_size_stops_a_body_of_unknown_length_in_both_modes() {
    // Without a length nothing can be split: both modes read one stream and stop at the cap.
    let data = body(4 * MIB, 2);
    for mode in MODES {
        let reply = ranged(&data).close_delimited();
        let (ws, run, _) = fetch(mode, reply, &["--max-size", "1M"]);
        failed_with(&run, mode, "too_large", "--max-size");
        run.check(ws.out_files().is_empty(), "nothing left on disk");
    }
}

#[test]
fn min_speed_abandons_a_slow_transfer_in_both_modes() {
    let data = body(16 * MIB, 3);
    for mode in MODES {
        // About 640 KiB/s on every connection, far under 16 MiB/s even with four of them.
        let reply = ranged(&data).trickle(64 << 10, Duration::from_millis(100));
        let args = ["--min-speed", "16M", "--min-speed-time", "300ms"];
        let (_ws, run, ranges) = fetch(mode, reply, &args);
        failed_with(&run, mode, "timeout", "--min-speed");
        if mode != "1" {
            run.check(ranges > 0, "the split mode did split");
        }
    }
}

#[test]
fn read_timeout_abandons_a_silent_server_in_both_modes() {
    let data = body(16 * MIB, 4);
    for mode in MODES {
        let reply = ranged(&data).stall_after(256 << 10);
        let (_ws, run, ranges) = fetch(mode, reply, &["--read-timeout", "300ms"]);
        failed_with(&run, mode, "timeout", "no data for 300ms");
        if mode != "1" {
            run.check(ranges > 0, "the split mode did split");
        }
    }
}

#[test]
fn limit_rate_holds_in_both_modes() {
    // 8 MiB at 16 MiB/s: at least about half a second (less the bucket's first burst),
    // whether one connection or several share the budget.
    let data = body(8 * MIB, 5);
    for mode in MODES {
        let start = Instant::now();
        let (ws, run, ranges) = fetch(mode, ranged(&data), &["--limit-rate", "16M"]);
        let took = start.elapsed();
        run.code(0);
        run.check(ws.read_out("big.bin") == data, "byte-exact");
        run.check(
            took >= Duration::from_millis(400),
            format!("--split {mode}: 8 MiB at 16 MiB/s took only {took:?}"),
        );
        if mode != "1" {
            run.check(ranges > 0, "the split mode did split");
        }
    }
}

#[test]
fn checksums_are_verified_in_both_modes() {
    let data = body(16 * MIB, 6);
    let server = FaultServer::start([("/big.bin", Route::always(ranged(&data)))]);
    for mode in MODES {
        for (digest, code) in [(sha256_hex(&data), 0), ("0".repeat(64), 1)] {
            let ws = Workspace::new();
            let manifest = ws.write(
                "m.toml",
                format!(
                    "[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{digest}\"\n",
                    server.url("/big.bin")
                ),
            );
            let run = ws.run(
                ws.fetch()
                    .args(["--json", "--retries", "0", "--split", mode])
                    .arg(&manifest),
            );
            run.code(code);
            if code == 0 {
                run.check(ws.read_out("big.bin") == data, "byte-exact");
            } else {
                failed_with(&run, mode, "checksum", "");
                run.check(ws.out_files().is_empty(), "a mismatch leaves nothing");
            }
        }
    }
}

#[test]
fn progress_counts_every_byte_in_both_modes() {
    let data = body(16 * MIB, 7);
    for mode in MODES {
        let (_ws, run, _) = fetch(mode, ranged(&data), &["--progress", "ndjson"]);
        run.code(0);
        let progress = progress_of(&run.events());
        let len = data.len() as u64;
        run.check(
            progress.last() == Some(&(len, Some(len))),
            format!("--split {mode}: the last progress is the whole file: {progress:?}"),
        );
        run.check(
            progress.windows(2).all(|w| w[0].0 <= w[1].0),
            format!("--split {mode}: progress never goes back"),
        );
    }
}
