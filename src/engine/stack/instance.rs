//! A customer's instance directory: rendered files written atomically with tight permissions.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::engine::EngineError;
use crate::engine::stack::render::RenderedFile;

fn io(context: String) -> impl FnOnce(std::io::Error) -> EngineError {
    move |e| EngineError::Files(format!("{context}: {e}"))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), EngineError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io(format!("cannot set permissions of {}", path.display())))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<(), EngineError> {
    Ok(())
}

/// Creates `dir` and `dir/data` (0700: they hold secrets and customer data). Either one being
/// a symbolic link is refused: its mode would be set, and Docker would mount, wherever the
/// link points (a link can arrive inside a restored archive or be planted by another user).
pub fn create_dirs(dir: &Path) -> Result<(), EngineError> {
    for d in [dir.to_path_buf(), dir.join("data")] {
        refuse_link(&d)?;
    }
    fs::create_dir_all(dir.join("data")).map_err(io(format!("cannot create {}", dir.display())))?;
    set_mode(dir, 0o700)?;
    set_mode(&dir.join("data"), 0o700)
}

/// An error when `path` is a symbolic link (a missing path is fine).
pub fn refuse_link(path: &Path) -> Result<(), EngineError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(EngineError::Files(format!(
            "{} is a symbolic link; nbmsp writes customer files only into real directories (remove the link)",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Writes a file only its owner can read (exports of logs and the like), atomically.
pub fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    write_atomic(path, content, 0o600).map_err(|e| std::io::Error::other(e.to_string()))
}

/// Writes `content` to `path` so that readers see the old or the new file, never half of one:
/// a temp file beside it, fsync, rename. A full disk fails here and leaves the old file intact.
pub fn write_atomic(path: &Path, content: &[u8], mode: u32) -> Result<(), EngineError> {
    let tmp = path.with_extension("nbmsp-tmp");
    let result = (|| {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // A leftover temp file (or a link planted under its name) is removed, not followed: the
        // new one is created afresh, never opened through a link.
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(format!("cannot remove {}", tmp.display()))(e));
            }
            _ => {}
        }
        // Created with its final mode, so a secret is never readable by others, not even briefly.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(mode)
            .open(&tmp)
            .map_err(io(format!("cannot write {}", tmp.display())))?;
        // Exact mode despite the umask; only on the regular file we made.
        if f.metadata().is_ok_and(|m| m.is_file()) {
            f.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(io(format!("cannot set permissions of {}", tmp.display())))?;
        }
        f.write_all(content).map_err(io(format!("cannot write {}", tmp.display())))?;
        f.sync_all().map_err(io(format!("cannot flush {}", tmp.display())))?;
        fs::rename(&tmp, path).map_err(io(format!("cannot replace {}", path.display())))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes the rendered files (0600 for those with secrets, else 0644).
pub fn write_files(dir: &Path, files: &[RenderedFile]) -> Result<(), EngineError> {
    create_dirs(dir)?;
    for f in files {
        write_atomic(&dir.join(f.name), f.content.as_bytes(), f.mode())?;
    }
    Ok(())
}

/// The current content of the named files (missing ones are skipped), to restore after a
/// failed redeploy.
pub fn snapshot(dir: &Path, names: &[&'static str]) -> Vec<(&'static str, Vec<u8>)> {
    names.iter().filter_map(|n| fs::read(dir.join(n)).ok().map(|c| (*n, c))).collect()
}

/// Where a redeploy keeps the previous files while it runs, so that after a crash the
/// recovery can still put them back.
const PREVIOUS: &str = ".nbmsp-previous";

/// Saves a snapshot on disk beside the instance files (see [`load_previous`]).
pub fn save_previous(dir: &Path, saved: &[(&'static str, Vec<u8>)]) -> Result<(), EngineError> {
    let keep = dir.join(PREVIOUS);
    fs::create_dir_all(&keep).map_err(io(format!("cannot create {}", keep.display())))?;
    set_mode(&keep, 0o700)?;
    for (name, content) in saved {
        write_atomic(&keep.join(name), content, 0o600)?;
    }
    Ok(())
}

/// The snapshot an interrupted redeploy left, if any: these are the files to go back to,
/// not the half-new ones in the instance dir.
pub fn load_previous(dir: &Path, names: &[&'static str]) -> Option<Vec<(&'static str, Vec<u8>)>> {
    let keep = dir.join(PREVIOUS);
    keep.is_dir().then(|| snapshot(&keep, names)).filter(|s| !s.is_empty())
}

/// Drops the on-disk snapshot once the redeploy ended either way.
pub fn drop_previous(dir: &Path) {
    let _ = fs::remove_dir_all(dir.join(PREVIOUS));
    // For a customer on another host `dir` held only the snapshot: it goes too. An instance
    // dir here is never empty (its compose file), so this leaves it alone.
    let _ = fs::remove_dir(dir);
}

/// Puts snapshotted files back.
pub fn restore(dir: &Path, saved: &[(&'static str, Vec<u8>)]) -> Result<(), EngineError> {
    for (name, content) in saved {
        let path = dir.join(name);
        // A file that is still the saved one (a redeploy that failed before replacing it, on a
        // full disk say) is left as it is: putting back needs no space then.
        if fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) && fs::read(&path).is_ok_and(|c| c == *content) {
            continue;
        }
        write_atomic(&path, content, restored_mode(name))?;
    }
    Ok(())
}

/// The mode a file put back from a snapshot gets: the compose file and the dashboard's
/// settings are readable, everything else holds secrets.
pub fn restored_mode(name: &str) -> u32 {
    if name.ends_with(".yml") || name.contains("dashboard") { 0o644 } else { 0o600 }
}

/// Removes the instance directory. With `purge_data` the customer's data goes too; without, it
/// is moved to `<data_dir>/.archive/<name>-<unix time>` and that path is returned.
pub fn remove(dir: &Path, purge_data: bool) -> Result<Option<PathBuf>, EngineError> {
    if !dir.exists() {
        return Ok(None);
    }
    let mut archived = None;
    let data = dir.join("data");
    if !purge_data && data.exists() && fs::read_dir(&data).map(|mut d| d.next().is_some()).unwrap_or(false) {
        let parent = dir.parent().unwrap_or(dir).join(".archive");
        fs::create_dir_all(&parent).map_err(io(format!("cannot create {}", parent.display())))?;
        set_mode(&parent, 0o700)?;
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let target = parent.join(format!("{name}-{}", time::OffsetDateTime::now_utc().unix_timestamp()));
        fs::rename(&data, &target).map_err(io(format!("cannot archive {}", data.display())))?;
        archived = Some(target);
    }
    fs::remove_dir_all(dir).map_err(io(format!("cannot remove {}", dir.display())))?;
    Ok(archived)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_private_and_restorable() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("acme");
        let files = vec![
            RenderedFile { name: "docker-compose.yml", content: "a".into(), secret: false },
            RenderedFile { name: "config.yaml", content: "secret".into(), secret: true },
        ];
        write_files(&dir, &files).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join("config.yaml")), 0o600);
        }
        let saved = snapshot(&dir, &["docker-compose.yml", "config.yaml", "missing.env"]);
        assert_eq!(saved.len(), 2);
        write_atomic(&dir.join("config.yaml"), b"new", 0o600).unwrap();
        restore(&dir, &saved).unwrap();
        assert_eq!(fs::read_to_string(dir.join("config.yaml")).unwrap(), "secret");
        assert!(!dir.join("config.nbmsp-tmp").exists());
    }

    #[test]
    fn remove_archives_data_unless_purged() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("acme");
        create_dirs(&dir).unwrap();
        fs::write(dir.join("data/store.db"), "x").unwrap();
        let archived = remove(&dir, false).unwrap().unwrap();
        assert!(!dir.exists());
        assert_eq!(fs::read_to_string(archived.join("store.db")).unwrap(), "x");
        create_dirs(&dir).unwrap();
        fs::write(dir.join("data/store.db"), "x").unwrap();
        assert_eq!(remove(&dir, true).unwrap(), None);
        assert!(!dir.exists());
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        fs::write(&path, "old: true\n").unwrap();
        // The temp file's name is taken by something that cannot be removed: the write fails.
        // (A real full disk is in tests/it: engine.rs and datasafety.rs, on a full tmpfs.)
        fs::create_dir(dir.path().join("config.nbmsp-tmp")).unwrap();
        fs::write(dir.path().join("config.nbmsp-tmp/x"), "").unwrap();
        let err = write_atomic(&path, b"new: true\n", 0o600).unwrap_err().to_string();
        assert!(err.contains("cannot remove"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old: true\n", "the previous file is intact");
        fs::remove_dir_all(dir.path().join("config.nbmsp-tmp")).unwrap();
        write_atomic(&path, b"new: true\n", 0o600).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new: true\n");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_link_planted_at_the_temp_name_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("config.nbmsp-tmp")).unwrap();
        write_atomic(&dir.path().join("config.yaml"), b"secret: s\n", 0o600).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read_to_string(dir.path().join("config.yaml")).unwrap(), "secret: s\n");
    }

    #[test]
    fn instance_dirs_that_are_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o755)).unwrap();
        let instance = dir.path().join("acme");
        fs::create_dir(&instance).unwrap();
        std::os::unix::fs::symlink(&elsewhere, instance.join("data")).unwrap();
        let err = create_dirs(&instance).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(fs::metadata(&elsewhere).unwrap().permissions().mode() & 0o777, 0o755, "not chmodded");
    }
}
