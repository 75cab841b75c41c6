use super::locate::display_path;
use super::*;
use crate::cli::{Cli, Command};
use crate::policy::OnExist;
use clap::Parser;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

fn args(extra: &[&str]) -> FetchArgs {
    let argv = ["dl", "fetch", "http://127.0.0.1/a"]
        .into_iter()
        .chain(extra.iter().copied());
    match Cli::try_parse_from(argv).expect("valid arguments").command {
        Command::Fetch(args) => args,
        Command::Completions(_) => unreachable!(),
    }
}

/// Resolves `extra` arguments with `config` as the file named by `DL_CONFIG` (when given) and
/// the variables `vars`.
fn resolve(
    extra: &[&str],
    config: Option<&str>,
    vars: &[(&str, &str)],
) -> Result<Settings, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let mut env: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.into()))
        .collect();
    env.insert("HOME".into(), dir.path().join("home").into());
    env.insert("XDG_CONFIG_HOME".into(), dir.path().join("xdg").into());
    if let Some(text) = config {
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        env.insert("DL_CONFIG".into(), path.into());
    }
    Settings::resolve(&args(extra), &|name| env.get(name).cloned(), false)
}

fn error(extra: &[&str], config: Option<&str>, vars: &[(&str, &str)]) -> String {
    resolve(extra, config, vars)
        .expect_err("an error")
        .to_string()
}

#[test]
fn defaults_are_the_engines() {
    let s = resolve(&[], None, &[]).unwrap();
    let d = EngineConfig::default();
    assert_eq!(s.plan.dir, PathBuf::from("."));
    assert_eq!(
        (s.engine.workers, s.engine.max_per_host, s.engine.split),
        (d.workers, d.max_per_host, d.split)
    );
    assert_eq!(s.engine.retry, d.retry);
    assert_eq!(
        (s.engine.limit_rate, s.engine.max_size, s.engine.min_speed),
        (None, None, None)
    );
    assert_eq!(s.engine.user_agent, d.user_agent);
    assert_eq!(s.progress, ProgressMode::Plain, "auto without a terminal");
}

#[test]
fn update_is_an_on_exist_mode_in_config_files_and_on_the_command_line() {
    let s = resolve(&[], Some("on-exist = \"update\"\n"), &[]).unwrap();
    assert_eq!(s.engine.on_exist, OnExist::Update);
    let s = resolve(&["--on-exist", "update"], None, &[]).unwrap();
    assert_eq!(s.engine.on_exist, OnExist::Update);
}

#[test]
fn each_level_wins_over_the_ones_below() {
    let file = "workers = 2\nretries = 2\n[profile.p]\nworkers = 3\nretries = 3\n";
    let workers = |extra: &[&str], vars: &[(&str, &str)]| {
        resolve(extra, Some(file), vars).unwrap().engine.workers
    };
    assert_eq!(workers(&[], &[]), 2, "file over default");
    assert_eq!(workers(&["--profile", "p"], &[]), 3, "profile over file");
    assert_eq!(
        workers(&[], &[("DL_PROFILE", "p")]),
        3,
        "DL_PROFILE selects too"
    );
    assert_eq!(
        workers(&["--profile", "p"], &[("DL_WORKERS", "4")]),
        4,
        "environment over profile"
    );
    assert_eq!(
        workers(&["-w", "5"], &[("DL_WORKERS", "4")]),
        5,
        "command line over environment"
    );
    let s = resolve(&["--retries", "0"], Some(file), &[("DL_RETRIES", "9")]).unwrap();
    assert_eq!(s.engine.retry.retries, 0);
}

#[test]
fn every_key_reaches_the_settings() {
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), ca_pem()).unwrap();
    let netrc = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(netrc.path(), "machine h.test login me password pw").unwrap();
    let file = &r#"
        dir = "out"
        workers = 3
        progress = "ndjson"
        on-exist = "rename"
        user-agent = "robot/1"
        headers = { X-One = "1" }
        netrc = true
        netrc-file = "NETRC"
        max-size = "10M"
        connect-timeout = "1s"
        read-timeout = 2
        timeout = "5s"
        min-speed = "1K"
        min-speed-time = "3s"
        max-per-host = 2
        split = 4
        limit-rate = "1M"
        retries = 7
        retry-delay = "10ms"
        max-retry-delay = "1m"
        max-retry-after = "2m"
        cacert = "CA"
        proxy = "http://u:pw@proxy.test:3128"
        noproxy = "files.test"
    "#
    .replace("CA", &ca.path().display().to_string())
    .replace("NETRC", &netrc.path().display().to_string());
    let s = resolve(&[], Some(file), &[]).unwrap();
    let e = &s.engine;
    assert_eq!(s.plan.dir, PathBuf::from("out"));
    assert_eq!((e.workers, e.max_per_host, e.split), (3, 2, 4));
    assert_eq!(s.progress, ProgressMode::Ndjson);
    assert_eq!(e.on_exist, OnExist::Rename);
    assert_eq!(e.user_agent, "robot/1");
    assert_eq!(e.headers.len(), 1);
    assert_eq!(
        (e.max_size, e.min_speed, e.limit_rate),
        (Some(10 << 20), Some(1024), Some(1 << 20))
    );
    // `timeout` gives way to both (see the test below for where it lands).
    assert_eq!(
        (e.connect_timeout, e.read_timeout),
        (Duration::from_secs(1), Duration::from_secs(2))
    );
    assert_eq!(e.min_speed_time, Duration::from_secs(3));
    assert_eq!(e.retry.retries, 7);
    assert_eq!(
        (e.retry.base, e.retry.max),
        (Duration::from_millis(10), Duration::from_secs(60))
    );
    assert_eq!(e.max_retry_after, Duration::from_secs(120));
    assert_eq!((s.cacert.len(), e.trust.extra.len()), (1, 1));
    assert!(s.netrc);
    let login = e.netrc.as_ref().and_then(|n| n.lookup("h.test"));
    assert_eq!(login.map(|l| l.login.as_str()), Some("me"));
    let proxy = format!("{:?}", e.proxy);
    assert!(
        proxy.contains("u:***@proxy.test") && !proxy.contains("pw"),
        "{proxy}"
    );
    assert_eq!(e.proxy.no_proxy.as_deref(), Some("files.test"));
    // Every key is tested above, so a new key without a test fails here.
    let written: Vec<_> = file
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, _)| k.trim())
        .collect();
    assert_eq!(written, CONFIG_KEYS);
}

#[test]
fn off_undoes_a_limit_from_below() {
    let file = "limit-rate = \"1M\"\nmax-size = \"1G\"\n[profile.free]\nmax-size = \"off\"\n";
    let s = resolve(&["--limit-rate", "off"], Some(file), &[]).unwrap();
    assert_eq!(
        (s.engine.limit_rate, s.engine.max_size),
        (None, Some(1 << 30))
    );
    let s = resolve(&["--profile", "free"], Some(file), &[]).unwrap();
    assert_eq!(
        (s.engine.limit_rate, s.engine.max_size),
        (Some(1 << 20), None)
    );
}

#[test]
fn headers_merge_by_name() {
    let file = "headers = { A = \"file\", B = \"file\" }\n[profile.p]\nheaders = { B = \"profile\", C = \"profile\" }\n";
    let s = resolve(&["--profile", "p", "-H", "C: cli"], Some(file), &[]).unwrap();
    let mut got: Vec<_> = s
        .engine
        .headers
        .iter()
        .map(|(n, v)| format!("{n}={}", v.expose().to_str().unwrap()))
        .collect();
    got.sort();
    assert_eq!(got, ["a=file", "b=profile", "c=cli"]);
}

#[test]
fn quiet_means_no_progress_unless_asked() {
    let file = "progress = \"ndjson\"\n";
    assert_eq!(
        resolve(&["-q"], Some(file), &[]).unwrap().progress,
        ProgressMode::None
    );
    assert_eq!(
        resolve(&["-q", "--progress", "plain"], Some(file), &[])
            .unwrap()
            .progress,
        ProgressMode::Plain
    );
    assert_eq!(
        resolve(&[], Some(file), &[("DL_PROGRESS", "none")])
            .unwrap()
            .progress,
        ProgressMode::None
    );
}

#[test]
fn tilde_in_dir_is_home() {
    let s = resolve(&[], Some("dir = \"~/downloads\"\n"), &[]).unwrap();
    assert!(s.plan.dir.ends_with("home/downloads"), "{:?}", s.plan.dir);
}

#[test]
fn a_missing_default_file_is_fine_but_a_named_one_is_not() {
    assert!(resolve(&[], None, &[]).is_ok());
    let e = error(&["--config", "/nonexistent/dl.toml"], None, &[]);
    assert!(
        e.contains("/nonexistent/dl.toml") && e.contains("--config"),
        "{e}"
    );
    let e = error(&[], None, &[("DL_CONFIG", "/nonexistent/dl.toml")]);
    assert!(
        e.contains("/nonexistent/dl.toml") && e.contains("DL_CONFIG"),
        "{e}"
    );
    let e = error(&["--profile", "ci"], None, &[]);
    assert!(
        e.contains("no config file was found") && e.contains("dl/config.toml"),
        "{e}"
    );
}

#[test]
fn errors_name_file_line_and_key() {
    let e = error(&[], Some("workers = 2\n\nwokers = 3\n"), &[]);
    assert!(
        e.ends_with("config.toml:3: unknown key \"wokers\" (did you mean \"workers\"?)"),
        "{e}"
    );
    let e = error(&[], Some("# c\nretry-delay = \"fast\"\n"), &[]);
    assert!(
        e.contains("config.toml:2: retry-delay: \"fast\" is not a duration"),
        "{e}"
    );
    let e = error(&[], Some("workers = [1]\n"), &[]);
    assert!(
        e.contains(":1: workers: expected a string or a number, found an array"),
        "{e}"
    );
    let e = error(&[], Some("split = 65\n"), &[]);
    assert!(
        e.contains(":1: split: \"65\" is not a whole number from 1 to 64"),
        "{e}"
    );
    let e = error(&[], Some("workers = 2\nworkers = \"3\n"), &[]);
    assert!(e.contains("config.toml:2: invalid TOML"), "{e}");
    let e = error(&[], Some("[profile.ci]\njson = true\n"), &[]);
    assert!(
        e.contains(":2: unknown key \"json\" in [profile.ci]: --json is chosen per run"),
        "{e}"
    );
    let e = error(&[], Some("max_per_host = 1\n"), &[]);
    assert!(e.contains("(did you mean \"max-per-host\"?)"), "{e}");
    let e = error(&[], Some("headers = { \"bad name\" = \"x\" }\n"), &[]);
    assert!(
        e.contains(":1: headers: \"bad name\" is not a valid header name"),
        "{e}"
    );
    let e = error(&[], Some("progress = \"fancy\"\n"), &[]);
    assert!(
        e.contains("progress: \"fancy\" is not one of auto, bars, plain, ndjson, none"),
        "{e}"
    );
}

#[test]
fn the_first_problem_by_line_is_reported() {
    let e = error(&[], Some("zzz = 1\naaa = 2\n"), &[]);
    assert!(e.contains(":1: unknown key \"zzz\""), "{e}");
}

#[test]
fn unknown_profiles_list_the_known_ones() {
    let file = "[profile.ci]\nretries = 9\n[profile.polite]\nsplit = 1\n";
    let e = error(&["--profile", "cj"], Some(file), &[]);
    assert!(
        e.starts_with("--profile cj: there is no [profile.cj] in "),
        "{e}"
    );
    assert!(e.ends_with("known profiles: ci, polite"), "{e}");
    let e = error(&[], Some("workers = 1\n"), &[("DL_PROFILE", "ci")]);
    assert!(
        e.starts_with("DL_PROFILE=ci: ") && e.ends_with("it has no [profile.NAME] tables"),
        "{e}"
    );
}

#[test]
fn environment_errors_name_the_variable() {
    let e = error(&[], None, &[("DL_WORKERS", "many")]);
    assert_eq!(
        e,
        "environment variable DL_WORKERS: \"many\" is not a whole number from 1 to 1024"
    );
    let e = error(&[], None, &[("DL_PROGRESS", "loud")]);
    assert!(
        e.starts_with("environment variable DL_PROGRESS: \"loud\" is not one of"),
        "{e}"
    );
    // An empty variable is unset.
    assert_eq!(
        resolve(&[], None, &[("DL_WORKERS", "")])
            .unwrap()
            .engine
            .workers,
        8
    );
    assert_eq!(
        resolve(&[], None, &[("DL_DIR", "d")]).unwrap().plan.dir,
        PathBuf::from("d")
    );
}

#[test]
fn header_values_expand_only_in_the_tables_used() {
    let file = "[profile.ci]\nheaders = { Authorization = \"Bearer ${DL_TEST_SURELY_UNSET}\" }\n";
    assert!(resolve(&[], Some(file), &[]).is_ok());
    let e = error(&["--profile", "ci"], Some(file), &[]);
    assert!(
        e.contains(
            ":2: headers.authorization: environment variable DL_TEST_SURELY_UNSET is not set"
        ),
        "{e}"
    );
}

#[test]
fn config_file_lists_its_profiles() {
    let file = ConfigFile::parse("c.toml", "[profile.b]\n[profile.a]\nretries = 1\n").unwrap();
    assert_eq!(file.name(), "c.toml");
    assert_eq!(file.profile_names().collect::<Vec<_>>(), ["a", "b"]);
}

#[test]
fn paths_under_home_are_shown_with_a_tilde() {
    let home = Path::new("/home/me");
    assert_eq!(
        display_path(Path::new("/home/me/.config/dl/config.toml"), Some(home)),
        "~/.config/dl/config.toml"
    );
    assert_eq!(
        display_path(Path::new("/etc/dl.toml"), Some(home)),
        "/etc/dl.toml"
    );
    assert_eq!(display_path(Path::new("rel.toml"), Some(home)), "rel.toml");
}

#[test]
fn zero_delays_and_30_days_are_fine() {
    let file = "retry-delay = 0\nmax-retry-delay = \"0s\"\nmax-retry-after = 0\n\
                read-timeout = \"30days\"\nconnect-timeout = \"720h\"\n";
    let e = resolve(&[], Some(file), &[]).unwrap().engine;
    assert_eq!(
        (e.retry.base, e.retry.max, e.max_retry_after),
        (Duration::ZERO, Duration::ZERO, Duration::ZERO)
    );
    let month = Duration::from_secs(30 * 24 * 3600);
    assert_eq!((e.read_timeout, e.connect_timeout), (month, month));
}

#[test]
fn timeout_sets_both_timeouts_unless_one_is_given_at_its_level() {
    let secs = Duration::from_secs;
    let timeouts = |extra: &[&str], config: Option<&str>| {
        let e = resolve(extra, config, &[]).unwrap().engine;
        (e.connect_timeout, e.read_timeout)
    };
    assert_eq!(timeouts(&["--timeout", "7"], None), (secs(7), secs(7)));
    let both = ["--timeout", "7", "--connect-timeout", "3"];
    assert_eq!(timeouts(&both, None), (secs(3), secs(7)));
    let file = "timeout = \"9s\"\nread-timeout = \"4s\"\n";
    assert_eq!(timeouts(&[], Some(file)), (secs(9), secs(4)));
    // A higher level's shorthand wins over a lower level's specific key, like any key.
    assert_eq!(
        timeouts(&["--timeout", "7"], Some(file)),
        (secs(7), secs(7))
    );
    let profile = "connect-timeout = \"2s\"\n[profile.p]\ntimeout = \"5s\"\n";
    let chosen = timeouts(&["--profile", "p"], Some(profile));
    assert_eq!(chosen, (secs(5), secs(5)));
}

/// A self-signed CA certificate, PEM.
fn ca_pem() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap().pem()
}

#[test]
fn ca_files_add_up_and_a_bad_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.pem"), dir.path().join("b.pem"));
    std::fs::write(&a, ca_pem() + &ca_pem()).unwrap();
    std::fs::write(&b, ca_pem()).unwrap();
    let file = format!("cacert = [{:?}]\n", a.display().to_string());
    let b_arg = b.display().to_string();
    let s = resolve(&["--cacert", &b_arg], Some(&file), &[]).unwrap();
    assert_eq!(
        s.cacert,
        [a.clone(), b.clone()],
        "the file's, then the command line's"
    );
    assert_eq!(s.engine.trust.extra.len(), 3);
    assert!(!s.engine.trust.insecure && s.engine.trust.system);
    let e = error(&["--cacert", "/nonexistent/ca.pem"], None, &[]);
    assert!(
        e.starts_with("--cacert /nonexistent/ca.pem: cannot read it"),
        "{e}"
    );
    std::fs::write(&b, "not a certificate").unwrap();
    let e = error(&["--cacert", &b_arg], None, &[]);
    assert!(e.contains("b.pem: holds no PEM certificate"), "{e}");
    assert!(resolve(&["-k"], None, &[]).unwrap().engine.trust.insecure);
    let e = error(&[], Some("cacert = [1]\n"), &[]);
    assert!(
        e.contains("cacert: expected a file name, found an integer"),
        "{e}"
    );
    let e = error(&[], Some("insecure = true\n"), &[]);
    assert!(
        e.contains("unknown key \"insecure\": --insecure is chosen per run"),
        "{e}"
    );
}

#[test]
fn netrc_files_asked_for_must_be_readable_and_valid() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let missing = missing.to_str().unwrap();
    let e = error(&["--netrc-file", missing], None, &[]);
    assert!(
        e.starts_with(&format!("--netrc-file {missing}: cannot read it")),
        "{e}"
    );
    // The default file may be missing: no credentials, no error.
    let s = resolve(&["--netrc"], None, &[("NETRC", missing)]).unwrap();
    assert!(s.engine.netrc.is_none());
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "machine a\nlogin b\nsecret-word").unwrap();
    let e = error(&["--netrc"], None, &[("NETRC", bad.to_str().unwrap())]);
    assert_eq!(
        e,
        format!(
            "{}:3: netrc: unexpected word (expected machine, default, login, password, account or macdef)",
            bad.display()
        )
    );
    // --no-netrc undoes the config file's netrc.
    let file = format!("netrc-file = {missing:?}");
    assert!(
        resolve(&["--no-netrc"], Some(&file), &[])
            .unwrap()
            .engine
            .netrc
            .is_none()
    );
}
