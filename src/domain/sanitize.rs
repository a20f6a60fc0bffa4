//! The one sanitiser for text that comes from outside (container logs, API error texts, names):
//! control characters are shown, never executed, so a log line or an error message can never
//! drive the terminal it is printed on.

/// Characters that are not control characters but change what a reader sees without showing
/// themselves: bidirectional overrides, embeddings and isolates (which reorder the text after
/// them, "Trojan Source") and zero-width characters (which hide a difference between names).
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Whether `c` must be shown as an escape rather than written to a terminal.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t') || is_invisible_format(c)
}

/// `text` with every control character (C0, DEL, C1) and every invisible formatting character
/// (bidi controls, zero-width) written as a visible escape (`\x1b`, `\u{9b}`, `\u{202e}`); tabs
/// stay, so columns in logs still line up. Everything else is kept as it is.
pub fn terminal_safe(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !needs_escape(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn escapes_are_shown_not_kept() {
        let hostile = "GET /\u{1b}]52;c;aGk=\u{7}x\u{9b}31m\u{7f}\r\nnext";
        let safe = terminal_safe(hostile);
        assert_eq!(safe, "GET /\\x1b]52;c;aGk=\\x07x\\u{9b}31m\\x7f\\x0d\\x0anext");
        assert!(!safe.chars().any(char::is_control));
        assert_eq!(terminal_safe("plain\ttext ü"), "plain\ttext ü");
    }

    #[test]
    fn bidi_and_zero_width_are_shown_not_kept() {
        let hostile = "acme\u{202e}gnp.exe \u{2066}x\u{2069} a\u{200b}b \u{feff}";
        assert_eq!(terminal_safe(hostile), "acme\\u{202e}gnp.exe \\u{2066}x\\u{2069} a\\u{200b}b \\u{feff}");
        assert_eq!(terminal_safe("Müller & Søn — 東京"), "Müller & Søn — 東京", "ordinary letters stay");
    }
}
