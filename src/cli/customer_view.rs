//! How `customer show`, `list` and `create` present a customer: the stored fields plus its
//! deployment's, as JSON or as aligned text.

use crate::domain::sanitize::terminal_safe;
use serde::Serialize;

use super::CliResult;
use crate::domain::customer::Customer;
use crate::domain::deployment::{ContainerInfo, Deployment};
use crate::store::Store;

/// A customer as printed by `--json`: the stored fields plus its deployment's.
#[derive(Debug, Serialize)]
pub struct CustomerView {
    #[serde(flatten)]
    pub(super) customer: Customer,
    pub(super) fqdn: String,
    /// The Docker host it runs on (`local` for this machine's engine).
    pub(super) host: String,
    pub(super) relay_udp_port: Option<u16>,
    pub(super) setup_url: Option<String>,
    pub(super) deployment_status: Option<String>,
    pub(super) proxy_host_id: Option<i64>,
    pub(super) certificate_id: Option<i64>,
    pub(super) proxy_pending: Option<String>,
    pub(super) devices_total: Option<u32>,
    pub(super) devices_connected: Option<u32>,
    pub(super) owner_user_id: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(super) pat_expires_at: Option<crate::domain::Timestamp>,
    /// The image id each service ran at the last deploy (a re-pointed tag shows here).
    pub(super) image_ids: std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) containers: Option<Vec<ContainerInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) containers_error: Option<String>,
    /// Only right after the deploy that created the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) owner: Option<crate::engine::netbird::OwnerCredentials>,
}

impl CustomerView {
    pub(super) fn new(customer: Customer, deployment: Option<Deployment>, base_domain: &str) -> Self {
        Self {
            fqdn: customer.fqdn(base_domain),
            host: crate::domain::host::LOCAL.to_string(),
            relay_udp_port: deployment.as_ref().and_then(|d| d.relay_udp_port),
            setup_url: deployment.as_ref().and_then(|d| d.setup_url.clone()),
            proxy_host_id: deployment.as_ref().and_then(|d| d.npm_proxy_id),
            certificate_id: deployment.as_ref().and_then(|d| d.npm_certificate_id),
            proxy_pending: deployment.as_ref().and_then(|d| d.proxy_pending.clone()),
            devices_total: deployment.as_ref().and_then(|d| d.devices_total),
            devices_connected: deployment.as_ref().and_then(|d| d.devices_connected),
            owner_user_id: deployment.as_ref().and_then(|d| d.owner_user_id.clone()),
            pat_expires_at: deployment.as_ref().and_then(|d| d.pat_expires_at),
            image_ids: deployment.as_ref().map(|d| d.image_ids.clone()).unwrap_or_default(),
            deployment_status: deployment.map(|d| d.status.to_string()),
            customer,
            containers: None,
            containers_error: None,
            owner: None,
        }
    }

    pub(super) fn load(store: &Store, customer: Customer, base_domain: &str) -> CliResult<Self> {
        let d = store.deployment(customer.id)?;
        let host = customer.host_id.map(|id| store.host(id).map(|h| h.name)).transpose()?;
        let mut view = Self::new(customer, d, base_domain);
        if let Some(h) = host {
            view.host = h;
        }
        Ok(view)
    }
}

/// The text form of one customer.
pub(super) fn print_customer(v: &CustomerView) {
    let c = &v.customer;
    let dash = |s: &str| {
        if s.is_empty() { "-".to_string() } else { s.to_string() }
    };
    let refs = crate::domain::customer_fields::REF_FIELDS
        .iter()
        .map(|f| (f.label.to_lowercase(), dash((f.get)(c).unwrap_or_default())));
    let head = [("id", c.id.to_string()), ("name", c.name.clone()), ("company", dash(&c.company))]
        .map(|(k, v)| (k.to_string(), v));
    let fields = [
        ("SLA target", c.sla_target.map_or("the sla.target setting".to_string(), |t| format!("{t} %"))),
        ("reverse proxy", if c.reverse_proxy { "on".into() } else { "off".into() }),
        ("subdomain", c.subdomain.clone()),
        ("domain", v.fqdn.clone()),
        ("host", v.host.clone()),
        ("email", c.email.clone()),
        (
            "status",
            match &c.status_reason {
                Some(r) => format!("{} ({r})", c.status),
                None => c.status.to_string(),
            },
        ),
        ("layout", c.layout.to_string()),
        ("max devices", c.max_devices.to_string()),
        ("udp port", v.relay_udp_port.map_or("-".into(), |p| p.to_string())),
        ("setup url", v.setup_url.clone().unwrap_or_else(|| "-".into())),
        (
            "owner token",
            v.pat_expires_at.map_or("-".into(), |t| format!("valid until {} (renewed ahead by the monitor)", t.date())),
        ),
        ("created", crate::store::fmt_time(c.created_at)),
        ("updated", crate::store::fmt_time(c.updated_at)),
    ]
    .map(|(k, v)| (k.to_string(), v));
    for (k, val) in head.into_iter().chain(refs).chain(fields) {
        // A reason is what a container, NPM or NetBird said: shown, never obeyed.
        println!("{k:<12} {}", terminal_safe(&val));
    }
    for x in v.containers.iter().flatten() {
        let id = x.image_id.strip_prefix("sha256:").map(|i| format!(" {}", &i[..i.len().min(12)])).unwrap_or_default();
        println!("{:<12} {} {} ({}{id})", format!("  {}", x.service), x.name, x.state, x.image);
    }
    if let Some(e) = &v.containers_error {
        println!("containers   unknown: {}", terminal_safe(e));
    }
    if !c.notes.is_empty() {
        println!("notes");
        for line in c.notes.lines() {
            println!("  {}", terminal_safe(line));
        }
    }
}

/// `customer audit`: entries newest first, as JSON or a table.
pub fn print_audit(g: &super::GlobalArgs, entries: &[crate::domain::audit::AuditEntry]) -> CliResult {
    if g.json {
        return super::output::json(entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let t = e.created_at;
            vec![
                format!("{} {:02}:{:02}:{:02}", t.date(), t.hour(), t.minute(), t.second()),
                e.actor.clone(),
                e.action.clone(),
                e.status.to_string(),
                e.message.clone(),
            ]
        })
        .collect();
    println!("{}", super::output::table(&["WHEN", "WHO", "ACTION", "STATUS", "WHAT"], &rows));
    Ok(())
}
