//! Moving and comparing directory trees that hold customer data: a rename where one works, else
//! a copy that is checked file by file before the source goes.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::engine::EngineError;

fn io(context: String) -> impl FnOnce(std::io::Error) -> EngineError {
    move |e| EngineError::Files(format!("{context}: {e}"))
}

/// Moves `src` to `dst` (which must not exist). Same filesystem: one rename. Across
/// filesystems: copy to `dst` (modes, owners and symlinks kept), compare, then remove `src`;
/// when the copy does not match, the copy goes and `src` stays.
pub fn move_dir(src: &Path, dst: &Path) -> Result<(), EngineError> {
    if dst.exists() {
        return Err(EngineError::Conflict(format!("{} already exists: not overwriting it", dst.display())));
    }
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent).map_err(io(format!("cannot create {}", parent.display())))?;
    }
    match fs::rename(src, dst) {
        Ok(()) => return Ok(()),
        // EXDEV: another filesystem; anything else is a real error.
        Err(e) if e.raw_os_error() == Some(18) => {}
        Err(e) => return Err(io(format!("cannot move {} to {}", src.display(), dst.display()))(e)),
    }
    let partial = partial_name(dst);
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(io(format!("cannot remove {}", partial.display())))?;
    }
    copy_tree(src, &partial, Durability::Synced)?;
    if let Some(diff) = first_difference(src, &partial)? {
        let _ = fs::remove_dir_all(&partial);
        return Err(EngineError::Files(format!(
            "the copy of {} differs ({diff}); the original is kept",
            src.display()
        )));
    }
    fs::rename(&partial, dst).map_err(io(format!("cannot move {} into place", partial.display())))?;
    fs::remove_dir_all(src).map_err(io(format!("copied, but cannot remove {}", src.display())))
}

fn partial_name(dst: &Path) -> PathBuf {
    let name = dst.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dst.with_file_name(format!(".{name}.partial"))
}

/// Whether a copy must be on disk before it is relied on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Each file is synced: the copy replaces its source, or is a customer's data in place.
    Synced,
    /// A working copy read once and thrown away (a backup's, whose archive is synced): one
    /// fsync per file would cost seconds on a store of many small files, for nothing.
    Scratch,
}

/// Copies the tree at `src` to `dst`, keeping modes, owners and symlinks.
pub fn copy_tree(src: &Path, dst: &Path, durability: Durability) -> Result<(), EngineError> {
    let meta = fs::symlink_metadata(src).map_err(io(format!("cannot read {}", src.display())))?;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(src).map_err(io(format!("cannot read link {}", src.display())))?;
        std::os::unix::fs::symlink(&target, dst).map_err(io(format!("cannot create link {}", dst.display())))?;
    } else if meta.is_dir() {
        fs::create_dir(dst).map_err(io(format!("cannot create {}", dst.display())))?;
        for entry in fs::read_dir(src).map_err(io(format!("cannot list {}", src.display())))? {
            let entry = entry.map_err(io(format!("cannot list {}", src.display())))?;
            copy_tree(&entry.path(), &dst.join(entry.file_name()), durability)?;
        }
        fs::set_permissions(dst, fs::Permissions::from_mode(meta.mode() & 0o7777))
            .map_err(io(format!("cannot set the mode of {}", dst.display())))?;
    } else if meta.is_file() {
        fs::copy(src, dst).map_err(io(format!("cannot copy {}", src.display())))?;
        if durability == Durability::Synced {
            fs::File::open(dst).and_then(|f| f.sync_all()).map_err(io(format!("cannot sync {}", dst.display())))?;
        }
    } else {
        // Sockets and FIFOs are runtime state, not data.
        return Ok(());
    }
    std::os::unix::fs::lchown(dst, Some(meta.uid()), Some(meta.gid()))
        .map_err(io(format!("cannot set the owner of {}", dst.display())))
}

/// The first way the trees differ (a missing or extra entry, another size, mode or content),
/// or `None` when they hold the same files.
pub fn first_difference(a: &Path, b: &Path) -> Result<Option<String>, EngineError> {
    let ma = fs::symlink_metadata(a).map_err(io(format!("cannot read {}", a.display())))?;
    let Ok(mb) = fs::symlink_metadata(b) else { return Ok(Some(format!("{} is missing", b.display()))) };
    if ma.file_type() != mb.file_type() || ma.mode() != mb.mode() {
        return Ok(Some(format!("{} has another type or mode", b.display())));
    }
    if ma.is_dir() {
        let names = |p: &Path| -> Result<Vec<std::ffi::OsString>, EngineError> {
            let mut v: Vec<_> = fs::read_dir(p)
                .map_err(io(format!("cannot list {}", p.display())))?
                .filter_map(|e| e.ok().map(|e| e.file_name()))
                .collect();
            v.sort();
            Ok(v)
        };
        let (na, nb) = (names(a)?, names(b)?);
        if na != nb {
            return Ok(Some(format!("{} holds other entries", b.display())));
        }
        for n in na {
            if let Some(d) = first_difference(&a.join(&n), &b.join(&n))? {
                return Ok(Some(d));
            }
        }
    } else if ma.is_file() && (ma.len() != mb.len() || !same_content(a, b)?) {
        return Ok(Some(format!("{} has other content", b.display())));
    } else if ma.file_type().is_symlink() && fs::read_link(a).ok() != fs::read_link(b).ok() {
        return Ok(Some(format!("{} points elsewhere", b.display())));
    }
    Ok(None)
}

fn same_content(a: &Path, b: &Path) -> Result<bool, EngineError> {
    let open = |p: &Path| fs::File::open(p).map_err(io(format!("cannot read {}", p.display())));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = fa.read(&mut ba).map_err(io(format!("cannot read {}", a.display())))?;
        let mut filled = 0;
        while filled < n {
            let m = fb.read(&mut bb[filled..n]).map_err(io(format!("cannot read {}", b.display())))?;
            if m == 0 {
                return Ok(false);
            }
            filled += m;
        }
        if n == 0 {
            return Ok(fb.read(&mut bb[..1]).map_err(io(format!("cannot read {}", b.display())))? == 0);
        }
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(root: &Path) {
        fs::create_dir_all(root.join("data/server")).unwrap();
        fs::write(root.join("data/server/store.db"), vec![7u8; 200_000]).unwrap();
        fs::write(root.join("config.yaml"), "x: 1\n").unwrap();
        fs::set_permissions(root.join("config.yaml"), fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink("data/server/store.db", root.join("link")).unwrap();
    }

    #[test]
    fn a_copied_tree_compares_equal_and_a_changed_one_does_not() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        sample(&a);
        copy_tree(&a, &b, Durability::Synced).unwrap();
        assert_eq!(first_difference(&a, &b).unwrap(), None);
        assert_eq!(fs::metadata(b.join("config.yaml")).unwrap().mode() & 0o777, 0o600);
        let mut bytes = fs::read(b.join("data/server/store.db")).unwrap();
        bytes[150_000] = 8;
        fs::write(b.join("data/server/store.db"), bytes).unwrap();
        assert!(first_difference(&a, &b).unwrap().unwrap().contains("other content"));
        fs::write(b.join("extra"), "").unwrap();
        assert!(first_difference(&a, &b).unwrap().unwrap().contains("other entries"));
    }

    #[test]
    fn move_refuses_to_overwrite_and_moves_otherwise() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("deep/b"));
        sample(&a);
        fs::create_dir_all(&b).unwrap();
        assert!(move_dir(&a, &b).unwrap_err().to_string().contains("not overwriting"));
        fs::remove_dir(&b).unwrap();
        move_dir(&a, &b).unwrap();
        assert!(!a.exists());
        assert_eq!(fs::read(b.join("data/server/store.db")).unwrap().len(), 200_000);
    }

    #[test]
    fn a_move_across_filesystems_copies_checks_and_removes() {
        let shm = tempfile::tempdir_in("/dev/shm").expect("/dev/shm (tmpfs on every Linux)");
        let disk = tempfile::tempdir().unwrap();
        assert_ne!(
            fs::metadata(shm.path()).unwrap().dev(),
            fs::metadata(disk.path()).unwrap().dev(),
            "the test needs two filesystems"
        );
        let (a, b) = (shm.path().join("a"), disk.path().join("b"));
        sample(&a);
        let reference = disk.path().join("reference");
        copy_tree(&a, &reference, Durability::Scratch).unwrap();
        move_dir(&a, &b).unwrap();
        assert!(!a.exists(), "the source goes once the copy matched");
        assert_eq!(first_difference(&reference, &b).unwrap(), None);
        assert!(!disk.path().join(".b.partial").exists());
    }
}
