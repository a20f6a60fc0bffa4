//! `update` for the NetBird tab: its keys, its prompts and what the engine answers. The tab's
//! own state and rules are in [`super::netbird`]; this file only connects them to the app.

use super::detail::{DetailState, Tab};
use super::netbird::Secret;
use super::{Action, AppState, Command, TextKey};
use crate::domain::customer::CustomerRef;
use crate::domain::netbird::{AdminAction, AdminAnswer};

fn ask(d: &DetailState, action: AdminAction) -> Command {
    Command::NetBird { target: CustomerRef::new(d.customer_id, d.subdomain.clone()), action }
}

/// Entering the tab: the current list is asked for when there is none.
pub(super) fn opened(d: &mut DetailState) -> Vec<Command> {
    if d.netbird.list.is_some() || d.netbird.busy {
        return Vec::new();
    }
    let action = d.netbird.reload();
    let mut cmds = vec![ask(d, action)];
    if d.netbird.key_rules.is_none() {
        // The fleet's rules for setup keys, so the key form starts within them.
        cmds.push(Command::LoadKeyRules);
    }
    cmds
}

/// Reloading everything (R): on the NetBird tab its list is asked for again too.
pub(super) fn refreshed(d: &mut DetailState) -> Vec<Command> {
    if d.tab != Tab::NetBird {
        return Vec::new();
    }
    let list = d.netbird.reload();
    vec![ask(d, list)]
}

/// A key on the NetBird tab; `None` when it is not the tab's (the detail view handles it).
pub(super) fn on_key(s: &mut AppState, action: &Action) -> Option<Vec<Command>> {
    if s.detail().is_none_or(|d| d.tab != Tab::NetBird) {
        return None;
    }
    if let Action::NetBird(key) = action
        && let Some(need) = s.detail().map(|d| d.netbird.needs(*key))
        && let Err(e) = crate::domain::rights::check(s.role, need, "do that here")
    {
        // The engine's own refusal, said before anything is sent.
        s.notify(e.to_string(), true);
        return Some(Vec::new());
    }
    let d = s.detail_mut()?;
    let v = &mut d.netbird;
    let cmds = match action {
        Action::Move(n) => {
            v.move_by(n.signum() * if n.abs() > 1 { 10 } else { 1 });
            Vec::new()
        }
        Action::Top => {
            v.selected = 0;
            Vec::new()
        }
        Action::Bottom => {
            v.move_by(isize::MAX / 2);
            Vec::new()
        }
        Action::Filter => {
            v.search = Some(v.query.clone().into());
            Vec::new()
        }
        Action::Section(n) => {
            let list = v.switch(*n);
            vec![ask(d, list)]
        }
        Action::NetBird(key) => match v.start(*key) {
            Some(change) => {
                v.busy = true;
                vec![ask(d, change)]
            }
            None => {
                if !v.typing() {
                    let what = if v.rows().is_empty() { "nothing selected" } else { "not in this list" };
                    s.notify(what, true);
                }
                Vec::new()
            }
        },
        Action::CopySecret => {
            let line = match &v.secret {
                Some(Secret::Key(k)) => Some(k.command.clone()),
                _ => None,
            };
            match line {
                Some(l) => {
                    s.clipboard = Some(l);
                    s.notify("copied the `netbird up` line to the clipboard", false);
                }
                None => s.notify("no new setup key to copy (create one with n on Setup keys)", true),
            }
            Vec::new()
        }
        // Esc first puts away what the tab shows on top: a secret, then a search.
        Action::Back if v.secret.is_some() => {
            v.secret = None;
            Vec::new()
        }
        Action::Back if !v.query.is_empty() => {
            v.query.clear();
            Vec::new()
        }
        _ => return None,
    };
    Some(cmds)
}

/// A key while the tab has a prompt, form, search or confirmation open.
pub(super) fn on_text(s: &mut AppState, k: TextKey) -> Option<Vec<Command>> {
    let d = s.detail_mut().filter(|d| d.netbird.typing())?;
    let change = d.netbird.on_text(k);
    Some(match change {
        Some(action) => {
            d.netbird.busy = true;
            vec![ask(d, action)]
        }
        None => Vec::new(),
    })
}

/// What the customer's NetBird answered.
pub(super) fn answered(
    s: &mut AppState,
    customer_id: i64,
    action: AdminAction,
    result: Result<AdminAnswer, crate::domain::error::Failure>,
) -> Vec<Command> {
    let Some(d) = s.detail_mut().filter(|d| d.customer_id == customer_id) else {
        s.dirty = false;
        return Vec::new();
    };
    let message = match (&result, action.changes()) {
        (Ok(AdminAnswer::Done(m)), _) => Some((m.clone(), false)),
        (Err(e), true) => Some((format!("could not {}: {e}", action.describe()), true)),
        _ => None,
    };
    let next = d.netbird.answered(&action, result);
    let cmds = next.map(|list| vec![ask(d, list)]).unwrap_or_default();
    if let Some((text, error)) = message {
        s.notify(text, error);
    }
    cmds
}
