//! SOURCE kinds and their mix: URL arguments, URL list files (comments, blank lines,
//! whitespace, aria2 option lines), TOML and JSON manifests, and `-` (a list or a JSON manifest
//! on stdin).

use crate::support::{
    FaultServer, Reply, Route, SAMPLE, SAMPLE_SHA256, Status, Workspace, assert_rejected,
};

#[test]
fn every_kind_of_source_in_one_run() {
    let s = FaultServer::bodies_of(&[
        "/arg.txt",
        "/list.txt",
        "/toml.txt",
        "/json.txt",
        "/stdin.txt",
    ]);
    let ws = Workspace::new();
    ws.write("urls.list", format!("{}\n", s.url("/list.txt")));
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nsubdir = \"t\"\n",
            s.url("/toml.txt")
        ),
    );
    ws.write(
        "m.json",
        format!(
            r#"{{"file": [{{"url": "{}", "subdir": "j"}}]}}"#,
            s.url("/json.txt")
        ),
    );
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--workers", "1"])
            .arg(s.url("/arg.txt"))
            .args(["urls.list", "m.toml", "m.json", "-"])
            .write_stdin(format!("# from stdin\n{}\n", s.url("/stdin.txt"))),
    );
    run.code(0);
    let summary = run.summary();
    let paths: Vec<&str> = summary.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "arg.txt",
            "list.txt",
            "t/toml.txt",
            "j/json.txt",
            "stdin.txt"
        ],
        "files are reported in input order\n{}",
        run.report()
    );
    assert_eq!(
        ws.out_files(),
        [
            "arg.txt",
            "j/json.txt",
            "list.txt",
            "stdin.txt",
            "t/toml.txt"
        ]
    );
    assert_eq!(ws.read_out_string("j/json.txt"), "body of /json.txt");
    assert_eq!(
        s.order(),
        [
            "/arg.txt",
            "/list.txt",
            "/toml.txt",
            "/json.txt",
            "/stdin.txt"
        ],
        "with one worker and equal priorities, input order"
    );
}

#[test]
fn list_files_ignore_comments_blank_lines_and_surrounding_whitespace() {
    let s = FaultServer::bodies_of(&["/a", "/b", "/c"]);
    let ws = Workspace::new();
    ws.write(
        "urls.txt",
        format!(
            "# a comment\n\n   {}   \r\n\t{}\n   # indented comment\n\n{}",
            s.url("/a"),
            s.url("/b"),
            s.url("/c")
        ),
    );
    let run = ws.run(ws.fetch().args(["--json", "urls.txt"]));
    run.code(0);
    assert_eq!(run.summary().stats.total, 3, "{}", run.report());
    assert_eq!(ws.out_files(), ["a", "b", "c"]);
}

#[test]
fn aria2_option_lines_set_name_dir_and_checksum() {
    let s = FaultServer::start([
        ("/x", Route::always(Reply::ok(SAMPLE))),
        ("/y", Route::always(Reply::ok("y"))),
    ]);
    let ws = Workspace::new();
    ws.write(
        "aria.txt",
        format!(
            "{}\n  out=fox.txt\n  dir=sub/dir\n  checksum=sha-256={SAMPLE_SHA256}\n{}\n\tout=why.txt\n",
            s.url("/x"),
            s.url("/y")
        ),
    );
    let run = ws.run(ws.fetch().args(["--json", "aria.txt"]));
    run.code(0);
    assert_eq!(
        ws.out_files(),
        ["sub/dir/fox.txt", "why.txt"],
        "{}",
        run.report()
    );
    let summary = run.summary();
    assert_eq!(
        summary.file("sub/dir/fox.txt").sha256.as_deref(),
        Some(SAMPLE_SHA256)
    );
}

#[test]
fn aria2_checksum_mismatch_in_a_list_fails_the_file() {
    let s = FaultServer::start([("/x", Route::always(Reply::ok("not the fox")))]);
    let ws = Workspace::new();
    ws.write(
        "aria.txt",
        format!("{}\n  checksum=sha-256={SAMPLE_SHA256}\n", s.url("/x")),
    );
    let run = ws.run(ws.fetch().args(["--json", "aria.txt"]));
    run.code(1);
    assert_eq!(
        run.summary().file("x").error.as_ref().unwrap().kind,
        "checksum"
    );
    assert!(ws.out_files().is_empty(), "{}", run.report());
}

#[test]
fn unknown_or_orphan_aria2_options_are_input_errors_with_lines() {
    let ws = Workspace::new();
    ws.write(
        "aria.txt",
        "  out=orphan.txt\nhttp://127.0.0.1:9/a\n  split=4\n",
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("aria.txt"));
    assert_rejected(&ws, &run, 2, &before);
    run.stderr_has("aria.txt:1: ").stderr_has("aria.txt:3: ");
}

#[test]
fn stdin_json_manifest_is_detected_by_its_first_character() {
    let s = FaultServer::bodies_of(&["/obj.txt", "/arr.txt"]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().args(["--json", "-"]).write_stdin(format!(
        "\n  {{\"defaults\": {{\"subdir\": \"d\"}}, \"file\": [{{\"url\": \"{}\"}}]}}",
        s.url("/obj.txt")
    )));
    run.code(0);
    assert_eq!(ws.out_files(), ["d/obj.txt"], "{}", run.report());

    let ws = Workspace::new();
    let run = ws.run(ws.fetch().args(["--json", "-"]).write_stdin(format!(
        "[{{\"url\": \"{}\", \"filename\": \"renamed.txt\"}}]",
        s.url("/arr.txt")
    )));
    run.code(0);
    assert_eq!(ws.out_files(), ["renamed.txt"], "{}", run.report());
}

#[test]
fn stdin_can_be_named_only_once() {
    let ws = Workspace::new();
    let before = ws.all_files();
    let run = ws.run(
        ws.fetch()
            .args(["-", "-"])
            .write_stdin("http://127.0.0.1:9/a\n"),
    );
    assert_rejected(&ws, &run, 1, &before);
}

#[test]
fn a_missing_source_file_is_an_input_error_naming_it() {
    let ws = Workspace::new();
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args(["nope.txt", "nope.toml", "nope.json"]));
    assert_rejected(&ws, &run, 3, &before);
    run.stderr_has("nope.txt: ")
        .stderr_has("nope.toml: ")
        .stderr_has("nope.json: ");
}

#[test]
fn a_url_without_scheme_gets_a_hint() {
    let ws = Workspace::new();
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("example.com"));
    assert_rejected(&ws, &run, 1, &before);
    run.stderr_has("http://");
}

#[test]
fn list_and_manifest_entries_download_as_listed() {
    let s = FaultServer::bodies_of(&["/one", "/two"]);
    let ws = Workspace::new();
    ws.write("l.txt", format!("{}\n", s.url("/one")));
    ws.write("m.json", format!("[{{\"url\": \"{}\"}}]", s.url("/two")));
    let run = ws.run(ws.fetch().args(["--json", "l.txt", "m.json"]));
    run.code(0);
    let summary = run.summary();
    assert!(summary.files.iter().all(|f| f.status == Status::Completed));
    assert_eq!(summary.files[0].url, s.url("/one"));
    assert_eq!(summary.files[1].url, s.url("/two"));
}

/// Issue 28: one multi-MiB line on stdin is refused by its line (with bounded memory), even
/// with `--dry-run`, and the lines after it are still checked.
#[test]
fn an_over_long_line_on_stdin_is_an_input_error() {
    let ws = Workspace::new();
    let mut input = format!("http://127.0.0.1:9/{}", "a".repeat(8 << 20));
    input.push_str("\nnot a url\n");
    let run = ws.run(ws.fetch().args(["--dry-run", "-"]).write_stdin(input));
    run.code(2)
        .stdout_empty()
        .stderr_has("<stdin>:1: line is longer than 64 KiB")
        .stderr_has("<stdin>:2: ");
}

/// Issue 28: a manifest larger than 64 MiB is refused before it is read.
#[test]
fn a_manifest_larger_than_64_mib_is_refused_unread() {
    let ws = Workspace::new();
    let name = ws.write("huge.json", "");
    std::fs::File::options()
        .write(true)
        .open(ws.root().join(&name))
        .and_then(|f| f.set_len((64 << 20) + 1))
        .expect("make a sparse manifest");
    let run = ws.run(ws.fetch().args(["--dry-run", &name]));
    run.code(2)
        .stdout_empty()
        .stderr_has("huge.json: the manifest is larger than 64 MiB");
}

/// Issue 27: `-i FILE` (wget's input file) is a URL list whatever its name; it combines with
/// SOURCEs, which come first, and repeats in command-line order.
#[test]
fn input_files_are_lists_read_after_the_sources() {
    let s = FaultServer::bodies_of(&["/arg", "/one", "/two", "/three"]);
    let ws = Workspace::new();
    ws.write("one.txt", format!("{}\n", s.url("/one")));
    // A list, though named like a manifest: -i never looks at the extension.
    ws.write("two.json", format!("# urls\n{}\n", s.url("/two")));
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--workers", "1", "-i", "one.txt"])
            .arg(s.url("/arg"))
            .args(["--input-file", "two.json", "-i", "-"])
            .write_stdin(format!("{}\n", s.url("/three"))),
    );
    run.code(0);
    let summary = run.summary();
    let paths: Vec<&str> = summary.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["arg", "one", "two", "three"], "{}", run.report());
    assert_eq!(s.order(), ["/arg", "/one", "/two", "/three"]);
}

#[test]
fn input_file_on_stdin_is_a_list_never_a_manifest() {
    let ws = Workspace::new();
    let before = ws.all_files();
    let run = ws.run(
        ws.fetch()
            .args(["-i", "-"])
            .write_stdin("[{\"url\": \"http://127.0.0.1:9/a\"}]\n"),
    );
    assert_rejected(&ws, &run, 1, &before);
    run.stderr_has("<stdin>:1: ");
}

#[test]
fn input_files_share_stdin_and_name_missing_files() {
    let ws = Workspace::new();
    let before = ws.all_files();
    let run = ws.run(
        ws.fetch()
            .args(["-", "-i", "-", "-i", "nope.txt"])
            .write_stdin("http://127.0.0.1:9/a\n"),
    );
    assert_rejected(&ws, &run, 2, &before);
    run.stderr_has("read only once")
        .stderr_has("nope.txt: cannot open");
}

const BOM: &str = "\u{feff}";

/// Issue 27: a UTF-8 byte-order mark (as Windows editors write) at the start of a list or a
/// manifest, in a file or on stdin, is ignored.
#[test]
fn a_byte_order_mark_at_the_start_is_ignored_by_every_kind_of_source() {
    let s = FaultServer::bodies_of(&["/list", "/toml", "/json", "/input", "/stdin"]);
    let ws = Workspace::new();
    ws.write("l.txt", format!("{BOM}{}\n", s.url("/list")));
    ws.write("i.txt", format!("{BOM}# a comment\n{}\n", s.url("/input")));
    ws.write(
        "m.toml",
        format!("{BOM}[[file]]\nurl = \"{}\"\n", s.url("/toml")),
    );
    ws.write(
        "m.json",
        format!("{BOM}[{{\"url\": \"{}\"}}]", s.url("/json")),
    );
    let run = ws.run(
        ws.fetch()
            .args(["--json", "l.txt", "m.toml", "m.json", "-", "-i", "i.txt"])
            .write_stdin(format!("{BOM}{}\n", s.url("/stdin"))),
    );
    run.code(0);
    assert_eq!(
        ws.out_files(),
        ["input", "json", "list", "stdin", "toml"],
        "{}",
        run.report()
    );

    // A JSON manifest on stdin is still recognised behind a BOM.
    let ws = Workspace::new();
    let json = format!(
        "{BOM}\n {{\"file\": [{{\"url\": \"{}\", \"subdir\": \"d\"}}]}}",
        s.url("/json")
    );
    let run = ws.run(ws.fetch().args(["--json", "-"]).write_stdin(json));
    run.code(0);
    assert_eq!(ws.out_files(), ["d/json"], "{}", run.report());
}

/// Issue 27: only the very start is special; a BOM anywhere else is text (here, not a URL).
#[test]
fn a_byte_order_mark_after_the_start_is_not_special() {
    let ws = Workspace::new();
    ws.write(
        "l.txt",
        format!("http://127.0.0.1:9/a\n{BOM}http://127.0.0.1:9/b\n"),
    );
    ws.write("twice.txt", format!("{BOM}{BOM}http://127.0.0.1:9/c\n"));
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args(["l.txt", "twice.txt"]));
    assert_rejected(&ws, &run, 2, &before);
    run.stderr_has("l.txt:2: ").stderr_has("twice.txt:1: ");
}
