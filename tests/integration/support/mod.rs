//! Shared test support: an isolated `dl` command, a `Workspace` (temp dir with sources and a
//! download dir), a `Run` that prints everything when an assertion fails, and the JSON summary
//! and NDJSON events as typed structs (schema drift fails loudly).

#![allow(dead_code)]

pub mod server;
pub mod tls;

use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use server::{FaultServer, Reply, Route, ranged};

/// Longest any single `dl` run may take in a test before it is killed (a hang is a failure,
/// not a stuck suite).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

pub const MIB: usize = 1024 * 1024;

/// The repository's root (where `Cargo.toml`, `completions/` and `config.example.toml` are).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Proxy variables: requests must go straight to 127.0.0.1.
const PROXY_VARS: [&str; 6] = [
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
];

/// Isolates a `dl` process from the machine running the tests: HOME and XDG_CONFIG_HOME in
/// the test's temp dir, no `DL_*` variable (DL_CONFIG, DL_WORKERS, DL_PROFILE, ...), no
/// RUST_LOG, no proxy, no SSL_CERT_FILE / SSL_CERT_DIR (a test that wants one sets it),
/// NO_COLOR=1.
pub fn isolate(cmd: &mut std::process::Command, home: &Path) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("DL_") {
            cmd.env_remove(key);
        }
    }
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("RUST_LOG")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env("NO_COLOR", "1")
        .env("NO_PROXY", "*");
}

/// The built `dl` binary (what `assert_cmd::Command::cargo_bin("dl")` finds) as an assert_cmd
/// command, isolated (see [`isolate`]), with an empty, immediately closed stdin unless a test
/// writes one, and killed after [`RUN_TIMEOUT`].
pub fn dl(home: &Path) -> assert_cmd::Command {
    let mut std_cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dl"));
    isolate(&mut std_cmd, home);
    let mut cmd = assert_cmd::Command::from_std(std_cmd);
    cmd.write_stdin(Vec::new()).timeout(RUN_TIMEOUT);
    cmd
}

/// The same isolation for a plain `std::process::Command`, for tests that need the child
/// process itself (signals, a closed stdout pipe). stdin is /dev/null.
pub fn dl_std(ws: &Workspace) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dl"));
    isolate(&mut cmd, &ws.root().join("home"));
    cmd.current_dir(ws.root())
        .stdin(std::process::Stdio::null());
    cmd
}

/// Says on the test's stderr that a test could not run here and why (it then returns early:
/// the environment cannot make the case, which is not a failure of `dl`).
#[allow(clippy::print_stderr)]
pub fn skip(why: &str) {
    eprintln!("note: test skipped: {why}");
}

/// Polls `condition` every 5 ms until it holds or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    condition()
}

/// A scratch directory for one test: sources are written at its root, `dl` runs with it as
/// the current directory, downloads go to `dl-out/` (not created until `dl` creates it).
pub struct Workspace {
    dir: tempfile::TempDir,
}

/// The download directory's name inside the workspace, as passed to `--dir`.
pub const OUT: &str = "dl-out";

impl Workspace {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dl-it-")
            .tempdir()
            .expect("create a temp dir");
        std::fs::create_dir(dir.path().join("home")).expect("create HOME");
        Workspace { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The download directory (`--dir dl-out`), absolute.
    pub fn out(&self) -> PathBuf {
        self.root().join(OUT)
    }

    /// A `dl` command running in the workspace (relative source names stay as written).
    pub fn dl(&self) -> assert_cmd::Command {
        let mut cmd = dl(&self.root().join("home"));
        cmd.current_dir(self.root());
        cmd
    }

    /// `dl fetch --dir dl-out --retry-delay 1ms`: the usual start (no waiting between retries;
    /// progress is `auto`, i.e. plain lines, since stderr is not a terminal).
    pub fn fetch(&self) -> assert_cmd::Command {
        let mut cmd = self.dl();
        cmd.args(["fetch", "--dir", OUT, "--retry-delay", "1ms"]);
        cmd
    }

    /// `dl fetch --json URL` (see [`Workspace::fetch`]), which must exit 0 with
    /// `dl-out/NAME` byte for byte `want`; returns the run for further checks.
    #[track_caller]
    pub fn fetch_whole(&self, url: &str, name: &str, want: &[u8]) -> Run {
        let run = self.run(self.fetch().arg("--json").arg(url));
        run.code(0);
        let got = self.read_out(name);
        run.check(
            got == want,
            format_args!(
                "{OUT}/{name} is not byte for byte what was served: {} bytes, want {}{}",
                got.len(),
                want.len(),
                match got.iter().zip(want).position(|(a, b)| a != b) {
                    Some(at) => format!(", first difference at byte {at}"),
                    None => String::new(),
                }
            ),
        );
        run
    }

    /// Writes a file (creating parents) relative to the workspace root; returns its name.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.root().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, contents).expect("write a source file");
        name.to_string()
    }

    /// Writes a file inside the download directory (a file "the user already had").
    pub fn write_out(&self, rel: &str, contents: impl AsRef<[u8]>) {
        self.write(&format!("{OUT}/{rel}"), contents);
    }

    /// Reads a result file relative to the download directory.
    pub fn read_out(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.out().join(rel))
            .unwrap_or_else(|e| panic!("cannot read {OUT}/{rel}: {e}\n{}", self.listing()))
    }

    pub fn read_out_string(&self, rel: &str) -> String {
        String::from_utf8(self.read_out(rel)).expect("utf-8 file")
    }

    /// Every file under the download directory, relative, `/`-separated, sorted (directories
    /// are listed with a trailing `/` only when empty).
    pub fn out_files(&self) -> Vec<String> {
        list_files(&self.out())
    }

    /// Every file in the workspace except HOME, relative to its root, sorted.
    pub fn all_files(&self) -> Vec<String> {
        list_files(self.root())
            .into_iter()
            .filter(|p| !p.starts_with("home/"))
            .collect()
    }

    /// The workspace tree, for failure messages.
    pub fn listing(&self) -> String {
        let files = self.all_files();
        if files.is_empty() {
            return "workspace: (empty)".into();
        }
        let mut text = String::from("workspace:");
        for f in files {
            let _ = write!(text, "\n  {f}");
        }
        text
    }

    /// Runs `cmd` and captures everything about it.
    pub fn run(&self, cmd: &mut assert_cmd::Command) -> Run {
        let cmdline = describe(cmd);
        let output = cmd.output().expect("spawn dl");
        Run {
            cmdline,
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            listing: self.listing(),
        }
    }
}

/// Runs `dl` with `args`, from the workspace root, with the download directory on a tmpfs
/// of `size` (`256k`, `4m`) mounted in a private mount namespace (unshare), so nothing
/// outlives the run. Returns the run and what the tmpfs held after it (sorted `NAME SIZE`
/// lines, listed before the mount went away), or `None` (the test is then skipped, and says
/// so) where user namespaces or mounts are not allowed. Linux only (unshare, tmpfs).
#[cfg(target_os = "linux")]
pub fn run_on_small_tmpfs(
    ws: &Workspace,
    size: &str,
    args: &[String],
) -> Option<(Run, Vec<String>)> {
    std::fs::create_dir_all(ws.out()).expect("create the download dir");
    let mount = r#"mount -t tmpfs -o "size=$1" tmpfs "$2" || exit 99"#;
    let can_mount = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c", mount, "sh", size])
        .arg(ws.out())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !can_mount {
        skip("cannot mount a tmpfs in a user namespace here");
        return None;
    }
    let listing = ws.root().join("tmpfs-listing.txt");
    let script = format!(
        r#"{mount}
dir=$2; listing=$3; shift 3
"$@"; rc=$?
find "$dir" -mindepth 1 -printf '%P %s\n' | sort > "$listing"
exit $rc"#
    );
    let mut cmd = std::process::Command::new("unshare");
    isolate(&mut cmd, &ws.root().join("home"));
    cmd.current_dir(ws.root())
        .args(["-rm", "sh", "-c", &script, "sh", size])
        .arg(ws.out())
        .arg(&listing)
        .arg(env!("CARGO_BIN_EXE_dl"))
        .args(args);
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.write_stdin(Vec::new()).timeout(RUN_TIMEOUT);
    let run = ws.run(&mut cmd);
    let held = std::fs::read_to_string(&listing).unwrap_or_default();
    Some((run, held.lines().map(String::from).collect()))
}

/// Sorted relative paths of every file under `dir` (empty directories as `dir/`).
pub fn list_files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut empty = true;
        for entry in entries.flatten() {
            empty = false;
            let path = entry.path();
            let file_type = entry.file_type().expect("file type");
            if file_type.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(rel(base, &path));
            }
        }
        if empty && dir != base {
            out.push(format!("{}/", rel(base, dir)));
        }
    }
    fn rel(base: &Path, path: &Path) -> String {
        let rel = path.strip_prefix(base).expect("under base");
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn describe(cmd: &assert_cmd::Command) -> String {
    let mut text = String::from("dl");
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.contains(' ') || arg.is_empty() {
            let _ = write!(text, " '{arg}'");
        } else {
            let _ = write!(text, " {arg}");
        }
    }
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value
            && !matches!(
                key.to_str(),
                Some("HOME" | "XDG_CONFIG_HOME" | "NO_COLOR" | "NO_PROXY")
            )
        {
            let _ = write!(
                text,
                "  [env {}={}]",
                key.to_string_lossy(),
                value.to_string_lossy()
            );
        }
    }
    text
}

/// The outcome of one `dl` run. Every assertion here prints the whole story on failure.
#[derive(Debug)]
pub struct Run {
    pub cmdline: String,
    /// `None` when killed by a signal (e.g. a panic abort or the timeout).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The workspace listing taken right after the run.
    pub listing: String,
}

impl Run {
    /// Everything about the run, for a failure message.
    pub fn report(&self) -> String {
        format!(
            "command: {}\nexit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- {}\n",
            self.cmdline, self.code, self.stdout, self.stderr, self.listing
        )
    }

    /// Panics with `message` and the full report.
    #[track_caller]
    pub fn fail(&self, message: impl std::fmt::Display) -> ! {
        panic!("{message}\n{}", self.report())
    }

    /// Asserts `condition`, printing `message` and the full report otherwise.
    #[track_caller]
    pub fn check(&self, condition: bool, message: impl std::fmt::Display) -> &Self {
        if !condition {
            self.fail(message);
        }
        self
    }

    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        if self.code != Some(expected) {
            self.fail(format_args!("expected exit code {expected}"));
        }
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        self.check(
            self.stderr.contains(needle),
            format_args!("stderr should contain {needle:?}"),
        )
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        self.check(
            self.stdout.contains(needle),
            format_args!("stdout should contain {needle:?}"),
        )
    }

    /// Asserts `needle` appears nowhere in stdout or stderr.
    #[track_caller]
    pub fn nowhere(&self, needle: &str) -> &Self {
        self.check(
            !self.stdout.contains(needle) && !self.stderr.contains(needle),
            format_args!("{needle:?} must not appear in stdout or stderr"),
        )
    }

    #[track_caller]
    pub fn stdout_empty(&self) -> &Self {
        self.check(self.stdout.is_empty(), "stdout should be empty")
    }

    /// Parses stdout as exactly one JSON summary (nothing before or after it), checking that
    /// every object has exactly the documented keys.
    #[track_caller]
    pub fn summary(&self) -> Summary {
        let value: serde_json::Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| self.fail(format_args!("stdout is not one JSON document: {e}")));
        if let Err(e) = check_summary_keys(&value) {
            self.fail(e);
        }
        serde_json::from_value(value)
            .unwrap_or_else(|e| self.fail(format_args!("stdout does not match schema 1: {e}")))
    }

    /// Parses stdout as exactly one JSON document of either kind (a plan when it says
    /// `"dry_run": true`), with the same strictness as [`Run::summary`].
    #[track_caller]
    pub fn document(&self) -> Document {
        let value: serde_json::Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| self.fail(format_args!("stdout is not one JSON document: {e}")));
        if value.get("dry_run").is_some() {
            return Document::Plan(
                serde_json::from_value(value).unwrap_or_else(|e| {
                    self.fail(format_args!("stdout is not a dry-run plan: {e}"))
                }),
            );
        }
        Document::Summary(self.summary())
    }

    /// Parses stdout as the document of a run rejected before it started: `ok` false, zero
    /// stats, no files, at least one diagnostic; returns the diagnostics.
    #[track_caller]
    pub fn rejected_document(&self) -> Vec<Diagnostic> {
        let summary = self.summary();
        let st = &summary.stats;
        self.check(
            !summary.ok
                && summary.files.is_empty()
                && (
                    st.total,
                    st.completed,
                    st.skipped,
                    st.failed,
                    st.cancelled,
                    st.bytes,
                ) == (0, 0, 0, 0, 0, 0),
            "a rejected run's document has ok false, zero stats and no files",
        );
        let diags = summary
            .diagnostics
            .unwrap_or_else(|| self.fail("a rejected run's document has diagnostics"));
        self.check(!diags.is_empty(), "at least one diagnostic");
        diags
    }

    /// Every stderr line parsed as an NDJSON event (fails on any line that is not one).
    #[track_caller]
    pub fn events(&self) -> Vec<Event> {
        self.stderr
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
                    self.fail(format_args!(
                        "stderr line {} is not JSON ({e}): {line:?}",
                        i + 1
                    ))
                });
                if value.get("event").and_then(|v| v.as_str()).is_none() {
                    self.fail(format_args!(
                        "stderr line {} has no \"event\" string: {line:?}",
                        i + 1
                    ));
                }
                serde_json::from_value(value).unwrap_or_else(|e| {
                    self.fail(format_args!(
                        "stderr line {} is not a known event ({e}): {line:?}",
                        i + 1
                    ))
                })
            })
            .collect()
    }

    /// The stderr lines that are `SOURCE:LINE: message` diagnostics (all but the closing line).
    pub fn diagnostics(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.starts_with("dl: error:"))
            .collect()
    }
}

/// Asserts a run that must have been rejected before any request: exit 2, stdout empty, the
/// closing line names `problems` problems, and nothing was created in the workspace.
#[track_caller]
pub fn assert_rejected(ws: &Workspace, run: &Run, problems: usize, files_before: &[String]) {
    run.code(2).stdout_empty();
    let closing = if problems == 1 {
        "dl: error: 1 problem in the input; nothing was downloaded".to_string()
    } else {
        format!("dl: error: {problems} problems in the input; nothing was downloaded")
    };
    let last = run.stderr.lines().last().unwrap_or("");
    run.check(
        last == closing,
        format_args!("the last stderr line should be {closing:?}"),
    );
    run.check(
        run.diagnostics().len() == problems,
        format_args!("expected {problems} diagnostic lines"),
    );
    run.check(!ws.out().exists(), "the download dir must not be created");
    run.check(
        ws.all_files() == files_before,
        "no file may be created by a rejected run",
    );
}

/// The JSON summary, schema 1 (SPEC §5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub schema: u32,
    pub ok: bool,
    pub stats: Stats,
    pub files: Vec<FileReport>,
    /// Only on a run rejected before it started (exit 2): every problem found.
    #[serde(default)]
    pub diagnostics: Option<Vec<Diagnostic>>,
    /// Only when the input has manifest groups.
    #[serde(default)]
    pub groups: Vec<Group>,
}

/// One manifest group's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    pub status: Status,
    pub total: u64,
    pub completed: u64,
    pub skipped: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub bytes: u64,
}

/// One problem of a rejected run: `line` is `null` for a source as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diagnostic {
    pub source: String,
    pub line: Option<u32>,
    pub message: String,
}

/// The `--dry-run --json` document: a summary's head, and the planned files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanDoc {
    pub schema: u32,
    pub ok: bool,
    pub dry_run: bool,
    pub dir: String,
    pub stats: Stats,
    pub files: Vec<PlannedFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedFile {
    pub url: String,
    pub path: String,
    pub priority: i64,
    pub checksum: Option<String>,
    /// `download`, `resume`, `skip`, `update` or `fail`.
    pub action: String,
    /// Bytes already on disk (the `.part` to resume, the file to skip or update).
    pub on_disk: u64,
}

/// Whatever `--json` printed: a run's summary (finished, failed, interrupted or rejected)
/// or a dry run's plan.
#[derive(Debug, Clone)]
pub enum Document {
    Summary(Summary),
    Plan(PlanDoc),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    pub total: u64,
    pub completed: u64,
    pub skipped: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub bytes: u64,
    pub elapsed_secs: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Completed,
    Skipped,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileReport {
    pub url: String,
    pub path: String,
    pub status: Status,
    pub bytes: u64,
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub sha256: Option<String>,
    pub error: Option<ErrorReport>,
    /// Why a skipped file was kept: `exists`, `verified` or `unchanged`.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorReport {
    pub kind: String,
    pub retryable: bool,
    pub message: String,
}

impl Summary {
    /// The report for the file whose path is `path`.
    #[track_caller]
    pub fn file(&self, path: &str) -> &FileReport {
        self.files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("no file {path:?} in the summary: {self:#?}"))
    }

    /// The report for the file whose URL ends with `suffix`.
    #[track_caller]
    pub fn by_url(&self, suffix: &str) -> &FileReport {
        self.files
            .iter()
            .find(|f| f.url.ends_with(suffix))
            .unwrap_or_else(|| panic!("no file with URL ending {suffix:?}: {self:#?}"))
    }
}

/// serde fills a missing `Option` field with `None`; the contract says every key is always
/// present (`null` when empty), so the key sets are checked on the raw value too.
fn check_summary_keys(value: &serde_json::Value) -> Result<(), String> {
    fn keys(v: &serde_json::Value, what: &str) -> Result<BTreeSet<String>, String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .ok_or_else(|| format!("{what} is not an object: {v}"))
    }
    fn expect(v: &serde_json::Value, what: &str, want: &[&str]) -> Result<(), String> {
        let got = keys(v, what)?;
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        if got == want {
            Ok(())
        } else {
            Err(format!("{what} has keys {got:?}, expected {want:?}"))
        }
    }
    // `diagnostics` only on a rejected run, which lists no file; `groups` only when the
    // input has groups.
    let rejected = value.get("diagnostics").is_some();
    let head: &[&str] = match (rejected, value.get("groups").is_some()) {
        (true, _) => &["schema", "ok", "stats", "files", "diagnostics"],
        (false, true) => &["schema", "ok", "stats", "files", "groups"],
        (false, false) => &["schema", "ok", "stats", "files"],
    };
    expect(value, "the summary", head)?;
    if rejected && value["files"].as_array().is_none_or(|f| !f.is_empty()) {
        return Err("a summary with diagnostics lists no files".into());
    }
    expect(
        &value["stats"],
        "stats",
        &[
            "total",
            "completed",
            "skipped",
            "failed",
            "cancelled",
            "bytes",
            "elapsed_secs",
        ],
    )?;
    for (i, file) in value["files"]
        .as_array()
        .ok_or("files is not an array")?
        .iter()
        .enumerate()
    {
        let what = format!("files[{i}]");
        expect(
            file,
            &what,
            &[
                "url",
                "path",
                "status",
                "bytes",
                "attempts",
                "http_status",
                "sha256",
                "error",
                "reason",
            ],
        )?;
        if !file["error"].is_null() {
            expect(
                &file["error"],
                &format!("{what}.error"),
                &["kind", "retryable", "message"],
            )?;
        }
    }
    Ok(())
}

/// One NDJSON progress event (`--progress ndjson`), as documented.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    Queued {
        id: u32,
        path: String,
        url: String,
    },
    Started {
        id: u32,
        path: String,
    },
    Progress {
        id: u32,
        path: String,
        bytes: u64,
        total: Option<u64>,
    },
    Retry {
        id: u32,
        path: String,
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        reason: String,
    },
    Completed {
        id: u32,
        path: String,
        bytes: u64,
        attempts: u32,
        http_status: u16,
        sha256: String,
        #[serde(default)]
        renamed_to: Option<String>,
    },
    Skipped {
        id: u32,
        path: String,
        bytes: u64,
        sha256: Option<String>,
        reason: String,
        attempts: u32,
        http_status: Option<u16>,
        #[serde(default)]
        renamed_to: Option<String>,
    },
    Failed {
        id: u32,
        path: String,
        error: ErrorReport,
        attempts: u32,
        http_status: Option<u16>,
    },
    Cancelled {
        id: u32,
        path: String,
        /// Only when a member of the file's group failed (`group_failed`).
        #[serde(default)]
        error: Option<ErrorReport>,
    },
    /// The run stops early: `now` false = start nothing new, true = stop now.
    Stopping {
        now: bool,
        /// `interrupt`, `terminate` or `write_error`.
        cause: String,
    },
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Queued { .. } => "queued",
            Event::Started { .. } => "started",
            Event::Progress { .. } => "progress",
            Event::Retry { .. } => "retry",
            Event::Completed { .. } => "completed",
            Event::Skipped { .. } => "skipped",
            Event::Failed { .. } => "failed",
            Event::Cancelled { .. } => "cancelled",
            Event::Stopping { .. } => "stopping",
        }
    }

    pub fn path(&self) -> Option<&str> {
        match self {
            Event::Queued { path, .. }
            | Event::Started { path, .. }
            | Event::Progress { path, .. }
            | Event::Retry { path, .. }
            | Event::Completed { path, .. }
            | Event::Skipped { path, .. }
            | Event::Failed { path, .. }
            | Event::Cancelled { path, .. } => Some(path),
            Event::Stopping { .. } => None,
        }
    }
}

/// Known digests of [`SAMPLE`], computed with coreutils (`printf ... | sha256sum` etc.), so the
/// tests do not share code with `dl`'s own hashing.
pub const SAMPLE: &str = "The quick brown fox jumps over the lazy dog";
pub const SAMPLE_SHA256: &str = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592";
pub const SAMPLE_SHA512: &str = "07e547d9586f6a73f73fbac0435ed76951218fb7d0c8d788a309d785436bbb642e93a252a954f23912547d1e8a3b5ed6e1bfd7097821233fa0538f3db854fee6";
pub const SAMPLE_SHA1: &str = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12";
pub const SAMPLE_MD5: &str = "9e107d9d372bb6826bd81d3542a419d6";

/// The sha256 of `bytes` in lowercase hex (the sha2 crate, not dl's code path).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The retry events of the file at `path`, in order: (attempt, max_attempts, delay_ms, reason).
pub fn retries_of(events: &[Event], path: &str) -> Vec<(u32, u32, u64, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Retry {
                path: p,
                attempt,
                max_attempts,
                delay_ms,
                reason,
                ..
            } if p == path => Some((*attempt, *max_attempts, *delay_ms, reason.clone())),
            _ => None,
        })
        .collect()
}

/// The progress events, in order: (bytes, total).
pub fn progress_of(events: &[Event]) -> Vec<(u64, Option<u64>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Progress { bytes, total, .. } => Some((*bytes, *total)),
            _ => None,
        })
        .collect()
}

/// A deterministic body of `len` bytes that differs with `seed`.
pub fn body(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
