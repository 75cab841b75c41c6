//! `--compressed` (issue 27): gzip, br and zstd are asked for and decoded; the checks (sizes,
//! checksums, `--max-size`) apply to the decoded bytes; a decompression bomb stops at
//! `--max-size`; a corrupt stream is `invalid_response`; nothing is resumed. Without the flag,
//! nothing is asked for and a body is stored exactly as served.

use crate::support::server::{FaultServer, Reply, Route};
use crate::support::{Workspace, sha256_hex};
use std::io::Write;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn br(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn text(len: usize) -> Vec<u8> {
    b"the quick brown fox jumps over the lazy dog\n"
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

fn encoded(body: Vec<u8>, encoding: &str) -> Route {
    Route::always(Reply::ok(body).header("Content-Encoding", encoding))
}

#[test]
fn each_encoding_is_asked_for_and_stored_decoded() {
    let data = text(300_000);
    let server = FaultServer::start([
        ("/g.txt", encoded(gzip(&data), "gzip")),
        ("/b.txt", encoded(br(&data), "br")),
        ("/z.txt", encoded(zstd(&data), "zstd")),
    ]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--compressed"])
            .args(["/g.txt", "/b.txt", "/z.txt"].map(|p| server.url(p))),
    );
    run.code(0);
    let summary = run.summary();
    for name in ["g.txt", "b.txt", "z.txt"] {
        run.check(ws.read_out(name) == data, format!("{name}: decoded"));
        let f = summary.file(name);
        run.check(
            f.bytes == data.len() as u64 && f.sha256.as_deref() == Some(sha256_hex(&data).as_str()),
            format!("{name}: size and sha256 of the decoded bytes"),
        );
    }
    let asked = server.requests_to("/g.txt")[0]
        .header("accept-encoding")
        .unwrap_or_default()
        .to_string();
    run.check(
        ["gzip", "br", "zstd"].iter().all(|e| asked.contains(e)),
        format!("Accept-Encoding: {asked}"),
    );
    run.check(
        server.body_bytes_to("/g.txt") < 10_000,
        "the transfer itself was small",
    );
}

#[test]
fn without_the_flag_bytes_are_stored_exactly_as_served() {
    let data = text(10_000);
    let served = gzip(&data);
    let server = FaultServer::start([("/g.txt", encoded(served.clone(), "gzip"))]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg(server.url("/g.txt")));
    run.code(0);
    run.check(ws.read_out("g.txt") == served, "stored as served");
    run.check(
        server.requests_to("/g.txt")[0]
            .header("accept-encoding")
            .is_none(),
        "no Accept-Encoding asked for",
    );
}

#[test]
fn max_size_counts_decoded_bytes_and_stops_a_bomb() {
    // 64 MiB of zeros, about 64 KiB on the wire.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    let data = text(100_000);
    let server = FaultServer::start([
        ("/bomb.bin", encoded(bomb, "gzip")),
        ("/text.txt", encoded(gzip(&data), "gzip")),
    ]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--compressed", "--max-size", "50K"])
            .args([server.url("/bomb.bin"), server.url("/text.txt")]),
    );
    run.code(1);
    let summary = run.summary();
    for name in ["bomb.bin", "text.txt"] {
        let f = summary.file(name);
        run.check(
            f.error.as_ref().is_some_and(|e| e.kind == "too_large") && f.attempts == 1,
            format!("{name}: too_large after one attempt: {:?}", f.error),
        );
    }
    run.check(ws.out_files().is_empty(), "nothing stored");
}

#[test]
fn a_corrupt_stream_is_an_invalid_response_not_retried() {
    let mut broken = gzip(&text(200_000));
    let mid = broken.len() / 2;
    for b in &mut broken[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let server = FaultServer::start([("/c.txt", encoded(broken, "gzip"))]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--compressed"])
            .arg(server.url("/c.txt")),
    );
    run.code(1);
    let summary = run.summary();
    let f = summary.file("c.txt");
    run.check(
        f.error
            .as_ref()
            .is_some_and(|e| e.kind == "invalid_response" && !e.retryable),
        format!("invalid_response: {:?}", f.error),
    );
    run.check(server.hits("/c.txt") == 1, "one request");
    run.check(ws.out_files().is_empty(), "nothing stored");
}

#[test]
fn a_part_is_not_resumed_with_compressed_and_the_user_is_told() {
    let data = text(3 << 20);
    let server = FaultServer::start([(
        "/big.txt",
        Route::always(
            Reply::ok(gzip(&data))
                .header("Content-Encoding", "gzip")
                .etag("v1")
                .honour_range(),
        ),
    )]);
    let ws = Workspace::new();
    ws.write_out("big.txt.part", &data[..1 << 20]);
    ws.write_out(
        "big.txt.part.meta",
        format!(
            "{{\"version\":1,\"url\":\"{}\",\"etag\":\"\\\"v1\\\"\",\"last_modified\":null,\"total\":{}}}",
            server.url("/big.txt"),
            data.len()
        ),
    );
    let run = ws.run(
        ws.fetch()
            .args(["--compressed", "--split", "4"])
            .arg(server.url("/big.txt")),
    );
    run.code(0);
    run.stderr_has("not resumed with --compressed");
    run.check(ws.read_out("big.txt") == data, "whole and decoded");
    run.check(
        server
            .requests_to("/big.txt")
            .iter()
            .all(|r| r.header("range").is_none()),
        "no range asked for",
    );
    run.check(ws.out_files() == ["big.txt"], "no part or metadata left");
}
