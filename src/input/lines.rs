//! Reading input line by line with bounded memory. A line longer than [`MAX_LINE`] is never
//! held: the reader notes that it was too long, skips the rest of it in buffer-sized chunks,
//! and goes on with the next line, so one hostile line costs at most [`MAX_LINE`] bytes.

use std::io::{self, BufRead, Read};

/// The longest line a URL list may have, without its line ending (messages call it 64 KiB).
pub const MAX_LINE: usize = 64 * 1024;

/// The UTF-8 byte-order mark some Windows editors write at the start of a text file.
pub const BOM: &[u8] = b"\xef\xbb\xbf";

/// `reader` without a byte-order mark at its very start: every source (list, manifest, file or
/// stdin) is read through this, so a BOM there is ignored and one anywhere else stays text.
/// Reading stops as soon as the start cannot be a BOM, so an interactive stdin is not waited
/// on for bytes that are not needed yet.
pub fn skip_bom<R: Read>(mut reader: R) -> io::Result<io::Chain<io::Cursor<Vec<u8>>, R>> {
    let mut head = Vec::with_capacity(BOM.len());
    while head.len() < BOM.len() && BOM.starts_with(&head) {
        let mut byte = [0];
        match reader.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    if head == BOM {
        head.clear();
    }
    Ok(io::Cursor::new(head).chain(reader))
}

/// One line of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line without its `\n` or `\r\n`.
    Text(&'a [u8]),
    /// The line was longer than the limit; its bytes were skipped.
    TooLong,
}

/// Lines of a `BufRead`, at most `max` bytes each.
pub struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    max: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Self {
        Lines::with_limit(reader, MAX_LINE)
    }

    pub fn with_limit(reader: R, max: usize) -> Self {
        Lines {
            reader,
            buf: Vec::new(),
            max,
        }
    }

    /// The next line, `None` at the end of the input. A last line without a newline counts.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let (mut seen_any, mut too_long) = (false, false);
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            seen_any = true;
            let newline = chunk.iter().position(|&b| b == b'\n');
            let part = &chunk[..newline.unwrap_or(chunk.len())];
            // One byte more than the limit may be a `\r` before the `\n`: keep it until the
            // line ends, but nothing beyond.
            if !too_long && self.buf.len() + part.len() <= self.max + 1 {
                self.buf.extend_from_slice(part);
            } else if !too_long {
                too_long = true;
                self.buf = Vec::new();
            }
            let used = newline.map_or(chunk.len(), |at| at + 1);
            self.reader.consume(used);
            if newline.is_some() {
                break;
            }
        }
        if !seen_any {
            return Ok(None);
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if too_long || self.buf.len() > self.max {
            return Ok(Some(Line::TooLong));
        }
        Ok(Some(Line::Text(&self.buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `input` read through a buffer of `capacity` bytes, as owned text.
    fn lines(input: &[u8], max: usize, capacity: usize) -> Vec<Option<String>> {
        let reader = io::BufReader::with_capacity(capacity, input);
        let mut lines = Lines::with_limit(reader, max);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => Some(String::from_utf8(t.to_vec()).unwrap()),
                Line::TooLong => None,
            });
        }
        out
    }

    fn text(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn a_line_at_the_limit_is_read_and_one_byte_more_is_refused() {
        for capacity in [1, 3, 8, 4096] {
            let input = b"abcd\nabcde\nab\n";
            let got = lines(input, 4, capacity);
            assert_eq!(got, [text("abcd"), None, text("ab")], "capacity {capacity}");
        }
    }

    #[test]
    fn the_lines_after_a_long_one_are_still_read() {
        let mut input = vec![b'x'; 100_000];
        input.extend_from_slice(b"\nnext\n\nlast");
        assert_eq!(
            lines(&input, 10, 8192),
            [None, text("next"), text(""), text("last")]
        );
    }

    #[test]
    fn crlf_endings_do_not_count_towards_the_limit() {
        for capacity in [1, 2, 5, 64] {
            let got = lines(b"abcd\r\nabcde\r\nx\r\n\r\n", 4, capacity);
            assert_eq!(
                got,
                [text("abcd"), None, text("x"), text("")],
                "capacity {capacity}"
            );
        }
    }

    #[test]
    fn a_last_line_without_newline_counts() {
        assert_eq!(lines(b"a\nbcd", 4, 2), [text("a"), text("bcd")]);
        assert_eq!(lines(b"a\nbcdef", 4, 2), [text("a"), None]);
        assert_eq!(lines(b"", 4, 2), Vec::<Option<String>>::new());
        assert_eq!(lines(b"\n", 4, 2), [text("")]);
    }

    fn without_bom(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        skip_bom(input).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_bom_is_dropped_only_at_the_very_start() {
        assert_eq!(without_bom(b"\xef\xbb\xbfhttp://a\n"), b"http://a\n");
        assert_eq!(without_bom(b"\xef\xbb\xbf"), b"");
        assert_eq!(without_bom(b"\xef\xbb\xbf\xef\xbb\xbfx"), b"\xef\xbb\xbfx");
        assert_eq!(without_bom(b" \xef\xbb\xbfx"), b" \xef\xbb\xbfx");
        assert_eq!(without_bom(b"x\n\xef\xbb\xbfy"), b"x\n\xef\xbb\xbfy");
        // A prefix of a BOM is kept, whatever follows it.
        assert_eq!(without_bom(b"\xef\xbbx"), b"\xef\xbbx");
        assert_eq!(without_bom(b"\xef"), b"\xef");
        assert_eq!(without_bom(b""), b"");
    }

    #[test]
    fn memory_stays_bounded_for_a_huge_line() {
        let input = vec![b'y'; 4 << 20];
        let mut reader = Lines::with_limit(io::BufReader::new(&input[..]), MAX_LINE);
        assert_eq!(reader.next_line().unwrap(), Some(Line::TooLong));
        assert!(
            reader.buf.capacity() <= MAX_LINE + 1,
            "{}",
            reader.buf.capacity()
        );
        assert_eq!(reader.next_line().unwrap(), None);
    }
}
