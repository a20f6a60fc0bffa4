//! NetBird's management REST API (netbirdio/netbird v0.77.1, `shared/management/http/api/openapi.yml`),
//! reached directly on the Docker network (the public domain may not point here yet): instance
//! status, one-time owner setup, the owner's access tokens, and device metering.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::super::EngineError;
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

pub use crate::domain::netbird::DeviceCount;

/// What a successful `POST /api/setup` created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// The owner's NetBird user id.
    pub user_id: String,
    /// The owner's access token, when the server issues one (`NB_SETUP_PAT_ENABLED=true`).
    pub pat: Option<String>,
}

/// One of a user's access tokens (`PersonalAccessToken`; the secret is never listed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenInfo {
    /// Token id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expiration_date: time::OffsetDateTime,
}

/// Why the management API said no, kept apart so callers can tell "already set up" and "token
/// rejected" from the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRefusal {
    /// 412 from `/api/setup`: the instance has an owner.
    AlreadySetUp,
    /// The token was refused: 401 when malformed or expired, 404 "invalid token: pat: … not
    /// found" when revoked or another instance's (upstream's `auth_middleware.go` passes the
    /// store's not-found through; see [`is_token_not_found`]).
    TokenRejected,
    /// Anything else: status and NetBird's message.
    Other(u16, String),
}

#[derive(Deserialize)]
struct Instance {
    setup_required: bool,
}

#[derive(Serialize)]
struct SetupBody<'a> {
    email: &'a str,
    password: &'a str,
    name: &'a str,
    create_pat: bool,
    pat_expire_in: u32,
}

#[derive(Deserialize)]
struct SetupAnswer {
    user_id: String,
    personal_access_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

#[derive(Deserialize)]
struct Generated {
    plain_token: String,
    personal_access_token: TokenInfo,
}

#[derive(Deserialize)]
struct CurrentUser {
    id: String,
}

#[derive(Deserialize)]
struct Peer {
    #[serde(default)]
    connected: bool,
    #[serde(default)]
    version: String,
}

fn api(base: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::NetBird(format!("management API at {base}: {e}"))
}

/// Sends `req`, then reads a JSON answer or NetBird's error body.
pub(super) async fn call<T: serde::de::DeserializeOwned>(
    base: &str,
    what: &str,
    req: reqwest::RequestBuilder,
) -> Result<Result<T, ApiRefusal>, EngineError> {
    let resp = req.timeout(Duration::from_secs(15)).send().await.map_err(|e| api(base, format!("{what}: {e}")))?;
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return resp.json::<T>().await.map(Ok).map_err(|e| api(base, format!("{what}: unexpected answer: {e}")));
    }
    let text = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<ErrorBody>(&text)
        .map(|b| b.message)
        .unwrap_or_else(|_| text.chars().take(200).collect());
    Ok(Err(match status {
        401 => ApiRefusal::TokenRejected,
        404 if is_token_not_found(&message) => ApiRefusal::TokenRejected,
        _ => ApiRefusal::Other(status, crate::domain::sanitize::terminal_safe(&message)),
    }))
}

/// Whether a 404's message is NetBird's answer to a token its store does not have, not a
/// missing object: `invalid token: pat: <hash> not found`.
pub(super) fn is_token_not_found(message: &str) -> bool {
    message.starts_with("invalid token:")
}

/// A call with the owner's token whose every refusal is an error naming the call.
pub(super) async fn with_token<T: serde::de::DeserializeOwned>(
    base: &str,
    what: &str,
    pat: &str,
    req: reqwest::RequestBuilder,
) -> Result<T, EngineError> {
    call(base, what, req.header("Authorization", format!("Token {pat}"))).await?.map_err(|r| refused(base, what, r))
}

/// Turns a refusal into an error naming the call.
pub fn refused(base: &str, what: &str, r: ApiRefusal) -> EngineError {
    api(
        base,
        match r {
            ApiRefusal::AlreadySetUp => format!("{what}: setup already completed (the instance has an owner)"),
            ApiRefusal::TokenRejected => format!(
                "{what}: the stored access token was rejected (revoked or expired); a renewal needs a working \
                 token, so sign in to the customer's dashboard as the owner (`nbmsp customer credentials ID --yes`)"
            ),
            ApiRefusal::Other(status, msg) => format!("{what} answered {status}: {msg}"),
        },
    )
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

/// Whether the instance still needs its first user (`GET /api/instance`, unauthenticated).
pub async fn setup_required(client: &reqwest::Client, base: &str) -> Result<bool, EngineError> {
    let i: Instance = call(base, "GET /api/instance", client.get(format!("{base}/api/instance")))
        .await?
        .map_err(|r| refused(base, "GET /api/instance", r))?;
    Ok(i.setup_required)
}

/// Creates the owner (`POST /api/setup`, unauthenticated, works once) with a token valid
/// `pat_days`. NetBird's refusals (already set up, invalid input) are the inner `Err`.
pub async fn setup(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    name: &str,
    password: &str,
    pat_days: u32,
) -> Result<Result<Setup, ApiRefusal>, EngineError> {
    let body = SetupBody { email, password, name, create_pat: true, pat_expire_in: pat_days };
    let answer: Result<SetupAnswer, ApiRefusal> =
        call(base, "POST /api/setup", client.post(format!("{base}/api/setup")).json(&body)).await?;
    // 412 here is `instance/manager.go`'s "setup already completed"; elsewhere it means other things.
    Ok(answer.map(|a| Setup { user_id: a.user_id, pat: a.personal_access_token }).map_err(|r| match r {
        ApiRefusal::Other(412, _) => ApiRefusal::AlreadySetUp,
        other => other,
    }))
}

/// The id of the user a token belongs to (`GET /api/users/current`).
pub async fn current_user(client: &reqwest::Client, base: &str, pat: &str) -> Result<String, EngineError> {
    let what = "GET /api/users/current";
    let u: CurrentUser = with_token(base, what, pat, client.get(format!("{base}/api/users/current"))).await?;
    Ok(u.id)
}

/// Creates an access token for `user_id` (`POST /api/users/{id}/tokens`); returns its secret
/// and what NetBird records about it.
pub async fn create_token(
    client: &reqwest::Client,
    base: &str,
    pat: &str,
    user_id: &str,
    name: &str,
    days: u32,
) -> Result<(String, TokenInfo), EngineError> {
    let what = "POST /api/users/{id}/tokens";
    let body = serde_json::json!({"name": name, "expires_in": days});
    let req = client.post(format!("{base}/api/users/{user_id}/tokens")).json(&body);
    let g: Generated = with_token(base, what, pat, req).await?;
    Ok((g.plain_token, g.personal_access_token))
}

/// The user's access tokens (`GET /api/users/{id}/tokens`).
pub async fn list_tokens(
    client: &reqwest::Client,
    base: &str,
    pat: &str,
    user_id: &str,
) -> Result<Vec<TokenInfo>, EngineError> {
    let what = "GET /api/users/{id}/tokens";
    // A user without tokens is `null` (Go's nil slice), not `[]`.
    let listed: Option<Vec<TokenInfo>> =
        with_token(base, what, pat, client.get(format!("{base}/api/users/{user_id}/tokens"))).await?;
    Ok(listed.unwrap_or_default())
}

/// Revokes one access token (`DELETE /api/users/{id}/tokens/{tokenId}`).
pub async fn delete_token(
    client: &reqwest::Client,
    base: &str,
    pat: &str,
    user_id: &str,
    token_id: &str,
) -> Result<(), EngineError> {
    let what = "DELETE /api/users/{id}/tokens/{tokenId}";
    let req = client.delete(format!("{base}/api/users/{user_id}/tokens/{token_id}"));
    let _: serde_json::Value = with_token(base, what, pat, req).await?;
    Ok(())
}

/// Counts the customer's peers with the owner's PAT, and those on a client older than
/// `min_version` when one is given.
pub async fn devices(
    client: &reqwest::Client,
    base: &str,
    pat: &str,
    min_version: Option<&str>,
) -> Result<DeviceCount, EngineError> {
    let what = "GET /api/peers";
    let peers: Vec<Peer> = with_token(base, what, pat, client.get(format!("{base}/api/peers"))).await?;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    // People only: `service_user=false` leaves API-only users out (users_handler.go getAllUsers).
    let what = "GET /api/users";
    let url = format!("{base}/api/users?service_user=false");
    let users = match with_token::<Vec<serde_json::Value>>(base, what, pat, client.get(url)).await {
        Ok(u) => Some(count(u.len())),
        Err(e) => {
            tracing::debug!("users not counted: {e}");
            None
        }
    };
    Ok(DeviceCount {
        users,
        total: count(peers.len()),
        connected: count(peers.iter().filter(|p| p.connected).count()),
        outdated: min_version
            .map(|m| count(peers.iter().filter(|p| crate::domain::netbird::older_than(&p.version, m)).count())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_token_is_told_from_a_missing_object() {
        assert!(is_token_not_found("invalid token: pat: 3f2a not found"));
        assert!(!is_token_not_found("peer not found"));
        assert!(!is_token_not_found("group not found: invalid token: x"));
    }

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
