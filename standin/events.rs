//! Audit events as upstream records and lists them (netbirdio/netbird v0.77.1):
//! `management/server/http/handlers/events/events_handler.go` (`GET /api/events` and
//! `/api/events/audit`: newest first, `meta` values as strings, the initiator's name and email),
//! `management/server/event.go` (`GetEvents`: the store's newest 10,000), and
//! `management/server/activity/codes.go` (each activity's message and code).
//!
//! Recorded here: every change the stand-in accepts that upstream stores an event for and that
//! is told by its request alone — account creation, policies, groups, setup keys (create, revoke,
//! delete), users created or deleted, devices deleted, access tokens. Changes whose event depends
//! on what changed (a peer renamed or not, a role changed or not) are not recorded.

use crate::account::Account;
use crate::json::Json;

/// One event (`activity.Event`).
pub struct Event {
    pub id: u64,
    pub code: &'static str,
    pub message: &'static str,
    pub initiator: String,
    pub target: String,
    pub at: u64,
    pub meta: Vec<(String, String)>,
}

/// Every activity recorded here: code and message as `codes.go` has them.
pub const CODES: &[(&str, &str)] = &[
    ("account.create", "Account created"),
    ("policy.add", "Policy added"),
    ("policy.update", "Policy updated"),
    ("policy.delete", "Policy deleted"),
    ("group.add", "Group created"),
    ("group.update", "Group updated"),
    ("group.delete", "Group deleted"),
    ("setupkey.add", "Setup key created"),
    ("setupkey.revoke", "Setup key revoked"),
    ("setupkey.delete", "Setup key deleted"),
    ("service.user.create", "Service user created"),
    ("user.invite", "User invited"),
    ("user.delete", "User deleted"),
    ("user.peer.delete", "Peer deleted"),
    ("personal.access.token.create", "Personal access token created"),
    ("personal.access.token.delete", "Personal access token deleted"),
    ("identityprovider.create", "Identity provider created"),
    ("identityprovider.update", "Identity provider updated"),
    ("identityprovider.delete", "Identity provider deleted"),
    ("nameserver.group.add", "Nameserver group created"),
    ("nameserver.group.update", "Nameserver group updated"),
    ("nameserver.group.delete", "Nameserver group deleted"),
    ("route.add", "Route created"),
    ("route.update", "Route updated"),
    ("route.delete", "Route deleted"),
    ("posture.check.create", "Posture check created"),
    ("posture.check.update", "Posture check updated"),
    ("posture.check.delete", "Posture check deleted"),
    ("network.create", "Network created"),
    ("network.delete", "Network deleted"),
    ("network.resource.create", "Network resource created"),
    ("network.resource.delete", "Network resource deleted"),
    ("network.router.create", "Network router created"),
    ("network.router.delete", "Network router deleted"),
];

/// The paths this module answers.
pub fn known(method: &str, segs: &[&str]) -> bool {
    matches!((method, segs), ("GET", ["events"]) | ("GET", ["events", "audit"]))
}

/// `toEventResponse` for every event, newest first.
pub fn list(account: &Account) -> String {
    let q = Json::quote;
    let who = |id: &str| account.users.iter().find(|u| u.id == id).map(|u| (u.name.clone(), u.email.clone()));
    let items: Vec<String> = account
        .events
        .iter()
        .rev()
        .map(|e| {
            let (name, email) = who(&e.initiator).unwrap_or_default();
            let meta: Vec<String> = e.meta.iter().map(|(k, v)| format!("{}:{}", q(k), q(v))).collect();
            format!(
                r#"{{"id":"{}","initiator_id":{},"initiator_name":{},"initiator_email":{},"activity":{},"activity_code":{},"target_id":{},"timestamp":{},"meta":{{{}}}}}"#,
                e.id,
                q(&e.initiator),
                q(&name),
                q(&email),
                q(e.message),
                q(e.code),
                q(&e.target),
                q(&crate::api::iso(e.at)),
                meta.join(",")
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// Which activity a successful change is, by its request (`None`: not recorded).
fn activity(method: &str, segs: &[&str], body: &str) -> Option<(&'static str, &'static str)> {
    let parsed = Json::parse(body).ok();
    let flag = |k: &str| parsed.as_ref().and_then(|j| j.get(k)).and_then(Json::as_bool).unwrap_or(false);
    let code = match (method, segs) {
        ("POST", ["policies"]) => ("policy.add", "Policy added"),
        ("PUT", ["policies", _]) => ("policy.update", "Policy updated"),
        ("DELETE", ["policies", _]) => ("policy.delete", "Policy deleted"),
        ("POST", ["groups"]) => ("group.add", "Group created"),
        ("PUT", ["groups", _]) => ("group.update", "Group updated"),
        ("DELETE", ["groups", _]) => ("group.delete", "Group deleted"),
        ("POST", ["setup-keys"]) => ("setupkey.add", "Setup key created"),
        ("PUT", ["setup-keys", _]) if flag("revoked") => ("setupkey.revoke", "Setup key revoked"),
        ("DELETE", ["setup-keys", _]) => ("setupkey.delete", "Setup key deleted"),
        ("POST", ["users"]) if flag("is_service_user") => ("service.user.create", "Service user created"),
        ("POST", ["users"]) => ("user.invite", "User invited"),
        ("DELETE", ["users", _]) => ("user.delete", "User deleted"),
        ("DELETE", ["peers", _]) => ("user.peer.delete", "Peer deleted"),
        ("POST", ["users", _, "tokens"]) => ("personal.access.token.create", "Personal access token created"),
        ("DELETE", ["users", _, "tokens", _]) => ("personal.access.token.delete", "Personal access token deleted"),
        ("POST", ["routes"]) => ("route.add", "Route created"),
        ("PUT", ["routes", _]) => ("route.update", "Route updated"),
        ("DELETE", ["routes", _]) => ("route.delete", "Route deleted"),
        ("POST", ["posture-checks"]) => ("posture.check.create", "Posture check created"),
        ("PUT", ["posture-checks", _]) => ("posture.check.update", "Posture check updated"),
        ("DELETE", ["posture-checks", _]) => ("posture.check.delete", "Posture check deleted"),
        ("POST", ["dns", "nameservers"]) => ("nameserver.group.add", "Nameserver group created"),
        ("PUT", ["dns", "nameservers", _]) => ("nameserver.group.update", "Nameserver group updated"),
        ("DELETE", ["dns", "nameservers", _]) => ("nameserver.group.delete", "Nameserver group deleted"),
        ("POST", ["identity-providers"]) => ("identityprovider.create", "Identity provider created"),
        ("PUT", ["identity-providers", _]) => ("identityprovider.update", "Identity provider updated"),
        ("DELETE", ["identity-providers", _]) => ("identityprovider.delete", "Identity provider deleted"),
        ("POST", ["networks"]) => ("network.create", "Network created"),
        ("DELETE", ["networks", _]) => ("network.delete", "Network deleted"),
        ("POST", ["networks", _, "resources"]) => ("network.resource.create", "Network resource created"),
        ("DELETE", ["networks", _, "resources", _]) => ("network.resource.delete", "Network resource deleted"),
        ("POST", ["networks", _, "routers"]) => ("network.router.create", "Network router created"),
        ("DELETE", ["networks", _, "routers", _]) => ("network.router.delete", "Network router deleted"),
        _ => return None,
    };
    CODES.iter().copied().find(|c| *c == code)
}

/// Records `answer` to a change by `initiator` when it succeeded and upstream stores an event for it.
pub fn record(account: &mut Account, initiator: &str, method: &str, segs: &[&str], body: &str, answer: &str, ok: bool) {
    if !ok || method == "GET" {
        return;
    }
    let Some((code, message)) = activity(method, segs, body) else { return };
    // The target: the path's id, or the id of what was just created.
    let target = if method == "POST" {
        Json::parse(answer).ok().and_then(|j| j.get("id").and_then(Json::as_str).map(String::from)).unwrap_or_default()
    } else {
        segs.last().map(|s| (*s).to_string()).unwrap_or_default()
    };
    let name = Json::parse(body).ok().and_then(|j| j.get("name").and_then(Json::as_str).map(String::from));
    account.push_event(code, message, initiator, &target, name.map(|n| vec![("name".to_string(), n)]).unwrap_or_default());
}
