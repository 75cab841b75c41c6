//! Nothing is ever written outside --dir: unsafe names and subdirectories from manifests are
//! rejected before any request; names derived from URLs are sanitised; server-supplied names
//! and symlinks cannot redirect a write.

use crate::support::{FaultServer, OUT, Reply, Route, Workspace, assert_rejected};

#[test]
fn unsafe_filenames_and_subdirs_in_a_manifest_are_rejected_with_their_lines() {
    let ws = Workspace::new();
    let bad: &[(&str, &str)] = &[
        ("filename", "../escape.txt"),
        ("filename", "a/b.txt"),
        ("filename", "a\\\\b.txt"),
        ("filename", ".."),
        ("filename", "."),
        ("filename", ""),
        ("filename", "bell\\u0007.txt"),
        ("subdir", ".."),
        ("subdir", "a/../../b"),
        ("subdir", "/etc"),
        ("subdir", "C:/Windows"),
        ("subdir", "a\\\\b"),
        ("subdir", "new\\nline"),
    ];
    let mut text = String::new();
    for (i, (key, value)) in bad.iter().enumerate() {
        text.push_str(&format!(
            "[[file]]\nurl = \"http://127.0.0.1:9/f{i}\"\n{key} = \"{value}\"\n\n"
        ));
    }
    ws.write("m.toml", &text);
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("m.toml"));
    assert_rejected(&ws, &run, bad.len(), &before);
    for (i, entry) in bad.iter().enumerate() {
        let entry_line = 1 + 4 * i;
        let key_line = entry_line + 2;
        run.check(
            run.stderr.contains(&format!("m.toml:{entry_line}: "))
                || run.stderr.contains(&format!("m.toml:{key_line}: ")),
            format_args!("entry {i} ({entry:?}) is reported at its line"),
        );
    }
    run.check(
        !ws.root().parent().unwrap().join("escape.txt").exists(),
        "nothing escaped",
    );
}

#[test]
fn names_from_urls_are_sanitised_and_stay_inside_dir() {
    let paths = [
        "/a%2F..%2Fb",
        "/..%2F..%2Fevil.txt",
        "/deep/",
        "/C:%5Cwin.ini",
        "/a%00b%0Ac",
        "/q%3Fx%2A%7C%22%3C%3E.txt",
        "/back%5C..%5Cslash",
    ];
    let server = FaultServer::start(paths.iter().map(|p| (*p, Route::always(Reply::ok(*p)))));
    let ws = Workspace::new();
    let mut cmd = ws.fetch();
    cmd.arg("--json");
    for p in paths {
        cmd.arg(server.url(p));
    }
    let run = ws.run(&mut cmd);
    run.code(0);
    let summary = run.summary();
    let mut want = vec![
        "C__win.ini",
        "_.._evil.txt",
        "a_.._b",
        "a_b_c",
        "back_.._slash",
        "index.html",
        "q_x_____.txt",
    ];
    want.sort();
    assert_eq!(ws.out_files(), want, "{}", run.report());
    for f in &summary.files {
        assert!(
            !f.path.contains('/') && !f.path.contains('\\') && f.path != "..",
            "{f:?}"
        );
    }
    let outside: Vec<String> = ws
        .all_files()
        .into_iter()
        .filter(|p| !p.starts_with(&format!("{OUT}/")))
        .collect();
    assert!(outside.is_empty(), "files outside --dir: {outside:?}");
    assert_eq!(ws.read_out_string("a_.._b"), "/a%2F..%2Fb");
}

#[test]
fn a_server_supplied_file_name_cannot_move_the_file() {
    let server = FaultServer::start([(
        "/innocent.txt",
        Route::always(Reply::ok("payload").header(
            "Content-Disposition",
            "attachment; filename=\"../../evil.txt\"",
        )),
    )]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg(server.url("/innocent.txt")));
    run.code(0);
    assert_eq!(ws.out_files(), ["innocent.txt"], "{}", run.report());
    assert!(!ws.root().join("evil.txt").exists());
    assert!(!ws.root().parent().unwrap().join("evil.txt").exists());
}

#[cfg(unix)]
#[test]
fn overwrite_replaces_a_symlink_instead_of_writing_through_it() {
    let server = FaultServer::start([("/link.txt", Route::always(Reply::ok("new")))]);
    let ws = Workspace::new();
    ws.write("outside.txt", "outside, not to be touched");
    std::fs::create_dir(ws.out()).unwrap();
    std::os::unix::fs::symlink(ws.root().join("outside.txt"), ws.out().join("link.txt")).unwrap();
    let run = ws.run(
        ws.fetch()
            .args(["--on-exist", "overwrite"])
            .arg(server.url("/link.txt")),
    );
    run.code(0);
    assert_eq!(
        std::fs::read_to_string(ws.root().join("outside.txt")).unwrap(),
        "outside, not to be touched",
        "{}",
        run.report()
    );
    assert_eq!(ws.read_out_string("link.txt"), "new");
}
