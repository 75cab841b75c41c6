//! The command line itself: --version, --help, usage errors (exit 2, nothing on stdout),
//! completions.

use crate::support::{FaultServer, Reply, Route, Workspace};
use std::time::Duration;

#[test]
fn version_exits_0_and_names_the_program() {
    let ws = Workspace::new();
    let run = ws.run(ws.dl().arg("--version"));
    run.code(0)
        .check(
            run.stdout.starts_with("dl ") && run.stdout.trim().len() > 3,
            "--version prints `dl VERSION` on stdout",
        )
        .check(
            run.stdout.contains(env!("CARGO_PKG_VERSION")),
            "--version shows the crate version",
        );
}

#[test]
fn fetch_help_documents_the_exit_codes_and_options() {
    let ws = Workspace::new();
    let run = ws.run(ws.dl().args(["fetch", "--help"]));
    run.code(0);
    for needle in [
        "--dir",
        "--workers",
        "--json",
        "--progress",
        "--on-exist",
        "--header",
        "--max-size",
        "--retries",
        "--retry-delay",
        "--shard",
        "--allow-empty",
        "--dry-run",
        "Exit codes",
    ] {
        run.stdout_has(needle);
    }
}

#[test]
fn fetch_without_a_source_is_a_usage_error() {
    let ws = Workspace::new();
    let run = ws.run(ws.dl().arg("fetch"));
    run.code(2)
        .stdout_empty()
        .stderr_has("SOURCE")
        .check(ws.all_files().is_empty(), "nothing created");
}

#[test]
fn an_input_file_alone_is_enough_and_nothing_at_all_is_not() {
    let ws = Workspace::new();
    ws.write("urls.txt", "http://127.0.0.1:9/a.bin\n");
    let run = ws.run(ws.dl().args(["fetch", "--dry-run", "-i", "urls.txt"]));
    run.code(0).stdout_has("a.bin");
    let run = ws.run(ws.dl().args(["fetch", "--dry-run"]));
    run.code(2).stdout_empty().stderr_has("<SOURCE>");
}

/// Issue 27: wget's `-c` is accepted and changes nothing, since resume is always on; the help
/// says so.
#[test]
fn continue_is_accepted_and_changes_nothing() {
    let ws = Workspace::new();
    let url = "http://127.0.0.1:9/a.bin";
    let plain = ws.run(ws.dl().args(["fetch", "--dry-run", "--json", url]));
    plain.code(0);
    for flag in ["-c", "--continue"] {
        let run = ws.run(ws.dl().args(["fetch", "--dry-run", "--json", flag, url]));
        run.code(0)
            .check(run.stdout == plain.stdout, "the same plan");
    }
    let help = ws.run(ws.dl().args(["fetch", "--help"]));
    help.code(0)
        .stdout_has("-c, --continue")
        .stdout_has("Accepted for wget habits: resume is always on");
}

/// Issue 27: `--timeout` (curl's and wget's spelling) sets the read timeout too: a server that
/// never answers is abandoned after it, and an explicit `--read-timeout` beside it wins.
#[test]
fn timeout_sets_the_read_timeout_unless_it_is_given() {
    let s = FaultServer::start([("/silent", Route::always(Reply::no_response()))]);
    let ws = Workspace::new();
    let started = std::time::Instant::now();
    let run = ws.run(
        ws.fetch()
            .args(["--json", "--retries", "0", "--timeout", "300ms"])
            .arg(s.url("/silent")),
    );
    run.code(1);
    let kind = run.summary().file("silent").error.clone().map(|e| e.kind);
    run.check(kind.as_deref() == Some("timeout"), "a timeout")
        .check(started.elapsed() < Duration::from_secs(20), "soon");

    let ws = Workspace::new();
    let started = std::time::Instant::now();
    let run = ws.run(
        ws.fetch()
            .args([
                "--retries",
                "0",
                "--timeout",
                "30s",
                "--read-timeout",
                "300ms",
            ])
            .arg(s.url("/silent")),
    );
    run.code(1).check(
        started.elapsed() < Duration::from_secs(20),
        "--read-timeout won",
    );
}

/// Issue 27: curl's and wget's spellings that mean exactly a dl option are aliases of it.
#[test]
fn curl_and_wget_spellings_are_aliases() {
    let ws = Workspace::new();
    let url = "http://127.0.0.1:9/a.bin";
    let plan = |args: &[&str]| {
        let run = ws.run(
            ws.dl()
                .args(["fetch", "--dry-run", "--json"])
                .args(args)
                .arg(url),
        );
        run.code(0);
        run.stdout.clone()
    };
    for (ours, theirs) in [
        (&["--dir", "x"][..], &["-P", "x"][..]),
        (&["--dir", "x"], &["--directory-prefix", "x"]),
        (&["--dir", "x"], &["--output-dir", "x"]),
    ] {
        assert_eq!(plan(ours), plan(theirs), "{theirs:?} is {ours:?}");
        assert_ne!(plan(ours), plan(&[]), "{ours:?} shows in the plan");
    }
    // Retries and sizes do not show in a plan: an absurd value proves which option parsed it.
    for (theirs, value, message) in [
        ("--retry", "x", "--retries <N>"),
        ("--max-filesize", "0", "--max-size <SIZE>"),
    ] {
        let run = ws.run(ws.dl().args(["fetch", "--dry-run", theirs, value, url]));
        run.code(2).stderr_has(message);
    }
    let run = ws.run(ws.dl().args([
        "fetch",
        "--dry-run",
        "--retry",
        "2",
        "--max-filesize",
        "1M",
        url,
    ]));
    run.code(0);
}

/// Issue 27: a mistyped or near-miss flag (wget's `--tries` counts attempts, so it is no alias
/// of `--retries`) exits 2 with clap's tip naming the right one.
#[test]
fn mistyped_flags_get_a_tip_naming_the_right_one() {
    let ws = Workspace::new();
    for (typed, meant) in [
        ("--tries", "--retries"),
        ("--retires", "--retries"),
        ("--workres", "--workers"),
        ("--limit-rates", "--limit-rate"),
        ("--conect-timeout", "--connect-timeout"),
        ("--timout", "--timeout"),
        ("--input", "--input-file"),
    ] {
        let run = ws.run(ws.dl().args(["fetch", typed, "3", "http://127.0.0.1:9/a"]));
        run.code(2)
            .stdout_empty()
            .stderr_has(&format!("tip: a similar argument exists: '{meant}'"));
    }
}

#[test]
fn no_subcommand_is_a_usage_error() {
    let ws = Workspace::new();
    let run = ws.run(&mut ws.dl());
    run.code(2).stdout_empty();
}

#[test]
fn bad_option_values_are_usage_errors_before_anything_happens() {
    let ws = Workspace::new();
    let url = "http://127.0.0.1:9/a.bin";
    for bad in [
        &["--workers", "0"][..],
        &["--on-exist", "clobber"],
        &["--progress", "loud"],
        &["--shard", "0/3"],
        &["--shard", "4/3"],
        &["--shard", "x"],
        &["--max-size", "10X"],
        &["--retry-delay", "soon"],
        &["--retries", "-1"],
        &["-H", "no colon here"],
        &["--no-such-option"],
    ] {
        let run = ws.run(ws.fetch().args(bad).arg(url));
        run.code(2)
            .stdout_empty()
            .check(!run.stderr.is_empty(), "a usage error explains itself")
            .check(!ws.out().exists(), "no download dir for a usage error");
    }
}

#[test]
fn quiet_and_verbose_conflict() {
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().args(["-q", "-v", "http://127.0.0.1:9/a"]));
    run.code(2).stdout_empty();
}

#[test]
fn completions_print_a_script_on_stdout() {
    let ws = Workspace::new();
    for shell in ["bash", "zsh", "fish"] {
        let run = ws.run(ws.dl().args(["completions", shell]));
        run.code(0)
            .check(run.stdout.contains("fetch"), "the script knows `fetch`")
            .check(run.stderr.is_empty(), "nothing on stderr");
    }
    let run = ws.run(ws.dl().args(["completions", "tcsh"]));
    run.code(2).stdout_empty();
}

#[test]
fn absurd_durations_rates_and_sizes_are_usage_errors() {
    // These used to be accepted and then overflow an `Instant` in the engine (a panic), or
    // fail every file (`--read-timeout 0`).
    let ws = Workspace::new();
    let longer = "is longer than 30 days";
    let zero = "must be more than 0";
    for (option, value, message) in [
        ("--retry-delay", "18446744073709551615s", longer),
        ("--read-timeout", "18446744073709551615s", longer),
        ("--connect-timeout", "31d", longer),
        ("--max-retry-delay", "1e300", longer),
        ("--max-retry-after", "99999999999999999999999h", longer),
        ("--min-speed-time", "2592001", longer),
        ("--read-timeout", "0", zero),
        ("--connect-timeout", "0s", zero),
        ("--timeout", "0", zero),
        ("--timeout", "31d", longer),
        ("--min-speed-time", "0ms", zero),
        ("--min-speed", "0", zero),
        ("--limit-rate", "0K", zero),
        ("--max-size", "0", zero),
        ("--max-size", "99999999999T", "is out of range"),
    ] {
        // Not `ws.fetch()`: it sets --retry-delay itself, and clap refuses a second one.
        let run = ws.run(ws.dl().args([
            "fetch",
            "--dry-run",
            option,
            value,
            "http://127.0.0.1:9/a.bin",
        ]));
        run.code(2)
            .stdout_empty()
            .stderr_has(option)
            .stderr_has(&format!("\"{value}\" {message}"))
            .check(!ws.out().exists(), "no download dir for a usage error");
    }
}

#[test]
fn zero_delays_and_30_day_durations_are_accepted() {
    let ws = Workspace::new();
    let run = ws.run(ws.dl().args([
        "fetch",
        "--dry-run",
        "--retry-delay",
        "0",
        "--max-retry-delay",
        "0s",
        "--max-retry-after",
        "0",
        "--read-timeout",
        "30days",
        "--connect-timeout",
        "720h",
        "--min-speed-time",
        "2592000",
        "--limit-rate",
        "off",
        "--max-size",
        "1",
        "http://127.0.0.1:9/a.bin",
    ]));
    run.code(0);
}
