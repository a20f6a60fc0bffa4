//! The Debian package on a clean Debian 12: a `debootstrap --variant=minbase` root imported
//! into Docker once (cached as an image), the package installed with apt, then used against the
//! host's Docker engine, upgraded (the database stays) and removed (the data stays).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT_IMAGE: &str = "nbmsp-test/debian12-minbase:1";

fn tool(name: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {name}")]).output().is_ok_and(|o| o.status.success())
}

/// The clean root as a Docker image, made once per machine (debootstrap takes minutes).
fn debian_root() {
    let have = Command::new("docker").args(["image", "inspect", ROOT_IMAGE]).output().unwrap();
    if have.status.success() {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("debian12-root");
    // One builder at a time across test processes.
    let lock = std::fs::File::create(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("debian12-root.lock")).unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).unwrap();
    if Command::new("docker").args(["image", "inspect", ROOT_IMAGE]).output().unwrap().status.success() {
        return;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new("debootstrap")
        .args(["--variant=minbase", "bookworm"])
        .arg(&dir)
        .arg("http://deb.debian.org/debian")
        .output()
        .unwrap();
    assert!(out.status.success(), "debootstrap: {}", String::from_utf8_lossy(&out.stderr));
    let import = Command::new("sh")
        .arg("-c")
        .arg(format!("tar -C '{}' -c . | docker import - {ROOT_IMAGE}", dir.display()))
        .output()
        .unwrap();
    assert!(import.status.success(), "docker import: {}", String::from_utf8_lossy(&import.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Builds the package around this test build's binary (stripped: the package's size, not the
/// debug info's) at `version` into `out`.
fn package(out: &Path, version: &str) -> PathBuf {
    let bin = out.join("nbmsp");
    std::fs::copy(env!("CARGO_BIN_EXE_nbmsp"), &bin).unwrap();
    assert!(Command::new("strip").arg(&bin).status().unwrap().success());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/package.sh");
    let r = Command::new("bash")
        .arg(script)
        .arg("--binary")
        .arg(&bin)
        .env("NBMSP_DEB_VERSION", version)
        .env("NBMSP_DEB_OUT", out)
        .env("NBMSP_DEB_COMPRESSION", "gzip")
        .output()
        .unwrap();
    assert!(r.status.success(), "package.sh: {}", String::from_utf8_lossy(&r.stderr));
    out.join(format!("nbmsp_{version}_amd64.deb"))
}

/// A package named docker-ce that stands in for Docker's own: inside the test root the engine
/// is the host's, reached through its socket, so nothing needs installing for the dependency.
fn docker_stand_in(out: &Path) {
    let stage = out.join("docker-ce");
    std::fs::create_dir_all(stage.join("DEBIAN")).unwrap();
    std::fs::write(
        stage.join("DEBIAN/control"),
        "Package: docker-ce\nVersion: 0.0-test\nArchitecture: all\nMaintainer: test <t@localhost>\n\
         Description: stands in for Docker's package in nbmsp's test root\n",
    )
    .unwrap();
    let r = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&stage)
        .arg(out.join("docker-ce.deb"))
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

#[test]
fn the_package_installs_upgrades_and_leaves_data_on_a_clean_debian_12() {
    if !common::docker::available("the_package_installs") {
        return;
    }
    if !tool("debootstrap") || !tool("dpkg-deb") {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "debootstrap and dpkg-deb are missing in CI (.ci/run installs them)"
        );
        eprintln!("SKIPPED the_package_installs: no debootstrap/dpkg-deb here");
        return;
    }
    debian_root();
    let out = tempfile::tempdir().unwrap();
    let first = package(out.path(), "0.1.0");
    let newer = package(out.path(), "0.1.0+test1");
    docker_stand_in(out.path());
    let pw = common::ADMIN_PASSWORD;
    let script = format!(
        r#"set -e
apt-get install -y -q --no-install-recommends /debs/docker-ce.deb /debs/{first} >/tmp/apt.log 2>&1 || {{ cat /tmp/apt.log; exit 1; }}
nbmsp --version
test "$(stat -c %a /var/lib/nbmsp)" = 700 && echo HOME-0700
test -f /lib/systemd/system/nbmsp-monitor.service && echo UNIT
test -f /usr/share/man/man1/nbmsp.1.gz && test -f /usr/share/man/man1/nbmsp-customer-create.1.gz && echo MAN
test -s /usr/share/bash-completion/completions/nbmsp && test -s /usr/share/zsh/vendor-completions/_nbmsp && test -s /usr/share/fish/vendor_completions.d/nbmsp.fish && echo COMPLETIONS
export NBMSP_PASSWORD='{pw}'
nbmsp init --admin-email ops@msp.example --base-domain msp.example --beside-foreign >/dev/null
nbmsp customer create --no-deploy --name Kept --subdomain kept --email it@kept.example >/dev/null
nbmsp doctor >/tmp/doctor.log 2>&1 || true
grep -Eq '^ok +docker +engine' /tmp/doctor.log && echo ENGINE-SEEN
apt-get install -y -q --no-install-recommends /debs/{newer} >/tmp/apt2.log 2>&1 || {{ cat /tmp/apt2.log; exit 1; }}
dpkg-query -W -f='${{Version}}\n' nbmsp
nbmsp customer list | grep -q kept && echo UPGRADE-KEPT-DB
dpkg -r nbmsp >/tmp/remove.log
test -f /var/lib/nbmsp/nbmsp.db && echo REMOVE-KEPT-DB
dpkg -P nbmsp >/tmp/purge.log
test -f /var/lib/nbmsp/nbmsp.db && echo PURGE-KEPT-DB
cat /tmp/purge.log
"#,
        first = first.file_name().unwrap().to_string_lossy(),
        newer = newer.file_name().unwrap().to_string_lossy(),
    );
    let r = Command::new("docker")
        .args(["run", "--rm", "-v", "/var/run/docker.sock:/var/run/docker.sock", "-v"])
        .arg(format!("{}:/debs:ro", out.path().display()))
        .args([ROOT_IMAGE, "sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&r.stderr));
    for mark in [
        "HOME-0700",
        "UNIT",
        "MAN",
        "COMPLETIONS",
        "ENGINE-SEEN",
        "0.1.0+test1",
        "UPGRADE-KEPT-DB",
        "REMOVE-KEPT-DB",
        "PURGE-KEPT-DB",
    ] {
        assert!(stdout.contains(mark), "{mark} missing:\n{stdout}");
    }
    assert!(stdout.lines().any(|l| l.starts_with("nbmsp 0.1.0")), "{stdout}");
    assert!(stdout.contains("kept /var/lib/nbmsp"), "purge says what it leaves: {stdout}");
}

#[test]
fn install_sh_installs_a_package_and_never_offers_the_distributions_cargo() {
    if !common::docker::available("install_sh_installs_a_package") {
        return;
    }
    if !tool("debootstrap") {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "debootstrap is missing in CI (.ci/run installs it)");
        eprintln!("SKIPPED install_sh_installs_a_package: no debootstrap here");
        return;
    }
    debian_root();
    let out = tempfile::tempdir().unwrap();
    let deb = package(out.path(), "0.1.0");
    docker_stand_in(out.path());
    // install.sh checks the Docker CLI answers; the root has none, so a shim answers for the
    // host's engine (the checks are install.sh's own, which is what is tested).
    let script = format!(
        r#"set -e
mkdir -p /shim && printf '#!/bin/sh\necho 20.10.24\n' > /shim/docker && chmod +x /shim/docker
export PATH=/shim:$PATH
cp -r /src /tmp/checkout && cd /tmp/checkout
if ./install.sh >/tmp/norust.log 2>&1; then echo "NO-RUST-ACCEPTED"; fi
grep -q rustup /tmp/norust.log && echo SAYS-RUSTUP
grep -q "apt-get install cargo" /tmp/norust.log && echo OFFERS-DISTRO-CARGO || true
apt-get install -y -q --no-install-recommends /debs/docker-ce.deb >/dev/null 2>&1
./install.sh --deb /debs/{deb} >/tmp/deb.log 2>&1 || {{ cat /tmp/deb.log; exit 1; }}
command -v nbmsp && nbmsp --version
"#,
        deb = deb.file_name().unwrap().to_string_lossy()
    );
    let checkout = tempfile::tempdir().unwrap();
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/install.sh"), checkout.path().join("install.sh")).unwrap();
    std::fs::create_dir_all(checkout.path().join("packaging")).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/nbmsp-monitor.service.in"),
        checkout.path().join("packaging/nbmsp-monitor.service.in"),
    )
    .unwrap();
    let r = Command::new("docker")
        .args(["run", "--rm", "-v"])
        .arg(format!("{}:/debs:ro", out.path().display()))
        .arg("-v")
        .arg(format!("{}:/src:ro", checkout.path().display()))
        .args([ROOT_IMAGE, "sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&r.stderr));
    assert!(!stdout.contains("NO-RUST-ACCEPTED"), "without a package or Rust it stops: {stdout}");
    assert!(stdout.contains("SAYS-RUSTUP") && !stdout.contains("OFFERS-DISTRO-CARGO"), "{stdout}");
    assert!(stdout.contains("/usr/bin/nbmsp") && stdout.contains("nbmsp 0.1.0"), "{stdout}");
}
