//! Administering a customer's NetBird from nbmsp: one entry point, [`Ops::netbird`], which
//! checks the actor's role, reaches the instance on the Docker network with the owner's token,
//! resolves names to NetBird ids against a fresh list, and writes every change to the audit
//! log (who, what, which customer) whether NetBird accepted it or not.

use super::admin::Api;
use crate::domain::audit::AuditStatus;
use crate::domain::customer::Customer;
use crate::domain::netbird::{
    AdminAction, AdminAnswer, CreatedKey, CreatedUser, Group, NB_ROLES, NbUser, Peer, SetupKey, join_command,
};
use crate::engine::EngineError;
use crate::engine::ops::lifecycle::Ops;
use crate::engine::proxy::Proxy;

/// Finds the one record `target` names: its id, else a unique name (or email for users).
fn pick<'a, T>(
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

impl<P: Proxy> Ops<'_, P> {
    /// Does `action` in the customer's NetBird as its owner.
    pub async fn netbird(&self, customer_id: i64, action: AdminAction) -> Result<AdminAnswer, EngineError> {
        crate::store::auth::require_role(self.role, action.permission(), action.describe())?;
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
    async fn admin_api<'c>(&self, customer: &Customer, client: &'c reqwest::Client) -> Result<Api<'c>, EngineError> {
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
                let groups = api.groups().await?;
                let mut ids = Vec::new();
                for g in &new.auto_groups {
                    let found = pick(&groups, g, "group", |g| &g.id, |g| vec![&g.name]).map_err(|_| {
                        EngineError::NetBird(format!(
                            "no group '{g}' in '{sub}': create it first (`nbmsp customer groups {sub} create {g}`)",
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
        })
    }
}

/// The device `target` names, from a fresh list.
async fn find_peer(api: &Api<'_>, target: &str) -> Result<Peer, EngineError> {
    let all = api.peers().await?;
    pick(&all, target, "device", |p| &p.id, |p| vec![&p.name]).cloned()
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
