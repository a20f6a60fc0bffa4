//! Legacy routes (`/api/routes`) through a customer's management API, as NetBird v0.77.1 answers
//! them (`routes_handler.go` `toRouteResponse`): ids where nbmsp shows names, a domain route's
//! network the placeholder 192.0.2.0/32, `peer` an empty string when groups route. A route is
//! added with only one of `peer`/`peer_groups` present — an empty `peer` would count as given.

use serde::Deserialize;
use serde_json::json;

use super::admin::Api;
use super::manage::{group_ids, name_of, pick};
use crate::domain::netbird::{AdminAnswer, Group, Peer};
use crate::domain::networks::RouterVia;
use crate::domain::routes::{NbRoute, NewRoute};
use crate::engine::EngineError;

#[derive(Deserialize)]
struct WireRoute {
    id: String,
    network_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    network: Option<String>,
    #[serde(default)]
    domains: Option<Vec<String>>,
    #[serde(default)]
    network_type: String,
    #[serde(default)]
    peer: Option<String>,
    #[serde(default)]
    peer_groups: Option<Vec<String>>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    masquerade: bool,
    #[serde(default)]
    metric: u32,
    #[serde(default)]
    enabled: bool,
}

fn names(groups: &[Group], ids: Option<Vec<String>>) -> Vec<String> {
    ids.unwrap_or_default().iter().map(|id| name_of(groups, id).to_string()).collect()
}

impl Api<'_> {
    /// Every legacy route, with group and device names.
    pub async fn routes(&self) -> Result<Vec<NbRoute>, EngineError> {
        let wire: Option<Vec<WireRoute>> = self.send("list routes", self.client.get(self.url("routes"))).await?;
        let (groups, peers) = (self.groups().await?, self.peers().await?);
        Ok(wire
            .unwrap_or_default()
            .into_iter()
            .map(|r| NbRoute {
                network: if r.network_type == "Domain" { String::new() } else { r.network.unwrap_or_default() },
                domains: r.domains.unwrap_or_default(),
                peer: r
                    .peer
                    .filter(|p| !p.is_empty())
                    .map(|id| peers.iter().find(|p| p.id == id).map_or(id, |p| p.name.clone()))
                    .unwrap_or_default(),
                peer_groups: names(&groups, r.peer_groups),
                groups: names(&groups, r.groups),
                id: r.id,
                network_id: r.network_id,
                description: r.description,
                masquerade: r.masquerade,
                metric: r.metric,
                enabled: r.enabled,
            })
            .collect())
    }
}

/// Adds a route: checked, names resolved (NetBird takes ids), sent enabled.
pub(super) async fn create(api: &Api<'_>, new: &NewRoute) -> Result<AdminAnswer, EngineError> {
    new.check().map_err(|e| EngineError::Usage(e.rule))?;
    let groups = api.groups().await?;
    let mut body = json!({
        "network_id": new.network_id, "description": new.description, "enabled": true,
        "masquerade": new.masquerade, "metric": new.metric, "groups": group_ids(&groups, &new.groups)?,
        "keep_route": false,
    });
    match &new.network {
        Some(n) => body["network"] = json!(n),
        None => body["domains"] = json!(new.domains),
    }
    let who = match &new.via {
        RouterVia::Peer(p) => {
            let peers = api.peers().await?;
            let peer: &Peer = pick(&peers, p, "device", |x| &x.id, |x| vec![&x.name, &x.ip])?;
            body["peer"] = json!(peer.id);
            format!("device '{}'", peer.name)
        }
        RouterVia::Groups(g) => {
            body["peer_groups"] = json!(group_ids(&groups, g)?);
            format!("group(s) {}", g.join(", "))
        }
    };
    let _: serde_json::Value = api.send("add the route", api.client.post(api.url("routes")).json(&body)).await?;
    let what = new.network.clone().unwrap_or_else(|| new.domains.join(", "));
    Ok(AdminAnswer::Done(format!(
        "route '{}' ({what}) added, routed by {who} for group(s) {}",
        new.network_id,
        new.groups.join(", ")
    )))
}

/// Deletes a route named by its id or network identifier (an identifier several routes share is
/// refused: name one by its id).
pub(super) async fn delete(api: &Api<'_>, route: &str) -> Result<AdminAnswer, EngineError> {
    let all = api.routes().await?;
    let r = pick(&all, route, "route", |r| &r.id, |r| vec![&r.network_id])?;
    api.remove("delete the route", &format!("routes/{}", r.id)).await?;
    Ok(AdminAnswer::Done(format!("route '{}' ({}) deleted", r.network_id, r.id)))
}
