//! Manifest checksums: a match for every algorithm completes; a mismatch fails with kind
//! `checksum` after one request and leaves nothing (no final file, no .part).

use crate::support::{
    FaultServer, Reply, Route, SAMPLE, SAMPLE_MD5, SAMPLE_SHA1, SAMPLE_SHA256, SAMPLE_SHA512,
    Status, Workspace,
};

fn fox_server() -> FaultServer {
    FaultServer::start([("/fox.txt", Route::always(Reply::ok(SAMPLE)))])
}

fn manifest(ws: &Workspace, server: &FaultServer, checksums: &[String]) {
    let mut text = String::new();
    for (i, c) in checksums.iter().enumerate() {
        text.push_str(&format!(
            "[[file]]\nurl = \"{}\"\nfilename = \"fox{i}.txt\"\nchecksum = \"{c}\"\n\n",
            server.url("/fox.txt")
        ));
    }
    ws.write("m.toml", text);
}

#[test]
fn a_matching_checksum_of_every_algorithm_completes() {
    let server = fox_server();
    let ws = Workspace::new();
    let sums = [
        format!("sha256:{SAMPLE_SHA256}"),
        format!("sha512:{SAMPLE_SHA512}"),
        format!("sha1:{SAMPLE_SHA1}"),
        format!("md5:{SAMPLE_MD5}"),
        format!("SHA256:{}", SAMPLE_SHA256.to_uppercase()),
        format!("MD5:{}", SAMPLE_MD5.to_uppercase()),
    ];
    manifest(&ws, &server, &sums);
    let run = ws.run(ws.fetch().args(["--json", "m.toml"]));
    run.code(0);
    let s = run.summary();
    assert_eq!(s.stats.completed, sums.len() as u64, "{}", run.report());
    for (i, _) in sums.iter().enumerate() {
        let f = s.file(&format!("fox{i}.txt"));
        assert_eq!(f.status, Status::Completed);
        assert_eq!(
            f.sha256.as_deref(),
            Some(SAMPLE_SHA256),
            "sha256 is always reported"
        );
        assert_eq!(ws.read_out_string(&format!("fox{i}.txt")), SAMPLE);
    }
}

#[test]
fn a_mismatch_of_every_algorithm_fails_after_one_request_and_leaves_nothing() {
    let server = fox_server();
    let ws = Workspace::new();
    let flip = |hex: &str| {
        let mut s = hex.to_string();
        let last = if s.ends_with('0') { "1" } else { "0" };
        s.replace_range(s.len() - 1.., last);
        s
    };
    let sums = [
        format!("sha256:{}", flip(SAMPLE_SHA256)),
        format!("sha512:{}", flip(SAMPLE_SHA512)),
        format!("sha1:{}", flip(SAMPLE_SHA1)),
        format!("md5:{}", flip(SAMPLE_MD5)),
    ];
    manifest(&ws, &server, &sums);
    let run = ws.run(ws.fetch().args(["--json", "--retries", "3", "m.toml"]));
    run.code(1);
    let s = run.summary();
    assert_eq!(s.stats.failed, 4, "{}", run.report());
    for i in 0..4 {
        let f = s.file(&format!("fox{i}.txt"));
        assert_eq!(f.status, Status::Failed);
        assert_eq!(f.attempts, 1, "a checksum mismatch is permanent");
        let e = f.error.as_ref().unwrap();
        assert_eq!(e.kind, "checksum");
        assert!(!e.retryable);
        assert_eq!(f.sha256, None, "no sha256 for a file that is not there");
    }
    assert_eq!(server.hits("/fox.txt"), 4, "exactly one request per file");
    assert!(
        ws.out_files().is_empty(),
        "no final file, no .part\n{}",
        run.report()
    );
}

#[test]
fn a_checksum_failure_does_not_stop_other_files() {
    let server = FaultServer::start([
        ("/fox.txt", Route::always(Reply::ok("a different fox"))),
        ("/other.txt", Route::always(Reply::ok("other"))),
    ]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nchecksum = \"sha256:{SAMPLE_SHA256}\"\n\n[[file]]\nurl = \"{}\"\n",
            server.url("/fox.txt"),
            server.url("/other.txt")
        ),
    );
    let run = ws.run(ws.fetch().args(["--json", "m.toml"]));
    run.code(1);
    let s = run.summary();
    assert_eq!(s.file("fox.txt").error.as_ref().unwrap().kind, "checksum");
    assert_eq!(s.file("other.txt").status, Status::Completed);
    assert_eq!(ws.out_files(), ["other.txt"], "{}", run.report());
}
