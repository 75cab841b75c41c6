//! A poisoned download directory (issue 28): links, named pipes and other special files
//! planted at the names `dl` writes (`NAME.part`, its metadata, the metadata's temporary file,
//! a subdirectory, the final name) are reported per file as `io` failures naming the path and
//! are never written through, replaced or opened; the other files of the run go on.
#![cfg(unix)]

use crate::support::server::{FaultServer, Reply, Route};
use crate::support::{Run, Workspace, body};
use std::os::unix::fs::symlink;
use std::path::Path;

/// The server: `big.bin` (2 MiB with an ETag, so it gets resume metadata) and `other.txt`.
fn server() -> (FaultServer, Vec<u8>) {
    let data = body(2 << 20, 9);
    let s = FaultServer::start([
        ("/big.bin", Route::always(Reply::ok(&data).etag("v1"))),
        ("/other.txt", Route::always(Reply::ok("other"))),
    ]);
    (s, data)
}

/// A file outside the download directory that a poisoned name points at.
fn victim(ws: &Workspace) -> std::path::PathBuf {
    let victim = ws.root().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    victim
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

/// `big.bin` failed as `io` with a message naming `planted` and saying what it is;
/// `other.txt` completed.
fn refused(run: &Run, planted: &str, what: &str) {
    run.code(1);
    let summary = run.summary();
    let big = summary.file("big.bin");
    run.check(
        big.error.as_ref().is_some_and(|e| {
            e.kind == "io" && e.message.contains(planted) && e.message.contains(what)
        }),
        format!(
            "big.bin fails as io naming {planted} ({what}): {:?}",
            big.error
        ),
    );
    run.check(
        summary.file("other.txt").error.is_none(),
        "the other file still completes",
    );
}

fn fetch_both(ws: &Workspace, s: &FaultServer, extra: &[&str]) -> Run {
    ws.run(
        ws.fetch()
            .arg("--json")
            .args(extra)
            .args([s.url("/big.bin"), s.url("/other.txt")]),
    )
}

#[test]
fn a_link_at_any_temporary_name_is_refused_and_its_target_untouched() {
    for planted in ["big.bin.part", "big.bin.part.meta", "big.bin.part.meta.tmp"] {
        let (s, _) = server();
        let ws = Workspace::new();
        let victim = victim(&ws);
        std::fs::create_dir(ws.out()).unwrap();
        symlink(&victim, ws.out().join(planted)).unwrap();
        let run = fetch_both(&ws, &s, &[]);
        refused(&run, planted, "symbolic link");
        run.check(
            std::fs::read_to_string(&victim).unwrap() == "precious",
            format!("{planted}: the file outside --dir is untouched"),
        );
        run.check(
            std::fs::symlink_metadata(ws.out().join(planted)).is_ok_and(|m| m.is_symlink()),
            format!("{planted}: the link is left as it was"),
        );
        run.check(
            !ws.out().join("big.bin").exists(),
            "nothing under the final name",
        );
        run.check(
            ws.read_out_string("other.txt") == "other",
            "the other file landed",
        );
    }
}

#[test]
fn a_named_pipe_at_a_temporary_name_neither_blocks_nor_is_opened() {
    for planted in ["big.bin.part", "big.bin.part.meta"] {
        let (s, _) = server();
        let ws = Workspace::new();
        std::fs::create_dir(ws.out()).unwrap();
        mkfifo(&ws.out().join(planted));
        let run = fetch_both(&ws, &s, &[]);
        refused(&run, planted, "named pipe");
    }
}

#[test]
fn a_special_file_under_the_final_name_is_never_opened_or_replaced() {
    for mode in ["skip", "overwrite", "rename"] {
        let (s, _) = server();
        let ws = Workspace::new();
        std::fs::create_dir(ws.out()).unwrap();
        mkfifo(&ws.out().join("big.bin"));
        let run = fetch_both(&ws, &s, &["--on-exist", mode]);
        refused(&run, "big.bin", "named pipe");
        run.check(
            std::fs::symlink_metadata(ws.out().join("big.bin"))
                .is_ok_and(|m| !m.is_file() && !m.is_symlink()),
            format!("--on-exist {mode}: the pipe is still there"),
        );
    }
}

#[test]
fn a_link_where_a_subdirectory_belongs_is_refused() {
    let (s, _) = server();
    let ws = Workspace::new();
    let elsewhere = ws.root().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::create_dir(ws.out()).unwrap();
    symlink(&elsewhere, ws.out().join("sub")).unwrap();
    let manifest = ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nsubdir = \"sub/deeper\"\n\n[[file]]\nurl = \"{}\"\n",
            s.url("/big.bin"),
            s.url("/other.txt")
        ),
    );
    let run = ws.run(ws.fetch().arg("--json").arg(&manifest));
    run.code(1);
    let summary = run.summary();
    let big = summary.file("sub/deeper/big.bin");
    run.check(
        big.error
            .as_ref()
            .is_some_and(|e| e.kind == "io" && e.message.contains("symbolic link")),
        format!("the subdirectory link is refused: {:?}", big.error),
    );
    run.check(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "nothing was created through the link",
    );
    run.check(
        ws.read_out_string("other.txt") == "other",
        "the other file landed",
    );
}

#[test]
fn a_stale_regular_part_is_still_resumed_or_replaced_as_before() {
    // The checks refuse only what is not a regular file: an ordinary leftover is ours.
    let (s, data) = server();
    let ws = Workspace::new();
    std::fs::create_dir(ws.out()).unwrap();
    std::fs::write(ws.out().join("big.bin.part"), &data[..1000]).unwrap();
    std::fs::write(ws.out().join("big.bin.part.meta.tmp"), "torn").unwrap();
    let run = fetch_both(&ws, &s, &[]);
    run.code(0);
    run.check(ws.read_out("big.bin") == data, "byte-exact");
    run.check(
        ws.out_files() == ["big.bin", "other.txt"],
        "no temporary left behind",
    );
}
