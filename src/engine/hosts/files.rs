//! A customer's instance files (compose file, configs, NetBird's data) where its containers
//! run: on this machine, or on its remote host over SSH. The one place that knows the
//! difference; callers say what to do with the instance dir, not how to reach it.

use std::path::{Path, PathBuf};

use crate::domain::customer::Customer;
use crate::domain::settings::Settings;
use crate::engine::EngineError;
use crate::engine::stack::render::RenderedFile;
use crate::store::Store;

use super::shell;

/// Where a customer's files are.
#[derive(Debug, Clone)]
pub enum Files {
    /// On this machine.
    Local,
    /// On a recorded host: over SSH, or through a helper container on a tcp:// host.
    Remote(Box<shell::Shell>),
}

/// The settings as they apply to `customer`: on a remote host, `data_dir` is that host's.
pub fn settings_for(store: &Store, customer: &Customer) -> Result<(Settings, Files), EngineError> {
    settings_on(store, customer.host_id)
}

/// The settings as they apply on `host` (its `data_dir`), and how to reach its files.
pub fn settings_on(store: &Store, host: super::HostKey) -> Result<(Settings, Files), EngineError> {
    let mut settings = store.settings()?;
    let Some(id) = host else { return Ok((settings, Files::Local)) };
    let host = store.host(id)?;
    if let Some(d) = &host.data_dir {
        settings.data_dir.clone_from(d);
    }
    let shell = shell::Shell { host, data_dir: settings.data_dir.clone(), helper_image: settings.helper_image.clone() };
    Ok((settings, Files::Remote(Box::new(shell))))
}

impl Files {
    /// True for a remote host.
    pub fn is_remote(&self) -> bool {
        matches!(self, Self::Remote(_))
    }

    /// Writes the rendered files into `dir` (created private, with `data/`).
    pub async fn write(&self, dir: &Path, files: &[RenderedFile]) -> Result<(), EngineError> {
        match self {
            Self::Local => {
                let (dir, files) = (dir.to_path_buf(), files.to_vec());
                crate::engine::blocking(move || crate::engine::stack::instance::write_files(&dir, &files)).await
            }
            Self::Remote(h) => {
                let files: Vec<shell::FileOut<'_>> =
                    files.iter().map(|f| (f.name, f.content.as_bytes(), f.mode())).collect();
                shell::push_files(h, dir, &files).await
            }
        }
    }

    /// True when `dir` exists and holds something (NetBird's data dir, before a redeploy).
    pub async fn has_files(&self, dir: &Path) -> Result<bool, EngineError> {
        match self {
            Self::Local => Ok(crate::engine::stack::render::has_files(dir)),
            Self::Remote(h) => Ok(shell::probe(h, &[(shell::Probe::HasFiles, dir)]).await?[0]),
        }
    }

    /// Removes `dir` and everything in it.
    pub async fn remove(&self, dir: &Path) -> Result<(), EngineError> {
        match self {
            Self::Local => {
                let dir = dir.to_path_buf();
                crate::engine::blocking(move || crate::engine::stack::instance::remove(&dir, true).map(|_| ())).await
            }
            Self::Remote(h) => shell::remove_tree(h, dir).await,
        }
    }

    /// Copies the tree at `dir` to `to` on this machine (a backup's working copy).
    pub async fn copy_out(&self, dir: &Path, to: &Path) -> Result<(), EngineError> {
        match self {
            Self::Local => {
                let (from, into) = (dir.to_path_buf(), to.to_path_buf());
                let scratch = crate::engine::data::tree::Durability::Scratch;
                crate::engine::blocking(move || crate::engine::data::tree::copy_tree(&from, &into, scratch)).await
            }
            Self::Remote(h) => shell::fetch_tree(h, dir, to).await,
        }
    }

    /// Copies the tree at `from` (on this machine) into `dir` (a restore).
    pub async fn copy_in(&self, from: &Path, dir: &Path) -> Result<(), EngineError> {
        match self {
            Self::Local => {
                let (from, into) = (from.to_path_buf(), dir.to_path_buf());
                let synced = crate::engine::data::tree::Durability::Synced;
                crate::engine::blocking(move || crate::engine::data::tree::copy_tree(&from, &into, synced)).await
            }
            Self::Remote(h) => shell::push_tree(h, from, dir).await,
        }
    }

    /// The named files of `dir` that exist, with their content (a redeploy's snapshot).
    pub async fn read(&self, dir: &Path, names: &[&'static str]) -> Result<Vec<(&'static str, Vec<u8>)>, EngineError> {
        match self {
            Self::Local => Ok(crate::engine::stack::instance::snapshot(dir, names)),
            Self::Remote(h) => Ok(shell::read_files(h, dir, names)
                .await?
                .into_iter()
                .filter_map(|(n, c)| names.iter().find(|k| **k == n).map(|k| (*k, c)))
                .collect()),
        }
    }

    /// Puts snapshot files back into `dir`.
    pub async fn put(&self, dir: &Path, saved: &[(&'static str, Vec<u8>)]) -> Result<(), EngineError> {
        match self {
            Self::Local => {
                let (dir, saved) = (dir.to_path_buf(), saved.to_vec());
                crate::engine::blocking(move || crate::engine::stack::instance::restore(&dir, &saved)).await
            }
            Self::Remote(h) => {
                let files: Vec<(&str, &[u8], u32)> = saved
                    .iter()
                    .map(|(n, c)| (*n, c.as_slice(), crate::engine::stack::instance::restored_mode(n)))
                    .collect();
                shell::put_files(h, dir, &files).await
            }
        }
    }

    /// Whether `path` (a dir or a file) exists.
    pub async fn exists(&self, path: &Path) -> Result<bool, EngineError> {
        match self {
            Self::Local => Ok(path.exists()),
            Self::Remote(h) => Ok(shell::probe(h, &[(shell::Probe::Exists, path)]).await?[0]),
        }
    }

    /// Answers several checks at once: here one by one, on a remote host in one SSH session.
    pub async fn probe(&self, checks: &[(shell::Probe, &Path)]) -> Result<Vec<bool>, EngineError> {
        match self {
            Self::Local => Ok(checks
                .iter()
                .map(|(what, p)| match what {
                    shell::Probe::Exists => p.exists(),
                    shell::Probe::HasFiles => crate::engine::stack::render::has_files(p),
                })
                .collect()),
            Self::Remote(h) => shell::probe(h, checks).await,
        }
    }

    /// Where `dir` is, for people.
    pub fn describe(&self, dir: &Path) -> String {
        match self {
            Self::Local => dir.display().to_string(),
            Self::Remote(h) => format!("{}:{}", h.host.name, dir.display()),
        }
    }
}

/// The customer's instance dir and how to reach it.
pub fn instance_of(store: &Store, customer: &Customer) -> Result<(PathBuf, Files), EngineError> {
    let (settings, files) = settings_for(store, customer)?;
    Ok((crate::engine::stack::render::instance_dir(&settings, customer), files))
}
