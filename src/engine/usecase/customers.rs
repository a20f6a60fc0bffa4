//! A customer's record: creating customers (one, or many from an import: validated, placed on
//! a host, and given ids no container of this installation already carries), editing them, and
//! what carries their secrets out (owner credentials, rendered files).

use std::path::{Path, PathBuf};

use crate::domain::audit::AuditStatus;
use crate::domain::customer::{Customer, CustomerPatch, CustomerRef, NewCustomer};
use crate::domain::rights::Right;
use crate::engine::EngineError;
use crate::engine::hosts::{self, Engines};
use crate::engine::netbird::OwnerCredentials;
use crate::engine::{stack::instance, stack::render};
use crate::store::{Session, Store};

/// Records `news` (none if any is invalid), each placed on a host with room (`host` chooses one
/// for all). Nothing is deployed here.
pub async fn create(
    store: &Store,
    session: &Session,
    news: &[NewCustomer],
    host: Option<&str>,
) -> Result<Vec<Customer>, EngineError> {
    session.require(Right::CreateCustomers)?;
    if let Some(e) = news.iter().flat_map(NewCustomer::validate).next() {
        return Err(crate::store::StoreError::from(e).into());
    }
    let layouts: Vec<_> = news.iter().map(|n| n.layout).collect();
    let placed = hosts::place(store, host, &layouts).await?;
    let floor = highest_id_outside(store).await?;
    let mut created = Vec::with_capacity(news.len());
    for (new, host) in news.iter().zip(placed) {
        created.push(store.create_customer_on(&session.user.username, new, host, floor)?);
    }
    Ok(created)
}

/// The highest customer id on this installation's containers, on every host that answers.
/// The database's own high-water mark does not know the customers created after the backup
/// it was put back from; their containers do. A host that does not answer is passed over
/// (recording a customer needs no engine; its deploy asks its host again, see
/// `Ops::container_names`).
pub(crate) async fn highest_id_outside(store: &Store) -> Result<i64, EngineError> {
    let installation = store.installation_id()?;
    let engines = Engines::new(store)?;
    let (found, down) = engines.list_fleet(&installation).await;
    for (key, e) in down {
        tracing::warn!("host {}: not asked for customer ids: {e}", engines.name(key));
    }
    Ok(found.iter().map(|(_, c)| c.customer_id).max().unwrap_or(0))
}

/// Changes a customer's fields (an empty patch changes nothing and is refused by the doors).
pub fn edit(
    store: &Store,
    session: &Session,
    target: &CustomerRef,
    patch: &CustomerPatch,
) -> Result<Customer, crate::store::StoreError> {
    session.require(Right::EditCustomers)?;
    store.expect_customer(target)?;
    store.update_customer(&session.user.username, target.id, patch)
}

/// The NetBird owner's credentials nbmsp holds for the customer; showing them is audited.
pub fn credentials(store: &Store, session: &Session, target: &CustomerRef) -> Result<OwnerCredentials, EngineError> {
    session.require(Right::Credentials)?;
    let customer = store.expect_customer(target)?;
    let Some(o) = crate::engine::netbird::owner_credentials(store, &session.vault, customer.id)? else {
        return Err(crate::store::StoreError::NotFound(format!(
            "nbmsp holds no NetBird owner credentials for '{}' (not deployed yet, or set up outside nbmsp)",
            customer.subdomain
        ))
        .into());
    };
    store.log_customer(
        &session.user.username,
        &customer,
        "credentials",
        AuditStatus::Info,
        "owner credentials shown",
    )?;
    Ok(o)
}

/// Writes the customer's rendered files (secrets in them) to `out`, rendered with the
/// templates in `templates` when it has any. Returns the UDP port used and the instance dir
/// the files are meant for.
pub fn render_files(
    store: &Store,
    session: &Session,
    customer: &Customer,
    templates: Option<PathBuf>,
    out: &Path,
) -> Result<(u16, PathBuf), EngineError> {
    session.require(Right::Render)?;
    let port = render::preview_port(store, customer)?;
    let stack = render::render_customer(store, &session.vault, customer, port, templates)?;
    std::fs::create_dir_all(out).map_err(|e| EngineError::Files(format!("cannot create {}: {e}", out.display())))?;
    for f in &stack.files {
        instance::write_atomic(&out.join(f.name), f.content.as_bytes(), if f.secret { 0o600 } else { 0o644 })?;
    }
    store.log_customer(
        &session.user.username,
        customer,
        "render",
        AuditStatus::Info,
        &format!("files written to {}", out.display()),
    )?;
    Ok((port, stack.instance_dir))
}

/// Deletes a customer that was never deployed: nothing on Docker or the proxy, only its record
/// and a leftover instance dir from a dry run (kept as an archive unless `purge_data`). A
/// deployed customer goes through `Ops::delete`, which takes its lock and journal.
pub fn delete_undeployed(
    store: &Store,
    session: &Session,
    customer: &Customer,
    purge_data: bool,
) -> Result<Option<PathBuf>, EngineError> {
    session.require(Right::Delete)?;
    if store.deployment(customer.id)?.is_some() {
        return Err(crate::store::StoreError::Conflict(format!(
            "'{}' has been deployed meanwhile: delete it again",
            customer.subdomain
        ))
        .into());
    }
    let settings = store.settings()?;
    let archived = instance::remove(&render::instance_dir(&settings, customer), purge_data)?;
    store.delete_customer(&session.user.username, customer.id)?;
    Ok(archived)
}
