//! `dl` as a library (SPEC §1): a program using `dl::` cannot build a plan that leaves its
//! directory, and no engine setting, however absurd, makes the engine panic (issue 26).

use crate::support::server::{FaultServer, Reply, Route};
use dl::input::{FileSpec, Located};
use dl::plan::{PlanBuilder, PlanOptions};
use std::time::Duration;

fn plan_of(dir: &std::path::Path, spec: FileSpec) -> Result<dl::Plan, Vec<dl::Diagnostic>> {
    let mut builder = PlanBuilder::new(PlanOptions {
        dir: dir.to_path_buf(),
        ..PlanOptions::default()
    });
    builder.push(Located {
        source: "program".into(),
        line: 1,
        value: spec,
    });
    builder.finish()
}

#[test]
fn a_program_cannot_build_a_plan_that_escapes_its_directory() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("downloads");
    let url = || "http://127.0.0.1:9/f".to_string();
    let escapes = [
        FileSpec {
            filename: Some("../escaped.bin".into()),
            url: url(),
            ..FileSpec::default()
        },
        FileSpec {
            subdir: Some("../outside".into()),
            url: url(),
            ..FileSpec::default()
        },
        FileSpec {
            subdir: Some("/etc".into()),
            url: url(),
            ..FileSpec::default()
        },
        FileSpec {
            subdir: Some("a/../../b".into()),
            url: url(),
            ..FileSpec::default()
        },
        FileSpec {
            filename: Some("..".into()),
            url: url(),
            ..FileSpec::default()
        },
    ];
    for spec in escapes {
        let shown = format!("{spec:?}");
        let problems = plan_of(&dir, spec).expect_err(&shown);
        assert_eq!(problems.len(), 1, "{shown}: {problems:?}");
    }
    // Names taken from URLs are sanitised into one plain name inside the directory.
    for url in [
        "http://127.0.0.1:9/..%2F..%2Fescaped.bin",
        "http://127.0.0.1:9/%2E%2E",
        "http://127.0.0.1:9/a/..%5Cb",
    ] {
        let plan = dl::Plan::from_urls(&dir, [url]).unwrap();
        let path = plan.file(0).path();
        assert!(
            !path.contains('/') && !path.contains('\\') && !path.starts_with('.'),
            "{url} -> {path:?}"
        );
        assert!(plan.destination(plan.file(0)).starts_with(&dir));
    }
}

#[test]
fn absurd_engine_settings_fail_files_instead_of_panicking() {
    let server = FaultServer::start([
        ("/busy", Route::always(Reply::status(503))),
        ("/ok", Route::always(Reply::ok("fine"))),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let config = dl::EngineConfig {
        // A library may set what the command line refuses: the engine must not overflow.
        read_timeout: Duration::MAX,
        connect_timeout: Duration::MAX,
        min_speed: Some(1),
        min_speed_time: Duration::MAX,
        max_retry_after: Duration::MAX,
        retry: dl::RetryPolicy {
            retries: 1,
            base: Duration::ZERO,
            max: Duration::ZERO,
        },
        ..dl::EngineConfig::default()
    };
    let engine = dl::Engine::new(config).unwrap();
    let plan = dl::Plan::from_urls(dir.path(), [server.url("/busy"), server.url("/ok")]).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let summary = runtime.block_on(engine.download(plan, |_| {}));
    assert_eq!(summary.stats.completed, 1, "{summary:?}");
    assert_eq!(summary.stats.failed, 1, "{summary:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ok")).unwrap(),
        "fine"
    );
}
