//! Signals (SPEC §7): SIGTERM or a second SIGINT stop now (exit 143 / 130, summary still
//! printed, `.part` kept); a first SIGINT starts nothing new but lets running files finish.

use crate::support::{
    FaultServer, MIB, OUT, Reply, Route, Status, Summary, Workspace, body, dl_std, wait_until,
};
use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What `dl --progress plain` says on stderr once a first SIGINT has been taken in.
const FIRST_SIGINT_SAID: &str = "Ctrl-C again to stop now";

/// How long a signal may take to be acknowledged on stderr: generous, the machine is shared.
const ACK_LIMIT: Duration = Duration::from_secs(20);

/// A running `dl` whose stderr is collected as it comes, so a test can wait for a message.
struct Running {
    child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    reader: std::thread::JoinHandle<()>,
}

/// Sends `signal` (`INT`, `TERM`) to `child`.
fn send(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} failed");
}

impl Running {
    fn start(cmd: &mut std::process::Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dl");
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&chunk[..n]);
            }
        });
        Running {
            child,
            stderr,
            reader,
        }
    }

    /// stderr so far.
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    fn send(&self, signal: &str) {
        send(&self.child, signal);
    }

    /// Sends a first SIGINT and waits until `dl` says it took it in (a second signal sent
    /// before that could be taken for the first).
    fn first_sigint(&self) {
        self.send("INT");
        assert!(
            wait_until(ACK_LIMIT, || self.stderr().contains(FIRST_SIGINT_SAID)),
            "dl did not acknowledge the first SIGINT with {FIRST_SIGINT_SAID:?} within \
             {ACK_LIMIT:?}\n--- stderr so far\n{}",
            self.stderr()
        );
    }

    fn finish(self) -> Finished {
        let out = self.child.wait_with_output().expect("wait for dl");
        self.reader.join().expect("the stderr reader");
        let stderr = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        Finished {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
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

/// A server whose `/stall.bin` sends headers and some bytes, then nothing. The file is larger
/// than what dl keeps in memory until whole, so its `.part` is on disk while it stalls.
fn stalling_server() -> FaultServer {
    FaultServer::start([
        (
            "/stall.bin",
            Route::always(Reply::ok(body(1_500_000, 31)).stall_after(100_000)),
        ),
        ("/next.bin", Route::always(Reply::ok("next"))),
    ])
}

fn spawn(ws: &Workspace, s: &FaultServer, extra: &[&str]) -> Running {
    Running::start(
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
            .arg(s.url("/next.bin")),
    )
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
    child.send("TERM");
    let done = child.finish();
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

/// Issue 29: `--report` files are written for an interrupted run too, the cancelled files
/// as `<skipped/>` test cases and rows of the Markdown table.
#[test]
fn sigterm_still_writes_the_report_files() {
    let s = stalling_server();
    let ws = Workspace::new();
    let reports = ["--report", "junit:r.xml", "--report", "markdown:s.md"];
    let child = spawn(
        &ws,
        &s,
        &[&["--read-timeout", "30s"][..], &reports].concat(),
    );
    assert!(
        wait_until(Duration::from_secs(20), || s.hits("/stall.bin") == 1
            && ws.out().join("stall.bin.part").exists()),
        "dl started the download"
    );
    child.send("TERM");
    let done = child.finish();
    assert_eq!(done.code, Some(143), "{}", done.stderr);
    let xml = std::fs::read_to_string(ws.root().join("r.xml")).expect("r.xml written");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let skipped = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter(|n| n.children().any(|c| c.has_tag_name("skipped")))
        .count();
    assert_eq!(skipped, 2, "{xml}");
    let md = std::fs::read_to_string(ws.root().join("s.md")).expect("s.md written");
    assert!(
        md.starts_with("### dl: stopped before every file was done"),
        "{md}"
    );
    assert!(md.contains("| cancelled | stall.bin |"), "{md}");
    assert!(md.contains("| cancelled | next.bin | cancelled |"), "{md}");
}

/// A body of at most 1 MiB is restarted, never resumed, so it is received in memory: while it
/// arrives and after it is stopped, nothing of it is on disk.
#[test]
fn a_small_body_stopped_midway_leaves_nothing_on_disk() {
    // Past the old in-memory limit (256 KiB), within the resume threshold (1 MiB).
    let s = FaultServer::start([(
        "/small.bin",
        Route::always(Reply::ok(body(900_000, 8)).trickle(16_384, Duration::from_millis(50))),
    )]);
    let ws = Workspace::new();
    let child = Running::start(
        dl_std(&ws)
            .args(["fetch", "--json", "--progress", "ndjson", "--dir", OUT])
            .arg(s.url("/small.bin")),
    );
    assert!(
        wait_until(Duration::from_secs(20), || {
            child
                .stderr()
                .lines()
                .any(|l| l.contains("\"progress\"") && !l.contains("\"bytes\":0,"))
        }),
        "part of the body arrived\n{}",
        child.stderr()
    );
    let on_disk = || -> Vec<String> {
        std::fs::read_dir(ws.out())
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(on_disk(), Vec::<String>::new(), "nothing on disk mid-body");
    child.send("TERM");
    let done = child.finish();
    assert_eq!(done.code, Some(143), "{}", done.stderr);
    assert_eq!(done.summary().files[0].status, Status::Cancelled);
    assert_eq!(on_disk(), Vec::<String>::new(), "nothing left behind");
}

/// Issue 29: a cancelled file reports the bytes its `.part` keeps for the next run (as last
/// reported, and never more than the disk holds), not 0.
#[test]
fn a_cancelled_file_reports_the_bytes_kept_for_resume() {
    let data = body(2_000_000, 7);
    let s = FaultServer::start([(
        "/slow.bin",
        Route::always(Reply::ok(&data).trickle(16_384, Duration::from_millis(20))),
    )]);
    let ws = Workspace::new();
    let child = Running::start(
        dl_std(&ws)
            .args(["fetch", "--json", "--progress", "ndjson", "--dir", OUT])
            .arg(s.url("/slow.bin")),
    );
    let part = ws.out().join("slow.bin.part");
    assert!(
        wait_until(Duration::from_secs(20), || {
            std::fs::metadata(&part).is_ok_and(|m| m.len() > 0)
                && child
                    .stderr()
                    .lines()
                    .any(|l| l.contains("\"progress\"") && !l.contains("\"bytes\":0,"))
        }),
        "bytes reached the .part and progress was reported\n{}",
        child.stderr()
    );
    child.send("TERM");
    let done = child.finish();
    assert_eq!(done.code, Some(143), "{}", done.stderr);
    let file = &done.summary().files[0];
    let on_disk = std::fs::metadata(&part).expect("the .part is kept").len();
    assert_eq!(file.status, Status::Cancelled);
    assert!(
        file.bytes > 0 && file.bytes <= on_disk,
        "{} bytes reported, {on_disk} in the .part",
        file.bytes
    );
}

#[test]
fn two_sigints_stop_now_with_exit_130() {
    let s = stalling_server();
    let ws = Workspace::new();
    let child = spawn(&ws, &s, &["--read-timeout", "30s"]);
    assert!(wait_until(Duration::from_secs(20), || s.hits("/stall.bin") == 1));
    child.first_sigint();
    child.send("INT");
    let done = child.finish();
    assert_eq!(done.code, Some(130), "{}", done.stderr);
    let summary = done.summary();
    assert_eq!(summary.stats.cancelled, 2, "{summary:#?}");
    assert_eq!(s.hits("/next.bin"), 0);
}

#[test]
fn one_sigint_lets_the_running_file_finish_and_starts_nothing_new() {
    let s = stalling_server();
    let ws = Workspace::new();
    // The read timeout must not fire before the SIGINT arrives (the file would then fail
    // and the next one start first): 2 s leaves a loaded machine plenty of time.
    let child = spawn(&ws, &s, &["--read-timeout", "2s", "--retries", "0"]);
    assert!(wait_until(Duration::from_secs(20), || s.hits("/stall.bin") == 1));
    child.send("INT");
    let done = child.finish();
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

/// `/big.bin`: 3 MiB with an ETag (so dl keeps resume metadata) that stalls after 2 MiB the
/// first time and is served with Range afterwards.
fn big_stalling_server(data: &[u8]) -> FaultServer {
    FaultServer::start([(
        "/big.bin",
        Route::script(vec![
            Reply::ok(data)
                .etag("v1")
                .honour_range()
                .stall_after(2 * MIB),
            Reply::ok(data).etag("v1").honour_range(),
        ]),
    )])
}

/// How a test stops `dl` now.
enum Stop {
    Term,
    /// A first SIGINT, acknowledged, then a second.
    TwoSigints,
}

/// Starts `dl` on `/big.bin`, waits until a good part of it is on disk, stops it (`signals`),
/// checks the exit code, that the `.part` and its metadata are kept, and that the same
/// command then resumes from them to a byte-exact file.
fn stop_keeps_part_and_meta(signals: Stop, want_code: i32) {
    let data = body(3 * MIB, 32);
    let s = big_stalling_server(&data);
    let ws = Workspace::new();
    let child = Running::start(
        dl_std(&ws)
            .args([
                "fetch",
                "--json",
                "--progress",
                "plain",
                "--read-timeout",
                "30s",
                "--dir",
                OUT,
            ])
            .arg(s.url("/big.bin")),
    );
    let part = ws.out().join("big.bin.part");
    let meta = ws.out().join("big.bin.part.meta");
    assert!(
        wait_until(Duration::from_secs(20), || meta.exists()
            && std::fs::metadata(&part).is_ok_and(|m| m.len() >= MIB as u64)),
        "dl started writing big.bin"
    );
    match signals {
        Stop::Term => child.send("TERM"),
        Stop::TwoSigints => {
            child.first_sigint();
            child.send("INT");
        }
    }
    let done = child.finish();
    assert_eq!(done.code, Some(want_code), "{}", done.stderr);
    let summary = done.summary();
    assert_eq!(summary.files[0].status, Status::Cancelled, "{summary:#?}");
    assert!(!ws.out().join("big.bin").exists());
    let kept = std::fs::metadata(&part)
        .unwrap_or_else(|e| panic!("the .part is kept: {e}\n{}", done.stderr))
        .len();
    let meta_text = std::fs::read_to_string(&meta)
        .unwrap_or_else(|e| panic!("the .part.meta is kept: {e}\n{}", done.stderr));
    let meta_json: serde_json::Value =
        serde_json::from_str(&meta_text).expect("the metadata is whole JSON");
    assert_eq!(meta_json["etag"], "\"v1\"", "{meta_text}");
    assert_eq!(meta_json["total"], 3 * MIB, "{meta_text}");

    // The same command again continues from the kept part.
    ws.fetch_whole(&s.url("/big.bin"), "big.bin", &data);
    let reqs = s.requests_to("/big.bin");
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].header("range"),
        Some(&*format!("bytes={kept}-")),
        "the re-run resumes where the stopped run left off"
    );
    assert_eq!(s.body_bytes(&reqs[1]), (3 * MIB) as u64 - kept);
}

#[test]
fn sigterm_keeps_the_part_and_its_metadata_and_a_rerun_resumes() {
    stop_keeps_part_and_meta(Stop::Term, 143);
}

#[test]
fn two_sigints_keep_the_part_and_its_metadata_and_a_rerun_resumes() {
    stop_keeps_part_and_meta(Stop::TwoSigints, 130);
}

/// A list of `n` URLs the server answers 404 at once: each file fails in its first attempt,
/// and each adds a few hundred bytes to the JSON summary and the NDJSON events.
fn missing_files(ws: &Workspace, s: &FaultServer, n: usize) -> String {
    let urls: String = (0..n)
        .map(|i| format!("{}\n", s.url(&format!("/missing/{i}.bin"))))
        .collect();
    ws.write("urls.txt", urls)
}

/// Waits at most `limit` for `child` to exit; kills it and fails when it does not.
fn exits_within(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let mut status = None;
    wait_until(limit, || {
        status = child.try_wait().expect("wait for dl");
        status.is_some()
    });
    status.unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("dl did not exit within {limit:?} of SIGTERM while {what}");
    })
}

/// Issue 28: a run blocked writing a summary nobody reads (the JSON of 600 files is far more
/// than a 64 KiB pipe holds) still stops on SIGTERM, with 143.
#[test]
fn sigterm_stops_a_run_blocked_on_an_unread_stdout() {
    let s = FaultServer::start([("/ok.txt", Route::always(Reply::ok("ok")))]);
    let ws = Workspace::new();
    let list = missing_files(&ws, &s, 600);
    let mut child = dl_std(&ws)
        .args(["fetch", "--json", "--progress", "none", "--retries", "0"])
        .args(["--dir", OUT, &list])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dl");
    assert!(
        wait_until(Duration::from_secs(20), || s.total_hits() == 600),
        "dl requested every file"
    );
    // The summary follows the last answer at once; give it time to fill the pipe.
    std::thread::sleep(Duration::from_millis(300));
    send(&child, "TERM");
    let status = exits_within(&mut child, Duration::from_secs(5), "stdout was full");
    assert_eq!(status.code(), Some(143), "{status:?}");
    drop(child.stdout.take());
}

/// Issue 28: the same for progress: NDJSON events on a stderr nobody reads fill its pipe
/// while files are still being downloaded, and SIGTERM still stops the run with 143.
#[test]
fn sigterm_stops_a_run_blocked_on_an_unread_stderr() {
    let s = FaultServer::start([("/ok.txt", Route::always(Reply::ok("ok")))]);
    let ws = Workspace::new();
    let list = missing_files(&ws, &s, 2000);
    let mut child = dl_std(&ws)
        .args(["fetch", "--json", "--progress", "ndjson", "--retries", "0"])
        .args(["--dir", OUT, &list])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dl");
    // Blocked: the events of 2,000 files (all queued at once) fill the pipe, and the requests
    // stop short of all the files.
    let mut seen = usize::MAX;
    assert!(
        wait_until(Duration::from_secs(20), || {
            std::thread::sleep(Duration::from_millis(200));
            let now = s.total_hits();
            std::mem::replace(&mut seen, now) == now
        }),
        "dl stopped making progress"
    );
    assert!(seen < 2000, "stderr never filled ({seen} requests)");
    assert!(
        child.try_wait().expect("poll dl").is_none(),
        "dl is still running"
    );
    send(&child, "TERM");
    let status = exits_within(&mut child, Duration::from_secs(5), "stderr was full");
    assert_eq!(status.code(), Some(143), "{status:?}");
    drop(child.stderr.take());
}
