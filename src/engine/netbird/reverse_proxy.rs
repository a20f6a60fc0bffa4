//! A customer's NetBird Reverse Proxy: its access token, made through the management API with
//! the owner's token and kept sealed like every secret (`proxytoken/handler.go`: the plain
//! token is returned once), the proxy container started once the token exists, and readiness as
//! upstream reports it (`GET /api/reverse-proxies/clusters`: listed once a proxy registered,
//! `online` while one heartbeats). Turning the proxy off revokes the token (upstream keeps it
//! listed as revoked) and leaves no token on disk.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::api::{call, with_token};
use crate::domain::customer::Customer;
use crate::domain::fleet::{ReverseSeen, SERVICE_TROUBLE};
use crate::engine::EngineError;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::Ops;
use crate::engine::stack::render::{PROXY_ENV, PROXY_TOKEN, PROXY_TOKEN_ID, RenderedFile};
use crate::store::vault::customer_scope;

/// One proxy cluster as management lists it (`api.ProxyCluster`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Cluster {
    /// Its address: the proxy's `NB_PROXY_DOMAIN`.
    pub address: String,
    /// Whether a proxy of it heartbeated within the active window.
    #[serde(default)]
    pub online: bool,
    /// Proxies connected now.
    #[serde(default)]
    pub connected_proxies: u32,
}

#[derive(Deserialize)]
struct Created {
    id: String,
    plain_token: String,
}

/// Creates a proxy token named `name` that does not expire (`POST /api/reverse-proxies/proxy-tokens`).
async fn create_token(client: &reqwest::Client, base: &str, pat: &str, name: &str) -> Result<Created, EngineError> {
    let what = "POST /api/reverse-proxies/proxy-tokens";
    let req = client.post(format!("{base}/api/reverse-proxies/proxy-tokens")).json(&serde_json::json!({"name": name}));
    with_token(base, what, pat, req).await
}

/// Revokes a proxy token; one management no longer knows is as good as revoked.
async fn revoke_token(client: &reqwest::Client, base: &str, pat: &str, id: &str) -> Result<(), EngineError> {
    let what = "DELETE /api/reverse-proxies/proxy-tokens/{tokenId}";
    let req = client.delete(format!("{base}/api/reverse-proxies/proxy-tokens/{id}"));
    match call::<serde_json::Value>(base, what, req.header("Authorization", format!("Token {pat}"))).await? {
        Ok(_) | Err(super::api::ApiRefusal::Other(404, _)) => Ok(()),
        Err(r) => Err(super::api::refused(base, what, r)),
    }
}

/// The account's proxy clusters (`GET /api/reverse-proxies/clusters`).
pub async fn clusters(client: &reqwest::Client, base: &str, pat: &str) -> Result<Vec<Cluster>, EngineError> {
    let what = "GET /api/reverse-proxies/clusters";
    with_token(base, what, pat, client.get(format!("{base}/api/reverse-proxies/clusters"))).await
}

impl<P: Proxy> Ops<'_, P> {
    /// Makes the customer's reverse proxy what its switch says, after its server answers and
    /// the owner exists. On: a token (made once, kept sealed), the proxy container (the stack
    /// rendered again with the token), then the wait until the proxy has registered. Off: the
    /// token revoked and forgotten, its file emptied (the container went with the compose file).
    /// Returns a few words for the progress view.
    pub(crate) async fn apply_reverse_proxy(&self, customer: &Customer, port: u16) -> Result<String, EngineError> {
        let scope = customer_scope(customer.id);
        let token_id = self.store.secret(self.vault, &scope, PROXY_TOKEN_ID)?;
        if !customer.reverse_proxy {
            let Some(id) = token_id else { return Ok("off".into()) };
            let (base, client, pat) = self.reverse_proxy_api(customer).await?;
            revoke_token(&client, &base, &pat, &id).await?;
            self.store.delete_secret(&scope, PROXY_TOKEN)?;
            self.store.delete_secret(&scope, PROXY_TOKEN_ID)?;
            self.store.set_services(customer.id, None)?;
            let (settings, files) = crate::engine::hosts::files::settings_for(self.store, customer)?;
            let off = RenderedFile {
                name: PROXY_ENV,
                content: "# NetBird Reverse Proxy is off for this customer; nbmsp revoked its token.\n".into(),
                secret: true,
            };
            files.write(&crate::engine::stack::render::instance_dir(&settings, customer), &[off]).await?;
            let edge = self.edge_words(customer).await;
            self.store.log_customer(
                self.actor,
                customer,
                "reverse-proxy",
                crate::domain::audit::AuditStatus::Success,
                "reverse proxy off: its token revoked",
            )?;
            return Ok(format!("off; its token revoked{edge}"));
        }
        let (base, client, pat) = self.reverse_proxy_api(customer).await?;
        let made = if token_id.is_none() {
            let created = create_token(&client, &base, &pat, &format!("nbmsp-{}", customer.subdomain)).await?;
            self.store.put_secret(self.vault, &scope, PROXY_TOKEN, &created.plain_token)?;
            self.store.put_secret(self.vault, &scope, PROXY_TOKEN_ID, &created.id)?;
            self.store.log_customer(
                self.actor,
                customer,
                "reverse-proxy",
                crate::domain::audit::AuditStatus::Success,
                "reverse proxy token created",
            )?;
            true
        } else {
            false
        };
        // The edge first: its address is the one the proxy trusts PROXY headers from.
        let edge = self.edge_words(customer).await;
        // With the token stored the stack renders with the proxy; applying it again creates only
        // what changed (the proxy container, on the first time).
        let stack = self.render(customer, port)?;
        let (_, files) = crate::engine::hosts::files::settings_for(self.store, customer)?;
        files.write(&stack.instance_dir, &stack.files).await?;
        let docker = self.engines.for_customer(customer).await?;
        crate::engine::stack::apply::apply(
            &docker,
            &stack.compose,
            &stack.project,
            customer.layout,
            &stack.instance_dir,
        )
        .await?;
        let domain = customer.fqdn(&self.store.settings()?.base_domain);
        let limit = Duration::from_secs(self.store.settings()?.health_timeout_s);
        let start = Instant::now();
        loop {
            let listed = clusters(&client, &base, &pat).await?;
            if listed.iter().any(|c| c.address == domain && c.online) {
                break;
            }
            if start.elapsed() > limit {
                return Err(EngineError::Unhealthy(format!(
                    "the reverse proxy did not register with its management within {} s (no online cluster {domain}); \
                     see `nbmsp customer logs {} --service proxy`",
                    limit.as_secs(),
                    customer.subdomain
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok(if made {
            format!("token made; registered as {domain}{edge}")
        } else {
            format!("registered as {domain}{edge}")
        })
    }

    /// The customer's host's edge brought up to date, in words for the step's line: a refused
    /// configuration or an edge that cannot start is said, not a failure of the customer's deploy
    /// (the proxy runs; the old edge keeps serving).
    async fn edge_words(&self, customer: &Customer) -> String {
        match self.apply_edge(customer.host_id).await {
            Ok(None) => String::new(),
            Ok(Some(r)) if r.result == "refused" => {
                format!("; edge: new configuration refused, the old one serves ({})", r.detail.unwrap_or_default())
            }
            Ok(Some(r)) => format!("; edge {} ({} route(s))", r.result, r.routes),
            Err(e) => format!("; edge not updated: {e}"),
        }
    }

    /// The customer's reverse proxy as its management reports it: registered (its cluster
    /// online), services published, and the enabled ones visitors do not get through.
    pub async fn reverse_proxy_seen(&self, customer: &Customer) -> Result<ReverseSeen, EngineError> {
        let (base, client, pat) = self.reverse_proxy_api(customer).await?;
        let domain = customer.fqdn(&self.store.settings()?.base_domain);
        let registered = clusters(&client, &base, &pat).await?.iter().any(|c| c.address == domain && c.online);
        let api = self.admin_api(customer, &client).await?;
        let services = api.services().await?;
        let troubled = services
            .iter()
            .filter(|s| s.enabled && SERVICE_TROUBLE.contains(&s.status.as_str()))
            .map(|s| (s.name.clone(), s.status.clone()))
            .collect();
        Ok(ReverseSeen { registered, services: u32::try_from(services.len()).unwrap_or(u32::MAX), troubled })
    }

    async fn reverse_proxy_api(&self, customer: &Customer) -> Result<(String, reqwest::Client, String), EngineError> {
        let settings = self.store.settings()?;
        let base = self.management_url(customer, &settings.docker_network).await?;
        let client = self.api_client(customer).await?;
        let pat = self.stored_pat(customer)?;
        Ok((base, client, pat))
    }
}
