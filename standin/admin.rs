//! The account-administration part of NetBird's management API, with upstream's validation
//! order, status codes and texts (netbirdio/netbird v0.77.1):
//!
//! - peers: `management/server/http/handlers/peers/peers_handler.go`, `management/server/peer.go`
//!   (`UpdatePeer`: every field of `PeerRequest` is applied, so a missing bool turns it off;
//!   login expiration only for peers added with SSO, else 412).
//! - setup keys: `.../setup_keys/setupkeys_handler.go`, `management/server/setupkey.go`,
//!   `management/server/types/setupkey.go` (plain key only in the create answer; PUT needs
//!   `auto_groups`; no un-revoke; one-off keys take no usage limit above 1).
//! - users: `.../users/users_handler.go`, `management/server/user.go` (embedded IdP: a created
//!   user's password comes back once; owner and self protections).
//! - groups: `.../groups/groups_handler.go`, `management/server/group.go` (PUT replaces the peer
//!   list; a group linked to a setup key or user cannot be deleted: 400 with the raw text).
//!
//! `WriteError` lower-cases the message of a typed error; `WriteErrorResponse` does not.

use crate::account::{Account, Body, Group, Peer, SetupKey, User};
use crate::api::{Store, now};
use crate::http::{Response, error, json};

/// A typed NetBird error through `util.WriteError`: the message is lower-cased.
fn fail(status: u16, msg: &str) -> Response {
    error(status, &msg.to_lowercase())
}

/// Go's `strconv.ParseBool`: 1, t, T, TRUE, true, True and their false counterparts.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn bad_body() -> Response {
    error(400, "couldn't parse JSON request")
}

/// The paths this module answers (with the token middleware in front).
pub fn known(method: &str, segs: &[&str]) -> bool {
    matches!(
        (method, segs),
        ("GET", ["peers"])
            | ("GET" | "PUT" | "DELETE", ["peers", _])
            | ("GET" | "POST", ["setup-keys"])
            | ("GET" | "PUT" | "DELETE", ["setup-keys", _])
            | ("GET" | "POST", ["users"])
            | ("PUT" | "DELETE", ["users", _])
            | ("GET" | "POST", ["groups"])
            | ("GET" | "PUT" | "DELETE", ["groups", _])
    )
}

/// Answers an authenticated request as the owner; `None` for paths this module does not own.
/// `service_user` is the query parameter of `GET /api/users`.
pub fn route(st: &mut Store, method: &str, segs: &[&str], body: &str, service_user: Option<&str>) -> Option<Response> {
    let owner = st.owner.as_ref().map(|o| o.0.clone()).unwrap_or_default();
    let answer = match (method, segs) {
        ("GET", ["peers"]) => {
            let a = &st.account;
            json(200, &format!("[{}]", a.peers.iter().map(|p| a.peer_json(p)).collect::<Vec<_>>().join(",")))
        }
        ("GET", ["peers", id]) => match st.account.peers.iter().find(|p| p.id == *id) {
            Some(p) => json(200, &st.account.peer_json(p)),
            None => fail(404, &format!("peer not found: {id}")),
        },
        ("PUT", ["peers", id]) => update_peer(st, id, body),
        ("DELETE", ["peers", id]) => delete_peer(st, id),
        ("GET", ["setup-keys"]) => {
            let t = now();
            let keys: Vec<String> = st.account.keys.iter().map(|k| Account::key_json(k, None, t)).collect();
            json(200, &format!("[{}]", keys.join(",")))
        }
        ("POST", ["setup-keys"]) => create_key(st, body),
        ("GET", ["setup-keys", id]) => match st.account.keys.iter().find(|k| k.id == *id) {
            Some(k) => json(200, &Account::key_json(k, None, now())),
            None => fail(404, &format!("setup key: {id} not found")),
        },
        ("PUT", ["setup-keys", id]) => update_key(st, id, body),
        ("DELETE", ["setup-keys", id]) => match st.account.keys.iter().position(|k| k.id == *id) {
            Some(i) => {
                st.account.keys.remove(i);
                st.save();
                json(200, "{}")
            }
            None => fail(404, &format!("setup key: {id} not found")),
        },
        // `users_handler.go` getAllUsers: without `service_user` every user; with it, only
        // service users (true) or only people (false); a value strconv.ParseBool refuses is
        // InvalidArgument, which util.WriteError answers 422.
        ("GET", ["users"]) => {
            let only = match service_user.map(parse_bool) {
                None => None,
                Some(Some(b)) => Some(b),
                Some(None) => return Some(fail(422, "invalid service_user query parameter")),
            };
            let users: Vec<String> = st
                .account
                .users
                .iter()
                .filter(|u| only.is_none_or(|b| b == u.service))
                .map(|u| Account::user_json(u, &owner, None))
                .collect();
            json(200, &format!("[{}]", users.join(",")))
        }
        ("POST", ["users"]) => create_user(st, &owner, body),
        ("PUT", ["users", id]) => update_user(st, &owner, id, body),
        ("DELETE", ["users", id]) => delete_user(st, &owner, id),
        ("GET", ["groups"]) => {
            let a = &st.account;
            json(200, &format!("[{}]", a.groups.iter().map(|g| a.group_json(g)).collect::<Vec<_>>().join(",")))
        }
        ("POST", ["groups"]) => create_group(st, body),
        ("GET", ["groups", id]) => match st.account.groups.iter().find(|g| g.id == *id) {
            Some(g) => json(200, &st.account.group_json(g)),
            None => fail(404, &format!("group: {id} not found")),
        },
        ("PUT", ["groups", id]) => update_group(st, id, body),
        ("DELETE", ["groups", id]) => delete_group(st, id),
        _ => return None,
    };
    Some(answer)
}

fn update_peer(st: &mut Store, id: &str, body: &str) -> Response {
    let Ok(b) = Body::parse(body) else { return bad_body() };
    let decoded = (|| {
        Ok::<_, crate::account::BadBody>((
            b.string("name")?.unwrap_or_default(),
            b.boolean("ssh_enabled")?.unwrap_or(false),
            b.boolean("login_expiration_enabled")?.unwrap_or(false),
            b.boolean("inactivity_expiration_enabled")?.unwrap_or(false),
            b.boolean("approval_required")?,
        ))
    })();
    let Ok((name, ssh, login_exp, inactivity_exp, approval)) = decoded else { return bad_body() };
    let Some(i) = st.account.peers.iter().position(|p| p.id == id) else {
        return fail(404, &format!("peer not found: {id}"));
    };
    let p = &mut st.account.peers[i];
    let sso = !p.user_id.is_empty();
    if p.login_expiration_enabled != login_exp && !sso {
        return fail(
            412,
            "this peer hasn't been added with the SSO login, therefore the login expiration can't be updated",
        );
    }
    if p.inactivity_expiration_enabled != inactivity_exp && !sso {
        return fail(
            412,
            "this peer hasn't been added with the SSO login, therefore the inactivity expiration can't be updated",
        );
    }
    p.name = name;
    p.ssh_enabled = ssh;
    p.login_expiration_enabled = login_exp;
    p.inactivity_expiration_enabled = inactivity_exp;
    if let Some(a) = approval {
        p.approval_required = a;
    }
    st.save();
    json(200, &st.account.peer_json(&st.account.peers[i]))
}

fn delete_peer(st: &mut Store, id: &str) -> Response {
    let Some(i) = st.account.peers.iter().position(|p| p.id == id) else {
        return fail(404, &format!("peer {id} account not found"));
    };
    st.account.peers.remove(i);
    for g in &mut st.account.groups {
        g.peers.retain(|p| p != id);
    }
    st.save();
    json(200, "{}")
}

/// `validateSetupKeyAutoGroups`, wrapped as "invalid auto groups: …" (422).
fn check_auto_groups(a: &Account, groups: &[String]) -> Option<Response> {
    for id in groups {
        match a.groups.iter().find(|g| &g.id == id) {
            None => return Some(fail(422, &format!("invalid auto groups: group not found: {id}"))),
            Some(g) if g.name == "All" => {
                return Some(fail(422, "invalid auto groups: can't add 'All' group to the setup key"));
            }
            Some(_) => {}
        }
    }
    None
}

fn create_key(st: &mut Store, body: &str) -> Response {
    let Ok(b) = Body::parse(body) else { return bad_body() };
    let decoded = (|| {
        Ok::<_, crate::account::BadBody>((
            b.string("name")?.unwrap_or_default(),
            b.string("type")?.unwrap_or_default(),
            b.int("expires_in")?.unwrap_or(0),
            b.strings("auto_groups")?.unwrap_or_default(),
            b.int("usage_limit")?.unwrap_or(0),
            b.boolean("ephemeral")?.unwrap_or(false),
            b.boolean("allow_extra_dns_labels")?.unwrap_or(false),
        ))
    })();
    let Ok((name, kind, expires_in, groups, limit, ephemeral, extra_dns)) = decoded else { return bad_body() };
    if name.is_empty() {
        return fail(422, "setup key name shouldn't be empty");
    }
    if kind != "reusable" && kind != "one-off" {
        return fail(422, &format!("unknown setup key type {kind}"));
    }
    if kind == "one-off" && limit > 1 {
        return fail(
            422,
            &format!(
                "usage_limit {limit} is not valid for a one-off setup key, which can be used once; use type reusable for a key that can be used more than once"
            ),
        );
    }
    if expires_in < 0 {
        return fail(422, "expiresIn can not be in the past");
    }
    if let Some(refusal) = check_auto_groups(&st.account, &groups) {
        return refusal;
    }
    // GenerateSetupKey: an upper-case UUID; only its hash and a hidden form are kept.
    let raw = crate::api::fresh(&mut st.counter, 32).to_uppercase();
    let plain = format!("{}-{}-{}-{}-{}", &raw[..8], &raw[8..12], &raw[12..16], &raw[16..20], &raw[20..32]);
    let t = now();
    let key = SetupKey {
        id: crate::api::fresh(&mut st.counter, 20),
        hidden: format!("{}****", &plain[..5]),
        name,
        kind: kind.clone(),
        created: t,
        expires: if expires_in == 0 { 0 } else { t + expires_in as u64 },
        updated: t,
        revoked: false,
        used_times: 0,
        last_used: 0,
        auto_groups: groups,
        usage_limit: if kind == "one-off" { 1 } else { limit },
        ephemeral,
        allow_extra_dns_labels: extra_dns,
    };
    let answer = Account::key_json(&key, Some(&plain), t);
    st.account.keys.push(key);
    st.save();
    json(200, &answer)
}

fn update_key(st: &mut Store, id: &str, body: &str) -> Response {
    let Ok(b) = Body::parse(body) else { return bad_body() };
    let (Ok(groups), Ok(revoked)) = (b.strings("auto_groups"), b.boolean("revoked")) else { return bad_body() };
    let Some(groups) = groups else { return fail(422, "setup key AutoGroups field is invalid") };
    if let Some(refusal) = check_auto_groups(&st.account, &groups) {
        return refusal;
    }
    let Some(k) = st.account.keys.iter_mut().find(|k| k.id == id) else {
        return fail(404, &format!("setup key: {id} not found"));
    };
    let revoked = revoked.unwrap_or(false);
    if k.revoked && !revoked {
        return fail(422, "can't un-revoke a revoked setup key");
    }
    k.auto_groups = groups;
    k.revoked = revoked;
    k.updated = now();
    let answer = Account::key_json(k, None, now());
    st.save();
    json(200, &answer)
}

/// One of `types.StrRoleToUserRole`'s names, lower-cased as upstream compares them.
fn role(name: &str) -> Option<String> {
    let r = name.to_lowercase();
    ["owner", "admin", "user", "billing_admin", "auditor", "network_admin"].contains(&r.as_str()).then_some(r)
}

fn create_user(st: &mut Store, owner: &str, body: &str) -> Response {
    let Ok(b) = Body::parse(body) else { return bad_body() };
    let decoded = (|| {
        Ok::<_, crate::account::BadBody>((
            b.string("email")?.unwrap_or_default(),
            b.string("name")?.unwrap_or_default(),
            b.string("role")?.unwrap_or_default(),
            b.strings("auto_groups")?.unwrap_or_default(),
            b.boolean("is_service_user")?.unwrap_or(false),
        ))
    })();
    let Ok((email, name, role_name, groups, service)) = decoded else { return bad_body() };
    let Some(r) = role(&role_name) else { return fail(422, &format!("unknown user role {role_name}")) };
    let mut password = None;
    if service {
        if r == "owner" {
            return fail(422, "can't create a service user with owner role");
        }
    } else {
        // inviteNewUser → validateUserInvite → createEmbeddedIdpUser.
        if name.is_empty() {
            return fail(422, "name can't be empty");
        }
        if email.is_empty() {
            return fail(422, "email can't be empty");
        }
        if r == "owner" {
            return fail(422, "can't invite a user with owner role");
        }
        if st.account.users.iter().any(|u| u.email.eq_ignore_ascii_case(&email)) {
            return fail(409, "can't invite a user with an existing NetBird account");
        }
        password = Some(crate::api::fresh(&mut st.counter, 16));
    }
    let user = User {
        id: crate::api::fresh(&mut st.counter, 24),
        email: if service { String::new() } else { email },
        name,
        role: r,
        service,
        blocked: false,
        auto_groups: groups,
        last_login: 0,
        created: now(),
    };
    let answer = Account::user_json(&user, owner, password.as_deref());
    st.account.users.push(user);
    st.save();
    json(200, &answer)
}

fn update_user(st: &mut Store, owner: &str, id: &str, body: &str) -> Response {
    let Some(i) = st.account.users.iter().position(|u| u.id == id) else {
        return fail(404, &format!("user: {id} not found"));
    };
    let Ok(b) = Body::parse(body) else { return bad_body() };
    let decoded = (|| {
        Ok::<_, crate::account::BadBody>((
            b.strings("auto_groups")?,
            b.string("role")?.unwrap_or_default(),
            b.boolean("is_blocked")?.unwrap_or(false),
        ))
    })();
    let Ok((groups, role_name, blocked)) = decoded else { return bad_body() };
    let Some(groups) = groups else { return error(400, "auto_groups field can't be absent") };
    let Some(r) = role(&role_name) else { return fail(422, "invalid user role") };
    let old = &st.account.users[i];
    // validateUserUpdate, with the owner as the initiator.
    let refusal = if id == owner && old.blocked != blocked {
        Some("admins can't block or unblock themselves")
    } else if id == owner && r != "owner" {
        Some("admins can't change their role")
    } else if old.role == "owner" && blocked && !old.blocked {
        Some("unable to block owner user")
    } else if old.service && r == "owner" {
        Some("can't update a service user with owner role")
    } else {
        None
    };
    if let Some(msg) = refusal {
        return fail(403, msg);
    }
    for g in &groups {
        match st.account.groups.iter().find(|x| &x.id == g) {
            None => return fail(422, &format!("provided group ID {g} in the user {id} update doesn't exist")),
            Some(x) if x.name == "All" => return fail(422, "can't add All group to the user"),
            Some(_) => {}
        }
    }
    // handleOwnerRoleTransfer: giving away the owner role makes the initiator an admin.
    if r == "owner" && old.role != "owner" {
        if let Some(o) = st.account.users.iter_mut().find(|u| u.id == owner) {
            o.role = "admin".into();
        }
    }
    let u = &mut st.account.users[i];
    u.role = r;
    u.blocked = blocked;
    u.auto_groups = groups;
    let answer = Account::user_json(u, owner, None);
    st.save();
    json(200, &answer)
}

fn delete_user(st: &mut Store, owner: &str, id: &str) -> Response {
    if id == owner {
        return fail(422, "self deletion is not allowed");
    }
    let Some(i) = st.account.users.iter().position(|u| u.id == id) else {
        return fail(404, &format!("user: {id} not found"));
    };
    if st.account.users[i].role == "owner" {
        return fail(403, "can't delete a user with the owner role");
    }
    let user = st.account.users.remove(i);
    if !user.service {
        // deleteRegularUser takes the user's peers with it.
        let gone: Vec<String> =
            st.account.peers.iter().filter(|p| p.user_id == user.id).map(|p| p.id.clone()).collect();
        st.account.peers.retain(|p| p.user_id != user.id);
        for g in &mut st.account.groups {
            g.peers.retain(|p| !gone.contains(p));
        }
    }
    st.save();
    json(200, "{}")
}

/// Name, peers and resources of a group request (`api.GroupRequest`).
type GroupFields = (String, Option<Vec<String>>, Option<Vec<String>>);

fn group_fields(body: &str) -> Result<GroupFields, Response> {
    let b = Body::parse(body).map_err(|_| bad_body())?;
    let name = b.string("name").map_err(|_| bad_body())?.unwrap_or_default();
    let peers = b.strings("peers").map_err(|_| bad_body())?;
    let resources = b.resources("resources").map_err(|_| bad_body())?;
    if name.is_empty() {
        return Err(fail(422, "group name shouldn't be empty"));
    }
    Ok((name, peers, resources))
}

fn create_group(st: &mut Store, body: &str) -> Response {
    let (name, peers, resources) = match group_fields(body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if st.account.groups.iter().any(|g| g.name == name) {
        return fail(409, &format!("group with name {name} already exists"));
    }
    let group = Group {
        id: crate::api::fresh(&mut st.counter, 20),
        name,
        peers: peers.unwrap_or_default(),
        resources: resources.unwrap_or_default(),
    };
    let answer = st.account.group_json(&group);
    st.account.groups.push(group);
    st.save();
    json(200, &answer)
}

fn update_group(st: &mut Store, id: &str, body: &str) -> Response {
    let Some(i) = st.account.groups.iter().position(|g| g.id == id) else {
        return fail(404, &format!("group: {id} not found"));
    };
    if st.account.groups[i].name == "All" {
        return fail(422, "updating group ALL is not allowed");
    }
    let (name, peers, resources) = match group_fields(body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    // The request's peers and resources replace the group's (`groups_handler.go`
    // `updateGroup`): leaving either out empties it, and a resource left out leaves the group.
    st.account.groups[i] = Group {
        id: id.to_string(),
        name,
        peers: peers.unwrap_or_default(),
        resources: resources.unwrap_or_default(),
    };
    st.save();
    json(200, &st.account.group_json(&st.account.groups[i]))
}

fn delete_group(st: &mut Store, id: &str) -> Response {
    // DeleteGroups joins the validation errors; the handler writes the first one as 400, raw.
    let a = &st.account;
    let Some(g) = a.groups.iter().find(|g| g.id == id) else {
        return error(400, &format!("group: {id} not found"));
    };
    let linked = if g.name == "All" {
        Some("deleting group ALL is not allowed".to_string())
    } else if let Some(r) = g.resources.first() {
        Some(format!("group has been linked to network resource: {}", r.split(':').next().unwrap_or(r)))
    } else if let Some(ns) = a.nameservers.iter().find(|n| n.groups.iter().any(|x| x == id)) {
        Some(format!("group has been linked to name server groups: {}", ns.name))
    } else if let Some(p) =
        a.policies.iter().find(|p| p.rules.iter().any(|r| r.sources.iter().chain(&r.destinations).any(|x| x == id)))
    {
        // `validateDeleteGroup`: policies are checked before setup keys and users.
        Some(format!("group has been linked to policy: {}", p.name))
    } else if let Some(k) = a.keys.iter().find(|k| k.auto_groups.iter().any(|x| x == id)) {
        Some(format!("group has been linked to setup key: {}", k.name))
    } else if let Some(u) = a.users.iter().find(|u| u.auto_groups.iter().any(|x| x == id)) {
        Some(format!("group has been linked to user: {}", u.id))
    } else if let Some(r) = a.routers.iter().find(|r| r.peer_groups.iter().flatten().any(|x| x == id)) {
        Some(format!("group has been linked to network router: {}", r.id))
    } else {
        // `checkGroupLinkedToSettings`, last.
        a.dns_disabled.iter().any(|x| x == id).then(|| format!("group has been linked to disabled DNS management groups: {}", g.name))
    };
    if let Some(msg) = linked {
        return error(400, &msg);
    }
    st.account.groups.retain(|g| g.id != id);
    st.save();
    json(200, "{}")
}

/// The account a fresh setup creates (`account.go` `newAccountWithId`, `types/account.go`
/// `AddAllGroup`): the owner, the `All` group and, for tests, the devices
/// `STANDIN_PEERS="total,connected"` asks for — every other one added by the owner with SSO,
/// the rest with a setup key; every third one on an older client.
pub fn seed(account: &mut Account, owner_id: &str, email: &str, name: &str, counter: &mut u64) {
    let t = now();
    account.users.push(User {
        id: owner_id.to_string(),
        email: email.to_string(),
        name: name.to_string(),
        role: "owner".into(),
        service: false,
        blocked: false,
        auto_groups: Vec::new(),
        last_login: t,
        created: t,
    });
    let spec = std::env::var("STANDIN_PEERS").unwrap_or_default();
    let mut it = spec.split(',').map(|n| n.trim().parse::<usize>().unwrap_or(0));
    let (total, connected) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    let mut all = Group { id: crate::api::fresh(counter, 20), name: "All".into(), peers: Vec::new(), resources: Vec::new() };
    for i in 0..total {
        let id = crate::api::fresh(counter, 20);
        all.peers.push(id.clone());
        account.peers.push(Peer {
            id,
            name: format!("device-{i}"),
            ip: format!("100.64.{}.{}", i / 250, i % 250 + 1),
            connected: i < connected,
            last_seen: t - if i < connected { 0 } else { 3600 * (i as u64 + 1) },
            os: if i % 2 == 0 { "linux".into() } else { "darwin".into() },
            version: if i % 3 == 2 { "0.60.2".into() } else { "0.77.1".into() },
            hostname: format!("host-{i}"),
            user_id: if i % 2 == 1 { owner_id.to_string() } else { String::new() },
            ssh_enabled: false,
            login_expiration_enabled: i % 2 == 1,
            inactivity_expiration_enabled: false,
            approval_required: false,
            created: t - 86_400,
        });
    }
    // `AddAllGroup`: the Default policy, All → All both ways, every protocol, accept; its one
    // rule shares the policy's id.
    let id = crate::api::fresh(counter, 20);
    let words = "This is a default rule that allows connections between all the resources";
    account.policies.push(crate::account::Policy {
        id: id.clone(),
        name: "Default".into(),
        description: words.into(),
        enabled: true,
        rules: vec![crate::account::Rule {
            id,
            name: "Default".into(),
            description: words.into(),
            enabled: true,
            action: "accept".into(),
            bidirectional: true,
            protocol: "all".into(),
            ports: Vec::new(),
            sources: vec![all.id.clone()],
            destinations: vec![all.id.clone()],
        }],
        posture: None,
    });
    account.groups.push(all);
}
