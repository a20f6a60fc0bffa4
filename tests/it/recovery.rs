//! A damaged or lost database is refused, never recreated, and a backup brings it back; `init`
//! does not start over beside another installation's containers unless told to.

use crate::common;

use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::common::Home;

fn db(h: &Home) -> std::path::PathBuf {
    h.path().join("nbmsp.db")
}

fn with_customer_and_backup(h: &Home) -> std::path::PathBuf {
    let r = h.run(&[
        "customer",
        "create",
        "--no-deploy",
        "--name",
        "A",
        "--subdomain",
        "acme",
        "--email",
        "a@acme.example",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let backup = h.path().join("nbmsp-backup.db");
    let r = h.run(&["backup", "create", "--out", backup.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a backup holds password hashes: owner only");
    backup
}

#[test]
fn an_emptied_database_is_refused_and_a_backup_brings_it_back() {
    let h = Home::initialised();
    let backup = with_customer_and_backup(&h);
    std::fs::File::create(db(&h)).unwrap(); // truncated to 0 bytes
    let r = h.run(&["--json", "customer", "list"]);
    assert_eq!(r.code, 1);
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "damaged_database", "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("the file is empty") && msg.contains("nbmsp backup restore"), "{msg}");
    assert_eq!(std::fs::metadata(db(&h)).unwrap().len(), 0, "nothing was created over it");
    let r = h.run(&["init", "--admin-email", "o@msp.example", "--base-domain", "msp.example", "--beside-foreign"]);
    assert_eq!(r.code, 1, "init does not start over on a damaged database: {}", r.stdout);
    assert!(r.stderr.contains("damaged database"), "{}", r.stderr);

    // No login is possible on an empty file; the home's permissions guard the restore.
    let r = h.run_with(&["backup", "restore", backup.to_str().unwrap()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1 customer(s)") && r.stdout.contains("was kept as"), "{}", r.stdout);
    let list = h.run(&["customer", "list", "--json"]).json();
    assert_eq!(list[0]["subdomain"], "acme", "{list}");
    let kept = std::fs::read_dir(h.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("nbmsp.db.replaced-"));
    assert!(kept, "the file it replaced is kept");
}

#[test]
fn a_corrupted_database_names_the_restore_and_a_bad_backup_is_refused() {
    let h = Home::initialised();
    let backup = with_customer_and_backup(&h);
    // Checkpoint the WAL into the file so the garbage below hits the tables themselves.
    let store = nbmsp::store::Store::open(&db(&h), false).unwrap();
    drop(store);
    let len = std::fs::metadata(db(&h)).unwrap().len();
    assert!(len > 8192, "{len}");
    let mut f = std::fs::OpenOptions::new().write(true).open(db(&h)).unwrap();
    f.seek(SeekFrom::Start(4096)).unwrap();
    f.write_all(&vec![0xA5; usize::try_from(len).unwrap() - 4096]).unwrap();
    drop(f);
    let r = h.run(&["--json", "customer", "list"]);
    assert_eq!(r.code, 1);
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "damaged_database", "{e}");
    assert!(e["message"].as_str().unwrap().contains("nbmsp backup restore"), "{e}");

    // A file that is not a backup is refused before anything moves.
    let junk = h.file("junk.db", "not a database at all, just text\n");
    let before = std::fs::read(db(&h)).unwrap();
    let r = h.run_with(&["backup", "restore", junk.to_str().unwrap()], &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not an SQLite database"), "{}", r.stderr);
    assert_eq!(std::fs::read(db(&h)).unwrap(), before, "the damaged file is left as it was");
    let r = h.run_with(&["backup", "restore", backup.to_str().unwrap()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(h.run(&["customer", "list", "--json"]).json()[0]["subdomain"], "acme");
}

#[test]
fn restoring_over_a_healthy_database_needs_its_admin() {
    let h = Home::initialised();
    let backup = with_customer_and_backup(&h);
    let r = h.run_with(&["backup", "restore", backup.to_str().unwrap()], &[("NBMSP_PASSWORD", "wrong-password-1")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("wrong username or password"), "{}", r.stderr);
    assert_eq!(h.run(&["backup", "restore", backup.to_str().unwrap()]).code, 0);
}

#[test]
fn init_does_not_start_over_beside_another_installations_containers() {
    if !common::docker::available("init_does_not_start_over") {
        return;
    }
    common::docker::standin_images();
    let id = format!("{:016x}", std::process::id() as u64 * 7919 + 17);
    let name = format!("netbird-foreign{}-server", std::process::id());
    let _cleanup = common::docker::OnDrop::container(&name);
    let out = Command::new("docker")
        .args(["create", "--name", &name, "--label", &format!("nbmsp.installation={id}")])
        .args(["--label", "nbmsp.customer=1", "nbmsp-standin/dashboard:latest"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let h = Home::empty();
    let args = ["init", "--admin-email", "o@msp.example", "--base-domain", "msp.example"];
    let r = h.run(&args);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("another nbmsp installation") && r.stderr.contains("nbmsp backup restore"),
        "{}",
        r.stderr
    );
    assert!(!db(&h).exists(), "nothing was created");
    let r = h.run(&[&args[..], &["--adopt", "0000000000000000"]].concat());
    assert_eq!(r.code, 2, "an id with no containers is a typo: {}", r.stderr);
    let r = h.run(&[&args[..], &["--adopt", &id]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let store = nbmsp::store::Store::open(&db(&h), false).unwrap();
    assert_eq!(store.installation_id().unwrap(), id);
}
