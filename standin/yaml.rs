//! Reading the combined server's YAML config, enough for the keys the stand-in checks.

use std::collections::BTreeMap;

use crate::json::Json;

/// Flattens `key: value` lines of a block-style YAML file into dotted paths (values unquoted).
pub fn yaml_scalars(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    for raw in text.lines() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        let indent = raw.len() - trimmed.len();
        let Some((key, value)) = trimmed.split_once(':') else { continue };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).chain([key.trim()]).collect();
        let value = value.trim();
        if value.is_empty() {
            stack.push((indent, key.trim().to_string()));
        } else {
            out.insert(path.join("."), unquote(value));
        }
    }
    out
}

fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        Json::parse(v).ok().and_then(|j| j.as_str().map(str::to_string)).unwrap_or_default()
    } else {
        v.split(" #").next().unwrap_or(v).trim().to_string()
    }
}

/// The integers of `key: [a, b]` or of a block list under `key:`.
pub fn yaml_int_list(text: &str, key: &str) -> Vec<i64> {
    let mut lines = text.lines().skip_while(|l| l.trim_start().split(':').next() != Some(key));
    let Some(first) = lines.next() else { return Vec::new() };
    let inline = first.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
    if let Some(list) = inline.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
        return list.split(',').filter_map(|p| p.trim().parse().ok()).collect();
    }
    lines.map(str::trim).take_while(|l| l.starts_with('-')).filter_map(|l| l[1..].trim().parse().ok()).collect()
}
