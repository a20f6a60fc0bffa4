//! Administering a customer's NetBird from nbmsp: one entry point, [`Ops::netbird`], which
//! checks the actor's role, reaches the instance on the Docker network with the owner's token,
//! resolves names to NetBird ids against a fresh list, and writes every change to the audit
//! log (who, what, which customer) whether NetBird accepted it or not.

use super::admin::Api;
use crate::domain::audit::AuditStatus;
use crate::domain::customer::Customer;
use crate::domain::netbird::{
    AdminAction, AdminAnswer, CreatedKey, CreatedUser, Group, NB_ROLES, NbUser, Peer, ServiceAuth, SetupKey,
    join_command,
};
use crate::engine::EngineError;
use crate::engine::npm::proxy::Proxy;
use crate::engine::ops::lifecycle::Ops;

/// Finds the one record `target` names: its id, else a unique name (or email for users).
pub(super) fn pick<'a, T>(
    items: &'a [T],
    target: &str,
    what: &str,
    id: impl Fn(&T) -> &str,
    names: impl Fn(&T) -> Vec<&str>,
) -> Result<&'a T, EngineError> {
    if let Some(t) = items.iter().find(|t| id(t) == target) {
        return Ok(t);
    }
    let matches: Vec<&T> = items.iter().filter(|t| names(t).iter().any(|n| n.eq_ignore_ascii_case(target))).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(EngineError::NetBird(format!("no {what} '{target}' (by id or name) among {}", items.len()))),
        many => Err(EngineError::NetBird(format!(
            "{} {what}s are called '{target}': name one by its id ({})",
            many.len(),
            many.iter().map(|t| id(t)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Group names or ids as NetBird ids, against a fresh list (NetBird takes ids, and drops ones
/// it does not know without a word: an unknown name is refused here).
pub(super) fn group_ids(groups: &[Group], wanted: &[String]) -> Result<Vec<String>, EngineError> {
    wanted.iter().map(|g| Ok(pick(groups, g, "group", |g| &g.id, |g| vec![&g.name])?.id.clone())).collect()
}

/// A group's name for its id (the id itself when the group is gone).
pub(super) fn name_of<'a>(groups: &'a [Group], id: &'a str) -> &'a str {
    groups.iter().find(|g| g.id == id).map_or(id, |g| g.name.as_str())
}

impl<P: Proxy> Ops<'_, P> {
    /// Does `action` in the customer's NetBird as its owner.
    pub async fn netbird(&self, customer_id: i64, action: AdminAction) -> Result<AdminAnswer, EngineError> {
        crate::store::auth::require_role_doing(self.role, action.right(), action.describe())?;
        self.netbird_unchecked(customer_id, action).await
    }

    /// `action` done as a step of another use case whose right covers it — the fleet's baseline
    /// applied at a customer's first deploy is part of that deploy, so `covered_by` (the deploy's
    /// right) is what the role must have; audited the same way.
    pub(crate) async fn netbird_within(
        &self,
        customer_id: i64,
        action: AdminAction,
        covered_by: crate::domain::rights::Right,
    ) -> Result<AdminAnswer, EngineError> {
        crate::store::auth::require_role_doing(self.role, covered_by, action.describe())?;
        self.netbird_unchecked(customer_id, action).await
    }

    async fn netbird_unchecked(&self, customer_id: i64, action: AdminAction) -> Result<AdminAnswer, EngineError> {
        let customer = self.store.customer(customer_id)?;
        let api_client = self.api_client(&customer).await?;
        let result = async {
            let api = self.admin_api(&customer, &api_client).await?;
            self.perform(&customer, &api, &action).await
        }
        .await;
        if action.changes() {
            let (status, message) = match &result {
                Ok(AdminAnswer::Done(m)) => (AuditStatus::Success, m.clone()),
                Ok(AdminAnswer::KeyCreated(k)) => (
                    AuditStatus::Success,
                    format!(
                        "setup key '{}' created ({}, groups: {})",
                        k.key.name,
                        k.key.kind,
                        if k.key.auto_groups.is_empty() { "none".into() } else { k.key.auto_groups.join(", ") }
                    ),
                ),
                Ok(AdminAnswer::UserCreated(u)) => (
                    AuditStatus::Success,
                    format!(
                        "NetBird {} '{}' created with role {}",
                        if u.user.service { "service user" } else { "user" },
                        if u.user.email.is_empty() { &u.user.name } else { &u.user.email },
                        u.user.role
                    ),
                ),
                Ok(_) => (AuditStatus::Success, action.describe().to_string()),
                Err(e) => (AuditStatus::Error, format!("could not {}: {e}", action.describe())),
            };
            self.store.log_customer(self.actor, &customer, "netbird", status, &message)?;
        }
        result
    }

    /// The instance's API with the owner's token, or a clear reason it cannot be reached.
    pub(super) async fn admin_api<'c>(
        &self,
        customer: &Customer,
        client: &'c reqwest::Client,
    ) -> Result<Api<'c>, EngineError> {
        self.require_deployed(customer)?;
        let settings = self.store.settings()?;
        let base = self.management_url(customer, &settings.docker_network).await?;
        let pat = self.stored_pat(customer)?;
        let expiry = self.store.deployment(customer.id)?.and_then(|d| d.pat_expires_at);
        let now = time::OffsetDateTime::now_utc();
        let why = match expiry {
            Some(e) if e <= now => format!("it expired on {}", e.date()),
            Some(e) => format!("it was revoked (it would have expired on {})", e.date()),
            None => "it is unknown to NetBird".into(),
        };
        let domain = customer.fqdn(&settings.base_domain);
        let on_rejected = format!(
            "NetBird of '{sub}' refused nbmsp's access token: {why}. nbmsp renews it {days} days before expiry \
             while the monitor runs; a dead token cannot renew itself. Sign in at https://{domain} as the owner \
             (`nbmsp customer credentials {sub} --yes`), create a token under Team → Users, then store it with \
             `nbmsp customer set-token {sub} --token-file FILE`",
            sub = customer.subdomain,
            days = settings.pat_renew_days,
        );
        Ok(Api { client, base, pat, on_rejected, domain })
    }

    async fn perform(
        &self,
        customer: &Customer,
        api: &Api<'_>,
        action: &AdminAction,
    ) -> Result<AdminAnswer, EngineError> {
        use AdminAction::*;
        let device = |p: &Peer| format!("device '{}' ({})", p.name, p.ip);
        Ok(match action {
            Peers => AdminAnswer::Peers(api.peers().await?),
            Keys => AdminAnswer::Keys(api.keys().await?),
            Users => AdminAnswer::Users(api.users().await?),
            Groups => AdminAnswer::Groups(api.groups().await?),
            Policies => AdminAnswer::Policies(api.policies().await?),
            Events => AdminAnswer::Events(api.events().await?),
            Idps => AdminAnswer::Idps(api.idps().await?),
            Nameservers => AdminAnswer::Nameservers(api.nameservers().await?),
            Postures => AdminAnswer::Postures(api.postures().await?),
            Network(n) => super::networks::perform(api, n).await?,
            CreatePosture(p) => {
                let made = api.create_posture(p).await?;
                AdminAnswer::Done(format!("posture check '{}' added: {}", made.name, made.checks.join("; ")))
            }
            UpdatePosture { posture, new } => {
                let all = api.postures().await?;
                let p = pick(&all, posture, "posture check", |p| &p.id, |p| vec![&p.name])?.clone();
                let saved = api.update_posture(&p.id, new).await?;
                AdminAnswer::Done(format!("posture check '{}' changed: {}", saved.name, saved.checks.join("; ")))
            }
            DeletePosture { posture } => {
                let all = api.postures().await?;
                let p = pick(&all, posture, "posture check", |p| &p.id, |p| vec![&p.name])?.clone();
                api.delete_posture(&p.id).await?;
                AdminAnswer::Done(format!("posture check '{}' deleted", p.name))
            }
            PolicyPosture { policy, posture, attach } => {
                let pol = find_policy(api, policy).await?;
                let all = api.postures().await?;
                let check = pick(&all, posture, "posture check", |p| &p.id, |p| vec![&p.name])?.clone();
                api.set_policy_posture(&pol.id, &check.id, *attach).await?;
                AdminAnswer::Done(if *attach {
                    format!("policy '{}' now requires posture check '{}'", pol.name, check.name)
                } else {
                    format!("policy '{}' no longer requires posture check '{}'", pol.name, check.name)
                })
            }
            CreatePolicy(new) => {
                let groups = api.groups().await?;
                let (from, to) = (group_ids(&groups, &new.sources)?, group_ids(&groups, &new.destinations)?);
                let posture = if new.posture.is_empty() { Vec::new() } else { posture_ids(api, &new.posture).await? };
                let made = api.create_policy(new, &from, &to, &posture).await?;
                AdminAnswer::Done(format!("policy '{}' added: {}", made.name, rule_words(&made)))
            }
            EditPolicy { policy, edit } => {
                let all = api.policies().await?;
                let p = pick(&all, policy, "policy", |p| &p.id, |p| vec![&p.name])?.clone();
                let groups = api.groups().await?;
                let ids = |names: &Option<Vec<String>>| names.as_ref().map(|n| group_ids(&groups, n)).transpose();
                let posture = match &edit.posture {
                    Some(names) => Some(posture_ids(api, names).await?),
                    None => None,
                };
                let saved =
                    api.edit_policy(&p.id, edit, ids(&edit.sources)?, ids(&edit.destinations)?, posture).await?;
                AdminAnswer::Done(format!("policy '{}' changed: {}", saved.name, rule_words(&saved)))
            }
            CreateNameservers(new) => {
                // Groups by name or id, against a fresh list (NetBird takes ids).
                let ids = group_ids(&api.groups().await?, &new.groups)?;
                let made = api.create_nameservers(new, &ids).await?;
                let scope = if made.primary { "every name".to_string() } else { made.domains.join(", ") };
                AdminAnswer::Done(format!(
                    "nameserver group '{}' added: {} for {scope}, groups {}",
                    made.name,
                    made.servers.join(", "),
                    new.groups.join(", ")
                ))
            }
            DeleteNameservers { group } => {
                let all = api.nameservers().await?;
                let g = pick(&all, group, "nameserver group", |g| &g.id, |g| vec![&g.name])?.clone();
                api.delete_nameservers(&g.id).await?;
                AdminAnswer::Done(format!("nameserver group '{}' deleted", g.name))
            }
            CreateIdp(new) => {
                if !crate::domain::netbird::IDP_TYPES.contains(&new.kind.as_str()) {
                    return Err(EngineError::NetBird(format!(
                        "'{}' is not a type NetBird supports: {}",
                        new.kind,
                        crate::domain::netbird::IDP_TYPES.join(", ")
                    )));
                }
                let made = api.create_idp(new).await?;
                AdminAnswer::Done(format!("identity provider '{}' ({}) added as {}", made.name, made.kind, made.id))
            }
            DeleteIdp { idp } => {
                let all = api.idps().await?;
                let i = pick(&all, idp, "identity provider", |i| &i.id, |i| vec![&i.name])?.clone();
                api.delete_idp(&i.id).await?;
                AdminAnswer::Done(format!("identity provider '{}' ({}) deleted", i.name, i.kind))
            }
            PolicyEnabled { policy, enabled } => {
                let p = find_policy(api, policy).await?;
                api.set_policy_enabled(&p.id, *enabled).await?;
                let flat = if p.all_to_all && !*enabled { " (every device could reach every other)" } else { "" };
                AdminAnswer::Done(format!(
                    "policy '{}' {}{flat}",
                    p.name,
                    if *enabled { "enabled" } else { "disabled" }
                ))
            }
            DeletePolicy { policy } => {
                let p = find_policy(api, policy).await?;
                api.delete_policy(&p.id).await?;
                AdminAnswer::Done(format!("policy '{}' deleted", p.name))
            }
            RenamePeer { peer, name } => {
                let name = name.trim();
                if name.is_empty() {
                    return Err(EngineError::NetBird("a device needs a name".into()));
                }
                let p = &find_peer(api, peer).await?;
                let new = name.to_string();
                api.update_peer(&p.id, |b| b["name"] = serde_json::json!(new)).await?;
                AdminAnswer::Done(format!("{} renamed to '{name}'", device(p)))
            }
            PeerLoginExpiration { peer, enabled } => {
                let p = &find_peer(api, peer).await?;
                let on = *enabled;
                api.update_peer(&p.id, |b| b["login_expiration_enabled"] = serde_json::json!(on)).await?;
                AdminAnswer::Done(format!("login expiration {} for {}", if on { "on" } else { "off" }, device(p)))
            }
            DeletePeer { peer } => {
                let p = &find_peer(api, peer).await?;
                api.delete_peer(&p.id).await?;
                AdminAnswer::Done(format!("{} deleted", device(p)))
            }
            CreateKey(new) => {
                if new.name.trim().is_empty() {
                    return Err(EngineError::NetBird("a setup key needs a name".into()));
                }
                // The fleet's baseline decides what keys may be, for every door.
                if let Some(rules) = crate::engine::fleet::baseline::load(self.store)?.and_then(|b| b.setup_keys) {
                    rules.allows(new.reusable, new.expires_days).map_err(|e| EngineError::Usage(e.rule))?;
                }
                let groups = api.groups().await?;
                let mut ids = Vec::new();
                for g in &new.auto_groups {
                    let found = pick(&groups, g, "group", |g| &g.id, |g| vec![&g.name]).map_err(|_| {
                        EngineError::NetBird(format!(
                            "no group '{g}' in '{sub}': create it first (the NetBird tab's Groups list, or \
                             `nbmsp customer groups {sub} create {g}`)",
                            sub = customer.subdomain
                        ))
                    })?;
                    ids.push(found.id.clone());
                }
                let (key, secret) = api.create_key(new, &ids).await?;
                AdminAnswer::KeyCreated(CreatedKey { command: join_command(&api.domain, &secret), key, secret })
            }
            RevokeKey { key } => {
                let k = find_key(api, key).await?;
                api.revoke_key(&k.id).await?;
                AdminAnswer::Done(format!("setup key '{}' revoked", k.name))
            }
            DeleteKey { key } => {
                let k = find_key(api, key).await?;
                api.delete_key(&k.id).await?;
                AdminAnswer::Done(format!("setup key '{}' deleted", k.name))
            }
            CreateUser(new) => {
                if !new.service && new.email.trim().is_empty() {
                    return Err(EngineError::NetBird("a user who logs in needs an email".into()));
                }
                check_role(&new.role)?;
                let (user, password) = api.create_user(new).await?;
                AdminAnswer::UserCreated(CreatedUser { user, password })
            }
            SetUserRole { user, role } => {
                check_role(role)?;
                let u = &find_user(api, user).await?;
                api.update_user(&u.id, Some(role), None).await?;
                AdminAnswer::Done(format!("NetBird user '{}' is now {role} (was {})", label(u), u.role))
            }
            BlockUser { user, blocked } => {
                let u = &find_user(api, user).await?;
                api.update_user(&u.id, None, Some(*blocked)).await?;
                AdminAnswer::Done(format!(
                    "NetBird user '{}' {}",
                    label(u),
                    if *blocked { "blocked" } else { "unblocked" }
                ))
            }
            DeleteUser { user } => {
                let u = &find_user(api, user).await?;
                api.delete_user(&u.id).await?;
                AdminAnswer::Done(format!("NetBird user '{}' deleted", label(u)))
            }
            CreateGroup { name } => {
                let g = api.create_group(name.trim()).await?;
                AdminAnswer::Done(format!("group '{}' created", g.name))
            }
            RenameGroup { group, name } => {
                let g = find_group(api, group).await?;
                api.rename_group(&g.id, name.trim()).await?;
                AdminAnswer::Done(format!("group '{}' renamed to '{}'", g.name, name.trim()))
            }
            DeleteGroup { group } => {
                let g = find_group(api, group).await?;
                api.delete_group(&g.id).await?;
                AdminAnswer::Done(format!("group '{}' deleted", g.name))
            }
            Services => AdminAnswer::Services(api.services().await?),
            CreateService(new) => {
                let label = new.name.trim().to_ascii_lowercase();
                crate::domain::validate::subdomain(&label)
                    .map_err(|e| EngineError::Usage(format!("a service name is one DNS label: {}", e.rule)))?;
                if !customer.reverse_proxy {
                    return Err(EngineError::Usage(format!(
                        "'{sub}' has no reverse proxy: `nbmsp customer update {sub} --reverse-proxy on` and redeploy first",
                        sub = customer.subdomain
                    )));
                }
                let (target, to) = service_target(api, &new.target, &new.scheme).await?;
                let (auth, words) = match &new.auth {
                    ServiceAuth::None => (serde_json::json!({}), "no authentication"),
                    ServiceAuth::Sso => (serde_json::json!({"bearer_auth": {"enabled": true}}), "NetBird login"),
                    ServiceAuth::Pin(s) => (serde_json::json!({"pin_auth": {"enabled": true, "pin": s.0}}), "a PIN"),
                    ServiceAuth::Password(s) => {
                        (serde_json::json!({"password_auth": {"enabled": true, "password": s.0}}), "a password")
                    }
                };
                let body = serde_json::json!({
                    "name": label,
                    "domain": format!("{label}.{}", api.domain),
                    "mode": "http",
                    "enabled": true,
                    "targets": [target],
                    "auth": auth,
                });
                let s = api.create_service(&body).await?;
                AdminAnswer::Done(format!(
                    "service '{}' published at https://{} to {to} port {} ({words})",
                    s.name, s.domain, new.target.port
                ))
            }
            ServiceEnabled { service, enabled } => {
                let s = find_service(api, service).await?;
                api.set_service_enabled(&s.id, *enabled).await?;
                AdminAnswer::Done(format!("service '{}' {}", s.name, if *enabled { "enabled" } else { "disabled" }))
            }
            DeleteService { service } => {
                let s = find_service(api, service).await?;
                api.delete_service(&s.id).await?;
                AdminAnswer::Done(format!("service '{}' ({}) deleted", s.name, s.domain))
            }
        })
    }
}

/// The device `target` names, from a fresh list.
async fn find_policy(api: &Api<'_>, target: &str) -> Result<crate::domain::netbird::Policy, EngineError> {
    let all = api.policies().await?;
    pick(&all, target, "policy", |p| &p.id, |p| vec![&p.name]).cloned()
}

async fn find_peer(api: &Api<'_>, target: &str) -> Result<Peer, EngineError> {
    let all = api.peers().await?;
    pick(&all, target, "device", |p| &p.id, |p| vec![&p.name]).cloned()
}

/// A service's target as NetBird takes it (`api.ServiceTarget`), and in words: `spec` names a
/// device, else a network resource, whose type is the target's type; a subnet resource needs
/// the address inside it, which nothing else takes. Checked here because NetBird's own answer
/// to a subnet without one names a target index, not the resource.
async fn service_target(
    api: &Api<'_>,
    spec: &crate::domain::service_target::TargetSpec,
    scheme: &str,
) -> Result<(serde_json::Value, String), EngineError> {
    let peers = api.peers().await?;
    let mut target = serde_json::json!({"protocol": scheme, "port": spec.port, "enabled": true});
    let named_device = peers.iter().any(|p| p.id == spec.name || p.name.eq_ignore_ascii_case(&spec.name));
    let words = if named_device {
        let p = pick(&peers, &spec.name, "device", |p| &p.id, |p| vec![&p.name])?;
        if spec.address.is_some() {
            return Err(EngineError::Usage(format!(
                "'{}' is a device: it is reached at its own address (@ADDRESS is for a subnet resource)",
                p.name
            )));
        }
        target["target_id"] = p.id.clone().into();
        target["target_type"] = "peer".into();
        format!("device '{}'", p.name)
    } else {
        let resources: Vec<_> = api.networks().await?.into_iter().flat_map(|n| n.resources).collect();
        let r = pick(&resources, &spec.name, "device or network resource", |r| &r.id, |r| vec![&r.name])?;
        match (r.kind.as_str(), spec.address) {
            ("subnet", None) => {
                return Err(EngineError::Usage(format!(
                    "'{}' is the subnet {}: name the address inside it ({}@ADDRESS:PORT)",
                    r.name, r.address, r.name
                )));
            }
            ("subnet", Some(ip)) if !crate::domain::service_target::in_subnet(&r.address, ip) => {
                return Err(EngineError::Usage(format!("{ip} is not in '{}' ({})", r.name, r.address)));
            }
            ("subnet", Some(ip)) => target["host"] = ip.to_string().into(),
            (_, Some(_)) => {
                return Err(EngineError::Usage(format!(
                    "'{}' is a {} resource ({}): @ADDRESS is for a subnet resource",
                    r.name, r.kind, r.address
                )));
            }
            (_, None) => {}
        }
        target["target_id"] = r.id.clone().into();
        target["target_type"] = r.kind.clone().into();
        match spec.address {
            Some(ip) => format!("{ip} in resource '{}'", r.name),
            None => format!("resource '{}' ({})", r.name, r.address),
        }
    };
    Ok((target, words))
}

/// The service `target` names (id, name or domain), from a fresh list.
async fn find_service(api: &Api<'_>, target: &str) -> Result<crate::domain::netbird::ServiceInfo, EngineError> {
    let all = api.services().await?;
    pick(&all, target, "service", |s| &s.id, |s| vec![&s.name, &s.domain]).cloned()
}

/// The setup key `target` names, from a fresh list.
async fn find_key(api: &Api<'_>, target: &str) -> Result<SetupKey, EngineError> {
    let all = api.keys().await?;
    pick(&all, target, "setup key", |k| &k.id, |k| vec![&k.name]).cloned()
}

/// The user `target` names (id, email or name), from a fresh list.
async fn find_user(api: &Api<'_>, target: &str) -> Result<NbUser, EngineError> {
    let all = api.users().await?;
    pick(&all, target, "user", |u| &u.id, |u| vec![&u.email, &u.name]).cloned()
}

/// The group `target` names, from a fresh list.
async fn find_group(api: &Api<'_>, target: &str) -> Result<Group, EngineError> {
    let all = api.groups().await?;
    pick(&all, target, "group", |g| &g.id, |g| vec![&g.name]).cloned()
}

fn label(u: &NbUser) -> &str {
    if u.email.is_empty() { &u.name } else { &u.email }
}

fn check_role(role: &str) -> Result<(), EngineError> {
    if NB_ROLES.contains(&role) {
        return Ok(());
    }
    Err(EngineError::NetBird(format!(
        "'{role}' is not a role nbmsp gives (one of {}; ownership moves in NetBird's dashboard)",
        NB_ROLES.join(", ")
    )))
}

/// A policy's rules in words: `staff → servers tcp 22,443 (one way)`.
fn rule_words(p: &crate::domain::netbird::Policy) -> String {
    let rules: Vec<String> = p
        .rules
        .iter()
        .map(|r| {
            let ports = if r.ports.is_empty() { String::new() } else { format!(" {}", r.ports.join(",")) };
            let way = if r.bidirectional { "" } else { " (one way)" };
            let drop = if r.action == "drop" { " DROP" } else { "" };
            format!("{} → {} {}{ports}{way}{drop}", r.sources.join(","), r.destinations.join(","), r.protocol)
        })
        .collect();
    let off = if p.enabled { "" } else { " (disabled)" };
    format!("{}{off}", rules.join("; "))
}

/// Posture checks by name or id, as NetBird ids (NetBird drops ids it does not know).
async fn posture_ids(api: &super::admin::Api<'_>, names: &[String]) -> Result<Vec<String>, EngineError> {
    let all = api.postures().await?;
    names.iter().map(|n| Ok(pick(&all, n, "posture check", |p| &p.id, |p| vec![&p.name])?.id.clone())).collect()
}
