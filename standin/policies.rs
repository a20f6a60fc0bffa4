//! Access-control policies as upstream answers them (netbirdio/netbird v0.77.1):
//! `management/server/http/handlers/policies/policies_handler.go` (routes, `savePolicy`'s checks
//! and words, `toPolicyResponse`), `management/server/policy.go` (`validatePolicy`: unknown
//! group ids are dropped without a word, a rule id not in the policy is refused),
//! `shared/management/types/policy.go` (the Default policy's names), and
//! `types/account.go` (`AddAllGroup`: a new account's Default policy, All → All, accept).
//!
//! The inconvenient parts kept: a PUT replaces the whole record — `enabled` left out is `false`,
//! `source_posture_checks` left out is none; requests name groups by id while answers carry
//! group objects; a rule without an id gets a new one.

use crate::account::{Account, Body, Policy, Rule};
use crate::http::{Response, error, json};

/// A typed NetBird error (`util.WriteError`): lower-cased.
fn fail(status: u16, msg: &str) -> Response {
    error(status, &msg.to_lowercase())
}

/// The paths this module answers.
pub fn known(method: &str, segs: &[&str]) -> bool {
    matches!((method, segs), ("GET" | "POST", ["policies"]) | ("GET" | "PUT" | "DELETE", ["policies", _]))
}

/// Answers an authenticated request; `(answer, changed)`.
pub fn route(account: &mut Account, counter: &mut u64, method: &str, segs: &[&str], body: &str) -> (Response, bool) {
    match (method, segs) {
        ("GET", ["policies"]) => {
            let all: Vec<String> = account.policies.iter().map(|p| account.policy_json(p)).collect();
            (json(200, &format!("[{}]", all.join(","))), false)
        }
        ("GET", ["policies", id]) => match account.policies.iter().find(|p| p.id == *id) {
            Some(p) => (json(200, &account.policy_json(p)), false),
            None => (fail(404, &format!("policy: {id} not found")), false),
        },
        ("POST", ["policies"]) => save(account, counter, None, body),
        ("PUT", ["policies", id]) => {
            if !account.policies.iter().any(|p| p.id == *id) {
                return (fail(404, &format!("policy: {id} not found")), false);
            }
            save(account, counter, Some(id), body)
        }
        ("DELETE", ["policies", id]) => {
            let before = account.policies.len();
            account.policies.retain(|p| p.id != *id);
            if account.policies.len() == before {
                return (fail(404, &format!("policy: {id} not found")), false);
            }
            (json(200, "{}"), true)
        }
        _ => (fail(404, "not found"), false),
    }
}

/// `savePolicy` + `validatePolicy`.
fn save(account: &mut Account, counter: &mut u64, id: Option<&str>, body: &str) -> (Response, bool) {
    let bad = || (error(400, "couldn't parse JSON request"), false);
    let Ok(b) = Body::parse(body) else { return bad() };
    let (Ok(name), Ok(description), Ok(enabled), Ok(rules), Ok(posture)) = (
        b.string("name"),
        b.string("description"),
        b.boolean("enabled"),
        b.objects("rules"),
        b.strings("source_posture_checks"),
    ) else {
        return bad();
    };
    let name = name.unwrap_or_default();
    if name.is_empty() {
        return (fail(422, "policy name shouldn't be empty"), false);
    }
    let rules = rules.unwrap_or_default();
    if rules.is_empty() {
        return (fail(422, "policy rules shouldn't be empty"), false);
    }
    let policy_id = id.map_or_else(|| crate::api::fresh(counter, 20), str::to_string);
    let existing: Vec<String> = id
        .and_then(|id| account.policies.iter().find(|p| p.id == id))
        .map(|p| p.rules.iter().map(|r| r.id.clone()).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for r in &rules {
        let (Ok(rid), Ok(rname), Ok(rdesc), Ok(renabled), Ok(action), Ok(bidi), Ok(protocol), Ok(ports), Ok(src), Ok(dst)) = (
            r.string("id"),
            r.string("name"),
            r.string("description"),
            r.boolean("enabled"),
            r.string("action"),
            r.boolean("bidirectional"),
            r.string("protocol"),
            r.strings("ports"),
            r.strings("sources"),
            r.strings("destinations"),
        ) else {
            return bad();
        };
        let (Some(src), Some(dst)) = (src, dst) else {
            return (
                fail(422, "specify either sources or source resources and destinations or destination resources"),
                false,
            );
        };
        let action = action.unwrap_or_default();
        if !["accept", "drop"].contains(&action.as_str()) {
            return (fail(422, "unknown action type"), false);
        }
        let protocol = protocol.unwrap_or_default();
        if !["all", "tcp", "udp", "icmp", "netbird-ssh"].contains(&protocol.as_str()) {
            return (fail(422, &format!("unknown protocol type: {protocol}")), false);
        }
        let ports = ports.unwrap_or_default();
        if ports.iter().any(|p| !p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))) {
            return (fail(422, "valid port value is in 1..65535 range"), false);
        }
        if (protocol == "all" || protocol == "icmp") && !ports.is_empty() {
            return (fail(422, "for ALL or ICMP protocol ports is not allowed"), false);
        }
        // A rule id is kept only on an update, and must be one of the policy's.
        let rid = rid.filter(|_| id.is_some()).unwrap_or_default();
        if !rid.is_empty() && !existing.contains(&rid) {
            return (fail(422, &format!("invalid rule ID: {rid}")), false);
        }
        // Unknown groups are dropped silently (`getValidGroupIDs`).
        let known = |ids: Vec<String>| -> Vec<String> {
            ids.into_iter().filter(|g| account.groups.iter().any(|x| x.id == *g)).collect()
        };
        out.push(Rule {
            id: if rid.is_empty() { policy_id.clone() } else { rid },
            name: rname.unwrap_or_default(),
            description: rdesc.unwrap_or_default(),
            enabled: renabled.unwrap_or(false),
            action,
            bidirectional: bidi.unwrap_or(false),
            protocol,
            ports,
            sources: known(src),
            destinations: known(dst),
        });
    }
    // Unknown posture check ids are dropped as `getValidPostureCheckIDs` drops them; left out,
    // the policy has none (not the ones it had).
    let posture = posture.map(|ids| ids.into_iter().filter(|id| account.postures.iter().any(|p| p.id == *id)).collect());
    let policy = Policy {
        id: policy_id.clone(),
        name,
        description: description.unwrap_or_default(),
        enabled: enabled.unwrap_or(false),
        rules: out,
        posture,
    };
    match account.policies.iter_mut().find(|p| p.id == policy_id) {
        Some(p) => *p = policy,
        None => account.policies.push(policy),
    }
    let p = account.policies.iter().find(|p| p.id == policy_id).expect("just saved");
    (json(200, &account.policy_json(p)), true)
}
