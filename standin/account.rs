//! One NetBird account as the stand-in keeps it: peers, setup keys, users and groups, with the
//! JSON shapes upstream's handlers write (netbirdio/netbird v0.77.1,
//! `shared/management/http/api/types.gen.go`: `PeerBatch`, `SetupKey`, `User`, `Group`) and
//! the quirks of Go's encoder kept (a group without peers lists `"peers": null`; an unset
//! time is `0001-01-01T00:00:00Z`).
//!
//! Each record is one line `kind\t{json}` in the instance's store file, so it survives restarts
//! and follows the volume like upstream's sqlite store.

use crate::json::Json;

/// Go's zero `time.Time`, as `encoding/json` writes it.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A device (`management/server/peer/peer.go`).
pub struct Peer {
    pub id: String,
    pub name: String,
    pub ip: String,
    pub connected: bool,
    pub last_seen: u64,
    pub os: String,
    pub version: String,
    pub hostname: String,
    /// The user who added it with SSO; empty for a peer added with a setup key.
    pub user_id: String,
    pub ssh_enabled: bool,
    pub login_expiration_enabled: bool,
    pub inactivity_expiration_enabled: bool,
    pub approval_required: bool,
    pub created: u64,
}

/// `management/server/types/setupkey.go`: the plain key is never stored, only its first five
/// characters followed by four stars.
pub struct SetupKey {
    pub id: String,
    pub hidden: String,
    pub name: String,
    pub kind: String,
    pub created: u64,
    /// 0: never expires.
    pub expires: u64,
    pub updated: u64,
    pub revoked: bool,
    pub used_times: i64,
    pub last_used: u64,
    pub auto_groups: Vec<String>,
    pub usage_limit: i64,
    pub ephemeral: bool,
    pub allow_extra_dns_labels: bool,
}

/// `management/server/types/user.go`.
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub service: bool,
    pub blocked: bool,
    pub auto_groups: Vec<String>,
    pub last_login: u64,
    pub created: u64,
}

/// `management/server/types/group.go`.
pub struct Group {
    pub id: String,
    pub name: String,
    pub peers: Vec<String>,
    /// Network resources in the group, `id:type` (`group.Resources`: a resource's membership
    /// lives only here, so a PUT without them takes the group off every resource).
    pub resources: Vec<String>,
}

/// `shared/management/types/policy.go`: a policy and its rules (groups by id).
pub struct Policy {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub rules: Vec<Rule>,
    /// `None`: Go's nil slice (answered `null`).
    pub posture: Option<Vec<String>>,
}

/// One rule of a [`Policy`].
pub struct Rule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub action: String,
    pub bidirectional: bool,
    pub protocol: String,
    pub ports: Vec<String>,
    pub sources: Vec<String>,
    pub destinations: Vec<String>,
}

/// Everything one account holds besides its access tokens.
#[derive(Default)]
pub struct Account {
    pub peers: Vec<Peer>,
    pub keys: Vec<SetupKey>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub policies: Vec<Policy>,
    /// Audit events, oldest first (`events.rs`).
    pub events: Vec<crate::events::Event>,
    /// The embedded IdP's connectors (`idps.rs`).
    pub idps: Vec<crate::idps::Idp>,
    /// DNS nameserver groups (`nameservers.rs`).
    pub nameservers: Vec<crate::nameservers::NsGroup>,
    /// Posture checks (`posture.rs`).
    pub postures: Vec<crate::posture::Posture>,
    /// Legacy network routes (`routes.rs`).
    pub routes: Vec<crate::routes::Route>,
    /// Networks, their resources and routers (`networks.rs`).
    pub networks: Vec<crate::networks::Network>,
    pub resources: Vec<crate::networks::Resource>,
    pub routers: Vec<crate::networks::Router>,
    /// DNS settings: groups whose DNS management is off (`networks.rs`).
    pub dns_disabled: Vec<String>,
}

fn q(s: &str) -> String {
    Json::quote(s)
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| q(s)).collect::<Vec<_>>().join(","))
}

fn time(secs: u64) -> String {
    if secs == 0 { ZERO_TIME.to_string() } else { crate::api::iso(secs) }
}

/// A DNS label the way `nbdns.GetParsedDomainLabel` makes one from a peer name.
pub fn dns_label(name: &str) -> String {
    let label: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    label.trim_matches('-').to_string()
}

impl Account {
    /// Stores an event now.
    pub fn push_event(&mut self, code: &'static str, message: &'static str, initiator: &str, target: &str, meta: Vec<(String, String)>) {
        let id = self.events.last().map_or(1, |e| e.id + 1);
        let at = crate::api::now();
        self.events.push(crate::events::Event { id, code, message, initiator: initiator.into(), target: target.into(), at, meta });
    }

    /// The group every peer is in (`types.Group.IsGroupAll`).
    pub fn all_group(&self) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == "All")
    }

    fn group_min(&self, g: &Group) -> String {
        let count = g.peers.iter().filter(|p| self.peers.iter().any(|x| &x.id == *p)).count();
        format!(
            r#"{{"id":{},"name":{},"peers_count":{count},"resources_count":0,"issued":"api"}}"#,
            q(&g.id),
            q(&g.name)
        )
    }

    /// `api.PeerBatch` (`peers_handler.go` `toPeerListItemResponse`).
    pub fn peer_json(&self, p: &Peer) -> String {
        let groups: Vec<String> =
            self.groups.iter().filter(|g| g.peers.contains(&p.id)).map(|g| self.group_min(g)).collect();
        format!(
            concat!(
                r#"{{"id":{},"name":{},"ip":{},"connection_ip":"203.0.113.7","connected":{},"last_seen":{},"#,
                r#""os":{},"kernel_version":"","geoname_id":0,"version":{},"groups":[{}],"ssh_enabled":{},"#,
                r#""user_id":{},"hostname":{},"ui_version":"","dns_label":{},"login_expiration_enabled":{},"#,
                r#""login_expired":false,"last_login":{},"inactivity_expiration_enabled":{},"approval_required":{},"#,
                r#""country_code":"","city_name":"","serial_number":"","extra_dns_labels":[],"ephemeral":false,"#,
                r#""accessible_peers_count":{},"created_at":{}}}"#
            ),
            q(&p.id),
            q(&p.name),
            q(&p.ip),
            p.connected,
            q(&time(p.last_seen)),
            q(&p.os),
            q(&p.version),
            groups.join(","),
            p.ssh_enabled,
            q(&p.user_id),
            q(&p.hostname),
            q(&format!("{}.netbird.selfhosted", dns_label(&p.name))),
            p.login_expiration_enabled,
            q(&time(if p.user_id.is_empty() { 0 } else { p.created })),
            p.inactivity_expiration_enabled,
            p.approval_required,
            self.peers.len().saturating_sub(1),
            q(&time(p.created)),
        )
    }

    /// `api.SetupKey` (`setupkeys_handler.go` `ToResponseBody`); `plain` only in the answer to
    /// the create call.
    pub fn key_json(k: &SetupKey, plain: Option<&str>, now: u64) -> String {
        let expired = k.expires != 0 && now > k.expires;
        let limit = if k.kind == "one-off" { 1 } else { k.usage_limit };
        let overused = limit > 0 && k.used_times >= limit;
        let state = if expired {
            "expired"
        } else if k.revoked {
            "revoked"
        } else if overused {
            "overused"
        } else {
            "valid"
        };
        format!(
            concat!(
                r#"{{"id":{},"key":{},"name":{},"expires":{},"type":{},"valid":{},"revoked":{},"used_times":{},"#,
                r#""last_used":{},"state":"{}","auto_groups":{},"updated_at":{},"usage_limit":{},"ephemeral":{},"#,
                r#""allow_extra_dns_labels":{}}}"#
            ),
            q(&k.id),
            q(plain.unwrap_or(&k.hidden)),
            q(&k.name),
            q(&time(k.expires)),
            q(&k.kind),
            !expired && !k.revoked && !overused,
            k.revoked,
            k.used_times,
            q(&time(k.last_used)),
            state,
            list(&k.auto_groups),
            q(&time(k.updated)),
            k.usage_limit,
            k.ephemeral,
            k.allow_extra_dns_labels,
        )
    }

    /// `api.User` (`users_handler.go` `toUserResponse`); `password` only when the embedded IdP
    /// just created the user.
    pub fn user_json(u: &User, current: &str, password: Option<&str>) -> String {
        let password = password.map(|p| format!(r#","password":{}"#, q(p))).unwrap_or_default();
        format!(
            concat!(
                r#"{{"id":{},"email":{},"name":{},"role":{},"status":"{}","auto_groups":{},"is_current":{},"#,
                r#""is_service_user":{},"is_blocked":{},"pending_approval":false,"issued":"api","last_login":{}{}}}"#
            ),
            q(&u.id),
            q(&u.email),
            q(&u.name),
            q(&u.role),
            // `users_handler.go` toUserResponse: a blocked user's status says so.
            if u.blocked { "blocked" } else { "active" },
            list(&u.auto_groups),
            u.id == current,
            u.service,
            u.blocked,
            q(&time(u.last_login)),
            password,
        )
    }

    /// `api.Group` (`groups_handler.go` `toGroupResponse`): peers that no longer exist are
    /// skipped, and an empty list is Go's nil slice, `null`.
    pub fn group_json(&self, g: &Group) -> String {
        let peers: Vec<String> = g
            .peers
            .iter()
            .filter_map(|id| self.peers.iter().find(|p| &p.id == id))
            .map(|p| format!(r#"{{"id":{},"name":{}}}"#, q(&p.id), q(&p.name)))
            .collect();
        let listed = if peers.is_empty() { "null".to_string() } else { format!("[{}]", peers.join(",")) };
        let resources: Vec<String> = g
            .resources
            .iter()
            .map(|r| {
                let (id, kind) = r.split_once(':').unwrap_or((r.as_str(), "host"));
                format!(r#"{{"id":{},"type":{}}}"#, q(id), q(kind))
            })
            .collect();
        let res = if resources.is_empty() { "null".to_string() } else { format!("[{}]", resources.join(",")) };
        format!(
            r#"{{"id":{},"name":{},"peers_count":{},"resources_count":{},"issued":"api","peers":{listed},"resources":{res}}}"#,
            q(&g.id),
            q(&g.name),
            peers.len(),
            resources.len(),
        )
    }

    /// `api.Policy` (`toPolicyResponse`): groups as `GroupMinimum` objects (a group no longer
    /// there is left out; none left is `null`), ports only when there are some.
    pub fn policy_json(&self, p: &Policy) -> String {
        let groups = |ids: &[String]| -> String {
            let found: Vec<String> =
                ids.iter().filter_map(|id| self.groups.iter().find(|g| g.id == *id)).map(|g| self.group_min(g)).collect();
            if found.is_empty() { "null".into() } else { format!("[{}]", found.join(",")) }
        };
        let rules: Vec<String> = p
            .rules
            .iter()
            .map(|r| {
                let ports = if r.ports.is_empty() { String::new() } else { format!(r#","ports":{}"#, list(&r.ports)) };
                format!(
                    r#"{{"id":{},"name":{},"description":{},"enabled":{},"action":{},"bidirectional":{},"protocol":{}{ports},"sources":{},"destinations":{}}}"#,
                    q(&r.id), q(&r.name), q(&r.description), r.enabled, q(&r.action), r.bidirectional, q(&r.protocol),
                    groups(&r.sources), groups(&r.destinations)
                )
            })
            .collect();
        let posture = p.posture.as_ref().map_or("null".to_string(), |v| list(v));
        format!(
            r#"{{"id":{},"name":{},"description":{},"enabled":{},"source_posture_checks":{posture},"rules":[{}]}}"#,
            q(&p.id),
            q(&p.name),
            q(&p.description),
            p.enabled,
            rules.join(",")
        )
    }

    /// The records as store-file lines.
    pub fn lines(&self) -> String {
        let mut out = String::new();
        for p in &self.peers {
            out.push_str(&format!(
                "peer\t{{\"id\":{},\"name\":{},\"ip\":{},\"connected\":{},\"last_seen\":{},\"os\":{},\"version\":{},\"hostname\":{},\"user_id\":{},\"ssh\":{},\"login_exp\":{},\"inactivity_exp\":{},\"approval\":{},\"created\":{}}}\n",
                q(&p.id), q(&p.name), q(&p.ip), p.connected, p.last_seen, q(&p.os), q(&p.version), q(&p.hostname),
                q(&p.user_id), p.ssh_enabled, p.login_expiration_enabled, p.inactivity_expiration_enabled,
                p.approval_required, p.created
            ));
        }
        for k in &self.keys {
            out.push_str(&format!(
                "key\t{{\"id\":{},\"hidden\":{},\"name\":{},\"kind\":{},\"created\":{},\"expires\":{},\"updated\":{},\"revoked\":{},\"used\":{},\"last_used\":{},\"groups\":{},\"limit\":{},\"ephemeral\":{},\"extra_dns\":{}}}\n",
                q(&k.id), q(&k.hidden), q(&k.name), q(&k.kind), k.created, k.expires, k.updated, k.revoked,
                k.used_times, k.last_used, list(&k.auto_groups), k.usage_limit, k.ephemeral, k.allow_extra_dns_labels
            ));
        }
        for u in &self.users {
            out.push_str(&format!(
                "user\t{{\"id\":{},\"email\":{},\"name\":{},\"role\":{},\"service\":{},\"blocked\":{},\"groups\":{},\"last_login\":{},\"created\":{}}}\n",
                q(&u.id), q(&u.email), q(&u.name), q(&u.role), u.service, u.blocked, list(&u.auto_groups),
                u.last_login, u.created
            ));
        }
        for g in &self.groups {
            out.push_str(&format!(
                "group\t{{\"id\":{},\"name\":{},\"peers\":{},\"resources\":{}}}\n",
                q(&g.id),
                q(&g.name),
                list(&g.peers),
                list(&g.resources)
            ));
        }
        for p in &self.postures {
            out.push_str(&format!(
                "posture\t{{\"id\":{},\"name\":{},\"description\":{},\"checks\":{}}}\n",
                q(&p.id),
                q(&p.name),
                q(&p.description),
                p.checks
            ));
        }
        for r in &self.routes {
            out.push_str(&format!("route\t{}\n", crate::routes::answer(r)));
        }
        for g in &self.nameservers {
            let servers: Vec<String> = g.servers.iter().map(|(ip, port, kind)| format!("{ip}|{port}|{kind}")).collect();
            out.push_str(&format!(
                "nsgroup\t{{\"id\":{},\"name\":{},\"description\":{},\"servers\":{},\"groups\":{},\"primary\":{},\"domains\":{},\"enabled\":{},\"search\":{}}}\n",
                q(&g.id), q(&g.name), q(&g.description), list(&servers), list(&g.groups), g.primary, list(&g.domains),
                g.enabled, g.search_domains
            ));
        }
        for i in &self.idps {
            out.push_str(&format!(
                "idp\t{{\"id\":{},\"type\":{},\"name\":{},\"issuer\":{},\"client_id\":{},\"secret\":{}}}\n",
                q(&i.id),
                q(&i.kind),
                q(&i.name),
                q(&i.issuer),
                q(&i.client_id),
                q(&i.client_secret)
            ));
        }
        out.push_str(&self.network_lines());
        for e in &self.events {
            let meta: Vec<String> = e.meta.iter().map(|(k, v)| format!("{}:{}", q(k), q(v))).collect();
            out.push_str(&format!(
                "event\t{{\"id\":{},\"code\":{},\"initiator\":{},\"target\":{},\"at\":{},\"meta\":{{{}}}}}\n",
                e.id,
                q(e.code),
                q(&e.initiator),
                q(&e.target),
                e.at,
                meta.join(",")
            ));
        }
        for p in &self.policies {
            // One line per policy; its rules inline as a list of one-line records.
            let rules: Vec<String> = p
                .rules
                .iter()
                .map(|r| {
                    format!(
                        "{{\"id\":{},\"name\":{},\"description\":{},\"enabled\":{},\"action\":{},\"bidirectional\":{},\"protocol\":{},\"ports\":{},\"sources\":{},\"destinations\":{}}}",
                        q(&r.id), q(&r.name), q(&r.description), r.enabled, q(&r.action), r.bidirectional,
                        q(&r.protocol), list(&r.ports), list(&r.sources), list(&r.destinations)
                    )
                })
                .collect();
            out.push_str(&format!(
                "policy\t{{\"id\":{},\"name\":{},\"description\":{},\"enabled\":{},\"posture\":{},\"rules\":[{}]}}\n",
                q(&p.id),
                q(&p.name),
                q(&p.description),
                p.enabled,
                p.posture.as_ref().map_or("null".to_string(), |v| list(v)),
                rules.join(",")
            ));
        }
        out
    }

    /// Reads one store-file line back; `false` when it is not an account record.
    pub fn load_line(&mut self, kind: &str, rest: &str) -> bool {
        let Ok(j) = Json::parse(rest) else { return false };
        let s = |k: &str| j.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let b = |k: &str| j.get(k).and_then(Json::as_bool).unwrap_or(false);
        let n = |k: &str| j.get(k).and_then(Json::as_i64).unwrap_or(0);
        let strings = |k: &str| -> Vec<String> {
            j.get(k).and_then(Json::as_array).unwrap_or(&[]).iter().filter_map(Json::as_str).map(String::from).collect()
        };
        match kind {
            "peer" => self.peers.push(Peer {
                id: s("id"),
                name: s("name"),
                ip: s("ip"),
                connected: b("connected"),
                last_seen: n("last_seen") as u64,
                os: s("os"),
                version: s("version"),
                hostname: s("hostname"),
                user_id: s("user_id"),
                ssh_enabled: b("ssh"),
                login_expiration_enabled: b("login_exp"),
                inactivity_expiration_enabled: b("inactivity_exp"),
                approval_required: b("approval"),
                created: n("created") as u64,
            }),
            "key" => self.keys.push(SetupKey {
                id: s("id"),
                hidden: s("hidden"),
                name: s("name"),
                kind: s("kind"),
                created: n("created") as u64,
                expires: n("expires") as u64,
                updated: n("updated") as u64,
                revoked: b("revoked"),
                used_times: n("used"),
                last_used: n("last_used") as u64,
                auto_groups: strings("groups"),
                usage_limit: n("limit"),
                ephemeral: b("ephemeral"),
                allow_extra_dns_labels: b("extra_dns"),
            }),
            "user" => self.users.push(User {
                id: s("id"),
                email: s("email"),
                name: s("name"),
                role: s("role"),
                service: b("service"),
                blocked: b("blocked"),
                auto_groups: strings("groups"),
                last_login: n("last_login") as u64,
                created: n("created") as u64,
            }),
            "group" => self.groups.push(Group {
                id: s("id"),
                name: s("name"),
                peers: strings("peers"),
                resources: strings("resources"),
            }),
            "posture" => self.postures.push(crate::posture::Posture {
                id: s("id"),
                name: s("name"),
                description: s("description"),
                checks: j.get("checks").map_or("{}".to_string(), crate::posture::raw),
            }),
            "route" => self.routes.push(crate::routes::Route {
                id: s("id"),
                network_id: s("network_id"),
                description: s("description"),
                enabled: j.get("enabled").and_then(Json::as_bool).unwrap_or(false),
                peer: s("peer"),
                peer_groups: strings("peer_groups"),
                network: s("network"),
                domains: strings("domains"),
                network_type: s("network_type"),
                masquerade: j.get("masquerade").and_then(Json::as_bool).unwrap_or(false),
                metric: j.get("metric").and_then(Json::as_i64).unwrap_or(0),
                groups: strings("groups"),
                access_control_groups: strings("access_control_groups"),
                keep_route: j.get("keep_route").and_then(Json::as_bool).unwrap_or(false),
                skip_auto_apply: j.get("skip_auto_apply").and_then(Json::as_bool).unwrap_or(false),
            }),
            "nsgroup" => self.nameservers.push(crate::nameservers::NsGroup {
                id: s("id"),
                name: s("name"),
                description: s("description"),
                servers: strings("servers")
                    .iter()
                    .map(|x| {
                        let mut it = x.split('|');
                        let ip = it.next().unwrap_or("").to_string();
                        let port = it.next().and_then(|p| p.parse().ok()).unwrap_or(53);
                        (ip, port, it.next().unwrap_or("udp").to_string())
                    })
                    .collect(),
                groups: strings("groups"),
                primary: b("primary"),
                domains: strings("domains"),
                enabled: b("enabled"),
                search_domains: b("search"),
            }),
            "idp" => self.idps.push(crate::idps::Idp {
                id: s("id"),
                kind: s("type"),
                name: s("name"),
                issuer: s("issuer"),
                client_id: s("client_id"),
                client_secret: s("secret"),
            }),
            "event" => {
                // Codes are kept as the `'static` words of `events.rs`; an unknown one is dropped.
                let code = s("code");
                let Some((c, m)) = crate::events::CODES.iter().find(|(c, _)| *c == code) else { return true };
                let meta = match j.get("meta") {
                    Some(Json::Obj(fields)) => {
                        fields.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect()
                    }
                    _ => Vec::new(),
                };
                self.events.push(crate::events::Event {
                    id: n("id") as u64,
                    code: c,
                    message: m,
                    initiator: s("initiator"),
                    target: s("target"),
                    at: n("at") as u64,
                    meta,
                });
            }
            "policy" => {
                let rules = j
                    .get("rules")
                    .and_then(Json::as_array)
                    .unwrap_or(&[])
                    .iter()
                    .map(|r| {
                        let s = |k: &str| r.get(k).and_then(Json::as_str).unwrap_or("").to_string();
                        let b = |k: &str| r.get(k).and_then(Json::as_bool).unwrap_or(false);
                        let strings = |k: &str| -> Vec<String> {
                            r.get(k)
                                .and_then(Json::as_array)
                                .unwrap_or(&[])
                                .iter()
                                .filter_map(Json::as_str)
                                .map(String::from)
                                .collect()
                        };
                        Rule {
                            id: s("id"),
                            name: s("name"),
                            description: s("description"),
                            enabled: b("enabled"),
                            action: s("action"),
                            bidirectional: b("bidirectional"),
                            protocol: s("protocol"),
                            ports: strings("ports"),
                            sources: strings("sources"),
                            destinations: strings("destinations"),
                        }
                    })
                    .collect();
                let posture = j.get("posture").filter(|v| !v.is_null()).map(|_| strings("posture"));
                self.policies.push(Policy {
                    id: s("id"),
                    name: s("name"),
                    description: s("description"),
                    enabled: b("enabled"),
                    rules,
                    posture,
                });
            }
            _ => return self.load_network_line(kind, &j),
        }
        true
    }
}

/// A request body decoded as Go's `encoding/json` decodes into a struct: anything but an
/// object, or a field of the wrong type, fails the whole decode; a missing or `null` field
/// keeps its zero value; unknown fields are ignored (NetBird's handlers do not refuse them).
pub struct Body(Json);

/// The decode failed: the handler answers 400 "couldn't parse JSON request".
pub struct BadBody;

impl Body {
    pub fn parse(text: &str) -> Result<Body, BadBody> {
        match Json::parse(text) {
            Ok(j @ Json::Obj(_)) => Ok(Body(j)),
            _ => Err(BadBody),
        }
    }

    fn field(&self, key: &str) -> Option<&Json> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, BadBody> {
        self.field(key).map(|v| v.as_str().map(String::from).ok_or(BadBody)).transpose()
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, BadBody> {
        self.field(key).map(|v| v.as_bool().ok_or(BadBody)).transpose()
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, BadBody> {
        self.field(key).map(|v| v.as_i64().ok_or(BadBody)).transpose()
    }

    /// A list of `{id, type}` objects (`api.Resource`) as `id:type`; `None` when missing or `null`.
    pub fn resources(&self, key: &str) -> Result<Option<Vec<String>>, BadBody> {
        let Some(v) = self.field(key) else { return Ok(None) };
        let items = v.as_array().ok_or(BadBody)?;
        items
            .iter()
            .map(|r| {
                let id = r.get("id").and_then(Json::as_str).ok_or(BadBody)?;
                let kind = r.get("type").and_then(Json::as_str).ok_or(BadBody)?;
                Ok(format!("{id}:{kind}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A list of objects (request structs nested in the body); `None` when missing or `null`.
    pub fn objects(&self, key: &str) -> Result<Option<Vec<Body>>, BadBody> {
        self.field(key)
            .map(|v| {
                v.as_array()
                    .ok_or(BadBody)?
                    .iter()
                    .map(|x| match x {
                        Json::Obj(_) => Ok(Body(x.clone())),
                        _ => Err(BadBody),
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
    }

    /// `None` for a missing or `null` list (Go's nil slice), which some handlers refuse.
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>, BadBody> {
        self.field(key)
            .map(|v| {
                v.as_array()
                    .ok_or(BadBody)?
                    .iter()
                    .map(|x| x.as_str().map(String::from).ok_or(BadBody))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
    }
}
