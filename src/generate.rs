//! Generated documentation: shell completion scripts (clap_complete) and man pages
//! (clap_mangen), rendered in memory from the clap definition. Pure: the caller writes them.

use clap_complete::Shell;

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
pub const SHELLS: [Shell; 5] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell, Shell::Elvish];

/// `dl.1` plus one page per subcommand (`dl-fetch.1`, ...), as (file name, contents).
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let cmd = crate::cli::command();
    let mut pages = vec![("dl.1".to_string(), render(cmd.clone()))];
    for sub in cmd.get_subcommands() {
        let name = format!("dl-{}", sub.get_name());
        let sub = sub.clone().name(name.clone()).version(env!("CARGO_PKG_VERSION"));
        pages.push((format!("{name}.1"), render(sub)));
    }
    pages
}

fn render(cmd: clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd).render(&mut out);
    out
}
