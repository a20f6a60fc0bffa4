//! The customer's proxy host as operations see it: what is asked of the proxy, what it
//! registered (as stored), and getting a pending certificate again.

use crate::domain::audit::AuditStatus;
use crate::domain::customer::{Customer, CustomerStatus};
use crate::domain::rights::Right;
use crate::engine::EngineError;
use crate::engine::hosts::HostKey;
use crate::engine::npm::proxy::{HostProxy, Proxy, ProxyRecord, ProxyRequest};
use crate::engine::ops::lifecycle::Ops;
use crate::engine::stack::render;

impl<P: Proxy> Ops<'_, P> {
    /// Tries again to get the customer's certificate.
    pub async fn retry_certificate(&self, customer_id: i64) -> Result<ProxyRecord, EngineError> {
        self.locked(customer_id, Right::RetryCert, self.retry_certificate_unlocked(customer_id)).await
    }

    /// The proxy that publishes customers on `host`: the one this operation was given for this
    /// machine's engine, a remote host's own NPM otherwise.
    pub(crate) async fn proxy_on(&self, host: HostKey) -> Result<HostProxy<'_, P>, EngineError> {
        let Some(h) = self.engines.host(host) else { return Ok(HostProxy::Here(self.proxy)) };
        let docker = self.engines.of(host).await?;
        let proxy = crate::engine::npm::proxy::for_host(self.store, self.vault, h, &docker, self.template_dir.clone());
        Ok(HostProxy::There(proxy.await?))
    }

    /// Removes what `record` registered in `host`'s proxy; nothing to ask when it holds nothing.
    pub(crate) async fn unregister_on(&self, host: HostKey, record: &ProxyRecord) -> Result<(), EngineError> {
        if record.proxy_id.is_none() && !(record.certificate_owned && record.certificate_id.is_some()) {
            return Ok(());
        }
        self.proxy_on(host).await?.unregister(record).await
    }

    /// Whether customers can be published on `host` (checked before a deploy or move starts):
    /// with `proxy = npm` a remote host needs its own NPM, since an NPM reaches only its own
    /// engine's Docker network.
    pub(crate) fn proxy_allowed_on(&self, host: HostKey) -> Result<(), EngineError> {
        if let Some(h) = self.engines.host(host)
            && self.store.settings()?.proxy == crate::domain::settings::ProxyKind::Npm
        {
            crate::engine::npm::proxy::host_npm(h)?;
        }
        Ok(())
    }

    /// What the proxy is asked to publish for the customer.
    pub(crate) fn proxy_request(
        &self,
        customer: &Customer,
        settings: &crate::domain::settings::Settings,
    ) -> Result<ProxyRequest, EngineError> {
        Ok(ProxyRequest {
            customer_id: customer.id,
            domain: customer.fqdn(&settings.base_domain),
            layout: customer.layout,
            prefix: render::prefix(settings, customer),
            installation: self.store.installation_id()?,
        })
    }

    /// What the proxy registered for the customer, as stored.
    pub(crate) fn proxy_record(&self, customer_id: i64) -> ProxyRecord {
        self.store
            .deployment(customer_id)
            .ok()
            .flatten()
            .map(|d| ProxyRecord {
                proxy_id: d.npm_proxy_id,
                certificate_id: d.npm_certificate_id,
                certificate_owned: d.npm_certificate_owned,
                pending: d.proxy_pending,
                detail: String::new(),
            })
            .unwrap_or_default()
    }

    /// Tries again to get the customer's certificate (after DNS was fixed, a rate limit passed).
    async fn retry_certificate_unlocked(&self, customer_id: i64) -> Result<ProxyRecord, EngineError> {
        let customer = self.store.customer(customer_id)?;
        self.require_deployed(&customer)?;
        let settings = self.store.settings()?;
        let req = self.proxy_request(&customer, &settings)?;
        let record =
            self.proxy_on(customer.host_id).await?.retry_certificate(&req, &self.proxy_record(customer_id)).await?;
        self.store.set_proxy_state(
            customer_id,
            record.proxy_id,
            record.certificate_id,
            record.certificate_owned,
            record.pending.as_deref(),
        )?;
        let status = if record.pending.is_some() { AuditStatus::Error } else { AuditStatus::Success };
        self.store.log_customer(self.actor, &customer, "retry-cert", status, &record.detail)?;
        if record.pending.is_none() && customer.status == CustomerStatus::Active {
            self.store.set_customer_status(customer_id, CustomerStatus::Active, None)?;
        }
        Ok(record)
    }
}
