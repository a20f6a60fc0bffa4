//! The customer backup file: a gzip'd tar holding `manifest.json`, the customer's secrets
//! sealed in `secrets.sealed`, and the instance dir (config and NetBird's data) under
//! `instance/`. The manifest lists every regular file with its size and SHA-256, so a restore
//! checks the whole archive before anything is put in place. The manifest is authenticated:
//! its digest is sealed with the secrets (AEAD under the installation key or the passphrase's
//! key), so an edited manifest, or a file added or changed with it, is refused. Only regular
//! files and directories are written or read: a link inside an archive is refused.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::engine::EngineError;
use crate::store::crypto::{self, KdfParams};

/// The `format` field of every manifest.
pub const FORMAT: &str = "nbmsp-customer-backup";
/// The manifest version this build writes and reads. Version 1 had no authenticated
/// manifest: such a file is refused (its customer record and file list could have been edited).
pub const FORMAT_VERSION: u32 = 2;
const SECRETS_FILE: &str = "secrets.sealed";
const AAD: &[u8] = b"nbmsp:v1:customer-backup:secrets";

/// What a backup says about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] at writing.
    pub format_version: u32,
    /// The nbmsp that wrote it.
    pub nbmsp_version: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Who.
    pub created_by: String,
    /// The installation it came from.
    pub installation_id: String,
    /// The customer's record.
    pub customer: CustomerRecord,
    /// The deployment, when the customer was deployed.
    pub deployment: Option<DeploymentRecord>,
    /// How the secrets are sealed.
    pub secrets: SecretsRecord,
    /// Every regular file under `instance/`, by archive path.
    pub files: BTreeMap<String, FileRecord>,
}

/// The customer fields a restore recreates: every field of [`NewCustomer`] (a field added there
/// is carried without a change here), beside the id it had.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct CustomerRecord {
    /// Id at the source (informational: a restore gets a new id).
    pub id: i64,
    /// The fields.
    #[serde(flatten)]
    pub fields: crate::domain::customer::NewCustomer,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for CustomerRecord {
    type Error = String;

    /// Read by hand because serde's `flatten` would drop a field this version does not know (a
    /// backup from a newer nbmsp), where it must be refused rather than lost.
    fn try_from(mut m: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let id = m.remove("id").and_then(|v| v.as_i64()).ok_or("the customer record has no id")?;
        let fields = serde_json::from_value(serde_json::Value::Object(m)).map_err(|e| e.to_string())?;
        Ok(Self { id, fields })
    }
}

/// What the deployment looked like.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeploymentRecord {
    /// The public UDP port.
    pub udp_port: Option<u16>,
    /// NetBird's user id of the owner.
    pub owner_user_id: Option<String>,
    /// When the owner's token expires (RFC 3339).
    pub pat_expires_at: Option<String>,
    /// Image per service at backup time.
    pub images: BTreeMap<String, String>,
    /// `running` or `stopped`.
    pub status: String,
}

/// How `secrets.sealed` is sealed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecretsRecord {
    /// `passphrase` (argon2id of a passphrase) or `installation` (the installation's data key).
    pub sealed_with: String,
    /// KDF salt (base64), for `passphrase`.
    pub kdf_salt: Option<String>,
    /// KDF parameters, for `passphrase`.
    pub kdf_params: Option<String>,
    /// SHA-256 of `secrets.sealed`.
    pub sha256: String,
}

/// One file's size, digest and mode.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileRecord {
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// The key the secrets are sealed with.
pub enum SealKey<'a> {
    /// A passphrase (argon2id).
    Passphrase(&'a str),
    /// The installation's data key.
    Installation(&'a [u8; crypto::KEY_LEN]),
}

fn bad(detail: impl std::fmt::Display) -> EngineError {
    EngineError::Damaged(format!("not a usable customer backup: {detail}"))
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> EngineError {
    move |e| EngineError::Files(format!("{context}: {e}"))
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<(u64, String), EngineError> {
    let mut f = fs::File::open(path).map_err(io(format!("cannot read {}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io(format!("cannot read {}", path.display())))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((size, hex(&h.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every regular file under `root`, by path relative to it (`/`-separated).
fn regular_files(root: &Path) -> Result<Vec<PathBuf>, EngineError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for e in fs::read_dir(&dir).map_err(io(format!("cannot list {}", dir.display())))? {
            let e = e.map_err(io(format!("cannot list {}", dir.display())))?;
            let t = e.file_type().map_err(io(format!("cannot read {}", e.path().display())))?;
            let r = rel.join(e.file_name());
            if t.is_dir() {
                stack.push(r);
            } else if t.is_file() {
                out.push(r);
            } else if t.is_symlink() {
                // A link would be restored as a link: the one thing a restore must never write.
                return Err(EngineError::Files(format!(
                    "{} is a symbolic link; a customer's instance holds only files and directories (remove it)",
                    e.path().display()
                )));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// What is sealed: the secrets, and the digest of the manifest they belong to.
#[derive(serde::Serialize, serde::Deserialize)]
struct Sealed {
    secrets: BTreeMap<String, String>,
    manifest_sha256: String,
}

impl Manifest {
    /// SHA-256 of everything in the manifest but the record of the sealed secrets (which holds
    /// the digest of the sealed bytes and so cannot be inside them).
    fn bound_digest(&self) -> Result<String, EngineError> {
        let mut unsealed = self.clone();
        unsealed.secrets =
            SecretsRecord { sealed_with: String::new(), kdf_salt: None, kdf_params: None, sha256: String::new() };
        Ok(hex(&Sha256::digest(serde_json::to_vec(&unsealed).map_err(bad)?)))
    }
}

/// Seals the customer's secrets (name → value) with `key`, bound to `manifest` (whose file
/// list must be complete): the sealed record carries the manifest's digest.
fn seal_secrets(
    secrets: &BTreeMap<String, Zeroizing<String>>,
    manifest: &Manifest,
    key: &SealKey<'_>,
) -> Result<(Vec<u8>, SecretsRecord), EngineError> {
    let plain = Sealed {
        secrets: secrets.iter().map(|(k, v)| (k.clone(), v.as_str().to_string())).collect(),
        manifest_sha256: manifest.bound_digest()?,
    };
    let json = Zeroizing::new(serde_json::to_vec(&plain).map_err(bad)?);
    drop(Zeroizing::new(plain.secrets.into_values().collect::<Vec<String>>()));
    let c = |e: crypto::CryptoError| EngineError::Files(format!("cannot seal the secrets: {e}"));
    let (sealed, record) = match key {
        SealKey::Passphrase(p) => {
            let salt = crypto::random_bytes::<{ crypto::SALT_LEN }>().map_err(c)?;
            let params = KdfParams::DEFAULT;
            let k = crypto::derive_wrapping_key(p, &salt, params).map_err(c)?;
            let sealed = crypto::seal(&k, AAD, &json).map_err(c)?;
            let b64 = base64::engine::general_purpose::STANDARD.encode(salt);
            (sealed, ("passphrase", Some(b64), Some(params.encode())))
        }
        SealKey::Installation(k) => (crypto::seal(k, AAD, &json).map_err(c)?, ("installation", None, None)),
    };
    let sha256 = hex(&Sha256::digest(&sealed));
    Ok((sealed, SecretsRecord { sealed_with: record.0.into(), kdf_salt: record.1, kdf_params: record.2, sha256 }))
}

/// Opens `secrets.sealed` of an unpacked backup and checks that `manifest` is the one they
/// were sealed with: until this has passed, nothing the manifest says may be acted on.
pub fn open_secrets(
    unpacked: &Path,
    manifest: &Manifest,
    passphrase: Option<&str>,
    installation_key: &[u8; crypto::KEY_LEN],
) -> Result<BTreeMap<String, Zeroizing<String>>, EngineError> {
    let record = &manifest.secrets;
    let sealed = fs::read(unpacked.join(SECRETS_FILE)).map_err(io("cannot read the sealed secrets".into()))?;
    if hex(&Sha256::digest(&sealed)) != record.sha256 {
        return Err(bad("secrets.sealed does not match its checksum"));
    }
    let plain = match (record.sealed_with.as_str(), passphrase) {
        ("passphrase", Some(p)) => {
            let salt = base64::engine::general_purpose::STANDARD
                .decode(record.kdf_salt.as_deref().unwrap_or_default())
                .map_err(|e| bad(format!("kdf salt: {e}")))?;
            let params = record
                .kdf_params
                .as_deref()
                .and_then(KdfParams::decode)
                .ok_or_else(|| bad("kdf parameters missing"))?;
            let k = crypto::derive_wrapping_key(p, &salt, params).map_err(bad)?;
            crypto::open(&k, AAD, &sealed)
                .map_err(|_| EngineError::Refused("wrong passphrase for this backup's secrets".into()))?
        }
        ("passphrase", None) => {
            return Err(EngineError::Usage(
                "this backup's secrets are sealed with a passphrase: pass --passphrase-file FILE".into(),
            ));
        }
        _ => crypto::open(installation_key, AAD, &sealed).map_err(|_| {
            EngineError::Refused(
                "this backup's secrets are sealed with another installation's key: only the installation that wrote \
                 it can restore it (back up with --passphrase-file to move customers between installations)"
                    .into(),
            )
        })?,
    };
    let opened: Sealed = serde_json::from_slice(&plain).map_err(|e| bad(format!("secrets: {e}")))?;
    if opened.manifest_sha256 != manifest.bound_digest()? {
        return Err(bad("manifest.json was changed after the backup was written (it does not match its seal)"));
    }
    Ok(opened.secrets.into_iter().map(|(k, v)| (k, Zeroizing::new(v))).collect())
}

/// Writes the archive: `instance` (a private, consistent copy of the instance dir) with its
/// checksums in `manifest`, and `secrets` sealed with `key` and bound to the manifest. `out`
/// appears complete or not at all.
pub fn write(
    out: &Path,
    manifest: &mut Manifest,
    secrets: &BTreeMap<String, Zeroizing<String>>,
    key: &SealKey<'_>,
    instance: &Path,
) -> Result<u64, EngineError> {
    if out.exists() {
        return Err(EngineError::Conflict(format!("{} already exists; choose another file", out.display())));
    }
    manifest.files.clear();
    for rel in regular_files(instance)? {
        let (size, sha256) = sha256_file(&instance.join(&rel))?;
        manifest.files.insert(format!("instance/{}", rel.to_string_lossy()), FileRecord { size, sha256 });
    }
    let (sealed, record) = seal_secrets(secrets, manifest, key)?;
    manifest.secrets = record;
    let sealed = &sealed[..];
    let partial = out.with_extension("partial");
    let file = fs::File::create(&partial).map_err(io(format!("cannot create {}", partial.display())))?;
    fs::set_permissions(&partial, fs::Permissions::from_mode(0o600))
        .map_err(io(format!("cannot restrict {}", partial.display())))?;
    let result = (|| {
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        tar.follow_symlinks(false);
        let json = serde_json::to_vec_pretty(manifest).map_err(bad)?;
        let add = |tar: &mut tar::Builder<_>, name: &str, bytes: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o600);
            h.set_mtime(time::OffsetDateTime::now_utc().unix_timestamp().try_into().unwrap_or(0));
            h.set_cksum();
            tar.append_data(&mut h, name, bytes)
        };
        let w = |e: std::io::Error| EngineError::Files(format!("cannot write {}: {e}", partial.display()));
        add(&mut tar, "manifest.json", &json).map_err(w)?;
        add(&mut tar, SECRETS_FILE, sealed).map_err(w)?;
        tar.append_dir_all("instance", instance).map_err(w)?;
        let gz = tar.into_inner().map_err(w)?;
        let f = gz.finish().map_err(w)?;
        f.sync_all().map_err(w)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&partial);
        return Err(e);
    }
    fs::rename(&partial, out).map_err(io(format!("cannot move the backup to {}", out.display())))?;
    Ok(fs::metadata(out).map(|m| m.len()).unwrap_or(0))
}

/// Unpacks `file` into the empty directory `into` and checks it: a known format, only safe
/// paths, and every file the manifest lists with its size and digest (and no other file).
pub fn unpack(file: &Path, into: &Path) -> Result<Manifest, EngineError> {
    let f = fs::File::open(file).map_err(io(format!("cannot open {}", file.display())))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    tar.set_preserve_permissions(true);
    tar.set_overwrite(false);
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let safe = path.components().all(|c| matches!(c, Component::Normal(_)))
            && (path.starts_with("instance") || path == Path::new("manifest.json") || path == Path::new(SECRETS_FILE));
        if !safe {
            return Err(bad(format!("unexpected entry {}", path.display())));
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            // Links (symbolic or hard) are how an archive reaches outside the instance.
            return Err(bad(format!("{} is neither a regular file nor a directory", path.display())));
        }
        entry.unpack_in(into).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    }
    let text = fs::read(into.join("manifest.json")).map_err(|_| bad("no manifest.json"))?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| bad(format!("manifest.json: {e}")))?;
    if manifest.format != FORMAT {
        return Err(bad(format!("format {:?}", manifest.format)));
    }
    if manifest.format_version > FORMAT_VERSION {
        return Err(bad(format!(
            "written by a newer nbmsp (format {}; this one reads up to {FORMAT_VERSION})",
            manifest.format_version
        )));
    }
    if manifest.format_version < FORMAT_VERSION {
        return Err(bad(format!(
            "format {} has no authenticated manifest, so what it says cannot be trusted; take a new backup of the \
             customer (`nbmsp customer backup`) with this nbmsp",
            manifest.format_version
        )));
    }
    let instance = into.join("instance");
    let found: Vec<String> = if instance.is_dir() {
        regular_files(&instance)?.into_iter().map(|r| format!("instance/{}", r.to_string_lossy())).collect()
    } else {
        Vec::new()
    };
    for name in &found {
        let Some(want) = manifest.files.get(name) else { return Err(bad(format!("{name} is not in the manifest"))) };
        if sha256_file(&into.join(name))? != (want.size, want.sha256.clone()) {
            return Err(bad(format!("{name} does not match its checksum")));
        }
    }
    if let Some(missing) = manifest.files.keys().find(|k| !found.contains(k)) {
        return Err(bad(format!("{missing} is missing")));
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::CustomerRecord;

    #[test]
    fn the_customer_record_carries_every_field_and_reads_records_written_before_a_field_existed() {
        let full = serde_json::json!({
            "id": 7, "name": "N", "company": "C", "subdomain": "s", "email": "e@e.example",
            "max_devices": 3, "notes": "x", "contract_id": "MSP-1", "psa_ref": "HALO-1", "sla_target": "99.95",
            "reverse_proxy": false, "layout": "legacy"
        });
        let r: CustomerRecord = serde_json::from_value(full.clone()).unwrap();
        assert_eq!(serde_json::to_value(&r).unwrap(), full, "nothing lost or added on the way through");
        // A record from before `contract_id` and `psa_ref` existed.
        let mut older = full.clone();
        older.as_object_mut().unwrap().remove("contract_id");
        older.as_object_mut().unwrap().remove("psa_ref");
        let r: CustomerRecord = serde_json::from_value(older).unwrap();
        assert_eq!((r.id, r.fields.contract_id, r.fields.psa_ref), (7, None, None));
        // A field this version does not know is refused, not dropped.
        let mut newer = full;
        newer.as_object_mut().unwrap().insert("billing_plan".into(), "gold".into());
        assert!(serde_json::from_value::<CustomerRecord>(newer).is_err());
    }
}
