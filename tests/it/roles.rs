//! Roles, command by command: what an admin, an operator and a viewer may do through the CLI
//! (the app's worker and the engine check the same rules; see the README's table).

use crate::common;

use crate::common::{ADMIN_PASSWORD, Home};

const PASSWORD: &str = "role-password-1";

fn words(s: &str) -> Vec<String> {
    s.split(' ').map(String::from).collect()
}

fn refused(r: &common::Run) -> bool {
    r.code != 0 && (r.stderr.contains(" may not ") || r.stderr.contains("only an admin may"))
}

#[test]
fn each_role_may_do_what_the_table_says_and_is_told_why_otherwise() {
    let h = Home::initialised();
    let pw = h.file("pw", PASSWORD);
    for (user, role) in [("ops", "operator"), ("view", "viewer")] {
        let r = h.run(&["user", "add", user, "--role", role, "--new-password-file", pw.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let as_user = |user: &str, args: &[&str]| {
        let pass = if user == "admin" { ADMIN_PASSWORD } else { PASSWORD };
        h.run_with(&[&["--user", user][..], args].concat(), &[("NBMSP_PASSWORD", pass)])
    };
    assert_eq!(
        as_user(
            "admin",
            &["customer", "create", "--no-deploy", "--name", "T", "--subdomain", "target", "--email", "t@t.example"]
        )
        .code,
        0
    );
    let out = h.path().join("render-out");
    let out = out.to_str().unwrap();
    let db_backup = |u: &str| h.path().join(format!("db-{u}.backup")).display().to_string();
    let elsewhere = h.path().join("elsewhere").display().to_string();
    // (what, args, allowed for admin, operator, viewer)
    let table: Vec<(&str, Vec<String>, [bool; 3])> = vec![
        ("list", vec!["customer".into(), "list".into()], [true, true, true]),
        ("show", vec!["customer".into(), "show".into(), "target".into()], [true, true, true]),
        ("logs", vec!["customer".into(), "logs".into(), "target".into()], [true, true, true]),
        ("doctor", vec!["doctor".into()], [true, true, true]),
        ("reconcile report", vec!["reconcile".into()], [true, true, true]),
        ("stop", vec!["customer".into(), "stop".into(), "target".into()], [true, true, false]),
        ("redeploy", vec!["customer".into(), "redeploy".into(), "target".into()], [true, true, false]),
        (
            "update",
            vec!["customer".into(), "update".into(), "target".into(), "--notes".into(), "n".into()],
            [true, true, false],
        ),
        ("reconcile --yes", vec!["reconcile".into(), "--yes".into()], [true, true, false]),
        ("monitor --once", vec!["monitor".into(), "--once".into()], [true, true, false]),
        (
            "credentials",
            vec!["customer".into(), "credentials".into(), "target".into(), "--yes".into()],
            [true, false, false],
        ),
        (
            "render",
            vec!["customer".into(), "render".into(), "target".into(), "--out".into(), out.into()],
            [true, false, false],
        ),
        (
            "settings set",
            vec!["settings".into(), "set".into(), "health_timeout_s".into(), "61".into()],
            [true, false, false],
        ),
        (
            "user add",
            vec!["user".into(), "add".into(), "eve".into(), "--new-password-file".into(), pw.display().to_string()],
            [true, false, false],
        ),
        ("migrate", vec!["migrate".into(), "data-dir".into(), elsewhere.clone()], [true, false, false]),
        // NetBird administration (the role is checked before the instance is looked at).
        // Hosts: everyone lists; operators drain; admins add, remove and move customers.
        ("host list", words("host list"), [true, true, true]),
        ("host drain", words("host drain local --off"), [true, true, false]),
        ("host add", words("host add x --docker ssh://root@127.0.0.1:1 --public-ip 127.0.0.1"), [true, false, false]),
        ("host remove", words("host remove x"), [true, false, false]),
        ("host npm", words("host npm x --off"), [true, false, false]),
        ("customer move", words("customer move target --to local"), [true, false, false]),
        ("alerts test", words("alerts test"), [true, true, false]),
        ("netbird peers", words("customer peers target"), [true, true, true]),
        ("netbird groups create", words("customer groups target create ops"), [true, true, false]),
        ("netbird keys revoke", words("customer keys target revoke k"), [true, true, false]),
        ("netbird users block", words("customer users target block u"), [true, true, false]),
        ("netbird keys create", words("customer keys target create k"), [true, false, false]),
        ("netbird users role", words("customer users target role u admin"), [true, false, false]),
        ("netbird peers delete", words("customer peers target delete p --yes"), [true, false, false]),
        (
            "set-token",
            vec![
                "customer".into(),
                "set-token".into(),
                "target".into(),
                "--token-file".into(),
                pw.display().to_string(),
            ],
            [true, false, false],
        ),
        (
            "restore",
            vec!["customer".into(), "restore".into(), "/nonexistent.nbmsp-backup".into()],
            [true, false, false],
        ),
    ];
    for (i, user) in ["admin", "ops", "view"].iter().enumerate() {
        for (what, args, allowed) in &table {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = as_user(user, &args);
            assert_eq!(!refused(&r), allowed[i], "{user} {what}: exit {} {}{}", r.code, r.stdout, r.stderr);
        }
        let r = as_user(user, &["backup", "create", "--out", &db_backup(user)]);
        assert_eq!(!refused(&r), i == 0, "{user} backup: {}", r.stderr);
    }
    // Delete last: only the admin may, and the customer is gone after.
    for user in ["view", "ops"] {
        let r = as_user(user, &["customer", "delete", "target", "--yes"]);
        assert!(refused(&r), "{user} delete: {}", r.stderr);
    }
    let r = as_user(
        "view",
        &["customer", "create", "--no-deploy", "--name", "V", "--subdomain", "vv", "--email", "v@v.example"],
    );
    assert!(r.stderr.contains("a viewer may not create and import customers"), "{}", r.stderr);
    assert_eq!(as_user("admin", &["customer", "delete", "target", "--yes"]).code, 0);
}
