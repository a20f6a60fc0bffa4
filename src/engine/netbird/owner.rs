//! The NetBird owner account nbmsp creates for each customer, and the access token it keeps
//! working: created while the instance is reachable only on the Docker network (before any
//! proxy makes it public, because `/api/setup` needs no authentication), renewed before it
//! expires (NetBird tokens live at most 365 days).

use crate::domain::rights::Right;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::api::{self, ApiRefusal, DeviceCount, OwnerCredentials};
use crate::domain::Timestamp;
use crate::domain::audit::AuditStatus;
use crate::domain::customer::Customer;
use crate::engine::EngineError;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::Ops;
use crate::engine::stack::render;
use crate::store::{Store, Vault};

/// Devices in use against the customer's limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceUsage {
    /// Registered and connected peers.
    #[serde(flatten)]
    pub count: DeviceCount,
    /// The customer's limit.
    pub max_devices: i64,
    /// More devices than allowed.
    pub over_limit: bool,
}

/// What a token renewal did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRenewal {
    /// When the new token expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: Timestamp,
    /// How many older tokens were revoked.
    pub revoked: usize,
}

/// What the owner step of a deploy found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerOutcome {
    /// nbmsp created the owner now (credentials shown once).
    Created(OwnerCredentials),
    /// nbmsp created it earlier.
    Exists,
    /// Someone else set the instance up (redeploys only; a first deploy fails instead).
    Foreign,
}

/// Secret names of the owner account.
const OWNER_SECRETS: [&str; 3] = ["owner_email", "owner_password", "owner_pat"];

/// How long the owner step keeps trying while management is still starting.
const SETUP_PATIENCE: Duration = Duration::from_secs(30);

/// The stored NetBird owner credentials of a customer, if nbmsp created the owner (no Docker needed).
pub fn owner_credentials(
    store: &Store,
    vault: &Vault,
    customer_id: i64,
) -> Result<Option<OwnerCredentials>, EngineError> {
    let scope = crate::store::vault::customer_scope(customer_id);
    let get = |n: &str| store.secret(vault, &scope, n).map(|v| v.map(|s| s.to_string()));
    let (Some(email), Some(password)) = (get(OWNER_SECRETS[0])?, get(OWNER_SECRETS[1])?) else { return Ok(None) };
    Ok(Some(OwnerCredentials { email, password, pat: get(OWNER_SECRETS[2])? }))
}

fn days_from_now(days: u32) -> Timestamp {
    time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days))
}

impl<P: Proxy> Ops<'_, P> {
    /// An HTTP client that reaches the customer's containers on their Docker network (through
    /// its host's SSH tunnel when that host is not this machine).
    pub(crate) async fn api_client(&self, customer: &Customer) -> Result<reqwest::Client, EngineError> {
        self.engines.for_customer(customer).await?.http_client(std::time::Duration::from_secs(30)).await
    }

    /// The customer's management API, reached on the Docker network; a stopped or missing
    /// container is said as such, with the way to start it.
    pub(crate) async fn management_url(&self, customer: &Customer, network: &str) -> Result<String, EngineError> {
        let name = render::container_name(&self.name_prefix(customer)?, customer.layout.management_service());
        let Some(c) = self
            .engines
            .for_customer(customer)
            .await?
            .inspect(&name, Some(network))
            .await?
            .filter(|c| c.state == "running")
        else {
            return Err(EngineError::Unhealthy(format!(
                "'{sub}' is not running ({name} is stopped or missing): start it with `nbmsp customer start {sub}`",
                sub = customer.subdomain
            )));
        };
        let ip = c.ip.ok_or_else(|| EngineError::Unhealthy(format!("{name} has no address on network {network}")))?;
        Ok(format!("http://{ip}:80"))
    }

    /// Creates the NetBird owner with an access token when the instance needs setup, and stores
    /// the credentials encrypted. Runs before the proxy makes the instance public. On a
    /// `first_deploy`, an instance that already has an owner means someone else claimed it: an
    /// error, never success.
    pub(crate) async fn bootstrap(
        &self,
        customer: &Customer,
        network: &str,
        first_deploy: bool,
    ) -> Result<OwnerOutcome, EngineError> {
        // Whether nbmsp made the owner needs no key: an operator's redeploy asks this too, and
        // only an admin's session opens the owner's password.
        let scope = crate::store::vault::customer_scope(customer.id);
        if self.store.secret_is_set(&scope, OWNER_SECRETS[0])? && self.store.secret_is_set(&scope, OWNER_SECRETS[1])? {
            return Ok(OwnerOutcome::Exists);
        }
        let base = self.management_url(customer, network).await?;
        let client = self.api_client(customer).await?;
        let settings = self.store.settings()?;
        let password = api::generate_password()?;
        let deadline = Instant::now() + SETUP_PATIENCE;
        // Management answers seconds after its container starts; retry while it is not there yet.
        let result = loop {
            let attempt = async {
                if !api::setup_required(&client, &base).await? {
                    return Ok(Err(ApiRefusal::AlreadySetUp));
                }
                api::setup(&client, &base, &customer.email, &customer.name, &password, settings.pat_days).await
            };
            match attempt.await {
                Err(EngineError::NetBird(e)) if Instant::now() < deadline => {
                    tracing::debug!("owner setup not possible yet: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                other => break other?,
            }
        };
        let setup = match result {
            Ok(s) => s,
            Err(ApiRefusal::AlreadySetUp) if !first_deploy => return Ok(OwnerOutcome::Foreign),
            Err(ApiRefusal::AlreadySetUp) => {
                return Err(EngineError::NetBird(format!(
                    "instance of '{}' already has an owner that nbmsp did not create: someone set it up \
                     before nbmsp could (or its data dir holds another instance's data); nothing was made public",
                    customer.subdomain
                )));
            }
            Err(r) => return Err(api::refused(&base, "POST /api/setup", r)),
        };
        let scope = crate::store::vault::customer_scope(customer.id);
        self.store.put_secret(self.vault, &scope, OWNER_SECRETS[0], &customer.email)?;
        self.store.put_secret(self.vault, &scope, OWNER_SECRETS[1], &password)?;
        if let Some(pat) = &setup.pat {
            self.store.put_secret(self.vault, &scope, OWNER_SECRETS[2], pat)?;
        }
        let expires = setup.pat.as_ref().map(|_| days_from_now(settings.pat_days));
        self.store.set_owner(customer.id, &setup.user_id, expires)?;
        let note = if setup.pat.is_some() {
            String::new()
        } else {
            "; the server issued no access token (it needs NB_SETUP_PAT_ENABLED=true, NetBird 0.70.5 or newer)".into()
        };
        self.store.log_customer(
            self.actor,
            customer,
            "bootstrap",
            AuditStatus::Success,
            &format!("NetBird owner {} created{note}", customer.email),
        )?;
        Ok(OwnerOutcome::Created(OwnerCredentials { email: customer.email.clone(), password, pat: setup.pat }))
    }

    /// The stored NetBird owner credentials, if nbmsp created the owner.
    pub fn credentials(&self, customer_id: i64) -> Result<Option<OwnerCredentials>, EngineError> {
        owner_credentials(self.store, self.vault, customer_id)
    }

    pub(crate) fn stored_pat(&self, customer: &Customer) -> Result<String, EngineError> {
        let scope = crate::store::vault::customer_scope(customer.id);
        self.store.secret(self.vault, &scope, OWNER_SECRETS[2])?.map(|t| t.to_string()).ok_or_else(|| {
            EngineError::DataMissing(format!(
                "customer '{}' has no NetBird access token in nbmsp (set up outside nbmsp, or by a server without \
                 NB_SETUP_PAT_ENABLED)",
                customer.subdomain
            ))
        })
    }

    /// Replaces the owner's access token: creates a new one (valid `netbird.pat_days`), stores
    /// it, then revokes every older token nbmsp made (the setup token included).
    pub async fn renew_token(&self, customer_id: i64) -> Result<TokenRenewal, EngineError> {
        self.locked(customer_id, Right::RenewToken, self.renew_token_unlocked(customer_id)).await
    }

    pub(crate) async fn renew_token_unlocked(&self, customer_id: i64) -> Result<TokenRenewal, EngineError> {
        let customer = self.store.customer(customer_id)?;
        self.require_deployed(&customer)?;
        let settings = self.store.settings()?;
        let pat = self.stored_pat(&customer)?;
        let base = self.management_url(&customer, &settings.docker_network).await?;
        let client = self.api_client(&customer).await?;
        let result = async {
            let user = match self.store.deployment(customer_id)?.and_then(|d| d.owner_user_id) {
                Some(u) => u,
                None => api::current_user(&client, &base, &pat).await?,
            };
            let name = format!("nbmsp-{}", time::OffsetDateTime::now_utc().date());
            let (new_pat, info) = api::create_token(&client, &base, &pat, &user, &name, settings.pat_days).await?;
            let scope = crate::store::vault::customer_scope(customer_id);
            self.store.put_secret(self.vault, &scope, OWNER_SECRETS[2], &new_pat)?;
            self.store.set_owner(customer_id, &user, Some(info.expiration_date))?;
            let mut revoked = 0;
            for old in api::list_tokens(&client, &base, &new_pat, &user).await? {
                let ours = old.name == "setup-token" || old.name.starts_with("nbmsp-");
                if old.id != info.id && ours {
                    api::delete_token(&client, &base, &new_pat, &user, &old.id).await?;
                    revoked += 1;
                }
            }
            Ok::<_, EngineError>(TokenRenewal { expires_at: info.expiration_date, revoked })
        }
        .await;
        let (status, message) = match &result {
            Ok(r) => (AuditStatus::Success, format!("access token renewed, valid until {}", r.expires_at.date())),
            Err(e) => (AuditStatus::Error, format!("access token renewal failed: {e}")),
        };
        self.store.log_customer(self.actor, &customer, "renew-token", status, &message)?;
        result
    }

    /// Takes a token an admin made in the customer's dashboard when nbmsp's own is dead
    /// (expired or revoked: a dead token cannot renew itself), checks NetBird accepts it, then
    /// renews from it so nbmsp again holds a token of its own whose expiry it knows.
    pub async fn set_token(&self, customer_id: i64, token: &str) -> Result<TokenRenewal, EngineError> {
        self.locked(customer_id, Right::SetToken, async {
            let customer = self.store.customer(customer_id)?;
            self.require_deployed(&customer)?;
            let token = token.trim();
            if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(EngineError::NetBird("the token file must hold one token on one line".into()));
            }
            let network = self.store.settings()?.docker_network;
            let base = self.management_url(&customer, &network).await?;
            let user = api::current_user(&self.api_client(&customer).await?, &base, token).await?;
            let scope = crate::store::vault::customer_scope(customer_id);
            self.store.put_secret(self.vault, &scope, OWNER_SECRETS[2], token)?;
            self.store.set_owner(customer_id, &user, None)?;
            self.store.log_customer(
                self.actor,
                &customer,
                "set-token",
                AuditStatus::Success,
                "access token replaced with one made in NetBird's dashboard",
            )?;
            self.renew_token_unlocked(customer_id).await
        })
        .await
    }

    /// Counts the customer's devices through NetBird's API (with the owner's PAT) and stores the count.
    pub async fn devices(&self, customer_id: i64) -> Result<DeviceUsage, EngineError> {
        let customer = self.store.customer(customer_id)?;
        self.require_deployed(&customer)?;
        let pat = self.stored_pat(&customer)?;
        let settings = self.store.settings()?;
        let base = self.management_url(&customer, &settings.docker_network).await?;
        let client = self.api_client(&customer).await?;
        let count = api::devices(&client, &base, &pat, settings.min_client_version.as_deref()).await?;
        self.store.set_devices(customer_id, &count)?;
        Ok(DeviceUsage {
            count,
            max_devices: customer.max_devices,
            over_limit: i64::from(count.total) > customer.max_devices,
        })
    }
}

/// Whether a token that expires at `expires_at` is due for renewal `renew_days` ahead.
pub fn renewal_due(expires_at: Option<Timestamp>, renew_days: u32, now: Timestamp) -> bool {
    expires_at.is_some_and(|e| e - now <= time::Duration::days(i64::from(renew_days)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_due_inside_the_window_only() {
        let now = time::macros::datetime!(2026-12-01 12:00 UTC);
        assert!(renewal_due(Some(now + time::Duration::days(1)), 30, now));
        assert!(renewal_due(Some(now - time::Duration::days(1)), 30, now));
        assert!(!renewal_due(Some(now + time::Duration::days(31)), 30, now));
        assert!(!renewal_due(None, 30, now));
    }
}
