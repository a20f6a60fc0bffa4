//! Tests of `keymap.rs`.

use super::*;

#[test]
fn rebinding_moves_keys_and_reports_problems() {
    let (map, problems) = Keymap::load(
        "[dashboard]\ndeploy = \"p\"\nquit = [\"Q\", \"F10\"]\nfly = \"x\"\n[nowhere]\na = \"b\"\n[detail]\nback = \"nokey\"\n",
    );
    let dash = map.table(Mode::Dashboard);
    let find = |id: &str| dash.iter().find(|b| b.id() == id).unwrap();
    assert_eq!(find("deploy").keys.as_ref(), [Char('p')]);
    assert_eq!(find("quit").keys.as_ref(), [Char('Q'), KeyCode::F(10)]);
    assert_eq!(find("quit").label, "Q/F10");
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("unknown action fly")));
    assert!(problems.iter().any(|p| p.contains("[nowhere]")));
    assert!(problems.iter().any(|p| p.contains("nokey")));
    // Taking a key from another action: "o" (sort) rebound to deploy leaves sort without it.
    let (map, _) = Keymap::load("[dashboard]\ndeploy = \"o\"\n");
    let sort = map.table(Mode::Dashboard).iter().find(|b| b.id() == "sort").unwrap();
    assert!(sort.keys.is_empty());
    assert_eq!(Keymap::load("not toml [").1.len(), 1);
}

#[test]
fn no_key_is_bound_twice_in_one_mode() {
    let map = Keymap::default();
    for (mode, _) in &map.tables {
        let mut seen = Vec::new();
        for b in map.table(*mode) {
            for k in b.keys.iter() {
                assert!(!seen.contains(k), "{k:?} bound twice");
                seen.push(*k);
            }
        }
    }
}

#[test]
fn help_names_each_key_once_per_mode() {
    // "j/k scroll logs" above "k scroll up" read as the same key twice (#29).
    let map = Keymap::default();
    for (mode, _) in &map.tables {
        let mut named = Vec::new();
        for b in map.table(*mode) {
            // "/" is itself a key (search); elsewhere '/' separates keys.
            let parts: Vec<&str> = if b.label == "/" { vec!["/"] } else { b.label.split('/').collect() };
            for part in parts {
                assert!(!named.contains(&part.to_string()), "{mode:?}: {part} named by two lines of the help");
                named.push(part.to_string());
            }
        }
    }
}
