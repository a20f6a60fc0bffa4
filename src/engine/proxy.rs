//! Publishing a customer's domain through a reverse proxy. Nginx Proxy Manager implements this
//! in its own module; `proxy = none` uses [`NoProxy`].

use std::collections::BTreeMap;

use super::EngineError;
use crate::domain::customer::Layout;

/// What a proxy needs to route a customer's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    /// Customer id.
    pub customer_id: i64,
    /// `<subdomain>.<base_domain>`.
    pub domain: String,
    /// Layout (decides the routes).
    pub layout: Layout,
    /// Container names by service.
    pub containers: BTreeMap<String, String>,
}

/// What a proxy registered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyRecord {
    /// The proxy's id for the host, when it has one.
    pub proxy_id: Option<i64>,
    /// One line for the progress view.
    pub detail: String,
}

/// A reverse proxy nbmsp registers customers' domains in.
pub trait Proxy {
    /// Makes the customer's domain reach its containers.
    fn register(&self, req: &ProxyRequest) -> impl Future<Output = Result<ProxyRecord, EngineError>>;
    /// Removes what `register` created; unknown ids are fine.
    fn unregister(&self, customer_id: i64, proxy_id: Option<i64>) -> impl Future<Output = Result<(), EngineError>>;
}

/// `proxy = none`: nothing to call; the operator's own proxy is configured from the printed snippet.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProxy;

impl Proxy for NoProxy {
    async fn register(&self, req: &ProxyRequest) -> Result<ProxyRecord, EngineError> {
        Ok(ProxyRecord { proxy_id: None, detail: format!("proxy = none: route {} in your own proxy", req.domain) })
    }

    async fn unregister(&self, _customer_id: i64, _proxy_id: Option<i64>) -> Result<(), EngineError> {
        Ok(())
    }
}
