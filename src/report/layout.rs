//! Bar templates fitted to a terminal width: which fields a bar shows and how wide its name
//! and its bar are, decided once from the width. Pure, so the fitting is tested at any width.
//! A line never exceeds the width (a wrapped bar line tears the display); fields go in a
//! fixed order of importance, and a name is truncated with an ellipsis, never dropped.

/// What a piece of a template is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Text of a known largest rendered width.
    Fixed,
    /// The bar itself: ` [` + bar + `]`.
    Bar,
    /// `{msg}`: a name or status text that [`fit`] pads or truncates to the given width.
    Msg,
}

/// One piece of a template. `rank` 0 is never dropped; otherwise the highest rank goes first.
#[derive(Debug, Clone, Copy)]
struct Part {
    text: &'static str,
    width: usize,
    rank: u8,
    kind: Kind,
}

const fn part(text: &'static str, width: usize, rank: u8) -> Part {
    Part {
        text,
        width,
        rank,
        kind: Kind::Fixed,
    }
}

const fn bar(rank: u8) -> Part {
    Part {
        text: "",
        width: 3,
        rank,
        kind: Kind::Bar,
    }
}

const fn msg(text: &'static str, extra: usize) -> Part {
    Part {
        text,
        width: extra,
        rank: 0,
        kind: Kind::Msg,
    }
}

// Largest widths: `HumanBytes` writes at most "1023.99 KiB" (11), a rate adds "/s", an ETA
// is indicatif's short form ("59s", "2h"), a count of files has at most 7 digits. The overall
// bar's rate and ETA are in its message (`bars` computes them: its position jumps when it
// turns to bytes, which indicatif's estimate would take for speed); counting files, it shows
// no ETA, since files of unknown sizes make any estimate a guess.
const FILE_SIZED: &[Part] = &[
    msg("{msg}", 0),
    part(" {bytes:>11}", 12, 0),
    part("/{total_bytes:<11}", 12, 3),
    bar(2),
    part(" {bytes_per_sec:>12}", 13, 4),
    part(" {eta:>4}", 5, 1),
];
const FILE_UNSIZED: &[Part] = &[
    msg("{msg}", 0),
    part(" {spinner}", 2, 0),
    part(" {bytes:>11}", 12, 0),
    part(" {bytes_per_sec:>12}", 13, 1),
];
const OVERALL_FILES: &[Part] = &[
    part("{elapsed_precise}", 8, 2),
    bar(0),
    part(" {pos}/{len} files", 22, 0),
    msg(" {msg}", 1),
];
const OVERALL_BYTES: &[Part] = &[
    part("{elapsed_precise}", 8, 3),
    bar(2),
    part(" {bytes:>11}/{total_bytes:<11}", 24, 0),
    msg(" {msg}", 1),
];

/// A template fitted to a width, and the width its `{msg}` must be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layout {
    pub template: String,
    pub msg_width: usize,
}

/// The layouts of every bar for one terminal width.
#[derive(Debug, Clone)]
pub(super) struct Layouts {
    pub file_sized: Layout,
    pub file_unsized: Layout,
    pub overall_files: Layout,
    pub overall_bytes: Layout,
}

impl Layouts {
    pub fn for_width(columns: usize) -> Layouts {
        Layouts {
            file_sized: lay_out(FILE_SIZED, columns, 16, 30),
            file_unsized: lay_out(FILE_UNSIZED, columns, 16, 30),
            overall_files: lay_out(OVERALL_FILES, columns, 0, 32),
            // Room for the rate and the ETA from 60 columns; for the ETA alone below.
            overall_bytes: lay_out(
                OVERALL_BYTES,
                columns,
                if columns >= 60 { 20 } else { 8 },
                36,
            ),
        }
    }
}

/// Bar lengths, in columns.
const BAR_MIN: usize = 10;
const BAR_MAX: usize = 30;
/// The widest a message is padded to (a longer one gets the room if the line has it).
const MSG_MAX: usize = 60;

/// Fits `parts` into `columns - 1` (the last column would make some terminals wrap): drops
/// optional parts until the message gets `msg_min`, then gives what is left to the message
/// up to `msg_pref`, then to the bar up to [`BAR_MAX`], then to the message up to
/// [`MSG_MAX`]; the rest of a wide line stays empty.
fn lay_out(parts: &[Part], columns: usize, msg_min: usize, msg_pref: usize) -> Layout {
    let budget = columns.saturating_sub(1);
    let mut kept: Vec<Part> = parts.to_vec();
    let needed = |kept: &[Part]| {
        let bars = kept.iter().filter(|p| p.kind == Kind::Bar).count();
        kept.iter().map(|p| p.width).sum::<usize>() + bars * BAR_MIN + msg_min
    };
    while needed(&kept) > budget {
        let Some(worst) = kept.iter().map(|p| p.rank).filter(|&r| r > 0).max() else {
            break;
        };
        let at = kept
            .iter()
            .rposition(|p| p.rank == worst)
            .expect("a part of that rank");
        kept.remove(at);
    }
    let has_bar = kept.iter().any(|p| p.kind == Kind::Bar);
    let mut left = budget.saturating_sub(needed(&kept));
    let mut msg_width = msg_min + left.min(msg_pref.saturating_sub(msg_min));
    left -= msg_width - msg_min;
    let bar_len = if has_bar {
        let grow = left.min(BAR_MAX - BAR_MIN);
        left -= grow;
        BAR_MIN + grow
    } else {
        0
    };
    // Past MSG_MAX, padding only pushes the figures away from the name they belong to.
    msg_width += left.min(MSG_MAX.saturating_sub(msg_width));
    let template = kept
        .iter()
        .map(|p| match p.kind {
            Kind::Bar => format!(" [{{bar:{bar_len}}}]"),
            Kind::Fixed | Kind::Msg => p.text.to_string(),
        })
        .collect();
    Layout {
        template,
        msg_width,
    }
}

/// `text` in exactly `width` columns (counted as characters): padded, or cut in the middle
/// with an ellipsis so both its start and its end (a file's extension) stay visible.
pub(super) fn fit(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return format!("{text:<width$}");
    }
    if width == 0 {
        return String::new();
    }
    let tail = (width - 1) * 2 / 3;
    let head = width - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest rendered width of a layout whose message is `msg_width` wide.
    fn rendered(parts: &[Part], layout: &Layout) -> usize {
        let mut width = layout.msg_width;
        for p in parts {
            let shown = match p.kind {
                Kind::Bar => layout.template.find("{bar:").map(|at| {
                    let rest = &layout.template[at + 5..];
                    3 + rest[..rest.find('}').unwrap()].parse::<usize>().unwrap()
                }),
                _ => layout.template.contains(p.text).then_some(p.width),
            };
            width += shown.unwrap_or(0);
        }
        width
    }

    #[test]
    fn every_bar_fits_the_terminal_and_keeps_its_name() {
        for columns in [40, 60, 72, 80, 100, 120, 200] {
            let l = Layouts::for_width(columns);
            for (parts, layout) in [
                (FILE_SIZED, &l.file_sized),
                (FILE_UNSIZED, &l.file_unsized),
                (OVERALL_FILES, &l.overall_files),
                (OVERALL_BYTES, &l.overall_bytes),
            ] {
                assert!(
                    rendered(parts, layout) < columns,
                    "{columns}: {layout:?} is {} wide",
                    rendered(parts, layout)
                );
                indicatif::ProgressStyle::with_template(&layout.template).expect("valid");
            }
            assert!(
                l.file_sized.msg_width >= 16,
                "{columns}: {:?}",
                l.file_sized
            );
        }
    }

    #[test]
    fn narrower_terminals_drop_the_least_useful_fields_first() {
        let at = |columns| Layouts::for_width(columns).file_sized.template;
        let all = at(80);
        for field in [
            "{bytes:",
            "{total_bytes:",
            "{bar:",
            "{bytes_per_sec:",
            "{eta:",
        ] {
            assert!(all.contains(field), "80 columns: {all}");
        }
        let narrow = at(60);
        assert!(!narrow.contains("{bytes_per_sec:"), "{narrow}");
        for field in ["{bytes:", "{bar:", "{eta:"] {
            assert!(narrow.contains(field), "60 columns: {narrow}");
        }
        let overall = Layouts::for_width(60).overall_bytes;
        assert!(overall.template.contains("{total_bytes:"), "{overall:?}");
        assert!(
            overall.msg_width >= 20,
            "room for the rate and ETA: {overall:?}"
        );
    }

    #[test]
    fn names_are_cut_in_the_middle_never_dropped() {
        assert_eq!(fit("a.bin", 8), "a.bin   ");
        assert_eq!(fit("abcdefghij.tar.gz", 10), "abc…tar.gz");
        assert_eq!(fit("abcdefghij.tar.gz", 10).chars().count(), 10);
        assert_eq!(fit("ab", 1), "…");
        assert_eq!(fit("", 3), "   ");
    }
}
