//! Running the edge (see `domain::edge`) on each Docker host: one nginx container per host,
//! its configuration made from the database on every change (customers with the reverse proxy
//! on, placed on that host and deployed), tested with `nginx -t` before the running edge gets it.
//! A refused configuration leaves the running one as it was and is reported with nginx's words.
//! The last attempt per host is kept in `meta` for `nbmsp edge status`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::edge::{Plan, Route, nginx_conf};
use crate::domain::settings::Settings;
use crate::engine::EngineError;
use crate::engine::docker::edge::{EdgeSpec, NginxTest};
use crate::engine::hosts::HostKey;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::Ops;
use crate::engine::stack::render::{LABEL_MANAGED, container_name, prefix};
use crate::store::Store;

/// Where Debian's and the official image's nginx keep the stream module.
pub const STREAM_MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";
/// The port the customers' proxies listen on (`NB_PROXY_ADDRESS`).
pub const PROXY_PORT: u16 = 8443;
/// Label marking the edge container (its value: the installation).
pub const LABEL_EDGE: &str = "nbmsp.edge";

/// The edge container's name on a host of this installation.
pub fn container(settings: &Settings) -> String {
    format!("nbmsp-{}edge", settings.name_prefix)
}

/// Whether the edge of `host` routes this customer: placed there, its reverse proxy on, and
/// deployed (the one rule the edge's configuration, its health, the monitor, reconcile and
/// doctor go by).
pub fn is_routed(row: &crate::store::customers::CustomerRow, host: HostKey) -> bool {
    row.customer.host_id == host && row.customer.reverse_proxy && row.udp_port.is_some()
}

/// The routes of the customers on `host` whose reverse proxy is on, deployed.
pub fn routes(store: &Store, settings: &Settings, host: HostKey) -> Result<Vec<Route>, EngineError> {
    routes_except(store, settings, host, None)
}

/// The routes of `host` without `except`'s (a customer on its way out).
fn routes_except(
    store: &Store,
    settings: &Settings,
    host: HostKey,
    except: Option<i64>,
) -> Result<Vec<Route>, EngineError> {
    let mut out = Vec::new();
    for row in store.customer_rows()? {
        let c = &row.customer;
        if !is_routed(&row, host) || Some(c.id) == except {
            continue;
        }
        out.push(Route {
            domain: c.fqdn(&settings.base_domain),
            upstream: format!("{}:{PROXY_PORT}", container_name(&prefix(settings, c), "proxy")),
        });
    }
    Ok(out)
}

/// The plan for `host`: `in_container` listens on the container's 443 (the published port is
/// `edge.listen`); otherwise on `edge.listen` itself (for an nginx of the operator's own).
pub fn plan(store: &Store, settings: &Settings, host: HostKey, in_container: bool) -> Result<Plan, EngineError> {
    plan_except(store, settings, host, in_container, None)
}

fn plan_except(
    store: &Store,
    settings: &Settings,
    host: HostKey,
    in_container: bool,
    except: Option<i64>,
) -> Result<Plan, EngineError> {
    let listen = match (in_container, &settings.edge.listen) {
        (true, _) => "0.0.0.0:443".to_string(),
        (false, Some(l)) => l.clone(),
        (false, None) => "443".to_string(),
    };
    Ok(Plan {
        listen,
        fallback: settings.edge.fallback.clone(),
        routes: routes_except(store, settings, host, except)?,
        internal_port: 10443,
        resolver: Some(settings.edge.resolver.clone()),
    })
}

/// The last attempt to give a host's edge its configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeRecord {
    /// When (RFC 3339).
    pub at: String,
    /// Customers routed.
    pub routes: usize,
    /// `started`, `reloaded`, `unchanged` or `refused`.
    pub result: String,
    /// nginx's words when refused.
    pub detail: Option<String>,
}

fn meta_key(host: HostKey) -> String {
    format!("edge.last.{}", host.map_or("local".to_string(), |id| id.to_string()))
}

fn address_key(host: HostKey) -> String {
    format!("edge.address.{}", host.map_or("local".to_string(), |id| id.to_string()))
}

/// The edge's address on `host`'s customer network as last seen (what the customers' proxies
/// trust PROXY headers from); empty when no edge ran there.
pub fn trusted(store: &Store, host: HostKey) -> Result<String, EngineError> {
    Ok(store.meta(&address_key(host))?.unwrap_or_default())
}

/// The last record of `host`'s edge, if any.
pub fn last(store: &Store, host: HostKey) -> Result<Option<EdgeRecord>, EngineError> {
    Ok(store.meta(&meta_key(host))?.and_then(|v| serde_json::from_str(&v).ok()))
}

/// How `host`'s edge is doing: one look at its container, its last reload and the routes the
/// database asks for. `Unknown` when the host does not answer.
pub async fn health(
    store: &Store,
    engines: &crate::engine::hosts::Engines,
    host: HostKey,
) -> Result<crate::domain::edge::EdgeHealth, EngineError> {
    use crate::domain::edge::EdgeHealth;
    let settings = store.settings()?;
    if settings.edge.listen.is_none() {
        return Ok(EdgeHealth::NotWanted);
    }
    let wanted = routes(store, &settings, host)?.len();
    health_given(store, engines, &settings, host, wanted).await
}

/// `health` with the routes wanted counted by the caller (the monitor has the rows already).
pub async fn health_given(
    store: &Store,
    engines: &crate::engine::hosts::Engines,
    settings: &Settings,
    host: HostKey,
    wanted: usize,
) -> Result<crate::domain::edge::EdgeHealth, EngineError> {
    use crate::domain::edge::{EdgeHealth, LastReload};
    let Ok(docker) = engines.of(host).await else { return Ok(EdgeHealth::Unknown) };
    let Ok(found) = docker.inspect(&container(settings), None).await else { return Ok(EdgeHealth::Unknown) };
    let running = found.is_some_and(|c| c.state == "running");
    let last = last(store, host)?;
    let reload = last.as_ref().map(|l| LastReload { result: &l.result, routes: l.routes, detail: l.detail.as_deref() });
    Ok(EdgeHealth::judge(running, reload, wanted))
}

/// Every host's status with its edge judged (the hosts view and `host list` show the same).
pub async fn statuses_with_edges(
    store: &Store,
    engines: &crate::engine::hosts::Engines,
) -> Result<Vec<crate::engine::hosts::HostStatus>, EngineError> {
    let list = crate::engine::hosts::statuses(store, engines).await?;
    let edges = futures_util::future::join_all(list.iter().map(|(key, s)| async move {
        if s.error.is_some() {
            Ok(crate::domain::edge::EdgeHealth::Unknown)
        } else {
            health(store, engines, *key).await
        }
    }))
    .await;
    list.into_iter()
        .zip(edges)
        .map(|((_, mut s), edge)| {
            s.edge = edge?;
            Ok(s)
        })
        .collect()
}

impl<P: Proxy> Ops<'_, P> {
    /// Brings `host`'s edge in line with the database. `Ok(None)` when no edge is wanted
    /// (`edge.listen` empty); a configuration nginx refuses is `Ok(Some(record))` with
    /// `result = "refused"`: the running edge keeps its old one.
    pub async fn apply_edge(&self, host: HostKey) -> Result<Option<EdgeRecord>, EngineError> {
        self.apply_edge_except(host, None).await
    }

    /// `apply_edge` without `except`'s routes: a customer being deleted leaves the edge before
    /// its containers go, so no visitor is sent to a proxy that is stopping.
    pub async fn apply_edge_except(
        &self,
        host: HostKey,
        except: Option<i64>,
    ) -> Result<Option<EdgeRecord>, EngineError> {
        let settings = self.store.settings()?;
        let Some(listen) = settings.edge.listen.clone() else { return Ok(None) };
        let (ip, port) = listen
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_start_matches('[').trim_end_matches(']').to_string(), p.parse().ok()?)))
            .ok_or_else(|| EngineError::Usage(format!("edge.listen {listen:?} is not host:port")))?;
        let plan = plan_except(self.store, &settings, host, true, except)?;
        let conf = nginx_conf(&plan, Some(STREAM_MODULE), "/tmp").map_err(|e| EngineError::Usage(e.to_string()))?;
        let docker = self.engines.of(host).await?;
        let image = &settings.edge.image;
        if !docker.has_image(image).await? {
            docker.pull(image, |_| {}).await?;
        }
        let name = container(&settings);
        let now = crate::store::fmt_time(crate::store::now());
        let record = |result: &str, detail: Option<String>| EdgeRecord {
            at: now.clone(),
            routes: plan.routes.len(),
            result: result.to_string(),
            detail,
        };
        let rec = match docker.edge_test(image, &conf).await? {
            NginxTest::Refused(said) => record("refused", Some(said)),
            NginxTest::Accepted => match docker.inspect(&name, None).await? {
                Some(c) if c.state == "running" => {
                    docker.edge_reload(&name, &conf).await?;
                    record("reloaded", None)
                }
                found => {
                    if found.is_some() {
                        docker.remove(&name).await?;
                    }
                    let labels = HashMap::from([
                        (LABEL_MANAGED.to_string(), "true".to_string()),
                        (LABEL_EDGE.to_string(), self.store.installation_id()?),
                    ]);
                    let spec =
                        EdgeSpec { name: &name, image, network: &settings.docker_network, listen: (&ip, port), labels };
                    docker.ensure_network(&settings.docker_network).await?;
                    docker.edge_start(&spec, &conf).await?;
                    record("started", None)
                }
            },
        };
        self.store.set_meta(&meta_key(host), &serde_json::to_string(&rec).unwrap_or_default())?;
        if let Some(ip) = docker.address_on(&name, &settings.docker_network).await? {
            self.store.set_meta(&address_key(host), &ip)?;
        }
        Ok(Some(rec))
    }
}
