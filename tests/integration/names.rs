//! Where a file lands (issue 27): `-o` for a single URL, `--content-disposition`, and the name
//! of a redirect's final URL when the URL's own path names nothing. Names from servers are
//! sanitised like names from URLs, stay inside `--dir`, and never take another file's
//! destination.

use crate::support::server::{FaultServer, Reply, Route};
use crate::support::{Workspace, body};

fn named(body: &str, disposition: &str) -> Route {
    Route::always(Reply::ok(body).header("Content-Disposition", disposition))
}

#[test]
fn output_names_the_file_of_a_single_url_inside_dir() {
    let server = FaultServer::start([("/download", Route::always(Reply::ok("report")))]);
    for (output, lands) in [("report.pdf", "report.pdf"), ("docs/r.pdf", "docs/r.pdf")] {
        let ws = Workspace::new();
        let run = ws.run(
            ws.fetch()
                .args(["--json", "-o", output])
                .arg(server.url("/download?id=42")),
        );
        run.code(0);
        run.check(
            ws.read_out_string(lands) == "report",
            format!("-o {output}"),
        );
        run.check(run.summary().files[0].path == lands, "the summary names it");
    }
}

#[test]
fn output_is_refused_outside_dir_or_for_more_than_one_url() {
    let ws = Workspace::new();
    for output in ["../x", "/etc/x", "a/../../x", "..", "sub/"] {
        let run = ws.run(ws.fetch().args(["-o", output, "http://127.0.0.1:9/a"]));
        run.code(2).stderr_has("--output");
    }
    let run = ws.run(ws.fetch().args([
        "-o",
        "one.bin",
        "http://127.0.0.1:9/a",
        "http://127.0.0.1:9/b",
    ]));
    run.code(2).stderr_has("exactly one URL");
    run.check(!ws.out().exists(), "nothing created");
}

#[test]
fn content_disposition_names_files_only_when_asked() {
    let server = FaultServer::start([
        (
            "/download",
            named("first", "attachment; filename=\"report.pdf\""),
        ),
        (
            "/euro",
            named(
                "second",
                "attachment; filename=\"rates.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt",
            ),
        ),
    ]);
    let urls = [server.url("/download?id=42"), server.url("/euro")];
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg("--json").args(&urls));
    run.code(0);
    run.check(
        ws.out_files() == ["download", "euro"],
        "without the flag, names come from the URL",
    );

    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--content-disposition"])
            .args(&urls),
    );
    run.code(0);
    run.check(ws.read_out_string("report.pdf") == "first", "filename");
    run.check(
        ws.read_out_string("\u{20ac} rates.txt") == "second",
        "filename* wins over filename",
    );
    let summary = run.summary();
    run.check(
        summary.by_url("/download?id=42").path == "report.pdf",
        "the summary says where it landed",
    );
}

#[test]
fn hostile_server_names_are_sanitised_and_stay_inside_dir() {
    let server = FaultServer::start([
        (
            "/a",
            named("a", "attachment; filename=\"../../escaped.txt\""),
        ),
        ("/b", named("b", "attachment; filename=\"/etc/passwd\"")),
        (
            "/c",
            named("c", "attachment; filename=\"evil\u{202e}txt.exe\""),
        ),
        ("/d", named("d", "attachment; filename=\"x.bin.part\"")),
        ("/e", named("e", "attachment; filename=\"..\"")),
    ]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--content-disposition"])
            .args(["/a", "/b", "/c", "/d", "/e"].map(|p| server.url(p))),
    );
    run.code(0);
    let mut files = ws.out_files();
    files.sort();
    run.check(
        files
            == [
                "_.._escaped.txt",
                "_etc_passwd",
                "e",
                "evil_txt.exe",
                "x.bin.part_",
            ],
        format!("sanitised names inside --dir: {files:?}"),
    );
    run.check(
        !ws.root().join("escaped.txt").exists(),
        "nothing outside --dir",
    );
}

#[test]
fn two_files_the_server_names_alike_never_clobber_each_other() {
    let server = FaultServer::start([
        ("/one", named("one", "attachment; filename=same.bin")),
        ("/two", named("two", "attachment; filename=same.bin")),
        ("/same.bin", Route::always(Reply::ok("planned"))),
    ]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--content-disposition", "--workers", "1"])
            .args(["/same.bin", "/one", "/two"].map(|p| server.url(p))),
    );
    run.code(0);
    run.check(
        ws.read_out_string("same.bin") == "planned",
        "the planned destination keeps its file",
    );
    let summary = run.summary();
    let one = summary.by_url("/one").path.clone();
    let two = summary.by_url("/two").path.clone();
    run.check(
        [one.as_str(), two.as_str()] == ["same.1.bin", "same.2.bin"],
        format!("the later ones are numbered: {one} {two}"),
    );
    run.check(ws.read_out_string(&one) == "one", "one");
    run.check(ws.read_out_string(&two) == "two", "two");
}

#[test]
fn a_rerun_keeps_a_file_already_under_the_servers_name() {
    let server = FaultServer::start([("/get", named("fresh", "attachment; filename=kept.txt"))]);
    let ws = Workspace::new();
    ws.write_out("kept.txt", "mine");
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--content-disposition"])
            .arg(server.url("/get")),
    );
    run.code(0);
    run.check(ws.read_out_string("kept.txt") == "mine", "untouched");
    run.check(ws.out_files() == ["kept.txt"], "nothing else written");
    let summary = run.summary();
    run.check(summary.stats.skipped == 1, "reported as skipped");
    run.check(
        summary.files[0].path == "kept.txt",
        "reported under the name it is kept as",
    );
}

#[test]
fn an_input_name_is_never_replaced_by_the_servers() {
    let server = FaultServer::start([("/get", named("x", "attachment; filename=server.txt"))]);
    let ws = Workspace::new();
    let manifest = ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nfilename = \"mine.txt\"\n",
            server.url("/get")
        ),
    );
    let run = ws.run(ws.fetch().args(["--content-disposition"]).arg(&manifest));
    run.code(0);
    run.check(ws.out_files() == ["mine.txt"], "the manifest's name");
    let run = ws.run(
        ws.fetch()
            .args([
                "--content-disposition",
                "--on-exist",
                "overwrite",
                "-o",
                "o.txt",
            ])
            .arg(server.url("/get")),
    );
    run.code(0);
    run.check(ws.read_out_string("o.txt") == "x", "-o's name");
}

#[test]
fn a_large_split_download_lands_under_the_servers_name() {
    let data = body(16 << 20, 3);
    let server = FaultServer::start([(
        "/blob",
        Route::always(
            Reply::ok(&data)
                .etag("v1")
                .header("Accept-Ranges", "bytes")
                .header("Content-Disposition", "attachment; filename=model.bin")
                .honour_range(),
        ),
    )]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--content-disposition", "--split", "4"])
            .arg(server.url("/blob")),
    );
    run.code(0);
    run.check(ws.read_out("model.bin") == data, "byte-exact");
    run.check(ws.out_files() == ["model.bin"], "no temporary left");
}

#[test]
fn a_url_without_a_name_takes_the_name_its_redirects_end_at() {
    let server = FaultServer::start([
        (
            "/",
            Route::always(Reply::status(302).header("Location", "/files/real.tar.gz")),
        ),
        ("/files/real.tar.gz", Route::always(Reply::ok("tarball"))),
        (
            "/download",
            Route::always(Reply::status(302).header("Location", "/files/real.tar.gz")),
        ),
    ]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .arg("--json")
            .args([server.url("/"), server.url("/download")]),
    );
    run.code(0);
    run.check(
        ws.read_out_string("real.tar.gz") == "tarball",
        "the final URL's name",
    );
    run.check(
        ws.read_out_string("download") == "tarball",
        "a URL that names its file keeps that name",
    );
}
