//! The one single-line text field of the app: tui-input's buffer and cursor behind the app's
//! [`TextKey`]s, so every field (login, filter, command line, forms, prompts) edits alike:
//! arrows, Home/End and Ctrl-A/E, word moves (Ctrl-arrows, Alt-B/F), Backspace and Delete,
//! Ctrl-U empties the field, Ctrl-W deletes the word before the cursor.

use std::fmt;

use tui_input::{Input, InputRequest};

use super::TextKey;

/// A single-line field with a cursor.
#[derive(Clone, Default)]
pub struct Field(Input);

impl Field {
    /// A field holding `text`, the cursor at its end.
    pub fn new(text: impl Into<String>) -> Self {
        Self(Input::new(text.into()))
    }

    /// The text.
    pub fn value(&self) -> &str {
        self.0.value()
    }

    /// Characters before the cursor.
    pub fn cursor(&self) -> usize {
        self.0.cursor()
    }

    /// The text before and after the cursor (for drawing the cursor where it is).
    pub fn at_cursor(&self) -> (&str, &str) {
        let v = self.0.value();
        let at = v.char_indices().nth(self.0.cursor()).map_or(v.len(), |(i, _)| i);
        v.split_at(at)
    }

    /// Empties the field.
    pub fn clear(&mut self) {
        self.0.reset();
    }

    /// Takes the text out, leaving the field empty.
    pub fn take(&mut self) -> String {
        self.0.value_and_reset()
    }

    /// Applies `k`; true when it is an editing key (false: the caller's to handle).
    pub fn edit(&mut self, k: TextKey) -> bool {
        let req = match k {
            TextKey::Char(c) => InputRequest::InsertChar(c),
            TextKey::Backspace => InputRequest::DeletePrevChar,
            TextKey::Delete => InputRequest::DeleteNextChar,
            TextKey::ClearLine => InputRequest::DeleteLine,
            TextKey::DeleteWord => InputRequest::DeletePrevWord,
            TextKey::Left => InputRequest::GoToPrevChar,
            TextKey::Right => InputRequest::GoToNextChar,
            TextKey::Home => InputRequest::GoToStart,
            TextKey::End => InputRequest::GoToEnd,
            TextKey::WordLeft => InputRequest::GoToPrevWord,
            TextKey::WordRight => InputRequest::GoToNextWord,
            _ => return false,
        };
        self.0.handle(req);
        true
    }
}

impl From<&str> for Field {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for Field {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl std::ops::Deref for Field {
    type Target = str;
    fn deref(&self) -> &str {
        self.value()
    }
}

impl PartialEq for Field {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value() && self.cursor() == other.cursor()
    }
}

impl Eq for Field {}

impl PartialEq<&str> for Field {
    fn eq(&self, other: &&str) -> bool {
        self.value() == *other
    }
}

impl PartialEq<str> for Field {
    fn eq(&self, other: &str) -> bool {
        self.value() == other
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value())
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}", self.value(), self.cursor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Field {
        let mut f = Field::default();
        for c in text.chars() {
            assert!(f.edit(TextKey::Char(c)));
        }
        f
    }

    #[test]
    fn ctrl_u_and_ctrl_w_edit_like_a_shell() {
        let mut t = Field::new("netbirdio/dashboard:v2.90.9");
        assert!(t.edit(TextKey::DeleteWord));
        assert_eq!(t.value(), "netbirdio/", "the image and tag go, the registry path stays");
        t.edit(TextKey::ClearLine);
        assert_eq!(t.value(), "");
        assert!(!t.edit(TextKey::Enter));
        let mut words = typed("two words");
        words.edit(TextKey::DeleteWord);
        assert_eq!(words.value(), "two ");
    }

    #[test]
    fn the_cursor_moves_and_edits_happen_where_it_is() {
        let mut f = typed("netbirdio/dashboard:v2.9");
        f.edit(TextKey::Home);
        assert_eq!(f.cursor(), 0);
        f.edit(TextKey::Delete);
        assert_eq!(f.value(), "etbirdio/dashboard:v2.9");
        f.edit(TextKey::Char('n'));
        f.edit(TextKey::End);
        f.edit(TextKey::Char('0'));
        assert_eq!(f.value(), "netbirdio/dashboard:v2.90");
        f.edit(TextKey::WordLeft);
        assert!(f.cursor() < f.chars().count(), "a word back");
        f.edit(TextKey::Left);
        f.edit(TextKey::Right);
        let (before, after) = f.at_cursor();
        assert_eq!(format!("{before}{after}"), "netbirdio/dashboard:v2.90");
        assert_eq!(before.chars().count(), f.cursor());
        // Multi-byte text: the cursor counts characters, not bytes.
        let mut w = typed("東京");
        w.edit(TextKey::Left);
        assert_eq!(w.at_cursor(), ("東", "京"));
        w.edit(TextKey::Backspace);
        assert_eq!(w.value(), "京");
    }
}
