//! The deployments repository: one row per deployed customer, holding its UDP port.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, fmt_time, now, parse_time, parse_word};
use crate::domain::Timestamp;
use crate::domain::deployment::{Deployment, DeploymentStatus};
use crate::domain::ports;

impl Store {
    /// The deployment of `customer_id`, if one was recorded.
    pub fn deployment(&self, customer_id: i64) -> Result<Option<Deployment>> {
        let row = self
            .conn
            .query_row(
                "SELECT customer_id, container_prefix, relay_udp_port, npm_proxy_id, setup_url, status, last_health_check,
                        npm_certificate_id, npm_certificate_owned, proxy_pending,
                        devices_total, devices_connected, devices_checked_at,
                        owner_user_id, pat_expires_at, image_ids
                 FROM deployments WHERE customer_id = ?1",
                params![customer_id],
                |r| {
                    Ok((
                        (r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<u16>>(2)?, r.get::<_, Option<i64>>(3)?),
                        (r.get::<_, Option<String>>(4)?, r.get::<_, String>(5)?, r.get::<_, Option<String>>(6)?),
                        (r.get::<_, Option<i64>>(7)?, r.get::<_, bool>(8)?, r.get::<_, Option<String>>(9)?),
                        (r.get::<_, Option<u32>>(10)?, r.get::<_, Option<u32>>(11)?, r.get::<_, Option<String>>(12)?),
                        (r.get::<_, Option<String>>(13)?, r.get::<_, Option<String>>(14)?, r.get::<_, String>(15)?),
                    ))
                },
            )
            .optional()?;
        row.map(
            |(
                (customer_id, container_prefix, relay_udp_port, npm_proxy_id),
                (setup_url, status, checked),
                (cert, owned, pending),
                (total, connected, counted),
                (owner_user_id, pat_expires, image_ids),
            )| {
                Ok(Deployment {
                    customer_id,
                    container_prefix,
                    relay_udp_port,
                    npm_proxy_id,
                    npm_certificate_id: cert,
                    npm_certificate_owned: owned,
                    proxy_pending: pending,
                    devices_total: total,
                    devices_connected: connected,
                    devices_checked_at: counted.map(|t| parse_time("deployments", &t)).transpose()?,
                    setup_url,
                    status: parse_word("deployments", &status)?,
                    last_health_check: checked.map(|t| parse_time("deployments", &t)).transpose()?,
                    owner_user_id,
                    pat_expires_at: pat_expires.map(|t| parse_time("deployments", &t)).transpose()?,
                    image_ids: serde_json::from_str(&image_ids).unwrap_or_default(),
                })
            },
        )
        .transpose()
    }

    /// Records the NetBird owner nbmsp created (or renewed a token for) and when its token expires.
    pub fn set_owner(&self, customer_id: i64, user_id: &str, pat_expires_at: Option<Timestamp>) -> Result<()> {
        self.conn.execute(
            "UPDATE deployments SET owner_user_id = ?1, pat_expires_at = ?2, updated_at = ?3 WHERE customer_id = ?4",
            params![user_id, pat_expires_at.map(fmt_time), fmt_time(now()), customer_id],
        )?;
        Ok(())
    }

    /// Records the image id each service of the customer runs.
    pub fn set_image_ids(&self, customer_id: i64, ids: &std::collections::BTreeMap<String, String>) -> Result<()> {
        let json = serde_json::to_string(ids).map_err(|e| StoreError::Conflict(e.to_string()))?;
        self.conn.execute(
            "UPDATE deployments SET image_ids = ?1, updated_at = ?2 WHERE customer_id = ?3",
            params![json, fmt_time(now()), customer_id],
        )?;
        Ok(())
    }

    /// Records a device count (`outdated`: on a client older than the configured minimum, when
    /// one is configured). Every count goes into the day's figures too (the month's device report), whoever asked.
    pub fn set_devices(&self, customer_id: i64, count: &crate::domain::netbird::DeviceCount) -> Result<()> {
        let t = now();
        self.conn.execute(
            "UPDATE deployments SET devices_total = ?1, devices_connected = ?2, devices_outdated = ?3,
                    devices_checked_at = ?4 WHERE customer_id = ?5",
            params![count.total, count.connected, count.outdated, fmt_time(t), customer_id],
        )?;
        self.record_device_sample(
            customer_id,
            t.unix_timestamp(),
            count.connected,
            count.total,
            count.users,
            count.outdated,
        )
    }

    /// Records the customer's published services and how many are in trouble (`None`: it has
    /// no reverse proxy any more).
    pub fn set_services(&self, customer_id: i64, counts: Option<(u32, u32)>) -> Result<()> {
        self.conn.execute(
            "UPDATE deployments SET services_total = ?1, services_trouble = ?2 WHERE customer_id = ?3",
            params![counts.map(|c| c.0), counts.map(|c| c.1), customer_id],
        )?;
        Ok(())
    }

    /// Records what the proxy registered for the customer.
    pub fn set_proxy_state(
        &self,
        customer_id: i64,
        proxy_id: Option<i64>,
        certificate_id: Option<i64>,
        certificate_owned: bool,
        pending: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE deployments SET npm_proxy_id = ?1, npm_certificate_id = ?2, npm_certificate_owned = ?3, proxy_pending = ?4,
                    proxy_pending_since = CASE WHEN ?4 IS NULL THEN NULL ELSE COALESCE(proxy_pending_since, ?5) END,
                    updated_at = ?5 WHERE customer_id = ?6",
            params![proxy_id, certificate_id, certificate_owned, pending, fmt_time(now()), customer_id],
        )?;
        Ok(())
    }

    /// The UDP ports the customers on `host` hold (`None`: this machine's engine). Ports are
    /// unique per host: two hosts publish the same port on different addresses.
    pub fn allocated_ports_on(&self, host: Option<i64>) -> Result<BTreeSet<u16>> {
        let mut stmt = self.conn.prepare(
            "SELECT d.relay_udp_port FROM deployments d JOIN customers c ON c.id = d.customer_id
             WHERE d.relay_udp_port IS NOT NULL AND c.host_id IS ?1",
        )?;
        let ports = stmt.query_map(params![host], |r| r.get::<_, u16>(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ports)
    }

    /// A UDP port on `host` for a customer coming from another host (a move): `preferred`
    /// when no customer there holds it and `is_free_on_host` agrees, else the first free one in
    /// `[base, base + count)`. Reserves nothing: [`Store::set_host_and_port`] records it, and the
    /// triggers refuse a port taken meanwhile.
    pub fn port_on_host(
        &self,
        host: Option<i64>,
        preferred: u16,
        base: u16,
        count: u16,
        mut is_free_on_host: impl FnMut(u16) -> bool,
    ) -> Result<u16> {
        let taken = self.allocated_ports_on(host)?;
        if !taken.contains(&preferred) && is_free_on_host(preferred) {
            return Ok(preferred);
        }
        ports::choose(base, count, &taken, is_free_on_host).map_err(|e| StoreError::Conflict(e.to_string()))
    }

    /// Puts the customer on `host` with UDP `port`, both or neither. The port is cleared first
    /// so the per-host triggers judge the pair, not the port on the old host.
    pub fn set_host_and_port(&self, customer_id: i64, host: Option<i64>, port: u16) -> Result<()> {
        self.immediate(|conn| {
            let t = fmt_time(now());
            conn.execute("UPDATE deployments SET relay_udp_port = NULL WHERE customer_id = ?1", params![customer_id])?;
            conn.execute("UPDATE customers SET host_id = ?1 WHERE id = ?2", params![host, customer_id])?;
            conn.execute(
                "UPDATE deployments SET relay_udp_port = ?1, updated_at = ?2 WHERE customer_id = ?3",
                params![port, t, customer_id],
            )?;
            Ok(())
        })
        .map_err(|e| match e {
            StoreError::Sqlite(x) if x.to_string().contains("UDP port taken") => {
                StoreError::Conflict(format!("UDP {port} is taken on that host"))
            }
            other => other,
        })
    }

    /// Records a deployment for `customer_id` with a UDP port from `[base, base + count)`, or
    /// returns the port it already has. The choice and the insert happen in one IMMEDIATE
    /// transaction, so concurrent creates (other processes included) never share a port on the
    /// customer's host; the per-host triggers back that up. `is_free_on_host` rules out ports other programs hold.
    pub fn allocate_deployment(
        &self,
        customer_id: i64,
        prefix: &str,
        base: u16,
        count: u16,
        is_free_on_host: impl FnMut(u16) -> bool,
    ) -> Result<u16> {
        self.allocate_deployment_preferring(customer_id, prefix, None, base, count, is_free_on_host)
    }

    /// [`Store::allocate_deployment`] that takes `preferred` when no customer has it and the
    /// host reports it free (a restored customer keeps the port its users' firewalls know).
    pub fn allocate_deployment_preferring(
        &self,
        customer_id: i64,
        prefix: &str,
        preferred: Option<u16>,
        base: u16,
        count: u16,
        mut is_free_on_host: impl FnMut(u16) -> bool,
    ) -> Result<u16> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = (|| {
            let existing: Option<Option<u16>> = self
                .conn
                .query_row("SELECT relay_udp_port FROM deployments WHERE customer_id = ?1", params![customer_id], |r| {
                    r.get(0)
                })
                .optional()?;
            if let Some(Some(port)) = existing {
                return Ok(port);
            }
            let host: Option<i64> =
                self.conn
                    .query_row("SELECT host_id FROM customers WHERE id = ?1", params![customer_id], |r| r.get(0))?;
            let taken = self.allocated_ports_on(host)?;
            let port = match preferred {
                Some(p) if p >= 1024 && !taken.contains(&p) && is_free_on_host(p) => p,
                _ => ports::choose(base, count, &taken, is_free_on_host)
                    .map_err(|e| StoreError::Conflict(e.to_string()))?,
            };
            let t = fmt_time(now());
            self.conn.execute(
                "INSERT INTO deployments (customer_id, container_prefix, relay_udp_port, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?4)
                 ON CONFLICT (customer_id) DO UPDATE SET relay_udp_port = excluded.relay_udp_port, updated_at = excluded.updated_at",
                params![customer_id, prefix, port, t],
            )?;
            Ok(port)
        })();
        match &result {
            Ok(_) => self.conn.execute_batch("COMMIT")?,
            Err(_) => {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
        }
        result
    }

    /// Sets a deployment's status (and setup URL when given).
    pub fn set_deployment_status(
        &self,
        customer_id: i64,
        status: DeploymentStatus,
        setup_url: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE deployments SET status = ?1, setup_url = COALESCE(?2, setup_url), updated_at = ?3 WHERE customer_id = ?4",
            params![status.as_str(), setup_url, fmt_time(now()), customer_id],
        )?;
        Ok(())
    }

    /// Records when health was last checked.
    pub fn set_health_checked(&self, customer_id: i64) -> Result<()> {
        let t = fmt_time(now());
        self.conn
            .execute("UPDATE deployments SET last_health_check = ?1 WHERE customer_id = ?2", params![t, customer_id])?;
        Ok(())
    }

    /// Removes the deployment row, freeing its port.
    pub fn delete_deployment(&self, customer_id: i64) -> Result<()> {
        self.conn.execute("DELETE FROM deployments WHERE customer_id = ?1", params![customer_id])?;
        Ok(())
    }

    /// This installation's id, put on every container it creates.
    pub fn installation_id(&self) -> Result<String> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = 'installation_id'", [], |r| r.get(0))?)
    }

    /// What this installation's container names start with after `netbird-`: empty for the
    /// first installation on an engine, the installation's short id and a dash for one made
    /// beside another (`init --beside-foreign`), so two installations' `acme` never share a
    /// container name (which Docker allows only once per engine).
    pub fn name_prefix(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'name_prefix'", [], |r| r.get(0))
            .optional()?
            .unwrap_or_default())
    }

    /// Takes over the name prefix of an adopted installation (its containers' names show it).
    pub fn set_name_prefix(&self, prefix: &str) -> Result<()> {
        if !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(StoreError::Conflict(format!("{prefix:?} is not a name prefix")));
        }
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('name_prefix', ?1)", params![prefix])?;
        Ok(())
    }

    /// Takes over another installation's id (`init --adopt`): its containers count as this
    /// installation's from now on.
    pub fn adopt_installation_id(&self, id: &str) -> Result<()> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(StoreError::Conflict(format!("{id:?} is not an installation id")));
        }
        self.conn.execute("UPDATE meta SET value = ?1 WHERE key = 'installation_id'", params![id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::{Layout, NewCustomer};

    fn customer(s: &Store, sub: &str) -> i64 {
        let n = NewCustomer {
            name: sub.into(),
            company: String::new(),
            subdomain: sub.into(),
            email: format!("it@{sub}.example"),
            max_devices: 5,
            notes: String::new(),
            contract_id: None,
            psa_ref: None,
            sla_target: None,
            reverse_proxy: false,
            layout: Layout::Combined,
        };
        s.create_customer("t", &n).unwrap().id
    }

    #[test]
    fn allocation_skips_taken_ports_keeps_existing_and_frees_on_delete() {
        let s = Store::open_in_memory().unwrap();
        let (a, b, c) = (customer(&s, "a"), customer(&s, "b"), customer(&s, "c"));
        assert_eq!(s.allocate_deployment(a, "a", 4000, 3, |_| true).unwrap(), 4000);
        assert_eq!(s.allocate_deployment(a, "a", 4000, 3, |_| true).unwrap(), 4000, "idempotent");
        assert_eq!(s.allocate_deployment(b, "b", 4000, 3, |p| p != 4001).unwrap(), 4002, "host-bound port skipped");
        let full = s.allocate_deployment(c, "c", 4000, 3, |p| p != 4001).unwrap_err();
        assert!(full.to_string().contains("relay_port_count"), "{full}");
        assert!(s.deployment(c).unwrap().is_none(), "a failed allocation records nothing");
        s.delete_deployment(a).unwrap();
        assert_eq!(s.allocate_deployment(c, "c", 4000, 3, |_| true).unwrap(), 4000, "freed port reused");
    }

    #[test]
    fn ports_are_unique_per_host_and_the_database_refuses_two_on_one_host() {
        let s = Store::open_in_memory().unwrap();
        s.conn
            .execute(
                "INSERT INTO hosts (name, docker, public_ip, created_at) VALUES ('b', 'ssh://b', '203.0.113.5', 't')",
                [],
            )
            .unwrap();
        let far = Some(s.conn.last_insert_rowid());
        let (a, b, c) = (customer(&s, "a"), customer(&s, "b"), customer(&s, "c"));
        s.set_customer_host(b, far).unwrap();
        assert_eq!(s.allocate_deployment(a, "a", 4000, 3, |_| true).unwrap(), 4000);
        assert_eq!(s.allocate_deployment(b, "b", 4000, 3, |_| true).unwrap(), 4000, "another host: same port");
        assert_eq!(s.allocate_deployment(c, "c", 4000, 3, |_| true).unwrap(), 4001, "this host: the next one");
        assert_eq!(s.allocated_ports_on(None).unwrap(), BTreeSet::from([4000, 4001]));
        assert_eq!(s.allocated_ports_on(far).unwrap(), BTreeSet::from([4000]));

        // Behind the allocator's back, SQLite itself keeps one host's ports apart.
        let raw = s.conn.execute("UPDATE deployments SET relay_udp_port = 4000 WHERE customer_id = ?1", [c]);
        assert!(raw.unwrap_err().to_string().contains("UDP port taken"));
        let onto = s.conn.execute("UPDATE customers SET host_id = ?1 WHERE id = ?2", params![far, a]);
        assert!(onto.unwrap_err().to_string().contains("UDP port taken"), "a's 4000 is b's there");

        // A move picks the same port when the target has it, else another, and records both at once.
        assert_eq!(s.port_on_host(far, 4001, 4000, 3, |_| true).unwrap(), 4001);
        assert_eq!(s.port_on_host(far, 4000, 4000, 3, |_| true).unwrap(), 4001);
        assert_eq!(s.port_on_host(far, 4000, 4000, 3, |p| p != 4001).unwrap(), 4002, "held by a program there");
        let clash = s.set_host_and_port(a, far, 4000).unwrap_err();
        assert!(clash.to_string().contains("UDP 4000 is taken"), "{clash}");
        assert_eq!(s.customer(a).unwrap().host_id, None, "nothing changed");
        assert_eq!(s.deployment(a).unwrap().unwrap().relay_udp_port, Some(4000));
        s.set_host_and_port(a, far, 4001).unwrap();
        assert_eq!(s.customer(a).unwrap().host_id, far);
        assert_eq!(s.allocated_ports_on(far).unwrap(), BTreeSet::from([4000, 4001]));
    }

    #[test]
    fn installation_id_is_stable_and_random() {
        let s = Store::open_in_memory().unwrap();
        let id = s.installation_id().unwrap();
        assert_eq!(id.len(), 16);
        assert_eq!(s.installation_id().unwrap(), id);
        assert_ne!(Store::open_in_memory().unwrap().installation_id().unwrap(), id);
    }
}
