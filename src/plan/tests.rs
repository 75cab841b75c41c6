//! The plan builder's checks, fed with entries: every problem with its line, clashes,
//! shards.

use super::*;

fn build(entries: &[(&str, FileSpec)]) -> Result<Plan, Vec<Diagnostic>> {
    let mut b = PlanBuilder::new(PlanOptions::default());
    let source: Arc<str> = Arc::from("m.toml");
    for (i, (_, spec)) in entries.iter().enumerate() {
        b.push(Located {
            source: source.clone(),
            line: i as u32 + 1,
            value: spec.clone(),
        });
    }
    b.finish()
}

fn url(u: &str) -> FileSpec {
    FileSpec {
        url: u.to_string(),
        ..FileSpec::default()
    }
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let err = build(&[
        ("", url("http://h/a")),
        ("", url("ftp://h/b")),
        ("", url("not a url")),
        ("", url("http://h/a")),
        (
            "",
            FileSpec {
                filename: Some("../x".into()),
                ..url("http://h/c")
            },
        ),
        (
            "",
            FileSpec {
                subdir: Some("/etc".into()),
                ..url("http://h/d")
            },
        ),
        (
            "",
            FileSpec {
                checksum: Some("sha256:12".into()),
                ..url("http://h/e")
            },
        ),
        (
            "",
            FileSpec {
                headers: vec![("Bad Name".into(), "v".into())],
                ..url("http://h/f")
            },
        ),
    ])
    .unwrap_err();
    let lines: Vec<u32> = err.iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8], "{err:#?}");
    assert!(err[0].message.contains("unsupported scheme \"ftp\""));
    assert!(
        err[2].message.contains("also the destination of m.toml:1"),
        "{}",
        err[2]
    );
}

#[test]
fn part_siblings_and_file_directory_clashes() {
    let err = build(&[("", url("http://h/a")), ("", url("http://h/a.part"))]).unwrap_err();
    assert!(err[0].message.contains(".part"));
    let err = build(&[("", url("http://h/a.part.meta")), ("", url("http://h/a"))]).unwrap_err();
    assert!(err[0].message.contains(".part.meta"), "{err:?}");
    let err = build(&[
        (
            "",
            FileSpec {
                subdir: Some("x".into()),
                ..url("http://h/a")
            },
        ),
        ("", url("http://h/x")),
    ])
    .unwrap_err();
    assert!(err[0].message.contains("directory"), "{err:?}");
    let err = build(&[
        ("", url("http://h/x")),
        (
            "",
            FileSpec {
                subdir: Some("x".into()),
                ..url("http://h/a")
            },
        ),
    ])
    .unwrap_err();
    assert!(err[0].message.contains("directory"), "{err:?}");
}

#[test]
fn empty_input_is_an_error_unless_allowed() {
    assert!(build(&[]).unwrap_err()[0].message.contains("no entries"));
    let ok = PlanBuilder::new(PlanOptions {
        allow_empty: true,
        ..PlanOptions::default()
    })
    .finish();
    assert!(ok.unwrap().files.is_empty());
}

#[test]
fn shards_partition_the_input() {
    let urls: Vec<String> = (0..200).map(|i| format!("http://h/f{i}")).collect();
    let mut seen = Vec::new();
    for k in 1..=3 {
        let mut b = PlanBuilder::new(PlanOptions {
            shard: Some((k, 3)),
            ..PlanOptions::default()
        });
        for u in &urls {
            b.push(Located {
                source: Arc::from("l"),
                line: 1,
                value: url(u),
            });
        }
        let plan = b.finish().unwrap();
        assert!(plan.files.len() > 30, "shard {k} has {}", plan.files.len());
        seen.extend(plan.files.into_iter().map(|f| f.path().to_string()));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 200);
}

#[test]
fn the_shard_hash_is_fnv1a_of_the_path_and_does_not_depend_on_how_it_is_cut() {
    // FNV-1a 64 of b"docs/a.bin\xff" (what `str::hash` feeds a hasher): machines that
    // split one input with `--shard` must all agree, whatever version each runs.
    assert_eq!(stable_hash(&["docs/a.bin"]), 0x2f8a_5d3a_968c_95d6);
    assert_eq!(stable_hash(&["docs/a", ".bin"]), 0x2f8a_5d3a_968c_95d6);
    let mut std_hasher = fnv::FnvHasher::default();
    std::hash::Hash::hash("docs/a.bin", &mut std_hasher);
    assert_eq!(std_hasher.finish(), 0x2f8a_5d3a_968c_95d6);
}
