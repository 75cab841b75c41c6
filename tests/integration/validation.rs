//! Validation before the first request (SPEC §4): every problem at once as `SOURCE:LINE:
//! message`, then `dl: error: N problems in the input; nothing was downloaded`, exit 2, no
//! request, nothing created (not even --dir).

use crate::support::{FaultServer, Reply, Route, Workspace, assert_rejected};

#[test]
fn every_problem_of_a_manifest_is_listed_with_its_line() {
    let server = FaultServer::start([("/ok.bin", Route::always(Reply::ok("ok")))]);
    let ok = server.url("/ok.bin");
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            r#"[[file]]
url = "{ok}"

[[file]]
url = "ftp://127.0.0.1/a.bin"

[[file]]
url = "http://[not a url"

[[file]]
url = "{ok}"

[[file]]
url = "{ok}"
filename = "../escape.bin"

[[file]]
url = "{ok}"
subdir = "/etc"
filename = "abs.bin"

[[file]]
url = "{ok}"
filename = "sum.bin"
checksum = "sha256:1234"

[[file]]
url = "{ok}"
filename = "algo.bin"
checksum = "crc32:deadbeef"

[[file]]
url = "{ok}"
filename = "keys.bin"
colour = "blue"
"#
        ),
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("m.toml"));
    assert_rejected(&ws, &run, 8, &before);
    // An entry's problem points at its `[[file]]` line, or at the offending key's own line.
    for (lines, about) in [
        (&[4, 5][..], "scheme"),
        (&[7, 8], "URL"),
        (&[10, 11], "destination"),
        (&[13, 15], "filename"),
        (&[17, 19], "subdir"),
        (&[22, 25], "checksum"),
        (&[27, 30], "crc32"),
        (&[32, 35], "colour"),
    ] {
        run.check(
            run.diagnostics().iter().any(|d| {
                lines
                    .iter()
                    .any(|l| d.starts_with(&format!("m.toml:{l}: ")))
                    && d.contains(about)
            }),
            format_args!("a diagnostic at m.toml:{lines:?} mentioning {about:?}"),
        );
    }
    assert_eq!(server.total_hits(), 0, "no request for a rejected input");
}

#[test]
fn problems_from_every_source_are_reported_together() {
    let ws = Workspace::new();
    ws.write(
        "l.txt",
        "http://127.0.0.1:9/fine\n\nnot-a-url\ngopher://127.0.0.1/x\n",
    );
    ws.write(
        "m.json",
        "[\n {\"url\": \"http://127.0.0.1:9/j\", \"checksum\": \"md5:zz\"}\n]",
    );
    let before = ws.all_files();
    let run = ws.run(
        ws.fetch()
            .args(["l.txt", "m.json", "mailto:someone@example.com", "-"])
            .write_stdin("http://127.0.0.1:9/s\nhttps://\n"),
    );
    assert_rejected(&ws, &run, 5, &before);
    run.stderr_has("l.txt:3: ")
        .stderr_has("l.txt:4: ")
        .stderr_has("m.json:2: ")
        .stderr_has("<stdin>:2: ");
    run.check(
        run.diagnostics()
            .iter()
            .any(|d| d.starts_with("mailto:someone@example.com: ")),
        "a bare argument's SOURCE is the argument itself, without a line",
    );
}

#[test]
fn bare_url_arguments_are_named_without_a_line() {
    let ws = Workspace::new();
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args(["ftp://127.0.0.1/file.iso", "http://"]));
    assert_rejected(&ws, &run, 2, &before);
    run.check(
        run.diagnostics()[0].starts_with("ftp://127.0.0.1/file.iso: "),
        "SOURCE: message for a bare URL",
    )
    .stderr_has("ftp");
}

#[test]
fn duplicate_destinations_are_rejected_and_name_the_first_claim() {
    let ws = Workspace::new();
    ws.write(
        "l.txt",
        "http://127.0.0.1:9/a/same.bin\nhttp://127.0.0.1:9/b/same.bin\n",
    );
    ws.write(
        "m.toml",
        "[[file]]\nurl = \"http://127.0.0.1:9/other\"\nfilename = \"same.bin\"\n",
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args(["l.txt", "m.toml"]));
    assert_rejected(&ws, &run, 2, &before);
    run.stderr_has("l.txt:2: ")
        .stderr_has("m.toml:1: ")
        .stderr_has("l.txt:1");
}

#[test]
fn a_destination_clashing_with_another_files_part_or_directory_is_rejected() {
    let ws = Workspace::new();
    ws.write(
        "l.txt",
        "http://127.0.0.1:9/x.bin\nhttp://127.0.0.1:9/x.bin.part\n",
    );
    ws.write(
        "m.toml",
        "[[file]]\nurl = \"http://127.0.0.1:9/d\"\n\n[[file]]\nurl = \"http://127.0.0.1:9/inner\"\nsubdir = \"d\"\n",
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args(["l.txt", "m.toml"]));
    assert_rejected(&ws, &run, 2, &before);
    run.stderr_has("l.txt:2: ").stderr_has("m.toml:4: ");
}

#[test]
fn malformed_checksums_are_rejected() {
    let ws = Workspace::new();
    let sha256_ok = "a".repeat(64);
    ws.write(
        "m.toml",
        format!(
            r#"[[file]]
url = "http://127.0.0.1:9/1"
checksum = "{sha256_ok}"

[[file]]
url = "http://127.0.0.1:9/2"
checksum = "sha256:{short}"

[[file]]
url = "http://127.0.0.1:9/3"
checksum = "sha1:{nonhex}"

[[file]]
url = "http://127.0.0.1:9/4"
checksum = "whirlpool:{sha256_ok}"

[[file]]
url = "http://127.0.0.1:9/5"
checksum = "md5:{sha256_ok}"
"#,
            short = "a".repeat(63),
            nonhex = "g".repeat(40),
        ),
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("m.toml"));
    assert_rejected(&ws, &run, 5, &before);
    for line in [1, 5, 9, 13, 17] {
        run.stderr_has(&format!("m.toml:{line}: "));
    }
}

#[test]
fn empty_input_is_an_error_and_allow_empty_accepts_it() {
    let ws = Workspace::new();
    ws.write("empty.txt", "# nothing here\n\n");
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("empty.txt"));
    assert_rejected(&ws, &run, 1, &before);
    run.stderr_has("no entries");

    let run = ws.run(ws.fetch().arg("-"));
    assert_rejected(&ws, &run, 1, &before);

    let run = ws.run(ws.fetch().args(["--allow-empty", "--json", "empty.txt"]));
    run.code(0);
    let s = run.summary();
    assert!(
        s.ok && s.files.is_empty() && s.stats.total == 0,
        "{}",
        run.report()
    );
}

#[test]
fn a_shard_with_no_files_is_not_an_input_error() {
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--dry-run", "--shard", "1/50", "http://127.0.0.1:9/only"]),
    );
    // Either the only file falls in this slice or not; both are fine, neither is an error.
    run.code(0);
}

#[test]
fn a_password_in_a_rejected_url_argument_is_not_printed() {
    // Regression: the SOURCE of a bare URL argument used to be printed verbatim, password
    // included (`ftp://me:hunter2@host/x: URL has unsupported scheme "ftp"`), and so was the
    // first claim in a duplicate-destination message. SPEC §5: secrets never appear.
    let ws = Workspace::new();
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args([
        "ftp://me:hunter2@127.0.0.1/x",
        "http://u:pw-first-7731@127.0.0.1:9/same",
        "http://u:pw-second-7732@127.0.0.1:9/same",
    ]));
    assert_rejected(&ws, &run, 2, &before);
    run.nowhere("hunter2")
        .nowhere("pw-first-7731")
        .nowhere("pw-second-7732");
}

#[test]
fn a_password_in_a_rejected_list_entry_is_not_printed() {
    let ws = Workspace::new();
    ws.write(
        "l.txt",
        "ftp://me:listpw-9931@127.0.0.1/x\nhttp://me:listpw-9932@[bad/x\n",
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("l.txt"));
    assert_rejected(&ws, &run, 2, &before);
    run.nowhere("listpw-9931").nowhere("listpw-9932");
}

#[test]
fn absurd_durations_in_a_config_file_name_its_line_and_key() {
    let ws = Workspace::new();
    for (text, message) in [
        (
            "read-timeout = \"0\"",
            "read-timeout: \"0\" must be more than 0",
        ),
        (
            "retry-delay = \"18446744073709551615s\"",
            "retry-delay: \"18446744073709551615s\" is longer than 30 days",
        ),
        (
            "[profile.p]\nlimit-rate = 0",
            "limit-rate: \"0\" must be more than 0 (or \"off\")",
        ),
    ] {
        ws.write("c.toml", format!("# dl\n{text}\n"));
        let line = text.lines().count() + 1;
        let run = ws.run(
            ws.fetch()
                .args(["--config", "c.toml", "http://127.0.0.1:9/a.bin"]),
        );
        run.code(2)
            .stdout_empty()
            .stderr_has(&format!("dl: error: c.toml:{line}: {message}"))
            .check(!ws.out().exists(), "no download dir");
    }
}

#[test]
fn absurd_retry_delays_in_a_manifest_are_input_errors() {
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        r#"[[file]]
url = "http://127.0.0.1:9/zero.bin"
retry_delay = "0"
max_retry_delay = "30days"

[[file]]
url = "http://127.0.0.1:9/long.bin"
retry_delay = "18446744073709551615s"

[[file]]
url = "http://127.0.0.1:9/year.bin"
max_retry_delay = "1y"
"#,
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("m.toml"));
    assert_rejected(&ws, &run, 2, &before);
    for (lines, message) in [
        (
            &[6, 8][..],
            "retry_delay: \"18446744073709551615s\" is longer than 30 days",
        ),
        (&[10, 12], "max_retry_delay: \"1y\" is longer than 30 days"),
    ] {
        run.check(
            run.diagnostics().iter().any(|d| {
                lines
                    .iter()
                    .any(|l| d.starts_with(&format!("m.toml:{l}: ")))
                    && d.ends_with(message)
            }),
            format_args!("a diagnostic at m.toml:{lines:?} ending {message:?}"),
        );
    }
}
