//! Secret handling primitives: password hashes, password-derived wrapping keys, and AEAD sealing.
//!
//! One random 32-byte data key encrypts every secret (XChaCha20-Poly1305, random 24-byte nonce,
//! associated data binding each ciphertext to its place). The data key itself is stored only
//! wrapped under a key derived with argon2id from a user's password, so the database file alone
//! reveals no secret.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// Length of a data key and of a derived wrapping key.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
/// Length of the per-user salt for the wrapping key.
pub const SALT_LEN: usize = 16;

/// A crypto operation failed; never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The operating system's random source failed.
    #[error("the system's random number source failed: {0}")]
    Random(String),
    /// Sealed data was altered, truncated, or sealed under another key.
    #[error("a stored secret could not be decrypted (wrong key or damaged data)")]
    Open,
    /// argon2 refused its parameters or input.
    #[error("password hashing failed: {0}")]
    Kdf(String),
}

/// argon2id cost parameters, stored beside what they protect so they can be raised later
/// without breaking old records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Parallelism.
    pub p: u32,
}

impl KdfParams {
    /// OWASP's recommended argon2id minimum (19 MiB, 2 passes, 1 lane): a login costs tens of
    /// milliseconds, an offline guess the same.
    pub const DEFAULT: KdfParams = KdfParams { m_kib: 19 * 1024, t: 2, p: 1 };

    /// `m=19456,t=2,p=1`.
    pub fn encode(&self) -> String {
        format!("m={},t={},p={}", self.m_kib, self.t, self.p)
    }

    /// Parses [`KdfParams::encode`]'s form.
    pub fn decode(s: &str) -> Option<Self> {
        let mut m = None;
        let mut t = None;
        let mut p = None;
        for part in s.split(',') {
            let (k, v) = part.split_once('=')?;
            let v: u32 = v.parse().ok()?;
            match k {
                "m" => m = Some(v),
                "t" => t = Some(v),
                "p" => p = Some(v),
                _ => return None,
            }
        }
        Some(Self { m_kib: m?, t: t?, p: p? })
    }

    fn argon2(&self) -> Result<Argon2<'static>, CryptoError> {
        let params =
            Params::new(self.m_kib, self.t, self.p, Some(KEY_LEN)).map_err(|e| CryptoError::Kdf(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| CryptoError::Random(e.to_string()))?;
    Ok(out)
}

/// A fresh random data key.
pub fn new_data_key() -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
    Ok(Zeroizing::new(random_bytes::<KEY_LEN>()?))
}

/// An argon2id PHC string for `password`, with its own random salt.
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    let hash =
        KdfParams::DEFAULT.argon2()?.hash_password(password.as_bytes()).map_err(|e| CryptoError::Kdf(e.to_string()))?;
    Ok(hash.to_string())
}

#[cfg(test)]
thread_local! {
    /// The algorithm and cost of each argon2id this thread ran: a hash verified
    /// (`$argon2id$v=19$m=…`) or a key derived (`derive <params>`): what a login's timing
    /// depends on, recorded for tests instead of measured.
    pub(crate) static VERIFICATIONS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// True when `password` matches the PHC string `phc`. A malformed `phc` never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    #[cfg(test)]
    VERIFICATIONS.with(|v| v.borrow_mut().push(phc.rsplitn(3, '$').last().unwrap_or_default().to_string()));
    PasswordHash::new(phc).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// The key that wraps the data key for one user: argon2id(password, salt). The salt differs
/// from the password hash's, so knowing the hash does not give the wrapping key.
pub fn derive_wrapping_key(
    password: &str,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
    #[cfg(test)]
    VERIFICATIONS.with(|v| v.borrow_mut().push(format!("derive {}", params.encode())));
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    params
        .argon2()?
        .hash_password_into(password.as_bytes(), salt, out.as_mut())
        .map_err(|e| CryptoError::Kdf(e.to_string()))?;
    Ok(out)
}

/// Encrypts `plaintext` under `key`, bound to `aad`; returns nonce followed by ciphertext.
pub fn seal(key: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| CryptoError::Open)?;
    let nonce_bytes = random_bytes::<NONCE_LEN>()?;
    let nonce = XNonce::try_from(&nonce_bytes[..]).map_err(|_| CryptoError::Open)?;
    let ct = cipher.encrypt(&nonce, Payload { msg: plaintext, aad }).map_err(|_| CryptoError::Open)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Reverses [`seal`]; fails when the key, the `aad` or the bytes differ from sealing time.
pub fn open(key: &[u8; KEY_LEN], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < NONCE_LEN {
        return Err(CryptoError::Open);
    }
    let (nonce_bytes, ct) = sealed.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| CryptoError::Open)?;
    let nonce = XNonce::try_from(nonce_bytes).map_err(|_| CryptoError::Open)?;
    cipher.decrypt(&nonce, Payload { msg: ct, aad }).map(Zeroizing::new).map_err(|_| CryptoError::Open)
}

/// A fresh X25519 key pair (private, public) for sealing to the public half.
pub fn box_keypair() -> Result<(Zeroizing<[u8; KEY_LEN]>, [u8; KEY_LEN]), CryptoError> {
    let secret = x25519_dalek::StaticSecret::from(random_bytes::<KEY_LEN>()?);
    let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
    Ok((Zeroizing::new(secret.to_bytes()), public))
}

/// The public half of a private key made by [`box_keypair`].
pub fn box_public(secret: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*secret)).to_bytes()
}

/// The symmetric key of one sealed box: SHA-256 over the shared secret and both public keys.
fn box_key(shared: &[u8; 32], ephemeral: &[u8; KEY_LEN], recipient: &[u8; KEY_LEN]) -> Zeroizing<[u8; KEY_LEN]> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"nbmsp:v1:box");
    h.update(shared);
    h.update(ephemeral);
    h.update(recipient);
    Zeroizing::new(h.finalize().into())
}

/// Seals `plaintext` so that only the holder of `recipient`'s private key can open it: an
/// ephemeral X25519 key agreement, then [`seal`]. Returns the ephemeral public key and the box.
pub fn box_seal(recipient: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let ephemeral = x25519_dalek::StaticSecret::from(random_bytes::<KEY_LEN>()?);
    let ephemeral_public = x25519_dalek::PublicKey::from(&ephemeral).to_bytes();
    let shared = ephemeral.diffie_hellman(&x25519_dalek::PublicKey::from(*recipient));
    let key = box_key(shared.as_bytes(), &ephemeral_public, recipient);
    let mut out = ephemeral_public.to_vec();
    out.extend(seal(&key, aad, plaintext)?);
    Ok(out)
}

/// Reverses [`box_seal`] with the recipient's private key.
pub fn box_open(secret: &[u8; KEY_LEN], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < KEY_LEN {
        return Err(CryptoError::Open);
    }
    let (ephemeral, rest) = sealed.split_at(KEY_LEN);
    let ephemeral: [u8; KEY_LEN] = ephemeral.try_into().map_err(|_| CryptoError::Open)?;
    let own = x25519_dalek::StaticSecret::from(*secret);
    let shared = own.diffie_hellman(&x25519_dalek::PublicKey::from(ephemeral));
    let key = box_key(shared.as_bytes(), &ephemeral, &x25519_dalek::PublicKey::from(&own).to_bytes());
    open(&key, aad, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_box_opens_only_with_its_private_key() {
        let (secret, public) = box_keypair().unwrap();
        assert_eq!(box_public(&secret), public);
        let sealed = box_seal(&public, b"ctx", b"owner password").unwrap();
        assert_eq!(&box_open(&secret, b"ctx", &sealed).unwrap()[..], b"owner password");
        let (other, _) = box_keypair().unwrap();
        assert!(box_open(&other, b"ctx", &sealed).is_err(), "another key");
        assert!(box_open(&secret, b"other", &sealed).is_err(), "another place");
        let mut bent = sealed.clone();
        bent[40] ^= 1;
        assert!(box_open(&secret, b"ctx", &bent).is_err(), "altered");
    }

    #[test]
    fn seal_round_trip_and_tamper_detection() {
        let key = new_data_key().unwrap();
        let sealed = seal(&key, b"ctx", b"top secret").unwrap();
        assert_eq!(open(&key, b"ctx", &sealed).unwrap().as_slice(), b"top secret");
        assert!(open(&key, b"other ctx", &sealed).is_err(), "aad binds the ciphertext to its place");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(open(&key, b"ctx", &bad).is_err());
        let other = new_data_key().unwrap();
        assert!(open(&other, b"ctx", &sealed).is_err());
        assert!(!sealed.windows(10).any(|w| w == b"top secret"));
    }

    #[test]
    fn password_hash_verifies_only_the_password() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("wrong horse battery", &phc));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn wrapping_key_depends_on_password_and_salt() {
        let p = KdfParams { m_kib: 1024, t: 1, p: 1 };
        let a = derive_wrapping_key("pw-one-long", b"salt-salt-salt-1", p).unwrap();
        let b = derive_wrapping_key("pw-one-long", b"salt-salt-salt-1", p).unwrap();
        let c = derive_wrapping_key("pw-two-long", b"salt-salt-salt-1", p).unwrap();
        let d = derive_wrapping_key("pw-one-long", b"salt-salt-salt-2", p).unwrap();
        assert_eq!(*a, *b);
        assert_ne!(*a, *c);
        assert_ne!(*a, *d);
    }

    #[test]
    fn kdf_params_round_trip() {
        assert_eq!(KdfParams::decode(&KdfParams::DEFAULT.encode()), Some(KdfParams::DEFAULT));
        assert_eq!(KdfParams::decode("m=1,t=2"), None);
    }
}
