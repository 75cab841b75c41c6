//! Settings from the config file, its profiles and the environment (SPEC §6): precedence,
//! profile selection, every config error with its file, line and key, and the example file.

use crate::support::{FaultServer, Reply, Route, Run, Workspace, repo_root};
use clap::Parser;
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;

/// Where `dl` looks by default inside the isolated HOME (`$XDG_CONFIG_HOME/dl/config.toml`).
const DEFAULT_CONFIG: &str = "home/.config/dl/config.toml";
/// How `dl` shows that file in messages.
const DEFAULT_SHOWN: &str = "~/.config/dl/config.toml";

/// `dl fetch --dry-run --json URL ARGS...`: the plan's `dir` shows which level won.
fn planned_dir(ws: &Workspace, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = ws.dl();
    cmd.args(["fetch", "--dry-run", "--json", "http://127.0.0.1:9/a"])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = ws.run(&mut cmd);
    run.code(0);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| run.fail(format_args!("not JSON: {e}")));
    plan["dir"]
        .as_str()
        .unwrap_or_else(|| run.fail("no dir in the plan"))
        .to_string()
}

#[test]
fn each_level_overrides_the_ones_below() {
    let ws = Workspace::new();
    assert_eq!(planned_dir(&ws, &[], &[]), ".", "built-in default");
    ws.write(
        DEFAULT_CONFIG,
        "dir = \"from-file\"\n[profile.p]\ndir = \"from-profile\"\n",
    );
    assert_eq!(
        planned_dir(&ws, &[], &[]),
        "from-file",
        "config file over default"
    );
    assert_eq!(
        planned_dir(&ws, &["--profile", "p"], &[]),
        "from-profile",
        "profile over file"
    );
    let env = [("DL_DIR", "from-env")];
    assert_eq!(
        planned_dir(&ws, &["--profile", "p"], &env),
        "from-env",
        "environment over profile"
    );
    assert_eq!(
        planned_dir(&ws, &["--dir", "from-cli"], &env),
        "from-cli",
        "command line over environment"
    );
}

#[test]
fn config_file_is_found_by_flag_then_variable_then_xdg() {
    let ws = Workspace::new();
    ws.write(DEFAULT_CONFIG, "dir = \"xdg\"\n");
    ws.write("var.toml", "dir = \"var\"\n");
    ws.write("flag.toml", "dir = \"flag\"\n");
    let var = ws.root().join("var.toml");
    let var = var.to_str().expect("a UTF-8 temp path");
    assert_eq!(planned_dir(&ws, &[], &[]), "xdg");
    assert_eq!(planned_dir(&ws, &[], &[("DL_CONFIG", var)]), "var");
    assert_eq!(
        planned_dir(&ws, &["--config", "flag.toml"], &[("DL_CONFIG", var)]),
        "flag"
    );
    // Without XDG_CONFIG_HOME, ~/.config is used.
    let mut cmd = ws.dl();
    cmd.env_remove("XDG_CONFIG_HOME").args([
        "fetch",
        "--dry-run",
        "--json",
        "http://127.0.0.1:9/a",
    ]);
    ws.run(&mut cmd).code(0).stdout_has("\"dir\": \"xdg\"");
}

/// One download from a local server; returns the User-Agent it saw.
fn user_agent_seen(ws: &Workspace, args: &[&str]) -> String {
    let server = FaultServer::start([("/a", Route::always(Reply::ok("x")))]);
    let run = ws.run(
        ws.fetch()
            .args([
                "--progress",
                "none",
                "--on-exist",
                "overwrite",
                &server.url("/a"),
            ])
            .args(args),
    );
    run.code(0);
    let requests = server.requests();
    let ua = requests.first().and_then(|r| r.header("user-agent"));
    ua.unwrap_or_else(|| run.fail("no request with a User-Agent"))
        .to_string()
}

#[test]
fn requests_carry_the_winning_user_agent_and_headers() {
    let ws = Workspace::new();
    assert_eq!(
        user_agent_seen(&ws, &[]),
        format!("dl/{}", env!("CARGO_PKG_VERSION"))
    );
    ws.write(
        DEFAULT_CONFIG,
        "user-agent = \"file/1\"\nheaders = { X-From = \"file\" }\n[profile.p]\nuser-agent = \"profile/1\"\n",
    );
    assert_eq!(user_agent_seen(&ws, &[]), "file/1");
    assert_eq!(user_agent_seen(&ws, &["--profile", "p"]), "profile/1");
    assert_eq!(
        user_agent_seen(&ws, &["--profile", "p", "--user-agent", "cli/1"]),
        "cli/1"
    );

    let server = FaultServer::start([("/a", Route::always(Reply::ok("x")))]);
    let run = ws.run(ws.fetch().args([
        "--progress",
        "none",
        "--on-exist",
        "overwrite",
        "-H",
        "X-Cli: yes",
        &server.url("/a"),
    ]));
    run.code(0);
    let request = server
        .requests()
        .into_iter()
        .next()
        .unwrap_or_else(|| run.fail("no request"));
    assert_eq!(request.header("x-from"), Some("file"), "{request:?}");
    assert_eq!(request.header("x-cli"), Some("yes"), "{request:?}");
}

#[test]
fn profiles_are_chosen_by_flag_or_variable() {
    let ws = Workspace::new();
    ws.write(
        DEFAULT_CONFIG,
        "dir = \"top\"\n[profile.ci]\ndir = \"ci\"\n[profile.polite]\nworkers = 1\n",
    );
    assert_eq!(planned_dir(&ws, &["--profile", "ci"], &[]), "ci");
    assert_eq!(planned_dir(&ws, &[], &[("DL_PROFILE", "ci")]), "ci");
    assert_eq!(
        planned_dir(&ws, &["--profile", "polite"], &[("DL_PROFILE", "ci")]),
        "top",
        "the flag wins"
    );
}

/// Runs `dl fetch` (against a server that must see no request) and expects the config error.
#[track_caller]
fn rejected(ws: &Workspace, args: &[&str], env: &[(&str, &str)], expected: &str) -> Run {
    let server = FaultServer::start([]);
    let mut cmd = ws.fetch();
    cmd.args(args).arg(server.url("/a"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = ws.run(&mut cmd);
    run.code(2).stdout_empty();
    run.check(
        run.stderr == format!("dl: error: {expected}\n"),
        format_args!("stderr should be exactly `dl: error: {expected}`"),
    );
    run.check(server.total_hits() == 0, "no request may be made");
    run.check(!ws.out().exists(), "the download dir must not be created");
    run
}

#[test]
fn config_errors_name_file_line_and_key() {
    let ws = Workspace::new();
    ws.write(DEFAULT_CONFIG, "workers = 4\n\nwokers = 3\n");
    rejected(
        &ws,
        &[],
        &[],
        &format!("{DEFAULT_SHOWN}:3: unknown key \"wokers\" (did you mean \"workers\"?)"),
    );

    ws.write(
        DEFAULT_CONFIG,
        "# slow servers\nretries = 3\n\n\nretry-delay = \"fast\"\n",
    );
    let run = rejected_prefix(
        &ws,
        &format!("{DEFAULT_SHOWN}:5: retry-delay: \"fast\" is not a duration"),
    );
    run.stderr_has("500ms");

    ws.write(DEFAULT_CONFIG, "workers = 4\nprogress = \"plain\n");
    rejected_prefix(&ws, &format!("{DEFAULT_SHOWN}:2: invalid TOML: "));

    ws.write(DEFAULT_CONFIG, "[profile.ci]\nretries = -1\n");
    rejected(
        &ws,
        &[],
        &[],
        &format!("{DEFAULT_SHOWN}:2: retries: \"-1\" is not a whole number 0 or more"),
    );

    ws.write(DEFAULT_CONFIG, "[profile.ci]\njson = true\n");
    rejected(
        &ws,
        &[],
        &[],
        &format!(
            "{DEFAULT_SHOWN}:2: unknown key \"json\" in [profile.ci]: --json is chosen per run, on the command line"
        ),
    );
}

#[track_caller]
fn rejected_prefix(ws: &Workspace, prefix: &str) -> Run {
    let run = ws.run(ws.fetch().arg("http://127.0.0.1:9/a"));
    run.code(2).stdout_empty();
    run.check(
        run.stderr.starts_with(&format!("dl: error: {prefix}")) && run.stderr.lines().count() == 1,
        format_args!("stderr should be one line starting `dl: error: {prefix}`"),
    );
    run
}

#[test]
fn a_missing_named_config_file_is_an_error_but_a_missing_default_is_not() {
    let ws = Workspace::new();
    assert_eq!(planned_dir(&ws, &[], &[]), ".");
    let run = ws.run(
        ws.fetch()
            .args(["--config", "nope.toml", "http://127.0.0.1:9/a"]),
    );
    run.code(2)
        .stdout_empty()
        .stderr_has("dl: error: cannot read the config file nope.toml (from --config): ");
    let run = ws.run(
        ws.fetch()
            .arg("http://127.0.0.1:9/a")
            .env("DL_CONFIG", "/nonexistent/dl.toml"),
    );
    run.code(2).stderr_has(
        "dl: error: cannot read the config file /nonexistent/dl.toml (from DL_CONFIG): ",
    );
}

#[test]
fn unknown_profiles_are_listed() {
    let ws = Workspace::new();
    rejected(
        &ws,
        &["--profile", "ci"],
        &[],
        &format!(
            "--profile ci: no config file was found to hold [profile.ci] ({DEFAULT_SHOWN} does not exist); \
             write one there, or name one with --config FILE or DL_CONFIG"
        ),
    );
    ws.write(
        DEFAULT_CONFIG,
        "[profile.polite]\nsplit = 1\n[profile.ci]\nretries = 9\n",
    );
    rejected(
        &ws,
        &["--profile", "cj"],
        &[],
        &format!(
            "--profile cj: there is no [profile.cj] in {DEFAULT_SHOWN}; known profiles: ci, polite"
        ),
    );
    rejected(
        &ws,
        &[],
        &[("DL_PROFILE", "cj")],
        &format!(
            "DL_PROFILE=cj: there is no [profile.cj] in {DEFAULT_SHOWN}; known profiles: ci, polite"
        ),
    );
}

#[test]
fn bad_environment_values_name_the_variable() {
    let ws = Workspace::new();
    rejected(
        &ws,
        &[],
        &[("DL_WORKERS", "lots")],
        "environment variable DL_WORKERS: \"lots\" is not a whole number from 1 to 1024",
    );
    rejected(
        &ws,
        &[],
        &[("DL_PROGRESS", "loud")],
        "environment variable DL_PROGRESS: \"loud\" is not one of auto, bars, plain, ndjson, none",
    );
}

#[test]
fn special_modes_ignore_a_broken_config_file() {
    let ws = Workspace::new();
    ws.write(DEFAULT_CONFIG, "this is [not toml\n");
    for args in [
        &["completions", "bash"][..],
        &["--help"],
        &["fetch", "--help"],
        &["--version"],
    ] {
        let run = ws.run(ws.dl().args(args));
        run.code(0)
            .check(!run.stdout.is_empty(), "something on stdout")
            .check(run.stderr.is_empty(), "no error");
    }
    let run = ws.run(ws.dl().args(["completions", "bash"]));
    let committed = std::fs::read_to_string(repo_root().join("completions/dl.bash"))
        .expect("completions/dl.bash");
    run.check(
        run.stdout == committed,
        "`dl completions bash` equals completions/dl.bash",
    );
}

fn example() -> String {
    std::fs::read_to_string(repo_root().join("config.example.toml")).expect("config.example.toml")
}

/// The example with every `# key = value` line uncommented.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if is_setting(rest) => rest,
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

/// `key = value` with a config-key-shaped key.
fn is_setting(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '-')
    })
}

/// Long options that are deliberately not config keys, and why.
const NOT_IN_CONFIG: [&str; 19] = [
    "report",              // per run: which files this run writes
    "json",                // per run: a flag without --no-json could never be undone
    "input-file",          // per run, like the SOURCEs
    "continue",            // does nothing: resume is always on
    "dry-run",             // per run
    "shard",               // per run (one machine's slice)
    "allow-empty",         // per run, a flag
    "quiet",               // per run, a flag
    "verbose",             // per run, a flag (RUST_LOG does the rest)
    "location-trusted",    // a flag: trusting redirects is decided per run
    "output",              // names the one file of this run's input
    "content-disposition", // a flag, per run
    "compressed",          // a flag, per run
    "insecure",            // per run: no file may turn certificate checks off for every run
    "no-netrc",            // undoes the file's netrc for one run
    "config",              // chooses the file itself
    "profile",             // chooses a table of the file
    "help",
    "version",
];

#[test]
fn example_config_covers_every_setting_and_parses() {
    let fetch = dl::cli::command()
        .find_subcommand("fetch")
        .expect("fetch")
        .clone();
    let settable: BTreeSet<String> = fetch
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|long| !NOT_IN_CONFIG.contains(long))
        .map(|long| {
            if long == "header" {
                "headers".to_string()
            } else {
                long.to_string()
            }
        })
        .collect();
    let keys: BTreeSet<String> = dl::settings::CONFIG_KEYS
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(
        settable, keys,
        "every option is a config key or listed in NOT_IN_CONFIG"
    );

    let text = example();
    let documented: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| is_setting(l))
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.to_string()))
        .collect();
    assert_eq!(
        documented, keys,
        "config.example.toml shows every key, commented out"
    );

    let file =
        dl::settings::ConfigFile::parse("config.example.toml", &text).expect("the example parses");
    assert_eq!(file.profile_names().collect::<Vec<_>>(), ["ci", "polite"]);
    dl::settings::ConfigFile::parse("config.example.toml (uncommented)", &uncommented(&text))
        .unwrap_or_else(|e| panic!("the uncommented example parses: {e}"));
}

/// The settings `dl fetch URL ARGS` resolves to, as text, with `config` as the config file.
fn settings_with(config: Option<&str>, args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut env: HashMap<&str, OsString> = HashMap::new();
    env.insert("HOME", dir.path().into());
    env.insert("XDG_CONFIG_HOME", dir.path().join("none").into());
    if let Some(text) = config {
        std::fs::write(dir.path().join("c.toml"), text).expect("write the config");
        env.insert("DL_CONFIG", dir.path().join("c.toml").into());
    }
    let argv = ["dl", "fetch", "http://127.0.0.1:9/a"].iter().chain(args);
    let dl::cli::Command::Fetch(fetch) = dl::cli::Cli::parse_from(argv).command else {
        unreachable!("a fetch command")
    };
    let settings = dl::settings::Settings::resolve(&fetch, &|name| env.get(name).cloned(), false)
        .unwrap_or_else(|e| panic!("settings resolve: {e}"));
    format!("{settings:?}")
}

#[test]
fn example_config_documents_the_true_defaults() {
    let defaults = settings_with(None, &[]);
    assert_eq!(
        settings_with(Some(&example()), &[]),
        defaults,
        "the example as shipped is a no-op"
    );
    let version = format!("dl/{}", env!("CARGO_PKG_VERSION"));
    // Keys whose default is "not set" (the environment decides) show a sample value instead.
    let sample = |line: &str| {
        ["proxy = ", "noproxy = "]
            .iter()
            .any(|k| line.starts_with(k))
    };
    let all: String = uncommented(&example())
        .replace("dl/VERSION", &version)
        .lines()
        .filter(|line| !sample(line))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        settings_with(Some(&all), &[]),
        defaults,
        "every value shown is the default"
    );
    assert_ne!(
        settings_with(Some(&all), &["--profile", "ci"]),
        defaults,
        "the ci profile changes something"
    );
}
