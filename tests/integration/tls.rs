//! HTTPS (SPEC §2 "Trust"): a private CA trusted through `--cacert` or `SSL_CERT_FILE`, an
//! untrusted certificate failing at once as `tls` (not retryable), `--insecure`, HTTP/2
//! chosen by ALPN and shared by many files, and resume and `--split` over TLS. Every server
//! is in-process on 127.0.0.1 with certificates made by the test.

use crate::support::server::{FaultServer, Reply, Route};
use crate::support::tls::{ETAG, Pki, TlsServer};
use crate::support::{MIB, Workspace, body};

/// A server with one file, `/a.bin`, and what it holds.
fn one_file(pki: &Pki) -> (TlsServer, Vec<u8>) {
    let data = body(100 * 1024, 7);
    let server = TlsServer::start(pki, vec![("/a.bin".into(), data.clone())], &[]);
    (server, data)
}

#[test]
fn a_private_ca_given_with_cacert_is_trusted() {
    let (pki, ws) = (Pki::new(), Workspace::new());
    let (s, data) = one_file(&pki);
    let ca = pki.write_ca(ws.root());
    let run = ws.run(
        ws.fetch()
            .arg("--json")
            .arg("--cacert")
            .arg(&ca)
            .arg(s.url("/a.bin")),
    );
    run.code(0);
    run.check(ws.read_out("a.bin") == data, "a.bin is what was served");
}

#[test]
fn a_plain_http_url_may_redirect_to_https() {
    // A run of http URLs sets up no TLS until a hop needs it: then the roots are loaded.
    let (pki, ws) = (Pki::new(), Workspace::new());
    let (s, data) = one_file(&pki);
    let ca = pki.write_ca(ws.root());
    let plain = FaultServer::start([(
        "/a.bin",
        Route::always(Reply::status(302).header("Location", &s.url("/a.bin"))),
    )]);
    let run = ws.run(ws.fetch().arg("--cacert").arg(&ca).arg(plain.url("/a.bin")));
    run.code(0);
    run.check(
        ws.read_out("a.bin") == data,
        "a.bin is what the https server holds",
    );
    run.check(s.connections() == 1, "one TLS connection");
}

#[test]
fn a_private_ca_named_by_ssl_cert_file_is_trusted() {
    let (pki, ws) = (Pki::new(), Workspace::new());
    let (s, data) = one_file(&pki);
    let ca = pki.write_ca(ws.root());
    let run = ws.run(ws.fetch().env("SSL_CERT_FILE", &ca).arg(s.url("/a.bin")));
    run.code(0);
    run.check(ws.read_out("a.bin") == data, "a.bin is what was served");
}

#[test]
fn an_untrusted_certificate_fails_at_once_and_says_what_to_do() {
    let (pki, ws) = (Pki::new(), Workspace::new());
    let (s, _) = one_file(&pki);
    // Retries allowed: a certificate failure must not use them.
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "5"])
            .arg(s.url("/a.bin")),
    );
    run.code(1);
    let summary = run.summary();
    let file = summary.file("a.bin");
    let error = file.error.as_ref().expect("an error");
    assert_eq!(error.kind, "tls", "{}", run.report());
    assert!(!error.retryable, "{}", run.report());
    assert_eq!(file.attempts, 1, "{}", run.report());
    run.check(
        error
            .message
            .contains("certificate not trusted: UnknownIssuer")
            && error.message.contains("--cacert FILE"),
        "the message says why and what to do",
    );
    run.check(s.connections() == 1, "one handshake, no retries");
    run.check(s.requests().is_empty(), "no request got through");
    run.check(!ws.out().join("a.bin").exists(), "nothing saved");
}

#[test]
fn insecure_skips_verification_and_warns_once() {
    let (pki, ws) = (Pki::new(), Workspace::new());
    let data = body(10_000, 3);
    let files = vec![("/a".into(), data.clone()), ("/b".into(), data.clone())];
    let s = TlsServer::start(&pki, files, &[]);
    let run = ws.run(ws.fetch().arg("-k").arg(s.url("/a")).arg(s.url("/b")));
    run.code(0);
    run.check(
        ws.read_out("a") == data && ws.read_out("b") == data,
        "both files",
    );
    run.check(
        run.stderr.matches("not verified").count() == 1,
        "one warning about --insecure",
    );
}

#[test]
fn http2_is_negotiated_and_carries_many_files_on_few_connections() {
    let (pki, ws) = (Pki::new(), Workspace::new());
    let files: Vec<(String, Vec<u8>)> = (0..50)
        .map(|n| (format!("/f{n}"), body(4096 + n, n as u8)))
        .collect();
    let s = TlsServer::start(&pki, files.clone(), &[]);
    let list: String = files.iter().map(|(p, _)| s.url(p) + "\n").collect();
    let list = ws.write("urls.txt", list);
    let ca = pki.write_ca(ws.root());
    let cap = 4;
    let run = ws.run(
        ws.fetch()
            .args([
                "--workers",
                "16",
                "--max-per-host",
                &cap.to_string(),
                "--cacert",
            ])
            .arg(&ca)
            .arg(&list),
    );
    run.code(0);
    for (path, data) in &files {
        run.check(
            &ws.read_out(&path[1..]) == data,
            format_args!("{path} is exact"),
        );
    }
    let seen = s.requests();
    assert_eq!(seen.len(), 50, "{seen:?}");
    assert!(
        seen.iter().all(|r| r.version == "HTTP/2.0"),
        "every request over HTTP/2: {seen:?}"
    );
    assert!(
        s.connections() <= cap,
        "{} connections for 50 files, cap {cap}",
        s.connections()
    );
}

#[test]
fn an_interrupted_https_download_resumes_with_if_range() {
    let (pki, ws) = (Pki::new(), Workspace::new());
    let data = body(3 * MIB, 11);
    let cut = 2 * MIB;
    let s = TlsServer::start(
        &pki,
        vec![("/big.bin".into(), data.clone())],
        &[("/big.bin", cut)],
    );
    let ca = pki.write_ca(ws.root());
    let first = ws.run(
        ws.fetch()
            .args(["--retries", "0", "--cacert"])
            .arg(&ca)
            .arg(s.url("/big.bin")),
    );
    first.code(1);
    let part = std::fs::read(ws.out().join("big.bin.part"))
        .unwrap_or_else(|_| first.fail("a .part is kept for the next run"));
    first.check(
        !part.is_empty() && data.starts_with(&part),
        "the .part is a prefix",
    );

    let second = ws.run(ws.fetch().arg("--cacert").arg(&ca).arg(s.url("/big.bin")));
    second.code(0);
    second.check(ws.read_out("big.bin") == data, "big.bin is exact");
    let seen = s.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[1].range.as_deref(),
        Some(&*format!("bytes={}-", part.len()))
    );
    assert_eq!(seen[1].if_range.as_deref(), Some(ETAG));
    assert_eq!(ws.out_files(), ["big.bin"], "no .part or metadata left");
}

#[test]
fn split_downloads_over_https_with_range_requests() {
    let (pki, ws) = (Pki::new(), Workspace::new());
    let data = body(16 * MIB, 5);
    let s = TlsServer::start(&pki, vec![("/huge.bin".into(), data.clone())], &[]);
    let ca = pki.write_ca(ws.root());
    let run = ws.run(
        ws.fetch()
            .args(["--split", "4", "--cacert"])
            .arg(&ca)
            .arg(s.url("/huge.bin")),
    );
    run.code(0);
    run.check(ws.read_out("huge.bin") == data, "huge.bin is exact");
    let ranged = s.requests().iter().filter(|r| r.range.is_some()).count();
    assert!(
        ranged >= 3,
        "pieces were asked with Range: {:?}",
        s.requests()
    );
}

#[test]
fn a_bad_cacert_file_is_a_usage_error_before_any_request() {
    let (pki, ws) = (Pki::new(), Workspace::new());
    let (s, _) = one_file(&pki);
    let garbage = ws.write("garbage.pem", "not a certificate\n");
    for file in ["missing.pem", garbage.as_str()] {
        let run = ws.run(ws.fetch().args(["--cacert", file]).arg(s.url("/a.bin")));
        run.code(2).stderr_has(&format!("--cacert {file}:"));
    }
    assert_eq!(s.connections(), 0, "no connection was made");
}

#[test]
fn a_run_with_no_more_files_than_workers_uses_http1() {
    // Issue 30: with a connection per file HTTP/2 multiplexes nothing, and HTTP/1.1 moves a
    // large body with less CPU; HTTP/2 stays for runs with more files than workers (above).
    let (pki, ws) = (Pki::new(), Workspace::new());
    let files: Vec<(String, Vec<u8>)> = (0..2)
        .map(|n| (format!("/big{n}"), body(1 << 20, n as u8)))
        .collect();
    let s = TlsServer::start(&pki, files.clone(), &[]);
    let ca = pki.write_ca(ws.root());
    let run = ws.run(
        ws.fetch()
            .args(["--workers", "2", "--cacert"])
            .arg(&ca)
            .args(files.iter().map(|(p, _)| s.url(p))),
    );
    run.code(0);
    for (path, data) in &files {
        run.check(
            &ws.read_out(&path[1..]) == data,
            format_args!("{path} is exact"),
        );
    }
    let seen = s.requests();
    assert!(
        !seen.is_empty() && seen.iter().all(|r| r.version == "HTTP/1.1"),
        "every request over HTTP/1.1: {seen:?}"
    );
}
