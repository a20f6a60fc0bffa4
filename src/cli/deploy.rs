//! Customer commands that drive the engine: deploy, redeploy, start, stop, restart, delete,
//! logs, health, stats, render.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use super::{CliError, CliResult, GlobalArgs, output};
use crate::domain::customer::Customer;
use crate::domain::deployment::LogLine;
use crate::domain::sanitize::terminal_safe;
use crate::engine::checks::health::HealthReport;
use crate::engine::netbird::OwnerCredentials;
use crate::engine::npm::proxy::AnyProxy;
use crate::engine::ops::lifecycle::{Ops, Progress};
use crate::engine::stack::render;
use crate::store::{Session, Store};

/// The proxy the `proxy` setting selects.
pub fn proxy(g: &GlobalArgs, store: &Store, session: &Session) -> CliResult<AnyProxy> {
    crate::engine::npm::proxy::from_settings(store, &session.vault, Some(g.home()?.join("templates")))
        .map_err(|e| CliError::usage(e.to_string()))
}

/// Connects to Docker and builds the operations context, then runs `f` with it.
pub async fn with_ops<T>(
    g: &GlobalArgs,
    store: &Store,
    session: &Session,
    f: impl AsyncFnOnce(&Ops<'_, AnyProxy>) -> CliResult<T>,
) -> CliResult<T> {
    let proxy = proxy(g, store, session)?;
    let engines = crate::engine::hosts::Engines::connect(store).await?;
    let ops = Ops {
        store,
        vault: &session.vault,
        actor: &session.user.username,
        role: session.role(),
        engines: &engines,
        proxy: &proxy,
        template_dir: Some(g.home()?.join("templates")),
    };
    f(&ops).await
}

/// Prints progress events on stderr, one line each (stdout stays for results and JSON).
pub fn print_progress(event: Progress) {
    use crate::engine::ops::lifecycle::Step;
    let total = Step::ALL.len();
    match event {
        Progress::Started { step } => eprintln!("[{}/{total}] {} ...", step.number(), step.label()),
        Progress::Done { step, detail } => {
            eprintln!("[{}/{total}] {}: ok, {}", step.number(), step.label(), terminal_safe(&detail))
        }
        Progress::Failed { step, error } => {
            eprintln!("[{}/{total}] {}: FAILED: {}", step.number(), step.label(), terminal_safe(&error))
        }
        Progress::Note { text } => eprintln!("      {}", terminal_safe(&text)),
    }
}

/// Runs a deploy (or redeploy) of customer `id`; Ctrl-C or SIGTERM stops it where it stands
/// and rolls it back exactly as the app's cancel does (the journal says what to undo), so an
/// interrupted command leaves nothing half-made for `reconcile` to find.
pub async fn deploy_interruptible(
    ops: &Ops<'_, AnyProxy>,
    id: i64,
    redeploy: bool,
) -> CliResult<crate::engine::ops::lifecycle::DeployOutcome> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|e| CliError::runtime(format!("signals: {e}")))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| CliError::runtime(format!("signals: {e}")))?;
    let mut p = print_progress;
    let run = async { if redeploy { ops.redeploy(id, &mut p).await } else { ops.deploy(id, &mut p).await } };
    let interrupted = tokio::select! {
        r = run => return Ok(r?),
        _ = int.recv() => "interrupted (SIGINT)",
        _ = term.recv() => "terminated (SIGTERM)",
    };
    eprintln!("nbmsp: {interrupted}: rolling the {} back ...", if redeploy { "redeploy" } else { "deploy" });
    let undone = crate::engine::fleet::reconcile::undo_cancelled(ops, id).await?;
    eprintln!("nbmsp: {}", terminal_safe(&undone));
    Err(CliError::new(super::ErrorKind::Interrupted, format!("{interrupted}: {undone}")))
}

/// `customer deploy` and `customer redeploy`.
pub async fn deploy(g: &GlobalArgs, store: &Store, session: &Session, c: &Customer, redeploy: bool) -> CliResult {
    let outcome = with_ops(g, store, session, async |ops| deploy_interruptible(ops, c.id, redeploy).await).await?;
    if g.json {
        output::json(&outcome)
    } else {
        if let Some(o) = &outcome.owner {
            print_owner(o, Some(&c.subdomain));
        }
        println!("customer '{}' is up: UDP {}, {}", c.subdomain, outcome.udp_port, outcome.setup_url);
        Ok(())
    }
}

/// An operation on several customers (`customer restart a b c`, `--all --status error`): each
/// customer's outcome on stderr as it ends, a summary (or JSON) on stdout; exit 1 if any failed.
pub async fn bulk(
    g: &GlobalArgs,
    store: &Store,
    session: &Session,
    t: &super::customer::Targets,
    op: crate::engine::worker::protocol::Operation,
) -> CliResult {
    let customers = super::customer::resolve(store, t)?;
    if customers.is_empty() {
        if g.json {
            return output::json(&crate::engine::fleet::bulk::BulkSummary {
                operation: op.verb(),
                ok: 0,
                failed: 0,
                results: vec![],
            });
        }
        println!("no customers match");
        return Ok(());
    }
    let start = store.settings()?.monitor.concurrency;
    let ids: Vec<i64> = customers.iter().map(|c| c.id).collect();
    let names: std::collections::HashMap<i64, String> = customers.iter().map(|c| (c.id, c.subdomain.clone())).collect();
    let given = t.parallel.map(usize::from);
    let progress = |id: i64, p: Progress| {
        if let Progress::Failed { step, error } = p {
            eprintln!(
                "  {}: {} failed: {}",
                names.get(&id).map_or("?", String::as_str),
                step.label(),
                terminal_safe(&error)
            );
        }
    };
    let mut done = |r: &crate::engine::fleet::bulk::BulkResult| match &r.result {
        Ok(m) => eprintln!("ok     {}: {}", r.subdomain, terminal_safe(m)),
        Err(e) => eprintln!("FAILED {}: {}", r.subdomain, terminal_safe(&e.message)),
    };
    let summary = with_ops(g, store, session, async |ops| {
        let window = crate::engine::fleet::bulk::window(ops, &ids, given, start).await;
        match given {
            Some(n) => eprintln!("{} {} customers, {n} at a time", op.verb(), ids.len()),
            None => eprintln!(
                "{} {} customers, {start} at a time at first, more as the engines take them",
                op.verb(),
                ids.len()
            ),
        }
        Ok(crate::engine::fleet::bulk::run(ops, &ids, op, window, &progress, &mut done).await?)
    })
    .await?;
    if g.json {
        output::json(&summary)?;
    } else {
        println!("{}", summary.sentence());
    }
    if summary.failed > 0 {
        // The details are already printed; exit 1 without repeating them.
        return Err(CliError::runtime(""));
    }
    Ok(())
}

/// What `customer start|stop|restart` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    /// Start and wait for health.
    Start,
    /// Stop.
    Stop,
    /// Stop, start, wait for health.
    Restart,
}

/// `customer start|stop|restart`.
pub async fn power(g: &GlobalArgs, store: &Store, session: &Session, c: &Customer, what: Power) -> CliResult {
    let report = with_ops(g, store, session, async |ops| {
        Ok(match what {
            Power::Start => Some(ops.start(c.id).await?),
            Power::Stop => {
                ops.stop(c.id).await?;
                None
            }
            Power::Restart => Some(ops.restart(c.id).await?),
        })
    })
    .await?;
    let verb = match what {
        Power::Start => "started",
        Power::Stop => "stopped",
        Power::Restart => "restarted",
    };
    if g.json {
        output::json(&serde_json::json!({ "customer": c.subdomain, "result": verb, "health": report }))
    } else {
        println!("customer '{}' {verb}{}", c.subdomain, if report.is_some() { " and healthy" } else { "" });
        Ok(())
    }
}

/// `customer delete`: removes containers, proxy entry, files and port when deployed.
pub async fn delete(g: &GlobalArgs, store: &Store, session: &Session, c: &Customer, purge_data: bool) -> CliResult {
    let archived = if store.deployment(c.id)?.is_some() {
        with_ops(g, store, session, async |ops| Ok(ops.delete(c.id, purge_data).await?)).await?
    } else {
        crate::engine::usecase::customers::delete_undeployed(store, session, c, purge_data)?
    };
    if g.json {
        output::json(&serde_json::json!({
            "deleted": { "id": c.id, "subdomain": c.subdomain },
            "backup_kept_in": archived.as_ref().map(|p| p.display().to_string()),
        }))
    } else {
        println!("deleted customer '{}' (id {})", c.subdomain, c.id);
        if let Some(p) = archived {
            println!(
                "a backup was kept in {} (`nbmsp customer restore {}` brings it back; --purge-data keeps none)",
                p.display(),
                p.display()
            );
        }
        Ok(())
    }
}

/// `customer health`.
pub async fn health(g: &GlobalArgs, store: &Store, session: &Session, c: &Customer) -> CliResult {
    let report = with_ops(g, store, session, async |ops| Ok(ops.health(c.id).await?)).await?;
    if g.json {
        output::json(&report)?;
    } else {
        print_health(&report);
    }
    if report.healthy { Ok(()) } else { Err(CliError::runtime("")) }
}

fn print_health(r: &HealthReport) {
    let now = crate::store::now();
    for c in &r.containers {
        let uptime = c
            .started_at
            .filter(|_| c.is_up())
            .map(|t| crate::domain::human_duration((now - t).whole_seconds()))
            .unwrap_or_default();
        let mark = if c.is_up() { "ok  " } else { "FAIL" };
        println!("{mark} container {:<11} {:<10} {uptime:<8} {}", c.service, c.state, c.image);
    }
    for m in &r.missing {
        println!("FAIL container {m:<11} missing");
    }
    for e in &r.endpoints {
        println!(
            "{} http      {:<24} {} {}",
            if e.ok { "ok  " } else { "FAIL" },
            e.name,
            terminal_safe(&e.detail),
            e.url
        );
    }
    if let Some(s) = &r.stun {
        println!("{} stun      {:<24} {}", if s.ok { "ok  " } else { "FAIL" }, s.target, terminal_safe(&s.detail));
    }
    if let Some(p) = &r.public {
        let mark = |ok: bool| if ok { "ok  " } else { "WARN" };
        println!("{} public    {:<24} via {}", mark(p.api_ok), "https /api/instance", p.target);
        println!("{} public    {:<24} via {}", mark(p.relay_ok), "wss /relay", p.target);
        for n in &p.notes {
            println!("WARN public    {n}");
        }
    }
}

/// `customer stats`.
pub async fn stats(g: &GlobalArgs, store: &Store, session: &Session, c: &Customer) -> CliResult {
    let stats = with_ops(g, store, session, async |ops| Ok(ops.stats(c.id).await?)).await?;
    if g.json {
        return output::json(&stats);
    }
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|s| {
            vec![
                s.service.clone(),
                format!("{:.1}%", s.cpu_percent),
                format!("{:.1} MiB", s.memory_bytes as f64 / 1_048_576.0),
                format!("{:.1} KiB", s.net_rx_bytes as f64 / 1024.0),
                format!("{:.1} KiB", s.net_tx_bytes as f64 / 1024.0),
            ]
        })
        .collect();
    println!("{}", output::table(&["SERVICE", "CPU", "MEMORY", "NET IN", "NET OUT"], &rows));
    Ok(())
}

/// `customer logs`: merged across the customer's containers, each line prefixed with its service.
pub async fn logs(
    g: &GlobalArgs,
    store: &Store,
    session: &Session,
    c: &Customer,
    tail: Option<usize>,
    follow: bool,
    service: Option<String>,
) -> CliResult {
    // The customer's own host's engine: its logs are there.
    let (containers, docker) =
        with_ops(g, store, session, async |ops| Ok((ops.containers(c).await?, ops.engines.for_customer(c).await?)))
            .await?;
    let containers: Vec<_> =
        containers.into_iter().filter(|x| service.as_deref().is_none_or(|s| x.service == s)).collect();
    if containers.is_empty() {
        return Err(CliError::new(
            super::ErrorKind::NotFound,
            match service {
                Some(s) => format!("customer '{}' has no container for service '{s}'", c.subdomain),
                None => format!("customer '{}' has no containers", c.subdomain),
            },
        ));
    }
    let width = containers.iter().map(|x| x.service.len()).max().unwrap_or(0);
    let print = |l: &LogLine| {
        if g.json {
            println!("{}", serde_json::to_string(l).unwrap_or_default());
        } else {
            println!("{:<width$} | {} {}", l.service, l.timestamp.as_deref().unwrap_or(""), l.text);
        }
    };
    if !follow {
        let mut lines = Vec::new();
        for x in &containers {
            let mut s = Box::pin(docker.logs(&x.name, x.service.clone(), tail, false));
            while let Some(l) = s.next().await {
                lines.push(l?);
            }
        }
        // Docker's RFC 3339 timestamps sort as text. Each container gave its last `tail`; the
        // merged view keeps the last `tail` of all, as `--tail N` reads.
        lines.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
        let skip = tail.map_or(0, |n| lines.len().saturating_sub(n));
        lines.iter().skip(skip).for_each(print);
        return Ok(());
    }
    let streams = containers.iter().map(|x| Box::pin(docker.logs(&x.name, x.service.clone(), tail.or(Some(20)), true)));
    let mut merged = futures_util::stream::select_all(streams);
    while let Some(l) = merged.next().await {
        print(&l?);
    }
    Ok(())
}

/// `customer render --out DIR`: exactly the files a deploy would write, without Docker.
pub fn render_files(
    store: &Store,
    session: &Session,
    c: &Customer,
    home: &Path,
    out: &Path,
) -> CliResult<(u16, PathBuf)> {
    Ok(crate::engine::usecase::customers::render_files(store, session, c, Some(home.join("templates")), out)?)
}

/// `customer renew-token`.
pub async fn renew_token(g: &GlobalArgs, store: &Store, session: &Session, c: &Customer) -> CliResult {
    let r = with_ops(g, store, session, async |ops| Ok(ops.renew_token(c.id).await?)).await?;
    if g.json {
        output::json(&serde_json::json!({"customer": c.subdomain, "expires_at": r.expires_at, "revoked": r.revoked}))?;
    } else {
        println!(
            "{}: new access token valid until {}; {} older token(s) revoked",
            c.subdomain,
            r.expires_at.date(),
            r.revoked
        );
    }
    Ok(())
}

/// `customer retry-cert`.
pub async fn retry_cert(g: &GlobalArgs, store: &Store, session: &Session, c: &Customer) -> CliResult {
    let record = with_ops(g, store, session, async |ops| Ok(ops.retry_certificate(c.id).await?)).await?;
    if g.json {
        output::json(&serde_json::json!({
            "customer": c.subdomain,
            "certificate_id": record.certificate_id,
            "pending": record.pending,
        }))?;
    } else {
        println!("{}: {}", c.subdomain, record.detail);
    }
    match record.pending {
        None => Ok(()),
        Some(p) => Err(CliError::runtime(if g.json { String::new() } else { p })),
    }
}

/// `customer proxy-config`: the nginx server block for a proxy the operator runs.
pub fn proxy_config(g: &GlobalArgs, store: &Store, c: &Customer) -> CliResult {
    let settings = store.settings()?;
    let text = render::render_nginx(
        render::NginxKind::Server,
        &c.fqdn(&settings.base_domain),
        &render::prefix(&settings, c),
        c.layout,
        Some(g.home()?.join("templates")),
    )
    .map_err(crate::engine::EngineError::from)?;
    if g.json {
        output::json(&serde_json::json!({ "domain": c.fqdn(&settings.base_domain), "nginx": text }))
    } else {
        print!("{text}");
        Ok(())
    }
}

/// Prints the NetBird owner account on stdout; right after a deploy (`shown_once_for`: the
/// customer's subdomain) with the command that shows it again.
pub fn print_owner(o: &OwnerCredentials, shown_once_for: Option<&str>) {
    for line in owner_lines(o, shown_once_for) {
        println!("{line}");
    }
}

fn owner_lines(o: &OwnerCredentials, shown_once_for: Option<&str>) -> Vec<String> {
    let mut lines = vec![
        format!("NetBird owner   {}", o.email),
        format!("password        {}", o.password),
        format!("access token    {}", o.pat.as_deref().unwrap_or("-")),
    ];
    if let Some(sub) = shown_once_for {
        lines.push(format!("(shown once; later: nbmsp customer credentials {sub} --yes)"));
    }
    lines
}

/// `customer credentials`: the stored owner account, after a confirmation.
pub async fn credentials(g: &GlobalArgs, store: &Store, session: &Session, c: &Customer, yes: bool) -> CliResult {
    if !yes {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return Err(CliError::usage("this prints secrets: confirm with --yes"));
        }
        eprint!(
            "Show the NetBird owner password and token of '{}' on this terminal? Type the subdomain to confirm: ",
            c.subdomain
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).map_err(|e| CliError::runtime(e.to_string()))?;
        if answer.trim() != c.subdomain {
            return Err(CliError::usage("not confirmed"));
        }
    }
    let o = crate::engine::usecase::customers::credentials(store, session, &c.as_ref())?;
    if g.json {
        output::json(&o)
    } else {
        print_owner(&o, None);
        Ok(())
    }
}

/// `customer devices`.
pub async fn devices(g: &GlobalArgs, store: &Store, session: &Session, c: &Customer) -> CliResult {
    let usage = with_ops(g, store, session, async |ops| Ok(ops.devices(c.id).await?)).await?;
    if g.json {
        output::json(&usage)
    } else {
        let flag = if usage.over_limit { "  OVER LIMIT" } else { "" };
        println!(
            "{}: {} devices ({} connected) of {} allowed{flag}",
            c.subdomain, usage.count.total, usage.count.connected, usage.max_devices
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_block_names_the_command_that_shows_it_again() {
        let o = OwnerCredentials { email: "it@acme.example".into(), password: "pw".into(), pat: Some("nbp_x".into()) };
        let lines = owner_lines(&o, Some("acme"));
        assert_eq!(lines.last().unwrap(), "(shown once; later: nbmsp customer credentials acme --yes)");
        assert!(lines.iter().all(|l| !l.contains("<id>")), "{lines:?}");
        assert_eq!(owner_lines(&o, None).len(), 3, "asked for again: no such line");
    }
}
