//! `nbmsp doctor`: one line per check, exit 1 if any fails.

use std::path::Path;

use serde::Serialize;

use super::{CliError, CliResult, GlobalArgs, auth, output};
use crate::domain::settings::{ProxyKind, Settings};
use crate::engine::{docker::DockerEngine, npm, stack::ports};
use crate::store::Store;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, or what to do about it.
    pub detail: String,
}

fn check(name: &'static str, r: Result<String, String>) -> Check {
    match r {
        Ok(detail) => Check { name, ok: true, detail },
        Err(detail) => Check { name, ok: false, detail },
    }
}

/// Runs every check and prints them.
pub async fn run(g: &GlobalArgs) -> CliResult {
    let (store, _session) = auth::login(g)?;
    let settings = store.settings()?;
    let checks = vec![
        check("database", database(&store)),
        check("docker", docker().await),
        check("proxy", proxy(&settings).await),
        check("data_dir", data_dir(Path::new(&settings.data_dir))),
        check("ports", port_range(&store, &settings)),
        check("images", images(&settings).await),
        check("edge", edge(&store, &settings).await),
        check("services_dns", services_dns(&store, &settings).await),
        check("geolocation", geolocation(&settings).await),
        // Informational: the fleet works without a monitor, only alerts and live statuses stop.
        check("monitor", Ok(monitor(&store))),
    ];
    let all_ok = checks.iter().all(|c| c.ok);
    if g.json {
        output::json(&serde_json::json!({ "ok": all_ok, "checks": checks }))?;
    } else {
        for c in &checks {
            println!("{} {:<12} {}", if c.ok { "ok  " } else { "FAIL" }, c.name, c.detail);
        }
    }
    if all_ok {
        Ok(())
    } else {
        // The per-check lines (or the JSON document) already said everything.
        Err(CliError::runtime(""))
    }
}

/// The local host's edge, when one is wanted, as the one verdict on edges judges it.
async fn edge(store: &Store, s: &Settings) -> Result<String, String> {
    use crate::domain::edge::EdgeHealth;
    let Some(listen) = &s.edge.listen else {
        return Ok("none (edge.listen is empty; `nbmsp edge config` prints one for your own nginx)".into());
    };
    let name = crate::engine::npm::edge::container(s);
    let engines = crate::engine::hosts::Engines::new(store).map_err(|e| e.to_string())?;
    match crate::engine::npm::edge::health(store, &engines, None).await.map_err(|e| e.to_string())? {
        EdgeHealth::Serving { routes } => Ok(format!("{name} on {listen}, {routes} customer(s) routed")),
        EdgeHealth::Trouble { reason } => Err(format!("{name} on {listen}: {reason}")),
        EdgeHealth::Unknown => Err(format!("Docker did not answer about {name}")),
        EdgeHealth::NotWanted => Ok("none (edge.listen is empty)".into()),
    }
}

/// Every deployed customer with a reverse proxy has the wildcard record its services need
/// (`*.<domain>`, at the edge when `edge.listen` names its address): a name nothing else
/// answers for is resolved under each domain, all at once.
async fn services_dns(store: &Store, s: &Settings) -> Result<String, String> {
    use crate::engine::checks::public::{Services, wildcard_note};
    let rows = store.customer_rows().map_err(|e| e.to_string())?;
    let domains: Vec<String> = rows
        .iter()
        .filter(|r| crate::engine::npm::edge::is_routed(r, r.customer.host_id))
        .map(|r| r.customer.fqdn(&s.base_domain))
        .collect();
    if domains.is_empty() {
        return Ok("no deployed customer has a reverse proxy".into());
    }
    let edge = match Services::of(s, true) {
        Services::Edge(ip) => ip,
        Services::None => None,
    };
    let notes = futures_util::future::join_all(domains.iter().map(|d| wildcard_note(d, edge))).await;
    let problems: Vec<String> = notes.into_iter().flatten().collect();
    if problems.is_empty() {
        Ok(format!("*.<domain> resolves for all {} customer(s) with a reverse proxy", domains.len()))
    } else {
        Err(problems.join("; "))
    }
}

/// Where NetBird v0.77.1 fetches GeoLite at its first start (`management/server/geolocation/
/// database.go`); the checksum is the smallest file there.
const GEOLITE_URL: &str = "https://pkgs.netbird.io/geolocation-dbs/GeoLite2-City/download?suffix=tar.gz.sha256";

/// With `netbird.geolocation` on, every NetBird server downloads GeoLite at start and stops
/// when it cannot (`modules.go`): this machine must reach pkgs.netbird.io. Remote hosts are not
/// asked (their egress is theirs).
async fn geolocation(s: &Settings) -> Result<String, String> {
    if !s.geolocation {
        return Ok("off (netbird.geolocation): NetBird downloads nothing at start".into());
    }
    crate::engine::install_crypto_provider();
    let client =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().map_err(|e| e.to_string())?;
    let answer = client.get(GEOLITE_URL).send().await;
    match answer {
        Ok(r) if r.status().is_success() => {
            Ok("pkgs.netbird.io answers: NetBird can download GeoLite at its first start".into())
        }
        Ok(r) => Err(format!("pkgs.netbird.io answered {}: {}", r.status(), GEOLITE_WHY)),
        Err(e) => Err(format!("pkgs.netbird.io cannot be reached ({}): {GEOLITE_WHY}", crate::engine::error_chain(&e))),
    }
}

const GEOLITE_WHY: &str = "NetBird stops at start when it cannot download GeoLite; give the Docker hosts HTTPS \
                           egress to pkgs.netbird.io, or `nbmsp settings set netbird.geolocation off`";

/// Every configured image is on the engine, or is pulled now; a management image too old to be
/// bootstrapped safely is named.
async fn images(settings: &crate::domain::settings::Settings) -> Result<String, String> {
    use crate::domain::customer::Layout;
    let engine = DockerEngine::connect().await.map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    let mut pulled = 0;
    for (svc, image) in &settings.images {
        let management = [Layout::Combined, Layout::Legacy].iter().any(|l| l.management_service() == svc);
        if management && let Some(why) = crate::domain::images::too_old_for_setup(&format!("images.{svc}"), image) {
            problems.push(why);
            continue;
        }
        match engine.has_image(image).await {
            Ok(true) => {}
            Ok(false) => match engine.pull(image, |_| {}).await {
                Ok(()) => pulled += 1,
                Err(e) => problems.push(format!(
                    "images.{svc} = {image} is not on the engine and cannot be pulled ({e}): set images.{svc} or load \
                     it with `docker load`"
                )),
            },
            Err(e) => problems.push(e.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(format!("{} images present ({pulled} pulled now)", settings.images.len()))
    } else {
        Err(problems.join("; "))
    }
}

fn monitor(store: &Store) -> String {
    let last = store.meta("monitor_round_at").ok().flatten();
    let age = last
        .as_deref()
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .map(|t| (crate::store::now() - t).whole_seconds());
    match (last, age) {
        (Some(t), Some(a)) if a < 300 => format!("last fleet check {t} ({a} s ago)"),
        (Some(t), _) => {
            format!("last fleet check {t}: no monitor is running now; alerts are off (systemctl start nbmsp-monitor)")
        }
        _ => "no monitor has run yet: alerts are off until `nbmsp monitor` runs (install.sh sets up a systemd unit)"
            .to_string(),
    }
}

fn database(store: &Store) -> Result<String, String> {
    let path = store.path().map(|p| p.display().to_string()).unwrap_or_default();
    match store.integrity_check() {
        Ok(crate::store::Integrity::Sound) => {
            Ok(format!("{path}: schema v{}, integrity ok", store.schema_version().map_err(|e| e.to_string())?))
        }
        Ok(crate::store::Integrity::Damaged(problem)) => {
            Err(format!("{path}: integrity check failed: {problem}; restore a backup"))
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn docker() -> Result<String, String> {
    let engine = DockerEngine::connect().await.map_err(|e| e.to_string())?;
    let info = engine.info().await.map_err(|e| e.to_string())?;
    Ok(format!(
        "engine {} at {}, API {} (speaking {})",
        info.version, info.host, info.api_version, info.negotiated_api_version
    ))
}

async fn proxy(s: &Settings) -> Result<String, String> {
    match s.proxy {
        ProxyKind::None => Ok("proxy = none: nbmsp prints nginx snippets instead of calling a proxy".into()),
        ProxyKind::Npm if s.npm_url.is_empty() => {
            Err("proxy = npm but npm.url is not set: `nbmsp settings set npm.url http://HOST:81`".into())
        }
        ProxyKind::Npm => {
            let client = npm::http_client().map_err(|e| e.to_string())?;
            let st = npm::probe(&client, &s.npm_url).await.map_err(|e| e.to_string())?;
            Ok(format!("Nginx Proxy Manager {} at {}", st.version, s.npm_url))
        }
    }
}

fn data_dir(dir: &Path) -> Result<String, String> {
    crate::store::home::private_dir_if_new(dir)
        .map_err(|e| format!("{e}; fix the permissions or change the data_dir setting"))?;
    let probe = dir.join(".nbmsp-doctor-probe");
    std::fs::write(&probe, b"probe").map_err(|e| format!("{} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(format!("{} is writable", dir.display()))
}

fn port_range(store: &Store, s: &Settings) -> Result<String, String> {
    let allocated = store.allocated_ports_on(None).map_err(|e| e.to_string())?;
    let first = s.relay_base_port;
    let last = first.saturating_add(s.relay_port_count.saturating_sub(1));
    let (mut by_customers, mut by_others) = (0u32, 0u32);
    for p in first..=last {
        if allocated.contains(&p) {
            by_customers += 1;
        } else if !ports::udp_port_free(p) {
            by_others += 1;
        }
    }
    let total = u32::from(s.relay_port_count);
    let free = total - by_customers - by_others;
    let detail = format!(
        "UDP {first}-{last}: {free} of {total} free ({by_customers} used by customers, {by_others} by other programs)"
    );
    if free == 0 { Err(format!("{detail}; raise relay_port_count or move relay_base_port")) } else { Ok(detail) }
}
