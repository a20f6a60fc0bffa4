//! The customers repository.

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, StoreError, fmt_time, now, parse_time, parse_word};
use crate::domain::audit::{AuditStatus, NewAuditEntry};
use crate::domain::customer::{Customer, CustomerPatch, CustomerRef, CustomerStatus, NewCustomer};
pub use crate::domain::fleet::{CustomerRow, by_device_use};

const COLUMNS: &str = "id, name, company, subdomain, email, max_devices, notes, layout, status, status_reason, created_at, updated_at, host_id, contract_id, reverse_proxy, sla_target, psa_ref";
/// How many columns [`COLUMNS`] names (queries that join read theirs after these).
const N_COLUMNS: usize = 17;

/// Which customers to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerQuery {
    /// Case-insensitive substring of name, subdomain, email, company or contract reference.
    pub search: Option<String>,
    /// Only this status.
    pub status: Option<CustomerStatus>,
}

struct RawCustomer {
    id: i64,
    name: String,
    company: String,
    subdomain: String,
    email: String,
    max_devices: i64,
    notes: String,
    layout: String,
    status: String,
    status_reason: Option<String>,
    created_at: String,
    updated_at: String,
    host_id: Option<i64>,
    contract_id: Option<String>,
    reverse_proxy: bool,
    sla_target: Option<u32>,
    psa_ref: Option<String>,
}

fn raw(r: &Row<'_>) -> rusqlite::Result<RawCustomer> {
    Ok(RawCustomer {
        id: r.get(0)?,
        name: r.get(1)?,
        company: r.get(2)?,
        subdomain: r.get(3)?,
        email: r.get(4)?,
        max_devices: r.get(5)?,
        notes: r.get(6)?,
        layout: r.get(7)?,
        status: r.get(8)?,
        status_reason: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        host_id: r.get(12)?,
        contract_id: r.get(13)?,
        reverse_proxy: r.get(14)?,
        sla_target: r.get(15)?,
        psa_ref: r.get(16)?,
    })
}

impl TryFrom<RawCustomer> for Customer {
    type Error = StoreError;
    fn try_from(r: RawCustomer) -> Result<Self> {
        Ok(Customer {
            id: r.id,
            name: r.name,
            company: r.company,
            subdomain: r.subdomain,
            email: r.email,
            max_devices: r.max_devices,
            notes: r.notes,
            contract_id: r.contract_id,
            psa_ref: r.psa_ref,
            sla_target: r.sla_target.map(crate::domain::sla::Target),
            reverse_proxy: r.reverse_proxy,
            layout: parse_word("customers", &r.layout)?,
            status: parse_word("customers", &r.status)?,
            status_reason: r.status_reason,
            created_at: parse_time("customers", &r.created_at)?,
            updated_at: parse_time("customers", &r.updated_at)?,
            host_id: r.host_id,
        })
    }
}

/// Escapes `%`, `_` and `\` so user text matches literally inside LIKE.
fn like_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Validates and inserts a customer placed on `host` (`None`: this machine), in one
    /// transaction. Its id is above every id this database handed out and above `id_floor`:
    /// the highest customer id found outside the database (labels of this installation's
    /// containers), which a database put back from an older backup does not know about.
    pub fn create_customer_on(
        &self,
        actor: &str,
        new: &NewCustomer,
        host: Option<i64>,
        id_floor: i64,
    ) -> Result<Customer> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("UPDATE id_sequence SET last = max(last, ?1) WHERE name = 'customers'", params![id_floor])?;
        let c = self.create_customer(actor, new)?;
        tx.execute("UPDATE customers SET host_id = ?1 WHERE id = ?2", params![host, c.id])?;
        tx.commit()?;
        Ok(Customer { host_id: host, ..c })
    }

    /// Validates and inserts a customer (status `inactive`), logging it for `actor`.
    pub fn create_customer(&self, actor: &str, new: &NewCustomer) -> Result<Customer> {
        if let Some(e) = new.validate().into_iter().next() {
            return Err(e.into());
        }
        if let Some(other) = self.customer_by_subdomain(&new.subdomain)? {
            return Err(StoreError::Conflict(format!(
                "subdomain '{}' is already taken by {} (id {})",
                new.subdomain, other.name, other.id
            )));
        }
        let t = fmt_time(now());
        self.conn.execute(
            "INSERT INTO customers (id, name, company, subdomain, email, max_devices, notes, layout, status, created_at, updated_at, contract_id, reverse_proxy, sla_target, psa_ref)
             VALUES ((SELECT last + 1 FROM id_sequence WHERE name = 'customers'), ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'inactive', ?8, ?8, ?9, ?10, ?11, ?12)",
            params![
                new.name,
                new.company,
                new.subdomain,
                new.email,
                new.max_devices,
                new.notes,
                new.layout.as_str(),
                t,
                crate::domain::customer_fields::none_if_empty(new.contract_id.clone()),
                new.reverse_proxy,
                new.sla_target.map(|t| t.0),
                crate::domain::customer_fields::none_if_empty(new.psa_ref.clone())
            ],
        )?;
        let c = self.customer(self.conn.last_insert_rowid())?;
        self.log_customer(
            actor,
            &c,
            "customer.create",
            AuditStatus::Success,
            &format!("customer '{}' created", c.subdomain),
        )?;
        Ok(c)
    }

    /// The customer with `id`.
    pub fn customer(&self, id: i64) -> Result<Customer> {
        self.conn
            .query_row(&format!("SELECT {COLUMNS} FROM customers WHERE id = ?1"), params![id], raw)
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no customer with id {id}")))?
            .try_into()
    }

    /// The customer with exactly this subdomain, if any.
    pub fn customer_by_subdomain(&self, subdomain: &str) -> Result<Option<Customer>> {
        self.conn
            .query_row(&format!("SELECT {COLUMNS} FROM customers WHERE subdomain = ?1"), params![subdomain], raw)
            .optional()?
            .map(Customer::try_from)
            .transpose()
    }

    /// A customer named on a command line: `#12` is always id 12; other text is a subdomain.
    /// Bare digits are an id too (new subdomains cannot be all digits); when a customer made
    /// before that rule has such a subdomain and another customer has that id, the lookup is
    /// refused as ambiguous instead of guessing.
    pub fn find_customer(&self, id_or_subdomain: &str) -> Result<Customer> {
        if let Some(digits) = id_or_subdomain.strip_prefix('#') {
            let id = digits
                .parse::<i64>()
                .map_err(|_| StoreError::NotFound(format!("'{id_or_subdomain}' is not a customer id (#12 is)")))?;
            return self.customer(id);
        }
        let by_subdomain = self.customer_by_subdomain(id_or_subdomain)?;
        let by_id = match id_or_subdomain.parse::<i64>() {
            Ok(id) => self.customer(id).ok(),
            Err(_) => None,
        };
        match (by_id, by_subdomain) {
            (Some(a), Some(b)) if a.id != b.id => Err(StoreError::Conflict(format!(
                "'{id_or_subdomain}' is ambiguous: customer #{} has that id and customer #{} that subdomain; \
                 write #{} for the first",
                a.id, b.id, a.id
            ))),
            (Some(c), _) | (None, Some(c)) => Ok(c),
            (None, None) => Err(StoreError::NotFound(format!("no customer with id or subdomain '{id_or_subdomain}'"))),
        }
    }

    /// The customer `target` names, refused when that id now holds another customer or none:
    /// what an operator confirmed on a screen must be what the engine acts on.
    pub fn expect_customer(&self, target: &CustomerRef) -> Result<Customer> {
        let stale = |now: &str| {
            StoreError::Stale(format!(
                "customer #{} '{}' changed since you looked ({now}); refresh and try again",
                target.id, target.subdomain
            ))
        };
        match self.customer(target.id) {
            Ok(c) if c.subdomain == target.subdomain => Ok(c),
            Ok(c) => Err(stale(&format!("#{} is now '{}'", c.id, c.subdomain))),
            Err(StoreError::NotFound(_)) => Err(stale("it was deleted")),
            Err(e) => Err(e),
        }
    }

    /// Customers matching `q`, by name then id.
    pub fn customers(&self, q: &CustomerQuery) -> Result<Vec<Customer>> {
        let search = q.search.as_deref().filter(|s| !s.is_empty()).map(like_pattern);
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM customers
             WHERE (?1 IS NULL OR name LIKE ?1 ESCAPE '\\' OR subdomain LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\' OR company LIKE ?1 ESCAPE '\\' OR contract_id LIKE ?1 ESCAPE '\\')
               AND (?2 IS NULL OR status = ?2)
             ORDER BY name COLLATE NOCASE, id"
        ))?;
        let rows = stmt
            .query_map(params![search, q.status.map(|s| s.as_str())], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(Customer::try_from).collect()
    }

    /// Validates and applies `patch`; logs what changed.
    pub fn update_customer(&self, actor: &str, id: i64, patch: &CustomerPatch) -> Result<Customer> {
        if let Some(e) = patch.validate().into_iter().next() {
            return Err(e.into());
        }
        let mut c = self.customer(id)?;
        let before = c.layout;
        patch.apply(&mut c);
        crate::domain::validate::reverse_proxy(c.layout, c.reverse_proxy)?;
        if c.layout != before && self.deployment(id)?.is_some() {
            // The layouts keep NetBird's store in different places (data/server, data/management):
            // a switch would start an empty instance whose owner anyone could claim.
            return Err(StoreError::Conflict(format!(
                "'{}' is deployed with the {before} layout: switching to {} would start NetBird on an empty data \
                 dir (its data stays in the {before} layout's), so it is refused; keep the layout, or back up, delete \
                 and create the customer again",
                c.subdomain, c.layout
            )));
        }
        self.conn.execute(
            "UPDATE customers SET name = ?1, company = ?2, email = ?3, max_devices = ?4, notes = ?5, layout = ?6, updated_at = ?7, contract_id = ?8, reverse_proxy = ?9, sla_target = ?11, psa_ref = ?12 WHERE id = ?10",
            params![
                c.name,
                c.company,
                c.email,
                c.max_devices,
                c.notes,
                c.layout.as_str(),
                fmt_time(now()),
                c.contract_id,
                c.reverse_proxy,
                id,
                c.sla_target.map(|t| t.0),
                c.psa_ref
            ],
        )?;
        let c = self.customer(id)?;
        self.log_customer(
            actor,
            &c,
            "customer.update",
            AuditStatus::Success,
            &format!("customer '{}' updated", c.subdomain),
        )?;
        Ok(c)
    }

    /// Sets the status and its reason.
    pub fn set_customer_status(&self, id: i64, status: CustomerStatus, reason: Option<&str>) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE customers SET status = ?1, status_reason = ?2, updated_at = ?3 WHERE id = ?4",
            params![status.as_str(), reason.map(crate::domain::sanitize::terminal_safe), fmt_time(now()), id],
        )?;
        if n == 0 { Err(StoreError::NotFound(format!("no customer with id {id}"))) } else { Ok(()) }
    }

    /// Removes the customer row, its deployment row and its secrets. The audit log keeps the
    /// entries (their subject still names the subdomain).
    pub fn delete_customer(&self, actor: &str, id: i64) -> Result<Customer> {
        let c = self.customer(id)?;
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM secrets WHERE scope = ?1", params![super::vault::customer_scope(id)])?;
        tx.execute("DELETE FROM customers WHERE id = ?1", params![id])?;
        // Entries of earlier deploys and redeploys die with the customer: nothing may replay them
        // (the delete's own entry is closed by the delete).
        tx.execute(
            "UPDATE journal SET state = 'failed', outcome = 'closed: the customer was deleted', updated_at = ?2
             WHERE customer_id = ?1 AND state = 'running' AND operation <> 'delete'",
            params![id, fmt_time(now())],
        )?;
        tx.commit()?;
        self.audit(&NewAuditEntry {
            customer_id: None,
            subject: c.subdomain.clone(),
            actor: actor.to_string(),
            action: "customer.delete".into(),
            status: AuditStatus::Success,
            message: format!("customer '{}' deleted", c.subdomain),
            details: None,
        })?;
        Ok(c)
    }

    /// Appends an audit entry about customer `c`.
    pub fn log_customer(
        &self,
        actor: &str,
        c: &Customer,
        action: &str,
        status: AuditStatus,
        message: &str,
    ) -> Result<()> {
        self.audit(&NewAuditEntry {
            customer_id: Some(c.id),
            subject: c.subdomain.clone(),
            actor: actor.to_string(),
            action: action.to_string(),
            status,
            message: message.to_string(),
            details: None,
        })
    }
}

impl Store {
    /// Every customer with its deployment figures, in one query (the dashboard loads thousands).
    pub fn customer_rows(&self) -> Result<Vec<CustomerRow>> {
        let cols = COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {cols}, d.relay_udp_port, d.devices_total, d.proxy_pending, d.npm_proxy_id IS NOT NULL,
                    d.devices_connected, d.devices_outdated, h.name, d.services_total, d.services_trouble
             FROM customers c LEFT JOIN deployments d ON d.customer_id = c.id
                  LEFT JOIN hosts h ON h.id = c.host_id
             ORDER BY c.name COLLATE NOCASE, c.id"
        ))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    raw(r)?,
                    r.get::<_, Option<u16>>(N_COLUMNS)?,
                    r.get::<_, Option<u32>>(N_COLUMNS + 1)?,
                    r.get::<_, Option<String>>(N_COLUMNS + 2)?,
                    r.get::<_, Option<bool>>(N_COLUMNS + 3)?.unwrap_or(false),
                    (r.get::<_, Option<u32>>(N_COLUMNS + 4)?, r.get::<_, Option<u32>>(N_COLUMNS + 5)?),
                    r.get::<_, Option<String>>(N_COLUMNS + 6)?,
                    r.get::<_, Option<u32>>(N_COLUMNS + 7)?.zip(r.get::<_, Option<u32>>(N_COLUMNS + 8)?),
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(c, udp_port, devices, proxy_pending, proxied, (online, outdated), host, services)| {
                let customer = c.try_into()?;
                Ok(CustomerRow {
                    customer,
                    udp_port,
                    devices,
                    online,
                    outdated,
                    proxy_pending,
                    proxied,
                    host,
                    services,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::Layout;

    fn new(sub: &str, name: &str) -> NewCustomer {
        NewCustomer {
            name: name.into(),
            company: "ACME GmbH".into(),
            subdomain: sub.into(),
            email: format!("it@{sub}.example"),
            max_devices: 20,
            notes: String::new(),
            contract_id: None,
            psa_ref: None,
            sla_target: None,
            reverse_proxy: false,
            layout: Layout::Combined,
        }
    }

    #[test]
    fn every_customer_field_is_a_column_and_every_given_field_is_kept() {
        let s = Store::open_in_memory().unwrap();
        let given = NewCustomer {
            name: "Full".into(),
            company: "Full GmbH".into(),
            subdomain: "full".into(),
            email: "it@full.example".into(),
            max_devices: 33,
            notes: "two\nlines".into(),
            contract_id: Some("MSP-2026-0042".into()),
            psa_ref: Some("HALO-42".into()),
            sla_target: None,
            reverse_proxy: false,
            layout: Layout::Legacy,
        };
        let c = s.create_customer("t", &given).unwrap();
        assert_eq!(NewCustomer::of(&s.customer(c.id).unwrap()), given);
        let cols: Vec<&str> = COLUMNS.split(", ").collect();
        assert_eq!(cols.len(), N_COLUMNS);
        for key in serde_json::to_value(&c).unwrap().as_object().unwrap().keys() {
            assert!(cols.contains(&key.as_str()), "Customer::{key} is not read from the database (COLUMNS)");
        }
        // Every field a patch can set, set at once (a literal without `..`: a new field is a
        // compile error here until it is tested).
        let patch = CustomerPatch {
            name: Some("Fuller".into()),
            company: Some("Fuller AG".into()),
            email: Some("ops@full.example".into()),
            max_devices: Some(44),
            notes: Some("n".into()),
            contract_id: Some("MSP-2027-0001".into()),
            psa_ref: Some("HALO-4711".into()),
            sla_target: Some(Some(crate::domain::sla::Target(99_950))),
            reverse_proxy: Some(true),
            layout: Some(Layout::Combined),
        };
        let mut want = s.customer(c.id).unwrap();
        patch.apply(&mut want);
        let got = s.update_customer("t", c.id, &patch).unwrap();
        assert_eq!(NewCustomer::of(&got), NewCustomer::of(&want));
        assert_eq!(got.contract_id.as_deref(), Some("MSP-2027-0001"));
        let cleared = CustomerPatch { contract_id: Some(String::new()), ..Default::default() };
        assert_eq!(s.update_customer("t", c.id, &cleared).unwrap().contract_id, None);
        let found = s.customers(&CustomerQuery { search: Some("2027-0001".into()), status: None }).unwrap();
        assert!(found.is_empty(), "a cleared reference is not found");
    }

    #[test]
    fn create_find_update_delete() {
        let s = Store::open_in_memory().unwrap();
        let c = s.create_customer("admin", &new("acme", "ACME Logistics")).unwrap();
        assert_eq!(c.status, CustomerStatus::Inactive);
        assert_eq!(s.find_customer("acme").unwrap().id, c.id);
        assert_eq!(s.find_customer(&c.id.to_string()).unwrap().subdomain, "acme");
        let dup = s.create_customer("admin", &new("acme", "Other")).unwrap_err();
        assert_eq!(dup.to_string(), format!("subdomain 'acme' is already taken by ACME Logistics (id {})", c.id));
        let u =
            s.update_customer("admin", c.id, &CustomerPatch { max_devices: Some(50), ..Default::default() }).unwrap();
        assert_eq!(u.max_devices, 50);
        assert!(
            s.update_customer("admin", c.id, &CustomerPatch { email: Some("x".into()), ..Default::default() }).is_err()
        );
        s.delete_customer("admin", c.id).unwrap();
        assert!(matches!(s.find_customer("acme"), Err(StoreError::NotFound(_))));
        let log = s.audit_log(None, 10).unwrap();
        assert_eq!(
            log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["customer.delete", "customer.update", "customer.create"]
        );
        assert!(log.iter().all(|e| e.subject == "acme"));
    }

    #[test]
    fn a_deployed_customer_keeps_its_layout() {
        let s = Store::open_in_memory().unwrap();
        let c = s.create_customer("admin", &new("acme", "ACME")).unwrap();
        let legacy = CustomerPatch { layout: Some(Layout::Legacy), ..Default::default() };
        // Not deployed yet: free to choose.
        assert_eq!(s.update_customer("admin", c.id, &legacy).unwrap().layout, Layout::Legacy);
        s.allocate_deployment(c.id, "acme", 3478, 10, |_| true).unwrap();
        let back = CustomerPatch { layout: Some(Layout::Combined), ..Default::default() };
        let e = s.update_customer("admin", c.id, &back).unwrap_err().to_string();
        assert!(e.contains("would start NetBird on an empty data dir"), "{e}");
        assert_eq!(s.customer(c.id).unwrap().layout, Layout::Legacy, "nothing changed");
        // Other edits still work.
        let more = CustomerPatch { max_devices: Some(9), layout: Some(Layout::Legacy), ..Default::default() };
        assert_eq!(s.update_customer("admin", c.id, &more).unwrap().max_devices, 9);
    }

    #[test]
    fn ids_are_never_handed_out_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::super::DB_FILE);
        let s = Store::open(&path, true).unwrap();
        let a = s.create_customer("admin", &new("acme", "ACME")).unwrap();
        let b = s.create_customer("admin", &new("beta", "Beta")).unwrap();
        s.delete_customer("admin", b.id).unwrap();
        drop(s);
        let s = Store::open(&path, false).unwrap();
        let c = s.create_customer("admin", &new("gamma", "Gamma")).unwrap();
        assert_eq!((a.id, b.id, c.id), (a.id, a.id + 1, a.id + 2), "the deleted id stays retired after a reopen");
        let stale = s.expect_customer(&b.as_ref()).unwrap_err().to_string();
        assert!(stale.contains("it was deleted") && stale.contains("refresh"), "{stale}");
        assert_eq!(s.expect_customer(&c.as_ref()).unwrap().subdomain, "gamma");
        let renamed = CustomerRef::new(c.id, "beta");
        let e = s.expect_customer(&renamed).unwrap_err().to_string();
        assert!(e.contains("is now 'gamma'"), "{e}");
    }

    #[test]
    fn the_high_water_mark_starts_above_ids_a_journal_still_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::super::DB_FILE);
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            super::super::migrations::migrate_to(&mut conn, 9).unwrap();
            // A customer 7 was deleted while its journal entry stayed behind.
            conn.execute_batch(
                "INSERT INTO journal (customer_id, subdomain, operation, step, state, actor, pid, host, started_at, updated_at)
                 VALUES (7, 'gone', 'redeploy', 'start', 'running', 'admin', 1, 'h', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            )
            .unwrap();
        }
        let s = Store::open(&path, false).unwrap();
        assert_eq!(s.create_customer("admin", &new("acme", "ACME")).unwrap().id, 8);
    }

    #[test]
    fn lookups_by_argument_are_unambiguous() {
        let s = Store::open_in_memory().unwrap();
        let e = s.create_customer("admin", &new("4711", "Numeric")).unwrap_err().to_string();
        assert!(e.contains("all digits would read as a customer id"), "{e}");
        let a = s.create_customer("admin", &new("acme", "ACME")).unwrap();
        assert_eq!(s.find_customer(&format!("#{}", a.id)).unwrap().subdomain, "acme");
        assert_eq!(s.find_customer(&a.id.to_string()).unwrap().subdomain, "acme");
        assert!(s.find_customer("#acme").unwrap_err().to_string().contains("#12 is"));
        // A numeric subdomain from before the rule, equal to another customer's id.
        s.conn
            .execute(
                "INSERT INTO customers (name, subdomain, email, created_at, updated_at)
                 VALUES ('Old', ?1, 'o@old.example', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                params![a.id.to_string()],
            )
            .unwrap();
        let e = s.find_customer(&a.id.to_string()).unwrap_err().to_string();
        assert!(e.contains("ambiguous") && e.contains(&format!("write #{}", a.id)), "{e}");
        assert_eq!(s.find_customer(&format!("#{}", a.id)).unwrap().subdomain, "acme");
    }

    #[test]
    fn search_is_literal_and_covers_four_columns() {
        let s = Store::open_in_memory().unwrap();
        s.create_customer("admin", &new("acme", "ACME Logistics")).unwrap();
        s.create_customer("admin", &new("bakery", "Bakery 100%")).unwrap();
        let q = |t: &str| {
            s.customers(&CustomerQuery { search: Some(t.into()), status: None })
                .unwrap()
                .into_iter()
                .map(|c| c.subdomain)
                .collect::<Vec<_>>()
        };
        assert_eq!(q("logist"), ["acme"]);
        assert_eq!(q("100%"), ["bakery"]);
        assert_eq!(q("%"), ["bakery"], "% is literal");
        assert_eq!(q("it@bakery"), ["bakery"]);
        assert_eq!(q("acme gmbh").len(), 2, "company matches");
        let errors = s.customers(&CustomerQuery { search: None, status: Some(CustomerStatus::Error) }).unwrap();
        assert!(errors.is_empty());
    }
}
