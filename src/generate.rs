//! Generated documentation: shell completion scripts (clap_complete) and man pages
//! (clap_mangen), rendered in memory from the clap definition. Pure: the caller writes them
//! (`dl completions`, and the test that keeps `completions/` and `man/` current).

use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, roman};

/// The completion script for `shell`.
pub fn completion(shell: Shell) -> Vec<u8> {
    let mut cmd = crate::cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "dl", &mut out);
    out
}

/// The file name a completion script is committed under in `completions/`.
pub fn completion_file_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "dl.bash",
        Shell::Zsh => "_dl",
        Shell::Fish => "dl.fish",
        Shell::PowerShell => "_dl.ps1",
        Shell::Elvish => "dl.elv",
        _ => "dl.unknown",
    }
}

/// Every shell `dl completions` supports.
pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

/// `dl.1` plus one page per subcommand (`dl-fetch.1`, ...), as (file name, contents).
/// No date is set, so the output only changes with the definition (and the version).
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    // `dl help` is not a page of its own: `dl help fetch` is `dl fetch --help`.
    let cmd = crate::cli::command().disable_help_subcommand(true);
    let version = cmd.get_version().unwrap_or_default().to_string();
    let mut pages = vec![("dl.1".to_string(), render(cmd.clone(), &version))];
    for sub in cmd.get_subcommands() {
        let page = format!("dl-{}", sub.get_name());
        let sub = sub
            .clone()
            .display_name(page.clone())
            .bin_name(format!("dl {}", sub.get_name()))
            .version(version.clone());
        pages.push((format!("{page}.1"), render(sub, &version)));
    }
    pages
}

/// clap_mangen's sections, except that the text after the options (`after_help`) becomes one
/// section per `Title:` block instead of a single "EXTRA" section.
fn render(cmd: clap::Command, version: &str) -> Vec<u8> {
    let notes = cmd.get_after_help().map(|text| text.to_string());
    let has_subcommands = cmd.has_subcommands();
    let man = Man::new(cmd.after_help(None::<&str>)).source(format!("dl {version}"));
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    if has_subcommands {
        let _ = man.render_subcommands_section(&mut out);
    }
    if let Some(notes) = notes {
        out.extend(notes_sections(&notes).into_bytes());
    }
    let _ = man.render_version_section(&mut out);
    out
}

/// Blocks of a `Title:` line and indented lines, separated by blank lines, as roff sections
/// (`EXAMPLES`, `EXIT CODES`, ...) whose lines are kept as written.
fn notes_sections(text: &str) -> String {
    let mut roff = Roff::default();
    for block in text.split("\n\n") {
        let mut lines = block.lines();
        let Some(title) = lines.next() else { continue };
        roff.control("SH", [title.trim_end_matches(':').to_uppercase().as_str()]);
        roff.control("nf", []);
        for line in lines {
            roff.text([roman(line.strip_prefix("  ").unwrap_or(line))]);
        }
        roff.control("fi", []);
    }
    roff.to_roff()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_per_subcommand_and_no_help_page() {
        let names: Vec<_> = man_pages().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["dl.1", "dl-fetch.1", "dl-completions.1"]);
    }

    #[test]
    fn notes_become_sections() {
        let roff = notes_sections("Examples:\n  dl fetch -w 2 x\n\nExit codes:\n  0 ok");
        assert!(
            roff.contains(".SH EXAMPLES\n.nf\ndl fetch \\-w 2 x\n.fi\n.SH \"EXIT CODES\"\n"),
            "{roff}"
        );
    }
}
