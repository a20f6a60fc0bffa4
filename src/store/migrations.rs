//! Versioned schema migrations, applied in order at open. `PRAGMA user_version` records the
//! version a database is at; a database newer than this build knows is refused, not guessed at.

use rusqlite::Connection;

use super::StoreError;

/// Each entry upgrades the schema from version `index` to `index + 1`. Append only: a released
/// migration never changes, or databases that already ran it would differ from new ones.
pub const MIGRATIONS: &[&str] = &[
    // 1: customers, deployments, settings, audit log, users.
    r#"
    CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'operator')),
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE customers (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        company       TEXT NOT NULL DEFAULT '',
        subdomain     TEXT NOT NULL UNIQUE,
        email         TEXT NOT NULL,
        max_devices   INTEGER NOT NULL DEFAULT 20 CHECK (max_devices BETWEEN 1 AND 100000),
        notes         TEXT NOT NULL DEFAULT '',
        layout        TEXT NOT NULL DEFAULT 'combined' CHECK (layout IN ('combined', 'legacy')),
        status        TEXT NOT NULL DEFAULT 'inactive' CHECK (status IN ('active', 'inactive', 'deploying', 'error')),
        status_reason TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE deployments (
        id                INTEGER PRIMARY KEY,
        customer_id       INTEGER NOT NULL UNIQUE REFERENCES customers(id) ON DELETE CASCADE,
        container_prefix  TEXT NOT NULL UNIQUE,
        relay_udp_port    INTEGER UNIQUE CHECK (relay_udp_port BETWEEN 1024 AND 65535),
        npm_proxy_id      INTEGER,
        setup_url         TEXT,
        status            TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'stopped', 'failed')),
        last_health_check TEXT,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        id          INTEGER PRIMARY KEY,
        customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,
        subject     TEXT NOT NULL DEFAULT '',
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('success', 'error', 'info')),
        message     TEXT NOT NULL,
        details     TEXT,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX audit_log_customer ON audit_log (customer_id, id);
    "#,
    // 2: encrypted secrets, per-user wrapped data keys, persisted login throttling.
    r#"
    CREATE TABLE key_wraps (
        user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        kdf_salt    BLOB NOT NULL,
        kdf_params  TEXT NOT NULL,
        wrapped_key BLOB NOT NULL
    );
    CREATE TABLE secrets (
        scope      TEXT NOT NULL,
        name       TEXT NOT NULL,
        sealed     BLOB NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (scope, name)
    );
    CREATE TABLE login_attempts (
        username        TEXT PRIMARY KEY,
        failures        INTEGER NOT NULL,
        last_failure_at INTEGER NOT NULL,
        locked_until    INTEGER
    );
    "#,
    // 3: installation identity (labels on containers tell this installation's from others').
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO meta (key, value) VALUES ('installation_id', lower(hex(randomblob(8))));
    "#,
    // 4: what the proxy registered, so teardown removes exactly that, and a pending certificate.
    r#"
    ALTER TABLE deployments ADD COLUMN npm_certificate_id INTEGER;
    ALTER TABLE deployments ADD COLUMN npm_certificate_owned INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE deployments ADD COLUMN proxy_pending TEXT;
    "#,
    // 5: device metering from NetBird's API.
    r#"
    ALTER TABLE deployments ADD COLUMN devices_total INTEGER;
    ALTER TABLE deployments ADD COLUMN devices_connected INTEGER;
    ALTER TABLE deployments ADD COLUMN devices_checked_at TEXT;
    "#,
    // 6: one running operation per customer, across processes (TUIs and CLIs on one database).
    r#"
    CREATE TABLE operation_locks (
        customer_id  INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
        operation    TEXT NOT NULL,
        owner        TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        host         TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        heartbeat_at INTEGER NOT NULL
    );
    "#,
    // 7: the fleet monitor: what it last saw per customer, when a certificate became pending,
    // and which alerts are firing (so a restarted monitor does not notify twice). The widened
    // status CHECK (degraded, stopped) is applied by `widen_status_check` first.
    r#"
    UPDATE customers SET status = 'stopped' WHERE status = 'inactive' AND status_reason = 'stopped';
    ALTER TABLE deployments ADD COLUMN proxy_pending_since TEXT;
    UPDATE deployments SET proxy_pending_since = updated_at WHERE proxy_pending IS NOT NULL;
    CREATE TABLE customer_checks (
        customer_id       INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
        checked_at        TEXT NOT NULL,
        containers_up     INTEGER NOT NULL,
        containers_total  INTEGER NOT NULL,
        health_ok         INTEGER,
        stun_ok           INTEGER,
        dashboard_ok      INTEGER,
        health_reason     TEXT,
        health_checked_at TEXT,
        cpu_percent       REAL,
        memory_bytes      INTEGER,
        stats_at          TEXT
    );
    CREATE TABLE alert_state (
        key      TEXT PRIMARY KEY,
        scope    TEXT NOT NULL,
        kind     TEXT NOT NULL,
        message  TEXT NOT NULL,
        since    TEXT NOT NULL,
        notified INTEGER NOT NULL
    );
    "#,
    // 8: a journal of deploy, redeploy and delete steps, so that after a crash the next start
    // knows what an interrupted operation did and can finish or undo it. No foreign key: the
    // entry of a delete must outlive the customer row.
    r#"
    CREATE TABLE journal (
        id          INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL,
        subdomain   TEXT NOT NULL,
        operation   TEXT NOT NULL CHECK (operation IN ('deploy', 'redeploy', 'delete')),
        purge_data  INTEGER NOT NULL DEFAULT 0,
        step        TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'recovered')),
        actor       TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        host        TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        outcome     TEXT
    );
    CREATE INDEX journal_running ON journal (state) WHERE state = 'running';
    "#,
    // 9: the NetBird owner's user id and when its access token expires (renewed before then),
    // the image ids each service runs (a re-pointed tag is a different image), and what the
    // last public-path check through the proxy found.
    r#"
    ALTER TABLE customer_checks ADD COLUMN public_reason TEXT;
    ALTER TABLE deployments ADD COLUMN owner_user_id TEXT;
    ALTER TABLE deployments ADD COLUMN pat_expires_at TEXT;
    ALTER TABLE deployments ADD COLUMN image_ids TEXT NOT NULL DEFAULT '{}';
    "#,
    // 10: customer ids are never handed out twice. `INTEGER PRIMARY KEY` reuses the highest id
    // after a delete, so a screen or a journal entry still naming the deleted customer would
    // act on the new one. Rebuilding the table as AUTOINCREMENT would cascade-delete its
    // children, so the high-water mark is kept here instead (seeded from every table that may
    // still name a deleted customer) and inserts take the next id from it.
    r#"
    CREATE TABLE id_sequence (
        name TEXT PRIMARY KEY,
        last INTEGER NOT NULL
    );
    INSERT INTO id_sequence (name, last) VALUES ('customers', max(
        coalesce((SELECT max(id) FROM customers), 0),
        coalesce((SELECT max(customer_id) FROM journal), 0),
        coalesce((SELECT max(customer_id) FROM audit_log), 0)));
    CREATE TRIGGER customers_id_high_water AFTER INSERT ON customers BEGIN
        UPDATE id_sequence SET last = max(last, NEW.id) WHERE name = 'customers';
    END;
    "#,
    // 11: customer backups written (by hand, at delete, or on schedule): the Deployment tab
    // shows the last one, retention prunes the scheduled ones. No foreign key: the backup
    // taken at delete outlives the customer.
    r#"
    CREATE TABLE customer_backups (
        id          INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL,
        subdomain   TEXT NOT NULL,
        path        TEXT NOT NULL,
        bytes       INTEGER NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('manual', 'delete', 'scheduled')),
        actor       TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX customer_backups_customer ON customer_backups (customer_id, id);
    "#,
    // 12: a lock belongs to one operation (its token), not to a process: a stop in the app
    // must not pass a rollout's redeploy in the same app, nor release its lock.
    r#"
    ALTER TABLE operation_locks ADD COLUMN token TEXT NOT NULL DEFAULT '';
    "#,
    // 13: the read-only `viewer` role (the CHECK on users.role is widened by `widen_role_check`).
    r#"
    SELECT 1;
    "#,
    // 14: devices on a client older than `netbird.min_client_version`, counted with the others
    // (the fleet's devices view shows them per customer).
    r#"
    ALTER TABLE deployments ADD COLUMN devices_outdated INTEGER;
    "#,
    // 15: Docker hosts beyond the local engine; a customer without a host runs on the local one.
    r#"
    CREATE TABLE hosts (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        docker     TEXT NOT NULL,
        tls_ca     TEXT,
        tls_cert   TEXT,
        tls_key    TEXT,
        ssh_key    TEXT,
        public_ip  TEXT NOT NULL,
        data_dir   TEXT,
        draining   INTEGER NOT NULL DEFAULT 0 CHECK (draining IN (0, 1)),
        created_at TEXT NOT NULL
    );
    ALTER TABLE customers ADD COLUMN host_id INTEGER REFERENCES hosts(id);
    ALTER TABLE journal ADD COLUMN move_from INTEGER;
    ALTER TABLE journal ADD COLUMN move_to INTEGER;
    "#,
    // 16: each host's own Nginx Proxy Manager (its password is a secret in scope `host:<id>`);
    // NULL: none, and with `proxy = npm` nothing is deployed there.
    r#"
    ALTER TABLE hosts ADD COLUMN npm_url TEXT;
    ALTER TABLE hosts ADD COLUMN npm_identity TEXT;
    ALTER TABLE hosts ADD COLUMN npm_certificate_id INTEGER;
    ALTER TABLE hosts ADD COLUMN https_address TEXT;
    "#,
    // 17: UDP ports are unique per host, not across the installation (`ports_per_host`
    // rebuilds `deployments` without its UNIQUE column first). The triggers keep two customers
    // of one host off one port, whichever row changes; a move records the source's port, which
    // the target may not have free.
    r#"
    CREATE TRIGGER deployments_port_per_host_insert BEFORE INSERT ON deployments
    WHEN NEW.relay_udp_port IS NOT NULL AND EXISTS (
        SELECT 1 FROM deployments d JOIN customers c ON c.id = d.customer_id
        WHERE d.relay_udp_port = NEW.relay_udp_port AND d.customer_id <> NEW.customer_id
          AND c.host_id IS (SELECT host_id FROM customers WHERE id = NEW.customer_id))
    BEGIN SELECT RAISE(ABORT, 'UDP port taken on this host'); END;
    CREATE TRIGGER deployments_port_per_host_update BEFORE UPDATE OF relay_udp_port ON deployments
    WHEN NEW.relay_udp_port IS NOT NULL AND EXISTS (
        SELECT 1 FROM deployments d JOIN customers c ON c.id = d.customer_id
        WHERE d.relay_udp_port = NEW.relay_udp_port AND d.customer_id <> NEW.customer_id
          AND c.host_id IS (SELECT host_id FROM customers WHERE id = NEW.customer_id))
    BEGIN SELECT RAISE(ABORT, 'UDP port taken on this host'); END;
    CREATE TRIGGER customers_port_per_host BEFORE UPDATE OF host_id ON customers
    WHEN EXISTS (
        SELECT 1 FROM deployments mine JOIN deployments d ON d.relay_udp_port = mine.relay_udp_port
        JOIN customers c ON c.id = d.customer_id
        WHERE mine.customer_id = NEW.id AND d.customer_id <> NEW.id AND c.host_id IS NEW.host_id)
    BEGIN SELECT RAISE(ABORT, 'UDP port taken on this host'); END;
    CREATE INDEX deployments_port ON deployments (relay_udp_port);
    ALTER TABLE journal ADD COLUMN move_port INTEGER;
    "#,
    // 18: the admin key. Its private half is sealed per admin under that admin's password (as
    // the data key is per user); admin-only secrets are sealed to its public half (in `meta`),
    // so a role changed in the `users` table alone opens none of them. Made at `init`, or at an
    // older installation's first admin login.
    r#"
    CREATE TABLE admin_wraps (
        user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        sealed BLOB NOT NULL
    );
    "#,
    // 19: the MSP's contract or billing reference per customer (reports group by it).
    r#"
    ALTER TABLE customers ADD COLUMN contract_id TEXT;
    "#,
    // 20: whether the customer's stack runs NetBird's Reverse Proxy.
    r#"
    ALTER TABLE customers ADD COLUMN reverse_proxy INTEGER NOT NULL DEFAULT 0 CHECK (reverse_proxy IN (0, 1));
    "#,
    // 21: the services a customer's reverse proxy publishes, and how many are in trouble, as the
    // monitor last asked (for the dashboard).
    r#"
    ALTER TABLE deployments ADD COLUMN services_total INTEGER;
    ALTER TABLE deployments ADD COLUMN services_trouble INTEGER;
    "#,
    // 22: the MSP's month. Each customer's promised uptime; a ledger of every customer that
    // ever existed (kept by triggers, so no path that creates, changes or deletes a customer can
    // forget it, and a month's report still names a customer deleted since); the states the
    // monitor saw as spans (a row per change, the newest extended each round); the maintenance
    // windows operators' operations opened; and per-day device figures. No foreign keys: the
    // history outlives the customer, and `history.retention_months` prunes it.
    r#"
    ALTER TABLE customers ADD COLUMN sla_target INTEGER CHECK (sla_target IS NULL OR sla_target BETWEEN 1 AND 100000);
    CREATE TABLE customer_ledger (
        customer_id INTEGER PRIMARY KEY,
        subdomain   TEXT NOT NULL,
        name        TEXT NOT NULL,
        contract_id TEXT,
        sla_target  INTEGER,
        max_devices INTEGER NOT NULL,
        created_s   INTEGER NOT NULL,
        deleted_s   INTEGER
    );
    INSERT INTO customer_ledger (customer_id, subdomain, name, contract_id, sla_target, max_devices, created_s)
        SELECT id, subdomain, name, contract_id, sla_target, max_devices, coalesce(CAST(strftime('%s', created_at) AS INTEGER), 0) FROM customers;
    CREATE TRIGGER customers_ledger_insert AFTER INSERT ON customers BEGIN
        INSERT INTO customer_ledger (customer_id, subdomain, name, contract_id, sla_target, max_devices, created_s)
        VALUES (NEW.id, NEW.subdomain, NEW.name, NEW.contract_id, NEW.sla_target, NEW.max_devices,
                coalesce(CAST(strftime('%s', NEW.created_at) AS INTEGER), 0))
        ON CONFLICT (customer_id) DO UPDATE SET subdomain = excluded.subdomain, name = excluded.name,
            contract_id = excluded.contract_id, sla_target = excluded.sla_target,
            max_devices = excluded.max_devices, deleted_s = NULL;
    END;
    CREATE TRIGGER customers_ledger_update AFTER UPDATE OF subdomain, name, contract_id, sla_target, max_devices ON customers BEGIN
        UPDATE customer_ledger SET subdomain = NEW.subdomain, name = NEW.name, contract_id = NEW.contract_id,
            sla_target = NEW.sla_target, max_devices = NEW.max_devices WHERE customer_id = NEW.id;
    END;
    CREATE TRIGGER customers_ledger_delete AFTER DELETE ON customers BEGIN
        UPDATE customer_ledger SET deleted_s = CAST(strftime('%s', 'now') AS INTEGER) WHERE customer_id = OLD.id;
    END;
    CREATE TABLE sla_spans (
        id          INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('up', 'degraded', 'down', 'unknown', 'stopped', 'off')),
        cause       TEXT,
        start_s     INTEGER NOT NULL,
        end_s       INTEGER NOT NULL CHECK (end_s >= start_s),
        latest      INTEGER NOT NULL DEFAULT 1 CHECK (latest IN (0, 1))
    );
    CREATE INDEX sla_spans_time ON sla_spans (end_s, customer_id);
    CREATE UNIQUE INDEX sla_spans_latest ON sla_spans (customer_id) WHERE latest = 1;
    CREATE TABLE sla_maintenance (
        id          INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL,
        operation   TEXT NOT NULL,
        who         TEXT NOT NULL,
        start_s     INTEGER NOT NULL,
        end_s       INTEGER CHECK (end_s IS NULL OR end_s >= start_s)
    );
    CREATE INDEX sla_maintenance_customer ON sla_maintenance (customer_id, start_s);
    CREATE TABLE device_days (
        customer_id INTEGER NOT NULL,
        day         TEXT NOT NULL,
        online_peak INTEGER NOT NULL,
        online_sum  INTEGER NOT NULL,
        samples     INTEGER NOT NULL,
        devices     INTEGER NOT NULL,
        users       INTEGER,
        outdated    INTEGER,
        PRIMARY KEY (customer_id, day)
    ) WITHOUT ROWID;
    "#,
    // 23: the customer's record in the MSP's PSA or ticketing system (a reference field).
    r#"
    ALTER TABLE customers ADD COLUMN psa_ref TEXT;
    "#,
];

/// Steps in Rust that run inside a migration's transaction before its SQL, by the version the
/// migration produces (for what SQL alone cannot say).
type PreStep = fn(&rusqlite::Transaction<'_>) -> Result<(), StoreError>;
const PRE_STEPS: &[(usize, PreStep)] =
    &[(7, widen_status_check), (13, widen_role_check), (15, widen_journal_operation_check), (17, ports_per_host)];

/// Before migration 7: lets `customers.status` hold `degraded` and `stopped`. SQLite cannot
/// alter a CHECK, and rebuilding the table would cascade-delete its children, so the stored
/// definition is edited in place: SQLite documents this for loosening a constraint, which is
/// all this does (every existing row still satisfies it).
fn widen_status_check(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    widen_check(
        tx,
        "customers",
        "CHECK (status IN ('active', 'inactive', 'deploying', 'error'))",
        "CHECK (status IN ('active', 'degraded', 'inactive', 'stopped', 'deploying', 'error'))",
    )
}

/// Before migration 13: lets `users.role` hold `viewer` (the same in-place loosening).
fn widen_role_check(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    widen_check(tx, "users", "CHECK (role IN ('admin', 'operator'))", "CHECK (role IN ('admin', 'operator', 'viewer'))")
}

/// Before migration 15: the journal records moves between hosts, and a move's backup is kept.
fn widen_journal_operation_check(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    widen_check(
        tx,
        "journal",
        "CHECK (operation IN ('deploy', 'redeploy', 'delete'))",
        "CHECK (operation IN ('deploy', 'redeploy', 'delete', 'move'))",
    )?;
    widen_check(
        tx,
        "customer_backups",
        "CHECK (kind IN ('manual', 'delete', 'scheduled'))",
        "CHECK (kind IN ('manual', 'delete', 'scheduled', 'move'))",
    )
}

/// Before migration 17: `deployments` without the UNIQUE on `relay_udp_port`. A column's
/// UNIQUE is an index SQLite will not drop, so the table is rebuilt the documented way (new
/// table, copy, drop, rename). No table references `deployments`, so the drop cascades nowhere.
fn ports_per_host(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let sql: String =
        tx.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'deployments'", [], |r| r.get(0))?;
    let unique = "relay_udp_port    INTEGER UNIQUE CHECK";
    if !sql.contains(unique) {
        return Ok(());
    }
    let rebuilt = sql.replacen("CREATE TABLE deployments", "CREATE TABLE deployments_rebuilt", 1).replacen(
        unique,
        "relay_udp_port    INTEGER CHECK",
        1,
    );
    tx.execute_batch(&rebuilt)?;
    tx.execute_batch(
        "INSERT INTO deployments_rebuilt SELECT * FROM deployments;
         DROP TABLE deployments;
         ALTER TABLE deployments_rebuilt RENAME TO deployments;",
    )?;
    Ok(())
}

/// Replaces CHECK clause `old` of `table` by the looser `new` in the stored definition.
fn widen_check(tx: &rusqlite::Transaction<'_>, table: &str, old: &str, new: &str) -> Result<(), StoreError> {
    let sql: String =
        tx.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))?;
    if !sql.contains(old) {
        return Ok(());
    }
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.pragma_update(None, "writable_schema", true)?;
    tx.execute(
        "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2",
        [sql.replace(old, new), table.to_string()],
    )?;
    // A new schema version makes every connection re-read the definition.
    tx.pragma_update(None, "schema_version", version + 1)?;
    tx.pragma_update(None, "writable_schema", false)?;
    Ok(())
}

/// The schema version this build writes.
pub const LATEST: usize = MIGRATIONS.len();

/// The schema version `conn` is at.
pub fn version(conn: &Connection) -> Result<usize, StoreError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

/// Brings `conn` up to `target` (normally [`LATEST`]), each step in its own transaction so a
/// crash leaves the database at a whole version.
pub fn migrate_to(conn: &mut Connection, target: usize) -> Result<(), StoreError> {
    let current = version(conn)?;
    if current > LATEST {
        return Err(StoreError::TooNew { found: current, known: LATEST });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(current) {
        let tx = conn.transaction()?;
        for (_, step) in PRE_STEPS.iter().filter(|(version, _)| *version == i + 1) {
            step(&tx)?;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
        tracing::info!(version = i + 1, "database migrated");
    }
    Ok(())
}
