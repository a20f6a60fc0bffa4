//! The one sanitiser for text that comes from outside (container logs, API error texts, names):
//! control characters are shown, never executed, so a log line or an error message can never
//! drive the terminal it is printed on.

/// `text` with every control character (C0, DEL, C1) written as a visible escape (`\x1b`,
/// `\u{9b}`); tabs stay, so columns in logs still line up. Everything else is kept as it is.
pub fn terminal_safe(text: &str) -> String {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push('\t'),
            c if (c as u32) < 0x80 && c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
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
}
