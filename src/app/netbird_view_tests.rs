//! The NetBird tab's state: forms, searches, prompts and answers.

use super::*;
use crate::domain::netbird::Group;

fn groups() -> AdminAnswer {
    let g = |id: &str, name: &str| Group { id: id.into(), name: name.into(), peers_count: 1 };
    AdminAnswer::Groups(vec![g("g1", "All"), g("g2", "laptops"), g("g3", "servers")])
}

#[test]
fn a_key_form_refuses_bad_numbers_and_sends_names() {
    let mut v = NetBirdView { section: Section::Keys, ..Default::default() };
    v.start(Key::New);
    for c in "onboard".chars() {
        assert_eq!(v.on_text(TextKey::Char(c)), None);
    }
    v.on_text(TextKey::Tab);
    v.on_text(TextKey::Tab);
    v.on_text(TextKey::ClearLine);
    v.on_text(TextKey::Char('x'));
    assert_eq!(v.on_text(TextKey::Enter), None);
    assert_eq!(v.key_form.as_ref().unwrap().error.as_deref(), Some("expires in days must be a whole number"));
    v.on_text(TextKey::Backspace);
    for c in "30".chars() {
        v.on_text(TextKey::Char(c));
    }
    v.on_text(TextKey::Tab);
    v.on_text(TextKey::Tab);
    for c in "laptops, servers".chars() {
        v.on_text(TextKey::Char(c));
    }
    let sent = v.on_text(TextKey::Enter).unwrap();
    let AdminAction::CreateKey(k) = sent else { panic!("{sent:?}") };
    assert_eq!((k.name.as_str(), k.reusable, k.expires_days), ("onboard", true, 30));
    assert_eq!(k.auto_groups, ["laptops", "servers"]);
    assert!(v.key_form.is_none());
}

#[test]
fn a_failed_list_replaces_the_old_one_and_search_filters() {
    let mut v = NetBirdView { section: Section::Groups, ..Default::default() };
    assert_eq!(v.answered(&AdminAction::Groups, Ok(groups())), None);
    v.search = Some(Field::default());
    for c in "LAP".chars() {
        v.on_text(TextKey::Char(c));
    }
    v.on_text(TextKey::Enter);
    assert_eq!(v.rows().iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["laptops"]);
    assert_eq!(v.shown(), [1]);
    v.answered(&AdminAction::Groups, Err("instance stopped".into()));
    assert_eq!(v.list, Some(Err("instance stopped".into())), "nothing stale is kept as true");
    assert!(v.rows().is_empty());
}

#[test]
fn delete_and_rename_act_on_the_selected_row_by_id() {
    let mut v = NetBirdView { section: Section::Groups, ..Default::default() };
    v.answered(&AdminAction::Groups, Ok(groups()));
    v.move_by(1);
    assert_eq!(v.start(Key::Delete), None);
    let (question, _) = v.confirm.clone().unwrap();
    assert_eq!(question, "delete group 'laptops'?");
    assert_eq!(v.on_text(TextKey::Char('y')), Some(AdminAction::DeleteGroup { group: "g2".into() }));
    v.start(Key::Rename);
    assert_eq!(v.prompt.as_ref().unwrap().text, "laptops", "the prompt starts from the current name");
    v.on_text(TextKey::ClearLine);
    for c in "notebooks".chars() {
        v.on_text(TextKey::Char(c));
    }
    assert_eq!(
        v.on_text(TextKey::Enter),
        Some(AdminAction::RenameGroup { group: "g2".into(), name: "notebooks".into() })
    );
    let next = v.answered(&AdminAction::CreateGroup { name: "x".into() }, Ok(AdminAnswer::Done("ok".into())));
    assert_eq!(next, Some(AdminAction::Groups), "a change reloads the list");
}

#[test]
fn a_new_user_is_a_person_when_an_email_follows_the_name() {
    let mut v = NetBirdView { section: Section::Users, ..Default::default() };
    v.start(Key::New);
    for c in "Ann Lee ann@example.com".chars() {
        v.on_text(TextKey::Char(c));
    }
    let Some(AdminAction::CreateUser(u)) = v.on_text(TextKey::Enter) else { panic!() };
    assert_eq!((u.name.as_str(), u.email.as_str(), u.service), ("Ann Lee", "ann@example.com", false));
    v.start(Key::New);
    for c in "ci bot".chars() {
        v.on_text(TextKey::Char(c));
    }
    let Some(AdminAction::CreateUser(u)) = v.on_text(TextKey::Enter) else { panic!() };
    assert_eq!((u.name.as_str(), u.service), ("ci bot", true));
}
