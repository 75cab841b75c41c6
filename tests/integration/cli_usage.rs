//! The command line itself: --version, --help, usage errors (exit 2, nothing on stdout),
//! completions.

use crate::support::Workspace;

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
