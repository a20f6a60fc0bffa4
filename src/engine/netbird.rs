//! NetBird's management API, reached directly on the Docker network (the public domain may not
//! point here yet): first-owner setup with a personal access token, and device metering.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::EngineError;
use crate::store::crypto;

/// The owner account nbmsp created for a customer's NetBird.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerCredentials {
    /// Login (the customer's email).
    pub email: String,
    /// Generated password.
    pub password: String,
    /// Personal access token for the management API.
    pub pat: Option<String>,
}

/// Devices of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceCount {
    /// Peers registered.
    pub total: u32,
    /// Peers connected now.
    pub connected: u32,
}

#[derive(Deserialize)]
struct Instance {
    setup_required: bool,
}

#[derive(Serialize)]
struct Setup<'a> {
    email: &'a str,
    password: &'a str,
    name: &'a str,
    create_pat: bool,
    pat_expire_in: u32,
}

#[derive(Deserialize)]
struct SetupAnswer {
    personal_access_token: Option<String>,
}

#[derive(Deserialize)]
struct Peer {
    #[serde(default)]
    connected: bool,
}

fn api(base: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Proxy(format!("NetBird management API at {base}: {e}"))
}

/// A strong random password: 24 characters with upper and lower case, digits and symbols.
pub fn generate_password() -> Result<String, EngineError> {
    const SETS: [&[u8]; 4] = [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnopqrstuvwxyz", b"23456789", b"-_.!@#%+="];
    let bytes = crypto::random_bytes::<48>().map_err(|e| EngineError::Files(e.to_string()))?;
    let all: Vec<u8> = SETS.concat();
    let mut pw: Vec<u8> = bytes[..20].iter().map(|b| all[usize::from(*b) % all.len()]).collect();
    // One of each class, at random-ish positions, so every policy is met.
    for (i, set) in SETS.iter().enumerate() {
        let c = set[usize::from(bytes[20 + i]) % set.len()];
        let pos = usize::from(bytes[24 + i]) % (pw.len() + 1);
        pw.insert(pos, c);
    }
    Ok(String::from_utf8_lossy(&pw).into_owned())
}

/// Creates the owner account (`POST /api/setup`, which works once) when the instance says setup
/// is required. `Ok(None)`: the instance was already set up, by someone else or an earlier run.
pub async fn bootstrap(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    name: &str,
) -> Result<Option<OwnerCredentials>, EngineError> {
    let instance: Instance = client
        .get(format!("{base}/api/instance"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| api(base, e))?
        .json()
        .await
        .map_err(|e| api(base, format!("GET /api/instance: {e}")))?;
    if !instance.setup_required {
        return Ok(None);
    }
    let password = generate_password()?;
    let body = Setup { email, password: &password, name, create_pat: true, pat_expire_in: 365 };
    let resp = client
        .post(format!("{base}/api/setup"))
        .json(&body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| api(base, e))?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        return Err(api(
            base,
            format!("POST /api/setup answered {status}: {}", text.chars().take(300).collect::<String>()),
        ));
    }
    let answer: SetupAnswer = resp.json().await.map_err(|e| api(base, format!("POST /api/setup: {e}")))?;
    Ok(Some(OwnerCredentials { email: email.to_string(), password, pat: answer.personal_access_token }))
}

/// Counts the customer's peers with the owner's PAT.
pub async fn devices(client: &reqwest::Client, base: &str, pat: &str) -> Result<DeviceCount, EngineError> {
    let resp = client
        .get(format!("{base}/api/peers"))
        .header("Authorization", format!("Token {pat}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| api(base, e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(api(base, format!("GET /api/peers answered {status}; is the stored token still valid?")));
    }
    let peers: Vec<Peer> = resp.json().await.map_err(|e| api(base, format!("GET /api/peers: {e}")))?;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(DeviceCount { total: count(peers.len()), connected: count(peers.iter().filter(|p| p.connected).count()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_mixed() {
        for _ in 0..50 {
            let p = generate_password().unwrap();
            assert_eq!(p.len(), 24);
            assert!(p.chars().any(|c| c.is_ascii_uppercase()));
            assert!(p.chars().any(|c| c.is_ascii_lowercase()));
            assert!(p.chars().any(|c| c.is_ascii_digit()));
            assert!(p.chars().any(|c| "-_.!@#%+=".contains(c)));
        }
        assert_ne!(generate_password().unwrap(), generate_password().unwrap());
    }
}
