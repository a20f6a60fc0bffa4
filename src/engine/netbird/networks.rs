//! A customer's networks (resources and routers) and DNS settings through its management API,
//! shaped as NetBird v0.77.1 answers them: lists that are `null` when empty, a resource list
//! without network ids (mapped through each network's `resources`), a host answered as
//! `IP/32`, and a bad address that NetBird answers only with "internal server error" — so
//! addresses are checked here first (`domain::networks::resource_kind`).

use serde::Deserialize;
use serde_json::json;

use super::admin::Api;
use super::manage::{group_ids, name_of, pick};
use crate::domain::netbird::{AdminAnswer, Peer};
use crate::domain::networks::{NbNetwork, NbResource, NbRouter, NetworkAction, RouterVia, resource_kind};
use crate::engine::EngineError;

#[derive(Deserialize)]
struct WireNetwork {
    id: String,
    name: String,
    description: Option<String>,
    routers: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    #[serde(default)]
    routing_peers_count: u32,
}

#[derive(Deserialize)]
struct WireGroupRef {
    name: String,
}

#[derive(Deserialize)]
struct WireResource {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    address: String,
    groups: Option<Vec<WireGroupRef>>,
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
struct WireRouter {
    id: String,
    peer: Option<String>,
    peer_groups: Option<Vec<String>>,
    #[serde(default)]
    masquerade: bool,
    #[serde(default)]
    metric: u32,
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
struct WireDnsSettings {
    disabled_management_groups: Option<Vec<String>>,
}

impl Api<'_> {
    /// Every network with its resources and routers (five reads, whatever their number).
    pub async fn networks(&self) -> Result<Vec<NbNetwork>, EngineError> {
        let nets: Vec<WireNetwork> = self.send("list networks", self.client.get(self.url("networks"))).await?;
        let resources: Option<Vec<WireResource>> =
            self.send("list network resources", self.client.get(self.url("networks/resources"))).await?;
        let routers: Option<Vec<WireRouter>> =
            self.send("list network routers", self.client.get(self.url("networks/routers"))).await?;
        let (groups, peers) = (self.groups().await?, self.peers().await?);
        let (resources, routers) = (resources.unwrap_or_default(), routers.unwrap_or_default());
        let peer_name = |id: &str| peers.iter().find(|p| p.id == id).map_or(id.to_string(), |p| p.name.clone());
        Ok(nets
            .into_iter()
            .map(|n| {
                let res_ids = n.resources.unwrap_or_default();
                let router_ids = n.routers.unwrap_or_default();
                NbNetwork {
                    resources: resources
                        .iter()
                        .filter(|r| res_ids.contains(&r.id))
                        .map(|r| NbResource {
                            id: r.id.clone(),
                            name: r.name.clone(),
                            kind: r.kind.clone(),
                            address: r.address.clone(),
                            groups: r.groups.iter().flatten().map(|g| g.name.clone()).collect(),
                            enabled: r.enabled,
                        })
                        .collect(),
                    routers: routers
                        .iter()
                        .filter(|r| router_ids.contains(&r.id))
                        .map(|r| NbRouter {
                            id: r.id.clone(),
                            peer: r.peer.as_deref().filter(|p| !p.is_empty()).map(peer_name).unwrap_or_default(),
                            peer_groups: r
                                .peer_groups
                                .iter()
                                .flatten()
                                .map(|g| name_of(&groups, g).to_string())
                                .collect(),
                            masquerade: r.masquerade,
                            metric: r.metric,
                            enabled: r.enabled,
                        })
                        .collect(),
                    id: n.id,
                    name: n.name,
                    description: n.description.unwrap_or_default(),
                    routing_peers: n.routing_peers_count,
                }
            })
            .collect())
    }

    /// Group ids whose DNS NetBird does not manage (`GET /api/dns/settings`).
    async fn dns_disabled(&self) -> Result<Vec<String>, EngineError> {
        let s: WireDnsSettings = self.send("read the DNS settings", self.client.get(self.url("dns/settings"))).await?;
        Ok(s.disabled_management_groups.unwrap_or_default())
    }
}

/// Does one [`NetworkAction`].
pub(super) async fn perform(api: &Api<'_>, action: &NetworkAction) -> Result<AdminAnswer, EngineError> {
    use NetworkAction::*;
    let find_net = |all: &[NbNetwork], n: &str| -> Result<NbNetwork, EngineError> {
        pick(all, n, "network", |x| &x.id, |x| vec![&x.name]).cloned()
    };
    Ok(match action {
        List => AdminAnswer::Networks(api.networks().await?),
        Routes => AdminAnswer::Routes(api.routes().await?),
        CreateRoute(new) => super::routes::create(api, new).await?,
        DeleteRoute { route } => super::routes::delete(api, route).await?,
        Create { name, description } => {
            if name.trim().is_empty() {
                // NetBird takes an empty name; nbmsp does not make one nobody can name later.
                return Err(EngineError::Usage("a network needs a name".into()));
            }
            let _: serde_json::Value = api
                .send(
                    "add the network",
                    api.client.post(api.url("networks")).json(&json!({"name": name, "description": description})),
                )
                .await?;
            AdminAnswer::Done(format!("network '{name}' added: give it a resource and a router"))
        }
        Delete { network } => {
            let net = find_net(&api.networks().await?, network)?;
            api.remove("delete the network", &format!("networks/{}", net.id)).await?;
            AdminAnswer::Done(format!(
                "network '{}' deleted with its {} resource(s) and {} router(s)",
                net.name,
                net.resources.len(),
                net.routers.len()
            ))
        }
        AddResource { network, name, address, groups } => {
            let kind = resource_kind(address).map_err(|e| EngineError::Usage(e.rule))?;
            if groups.is_empty() {
                return Err(EngineError::Usage(
                    "a resource needs a group: policies reach it through its groups".into(),
                ));
            }
            let net = find_net(&api.networks().await?, network)?;
            let ids = group_ids(&api.groups().await?, groups)?;
            let body = json!({"name": name, "description": "", "address": address, "groups": ids, "enabled": true});
            let made: WireResource = api
                .send(
                    "add the network resource",
                    api.client.post(api.url(&format!("networks/{}/resources", net.id))).json(&body),
                )
                .await?;
            AdminAnswer::Done(format!(
                "resource '{}' ({} {}) added to network '{}' in group(s) {}",
                made.name,
                kind.as_str(),
                made.address,
                net.name,
                groups.join(", ")
            ))
        }
        RemoveResource { network, resource } => {
            let net = find_net(&api.networks().await?, network)?;
            let r = pick(&net.resources, resource, "resource", |r| &r.id, |r| vec![&r.name])?;
            api.remove("remove the network resource", &format!("networks/{}/resources/{}", net.id, r.id)).await?;
            AdminAnswer::Done(format!("resource '{}' removed from network '{}'", r.name, net.name))
        }
        AddRouter { network, via, masquerade, metric } => {
            let net = find_net(&api.networks().await?, network)?;
            let (body, who) = match via {
                RouterVia::Peer(p) => {
                    let peers = api.peers().await?;
                    let peer: &Peer = pick(&peers, p, "device", |x| &x.id, |x| vec![&x.name, &x.ip])?;
                    (json!({"peer": peer.id}), format!("device '{}'", peer.name))
                }
                RouterVia::Groups(g) => {
                    let ids = group_ids(&api.groups().await?, g)?;
                    (json!({"peer_groups": ids}), format!("group(s) {}", g.join(", ")))
                }
            };
            let mut body = body;
            body["masquerade"] = json!(masquerade);
            body["metric"] = json!(metric);
            body["enabled"] = json!(true);
            let _: serde_json::Value = api
                .send(
                    "add the network router",
                    api.client.post(api.url(&format!("networks/{}/routers", net.id))).json(&body),
                )
                .await?;
            AdminAnswer::Done(format!("network '{}' now routed by {who} (metric {metric})", net.name))
        }
        RemoveRouter { network, router } => {
            let net = find_net(&api.networks().await?, network)?;
            let r = pick(&net.routers, router, "router", |r| &r.id, |r| vec![&r.peer])?;
            api.remove("remove the network router", &format!("networks/{}/routers/{}", net.id, r.id)).await?;
            let who = if r.peer.is_empty() { r.peer_groups.join(", ") } else { r.peer.clone() };
            AdminAnswer::Done(format!("router {} ({who}) removed from network '{}'", r.id, net.name))
        }
        DnsSettings => {
            let groups = api.groups().await?;
            AdminAnswer::DnsSettings(
                api.dns_disabled().await?.iter().map(|id| name_of(&groups, id).to_string()).collect(),
            )
        }
        DnsManagement { group, managed } => {
            let groups = api.groups().await?;
            let g = pick(&groups, group, "group", |g| &g.id, |g| vec![&g.name])?;
            let mut off = api.dns_disabled().await?;
            let was_managed = !off.contains(&g.id);
            if was_managed == *managed {
                let state = if *managed { "already manages" } else { "already does not manage" };
                return Ok(AdminAnswer::Done(format!("NetBird {state} the DNS of group '{}'", g.name)));
            }
            off.retain(|x| x != &g.id);
            if !managed {
                off.push(g.id.clone());
            }
            // A PUT replaces the whole list: it is sent back with only this group changed.
            let _: serde_json::Value = api
                .send(
                    "change the DNS settings",
                    api.client.put(api.url("dns/settings")).json(&json!({"disabled_management_groups": off})),
                )
                .await?;
            AdminAnswer::Done(if *managed {
                format!("NetBird manages the DNS of group '{}' again", g.name)
            } else {
                format!("NetBird no longer manages the DNS of group '{}'", g.name)
            })
        }
    })
}
