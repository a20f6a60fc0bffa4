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
}

/// Everything one account holds besides its access tokens.
#[derive(Default)]
pub struct Account {
    pub peers: Vec<Peer>,
    pub keys: Vec<SetupKey>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
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
                r#"{{"id":{},"email":{},"name":{},"role":{},"status":"active","auto_groups":{},"is_current":{},"#,
                r#""is_service_user":{},"is_blocked":{},"pending_approval":false,"issued":"api","last_login":{}{}}}"#
            ),
            q(&u.id),
            q(&u.email),
            q(&u.name),
            q(&u.role),
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
        format!(
            r#"{{"id":{},"name":{},"peers_count":{},"resources_count":0,"issued":"api","peers":{listed},"resources":null}}"#,
            q(&g.id),
            q(&g.name),
            peers.len(),
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
            out.push_str(&format!("group\t{{\"id\":{},\"name\":{},\"peers\":{}}}\n", q(&g.id), q(&g.name), list(&g.peers)));
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
            "group" => self.groups.push(Group { id: s("id"), name: s("name"), peers: strings("peers") }),
            _ => return false,
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
