//! The NetBird owner account nbmsp creates for a customer (combined layout) and what its
//! access token is used for: device counts.

use serde::Serialize;

use super::EngineError;
use super::lifecycle::Ops;
use super::netbird::{self, DeviceCount, OwnerCredentials};
use super::proxy::Proxy;
use super::render;
use crate::domain::audit::AuditStatus;
use crate::domain::customer::Customer;
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

/// Secret names of the owner account.
const OWNER_SECRETS: [&str; 3] = ["owner_email", "owner_password", "owner_pat"];

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

impl<P: Proxy> Ops<'_, P> {
    /// The combined server's management API, reached on the Docker network.
    async fn management_url(&self, customer: &Customer, network: &str) -> Result<String, EngineError> {
        let name = render::container_name(&render::prefix(customer), "server");
        let ip = self
            .docker
            .inspect(&name, Some(network))
            .await?
            .and_then(|c| c.ip)
            .ok_or_else(|| EngineError::Unhealthy(format!("{name} has no address on network {network}")))?;
        Ok(format!("http://{ip}:80"))
    }

    /// Creates the NetBird owner with a PAT on a combined-layout instance that needs setup, and
    /// stores the credentials encrypted. `None` when nothing was created.
    pub(super) async fn bootstrap(
        &self,
        customer: &Customer,
        network: &str,
    ) -> Result<Option<OwnerCredentials>, EngineError> {
        if customer.layout != crate::domain::customer::Layout::Combined || self.credentials(customer.id)?.is_some() {
            return Ok(None);
        }
        let base = self.management_url(customer, network).await?;
        let client = super::npm::http_client()?;
        let owner = netbird::bootstrap(&client, &base, &customer.email, &customer.name).await?;
        if let Some(o) = &owner {
            let scope = crate::store::vault::customer_scope(customer.id);
            self.store.put_secret(self.vault, &scope, OWNER_SECRETS[0], &o.email)?;
            self.store.put_secret(self.vault, &scope, OWNER_SECRETS[1], &o.password)?;
            if let Some(pat) = &o.pat {
                self.store.put_secret(self.vault, &scope, OWNER_SECRETS[2], pat)?;
            }
            self.store.log_customer(
                self.actor,
                customer,
                "bootstrap",
                AuditStatus::Success,
                &format!("NetBird owner {} created", o.email),
            )?;
        }
        Ok(owner)
    }

    /// The stored NetBird owner credentials, if nbmsp created the owner.
    pub fn credentials(&self, customer_id: i64) -> Result<Option<OwnerCredentials>, EngineError> {
        owner_credentials(self.store, self.vault, customer_id)
    }

    /// Counts the customer's devices through NetBird's API (with the owner's PAT) and stores the count.
    pub async fn devices(&self, customer_id: i64) -> Result<DeviceUsage, EngineError> {
        let customer = self.store.customer(customer_id)?;
        self.require_deployed(&customer)?;
        let pat = self.credentials(customer_id)?.and_then(|c| c.pat).ok_or_else(|| {
            EngineError::Files(format!(
                "customer '{}' has no NetBird access token in nbmsp (legacy layout, or set up outside nbmsp): devices cannot be counted",
                customer.subdomain
            ))
        })?;
        let network = self.store.settings()?.docker_network;
        let base = self.management_url(&customer, &network).await?;
        let count = netbird::devices(&super::npm::http_client()?, &base, &pat).await?;
        self.store.set_devices(customer_id, count.total, count.connected)?;
        Ok(DeviceUsage {
            count,
            max_devices: customer.max_devices,
            over_limit: i64::from(count.total) > customer.max_devices,
        })
    }
}
