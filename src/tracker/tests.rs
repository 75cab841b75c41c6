//! The tracker's fold, fed with events: totals, reports, kept bytes, the streaming view.

use super::*;
use crate::error::FailureKind;

#[test]
fn folds_events_into_a_summary() {
    let plan = Plan::from_urls(
        "d",
        ["http://h/a", "http://u:pw@h/b", "http://h/c", "http://h/d"],
    )
    .unwrap();
    let mut t = Tracker::new(4);
    for id in 0..4 {
        t.apply(&Event::Queued { id });
    }
    t.apply(&Event::Started { id: 0 });
    t.apply(&Event::Started { id: 1 });
    assert_eq!(t.active(), 2);
    t.apply(&Event::Completed {
        id: 0,
        bytes: 10,
        attempts: 2,
        http_status: 200,
        sha256: Some("ab".into()),
        renamed_to: Some("a.1".into()),
    });
    let error = FileError::new(
        FailureKind::HttpStatus(503),
        "503 Service Unavailable after 6 attempts",
    );
    t.apply(&Event::Failed {
        id: 1,
        error,
        attempts: 6,
        http_status: Some(503),
    });
    t.apply(&Event::Failed {
        id: 1,
        error: FileError::new(FailureKind::Io, "late"),
        attempts: 9,
        http_status: None,
    });
    t.apply(&Event::Skipped {
        id: 2,
        bytes: 5,
        sha256: None,
        reason: SkipReason::Unchanged,
        attempts: 1,
        http_status: Some(304),
        renamed_to: None,
    });
    t.apply(&Event::Cancelled { id: 3, error: None });
    assert_eq!((t.active(), t.done()), (0, 4));

    let s = t.summary(&plan);
    assert!(!s.ok);
    let st = &s.stats;
    assert_eq!(
        (
            st.total,
            st.completed,
            st.failed,
            st.skipped,
            st.cancelled,
            st.bytes
        ),
        (4, 1, 1, 1, 1, 10)
    );
    assert_eq!(s.files[0].path, "a.1");
    assert_eq!(s.files[1].url, "http://u:***@h/b");
    let e = s.files[1].error.as_ref().unwrap();
    assert_eq!(
        (e.kind.as_str(), e.retryable, s.files[1].attempts),
        ("http_status", true, 6)
    );
    assert_eq!(s.files[3].error.as_ref().unwrap().kind, "cancelled");
    let skipped = &s.files[2];
    assert_eq!(
        (skipped.reason, skipped.attempts, skipped.http_status),
        (Some(SkipReason::Unchanged), 1, Some(304))
    );
    assert_eq!(s.files[0].reason, None, "only skipped files say why");
}

#[test]
fn the_streaming_view_serialises_exactly_like_the_summary() {
    let plan = Plan::from_urls("d", ["http://h/a", "http://u:pw@h/b"]).unwrap();
    let mut t = Tracker::new(2);
    t.apply(&Event::Started { id: 0 });
    t.apply(&Event::Completed {
        id: 0,
        bytes: 3,
        attempts: 1,
        http_status: 200,
        sha256: Some("ff".into()),
        renamed_to: None,
    });
    let error = FileError::new(FailureKind::Network, "reset");
    t.apply(&Event::Failed {
        id: 1,
        error,
        attempts: 2,
        http_status: None,
    });
    let mut owned = serde_json::to_value(t.summary(&plan)).unwrap();
    let mut viewed = serde_json::to_value(t.view(&plan)).unwrap();
    for v in [&mut owned, &mut viewed] {
        v["stats"]["elapsed_secs"] = 0.into();
    }
    assert_eq!(owned, viewed);
}

#[test]
fn a_cancelled_file_reports_the_bytes_kept_for_resume() {
    let plan = Plan::from_urls("d", ["http://h/a", "http://h/b"]).unwrap();
    let mut t = Tracker::new(2);
    for id in 0..2 {
        t.apply(&Event::Started { id });
        for bytes in [0, 4096, 8192] {
            t.apply(&Event::Progress {
                id,
                bytes,
                total: Some(10_000),
            });
        }
    }
    t.apply(&Event::Cancelled { id: 0, error: None });
    t.apply(&Event::Failed {
        id: 1,
        error: FileError::new(FailureKind::Network, "reset"),
        attempts: 1,
        http_status: None,
    });
    let s = t.summary(&plan);
    assert_eq!((s.files[0].bytes, s.files[1].bytes), (8192, 0));
    assert_eq!(s.stats.bytes, 0, "stats count completed files only");
    assert!(t.file_secs(0).is_some());
    assert_eq!(t.cancelled_with_bytes().collect::<Vec<_>>(), [(0, 8192)]);
    t.kept_at_most(0, 5000);
    t.kept_at_most(1, 1);
    let s = t.summary(&plan);
    assert_eq!((s.files[0].bytes, s.files[1].bytes), (5000, 0));
}

#[test]
fn a_file_without_an_outcome_is_never_reported_as_fine() {
    let plan = Plan::from_urls("d", ["http://h/a"]).unwrap();
    let s = Tracker::new(1).summary(&plan);
    assert_eq!(s.files[0].status, FileStatus::Failed);
    assert!(!s.ok);
}

#[test]
fn a_file_state_stays_small() {
    assert!(std::mem::size_of::<super::FileState>() <= 40);
}

#[test]
fn files_failing_alike_share_one_error() {
    let mut t = Tracker::new(3);
    let down = FileError::new(FailureKind::HostUnavailable, "host h is unreachable");
    for id in 0..3 {
        t.apply(&Event::Failed {
            id,
            error: down.clone(),
            attempts: 1,
            http_status: None,
        });
    }
    t.apply(&Event::Failed {
        id: 0,
        error: FileError::new(FailureKind::Io, "after the end"),
        attempts: 1,
        http_status: None,
    });
    assert_eq!(t.errors, [down]);
    let plan = Plan::from_urls("d", ["http://h/a", "http://h/b", "http://h/c"]).unwrap();
    let error = t.file_report(&plan, 2).error.unwrap();
    assert_eq!(
        (error.kind.as_str(), error.message.as_str()),
        ("host_unavailable", "host h is unreachable")
    );
}
