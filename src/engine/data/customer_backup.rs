//! Backing up one customer (consistent: its containers are paused while the instance dir is
//! copied) and restoring it, on this installation or another, from that file alone.

use crate::domain::rights::Right;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::archive::{self, CustomerRecord, DeploymentRecord, Manifest, SealKey};
use super::tree;
use crate::domain::audit::AuditStatus;
use crate::domain::customer::{Customer, NewCustomer};
use crate::domain::deployment::DeploymentStatus;
use crate::domain::settings::Settings;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::{Ops, Progress};
use crate::engine::{EngineError, stack::render};
use crate::store::vault::customer_scope;

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupSummary {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Files of the instance dir in it.
    pub files: usize,
    /// `passphrase` or `installation`.
    pub sealed_with: String,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RestoreSummary {
    /// The new customer's id.
    pub customer_id: i64,
    /// Its subdomain.
    pub subdomain: String,
    /// The UDP port it got (`None`: the backup was of a customer never deployed).
    pub udp_port: Option<u16>,
    /// The port it had, when it could not get it back.
    pub port_changed_from: Option<u16>,
}

/// Where backups go: the `backup.dir` setting, else `backups/` beside the database.
pub fn backup_dir(store: &crate::store::Store, settings: &Settings) -> PathBuf {
    if settings.backup_dir.is_empty() {
        store.path().and_then(Path::parent).unwrap_or(Path::new(".")).join("backups")
    } else {
        PathBuf::from(&settings.backup_dir)
    }
}

/// A new file name in the backup dir for `customer` (`why`: `deleted`, `scheduled`, ...),
/// with the directory created owner-only.
pub fn backup_file(
    store: &crate::store::Store,
    settings: &Settings,
    customer: &Customer,
    why: &str,
) -> Result<PathBuf, EngineError> {
    let dir = backup_dir(store, settings);
    // Backup files are 0600 themselves: a directory the operator chose keeps its mode.
    crate::store::home::private_dir_if_new(&dir)?;
    let t = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let mut path = dir.join(format!("{}-{stamp}-{why}.nbmsp-backup", customer.subdomain));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("{}-{stamp}-{why}-{n}.nbmsp-backup", customer.subdomain));
    }
    Ok(path)
}

/// A scratch directory under the data dir (same filesystem as the instance dirs, so its
/// content can be renamed into place), removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(data_dir: &str, what: &str) -> Result<Self, EngineError> {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let p = Path::new(data_dir).join(format!(".{what}-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&p).map_err(|e| EngineError::Files(format!("cannot create {}: {e}", p.display())))?;
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .map_err(|e| EngineError::Files(format!("cannot restrict {}: {e}", p.display())))?;
        Ok(Self(p))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!("cannot remove {}: {e}", self.0.display());
        }
    }
}

impl<P: Proxy> Ops<'_, P> {
    /// Writes a backup of the customer to `out` (see [`Ops::backup_unlocked`]).
    pub async fn backup(
        &self,
        customer_id: i64,
        out: &Path,
        passphrase: Option<&str>,
        kind: &str,
    ) -> Result<BackupSummary, EngineError> {
        // A passphrase carries the secrets out of this installation's reach.
        if passphrase.is_some() {
            crate::store::auth::require_role(self.role, Right::BackupWithPassphrase)?;
        }
        self.locked(customer_id, Right::Backup, self.backup_unlocked(customer_id, out, passphrase, kind)).await
    }

    /// Backs the customer up: record, deployment, secrets (sealed with `passphrase`, else with
    /// this installation's key) and the instance dir, copied while its containers are paused so
    /// NetBird's store is consistent. The caller holds the customer's lock.
    pub(crate) async fn backup_unlocked(
        &self,
        customer_id: i64,
        out: &Path,
        passphrase: Option<&str>,
        kind: &str,
    ) -> Result<BackupSummary, EngineError> {
        let customer = self.store.customer(customer_id)?;
        let settings = self.store.settings()?;
        let deployment = self.store.deployment(customer_id)?;
        let scratch = Scratch::new(&settings.data_dir, "backup")?;
        let copy = scratch.0.join("instance");
        let (dir, files) = crate::engine::hosts::files::instance_of(self.store, &customer)?;
        if files.exists(&dir).await? {
            self.copy_paused(&customer, &files, &dir, &copy).await?;
            let previous = copy.join(".nbmsp-previous");
            if previous.exists() {
                std::fs::remove_dir_all(&previous).map_err(|e| EngineError::Files(e.to_string()))?;
            }
            // The rendered files hold the customer's secrets in plain text (what `customer
            // render` shows admins only). A backup carries those secrets sealed instead, and a
            // restore renders the files again from them: so no backup, whoever made it, holds
            // a secret in the clear.
            for name in crate::engine::stack::render::all_file_names() {
                match std::fs::remove_file(copy.join(name)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(EngineError::Files(format!("cannot leave {name} out of the backup: {e}")));
                    }
                    _ => {}
                }
            }
        } else {
            std::fs::create_dir(&copy).map_err(|e| EngineError::Files(e.to_string()))?;
        }
        // A passphrase backup goes to another installation, whose admin key differs: the owner's
        // password travels opened inside the passphrase's seal (passphrase backups are admins').
        // A backup for this installation keeps it sealed to the admin key.
        let scope = customer_scope(customer_id);
        let secrets = match passphrase {
            Some(_) => self.store.secrets_for_export(self.vault, &scope)?,
            None => self.store.secrets_of(self.vault, &scope)?,
        };
        // Owned copies for the blocking thread that seals (argon2id for a passphrase) and writes.
        let passphrase = passphrase.map(|p| zeroize::Zeroizing::new(p.to_string()));
        let installation_key = zeroize::Zeroizing::new(*self.vault.key());
        let images = self
            .containers(&customer)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.service, c.image))
            .collect::<BTreeMap<_, _>>();
        let manifest = Manifest {
            format: archive::FORMAT.into(),
            format_version: archive::FORMAT_VERSION,
            nbmsp_version: env!("CARGO_PKG_VERSION").into(),
            created_at: crate::store::fmt_time(crate::store::now()),
            created_by: self.actor.into(),
            installation_id: self.store.installation_id()?,
            customer: CustomerRecord { id: customer.id, fields: NewCustomer::of(&customer) },
            deployment: deployment.as_ref().map(|d| DeploymentRecord {
                udp_port: d.relay_udp_port,
                owner_user_id: d.owner_user_id.clone(),
                pat_expires_at: d.pat_expires_at.map(crate::store::fmt_time),
                images,
                status: d.status.as_str().into(),
            }),
            // Filled in by `archive::write`, which seals the secrets bound to the manifest.
            secrets: archive::SecretsRecord {
                sealed_with: String::new(),
                kdf_salt: None,
                kdf_params: None,
                sha256: String::new(),
            },
            files: BTreeMap::new(),
        };
        let (file, copy_dir) = (out.to_path_buf(), copy.clone());
        let (bytes, manifest) = crate::engine::blocking(move || {
            let mut manifest = manifest;
            let key = match &passphrase {
                Some(p) => SealKey::Passphrase(p),
                None => SealKey::Installation(&installation_key),
            };
            archive::write(&file, &mut manifest, &secrets, &key, &copy_dir).map(|b| (b, manifest))
        })
        .await?;
        let shown = out.display().to_string();
        self.store.record_backup(customer_id, &customer.subdomain, &shown, bytes, kind, self.actor)?;
        self.store.log_customer(
            self.actor,
            &customer,
            "backup",
            AuditStatus::Success,
            &format!("{kind} backup written to {shown} ({bytes} bytes)"),
        )?;
        Ok(BackupSummary {
            path: out.to_path_buf(),
            bytes,
            files: manifest.files.len(),
            sealed_with: manifest.secrets.sealed_with,
        })
    }

    /// Copies `dir` to `to` with the customer's running containers paused, and thaws them
    /// whatever the copy did.
    async fn copy_paused(
        &self,
        customer: &Customer,
        files: &crate::engine::hosts::files::Files,
        dir: &Path,
        to: &Path,
    ) -> Result<(), EngineError> {
        let running: Vec<String> =
            self.containers(customer).await?.into_iter().filter(|c| c.state == "running").map(|c| c.name).collect();
        let mut paused = Vec::new();
        let mut result = Ok(());
        let docker = self.engines.for_customer(customer).await?;
        for name in &running {
            match docker.set_paused(name, true).await {
                Ok(()) => paused.push(name),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_ok() {
            result = files.copy_out(dir, to).await;
        }
        for name in paused {
            if let Err(e) = docker.set_paused(name, false).await {
                result = result.and(Err(e));
            }
        }
        result
    }

    /// Recreates a customer and its stack from a backup file: a new customer (named
    /// `subdomain`, else as in the backup) with the same owner, token, secrets and data, on the
    /// same UDP port when it is free. Nothing is left behind when it fails: the file is the
    /// source, and it is only read.
    pub async fn restore(
        &self,
        file: &Path,
        subdomain: Option<&str>,
        passphrase: Option<&str>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<RestoreSummary, EngineError> {
        self.restore_on(file, subdomain, passphrase, None, progress).await
    }

    /// [`Self::restore`] onto a chosen host (`None`: this machine's engine).
    pub async fn restore_on(
        &self,
        file: &Path,
        subdomain: Option<&str>,
        passphrase: Option<&str>,
        host: crate::engine::hosts::HostKey,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<RestoreSummary, EngineError> {
        crate::store::auth::require_role(self.role, Right::Restore)?;
        let settings = self.store.settings()?;
        let scratch = Scratch::new(&settings.data_dir, "restore")?;
        let (from, into) = (file.to_path_buf(), scratch.0.clone());
        let manifest = crate::engine::blocking(move || archive::unpack(&from, &into)).await?;
        let secrets = archive::open_secrets(&scratch.0, &manifest, passphrase, self.vault.key())?;
        let m = &manifest.customer.fields;
        let new = NewCustomer { subdomain: subdomain.unwrap_or(&m.subdomain).to_string(), ..m.clone() };
        if let Some(other) = self.store.customer_by_subdomain(&new.subdomain)? {
            return Err(crate::store::StoreError::Conflict(format!(
                "subdomain '{}' is already taken by {} (#{}); restore under another name with --subdomain",
                new.subdomain, other.name, other.id
            ))
            .into());
        }
        // Where it will run decides where its files go: checked before anything is created.
        let (there, files) = crate::engine::hosts::files::settings_on(self.store, host)?;
        let dir = Path::new(&there.data_dir).join(&new.subdomain);
        if files.exists(&dir).await? {
            return Err(EngineError::Conflict(format!(
                "{} exists already: move it away, or restore under another name with --subdomain",
                files.describe(&dir)
            )));
        }
        let floor = crate::engine::usecase::customers::highest_id_outside(self.store).await?;
        let customer = self.store.create_customer_on(self.actor, &new, host, floor)?;
        let scope = customer_scope(customer.id);
        let restored = async {
            for (name, value) in &secrets {
                self.store.put_secret(self.vault, &scope, name, value)?;
            }
            let Some(d) = &manifest.deployment else {
                return Ok(RestoreSummary {
                    customer_id: customer.id,
                    subdomain: customer.subdomain.clone(),
                    udp_port: None,
                    port_changed_from: None,
                });
            };
            if files.is_remote() {
                files.copy_in(&scratch.0.join("instance"), &dir).await?;
            } else {
                let (from, into) = (scratch.0.join("instance"), dir.clone());
                crate::engine::blocking(move || tree::move_dir(&from, &into)).await?;
            }
            let port = self.locked(customer.id, Right::Restore, self.restore_stack(&customer, d, progress)).await?;
            Ok(RestoreSummary {
                customer_id: customer.id,
                subdomain: customer.subdomain.clone(),
                udp_port: Some(port),
                port_changed_from: d.udp_port.filter(|p| *p != port),
            })
        }
        .await;
        if let Err(e) = &restored {
            // All or nothing: the backup file still holds everything.
            progress(Progress::Note { text: format!("restore failed: {e}; removing what it created") });
            self.rollback_restore(&customer, progress).await;
        }
        restored
    }

    async fn restore_stack(
        &self,
        customer: &Customer,
        d: &DeploymentRecord,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u16, EngineError> {
        let settings = self.store.settings()?;
        let journal = self.store.journal_begin(customer.id, &customer.subdomain, "deploy", self.actor)?;
        let result = async {
            let free = self.port_check(customer).await?;
            let port = self.store.allocate_deployment_preferring(
                customer.id,
                &render::prefix(&settings, customer),
                d.udp_port,
                settings.relay_base_port,
                settings.relay_port_count,
                free,
            )?;
            if let Some(user) = &d.owner_user_id {
                let expires = d.pat_expires_at.as_deref().and_then(|t| crate::store::parse_time("backup", t).ok());
                self.store.set_owner(customer.id, user, expires)?;
            }
            let mut journaled = self.journaled(journal, progress);
            // Not a first deploy: the instance is set up, and its owner is the one restored.
            self.apply_stack(customer, port, false, &mut journaled).await.map_err(|(_, e)| e)?;
            if d.status == DeploymentStatus::Stopped.as_str() {
                self.stop_now(customer.id).await?;
            }
            Ok::<_, EngineError>(port)
        }
        .await;
        match &result {
            Ok(port) => self.store.journal_end(journal, "done", &format!("restored on UDP {port}"))?,
            Err(e) => self.store.journal_end(journal, "failed", &format!("restore failed: {e}"))?,
        }
        result
    }

    async fn rollback_restore(&self, customer: &Customer, progress: &mut dyn FnMut(Progress)) {
        self.undo_first_deploy(customer, progress).await;
        if let Err(e) = self.store.delete_customer(self.actor, customer.id) {
            progress(Progress::Note { text: format!("rollback: {e}") });
        }
    }
}
