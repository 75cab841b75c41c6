//! Manifests (SPEC §3): `[defaults]` and per-file overrides, `${VAR}` in headers, priorities,
//! unknown keys, the JSON forms.

use crate::support::{Event, FaultServer, Workspace, assert_rejected};

#[test]
fn defaults_apply_unless_a_file_overrides_them() {
    let s = FaultServer::bodies_of(&["/a.bin", "/b.bin", "/c.bin"]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            r#"
[defaults]
subdir = "data"
headers = {{ X-Team = "blue", X-Env = "prod" }}

[[file]]
url = "{a}"

[[file]]
url = "{b}"
subdir = "other/place"
filename = "bee.bin"
headers = {{ x-team = "red" }}

[[file]]
url = "{c}"
subdir = ""
"#,
            a = s.url("/a.bin"),
            b = s.url("/b.bin"),
            c = s.url("/c.bin"),
        ),
    );
    let run = ws.run(ws.fetch().args(["--json", "m.toml"]));
    run.code(0);
    assert_eq!(
        ws.out_files(),
        ["c.bin", "data/a.bin", "other/place/bee.bin"],
        "{}",
        run.report()
    );
    let a = &s.requests_to("/a.bin")[0];
    assert_eq!(a.header("x-team"), Some("blue"));
    assert_eq!(a.header("x-env"), Some("prod"));
    let b = &s.requests_to("/b.bin")[0];
    assert_eq!(
        b.header("x-team"),
        Some("red"),
        "the file's header wins, case-insensitively"
    );
    assert_eq!(
        b.header("x-env"),
        Some("prod"),
        "other default headers still apply"
    );
    let summary = run.summary();
    assert_eq!(summary.files[1].path, "other/place/bee.bin");
}

#[test]
fn json_manifest_has_the_same_defaults_and_overrides() {
    let s = FaultServer::bodies_of(&["/a.bin", "/b.bin"]);
    let ws = Workspace::new();
    ws.write(
        "m.json",
        format!(
            r#"{{
  "defaults": {{"subdir": "data", "priority": 5, "headers": {{"X-Team": "blue"}}}},
  "file": [
    {{"url": "{a}"}},
    {{"url": "{b}", "subdir": "elsewhere", "headers": {{"X-Team": "red"}}}}
  ]
}}"#,
            a = s.url("/a.bin"),
            b = s.url("/b.bin"),
        ),
    );
    let run = ws.run(ws.fetch().args(["--json", "m.json"]));
    run.code(0);
    assert_eq!(
        ws.out_files(),
        ["data/a.bin", "elsewhere/b.bin"],
        "{}",
        run.report()
    );
    assert_eq!(s.requests_to("/a.bin")[0].header("x-team"), Some("blue"));
    assert_eq!(s.requests_to("/b.bin")[0].header("x-team"), Some("red"));
}

#[test]
fn header_values_expand_environment_variables() {
    let s = FaultServer::bodies_of(&["/secret.bin"]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nheaders = {{ Authorization = \"Bearer ${{DL_IT_TOKEN_7F3A}}\", X-Plain = \"$NOT_EXPANDED\" }}\n",
            s.url("/secret.bin")
        ),
    );
    let run = ws.run(
        ws.fetch()
            .args(["--json", "-vv", "m.toml"])
            .env("DL_IT_TOKEN_7F3A", "tok-9c1e55"),
    );
    run.code(0).nowhere("tok-9c1e55");
    let req = &s.requests_to("/secret.bin")[0];
    assert_eq!(req.header("authorization"), Some("Bearer tok-9c1e55"));
    assert_eq!(req.header("x-plain"), Some("$NOT_EXPANDED"));
}

#[test]
fn an_unset_variable_is_an_input_error_on_its_line() {
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        "[[file]]\nurl = \"http://127.0.0.1:9/a\"\n\n[[file]]\nurl = \"http://127.0.0.1:9/b\"\nheaders = { Authorization = \"Bearer ${DL_IT_SURELY_UNSET_51}\" }\n",
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("m.toml").env_remove("DL_IT_SURELY_UNSET_51"));
    assert_rejected(&ws, &run, 1, &before);
    let diag = run.diagnostics()[0];
    run.check(
        diag.starts_with("m.toml:4: ") || diag.starts_with("m.toml:6: "),
        "the problem points at the entry (line 4) or its headers (line 6)",
    )
    .stderr_has("DL_IT_SURELY_UNSET_51");
}

#[test]
fn priority_orders_downloads_with_one_worker() {
    let s = FaultServer::bodies_of(&["/p100a", "/p1", "/p5", "/p100b", "/pneg", "/p5b"]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            r#"
[[file]]
url = "{}"

[[file]]
url = "{}"
priority = 1

[[file]]
url = "{}"
priority = 5

[[file]]
url = "{}"

[[file]]
url = "{}"
priority = -3

[[file]]
url = "{}"
priority = 5
"#,
            s.url("/p100a"),
            s.url("/p1"),
            s.url("/p5"),
            s.url("/p100b"),
            s.url("/pneg"),
            s.url("/p5b"),
        ),
    );
    let run = ws.run(
        ws.fetch()
            .args(["--workers", "1", "--progress", "ndjson", "m.toml"]),
    );
    run.code(0);
    let want = ["/pneg", "/p1", "/p5", "/p5b", "/p100a", "/p100b"];
    assert_eq!(
        s.order(),
        want,
        "requests in priority order\n{}",
        run.report()
    );
    let completed: Vec<String> = run
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Completed { path, .. } => Some(format!("/{path}")),
            _ => None,
        })
        .collect();
    assert_eq!(completed, want, "completed events in priority order");
}

#[test]
fn default_priority_applies_from_defaults() {
    let s = FaultServer::bodies_of(&["/late", "/early", "/last"]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            "[defaults]\npriority = 50\n\n[[file]]\nurl = \"{}\"\n\n[[file]]\nurl = \"{}\"\npriority = 10\n",
            s.url("/late"),
            s.url("/early")
        ),
    );
    ws.write("l.txt", format!("{}\n", s.url("/last")));
    let run = ws.run(ws.fetch().args(["--workers", "1", "l.txt", "m.toml"]));
    run.code(0);
    assert_eq!(
        s.order(),
        ["/early", "/late", "/last"],
        "list entries have priority 100\n{}",
        run.report()
    );
}

#[test]
fn unknown_keys_are_errors_in_toml() {
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        "[defaults]\nsubdri = \"x\"\n\n[[file]]\nurl = \"http://127.0.0.1:9/a\"\n",
    );
    ws.write(
        "n.toml",
        "[[file]]\nurl = \"http://127.0.0.1:9/b\"\n\n[[file]]\nurl = \"http://127.0.0.1:9/c\"\nfilenme = \"c.txt\"\n",
    );
    ws.write("o.toml", "[[files]]\nurl = \"http://127.0.0.1:9/d\"\n");
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args(["m.toml", "n.toml", "o.toml"]));
    assert_rejected(&ws, &run, 3, &before);
    run.stderr_has("m.toml:2: ")
        .stderr_has("subdri")
        .stderr_has("n.toml:6: ")
        .stderr_has("filenme")
        .stderr_has("o.toml:")
        .stderr_has("files");
}

#[test]
fn unknown_keys_are_errors_in_json() {
    let ws = Workspace::new();
    ws.write(
        "m.json",
        "{\"defaults\": {\"subdir\": \"x\"},\n \"file\": [\n  {\"url\": \"http://127.0.0.1:9/a\"},\n  {\"url\": \"http://127.0.0.1:9/b\",\n   \"sha\": \"1\"}\n ]\n}\n",
    );
    ws.write("n.json", "{\"fiels\": []}");
    ws.write(
        "o.json",
        "[\n  {\"url\": \"http://127.0.0.1:9/c\", \"prio\": 1}\n]",
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args(["m.json", "n.json", "o.json"]));
    assert_rejected(&ws, &run, 3, &before);
    run.stderr_has("m.json:5: ")
        .stderr_has("`sha`")
        .stderr_has("n.json:")
        .stderr_has("fiels")
        .stderr_has("o.json:2: ")
        .stderr_has("prio");
}

#[test]
fn syntax_errors_name_their_line() {
    let ws = Workspace::new();
    ws.write("bad.toml", "[[file]]\nurl = \"http://127.0.0.1:9/a\n");
    ws.write(
        "bad.json",
        "[\n {\"url\": \"http://127.0.0.1:9/a\"},\n {\"url\": }\n]",
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args(["bad.toml", "bad.json"]));
    assert_rejected(&ws, &run, 2, &before);
    run.stderr_has("bad.toml:2: ").stderr_has("bad.json:3: ");
}

#[test]
fn wrong_value_types_are_errors() {
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        "[[file]]\nurl = \"http://127.0.0.1:9/a\"\npriority = \"high\"\n\n[[file]]\nurl = 5\n",
    );
    let before = ws.all_files();
    let run = ws.run(ws.fetch().arg("m.toml"));
    assert_rejected(&ws, &run, 2, &before);
}

#[test]
fn a_manifest_without_files_is_empty_input() {
    let ws = Workspace::new();
    ws.write("m.toml", "[defaults]\nsubdir = \"x\"\n");
    ws.write("m.json", "{\"file\": []}");
    let before = ws.all_files();
    let run = ws.run(ws.fetch().args(["m.toml", "m.json"]));
    assert_rejected(&ws, &run, 1, &before);
    run.stderr_has("--allow-empty");
}
