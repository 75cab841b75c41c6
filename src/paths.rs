//! Where bytes go: names derived from URLs (percent-decoded, sanitised), checks on names and
//! subdirectories from manifests, and the `.part` sibling of a destination. Nothing here decides
//! the on-exist policy or touches the file system.

use crate::sanitize::{is_bidi_control, is_unsafe_char};
use std::path::{Path, PathBuf};

/// The name used when a URL's path has no usable last segment (like wget).
pub const FALLBACK_NAME: &str = "index.html";

/// Longest file name we produce, in bytes, leaving room for the `.part` suffix under the
/// usual 255-byte limit of file systems.
const MAX_NAME_BYTES: usize = 240;

/// The suffix of the temporary sibling a download is written to.
pub const PART_SUFFIX: &str = ".part";

/// The suffix of a part's resume metadata: `NAME.part.meta`.
pub const META_SUFFIX: &str = ".meta";

/// Every sibling name a download of `NAME` may create: `NAME.part`, its resume metadata
/// `NAME.part.meta`, and that file's temporary `NAME.part.meta.tmp` (written, then renamed).
/// No planned destination may be one of another's.
pub const SIBLING_SUFFIXES: [&str; 3] = [".part", ".part.meta", ".part.meta.tmp"];

/// The name a URL's last path segment gives, percent-decoded and sanitised; `None` when it
/// gives none (`/`, `/dir/`, `/..`).
pub fn url_name(url: &url::Url) -> Option<String> {
    let last = url
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(last).decode_utf8_lossy();
    let clean = sanitize_name(&decoded);
    (!clean.is_empty()).then_some(clean)
}

/// The file name for a URL: its last path segment, percent-decoded and sanitised, or
/// [`FALLBACK_NAME`] when there is none.
pub fn name_from_url(url: &url::Url) -> String {
    url_name(url).unwrap_or_else(|| FALLBACK_NAME.to_string())
}

/// Makes untrusted text usable as one file name: separators, control characters,
/// bidirectional formatting characters (which would make a listing lie about the name) and
/// characters Windows forbids become `_`, surrounding spaces and dots are trimmed, `.`/`..`
/// become empty, and the result is cut to a safe length on a character boundary.
pub fn sanitize_name(raw: &str) -> String {
    let replaced: String = raw
        .chars()
        .map(|c| {
            if is_unsafe_char(c)
                || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = replaced.trim_matches(|c: char| c.is_whitespace() || c == '.');
    // A name made only of dots (`.`, `..`) trims to nothing: no name at all.
    let mut name = trimmed.to_string();
    if name.len() > MAX_NAME_BYTES {
        let mut cut = MAX_NAME_BYTES;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

/// Checks a file name given explicitly (manifest `filename`): it must be one plain name.
pub fn check_filename(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("filename is empty".into());
    }
    if name == "." || name == ".." {
        return Err(format!("filename {name:?} is not a file name"));
    }
    if name.contains('/') || name.contains('\\') {
        return Err(format!(
            "filename {name:?} contains a path separator (use subdir for directories)"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("filename {name:?} contains control characters"));
    }
    if name.chars().any(is_bidi_control) {
        return Err(format!(
            "filename {name:?} contains bidirectional formatting characters (U+202A-U+202E, \
             U+2066-U+2069, U+200E, U+200F, U+061C), which make a name display as another"
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!("filename is longer than {MAX_NAME_BYTES} bytes"));
    }
    Ok(())
}

/// Checks a relative directory (manifest `subdir`) and returns it normalised with `/`
/// separators and no empty or `.` components. Absolute paths, drive prefixes, `..`,
/// backslashes, control and bidirectional formatting characters are refused: nothing may land outside `--dir`.
pub fn check_subdir(subdir: &str) -> Result<String, String> {
    if subdir.starts_with('/') || subdir.starts_with('\\') {
        return Err(format!(
            "subdir {subdir:?} is absolute; it must be relative to --dir"
        ));
    }
    if subdir.as_bytes().get(1) == Some(&b':') {
        return Err(format!(
            "subdir {subdir:?} has a drive prefix; it must be relative to --dir"
        ));
    }
    if subdir.contains('\\') {
        return Err(format!(
            "subdir {subdir:?} contains a backslash; use / between directories"
        ));
    }
    if subdir.chars().any(char::is_control) {
        return Err(format!("subdir {subdir:?} contains control characters"));
    }
    if subdir.chars().any(is_bidi_control) {
        return Err(format!(
            "subdir {subdir:?} contains bidirectional formatting characters (U+202A-U+202E, \
             U+2066-U+2069, U+200E, U+200F, U+061C), which make a name display as another"
        ));
    }
    let mut parts = Vec::new();
    for part in subdir.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "subdir {subdir:?} contains '..'; it must stay inside --dir"
                ));
            }
            _ => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// Joins a normalised relative path (`a/b/c.txt`) under the download directory.
pub fn under(dir: &Path, relative: &str) -> PathBuf {
    let mut path = dir.to_path_buf();
    path.extend(relative.split('/'));
    path
}

/// The temporary sibling a download is streamed to: `NAME.part`.
pub fn part_path(dest: &Path) -> PathBuf {
    appended(dest, PART_SUFFIX)
}

/// The resume metadata beside a `.part`: `NAME.part.meta`.
pub fn meta_path(part: &Path) -> PathBuf {
    appended(part, META_SUFFIX)
}

/// The temporary a file is written to before it is renamed onto `path`: `PATH.tmp`.
pub fn tmp_path(path: &Path) -> PathBuf {
    appended(path, ".tmp")
}

/// `path` with `suffix` appended to its last component (`a.txt` → `a.txt.part`).
fn appended(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// `name.ext` → `name.N.ext` (or `name.N` without an extension), for `--on-exist rename`.
pub fn numbered(dest: &Path, n: u32) -> PathBuf {
    let file_name = dest
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let renamed = match file_name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{n}.{ext}"),
        _ => format!("{file_name}.{n}"),
    };
    dest.with_file_name(renamed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(url: &str) -> String {
        name_from_url(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn names_from_urls() {
        let cases = [
            ("http://h/a/b.tar.gz", "b.tar.gz"),
            ("http://h/a/b.tar.gz?x=1#frag", "b.tar.gz"),
            ("http://h/my%20file.txt", "my file.txt"),
            ("http://h/a%2F..%2Fetc%2Fpasswd", "a_.._etc_passwd"),
            ("http://h/..%2F..%2Fx", "_.._x"),
            ("http://h/%2E%2E", FALLBACK_NAME),
            ("http://h/", FALLBACK_NAME),
            ("http://h", FALLBACK_NAME),
            ("http://h/dir/", FALLBACK_NAME),
            ("http://h/a%00b%0Ac", "a_b_c"),
            ("http://h/C:%5Cwin.ini", "C__win.ini"),
        ];
        for (url, want) in cases {
            assert_eq!(name(url), want, "{url}");
        }
        let long = format!("http://h/{}", "é".repeat(300));
        let n = name(&long);
        assert!(n.len() <= MAX_NAME_BYTES && n.chars().all(|c| c == 'é'));
    }

    #[test]
    fn filenames_and_subdirs_are_checked() {
        assert!(check_filename("a.txt").is_ok());
        for bad in ["", ".", "..", "a/b", "a\\b", "a\u{7}b"] {
            assert!(check_filename(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_subdir("a//b/./c/").unwrap(), "a/b/c");
        assert_eq!(check_subdir("").unwrap(), "");
        for bad in [
            "/etc",
            "..",
            "a/../../b",
            "C:/x",
            "a\\b",
            "\\\\srv\\x",
            "a\nb",
        ] {
            assert!(check_subdir(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bidirectional_formatting_characters_never_reach_a_name() {
        // "evil\u{202e}txt.exe" would list as "evilexe.txt".
        assert_eq!(name("http://h/evil%E2%80%AEtxt.exe"), "evil_txt.exe");
        for c in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}',
        ] {
            assert_eq!(sanitize_name(&format!("a{c}b")), "a_b", "{c:?}");
            let err = check_filename(&format!("a{c}b")).unwrap_err();
            assert!(err.contains("bidirectional"), "{err}");
            let err = check_subdir(&format!("x/a{c}b")).unwrap_err();
            assert!(err.contains("bidirectional"), "{err}");
        }
        // Other non-ASCII text is a name like any other.
        assert_eq!(sanitize_name("caf\u{e9}\u{200d}"), "caf\u{e9}\u{200d}");
        assert!(check_filename("\u{5d0}\u{5d1}.txt").is_ok());
    }

    #[test]
    fn sibling_names() {
        let dest = Path::new("/d/a.tar.gz");
        assert_eq!(part_path(dest), Path::new("/d/a.tar.gz.part"));
        assert_eq!(
            meta_path(&part_path(dest)),
            Path::new("/d/a.tar.gz.part.meta")
        );
        let made = [
            part_path(dest),
            meta_path(&part_path(dest)),
            tmp_path(&meta_path(&part_path(dest))),
        ];
        for (path, suffix) in made.iter().zip(SIBLING_SUFFIXES) {
            let base = dest.as_os_str().to_str().unwrap();
            assert_eq!(
                path.to_str().unwrap(),
                format!("{base}{suffix}"),
                "the plan reserves what is made"
            );
        }
        assert_eq!(numbered(dest, 1), Path::new("/d/a.tar.1.gz"));
        assert_eq!(
            numbered(Path::new("/d/README"), 2),
            Path::new("/d/README.2")
        );
        assert_eq!(
            numbered(Path::new("/d/.bashrc"), 1),
            Path::new("/d/.bashrc.1")
        );
        assert_eq!(under(Path::new("/d"), "x/y.bin"), Path::new("/d/x/y.bin"));
    }
}
