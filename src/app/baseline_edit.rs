//! `:baseline`: the fleet's baseline edited in the operator's own editor. The engine reads the
//! file (and says whether this role may change it), the terminal layer hands the screen to
//! `$VISUAL`/`$EDITOR` ([`ExternalEdit`]), and what comes back is sent to the engine, which
//! refuses a text that does not parse. A refused text is kept, with the reason on top as a
//! comment, and `:baseline` opens it again: nothing typed is lost.

use super::{AppState, Command, Event};

/// Text the terminal layer puts in a file and opens in the operator's editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalEdit {
    /// The file's name (the editor shows it; its extension picks the highlighting).
    pub name: String,
    /// What the file holds when the editor opens.
    pub text: String,
}

/// What `:baseline` remembers between the editor and the engine's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaselineEditor {
    /// The text the editor was opened with (an unchanged file is not sent).
    pub opened: Option<String>,
    /// A text the engine refused, with the reason on top: opened next instead of the file.
    pub draft: Option<String>,
}

/// `:baseline`: asks the engine for the file.
pub fn open(s: &mut AppState) -> Vec<Command> {
    s.notify("reading the baseline…", false);
    vec![Command::LoadBaseline]
}

/// The engine's answers: the file to edit, or how the save went.
pub(super) fn on_event(s: &mut AppState, ev: Event) -> Vec<Command> {
    match ev {
        Event::Baseline(Err(f)) => s.notify(format!("cannot read the baseline: {}", f.message), true),
        Event::Baseline(Ok(b)) if !b.may_change => {
            s.notify("only admins change the baseline (nbmsp baseline show prints it)", true);
        }
        Event::Baseline(Ok(b)) => {
            let text = s.baseline.draft.take().unwrap_or(b.text);
            s.baseline.opened = Some(text.clone());
            s.notice = None;
            s.external_edit = Some(ExternalEdit { name: "baseline.toml".into(), text });
        }
        Event::BaselineSaved { result: Ok(summary), .. } => {
            s.notify(format!("baseline saved: {summary} — nbmsp baseline check shows who differs"), false);
        }
        Event::BaselineSaved { text, result: Err(f) } => {
            let body: String =
                text.lines().skip_while(|l| l.starts_with("# not saved:")).map(|l| format!("{l}\n")).collect();
            let why = f.message.replace('\n', " ");
            s.baseline.draft = Some(format!("# not saved: {why}\n{body}"));
            s.notify(format!("baseline not saved: {why} (:baseline opens what you wrote)"), true);
        }
        _ => {}
    }
    Vec::new()
}

/// The editor closed: the text to send, or why there is none.
pub(super) fn on_edited(s: &mut AppState, edited: Result<String, crate::domain::error::Failure>) -> Vec<Command> {
    let opened = s.baseline.opened.take();
    match edited {
        Err(why) => {
            s.notify(format!("the editor failed: {why}"), true);
            Vec::new()
        }
        Ok(text)
            if Some(&text) == opened.as_ref() && opened.as_deref().is_some_and(|t| !t.starts_with("# not saved:")) =>
        {
            s.notify("baseline unchanged", false);
            Vec::new()
        }
        Ok(text) => {
            s.notify("saving the baseline…", false);
            vec![Command::SaveBaseline { text }]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{logged_in, press};
    use crate::app::{Action, update};
    use crate::domain::error::{ErrorKind, Failure};
    use crate::engine::usecase::baseline::BaselineText;
    use crossterm::event::KeyCode::{Char, Enter};

    fn command(s: &mut AppState, line: &str) -> Vec<Command> {
        press(s, Char(':'));
        for c in line.chars() {
            press(s, Char(c));
        }
        press(s, Enter)
    }

    fn loaded(s: &mut AppState, text: &str, may_change: bool) {
        let b = BaselineText { text: text.into(), exists: true, may_change };
        update(s, Action::Engine(Event::Baseline(Ok(b))));
    }

    #[test]
    fn baseline_opens_the_file_in_the_editor_and_sends_only_a_changed_text() {
        let mut s = logged_in();
        assert_eq!(command(&mut s, "baseline"), vec![Command::LoadBaseline]);
        loaded(&mut s, "groups = []\n", true);
        let edit = s.external_edit.take().expect("the terminal layer opens the editor");
        assert_eq!((edit.name.as_str(), edit.text.as_str()), ("baseline.toml", "groups = []\n"));
        assert!(update(&mut s, Action::Edited(Ok("groups = []\n".into()))).is_empty());
        assert_eq!(s.notice.as_ref().unwrap().text, "baseline unchanged");

        command(&mut s, "baseline");
        loaded(&mut s, "groups = []\n", true);
        s.external_edit.take();
        let sent = update(&mut s, Action::Edited(Ok("allow_default_policy = false\n".into())));
        assert_eq!(sent, vec![Command::SaveBaseline { text: "allow_default_policy = false\n".into() }]);
        let saved = Event::BaselineSaved { text: String::new(), result: Ok("All → All forbidden; 0 groups".into()) };
        update(&mut s, Action::Engine(saved));
        assert!(s.notice.as_ref().unwrap().text.starts_with("baseline saved: All → All forbidden"));
    }

    #[test]
    fn a_refused_text_comes_back_with_the_reason_and_nothing_typed_is_lost() {
        let mut s = logged_in();
        command(&mut s, "baseline");
        loaded(&mut s, "", true);
        s.external_edit.take();
        update(&mut s, Action::Edited(Ok("dns = []\n".into())));
        let refused = Failure::new(ErrorKind::Usage, "baseline.toml: unknown field `dns`");
        update(&mut s, Action::Engine(Event::BaselineSaved { text: "dns = []\n".into(), result: Err(refused) }));
        assert!(s.notice.as_ref().unwrap().error);
        // Opened again: what was written, the reason on top, not the file.
        command(&mut s, "baseline");
        loaded(&mut s, "groups = []\n", true);
        let edit = s.external_edit.take().unwrap();
        assert_eq!(edit.text, "# not saved: baseline.toml: unknown field `dns`\ndns = []\n");
        // Sent back as it is (even unchanged: it was never saved), the old reason not stacked.
        let sent = update(&mut s, Action::Edited(Ok(edit.text.clone())));
        assert_eq!(sent, vec![Command::SaveBaseline { text: edit.text }]);
        let again = Failure::new(ErrorKind::Usage, "still wrong");
        let text = "# not saved: baseline.toml: unknown field `dns`\ndns = []\n".to_string();
        update(&mut s, Action::Engine(Event::BaselineSaved { text, result: Err(again) }));
        assert_eq!(s.baseline.draft.as_deref(), Some("# not saved: still wrong\ndns = []\n"));
    }

    #[test]
    fn a_role_that_may_not_change_it_is_told_so_and_no_editor_opens() {
        let mut s = logged_in();
        command(&mut s, "baseline");
        loaded(&mut s, "groups = []\n", false);
        assert!(s.external_edit.is_none());
        assert!(s.notice.as_ref().unwrap().text.contains("only admins"));
        update(&mut s, Action::Engine(Event::Baseline(Err(Failure::runtime("disk gone")))));
        assert!(s.notice.as_ref().unwrap().text.contains("disk gone"));
    }
}
