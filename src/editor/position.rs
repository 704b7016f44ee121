//! Positions as the Language Server Protocol counts them.
//!
//! Spans are byte offsets; an editor counts lines from 0 and columns in
//! UTF-16 code units. A `£`, an `é` or a curly quote is one unit but two or
//! three bytes, and an emoji is two units but four bytes, so every position
//! that crosses the protocol boundary goes through a [`LineIndex`].

use lsp_types::{Position, Range};

/// The line starts of one text, to convert between byte offsets and
/// editor positions in time proportional to one line.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// The editor position of a byte offset (clamped to the text; an offset
    /// inside a character counts from that character's start).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(self.len);
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range::new(self.position(text, start), self.position(text, end))
    }

    /// The byte offset of an editor position, or `None` when the line does
    /// not exist or the column lies past the line's end or inside a
    /// character that takes two UTF-16 units.
    pub fn offset(&self, text: &str, pos: Position) -> Option<usize> {
        let line = pos.line as usize;
        let start = *self.starts.get(line)?;
        let end = self.starts.get(line + 1).map_or(self.len, |&next| next - 1);
        let line_text = &text[start..end];
        let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
        let mut units = 0usize;
        let want = pos.character as usize;
        for (i, c) in line_text.char_indices() {
            if units == want {
                return Some(start + i);
            }
            units += c.len_utf16();
            if units > want {
                return None;
            }
        }
        (units == want).then_some(start + line_text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str, offset: usize, line: u32, character: u32) {
        let index = LineIndex::new(text);
        let pos = index.position(text, offset);
        assert_eq!(
            pos,
            Position::new(line, character),
            "position of byte {offset}"
        );
        assert_eq!(index.offset(text, pos), Some(offset), "offset of {pos:?}");
    }

    #[test]
    fn ascii_columns_are_bytes() {
        round_trip("rule a {\n  when x\n}", 0, 0, 0);
        round_trip("rule a {\n  when x\n}", 11, 1, 2);
        round_trip("rule a {\n  when x\n}", 18, 2, 0);
    }

    #[test]
    fn non_ascii_before_the_cursor_counts_in_utf16_units() {
        // `£` is 2 bytes and 1 unit; `“` is 3 bytes and 1 unit.
        let text = "note \"£5 “x”\" y";
        let y = text.find('y').unwrap();
        round_trip(text, y, 0, 14);
        // An emoji outside the basic plane is 4 bytes and 2 units.
        let text = "a 🚓 b";
        round_trip(text, text.find('b').unwrap(), 0, 5);
        round_trip(text, 2, 0, 2);
    }

    #[test]
    fn a_column_inside_a_surrogate_pair_or_past_the_line_is_refused() {
        let text = "a 🚓 b\nc";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Position::new(0, 3)), None);
        assert_eq!(index.offset(text, Position::new(0, 7)), None);
        assert_eq!(
            index.offset(text, Position::new(0, 6)),
            Some(text.find('\n').unwrap())
        );
        assert_eq!(index.offset(text, Position::new(2, 0)), None);
        assert_eq!(index.offset(text, Position::new(1, 1)), Some(text.len()));
    }

    #[test]
    fn crlf_line_ends_are_not_columns() {
        let text = "ab\r\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Position::new(0, 2)), Some(2));
        assert_eq!(index.offset(text, Position::new(0, 3)), None);
        round_trip(text, 5, 1, 1);
    }

    #[test]
    fn offsets_past_the_end_or_inside_a_character_are_clamped() {
        let text = "£";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 1), Position::new(0, 0));
        assert_eq!(index.position(text, 99), Position::new(0, 1));
    }
}
