//! The `--json` summary (SPEC §5) as types: exactly one JSON document on stdout, every key
//! present, files in input order, stats consistent, secrets redacted. Also `--dry-run`.

use crate::support::{Document, FaultServer, Reply, Route, Status, Workspace, body};
use std::time::Duration;

#[test]
fn the_summary_is_one_json_document_with_every_documented_key() {
    let s = FaultServer::start([
        ("/a.bin", Route::always(Reply::ok(body(1234, 1)))),
        ("/b.bin", Route::always(Reply::status(404))),
    ]);
    let ws = Workspace::new();
    ws.write_out("c.bin", "12345");
    let run = ws.run(
        ws.fetch()
            .arg("--json")
            .arg(s.url("/a.bin"))
            .arg(s.url("/b.bin"))
            .arg(s.url("/c.bin")),
    );
    run.code(1);
    // `summary()` fails on anything before or after the document, a missing or extra key,
    // or a value of the wrong type.
    let summary = run.summary();
    assert_eq!(summary.schema, 1);
    assert!(!summary.ok);
    let st = &summary.stats;
    assert_eq!(
        (st.total, st.completed, st.skipped, st.failed, st.cancelled),
        (3, 1, 1, 1, 0)
    );
    assert_eq!(st.bytes, 1234, "only bytes completed in this run");
    assert!(st.elapsed_secs >= 0.0 && st.elapsed_secs < 60.0);
    assert_eq!(summary.files[2].status, Status::Skipped);
    assert_eq!(summary.files[2].bytes, 5);
    assert_eq!(summary.files[2].http_status, None);
    let sha = summary.files[0].sha256.as_deref().unwrap();
    assert!(
        sha.len() == 64
            && sha
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
}

#[test]
fn files_are_in_input_order_whatever_order_they_finish_in() {
    let n = 8;
    let paths: Vec<String> = (0..n).map(|i| format!("/f{i}")).collect();
    // Earlier files answer later, so completion order is the reverse of input order.
    let s = FaultServer::start(paths.iter().enumerate().map(|(i, p)| {
        (
            p.as_str(),
            Route::always(
                Reply::ok(p.as_bytes()).delay(Duration::from_millis(30 * (n - i) as u64)),
            ),
        )
    }));
    let ws = Workspace::new();
    let mut cmd = ws.fetch();
    cmd.args(["--json", "--workers", "8"]);
    for p in &paths {
        cmd.arg(s.url(p));
    }
    let run = ws.run(&mut cmd);
    run.code(0);
    let got: Vec<String> = run
        .summary()
        .files
        .iter()
        .map(|f| format!("/{}", f.path))
        .collect();
    assert_eq!(got, paths, "{}", run.report());
}

#[test]
fn a_password_in_a_url_is_shown_as_stars() {
    let s = FaultServer::start([("/private.bin", Route::always(Reply::ok("p")))]);
    let ws = Workspace::new();
    let url = format!("http://alice:pa55-w0rd-61@{}/private.bin", s.addr());
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--progress", "ndjson", "-vv"])
            .arg(&url),
    );
    run.code(0).nowhere("pa55-w0rd-61");
    let summary = run.summary();
    assert_eq!(
        summary.files[0].url,
        format!("http://alice:***@{}/private.bin", s.addr())
    );
    let sent = &s.requests_to("/private.bin")[0];
    assert!(
        sent.header("authorization")
            .is_some_and(|v| v.starts_with("Basic ")),
        "the credentials are still used for the request"
    );
}

#[test]
fn a_password_never_appears_in_plans_failures_or_logs() {
    let s = FaultServer::start([
        ("/gone.bin", Route::always(Reply::status(404))),
        (
            "/cut.bin",
            Route::always(Reply::ok(body(5000, 2)).truncate_after(10)),
        ),
    ]);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let urls = [
        format!("http://bob:pw-77-secret@{}/gone.bin", s.addr()),
        format!("http://bob:pw-77-secret@{}/cut.bin", s.addr()),
        format!("http://bob:pw-77-secret@127.0.0.1:{port}/refused.bin"),
    ];
    let ws = Workspace::new();
    for flags in [
        &["--json", "-vvv", "--retries", "1"][..],
        &["--progress", "ndjson", "-vv", "--retries", "1"],
        &["--progress", "plain", "--retries", "0"],
        &["--dry-run"],
        &["--dry-run", "--json"],
    ] {
        let run = ws.run(ws.fetch().args(flags).args(&urls));
        run.check(matches!(run.code, Some(0 | 1)), "ran")
            .nowhere("pw-77-secret");
    }
}

#[test]
fn header_values_never_appear_in_any_output_even_verbose() {
    let s = FaultServer::start([
        ("/a.txt", Route::always(Reply::ok("a"))),
        ("/b.txt", Route::always(Reply::status(403))),
    ]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nheaders = {{ X-Api-Key = \"mkey-5521\" }}\n",
            s.url("/b.txt")
        ),
    );
    for flags in [
        &["--json", "-vv"][..],
        &["--json", "-vvv"],
        &["--progress", "ndjson", "-vv"],
        &["--progress", "plain", "-vv"],
        &["--dry-run", "-vv"],
        &["--dry-run", "--json"],
    ] {
        let run = ws.run(
            ws.fetch()
                .args(flags)
                .args(["-H", "Authorization: Bearer hdr-secret-8841"])
                .arg(s.url("/a.txt"))
                .arg("m.toml"),
        );
        run.check(matches!(run.code, Some(0 | 1)), "ran")
            .nowhere("hdr-secret-8841")
            .nowhere("mkey-5521");
    }
    let a = &s.requests_to("/a.txt")[0];
    assert_eq!(a.header("authorization"), Some("Bearer hdr-secret-8841"));
    assert_eq!(
        s.requests_to("/b.txt")[0].header("x-api-key"),
        Some("mkey-5521")
    );
}

#[test]
fn an_invalid_header_value_is_not_echoed_in_the_usage_error() {
    // Regression: clap's "invalid value '...' for '--header'" error used to repeat the whole
    // argument, secret included. SPEC §5: header values never appear in output.
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["-H", "Authorization: Bearer bad-secret-3390\u{7}"])
            .arg("http://127.0.0.1:9/a"),
    );
    run.code(2).nowhere("bad-secret-3390");
}

#[test]
fn dry_run_prints_the_plan_in_start_order_and_touches_nothing() {
    let s = FaultServer::start([("/x", Route::always(Reply::ok("x")))]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{a}\"\nfilename = \"late.bin\"\n\n[[file]]\nurl = \"{a}\"\nfilename = \"early.bin\"\npriority = 1\nsubdir = \"s\"\nchecksum = \"md5:{md5}\"\n",
            a = s.url("/x"),
            md5 = "0".repeat(32)
        ),
    );
    let run = ws.run(ws.fetch().args(["--dry-run", "m.toml"]));
    run.code(0);
    let early = run
        .stdout
        .find("s/early.bin")
        .unwrap_or_else(|| run.fail("plan lists s/early.bin"));
    let late = run
        .stdout
        .find("late.bin")
        .unwrap_or_else(|| run.fail("plan lists late.bin"));
    run.check(early < late, "the plan is in start order");
    assert!(
        !ws.out().exists(),
        "--dry-run creates nothing\n{}",
        run.report()
    );
    assert_eq!(s.total_hits(), 0, "--dry-run makes no request");

    let run = ws.run(ws.fetch().args(["--dry-run", "--json", "m.toml"]));
    run.code(0);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| run.fail(format_args!("dry-run --json is one JSON document: {e}")));
    let files = plan["files"]
        .as_array()
        .unwrap_or_else(|| run.fail("files array"));
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["path"], "s/early.bin");
    assert_eq!(files[1]["path"], "late.bin");
    assert!(!ws.out().exists());
    assert_eq!(s.total_hits(), 0);
}

#[test]
fn dry_run_still_validates() {
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().args(["--dry-run", "ftp://127.0.0.1/x"]));
    run.code(2).stdout_empty();
}

/// SPEC §5: an input error (exit 2) still prints one document, `ok: false`, zero stats, no
/// files, and every problem stderr lists, each where it was found.
#[test]
fn input_errors_give_one_document_with_every_diagnostic() {
    let ws = Workspace::new();
    ws.write(
        "urls.txt",
        "http://127.0.0.1:9/ok.bin\nftp://127.0.0.1/x\n# fine\nnot a url\n",
    );
    let run = ws.run(ws.fetch().args(["--json", "urls.txt", "missing.txt"]));
    run.code(2);
    let diags = run.rejected_document();
    let at = |source: &str, line: Option<u32>| {
        diags
            .iter()
            .any(|d| d.source == source && d.line == line && !d.message.is_empty())
    };
    run.check(at("urls.txt", Some(2)), "urls.txt line 2")
        .check(at("urls.txt", Some(4)), "urls.txt line 4")
        .check(at("missing.txt", None), "the missing source as a whole")
        .check(
            diags.len() == run.diagnostics().len(),
            "as many diagnostics as stderr lines",
        );
    for d in &diags {
        let line = match d.line {
            Some(n) => format!("{}:{n}: {}", d.source, d.message),
            None => format!("{}: {}", d.source, d.message),
        };
        run.stderr_has(&line);
    }
    run.check(!ws.out().exists(), "nothing was created");
}

/// A config file, an environment variable, clap itself, an empty input and a download
/// directory that cannot be made: each stops the run with exit 2 and one document.
#[test]
fn every_fatal_problem_gives_one_document() {
    let ws = Workspace::new();
    ws.write("bad.toml", "workers = 4\nretries = \"lots\"\n");
    ws.write("empty.txt", "# nothing here\n");
    ws.write("a-file", "x");
    let url = "http://127.0.0.1:9/a.bin";
    // (arguments, environment, the diagnostic's source and line)
    type Case<'a> = (
        &'a [&'a str],
        &'a [(&'a str, &'a str)],
        &'a str,
        Option<u32>,
    );
    let cases: [Case; 5] = [
        (&["--config", "bad.toml", url], &[], "bad.toml", Some(2)),
        (&[url], &[("DL_WORKERS", "many")], "DL_WORKERS", None),
        (&["--no-such-flag", url], &[], "command line", None),
        (&["empty.txt"], &[], "input", None),
        (&["--dir", "a-file/sub", url], &[], "command line", None),
    ];
    for (args, env, source, line) in cases {
        let mut cmd = ws.dl();
        cmd.args(["fetch", "--json"])
            .args(args)
            .envs(env.iter().copied());
        let run = ws.run(&mut cmd);
        run.code(2);
        let diags = run.rejected_document();
        run.check(
            diags.len() == 1 && diags[0].source == source && diags[0].line == line,
            format_args!("one diagnostic at {source}:{line:?}: {diags:?}"),
        );
        run.stderr_has("error:");
    }
    // clap refuses this before `--json` is known; the raw arguments still say it was given.
    let run = ws.run(ws.dl().args(["fetch", "--json"]));
    run.code(2).stderr_has("<SOURCE>");
    let diags = run.rejected_document();
    run.check(diags[0].message.contains("<SOURCE>"), "clap's message");
    // Without --json, stdout stays empty.
    let run = ws.run(ws.dl().args(["fetch", "--no-such-flag", url]));
    run.code(2).stdout_empty();
}

/// Runs that do nothing still print one document: an empty input that is allowed, and a
/// dry run, whose plan has a summary's head and an `action` per file.
#[test]
fn empty_runs_and_dry_runs_give_one_document() {
    let ws = Workspace::new();
    ws.write("empty.txt", "\n");
    let run = ws.run(ws.fetch().args(["--json", "--allow-empty", "empty.txt"]));
    run.code(0);
    let summary = run.summary();
    run.check(
        summary.ok && summary.files.is_empty() && summary.stats.total == 0,
        "an empty, successful summary",
    )
    .check(summary.diagnostics.is_none(), "no diagnostics");

    ws.write_out("have.bin", "x");
    let urls = ["http://127.0.0.1:9/have.bin", "http://127.0.0.1:9/want.bin"];
    let run = ws.run(ws.fetch().args(["--json", "--dry-run"]).args(urls));
    run.code(0);
    let Document::Plan(plan) = run.document() else {
        run.fail("a dry run prints its plan")
    };
    let action = |path: &str| {
        let file = plan.files.iter().find(|f| f.path == path);
        file.map(|f| f.action.as_str())
    };
    run.check(plan.ok && plan.dry_run && plan.stats.total == 2, "head")
        .check(
            action("have.bin") == Some("skip"),
            "an existing file is skipped",
        )
        .check(
            action("want.bin") == Some("download"),
            "a new file is downloaded",
        );
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--dry-run", "--on-exist", "overwrite"])
            .args(urls),
    );
    let Document::Plan(plan) = run.document() else {
        run.fail("a dry run prints its plan")
    };
    run.check(
        plan.files.iter().all(|f| f.action == "download"),
        "--on-exist overwrite downloads everything",
    );
}

#[test]
fn a_dry_run_predicts_resume_update_skip_and_fail_and_changes_nothing() {
    // Issue 29: each file's action, as the run would decide it, from the disk alone.
    let ws = Workspace::new();
    let base = "http://127.0.0.1:9";
    ws.write_out("have.bin", "12345");
    ws.write_out("part.bin.part", vec![7u8; 2000]);
    ws.write_out(
        "part.bin.part.meta",
        format!(
            "{{\"version\":1,\"url\":\"{base}/part.bin\",\"etag\":\"\\\"v1\\\"\",\"last_modified\":null,\"total\":5000}}"
        ),
    );
    let manifest = ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{base}/have.bin\"\n\n[[file]]\nurl = \"{base}/part.bin\"\n\n\
             [[file]]\nurl = \"{base}/new.bin\"\n\n\
             [[file]]\nurl = \"{base}/sum.bin\"\nfilename = \"have2.bin\"\nchecksum = \"sha256:{}\"\n",
            "0".repeat(64)
        ),
    );
    ws.write_out("have2.bin", "not it");
    let before = ws.listing();
    let predict = |mode: &str| {
        let run = ws.run(
            ws.fetch()
                .args(["--json", "--dry-run", "--on-exist", mode])
                .arg(&manifest),
        );
        run.code(0);
        let Document::Plan(plan) = run.document() else {
            run.fail("a dry run prints its plan")
        };
        let mut got: Vec<(String, String, u64)> = plan
            .files
            .into_iter()
            .map(|f| (f.path, f.action, f.on_disk))
            .collect();
        got.sort();
        got
    };
    let row = |p: &str, a: &str, n: u64| (p.to_string(), a.to_string(), n);
    assert_eq!(
        predict("skip"),
        [
            row("have.bin", "skip", 5),
            row("have2.bin", "fail", 6),
            row("new.bin", "download", 0),
            row("part.bin", "resume", 2000),
        ]
    );
    assert_eq!(
        predict("update"),
        [
            row("have.bin", "update", 5),
            row("have2.bin", "download", 0),
            row("new.bin", "download", 0),
            row("part.bin", "resume", 2000),
        ]
    );
    assert_eq!(predict("fail")[0], row("have.bin", "fail", 5));
    assert_eq!(ws.listing(), before, "a dry run changes nothing on disk");
    let text = ws.run(ws.fetch().args(["--dry-run"]).arg(&manifest));
    text.code(0).stdout_has("resume ").stdout_has(
        "4 file(s) into dl-out: 1 download, 1 resume (1.95 KiB on disk), 1 skip, 1 fail",
    );
}
