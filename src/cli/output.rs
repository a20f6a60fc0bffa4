//! Printing results: JSON for scripts, aligned text for people.

use serde::Serialize;

use super::{CliError, CliResult};

/// Prints `value` as one JSON document on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> CliResult {
    let s = serde_json::to_string_pretty(value).map_err(|e| CliError::runtime(format!("cannot encode JSON: {e}")))?;
    println!("{}", json_terminal_safe(&s));
    Ok(())
}

/// serde_json escapes C0 controls but writes DEL and C1 (U+0080-U+009F, which some terminals
/// obey) and bidi or zero-width characters (which reorder or hide what is read) as they are.
/// They can only occur inside strings, where `\uXXXX` is the same value: a script reads the
/// original text, a terminal shows it harmlessly.
pub fn json_terminal_safe(json: &str) -> String {
    let escape = |c: char| {
        c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) || crate::domain::sanitize::is_invisible_format(c)
    };
    if !json.chars().any(escape) {
        return json.to_string();
    }
    json.chars().map(|c| if escape(c) { format!("\\u{:04x}", c as u32) } else { c.to_string() }).collect()
}

/// Formats rows as columns separated by two spaces, padded by display width (a CJK character
/// or an emoji takes two columns). Cells pass the terminal sanitiser: some hold what other software said.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> =
        rows.iter().map(|r| r.iter().map(|c| crate::domain::sanitize::terminal_safe(c)).collect()).collect();
    let rows = &rows;
    use unicode_width::UnicodeWidthStr;
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', w - cell.width() + 2));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_pads_by_characters() {
        let t = super::table(&["A", "B"], &[vec!["é".into(), "x".into()], vec!["long".into(), "y".into()]]);
        assert_eq!(t, "A     B\né     x\nlong  y");
        let wide = super::table(&["N", "B"], &[vec!["東京".into(), "x".into()], vec!["ab".into(), "y".into()]]);
        assert_eq!(wide, "N     B\n東京  x\nab    y", "two columns per CJK character");
        let hostile = super::table(&["A"], &[vec!["x\u{1b}]52;c;aGk=\u{7}".into()]]);
        assert_eq!(hostile, "A\nx\\x1b]52;c;aGk=\\x07");
    }

    #[test]
    fn json_output_escapes_del_and_c1() {
        let raw = serde_json::to_string(&serde_json::json!({ "t": "a\u{9b}31m\u{7f}\u{1b}" })).unwrap();
        let safe = super::json_terminal_safe(&raw);
        assert!(!safe.chars().any(char::is_control), "{safe:?}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["t"], "a\u{9b}31m\u{7f}\u{1b}", "the same value");
    }
}
