//! NetBird's management API for administering an account (netbirdio/netbird v0.77.1,
//! `shared/management/http/api/openapi.yml`; handlers under `management/server/http/handlers/`):
//! peers, setup keys, users and groups, turned into [`crate::domain::netbird`] types here.
//!
//! Upstream's update calls replace whole records: `PUT /api/peers/{id}` applies every field of
//! `PeerRequest` (a missing bool turns SSH or login expiration off), `PUT /api/groups/{id}`
//! replaces the peer list, `PUT /api/setup-keys/{id}` needs `auto_groups` and `PUT
//! /api/users/{id}` needs `auto_groups`, `role` and `is_blocked`. So every change here reads
//! the record first and sends it back whole with one field changed.

use serde::Deserialize;
use serde_json::json;

use super::api::{ApiRefusal, call};
use crate::domain::Timestamp;
use crate::domain::netbird::{Group, NbUser, NewSetupKey, NewUser, Peer, ServiceInfo, SetupKey};
use crate::engine::EngineError;

/// One customer's management API with the owner's token.
pub struct Api<'a> {
    /// HTTP client.
    pub client: &'a reqwest::Client,
    /// `http://<container ip>:80`.
    pub base: String,
    /// The owner's access token.
    pub pat: String,
    /// What to tell the operator when NetBird rejects the token (how to renew it).
    pub on_rejected: String,
    /// The customer's public domain (the `--management-url` devices join with).
    pub domain: String,
}

#[derive(Deserialize)]
struct WireGroupMin {
    name: String,
}

#[derive(Deserialize)]
struct WirePeer {
    id: String,
    name: String,
    #[serde(default)]
    ip: String,
    #[serde(default)]
    connected: bool,
    #[serde(default)]
    last_seen: Option<String>,
    #[serde(default)]
    os: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    groups: Option<Vec<WireGroupMin>>,
    #[serde(default)]
    approval_required: bool,
    #[serde(default)]
    login_expiration_enabled: bool,
    #[serde(default)]
    inactivity_expiration_enabled: bool,
    #[serde(default)]
    ssh_enabled: bool,
    #[serde(default)]
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct WireKey {
    id: String,
    #[serde(default)]
    key: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    used_times: i64,
    #[serde(default)]
    usage_limit: i64,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    auto_groups: Option<Vec<String>>,
    #[serde(default)]
    ephemeral: bool,
}

#[derive(Deserialize)]
struct WireUser {
    id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    role: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    is_blocked: bool,
    #[serde(default)]
    is_service_user: Option<bool>,
    #[serde(default)]
    last_login: Option<String>,
    #[serde(default)]
    auto_groups: Option<Vec<String>>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
struct WirePeerMin {
    id: String,
}

#[derive(Deserialize)]
struct WireGroup {
    id: String,
    name: String,
    #[serde(default)]
    peers_count: i64,
    /// Go writes a nil slice as `null`.
    #[serde(default)]
    peers: Option<Vec<WirePeerMin>>,
    /// Network resources in the group (`api.Resource`: id and type), `null` for none. Kept as
    /// NetBird sent them, to be sent back whole: a group PUT replaces them.
    #[serde(default)]
    resources: Option<Vec<serde_json::Value>>,
}

/// A time from Go: RFC 3339, where the zero `time.Time` (year 1) means "never".
fn go_time(s: &Option<String>) -> Option<Timestamp> {
    let t = time::OffsetDateTime::parse(s.as_deref()?, &time::format_description::well_known::Rfc3339).ok()?;
    (t.year() > 1).then_some(t)
}

/// Text from NetBird, kept as NetBird said it (so `--json` and name lookups see the original);
/// every terminal output escapes it where it is drawn (`terminal_safe`).
fn text(s: String) -> String {
    s
}

impl From<WirePeer> for Peer {
    fn from(p: WirePeer) -> Peer {
        Peer {
            last_seen: go_time(&p.last_seen),
            id: p.id,
            name: text(p.name),
            ip: text(p.ip),
            connected: p.connected,
            os: text(p.os),
            version: text(p.version),
            groups: p.groups.unwrap_or_default().into_iter().map(|g| text(g.name)).collect(),
            approval_required: p.approval_required,
            login_expiration_enabled: p.login_expiration_enabled,
            added_with_sso: p.user_id.is_some_and(|u| !u.is_empty()),
            ssh_enabled: p.ssh_enabled,
            inactivity_expiration_enabled: p.inactivity_expiration_enabled,
        }
    }
}

impl WireKey {
    fn into_key(self, groups: &[Group]) -> SetupKey {
        SetupKey {
            expires: go_time(&self.expires),
            id: self.id,
            name: text(self.name),
            kind: text(self.kind),
            state: text(self.state),
            revoked: self.revoked,
            used_times: self.used_times,
            usage_limit: self.usage_limit,
            auto_groups: self.auto_groups.unwrap_or_default().iter().map(|id| group_name(groups, id)).collect(),
            ephemeral: self.ephemeral,
        }
    }
}

impl From<WireUser> for NbUser {
    fn from(u: WireUser) -> NbUser {
        NbUser {
            last_login: go_time(&u.last_login),
            id: u.id,
            email: text(u.email),
            name: text(u.name),
            role: text(u.role),
            status: text(u.status),
            blocked: u.is_blocked,
            service: u.is_service_user.unwrap_or(false),
        }
    }
}

impl From<WireGroup> for Group {
    fn from(g: WireGroup) -> Group {
        Group { id: g.id, name: text(g.name), peers_count: g.peers_count }
    }
}

/// A group's name, or its id when NetBird no longer has it.
fn group_name(groups: &[Group], id: &str) -> String {
    groups.iter().find(|g| g.id == id).map(|g| g.name.clone()).unwrap_or_else(|| id.to_string())
}

impl Api<'_> {
    pub(super) async fn send<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<T, EngineError> {
        let req = req.header("Authorization", format!("Token {}", self.pat));
        match call(&self.base, what, req).await? {
            Ok(v) => Ok(v),
            Err(ApiRefusal::TokenRejected) => Err(EngineError::TokenRejected(self.on_rejected.clone())),
            Err(ApiRefusal::AlreadySetUp) => Err(EngineError::NetBird(format!("{what} answered 412"))),
            Err(ApiRefusal::Other(status, msg)) => {
                Err(EngineError::NetBird(format!("refused to {what}: {msg} (HTTP {status})")))
            }
        }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/api/{path}", self.base)
    }

    /// `DELETE /api/{path}`; NetBird answers `{}`.
    pub(super) async fn remove(&self, what: &str, path: &str) -> Result<(), EngineError> {
        let _: serde_json::Value = self.send(what, self.client.delete(self.url(path))).await?;
        Ok(())
    }

    /// Every device (`GET /api/peers`).
    pub async fn peers(&self) -> Result<Vec<Peer>, EngineError> {
        let wire: Vec<WirePeer> = self.send("list devices", self.client.get(self.url("peers"))).await?;
        Ok(wire.into_iter().map(Peer::from).collect())
    }

    /// Changes a device with every other field kept as NetBird has it now.
    pub async fn update_peer(
        &self,
        id: &str,
        change: impl FnOnce(&mut serde_json::Value),
    ) -> Result<Peer, EngineError> {
        let current: serde_json::Value =
            self.send("read the device", self.client.get(self.url(&format!("peers/{id}")))).await?;
        let pick = |k: &str| current.get(k).cloned().unwrap_or(serde_json::Value::Bool(false));
        let mut body = json!({
            "name": current.get("name").cloned().unwrap_or_default(),
            "ssh_enabled": pick("ssh_enabled"),
            "login_expiration_enabled": pick("login_expiration_enabled"),
            "inactivity_expiration_enabled": pick("inactivity_expiration_enabled"),
        });
        change(&mut body);
        let req = self.client.put(self.url(&format!("peers/{id}"))).json(&body);
        let wire: WirePeer = self.send("change the device", req).await?;
        Ok(wire.into())
    }

    /// Removes a device (`DELETE /api/peers/{id}`).
    pub async fn delete_peer(&self, id: &str) -> Result<(), EngineError> {
        self.remove("delete the device", &format!("peers/{id}")).await
    }

    /// Every setup key, with group names.
    pub async fn keys(&self) -> Result<Vec<SetupKey>, EngineError> {
        let groups = self.groups().await?;
        let wire: Vec<WireKey> = self.send("list setup keys", self.client.get(self.url("setup-keys"))).await?;
        Ok(wire.into_iter().map(|k| k.into_key(&groups)).collect())
    }

    /// Creates a key with groups given by id; returns it with its secret.
    pub async fn create_key(&self, new: &NewSetupKey, group_ids: &[String]) -> Result<(SetupKey, String), EngineError> {
        let body = json!({
            "name": new.name,
            "type": if new.reusable { "reusable" } else { "one-off" },
            "expires_in": u64::from(new.expires_days) * 86_400,
            "auto_groups": group_ids,
            "usage_limit": if new.reusable { new.usage_limit } else { 0 },
            "ephemeral": new.ephemeral,
        });
        let wire: WireKey =
            self.send("create the setup key", self.client.post(self.url("setup-keys")).json(&body)).await?;
        let secret = wire.key.clone();
        let groups = self.groups().await?;
        Ok((wire.into_key(&groups), secret))
    }

    /// Revokes a key, keeping its groups (NetBird cannot un-revoke).
    pub async fn revoke_key(&self, id: &str) -> Result<(), EngineError> {
        let url = self.url(&format!("setup-keys/{id}"));
        let current: WireKey = self.send("read the setup key", self.client.get(&url)).await?;
        let body = json!({ "auto_groups": current.auto_groups.unwrap_or_default(), "revoked": true });
        let _: serde_json::Value = self.send("revoke the setup key", self.client.put(&url).json(&body)).await?;
        Ok(())
    }

    /// Deletes a key.
    pub async fn delete_key(&self, id: &str) -> Result<(), EngineError> {
        self.remove("delete the setup key", &format!("setup-keys/{id}")).await
    }

    /// Every user.
    pub async fn users(&self) -> Result<Vec<NbUser>, EngineError> {
        let wire: Vec<WireUser> = self.send("list users", self.client.get(self.url("users"))).await?;
        Ok(wire.into_iter().map(NbUser::from).collect())
    }

    /// Creates a user; a person's generated password comes back once.
    pub async fn create_user(&self, new: &NewUser) -> Result<(NbUser, Option<String>), EngineError> {
        let mut body = json!({ "name": new.name, "role": new.role, "auto_groups": [], "is_service_user": new.service });
        if !new.service {
            body["email"] = json!(new.email);
        }
        let wire: WireUser = self.send("create the user", self.client.post(self.url("users")).json(&body)).await?;
        let password = wire.password.clone();
        Ok((wire.into(), password))
    }

    /// Changes a user's role or block, keeping the rest as NetBird has it.
    pub async fn update_user(
        &self,
        id: &str,
        role: Option<&str>,
        blocked: Option<bool>,
    ) -> Result<NbUser, EngineError> {
        let all: Vec<WireUser> = self.send("list users", self.client.get(self.url("users"))).await?;
        let Some(current) = all.into_iter().find(|u| u.id == id) else {
            return Err(EngineError::NetBird(format!("user {id} is gone")));
        };
        let body = json!({
            "auto_groups": current.auto_groups.unwrap_or_default(),
            "role": role.unwrap_or(&current.role),
            "is_blocked": blocked.unwrap_or(current.is_blocked),
        });
        let req = self.client.put(self.url(&format!("users/{id}"))).json(&body);
        let wire: WireUser = self.send("change the user", req).await?;
        Ok(wire.into())
    }

    /// Deletes a user.
    pub async fn delete_user(&self, id: &str) -> Result<(), EngineError> {
        self.remove("delete the user", &format!("users/{id}")).await
    }

    /// Every group with its device count.
    pub async fn groups(&self) -> Result<Vec<Group>, EngineError> {
        let wire: Vec<WireGroup> = self.send("list groups", self.client.get(self.url("groups"))).await?;
        Ok(wire.into_iter().map(Group::from).collect())
    }

    /// Creates an empty group.
    pub async fn create_group(&self, name: &str) -> Result<Group, EngineError> {
        let body = json!({ "name": name });
        let wire: WireGroup = self.send("create the group", self.client.post(self.url("groups")).json(&body)).await?;
        Ok(wire.into())
    }

    /// Renames a group, sending its devices and network resources back so they stay in it
    /// (upstream's `PUT /api/groups/{id}` replaces both with what the request carries).
    pub async fn rename_group(&self, id: &str, name: &str) -> Result<Group, EngineError> {
        let url = self.url(&format!("groups/{id}"));
        let current: WireGroup = self.send("read the group", self.client.get(&url)).await?;
        let peers: Vec<String> = current.peers.unwrap_or_default().into_iter().map(|p| p.id).collect();
        let resources = current.resources.unwrap_or_default();
        let body = json!({ "name": name, "peers": peers, "resources": resources });
        let wire: WireGroup = self.send("rename the group", self.client.put(&url).json(&body)).await?;
        Ok(wire.into())
    }

    /// Deletes a group (NetBird refuses while a key, user or policy uses it).
    pub async fn delete_group(&self, id: &str) -> Result<(), EngineError> {
        self.remove("delete the group", &format!("groups/{id}")).await
    }

    /// Every published service (`GET /api/reverse-proxies/services`; `[]` when none).
    pub async fn services(&self) -> Result<Vec<ServiceInfo>, EngineError> {
        let wire: Vec<serde_json::Value> =
            self.send("list services", self.client.get(self.url("reverse-proxies/services"))).await?;
        Ok(wire.iter().map(service_info).collect())
    }

    /// Publishes a service (`POST /api/reverse-proxies/services`).
    pub async fn create_service(&self, body: &serde_json::Value) -> Result<ServiceInfo, EngineError> {
        let url = self.url("reverse-proxies/services");
        let wire: serde_json::Value = self.send("publish the service", self.client.post(url).json(body)).await?;
        Ok(service_info(&wire))
    }

    /// Switches a service on or off. Upstream's PUT replaces the whole service, so what the
    /// GET gave goes back with only `enabled` changed; an enabled PIN or password sent without
    /// its value keeps the stored one (`preserveExistingAuthSecrets`).
    pub async fn set_service_enabled(&self, id: &str, enabled: bool) -> Result<ServiceInfo, EngineError> {
        let url = self.url(&format!("reverse-proxies/services/{id}"));
        let mut current: serde_json::Value = self.send("read the service", self.client.get(&url)).await?;
        current["enabled"] = json!(enabled);
        if let Some(o) = current.as_object_mut() {
            for read_only in ["id", "meta", "proxy_cluster", "terminated", "port_auto_assigned"] {
                o.remove(read_only);
            }
        }
        let wire: serde_json::Value = self.send("change the service", self.client.put(&url).json(&current)).await?;
        Ok(service_info(&wire))
    }

    /// Stops publishing a service.
    pub async fn delete_service(&self, id: &str) -> Result<(), EngineError> {
        self.remove("delete the service", &format!("reverse-proxies/services/{id}")).await
    }
}

/// What nbmsp shows of a service (`api.Service`).
fn service_info(v: &serde_json::Value) -> ServiceInfo {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    // The address NetBird resolved the target to (`replaceHostByLookup`: a device's NetBird IP,
    // a resource's address, a subnet target's own), or its id when it has none or "unknown"
    // (the device or resource is gone).
    let target = v["targets"]
        .as_array()
        .and_then(|t| t.first())
        .map(|t| {
            let host = t["host"].as_str().filter(|h| !h.is_empty() && *h != "unknown");
            let at = host.or(t["target_id"].as_str()).unwrap_or_default();
            let port = t["port"].as_u64().unwrap_or(0);
            match t["target_type"].as_str().unwrap_or("peer") {
                "peer" => format!("{at}:{port}"),
                kind => format!("{kind} {at}:{port}"),
            }
        })
        .unwrap_or_default();
    let auth = [("pin_auth", "pin"), ("password_auth", "password"), ("bearer_auth", "sso")]
        .iter()
        .filter(|(k, _)| v["auth"][*k]["enabled"].as_bool() == Some(true))
        .map(|(_, n)| (*n).to_string())
        .collect();
    ServiceInfo {
        id: s("id"),
        name: s("name"),
        domain: s("domain"),
        target,
        auth,
        enabled: v["enabled"].as_bool().unwrap_or(false),
        status: v["meta"]["status"].as_str().unwrap_or("pending").to_string(),
    }
}
