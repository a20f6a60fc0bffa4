//! The one editing rule for single-line fields: type, Backspace, Ctrl-U empties the field,
//! Ctrl-W deletes the last word (as in a shell).

use super::TextKey;

/// Applies `k` to `text`; true when the key edits text (false: the caller's to handle).
pub fn edit(text: &mut String, k: TextKey) -> bool {
    match k {
        TextKey::Char(c) => text.push(c),
        TextKey::Backspace => {
            text.pop();
        }
        TextKey::ClearLine => text.clear(),
        TextKey::DeleteWord => {
            let sep = |c: char| c.is_whitespace() || c == '/' || c == ':';
            let kept = text.trim_end_matches(sep).len();
            text.truncate(kept);
            let cut = text.rfind(sep).map_or(0, |i| i + 1);
            text.truncate(cut);
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_u_and_ctrl_w_edit_like_a_shell() {
        let mut t = "netbirdio/dashboard:v2.90.9".to_string();
        assert!(edit(&mut t, TextKey::DeleteWord));
        assert_eq!(t, "netbirdio/dashboard:");
        edit(&mut t, TextKey::DeleteWord);
        assert_eq!(t, "netbirdio/", "the separator it ends on goes with the word before");
        edit(&mut t, TextKey::ClearLine);
        assert_eq!(t, "");
        assert!(!edit(&mut t, TextKey::Enter));
        let mut words = "two words  ".to_string();
        edit(&mut words, TextKey::DeleteWord);
        assert_eq!(words, "two ");
    }
}
