//! Publishing a customer's domain through a reverse proxy: Nginx Proxy Manager ([`NpmProxy`])
//! or nothing (`proxy = none`, [`NoProxy`]: the operator routes the domain with the printed
//! nginx snippet).

use std::path::PathBuf;

use crate::domain::customer::Layout;
use crate::engine::EngineError;
use crate::engine::npm::client::{NewProxyHost, NpmClient, NpmError, ProxyHostUpdate};
use crate::engine::stack::render::{self, NginxKind};

/// What a proxy needs to route a customer's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    /// Customer id.
    pub customer_id: i64,
    /// `<subdomain>.<base_domain>`.
    pub domain: String,
    /// Layout (decides the routes).
    pub layout: Layout,
    /// Container name prefix.
    pub prefix: String,
    /// This installation's id (marks the proxy host as nbmsp's).
    pub installation: String,
}

/// What a proxy registered (stored with the deployment, so teardown can undo exactly it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyRecord {
    /// The proxy's id for the host.
    pub proxy_id: Option<i64>,
    /// Attached certificate.
    pub certificate_id: Option<i64>,
    /// nbmsp requested that certificate (and deletes it with the customer).
    pub certificate_owned: bool,
    /// Why the certificate is not (yet) in place; the domain then serves HTTP only.
    pub pending: Option<String>,
    /// One line for the progress view.
    pub detail: String,
}

/// A reverse proxy nbmsp registers customers' domains in.
pub trait Proxy {
    /// Makes the customer's domain reach its containers. Containers must exist first: nginx
    /// resolves upstream names when it tests the config.
    fn register(&self, req: &ProxyRequest) -> impl Future<Output = Result<ProxyRecord, EngineError>>;
    /// Removes what `register` created; unknown ids are fine.
    fn unregister(&self, record: &ProxyRecord) -> impl Future<Output = Result<(), EngineError>>;
    /// Tries again to get and attach a certificate for a registered host.
    fn retry_certificate(
        &self,
        req: &ProxyRequest,
        record: &ProxyRecord,
    ) -> impl Future<Output = Result<ProxyRecord, EngineError>>;
}

/// `proxy = none`: nothing to call.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProxy;

impl Proxy for NoProxy {
    async fn register(&self, req: &ProxyRequest) -> Result<ProxyRecord, EngineError> {
        Ok(ProxyRecord {
            detail: format!(
                "proxy = none: route {} with `nbmsp customer proxy-config {}`",
                req.domain, req.customer_id
            ),
            ..Default::default()
        })
    }

    async fn unregister(&self, _record: &ProxyRecord) -> Result<(), EngineError> {
        Ok(())
    }

    async fn retry_certificate(&self, _req: &ProxyRequest, _record: &ProxyRecord) -> Result<ProxyRecord, EngineError> {
        Err(EngineError::Proxy("proxy = none: certificates are managed in your own proxy".into()))
    }
}

/// Nginx Proxy Manager: one proxy host per customer, forwarding `/` to the dashboard and the
/// NetBird paths (in `advanced_config`) to the server containers.
#[derive(Debug)]
pub struct NpmProxy {
    /// The API client.
    pub client: NpmClient,
    /// A wildcard certificate to attach instead of requesting one per customer.
    pub certificate_id: Option<i64>,
    /// Template overrides.
    pub template_dir: Option<PathBuf>,
}

fn npm(e: NpmError) -> EngineError {
    EngineError::Proxy(e.to_string())
}

impl NpmProxy {
    /// Requests (or takes the configured) certificate and attaches it with HTTPS forced. A
    /// failure leaves the host on HTTP and says why in `pending`; it is not fatal.
    async fn attach_certificate(
        &self,
        domain: &str,
        host_id: i64,
        mut record: ProxyRecord,
    ) -> Result<ProxyRecord, EngineError> {
        let (cert, owned, requested_now) = match (self.certificate_id, record.certificate_id) {
            (Some(id), _) => (id, false, false),
            (None, Some(id)) if record.certificate_owned => (id, true, false),
            (None, _) => match self.client.request_certificate(domain).await {
                Ok(id) => (id, true, true),
                Err(e) => {
                    record.pending = Some(format!("certificate pending: {e}"));
                    return Ok(record);
                }
            },
        };
        record.certificate_id = Some(cert);
        record.certificate_owned = owned;
        let update = ProxyHostUpdate {
            certificate_id: Some(cert),
            ssl_forced: Some(true),
            hsts_enabled: Some(true),
            http2_support: Some(true),
            ..Default::default()
        };
        let host = match self.client.update_host(host_id, &update).await {
            Ok(h) => h,
            Err(e) => {
                // The certificate this call requested would be left behind, unrecorded.
                if requested_now && let Err(del) = self.client.delete_certificate(cert).await {
                    tracing::warn!("could not remove certificate #{cert} after a failed update: {del}");
                }
                return Err(npm(e));
            }
        };
        if host.nginx_online() == Some(false) {
            // Keep the domain reachable over HTTP rather than leave a broken config behind.
            let revert = ProxyHostUpdate {
                certificate_id: Some(0),
                ssl_forced: Some(false),
                hsts_enabled: Some(false),
                ..Default::default()
            };
            self.client.update_host(host_id, &revert).await.map_err(npm)?;
            record.pending = Some(format!(
                "certificate pending: nginx rejected the certificate: {}",
                host.nginx_err().unwrap_or_default().trim()
            ));
        } else {
            record.pending = None;
        }
        Ok(record)
    }

    /// Removes every host for `domain` forwarding to `dashboard`: what a create NPM answered
    /// with an error still stored (the client's retry after an ambiguous 500 can store two).
    async fn remove_half_created(&self, domain: &str, dashboard: &str) {
        let hosts = match self.client.hosts(Some(domain)).await {
            Ok(h) => h,
            Err(e) => return tracing::warn!("could not look for half-created proxy hosts of {domain}: {e}"),
        };
        let ours = hosts.into_iter().filter(|h| h.forward_host == dashboard && h.serves(domain));
        for h in ours {
            if let Err(e) = self.client.delete_host(h.id).await {
                tracing::warn!("could not remove the half-created proxy host #{}: {e}", h.id);
            }
        }
    }

    /// After the host exists: read nginx's verdict back, then attach a certificate. The caller
    /// removes a host it created when this fails.
    async fn finish_register(&self, req: &ProxyRequest, id: i64, adopted: bool) -> Result<ProxyRecord, EngineError> {
        // NPM answered before nginx tested the config; the truth is in the host's meta now.
        let host = self.client.host(id).await.map_err(npm)?;
        if host.nginx_online() != Some(true) {
            let err = host.nginx_err().unwrap_or_else(|| "nginx did not report the host online".into());
            return Err(EngineError::Proxy(format!(
                "nginx rejected the configuration for {}: {}",
                req.domain,
                err.trim()
            )));
        }
        let certificate_id = host.certificate();
        let base = ProxyRecord {
            proxy_id: Some(id),
            certificate_id,
            certificate_owned: false,
            pending: None,
            detail: String::new(),
        };
        let mut record = if certificate_id.is_some() && host.ssl_forced {
            base
        } else {
            self.attach_certificate(&req.domain, id, base).await?
        };
        record.detail = format!(
            "{} host #{id}{}",
            if adopted { "adopted" } else { "created" },
            record.pending.as_ref().map_or_else(|| ", HTTPS on".to_string(), |p| format!(", {p}"))
        );
        Ok(record)
    }
}

impl Proxy for NpmProxy {
    async fn register(&self, req: &ProxyRequest) -> Result<ProxyRecord, EngineError> {
        let advanced = render::render_nginx(
            NginxKind::Locations,
            &req.domain,
            &req.prefix,
            req.layout,
            self.template_dir.clone(),
        )?;
        let dashboard = render::container_name(&req.prefix, "dashboard");
        let find = async || -> Result<Option<crate::engine::npm::client::ProxyHost>, EngineError> {
            let hosts = self.client.hosts(Some(&req.domain)).await.map_err(npm)?;
            Ok(hosts.into_iter().find(|h| h.serves(&req.domain)))
        };
        let adopt_or_refuse = |h: &crate::engine::npm::client::ProxyHost| {
            if h.forward_host == dashboard {
                Ok(h.id)
            } else {
                Err(EngineError::Proxy(format!(
                    "{} is already served by Nginx Proxy Manager host #{} (forwarding to {}); remove that host or choose another subdomain",
                    req.domain, h.id, h.forward_host
                )))
            }
        };
        let update = ProxyHostUpdate {
            forward_host: Some(dashboard.clone()),
            forward_port: Some(80),
            http2_support: Some(true),
            advanced_config: Some(advanced.clone()),
            ..Default::default()
        };
        let (id, adopted) = match find().await? {
            Some(h) => {
                let id = adopt_or_refuse(&h)?;
                self.client.update_host(id, &update).await.map_err(npm)?;
                (id, true)
            }
            None => {
                let meta =
                    serde_json::json!({ "nbmsp_installation": req.installation, "nbmsp_customer": req.customer_id });
                let body = NewProxyHost::netbird(&req.domain, &dashboard, advanced, meta);
                match self.client.create_host(&body).await {
                    Ok(h) => (h.id, false),
                    // Created by someone else a moment ago: adopt it if it is ours to adopt.
                    // (Also what the client's retry of an ambiguous 500 meets: NPM kept the row.)
                    Err(e) if e.is_domain_in_use() => match find().await? {
                        Some(h) => {
                            let id = adopt_or_refuse(&h)?;
                            if let Err(e) = self.client.update_host(id, &update).await {
                                self.remove_half_created(&req.domain, &dashboard).await;
                                return Err(npm(e));
                            }
                            (id, true)
                        }
                        None => return Err(npm(e)),
                    },
                    // NPM stores the row before it configures nginx, and keeps it when that
                    // fails (a 500): remove what this request created, so nothing is left behind.
                    Err(e) => {
                        self.remove_half_created(&req.domain, &dashboard).await;
                        return Err(npm(e));
                    }
                }
            }
        };
        let result = self.finish_register(req, id, adopted).await;
        if result.is_err() && !adopted {
            // Nothing of a failed registration stays in NPM: the host this call created goes.
            if let Err(e) = self.client.delete_host(id).await {
                tracing::warn!("could not remove proxy host #{id} after a failed registration: {e}");
            }
        }
        result
    }

    async fn unregister(&self, record: &ProxyRecord) -> Result<(), EngineError> {
        if let Some(id) = record.proxy_id {
            self.client.delete_host(id).await.map_err(npm)?;
        }
        if let (Some(cert), true) = (record.certificate_id, record.certificate_owned) {
            self.client.delete_certificate(cert).await.map_err(npm)?;
        }
        Ok(())
    }

    async fn retry_certificate(&self, req: &ProxyRequest, record: &ProxyRecord) -> Result<ProxyRecord, EngineError> {
        let id = record
            .proxy_id
            .ok_or_else(|| EngineError::Proxy(format!("{} has no proxy host; redeploy it", req.domain)))?;
        let mut r = self.attach_certificate(&req.domain, id, record.clone()).await?;
        r.detail = r.pending.clone().unwrap_or_else(|| format!("certificate attached to host #{id}, HTTPS on"));
        Ok(r)
    }
}

/// Implements [`Proxy`] for an enum of two proxies: each call goes to the variant's own.
macro_rules! delegate_proxy {
    (impl[$($generics:tt)*] for $ty:ty { $a:ident, $b:ident }) => {
        impl<$($generics)*> Proxy for $ty {
            async fn register(&self, req: &ProxyRequest) -> Result<ProxyRecord, EngineError> {
                match self {
                    Self::$a(p) => p.register(req).await,
                    Self::$b(p) => p.register(req).await,
                }
            }

            async fn unregister(&self, record: &ProxyRecord) -> Result<(), EngineError> {
                match self {
                    Self::$a(p) => p.unregister(record).await,
                    Self::$b(p) => p.unregister(record).await,
                }
            }

            async fn retry_certificate(
                &self,
                req: &ProxyRequest,
                record: &ProxyRecord,
            ) -> Result<ProxyRecord, EngineError> {
                match self {
                    Self::$a(p) => p.retry_certificate(req, record).await,
                    Self::$b(p) => p.retry_certificate(req, record).await,
                }
            }
        }
    };
}

/// The proxy chosen by the `proxy` setting.
#[derive(Debug)]
pub enum AnyProxy {
    /// `proxy = none`.
    None(NoProxy),
    /// `proxy = npm`.
    Npm(Box<NpmProxy>),
}

delegate_proxy!(impl[] for AnyProxy { None, Npm });

impl AnyProxy {
    /// When each certificate the proxy holds expires (certificate id → Unix seconds); none
    /// without a proxy. NPM renews its certificates itself, so this is read, never stored.
    pub async fn certificate_expiries(&self) -> Result<std::collections::HashMap<i64, i64>, EngineError> {
        match self {
            AnyProxy::None(_) => Ok(Default::default()),
            AnyProxy::Npm(p) => Ok(p
                .client
                .certificate_expiries()
                .await
                .map_err(npm)?
                .into_iter()
                .filter_map(|(id, t)| Some((id, t?)))
                .collect()),
        }
    }
}

/// The proxy the `proxy` setting selects for customers on this machine's engine; NPM's password
/// comes from the vault. The error is a sentence saying which setting is missing.
pub fn from_settings(
    store: &crate::store::Store,
    vault: &crate::store::Vault,
    template_dir: Option<PathBuf>,
) -> Result<AnyProxy, EngineError> {
    use crate::domain::settings::ProxyKind;
    let settings = store.settings()?;
    match settings.proxy {
        ProxyKind::None => Ok(AnyProxy::None(NoProxy)),
        ProxyKind::Npm => {
            if settings.npm_url.is_empty() {
                return Err(missing("npm.url"));
            }
            if settings.npm_identity.is_empty() {
                return Err(missing("npm.identity"));
            }
            let secret = store
                .secret(vault, crate::store::vault::SCOPE_SETTINGS, "npm.secret")?
                .ok_or_else(|| missing("npm.secret"))?;
            let client = NpmClient::new(&settings.npm_url, &settings.npm_identity, &secret)
                .and_then(|c| c.with_timeout(std::time::Duration::from_secs(settings.npm_timeout_s)))
                .map_err(npm)?;
            Ok(AnyProxy::Npm(Box::new(NpmProxy { client, certificate_id: settings.npm_certificate_id, template_dir })))
        }
    }
}

fn missing(key: &str) -> EngineError {
    EngineError::Proxy(format!("proxy = npm but {key} is not set: `nbmsp settings set {key} ...`"))
}

/// The proxy for customers on a remote `host`: its own NPM, reached over `docker`'s connection
/// (the SSH tunnel), with the `npm.*` settings filling in the login it does not name.
pub async fn for_host(
    store: &crate::store::Store,
    vault: &crate::store::Vault,
    host: &crate::domain::host::Host,
    docker: &crate::engine::docker::DockerEngine,
    template_dir: Option<PathBuf>,
) -> Result<AnyProxy, EngineError> {
    use crate::domain::settings::ProxyKind;
    let settings = store.settings()?;
    if settings.proxy == ProxyKind::None {
        return Ok(AnyProxy::None(NoProxy));
    }
    let n = host_npm(host)?;
    let identity = n.identity.clone().unwrap_or(settings.npm_identity);
    if identity.is_empty() {
        return Err(missing("npm.identity"));
    }
    let secret = match store.secret(vault, &crate::store::vault::host_scope(host.id), "npm.secret")? {
        Some(s) => s,
        None => store
            .secret(vault, crate::store::vault::SCOPE_SETTINGS, "npm.secret")?
            .ok_or_else(|| missing("npm.secret"))?,
    };
    let timeout = std::time::Duration::from_secs(settings.npm_timeout_s);
    let client =
        NpmClient::new(&n.url, &identity, &secret).map_err(npm)?.over(docker.http_client(timeout).await?, timeout);
    Ok(AnyProxy::Npm(Box::new(NpmProxy { client, certificate_id: n.certificate_id, template_dir })))
}

/// A remote host's NPM, or why there is none to publish its customers with.
pub fn host_npm(host: &crate::domain::host::Host) -> Result<&crate::domain::host::HostNpm, EngineError> {
    host.npm.as_ref().ok_or_else(|| {
        EngineError::Proxy(format!(
            "host {0}: proxy = npm, but it has no NPM of its own (an NPM reaches only its own engine's \
             network): `nbmsp host npm {0} --npm http://127.0.0.1:81`, its API as that host sees it",
            host.name
        ))
    })
}

/// The proxy of one host: the installation's own (this machine's) or a remote host's NPM.
#[derive(Debug)]
pub enum HostProxy<'a, P> {
    /// This machine's engine: the proxy the operation was given.
    Here(&'a P),
    /// A remote host's.
    There(AnyProxy),
}

delegate_proxy!(impl['a, P: Proxy] for HostProxy<'a, P> { Here, There });
