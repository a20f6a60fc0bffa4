//! The deployments repository (the engine fills it; the CLI and UI read it).

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, parse_time, parse_word};
use crate::domain::deployment::Deployment;

impl Store {
    /// The deployment of `customer_id`, if one was recorded.
    pub fn deployment(&self, customer_id: i64) -> Result<Option<Deployment>> {
        let row = self
            .conn
            .query_row(
                "SELECT customer_id, container_prefix, relay_udp_port, npm_proxy_id, setup_url, status, last_health_check
                 FROM deployments WHERE customer_id = ?1",
                params![customer_id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<u16>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(customer_id, container_prefix, relay_udp_port, npm_proxy_id, setup_url, status, checked)| {
            Ok(Deployment {
                customer_id,
                container_prefix,
                relay_udp_port,
                npm_proxy_id,
                setup_url,
                status: parse_word("deployments", &status)?,
                last_health_check: checked.map(|t| parse_time("deployments", &t)).transpose()?,
            })
        })
        .transpose()
    }

    /// Every UDP port recorded for a deployment.
    pub fn allocated_ports(&self) -> Result<std::collections::BTreeSet<u16>> {
        let mut stmt = self.conn.prepare("SELECT relay_udp_port FROM deployments WHERE relay_udp_port IS NOT NULL")?;
        let ports = stmt.query_map([], |r| r.get::<_, u16>(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ports)
    }
}
