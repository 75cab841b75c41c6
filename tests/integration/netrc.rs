//! Credentials from netrc files (SPEC §2 `--netrc`, `--netrc-file`): sent only to the host
//! of the URL they are for, never after a redirect to another host, never over the user's
//! own credentials (URL `user:password@`, `-H Authorization`), and never printed. The two
//! hosts are 127.0.0.1 and `localhost`: the same servers under two host names.

use crate::support::server::{FaultServer, Reply, Route};
use crate::support::{Run, Workspace};

/// `http://localhost:PORT` + `path`: the server under its other host name.
fn via_localhost(server: &FaultServer, path: &str) -> String {
    format!("http://localhost:{}{path}", server.addr().port())
}

/// The Authorization header of the first request to `path`.
fn authorization(server: &FaultServer, path: &str, run: &Run) -> Option<String> {
    let requests = server.requests_to(path);
    let first = requests
        .first()
        .unwrap_or_else(|| run.fail(format!("{path} got no request")));
    first.header("authorization").map(str::to_string)
}

#[test]
fn netrc_credentials_go_to_the_matching_host_only() {
    let server = FaultServer::bodies_of(&["/a.bin", "/b.bin"]);
    let ws = Workspace::new();
    let netrc = ws.write(
        "creds",
        "machine 127.0.0.1\n  login alice\n  password s3cret-n1\n",
    );
    let run = ws.run(
        ws.fetch()
            .args(["--json", "-vv", "--netrc-file", &netrc])
            .args([server.url("/a.bin"), via_localhost(&server, "/b.bin")]),
    );
    run.code(0);
    run.check(
        authorization(&server, "/a.bin", &run).as_deref() == Some("Basic YWxpY2U6czNjcmV0LW4x"),
        "127.0.0.1 gets its netrc credentials",
    );
    run.check(
        authorization(&server, "/b.bin", &run).is_none(),
        "localhost has no entry: no credentials",
    );
    run.nowhere("s3cret-n1");
}

#[test]
fn the_default_entry_serves_any_host_and_home_netrc_is_read_with_netrc() {
    let server = FaultServer::bodies_of(&["/a.bin", "/b.bin"]);
    let ws = Workspace::new();
    std::fs::write(
        ws.root().join("home/.netrc"),
        "# mine\nmachine 127.0.0.1 login me password home-pw\n\
         macdef init\nlogin x password y\n\n\
         default login anon password anon-pw\n",
    )
    .unwrap();
    let run = ws.run(
        ws.fetch()
            .args(["--netrc", "-v"])
            .args([server.url("/a.bin"), via_localhost(&server, "/b.bin")]),
    );
    run.code(0).stderr_has("--netrc: credentials from ");
    run.check(
        authorization(&server, "/a.bin", &run).as_deref() == Some("Basic bWU6aG9tZS1wdw=="),
        "the machine entry",
    );
    run.check(
        authorization(&server, "/b.bin", &run).as_deref() == Some("Basic YW5vbjphbm9uLXB3"),
        "the default entry",
    );
    run.nowhere("home-pw").nowhere("anon-pw");
}

#[test]
fn netrc_credentials_never_follow_a_redirect_to_another_host() {
    // Even with --location-trusted, and even when the other host has an entry of its own.
    for trusted in [false, true] {
        let other = FaultServer::bodies_of(&["/landing.bin", "/same-host.bin"]);
        let origin = FaultServer::start([
            (
                "/away.bin",
                Route::always(
                    Reply::status(302).header("Location", &via_localhost(&other, "/landing.bin")),
                ),
            ),
            (
                "/near.bin",
                Route::always(Reply::status(302).header("Location", &other.url("/same-host.bin"))),
            ),
        ]);
        let ws = Workspace::new();
        let netrc = ws.write(
            "creds",
            "machine 127.0.0.1 login alice password s3cret-n1\n\
             machine localhost login bob password h0st-b\n",
        );
        let mut cmd = ws.fetch();
        cmd.args(["--json", "--netrc-file", &netrc]);
        if trusted {
            cmd.arg("--location-trusted");
        }
        let run = ws.run(cmd.args([origin.url("/away.bin"), origin.url("/near.bin")]));
        run.code(0);
        run.check(
            authorization(&origin, "/away.bin", &run).as_deref()
                == Some("Basic YWxpY2U6czNjcmV0LW4x"),
            "the first hop gets its host's credentials",
        );
        run.check(
            authorization(&other, "/landing.bin", &run).is_none(),
            format!("--location-trusted {trusted}: nothing after a redirect to another host"),
        );
        run.check(
            authorization(&other, "/same-host.bin", &run).as_deref()
                == Some("Basic YWxpY2U6czNjcmV0LW4x"),
            "a redirect to the same host (another port) keeps them",
        );
        run.nowhere("s3cret-n1").nowhere("h0st-b");
    }
}

#[test]
fn the_users_own_credentials_win_over_netrc() {
    let server = FaultServer::bodies_of(&["/a.bin", "/b.bin"]);
    let ws = Workspace::new();
    let netrc = ws.write("creds", "default login alice password s3cret-n1");
    let with_user = server.url("/a.bin").replace("http://", "http://u:urlpw@");
    let run = ws.run(ws.fetch().args(["--netrc-file", &netrc, &with_user]));
    run.code(0);
    run.check(
        authorization(&server, "/a.bin", &run).as_deref() == Some("Basic dTp1cmxwdw=="),
        "the URL's credentials, not netrc's",
    );
    let run = ws.run(ws.fetch().args([
        "--netrc-file",
        &netrc,
        "-H",
        "Authorization: Bearer tok-31",
        &server.url("/b.bin"),
    ]));
    run.code(0);
    run.check(
        authorization(&server, "/b.bin", &run).as_deref() == Some("Bearer tok-31"),
        "-H Authorization, not netrc's",
    );
    run.nowhere("s3cret-n1").nowhere("urlpw").nowhere("tok-31");
}

#[test]
fn a_netrc_file_that_cannot_be_used_is_a_usage_error_naming_it() {
    let server = FaultServer::bodies_of(&["/a.bin"]);
    let ws = Workspace::new();
    let run = ws.run(
        ws.fetch()
            .args(["--netrc-file", "no-such-netrc", &server.url("/a.bin")]),
    );
    run.code(2).stderr_has("no-such-netrc");
    let bad = ws.write("bad", "machine h login x\nsecret-word-9\n");
    let run = ws.run(
        ws.fetch()
            .args(["--netrc-file", &bad, &server.url("/a.bin")]),
    );
    run.code(2).stderr_has("bad:2").nowhere("secret-word-9");
    // A missing ~/.netrc with plain --netrc is only a warning.
    let run = ws.run(ws.fetch().args(["--netrc", &server.url("/a.bin")]));
    run.code(0).stderr_has(".netrc does not exist");
    run.check(server.total_hits() == 1, "only the last run downloads");
}
