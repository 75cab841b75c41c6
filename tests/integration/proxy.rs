//! Proxies (SPEC §2 `--proxy`, `--noproxy`): the proxy is an in-process server on 127.0.0.1
//! that answers absolute-form requests for `http://files.test/...` itself, so no name is
//! ever resolved through it. A host that bypasses it is looked up for real: `.test` names
//! never resolve, so such a file fails (and the proxy sees nothing). Proxy credentials are
//! never printed. Loopback targets never go to a proxy from the environment.

use crate::support::server::{FaultServer, Reply, Route, refused_port};
use crate::support::{Run, Workspace};

const TARGET: &str = "http://files.test/a.bin";

/// A proxy that serves `TARGET` itself.
fn proxy() -> FaultServer {
    FaultServer::start([(TARGET, Route::always(Reply::ok("via proxy")))])
}

/// `http://user:pr0xy-pw@127.0.0.1:PORT`.
fn with_credentials(proxy: &FaultServer) -> String {
    proxy.url("").replace("http://", "http://user:pr0xy-pw@")
}

/// `dl fetch` with `NO_PROXY` (which the test isolation sets to `*`) removed.
fn fetch(ws: &Workspace) -> assert_cmd::Command {
    let mut cmd = ws.fetch();
    cmd.env_remove("NO_PROXY").args(["--retries", "0"]);
    cmd
}

fn no_secret(run: &Run) {
    run.nowhere("pr0xy-pw");
}

#[test]
fn proxy_gets_every_request_with_its_credentials() {
    let proxy = proxy();
    let ws = Workspace::new();
    let run = ws.run(fetch(&ws).args([
        "--json",
        "-vv",
        "--proxy",
        &with_credentials(&proxy),
        TARGET,
    ]));
    run.code(0);
    run.check(
        ws.read_out_string("a.bin") == "via proxy",
        "the proxy's answer",
    );
    let seen = proxy.requests();
    run.check(
        seen.len() == 1 && seen[0].target == TARGET,
        format!("the proxy got the absolute-form request: {seen:?}"),
    );
    run.check(
        seen[0].header("proxy-authorization") == Some("Basic dXNlcjpwcjB4eS1wdw=="),
        "the proxy got its credentials",
    );
    no_secret(&run);
    let run = ws.run(fetch(&ws).args([
        "--dry-run",
        "--json",
        "--proxy",
        &with_credentials(&proxy),
        TARGET,
    ]));
    run.code(0);
    run.check(proxy.total_hits() == 1, "--dry-run sends nothing");
    no_secret(&run);
}

#[test]
fn noproxy_hosts_bypass_the_proxy() {
    let proxy = proxy();
    let ws = Workspace::new();
    for list in ["files.test", ".test", "*"] {
        let run = ws.run(fetch(&ws).args([
            "--json",
            "--proxy",
            &with_credentials(&proxy),
            "--noproxy",
            list,
            TARGET,
        ]));
        run.code(1);
        no_secret(&run);
    }
    assert_eq!(proxy.total_hits(), 0, "the proxy saw nothing");
}

#[test]
fn the_environment_proxy_is_used_but_never_for_loopback() {
    let proxy = proxy();
    let direct = FaultServer::bodies_of(&["/d.bin", "/e.bin"]);
    let ws = Workspace::new();
    let localhost = format!("http://localhost:{}/e.bin", direct.addr().port());
    let run = ws.run(
        fetch(&ws)
            .env("http_proxy", with_credentials(&proxy))
            .args(["--json", TARGET, &direct.url("/d.bin"), &localhost]),
    );
    run.code(0);
    run.check(
        proxy.order() == [TARGET],
        format!(
            "only files.test went through the proxy: {:?}",
            proxy.order()
        ),
    );
    run.check(
        direct.hits("/d.bin") == 1 && direct.hits("/e.bin") == 1,
        "loopback went straight to its server",
    );
    no_secret(&run);
    // `--proxy ''` turns the environment's proxy off.
    let run = ws.run(
        fetch(&ws)
            .env("http_proxy", with_credentials(&proxy))
            .args(["--on-exist", "overwrite", "--proxy", "", TARGET]),
    );
    run.code(1);
    run.check(proxy.total_hits() == 1, "no proxy with --proxy ''");
    no_secret(&run);
}

#[test]
fn an_explicit_proxy_takes_loopback_too() {
    let proxy = FaultServer::bodies_of(&[]);
    let direct = FaultServer::bodies_of(&["/d.bin"]);
    let ws = Workspace::new();
    let target = direct.url("/d.bin");
    let run = ws.run(fetch(&ws).args(["--proxy", &proxy.url(""), &target]));
    run.code(1);
    run.check(
        proxy.requests().first().map(|r| r.target.as_str()) == Some(target.as_str()),
        "the proxy got the loopback request",
    );
    run.check(direct.total_hits() == 0, "nothing went straight");
}

#[test]
fn proxy_credentials_never_appear_in_errors() {
    let ws = Workspace::new();
    let unreachable = format!("http://user:pr0xy-pw@127.0.0.1:{}", refused_port());
    let run = ws.run(fetch(&ws).args(["--json", "-vv", "--proxy", &unreachable, TARGET]));
    run.code(1);
    no_secret(&run);
    let run = ws.run(fetch(&ws).args(["--proxy", "socks5://user:pr0xy-pw@127.0.0.1:1", TARGET]));
    run.code(2).stderr_has("socks5");
    no_secret(&run);
    let file = ws.write(
        "config.toml",
        "proxy = \"ftp://user:pr0xy-pw@127.0.0.1:1\"\n",
    );
    let run = ws.run(fetch(&ws).args(["--config", &file, TARGET]));
    run.code(2).stderr_has("config.toml:1");
    no_secret(&run);
    let run = ws.run(
        fetch(&ws)
            .env("ALL_PROXY", "socks5://user:pr0xy-pw@127.0.0.1:1")
            .args(["--json", TARGET]),
    );
    run.code(1).stderr_has("ALL_PROXY is ignored");
    no_secret(&run);
}
