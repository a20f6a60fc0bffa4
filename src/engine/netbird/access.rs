//! The account's access rules as NetBird's management API answers them (netbirdio/netbird
//! v0.77.1, handlers under `management/server/http/handlers/{policies,posture_checks,
//! dns,idp,events}`): policies, posture checks, nameserver groups, identity providers and the
//! audit events. Like every update upstream, a policy change sends the whole record back.

use serde::Deserialize;
use serde_json::json;

use super::admin::Api;
use crate::domain::netbird::{NbEvent, NbIdp, NbNameservers, NbPosture, NewIdp, NewNameservers, Policy, PolicyRule};
use crate::domain::policy::{NewPolicy, PolicyEdit};
use crate::domain::posture::{Action, NewPosture, Os};
use crate::engine::EngineError;

impl Api<'_> {
    /// NetBird's audit events, newest first as it lists them (`GET /api/events/audit`).
    pub async fn events(&self) -> Result<Vec<NbEvent>, EngineError> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default)]
            timestamp: Option<String>,
            #[serde(default)]
            activity: String,
            #[serde(default)]
            activity_code: String,
            #[serde(default)]
            initiator_id: String,
            #[serde(default)]
            initiator_name: String,
            #[serde(default)]
            initiator_email: String,
            #[serde(default)]
            target_id: String,
            #[serde(default)]
            meta: Option<std::collections::BTreeMap<String, String>>,
        }
        let wire: Vec<Wire> = self.send("list audit events", self.client.get(self.url("events/audit"))).await?;
        Ok(wire
            .into_iter()
            .map(|w| NbEvent {
                time: w
                    .timestamp
                    .as_deref()
                    .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()),
                activity: w.activity,
                code: w.activity_code,
                initiator: [w.initiator_email, w.initiator_name, w.initiator_id]
                    .into_iter()
                    .find(|s| !s.is_empty())
                    .unwrap_or_default(),
                target: w.target_id,
                meta: w.meta.unwrap_or_default(),
            })
            .collect())
    }

    /// The embedded IdP's identity providers (`GET /api/identity-providers`).
    pub async fn idps(&self) -> Result<Vec<NbIdp>, EngineError> {
        let wire: Vec<WireIdp> =
            self.send("list identity providers", self.client.get(self.url("identity-providers"))).await?;
        Ok(wire.into_iter().map(NbIdp::from).collect())
    }

    /// Adds an identity provider; its secret is in the request only (NetBird never answers it).
    pub async fn create_idp(&self, new: &NewIdp) -> Result<NbIdp, EngineError> {
        let body = json!({
            "type": new.kind, "name": new.name, "issuer": new.issuer,
            "client_id": new.client_id, "client_secret": new.secret.0,
        });
        let made: WireIdp = self
            .send("add the identity provider", self.client.post(self.url("identity-providers")).json(&body))
            .await?;
        Ok(made.into())
    }

    /// Removes an identity provider.
    pub async fn delete_idp(&self, id: &str) -> Result<(), EngineError> {
        self.remove("delete the identity provider", &format!("identity-providers/{id}")).await
    }

    /// Posture checks (`GET /api/posture-checks`).
    pub async fn postures(&self) -> Result<Vec<NbPosture>, EngineError> {
        let wire: Vec<serde_json::Value> =
            self.send("list posture checks", self.client.get(self.url("posture-checks"))).await?;
        Ok(wire.iter().map(posture_of).collect())
    }

    /// Adds a posture check; what [`NewPosture::check`] refuses is not sent.
    pub async fn create_posture(&self, p: &NewPosture) -> Result<NbPosture, EngineError> {
        p.check().map_err(|e| EngineError::Usage(e.rule))?;
        let made: serde_json::Value = self
            .send("add the posture check", self.client.post(self.url("posture-checks")).json(&posture_body(p)))
            .await?;
        Ok(posture_of(&made))
    }

    /// Replaces what a posture check checks (`PUT` takes the whole record).
    pub async fn update_posture(&self, id: &str, p: &NewPosture) -> Result<NbPosture, EngineError> {
        p.check().map_err(|e| EngineError::Usage(e.rule))?;
        let url = self.url(&format!("posture-checks/{id}"));
        let saved: serde_json::Value =
            self.send("change the posture check", self.client.put(&url).json(&posture_body(p))).await?;
        Ok(posture_of(&saved))
    }

    /// Deletes a posture check.
    pub async fn delete_posture(&self, id: &str) -> Result<(), EngineError> {
        self.remove("delete the posture check", &format!("posture-checks/{id}")).await
    }

    /// Adds a posture check to a policy's `source_posture_checks`, or takes it off: the policy
    /// goes back whole (the PUT replaces every field) with only that list changed.
    pub async fn set_policy_posture(&self, policy_id: &str, posture_id: &str, attach: bool) -> Result<(), EngineError> {
        let url = self.url(&format!("policies/{policy_id}"));
        let current: serde_json::Value = self.send("read the policy", self.client.get(&url)).await?;
        let enabled = current.get("enabled").and_then(serde_json::Value::as_bool).unwrap_or(false);
        let mut body = policy_update(&current, enabled);
        let mut ids: Vec<String> = body
            .get("source_posture_checks")
            .and_then(serde_json::Value::as_array)
            .map_or_else(Vec::new, |a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect());
        ids.retain(|x| x != posture_id);
        if attach {
            ids.push(posture_id.to_string());
        }
        body["source_posture_checks"] = json!(ids);
        let _: serde_json::Value = self.send("change the policy", self.client.put(&url).json(&body)).await?;
        Ok(())
    }

    /// DNS nameserver groups (`GET /api/dns/nameservers`).
    pub async fn nameservers(&self) -> Result<Vec<NbNameservers>, EngineError> {
        let wire: Vec<serde_json::Value> =
            self.send("list nameserver groups", self.client.get(self.url("dns/nameservers"))).await?;
        Ok(wire.iter().map(nameservers_of).collect())
    }

    /// Adds a nameserver group, `group_ids` already resolved; enabled at once.
    pub async fn create_nameservers(
        &self,
        new: &NewNameservers,
        group_ids: &[String],
    ) -> Result<NbNameservers, EngineError> {
        let servers: Vec<serde_json::Value> =
            new.servers.iter().map(|(ip, port)| json!({"ip": ip, "ns_type": "udp", "port": port})).collect();
        let body = json!({
            "name": new.name, "description": new.description, "nameservers": servers, "groups": group_ids,
            "primary": new.domains.is_empty(), "domains": new.domains, "enabled": true,
            "search_domains_enabled": new.search_domains,
        });
        let made: serde_json::Value =
            self.send("add the nameserver group", self.client.post(self.url("dns/nameservers")).json(&body)).await?;
        Ok(nameservers_of(&made))
    }

    /// Deletes a nameserver group.
    pub async fn delete_nameservers(&self, id: &str) -> Result<(), EngineError> {
        self.remove("delete the nameserver group", &format!("dns/nameservers/{id}")).await
    }

    /// Every access-control policy (`GET /api/policies`).
    pub async fn policies(&self) -> Result<Vec<Policy>, EngineError> {
        let wire: Vec<serde_json::Value> = self.send("list policies", self.client.get(self.url("policies"))).await?;
        Ok(wire.iter().map(policy_of).collect())
    }

    /// Turns a policy on or off. `PUT /api/policies/{id}` replaces the whole record and takes
    /// groups by id where the answer lists group objects, so the policy is read and sent back
    /// in the request's shape with only `enabled` changed (`policies_handler.go` `savePolicy`).
    pub async fn set_policy_enabled(&self, id: &str, enabled: bool) -> Result<Policy, EngineError> {
        let url = self.url(&format!("policies/{id}"));
        let current: serde_json::Value = self.send("read the policy", self.client.get(&url)).await?;
        let body = policy_update(&current, enabled);
        let saved: serde_json::Value = self.send("change the policy", self.client.put(&url).json(&body)).await?;
        Ok(policy_of(&saved))
    }

    /// Adds a one-rule policy. `sources` and `destinations` are NetBird group ids: NetBird drops
    /// ids it does not know without a word, so names are resolved (and refused) before this.
    pub async fn create_policy(
        &self,
        p: &NewPolicy,
        sources: &[String],
        destinations: &[String],
        posture: &[String],
    ) -> Result<Policy, EngineError> {
        p.check().map_err(|e| EngineError::Usage(e.rule))?;
        let body = json!({
            "name": p.name, "description": p.description, "enabled": p.enabled,
            "rules": [{
                "name": p.name, "description": "", "enabled": true, "action": p.action,
                "bidirectional": p.bidirectional, "protocol": p.protocol, "ports": p.ports,
                "sources": sources, "destinations": destinations,
            }],
            "source_posture_checks": posture,
        });
        let made: serde_json::Value =
            self.send("add the policy", self.client.post(self.url("policies")).json(&body)).await?;
        Ok(policy_of(&made))
    }

    /// Changes a policy: read, changed where `edit` says, sent back whole (`PUT` replaces the
    /// record). Groups in `sources`/`destinations` are ids. A rule is changed only in a policy
    /// of one rule: which of several was meant cannot be said from here.
    pub async fn edit_policy(
        &self,
        id: &str,
        edit: &PolicyEdit,
        sources: Option<Vec<String>>,
        destinations: Option<Vec<String>>,
        posture: Option<Vec<String>>,
    ) -> Result<Policy, EngineError> {
        edit.check().map_err(|e| EngineError::Usage(e.rule))?;
        let url = self.url(&format!("policies/{id}"));
        let current: serde_json::Value = self.send("read the policy", self.client.get(&url)).await?;
        let enabled = current.get("enabled").and_then(serde_json::Value::as_bool).unwrap_or(false);
        let mut body = policy_update(&current, enabled);
        if let Some(name) = &edit.name {
            body["name"] = json!(name);
        }
        if let Some(on) = edit.enabled {
            body["enabled"] = json!(on);
        }
        if let Some(ids) = posture {
            body["source_posture_checks"] = json!(ids);
        }
        if edit.touches_rule() {
            let rules = body["rules"].as_array_mut().map_or(0, |r| r.len());
            if rules != 1 {
                return Err(EngineError::Usage(format!(
                    "this policy has {rules} rules: change them in NetBird's dashboard (nbmsp changes one-rule policies)"
                )));
            }
            let rule = &mut body["rules"][0];
            let mut set = |k: &str, v: serde_json::Value| rule[k] = v;
            if let Some(g) = sources {
                set("sources", json!(g));
            }
            if let Some(g) = destinations {
                set("destinations", json!(g));
            }
            if let Some(p) = &edit.protocol {
                set("protocol", json!(p));
            }
            if let Some(p) = &edit.ports {
                set("ports", json!(p));
            }
            if let Some(b) = edit.bidirectional {
                set("bidirectional", json!(b));
            }
            if let Some(a) = &edit.action {
                set("action", json!(a));
            }
        }
        let saved: serde_json::Value = self.send("change the policy", self.client.put(&url).json(&body)).await?;
        Ok(policy_of(&saved))
    }

    /// Deletes a policy.
    pub async fn delete_policy(&self, id: &str) -> Result<(), EngineError> {
        self.remove("delete the policy", &format!("policies/{id}")).await
    }
}

/// `api.PostureCheckUpdate` (`shared/management/http/api/openapi.yml`, `PostureCheck`): the
/// kinds as NetBird keys them; a kind left out is none.
fn posture_body(p: &NewPosture) -> serde_json::Value {
    let mut checks = serde_json::Map::new();
    if let Some(v) = &p.min_version {
        checks.insert("nb_version_check".into(), json!({"min_version": v}));
    }
    if !p.os.is_empty() {
        let os: serde_json::Map<String, serde_json::Value> =
            p.os.iter().map(|(os, v)| (os.key().to_string(), json!({ os.field(): v }))).collect();
        checks.insert("os_version_check".into(), serde_json::Value::Object(os));
    }
    if let Some((action, ranges)) = &p.ranges {
        checks.insert("peer_network_range_check".into(), json!({"action": action.word(), "ranges": ranges}));
    }
    if let Some((action, codes)) = &p.countries {
        let locations: Vec<serde_json::Value> = codes.iter().map(|c| json!({"country_code": c})).collect();
        checks.insert("geo_location_check".into(), json!({"action": action.word(), "locations": locations}));
    }
    json!({"name": p.name, "description": p.description, "checks": checks})
}

/// `api.PostureCheck`, read into the kinds nbmsp knows ([`NewPosture::summary`] words them); a
/// process check is only named.
fn posture_of(v: &serde_json::Value) -> NbPosture {
    let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).unwrap_or("").to_string();
    let at = |p: &str| v.pointer(p).and_then(serde_json::Value::as_str).map(String::from);
    let os = [Os::Android, Os::Darwin, Os::Ios, Os::Linux, Os::Windows]
        .into_iter()
        .filter_map(|os| at(&format!("/checks/os_version_check/{}/{}", os.key(), os.field())).map(|m| (os, m)))
        .collect();
    let listed = |p: &str, key: &str, item: &dyn Fn(&serde_json::Value) -> Option<String>| {
        let c = v.pointer(p).filter(|c| !c.is_null())?;
        let action = match c.get("action").and_then(serde_json::Value::as_str) {
            Some("deny") => Action::Deny,
            _ => Action::Allow,
        };
        let all: Vec<String> = c
            .get(key)
            .and_then(serde_json::Value::as_array)
            .map(|a| a.iter().filter_map(item).collect())
            .unwrap_or_default();
        Some((action, all))
    };
    let country = |x: &serde_json::Value| {
        let code = x.get("country_code")?.as_str()?;
        Some(match x.get("city_name").and_then(serde_json::Value::as_str) {
            Some(city) => format!("{code}/{city}"),
            None => code.to_string(),
        })
    };
    let p = NewPosture {
        name: text("name"),
        description: text("description"),
        min_version: at("/checks/nb_version_check/min_version"),
        os,
        ranges: listed("/checks/peer_network_range_check", "ranges", &|x| x.as_str().map(String::from)),
        countries: listed("/checks/geo_location_check", "locations", &country),
    };
    let mut checks = p.summary();
    if v.pointer("/checks/process_check").is_some_and(|c| !c.is_null()) {
        checks.push("processes".into());
    }
    NbPosture { id: text("id"), name: p.name, description: p.description, min_version: p.min_version, checks }
}

/// `api.NameserverGroup`.
fn nameservers_of(v: &serde_json::Value) -> NbNameservers {
    let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).unwrap_or("").to_string();
    let strings = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(serde_json::Value::as_array)
            .map_or_else(Vec::new, |a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
    };
    let servers = v.get("nameservers").and_then(serde_json::Value::as_array).map_or_else(Vec::new, |a| {
        a.iter()
            .map(|s| {
                let ip = s.get("ip").and_then(serde_json::Value::as_str).unwrap_or("");
                let port = s.get("port").and_then(serde_json::Value::as_u64).unwrap_or(53);
                crate::domain::netbird::resolver_text(ip, u16::try_from(port).unwrap_or(53))
            })
            .collect()
    });
    NbNameservers {
        id: text("id"),
        name: text("name"),
        description: text("description"),
        servers,
        groups: strings("groups"),
        primary: v.get("primary").and_then(serde_json::Value::as_bool).unwrap_or(false),
        domains: strings("domains"),
        enabled: v.get("enabled").and_then(serde_json::Value::as_bool).unwrap_or(false),
    }
}

/// `api.IdentityProvider` (`idp_handler.go` `toAPIResponse`: no secret in it).
#[derive(Deserialize)]
struct WireIdp {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
}

impl From<WireIdp> for NbIdp {
    fn from(w: WireIdp) -> Self {
        NbIdp { id: w.id.unwrap_or_default(), kind: w.kind, name: w.name, issuer: w.issuer, client_id: w.client_id }
    }
}

/// A policy as [`Policy`], from `api.Policy` (groups are objects with names; `null` lists are none).
fn policy_of(v: &serde_json::Value) -> Policy {
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_str).unwrap_or("").to_string();
    let flag = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_bool).unwrap_or(false);
    let names = |v: &serde_json::Value, k: &str| -> Vec<String> {
        v.get(k)
            .and_then(serde_json::Value::as_array)
            .map_or_else(Vec::new, |a| a.iter().map(|g| text(g, "name")).collect())
    };
    let rules: Vec<PolicyRule> = v.get("rules").and_then(serde_json::Value::as_array).map_or_else(Vec::new, |rs| {
        rs.iter()
            .map(|r| PolicyRule {
                name: text(r, "name"),
                enabled: flag(r, "enabled"),
                action: text(r, "action"),
                protocol: text(r, "protocol"),
                bidirectional: flag(r, "bidirectional"),
                ports: r
                    .get("ports")
                    .and_then(serde_json::Value::as_array)
                    .map_or_else(Vec::new, |a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect()),
                sources: names(r, "sources"),
                destinations: names(r, "destinations"),
            })
            .collect()
    });
    let enabled = flag(v, "enabled");
    Policy {
        id: text(v, "id"),
        name: text(v, "name"),
        description: text(v, "description"),
        enabled,
        all_to_all: enabled && rules.iter().any(PolicyRule::is_all_to_all),
        rules,
        posture_checks: v
            .get("source_posture_checks")
            .and_then(serde_json::Value::as_array)
            .map_or_else(Vec::new, |a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()),
    }
}

/// The `PUT /api/policies/{id}` body that keeps `policy` as it is but for `enabled`: every
/// field sent back (left out, `enabled` would be false and posture checks none), group objects
/// turned into ids, a rule with no groups left sent with an empty list (left out, upstream
/// refuses the rule), and what nbmsp does not know (resources, port ranges, SSH groups) as NetBird
/// wrote it.
pub(crate) fn policy_update(policy: &serde_json::Value, enabled: bool) -> serde_json::Value {
    let ids = |list: Option<&serde_json::Value>| -> serde_json::Value {
        let ids: Vec<serde_json::Value> = list
            .and_then(serde_json::Value::as_array)
            .map_or_else(Vec::new, |a| a.iter().filter_map(|g| g.get("id").cloned()).collect());
        serde_json::Value::Array(ids)
    };
    let rules: Vec<serde_json::Value> =
        policy.get("rules").and_then(serde_json::Value::as_array).map_or_else(Vec::new, |rs| {
            rs.iter()
                .map(|r| {
                    let mut rule = r.clone();
                    // A side given as a resource keeps it and sends no groups (not both).
                    for (groups, resource) in [("sources", "sourceResource"), ("destinations", "destinationResource")] {
                        if r.get(resource).is_some_and(|x| !x.is_null()) {
                            rule.as_object_mut().map(|o| o.remove(groups));
                        } else {
                            rule[groups] = ids(r.get(groups));
                        }
                    }
                    rule
                })
                .collect()
        });
    let mut body = json!({
        "name": policy.get("name").cloned().unwrap_or_default(),
        "description": policy.get("description").cloned().unwrap_or_default(),
        "enabled": enabled,
        "rules": rules,
    });
    if let Some(checks) = policy.get("source_posture_checks").filter(|c| !c.is_null()) {
        body["source_posture_checks"] = checks.clone();
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Default policy as `toPolicyResponse` writes it (a rule whose groups were deleted has
    /// `null` sources), with a resource on one side and posture checks.
    fn default_policy() -> serde_json::Value {
        json!({
            "id": "p1", "name": "Default", "description": "This is a default rule", "enabled": true,
            "source_posture_checks": ["pc1"],
            "rules": [
                {"id": "p1", "name": "Default", "description": "d", "enabled": true, "action": "accept",
                 "bidirectional": true, "protocol": "all",
                 "sources": [{"id": "g-all", "name": "All", "peers_count": 3, "resources_count": 0}],
                 "destinations": [{"id": "g-all", "name": "All", "peers_count": 3, "resources_count": 0}]},
                {"id": "r2", "name": "web", "enabled": true, "action": "accept", "bidirectional": false,
                 "protocol": "tcp", "ports": ["443"], "sources": null,
                 "destinationResource": {"id": "res1", "type": "host"}}
            ]
        })
    }

    #[test]
    fn a_policy_goes_back_whole_with_group_ids_and_only_enabled_changed() {
        let body = policy_update(&default_policy(), false);
        assert_eq!(body["enabled"], false);
        assert_eq!(body["name"], "Default");
        assert_eq!(body["source_posture_checks"], json!(["pc1"]), "left out, they would be cleared");
        assert_eq!(body["rules"][0]["sources"], json!(["g-all"]));
        assert_eq!(body["rules"][0]["destinations"], json!(["g-all"]));
        assert_eq!(body["rules"][0]["id"], "p1", "the rule keeps its id");
        assert_eq!(body["rules"][1]["sources"], json!([]), "no group left: an empty list, not none");
        assert!(body["rules"][1].get("destinations").is_none(), "a resource side sends no groups");
        assert_eq!(body["rules"][1]["destinationResource"]["id"], "res1");
        assert_eq!(body["rules"][1]["ports"], json!(["443"]));
    }

    #[test]
    fn all_to_all_is_an_enabled_accept_of_every_protocol_from_all_to_all() {
        let p = policy_of(&default_policy());
        assert!(p.all_to_all);
        assert_eq!(p.rules[0].sources, ["All"]);
        assert!(p.rules[1].sources.is_empty());
        let mut off = default_policy();
        off["enabled"] = json!(false);
        assert!(!policy_of(&off).all_to_all, "a disabled policy lets nothing through");
        let mut tcp = default_policy();
        tcp["rules"][0]["protocol"] = json!("tcp");
        assert!(!policy_of(&tcp).all_to_all);
    }
}
