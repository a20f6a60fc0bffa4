//! The hosts repository: Docker engines beyond the local one, and which customer runs where.

use rusqlite::{OptionalExtension, Row, params};

use super::auth::Session;
use super::{Result, Store, StoreError, fmt_time, now};
use crate::domain::audit::{AuditStatus, NewAuditEntry};
use crate::domain::host::{DockerAddress, Host, HostNpm, LOCAL, NewHost, TlsFiles};
use crate::domain::rights::Right;

/// The meta key that holds whether the local engine drains.
const LOCAL_DRAINING: &str = "local_draining";

const COLUMNS: &str = "id, name, docker, tls_ca, tls_cert, tls_key, ssh_key, public_ip, draining, data_dir, \
                       npm_url, npm_identity, npm_certificate_id, https_address";

fn host(r: &Row<'_>) -> rusqlite::Result<(Host, String)> {
    let docker: String = r.get(2)?;
    let tls = match (r.get::<_, Option<String>>(3)?, r.get::<_, Option<String>>(4)?, r.get::<_, Option<String>>(5)?) {
        (Some(ca), Some(cert), Some(key)) => Some(TlsFiles { ca, cert, key }),
        _ => None,
    };
    let ip: String = r.get(7)?;
    let npm = match r.get::<_, Option<String>>(10)? {
        Some(url) => Some(HostNpm { url, identity: r.get(11)?, certificate_id: r.get(12)?, https_address: r.get(13)? }),
        None => None,
    };
    // Parsed after the row is read, so a bad value is reported as the table's, not SQLite's.
    let host = Host {
        id: r.get(0)?,
        name: r.get(1)?,
        docker: DockerAddress::Unix { path: String::new() },
        tls,
        ssh_key: r.get(6)?,
        public_ip: ip.parse().unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        draining: r.get(8)?,
        data_dir: r.get(9)?,
        npm,
    };
    Ok((host, docker))
}

fn parsed((mut h, docker): (Host, String)) -> Result<Host> {
    h.docker = DockerAddress::parse(&docker)
        .map_err(|e| StoreError::Corrupt { table: "hosts", detail: format!("{docker:?}: {e}") })?;
    Ok(h)
}

fn write_npm(conn: &rusqlite::Connection, id: i64, npm: Option<&HostNpm>) -> Result<()> {
    conn.execute(
        "UPDATE hosts SET npm_url = ?1, npm_identity = ?2, npm_certificate_id = ?3, https_address = ?4 WHERE id = ?5",
        params![
            npm.map(|n| &n.url),
            npm.and_then(|n| n.identity.as_ref()),
            npm.and_then(|n| n.certificate_id),
            npm.and_then(|n| n.https_address.as_ref()),
            id
        ],
    )?;
    Ok(())
}

/// A customer as placement counts it: its host (`None`: local), layout and UDP port.
pub type Placed = (Option<i64>, crate::domain::customer::Layout, Option<u16>);

impl Store {
    /// Records a host (admins only). The caller has checked that its engine answers.
    pub fn add_host(&self, session: &Session, new: &NewHost) -> Result<Host> {
        session.require(Right::AddHosts)?;
        let (docker, public_ip) = new.validate()?;
        let npm = new.npm.as_ref().map(HostNpm::validate).transpose()?;
        self.immediate(|conn| {
            let exists: bool =
                conn.query_row("SELECT EXISTS(SELECT 1 FROM hosts WHERE name = ?1)", params![new.name], |r| r.get(0))?;
            if exists {
                return Err(StoreError::Conflict(format!("a host named '{}' exists already", new.name)));
            }
            let tls = new.tls.as_ref();
            conn.execute(
                "INSERT INTO hosts (name, docker, tls_ca, tls_cert, tls_key, ssh_key, public_ip, created_at, data_dir)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    new.name,
                    docker.uri(),
                    tls.map(|t| &t.ca),
                    tls.map(|t| &t.cert),
                    tls.map(|t| &t.key),
                    new.ssh_key,
                    public_ip.to_string(),
                    fmt_time(now()),
                    new.data_dir
                ],
            )?;
            write_npm(conn, conn.last_insert_rowid(), npm.as_ref())
        })?;
        let added = self.host_named(&new.name)?;
        self.host_audit(session, &added.name, "host-add", &format!("host {} added ({})", added.name, docker.uri()))?;
        Ok(added)
    }

    /// Gives a host its own Nginx Proxy Manager, or takes it away (`None`; admins only). Its
    /// password, when it has one of its own, is kept in the vault by the caller
    /// ([`crate::store::vault::host_scope`]).
    pub fn set_host_npm(&self, session: &Session, name: &str, npm: Option<&HostNpm>) -> Result<Host> {
        session.require(Right::ChangeHosts)?;
        let h = self.host_named(name)?;
        let npm = npm.map(HostNpm::validate).transpose()?;
        write_npm(&self.conn, h.id, npm.as_ref())?;
        let what = match &npm {
            Some(n) => format!("host {name} publishes its customers through NPM at {}", n.url),
            None => format!("host {name} has no NPM of its own"),
        };
        self.host_audit(session, name, "host-npm", &what)?;
        self.host(h.id)
    }

    /// Every recorded host, by name.
    pub fn hosts(&self) -> Result<Vec<Host>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {COLUMNS} FROM hosts ORDER BY name"))?;
        let rows = stmt.query_map([], host)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(parsed).collect()
    }

    /// The host with this id.
    pub fn host(&self, id: i64) -> Result<Host> {
        let row =
            self.conn.query_row(&format!("SELECT {COLUMNS} FROM hosts WHERE id = ?1"), params![id], host).optional()?;
        parsed(row.ok_or_else(|| StoreError::NotFound(format!("no host with id {id}")))?)
    }

    /// The host with this name (`local` is not a record: see [`LOCAL`]).
    pub fn host_named(&self, name: &str) -> Result<Host> {
        let row = self
            .conn
            .query_row(&format!("SELECT {COLUMNS} FROM hosts WHERE name = ?1"), params![name], host)
            .optional()?;
        parsed(row.ok_or_else(|| {
            StoreError::NotFound(format!(
                "no host named '{name}'; `nbmsp host list` shows them ('{LOCAL}' is this machine's engine)"
            ))
        })?)
    }

    /// The host id a name stands for: `None` for `local`.
    pub fn host_id_for(&self, name: &str) -> Result<Option<i64>> {
        if name == LOCAL { Ok(None) } else { self.host_named(name).map(|h| Some(h.id)) }
    }

    /// Stops (or resumes) placing new customers on a host (operators and admins).
    /// `local` (this machine's engine) drains too: it has no record, its flag is kept apart.
    pub fn set_draining(&self, session: &Session, name: &str, draining: bool) -> Result<()> {
        session.require(Right::DrainHosts)?;
        if name == LOCAL {
            self.set_meta(LOCAL_DRAINING, if draining { "1" } else { "0" })?;
        } else {
            let h = self.host_named(name)?;
            self.conn.execute("UPDATE hosts SET draining = ?1 WHERE id = ?2", params![draining, h.id])?;
        }
        let what = if draining { "draining: nothing new is placed here" } else { "open for new customers again" };
        self.host_audit(session, name, "host-drain", &format!("host {name} {what}"))
    }

    /// Whether the host `key` stands for (`None`: local) is draining.
    pub fn host_draining(&self, key: Option<i64>) -> Result<bool> {
        match key {
            None => Ok(self.meta(LOCAL_DRAINING)?.as_deref() == Some("1")),
            Some(id) => Ok(self.host(id)?.draining),
        }
    }

    /// Forgets a host (admins only); refused while customers run there.
    pub fn remove_host(&self, session: &Session, name: &str) -> Result<()> {
        session.require(Right::RemoveHosts)?;
        let h = self.host_named(name)?;
        self.immediate(|conn| {
            let on: Vec<String> = conn
                .prepare("SELECT subdomain FROM customers WHERE host_id = ?1 ORDER BY subdomain")?
                .query_map(params![h.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if !on.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "host {name} still runs {} customer(s): {}; move or delete them first",
                    on.len(),
                    on.join(", ")
                )));
            }
            conn.execute("DELETE FROM hosts WHERE id = ?1", params![h.id])?;
            conn.execute("DELETE FROM secrets WHERE scope = ?1", params![super::vault::host_scope(h.id)])?;
            Ok(())
        })?;
        self.host_audit(session, name, "host-remove", &format!("host {name} removed"))
    }

    /// Puts a customer on a host (`None`: the local engine). Only for customers not deployed.
    pub fn set_customer_host(&self, customer_id: i64, host_id: Option<i64>) -> Result<()> {
        self.conn.execute("UPDATE customers SET host_id = ?1 WHERE id = ?2", params![host_id, customer_id])?;
        Ok(())
    }

    /// Per host (`None`: local): customers there with their layout and UDP port, for placement
    /// and the hosts list.
    pub fn customers_by_host(&self) -> Result<Vec<Placed>> {
        let mut stmt = self.conn.prepare(
            "SELECT c.host_id, c.layout, d.relay_udp_port FROM customers c LEFT JOIN deployments d ON d.customer_id = c.id",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<u16>>(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|(h, layout, port)| Ok((h, super::parse_word("customers", &layout)?, port))).collect()
    }

    fn host_audit(&self, session: &Session, name: &str, action: &str, message: &str) -> Result<()> {
        self.audit(&NewAuditEntry {
            customer_id: None,
            subject: format!("host {name}"),
            actor: session.user.username.clone(),
            action: action.into(),
            status: AuditStatus::Success,
            message: message.into(),
            details: None,
        })
    }
}
