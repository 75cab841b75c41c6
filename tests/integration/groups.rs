//! Manifest groups are all-or-nothing (SPEC §3, issue 29): once a member fails for good, the
//! members that have not started are not started (`cancelled`, `group_failed`); running
//! members finish and stay; the summary reports each group; a re-run finishes only what is
//! missing; ungrouped files behave as ever.

use crate::support::server::{FaultServer, Reply, Route};
use crate::support::{Status, Workspace};
use std::time::Duration;

/// A manifest of `(path, group)` entries served by `server`.
fn manifest(ws: &Workspace, server: &FaultServer, entries: &[(&str, Option<&str>)]) -> String {
    let mut text = String::new();
    for (path, group) in entries {
        text.push_str(&format!("[[file]]\nurl = \"{}\"\n", server.url(path)));
        if let Some(group) = group {
            text.push_str(&format!("group = \"{group}\"\n"));
        }
        text.push('\n');
    }
    ws.write("m.toml", text)
}

#[test]
fn a_failed_member_keeps_the_rest_of_its_group_from_starting() {
    let server = FaultServer::start([
        ("/s1.bin", Route::always(Reply::ok("one"))),
        ("/s2.bin", Route::always(Reply::status(404))),
        ("/s3.bin", Route::always(Reply::ok("three"))),
        ("/s4.bin", Route::always(Reply::ok("four"))),
        ("/other.bin", Route::always(Reply::ok("other"))),
    ]);
    let ws = Workspace::new();
    let m = manifest(
        &ws,
        &server,
        &[
            ("/s1.bin", Some("model")),
            ("/s2.bin", Some("model")),
            ("/s3.bin", Some("model")),
            ("/other.bin", None),
            ("/s4.bin", Some("model")),
        ],
    );
    let run = ws.run(ws.fetch().args(["--json", "--workers", "1"]).arg(&m));
    run.code(1);
    let summary = run.summary();
    run.check(
        summary.file("s1.bin").status == Status::Completed,
        "s1 done",
    );
    run.check(summary.file("s2.bin").status == Status::Failed, "s2 failed");
    for name in ["s3.bin", "s4.bin"] {
        let f = summary.file(name);
        run.check(
            f.status == Status::Cancelled
                && f.error
                    .as_ref()
                    .is_some_and(|e| e.kind == "group_failed" && e.message.contains("s2.bin"))
                && f.attempts == 0,
            format!("{name}: not started, group_failed naming s2.bin: {f:?}"),
        );
        run.check(server.hits(&format!("/{name}")) == 0, "never requested");
    }
    run.check(
        summary.file("other.bin").status == Status::Completed,
        "an ungrouped file goes on",
    );
    let groups = &summary.groups;
    run.check(groups.len() == 1, "one group reported");
    let g = &groups[0];
    run.check(
        (
            g.name.as_str(),
            g.status,
            g.total,
            g.completed,
            g.failed,
            g.cancelled,
            g.bytes,
        ) == ("model", Status::Failed, 4, 1, 1, 2, 3),
        format!("the group's counts: {g:?}"),
    );
    run.check(ws.read_out_string("s1.bin") == "one", "what finished stays");

    // The table says so too.
    let run = ws.run(ws.fetch().args(["--workers", "1"]).arg(&m));
    run.code(1).stdout_has("group model: failed");
}

#[test]
fn running_members_finish_and_a_rerun_completes_only_what_is_missing() {
    let server = FaultServer::start([
        (
            "/slow.bin",
            Route::always(Reply::ok("slow").delay(Duration::from_millis(300))),
        ),
        (
            "/bad.bin",
            // Gone at first, there on the re-run.
            Route::script(vec![Reply::status(404), Reply::ok("bad, fixed")]),
        ),
        ("/later.bin", Route::always(Reply::ok("later"))),
    ]);
    let ws = Workspace::new();
    let m = manifest(
        &ws,
        &server,
        &[
            ("/slow.bin", Some("set")),
            ("/bad.bin", Some("set")),
            ("/later.bin", Some("set")),
        ],
    );
    let run = ws.run(ws.fetch().args(["--json", "--workers", "2"]).arg(&m));
    run.code(1);
    let summary = run.summary();
    run.check(
        summary.file("slow.bin").status == Status::Completed,
        "a member already running finishes",
    );
    run.check(
        summary.file("later.bin").status == Status::Cancelled,
        "a member not started is not started",
    );

    let again = ws.run(ws.fetch().args(["--json", "--workers", "2"]).arg(&m));
    again.code(0);
    let summary = again.summary();
    again.check(
        summary.file("slow.bin").status == Status::Skipped,
        "what finished is skipped",
    );
    again.check(
        summary.groups[0].status == Status::Completed
            && summary.groups[0].completed == 2
            && summary.groups[0].skipped == 1,
        format!("the group completes: {:?}", summary.groups),
    );
    again.check(server.hits("/slow.bin") == 1, "slow.bin fetched once");
    again.check(
        ws.read_out_string("later.bin") == "later",
        "the rest arrived",
    );
}

#[test]
fn a_run_without_groups_reports_none() {
    let server = FaultServer::start([("/a.bin", Route::always(Reply::ok("a")))]);
    let ws = Workspace::new();
    let run = ws.run(ws.fetch().arg("--json").arg(server.url("/a.bin")));
    run.code(0);
    run.check(run.summary().groups.is_empty(), "no groups key");
    run.check(!run.stdout.contains("\"groups\""), "not even empty");
}
