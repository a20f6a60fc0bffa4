//! Printing results: JSON for scripts, aligned text for people.

use serde::Serialize;

use super::{CliError, CliResult};

/// Prints `value` as one JSON document on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> CliResult {
    let s = serde_json::to_string_pretty(value).map_err(|e| CliError::runtime(format!("cannot encode JSON: {e}")))?;
    println!("{s}");
    Ok(())
}

/// Formats rows as columns separated by two spaces, padded by character count (names may hold
/// any Unicode letter; control characters are rejected at input, so every cell is safe to print).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
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
    }
}
