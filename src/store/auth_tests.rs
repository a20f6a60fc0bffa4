//! Tests of `auth.rs`.

use super::*;
use crate::store::vault::SCOPE_SETTINGS;

fn init(store: &mut Store) -> Session {
    let home = Path::new("/srv/nbmsp");
    store
        .initialise(&InitParams {
            home,
            admin_user: "admin",
            password: "admin-password-1",
            admin_email: "ops@msp.example",
            base_domain: "msp.example",
            beside_foreign: false,
        })
        .unwrap()
}

#[test]
fn init_once_then_login() {
    let mut store = Store::open_in_memory().unwrap();
    init(&mut store);
    let again = store.initialise(&InitParams {
        home: Path::new("/x"),
        admin_user: "other",
        password: "another-password",
        admin_email: "a@b.example",
        base_domain: "b.example",
        beside_foreign: false,
    });
    assert!(matches!(again, Err(StoreError::AlreadyInitialised(_))));
    let s = store.login("admin", "admin-password-1", 1000).unwrap();
    assert_eq!(s.user.role, Role::Admin);
    assert_eq!(store.settings().unwrap().data_dir, "/srv/nbmsp/instances");
}

#[test]
fn admin_only_secrets_open_for_admins_and_a_role_changed_by_hand_opens_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    let admin = init(&mut store);
    store.add_user(&admin, "ops", "operator-password", Role::Operator).unwrap();
    store.add_user(&admin, "boss", "another-admin-pw", Role::Admin).unwrap();
    let ops = store.login("ops", "operator-password", 1).unwrap();
    // An operator's deploy stores the owner's password; only admins read it back.
    store.put_secret(&ops.vault, "customer:1", "owner_password", "hunter2-owner").unwrap();
    store.put_secret(&ops.vault, "customer:1", "owner_pat", "nbp_token").unwrap();
    let err = store.secret(&ops.vault, "customer:1", "owner_password").unwrap_err().to_string();
    assert!(err.contains("only an admin"), "{err}");
    assert_eq!(store.secret(&ops.vault, "customer:1", "owner_pat").unwrap().unwrap().as_str(), "nbp_token");
    let stored = store.secrets_of(&ops.vault, "customer:1").unwrap();
    assert!(stored["owner_password"].starts_with("admin-sealed:v1:"), "a backup holds it sealed");
    for who in [admin, store.login("boss", "another-admin-pw", 2).unwrap()] {
        let plain = store.secret(&who.vault, "customer:1", "owner_password").unwrap().unwrap();
        assert_eq!(plain.as_str(), "hunter2-owner", "{}", who.user.username);
    }
    // The operator made admin in the database alone: no admin key, so no admin session.
    store.conn.execute("UPDATE users SET role = 'admin' WHERE username = 'ops'", []).unwrap();
    let err = store.login("ops", "operator-password", 3).unwrap_err();
    assert!(matches!(err, StoreError::Auth(AuthError::NoAdminKey(_))), "{err}");
    // An admin resetting its password gives it the admin key (the way to make admins of
    // accounts from before the key, too).
    let boss = store.login("boss", "another-admin-pw", 4).unwrap();
    store.change_password(&boss, "ops", None, "new-ops-password").unwrap();
    let now_admin = store.login("ops", "new-ops-password", 5).unwrap();
    assert!(store.secret(&now_admin.vault, "customer:1", "owner_password").unwrap().is_some());
}

#[test]
fn an_installation_from_before_the_admin_key_gets_one_at_its_first_admin_login() {
    let mut store = Store::open_in_memory().unwrap();
    let admin = init(&mut store);
    store.add_user(&admin, "boss", "another-admin-pw", Role::Admin).unwrap();
    // As an older nbmsp left it: no admin key, the owner's password under the data key only.
    store.conn.execute_batch("DELETE FROM admin_wraps; DELETE FROM meta WHERE key = 'admin_public';").unwrap();
    store.put_secret(&admin.vault, "customer:1", "owner_password", "old-owner-pw").unwrap();
    assert_eq!(store.secrets_of(&admin.vault, "customer:1").unwrap()["owner_password"].as_str(), "old-owner-pw");
    let first = store.login("admin", "admin-password-1", 1).unwrap();
    let stored = store.secrets_of(&first.vault, "customer:1").unwrap();
    assert!(stored["owner_password"].starts_with("admin-sealed:v1:"), "sealed at that login");
    assert_eq!(store.secret(&first.vault, "customer:1", "owner_password").unwrap().unwrap().as_str(), "old-owner-pw");
    // The other admin of then has no wrap yet: told how to get one.
    let err = store.login("boss", "another-admin-pw", 2).unwrap_err().to_string();
    assert!(err.contains("nbmsp user passwd boss"), "{err}");
}

#[test]
fn lockout_after_five_failures_even_with_right_password_and_doubles() {
    let mut store = Store::open_in_memory().unwrap();
    init(&mut store);
    let t0 = 10_000;
    for i in 0..5 {
        let e = store.login("admin", "wrong-password", t0 + i).err().unwrap();
        assert!(matches!(e, StoreError::Auth(AuthError::BadCredentials)), "attempt {i}: {e}");
    }
    let e = store.login("admin", "admin-password-1", t0 + 5).err().unwrap();
    assert_eq!(e.to_string(), "too many failed logins: try again in 29 s");
    // After the wait one more failure locks for twice as long.
    let e = store.login("admin", "wrong-password", t0 + 40).err().unwrap();
    assert!(matches!(e, StoreError::Auth(AuthError::BadCredentials)));
    assert_eq!(store.lockout_remaining("admin", t0 + 40).unwrap(), Some(60));
    // After that wait the right password works and clears the counter.
    store.login("admin", "admin-password-1", t0 + 101).unwrap();
    assert_eq!(store.lockout_remaining("admin", t0 + 101).unwrap(), None);
}

#[test]
fn unknown_user_gets_the_same_answer_and_is_throttled_too() {
    let mut store = Store::open_in_memory().unwrap();
    init(&mut store);
    let e = store.login("nobody", "whatever-pass", 1).err().unwrap();
    assert_eq!(e.to_string(), "wrong username or password");
}

#[test]
fn unknown_users_and_wrong_passwords_cost_the_same_verification() {
    let mut store = Store::open_in_memory().unwrap();
    init(&mut store);
    // A login's time is its argon2id runs: an unknown user must cost exactly what a wrong
    // password costs (the same derivation and verification, same parameters, once each).
    // Recorded, not timed: a timing comparison flakes on a loaded machine.
    let runs = |store: &mut Store, user: &str, password: &str| {
        crate::store::crypto::VERIFICATIONS.with(|v| v.borrow_mut().clear());
        let ok = store.login(user, password, 1).is_ok();
        (ok, crate::store::crypto::VERIFICATIONS.with(|v| v.borrow().clone()))
    };
    let (ok, unknown) = runs(&mut store, "nobody", "whatever-pass");
    assert!(!ok);
    let (ok, wrong) = runs(&mut store, "admin", "whatever-pass");
    assert!(!ok);
    assert_eq!(unknown.len(), 2, "{unknown:?}");
    assert!(unknown[0].starts_with("derive "), "{unknown:?}");
    assert!(unknown[1].starts_with("$argon2id$v=19$m="), "{unknown:?}");
    assert_eq!(unknown, wrong);
    // The first user's password under another name opens nothing, and costs the same.
    let (ok, borrowed) = runs(&mut store, "nobody", "admin-password-1");
    assert!(!ok);
    assert_eq!(borrowed, wrong);
    // The right password costs one derivation: the wrap it opens is the check.
    let (ok, right) = runs(&mut store, "admin", "admin-password-1");
    assert!(ok);
    assert_eq!(right, wrong[..1], "{right:?}");
}

#[test]
fn a_wrap_that_does_not_open_with_the_right_password_is_damage_not_a_wrong_password() {
    let mut store = Store::open_in_memory().unwrap();
    init(&mut store);
    store.conn.execute("UPDATE key_wraps SET wrapped_key = zeroblob(72)", []).unwrap();
    let e = store.login("admin", "admin-password-1", 1).err().unwrap();
    assert!(matches!(e, StoreError::Corrupt { table: "key_wraps", .. }), "{e}");
    let e = store.login("admin", "not-the-password", 1).err().unwrap();
    assert_eq!(e.to_string(), "wrong username or password");
    store.conn.execute("DELETE FROM key_wraps", []).unwrap();
    let e = store.login("admin", "admin-password-1", 1).err().unwrap();
    assert!(matches!(e, StoreError::Auth(AuthError::NoKeyWrap(_))), "{e}");
}

#[test]
fn an_empty_password_is_refused_without_counting() {
    let mut store = Store::open_in_memory().unwrap();
    init(&mut store);
    for _ in 0..8 {
        let e = store.login("admin", "", 1).err().unwrap();
        assert_eq!(e.to_string(), "the password is empty");
    }
    assert!(store.login("admin", "admin-password-1", 1).is_ok(), "no lockout from empty attempts");
}

#[test]
fn secrets_survive_password_change_and_other_users_share_them() {
    let mut store = Store::open_in_memory().unwrap();
    let admin = init(&mut store);
    store.put_secret(&admin.vault, SCOPE_SETTINGS, "npm.secret", "npm-pass").unwrap();
    store.add_user(&admin, "ops", "ops-password-1", Role::Operator).unwrap();
    let e = store.change_password(&admin, "admin", Some("not-the-password"), "new-admin-pass-2").unwrap_err();
    assert!(e.to_string().contains("current password is wrong"), "{e}");
    assert!(store.change_password(&admin, "admin", None, "new-admin-pass-2").is_err());
    store.change_password(&admin, "admin", Some("admin-password-1"), "new-admin-pass-2").unwrap();
    assert!(store.login("admin", "admin-password-1", 1).is_err(), "old password no longer works");
    let admin2 = store.login("admin", "new-admin-pass-2", 2).unwrap();
    assert_eq!(store.secret(&admin2.vault, SCOPE_SETTINGS, "npm.secret").unwrap().unwrap().as_str(), "npm-pass");
    let ops = store.login("ops", "ops-password-1", 3).unwrap();
    assert_eq!(store.secret(&ops.vault, SCOPE_SETTINGS, "npm.secret").unwrap().unwrap().as_str(), "npm-pass");
    let e = store.add_user(&ops, "eve", "eve-password-1", Role::Admin).err().unwrap();
    assert_eq!(e.to_string(), "an operator may not add users and set their passwords (it needs an admin)");
    assert!(store.change_password(&ops, "admin", None, "hijacked-pass-1").is_err());
    assert!(matches!(store.add_user(&admin2, "ops", "ops-password-1", Role::Operator), Err(StoreError::Conflict(_))));
}
