//! `--report FORMAT:PATH` (issue 29): JUnit XML read back with a real XML parser, Markdown
//! checked for its rows; both written for failing and rejected runs (interrupted runs are in
//! `signals`), and a bad `--report` value is a usage error.

use crate::support::{FaultServer, Reply, Route, Workspace};
use roxmltree::{Document, Node};

/// The name with every character XML escapes, as a manifest's `filename`.
const AWKWARD: &str = "a<b>&\"c'.bin";

fn read_junit(ws: &Workspace, name: &str) -> String {
    std::fs::read_to_string(ws.root().join(name))
        .unwrap_or_else(|e| panic!("{name} was not written: {e}\n{}", ws.listing()))
}

fn suite<'a>(doc: &'a Document<'a>) -> Node<'a, 'a> {
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 1, "one testsuite");
    assert_eq!(suites[0].attribute("name"), Some("dl"));
    suites[0]
}

fn cases<'a>(suite: Node<'a, 'a>) -> Vec<Node<'a, 'a>> {
    suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect()
}

fn child<'a>(case: Node<'a, 'a>, tag: &str) -> Option<Node<'a, 'a>> {
    case.children().find(|n| n.has_tag_name(tag))
}

#[test]
fn a_failing_run_writes_junit_and_appends_markdown() {
    let s = FaultServer::start([
        ("/ok.bin", Route::always(Reply::ok("fine"))),
        ("/gone.bin", Route::always(Reply::status(404))),
    ]);
    let ws = Workspace::new();
    ws.write(
        "m.toml",
        format!(
            "[[file]]\nurl = \"{}\"\nfilename = {AWKWARD:?}\n",
            s.url("/ok.bin")
        )
        .replace("\\'", "'"),
    );
    ws.write_out("kept.bin", "mine");
    ws.write("summary.md", "earlier step\n");
    let run = ws.run(
        ws.fetch()
            .args(["--report", "junit:reports/junit.xml"])
            .args(["--report", "markdown:summary.md"])
            .arg(s.url("/ok.bin"))
            .arg(s.url("/gone.bin"))
            .arg(s.url("/kept.bin"))
            .arg("m.toml"),
    );
    run.code(1);

    let text = read_junit(&ws, "reports/junit.xml");
    let doc = Document::parse(&text).unwrap_or_else(|e| run.fail(format_args!("XML: {e}")));
    let suite = suite(&doc);
    let attr = |name| suite.attribute(name);
    assert_eq!(
        (
            attr("tests"),
            attr("failures"),
            attr("skipped"),
            attr("errors")
        ),
        (Some("4"), Some("1"), Some("1"), Some("0")),
        "{text}"
    );
    let cases = cases(suite);
    let names: Vec<_> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert_eq!(names, ["ok.bin", "gone.bin", "kept.bin", AWKWARD], "{text}");
    for case in &cases {
        assert_eq!(case.attribute("classname"), Some("127.0.0.1"), "{text}");
    }
    let failure = child(cases[1], "failure").expect("gone.bin failed");
    assert_eq!(failure.attribute("type"), Some("http_status"));
    assert!(
        failure.attribute("message").unwrap().contains("404"),
        "{text}"
    );
    assert!(child(cases[2], "skipped").is_some(), "kept.bin was skipped");
    assert!(
        cases[0].attribute("time").is_some(),
        "a downloaded file's time"
    );
    assert!(child(cases[3], "failure").is_none() && child(cases[3], "skipped").is_none());

    let md = std::fs::read_to_string(ws.root().join("summary.md")).unwrap();
    assert!(
        md.starts_with("earlier step\n\n### dl: some files failed"),
        "{md}"
    );
    assert!(md.contains("| 4 | 2 | 1 | 1 | 0 |"), "totals row: {md}");
    assert!(
        md.contains("| failed | gone.bin | http\\_status: 404"),
        "{md}"
    );
    assert_eq!(md.matches("\n| failed |").count(), 1, "only problems: {md}");
}

#[test]
fn a_rejected_run_reports_every_problem_as_a_failure() {
    let ws = Workspace::new();
    ws.write("urls.txt", "ftp://127.0.0.1/x\nnot a url\n");
    let run = ws.run(ws.fetch().args([
        "urls.txt",
        "--report",
        "junit:j.xml",
        "--report",
        "markdown:s.md",
    ]));
    run.code(2);
    let text = read_junit(&ws, "j.xml");
    let doc = Document::parse(&text).unwrap_or_else(|e| run.fail(format_args!("XML: {e}")));
    let suite = suite(&doc);
    assert_eq!(suite.attribute("failures"), Some("2"), "{text}");
    let names: Vec<_> = cases(suite)
        .iter()
        .map(|c| {
            let failure = child(*c, "failure").expect("a failure");
            assert_eq!(failure.attribute("type"), Some("input"));
            c.attribute("name").unwrap().to_string()
        })
        .collect();
    assert_eq!(names, ["urls.txt:1", "urls.txt:2"]);
    let md = std::fs::read_to_string(ws.root().join("s.md")).unwrap();
    assert!(
        md.starts_with("### dl: nothing was downloaded (2 problems"),
        "{md}"
    );
    assert!(
        md.contains("| urls.txt | 1 |") && md.contains("| urls.txt | 2 |"),
        "{md}"
    );
}

#[test]
fn a_bad_report_value_is_a_usage_error() {
    let ws = Workspace::new();
    for value in ["xml:out", "junit:", "junit", "markdown"] {
        let run = ws.run(
            ws.fetch()
                .args(["--report", value])
                .arg("http://127.0.0.1:9/a"),
        );
        run.code(2).stdout_empty().stderr_has("--report");
        run.check(ws.all_files().is_empty(), "nothing written");
    }
}
