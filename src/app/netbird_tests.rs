//! The NetBird tab through `update()`: which commands each key sends, what an answer does,
//! and what a role is refused before anything is sent.

use super::detail::Tab;
use super::netbird::{Key, Secret, Section};
use super::{Action, AppState, Command, Event, TextKey, update};
use crate::domain::customer::CustomerRef;
use crate::domain::netbird::{AdminAction, AdminAnswer, CreatedKey, SetupKey};

fn on_detail() -> AppState {
    let mut s = super::fixtures::logged_in();
    update(&mut s, Action::Open);
    s
}

fn sent(cmds: &[Command]) -> Vec<AdminAction> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::NetBird { target, action } => {
                assert_eq!(target, &CustomerRef::new(1, "acme"), "the customer as shown");
                Some(action.clone())
            }
            _ => None,
        })
        .collect()
}

fn typed(s: &mut AppState, text: &str) {
    for c in text.chars() {
        assert!(update(s, Action::Text(TextKey::Char(c))).is_empty());
    }
}

fn key() -> SetupKey {
    SetupKey {
        id: "k1".into(),
        name: "laptops".into(),
        kind: "reusable".into(),
        state: "valid".into(),
        revoked: false,
        used_times: 0,
        usage_limit: 0,
        expires: None,
        auto_groups: vec![],
        ephemeral: false,
    }
}

#[test]
fn opening_the_tab_lists_devices_and_arrows_change_the_list() {
    let mut s = on_detail();
    assert_eq!(sent(&update(&mut s, Action::GoTab(4))), [AdminAction::Peers]);
    assert_eq!(s.detail().unwrap().tab, Tab::NetBird);
    assert!(sent(&update(&mut s, Action::GoTab(4))).is_empty(), "asked once while the answer is out");
    assert_eq!(sent(&update(&mut s, Action::Section(1))), [AdminAction::Keys]);
    assert_eq!(sent(&update(&mut s, Action::Section(-2))), [AdminAction::Events], "wraps");
    assert_eq!(sent(&update(&mut s, Action::Refresh)), [AdminAction::Events]);
}

#[test]
fn a_key_is_created_shown_once_copied_and_hidden() {
    let mut s = on_detail();
    update(&mut s, Action::GoTab(4));
    update(&mut s, Action::Section(1));
    let list = AdminAction::Keys;
    update(&mut s, Action::Engine(Event::netbird(1, list, Ok(AdminAnswer::Keys(vec![key()])))));
    assert!(update(&mut s, Action::NetBird(Key::New)).is_empty());
    assert!(s.text_input(), "the form has the keyboard: n or d typed there are text");
    typed(&mut s, "ann-laptop");
    let cmds = update(&mut s, Action::Text(TextKey::Enter));
    let asked = sent(&cmds);
    let [AdminAction::CreateKey(new)] = asked.as_slice() else { panic!("{cmds:?}") };
    assert_eq!((new.name.as_str(), new.reusable, new.expires_days), ("ann-laptop", true, 7));
    let created = CreatedKey { key: key(), secret: "SECRET".into(), command: "netbird up … SECRET".into() };
    let cmds = update(
        &mut s,
        Action::Engine(Event::netbird(1, AdminAction::CreateKey(new.clone()), Ok(AdminAnswer::KeyCreated(created)))),
    );
    assert_eq!(sent(&cmds), [AdminAction::Keys], "the list is asked for again");
    assert!(matches!(s.detail().unwrap().netbird.secret, Some(Secret::Key(_))));
    update(&mut s, Action::CopySecret);
    assert_eq!(s.clipboard.as_deref(), Some("netbird up … SECRET"));
    update(&mut s, Action::Back);
    assert!(s.detail().unwrap().netbird.secret.is_none(), "Esc hides the secret first");
    assert_eq!(s.screen(), super::Screen::Detail);
    update(&mut s, Action::Back);
    assert_eq!(s.screen(), super::Screen::Dashboard);
}

#[test]
fn revoking_asks_first_and_a_refusal_is_shown_with_the_list_kept() {
    let mut s = on_detail();
    update(&mut s, Action::GoTab(4));
    s.detail_mut().unwrap().netbird.section = Section::Keys;
    let answer = Ok(AdminAnswer::Keys(vec![key()]));
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Keys, answer)));
    assert!(update(&mut s, Action::NetBird(Key::Toggle)).is_empty(), "nothing sent before the answer");
    assert_eq!(crate::app::keymap::mode(&s), crate::app::keymap::Mode::Confirm);
    let cmds = update(&mut s, Action::Text(TextKey::Char('y')));
    assert_eq!(sent(&cmds), [AdminAction::RevokeKey { key: "k1".into() }]);
    let refused = "refused to revoke the setup key: setup key: k1 not found (HTTP 404)";
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::RevokeKey { key: "k1".into() }, Err(refused.into()))));
    let n = s.notice.clone().unwrap();
    assert!(n.error && n.text.contains("HTTP 404"), "{n:?}");
    assert_eq!(s.detail().unwrap().netbird.rows().len(), 1, "a refused change leaves the list as it was");
}

#[test]
fn a_viewer_is_told_why_before_anything_is_sent() {
    let mut s = on_detail();
    s.role = crate::domain::user::Role::Viewer;
    update(&mut s, Action::GoTab(4));
    s.detail_mut().unwrap().netbird.section = Section::Keys;
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Keys, Ok(AdminAnswer::Keys(vec![key()])))));
    assert!(update(&mut s, Action::NetBird(Key::New)).is_empty());
    assert!(s.detail().unwrap().netbird.key_form.is_none());
    assert_eq!(s.notice.clone().unwrap().text, "a viewer may not do that here (it needs an admin)");
    assert!(update(&mut s, Action::NetBird(Key::Toggle)).is_empty());
    assert!(s.notice.clone().unwrap().text.contains("needs an operator or admin"));
    // Answers for a customer no longer shown change nothing.
    let before = s.detail().cloned();
    update(&mut s, Action::Engine(Event::netbird(99, AdminAction::Keys, Ok(AdminAnswer::Keys(vec![])))));
    assert_eq!(s.detail().cloned(), before);
}

#[test]
fn a_pin_service_is_published_by_keys_and_its_pin_is_asked_apart_and_never_shown() {
    use crate::app::fixtures::press;
    use crate::domain::netbird::{NewService, Secret as Pin, ServiceAuth};
    use crossterm::event::KeyCode::{Char, Enter, Left};
    // The detail as drawn (loaded), on its Info tab; 5 goes to the NetBird tab.
    let mut s = crate::ui::tests::detail(Tab::Info);
    assert_eq!(sent(&press(&mut s, Char('5'))), [AdminAction::Peers]);
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Peers, Ok(AdminAnswer::Peers(Vec::new())))));
    // ← from devices wraps to the last list, the events; back past the identity providers,
    // DNS and posture to the policies, then the services.
    assert_eq!(sent(&press(&mut s, Left)), [AdminAction::Events]);
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Events, Ok(AdminAnswer::Events(Vec::new())))));
    assert_eq!(sent(&press(&mut s, Left)), [AdminAction::Idps]);
    assert_eq!(sent(&press(&mut s, Left)), [AdminAction::Nameservers]);
    assert_eq!(sent(&press(&mut s, Left)), [AdminAction::Postures]);
    assert_eq!(sent(&press(&mut s, Left)), [AdminAction::Policies]);
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Policies, Ok(AdminAnswer::Policies(Vec::new())))));
    assert_eq!(sent(&press(&mut s, Left)), [AdminAction::Services]);
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Services, Ok(AdminAnswer::Services(Vec::new())))));
    assert_eq!(s.detail().unwrap().netbird.section, Section::Services);
    assert!(press(&mut s, Char('n')).is_empty());
    typed(&mut s, "wiki nas:8080 magic");
    assert!(press(&mut s, Enter).is_empty(), "a wrong line is kept, with why");
    let v = &s.detail().unwrap().netbird;
    assert!(v.prompt_error.as_deref().unwrap().contains("magic: expected none, sso, pin or password"));
    for _ in 0.."magic".len() {
        update(&mut s, Action::Text(TextKey::Backspace));
    }
    typed(&mut s, "pin");
    assert!(press(&mut s, Enter).is_empty(), "the PIN is asked for next, apart");
    typed(&mut s, "4821");
    let screen = crate::ui::tests::draw(&s, 120, 40);
    assert!(screen.contains("its PIN or password") && !screen.contains("4821"), "{screen}");
    let want = NewService {
        name: "wiki".into(),
        target: crate::domain::service_target::TargetSpec { name: "nas".into(), address: None, port: 8080 },
        scheme: "http".into(),
        auth: ServiceAuth::Pin(Pin("4821".into())),
    };
    assert_eq!(sent(&press(&mut s, Enter)), [AdminAction::CreateService(want)]);
}

#[test]
fn a_key_netbird_refuses_comes_back_with_what_was_typed_and_why() {
    use crate::app::fixtures::press;
    use crossterm::event::KeyCode::{Char, Enter, Right};
    let mut s = crate::ui::tests::detail(Tab::Info);
    press(&mut s, Char('5'));
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Peers, Ok(AdminAnswer::Peers(Vec::new())))));
    assert_eq!(sent(&press(&mut s, Right)), [AdminAction::Keys]);
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Keys, Ok(AdminAnswer::Keys(Vec::new())))));
    press(&mut s, Char('n'));
    typed(&mut s, "onboard");
    for _ in 0..4 {
        press(&mut s, crossterm::event::KeyCode::Tab);
    }
    typed(&mut s, "nosuchgroup");
    let sent_now = sent(&press(&mut s, Enter));
    let [AdminAction::CreateKey(key)] = sent_now.as_slice() else { panic!("no key sent: {sent_now:?}") };
    let key = key.clone();
    assert_eq!(key.auto_groups, ["nosuchgroup"]);
    let why = "no group 'nosuchgroup' in 'acme': create it first (the NetBird tab's Groups list, or ...)";
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::CreateKey(key), Err(why.into()))));
    let form = s.detail().unwrap().netbird.key_form.clone().expect("the form is back");
    assert_eq!((form.name.to_string(), form.groups.to_string()), ("onboard".into(), "nosuchgroup".into()));
    assert_eq!(form.error.as_deref(), Some(why));
}

/// The key form starts within the fleet's rules for setup keys (the baseline's
/// `[setup_keys]`), asked for when the tab opens: one-off when reusable keys are not allowed,
/// and no longer than allowed; without rules, a reusable key for 7 days.
#[test]
fn the_key_form_starts_within_the_baselines_rules_for_keys() {
    use crate::app::fixtures::press;
    use crate::domain::baseline_keys::KeyRules;
    use crossterm::event::KeyCode::{Char, Esc, Right};
    let mut s = crate::ui::tests::detail(Tab::Info);
    let cmds = press(&mut s, Char('5'));
    assert!(cmds.contains(&Command::LoadKeyRules), "{cmds:?}");
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Peers, Ok(AdminAnswer::Peers(Vec::new())))));
    press(&mut s, Right);
    update(&mut s, Action::Engine(Event::netbird(1, AdminAction::Keys, Ok(AdminAnswer::Keys(Vec::new())))));
    let form = |s: &mut crate::app::AppState| {
        press(s, Char('n'));
        let f = s.detail().unwrap().netbird.key_form.clone().expect("the form opens");
        press(s, Esc);
        (f.reusable, f.days.to_string())
    };
    assert_eq!(form(&mut s), (true, "7".to_string()), "no rules heard yet: the form's own defaults");
    update(&mut s, Action::Engine(Event::KeyRules(Some(KeyRules { reusable: false, max_days: Some(3) }))));
    assert_eq!(form(&mut s), (false, "3".to_string()));
    update(&mut s, Action::Engine(Event::KeyRules(Some(KeyRules { reusable: true, max_days: Some(30) }))));
    assert_eq!(form(&mut s), (true, "7".to_string()), "7 days is within 30");
}
