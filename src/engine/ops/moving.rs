//! Moving a customer to another Docker host: a consistent backup on the source, its tree copied
//! to the target, the stack started and checked there, then the source removed. Journaled: a
//! crash before the switch is undone (the source starts again), after it finished (the source's
//! leftovers go). The source is kept until the target answers.

use crate::domain::error::Failure;
use crate::domain::rights::Right;
use serde::Serialize;

use super::lifecycle::{Ops, Progress};
use crate::domain::audit::AuditStatus;
use crate::domain::customer::Customer;
use crate::engine::EngineError;
use crate::engine::data::customer_backup::{Scratch, backup_file};
use crate::engine::hosts::HostKey;
use crate::engine::hosts::files;
use crate::engine::npm::proxy::{Proxy, ProxyRecord};
use crate::engine::stack::render;

/// Where the customer's proxy entry is when a move is undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProxyBack {
    /// The stored entry is still the source's: nothing to do.
    Untouched,
    /// The move had started registering on the target: what is stored there goes, and the
    /// source's entry is stored again (`None` after a crash: a later reconcile registers it again).
    OnTarget(Option<ProxyRecord>),
}

/// What a move did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoveOutcome {
    /// The host it left.
    pub from: String,
    /// The host it runs on now.
    pub to: String,
    /// The address its DNS must point to now (`None`: this machine's).
    pub public_ip: Option<String>,
    /// Its domain.
    pub domain: String,
    /// The UDP port on the new host (the old one when it was free there).
    pub udp_port: u16,
    /// The port it had when that one was taken on the new host (its users' firewalls must
    /// let the new one through).
    pub port_changed_from: Option<u16>,
    /// What the `hooks.dns` program said (or why it failed), when one is set.
    pub dns_hook: Option<Result<String, crate::domain::error::Failure>>,
}

impl<P: Proxy> Ops<'_, P> {
    /// Moves the customer to host `to` (see the module comment).
    pub async fn move_to(
        &self,
        customer_id: i64,
        to: HostKey,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<MoveOutcome, EngineError> {
        self.locked(customer_id, Right::Move, self.move_unlocked(customer_id, to, progress)).await
    }

    async fn move_unlocked(
        &self,
        customer_id: i64,
        to: HostKey,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<MoveOutcome, EngineError> {
        let customer = self.store.customer(customer_id)?;
        let from = customer.host_id;
        let name = |key: HostKey| self.engines.name(key);
        if from == to {
            return Err(EngineError::Usage(format!("'{}' runs on host {} already", customer.subdomain, name(to))));
        }
        crate::engine::hosts::open_for_new(self.store, to, &name(to))?;
        let deployment = self.store.deployment(customer_id)?.ok_or_else(|| {
            EngineError::Usage(format!("'{}' is not deployed: set its host by deploying it", customer.subdomain))
        })?;
        let port =
            deployment.relay_udp_port.ok_or_else(|| EngineError::Damaged("the deployment has no UDP port".into()))?;
        self.proxy_allowed_on(to)?;
        // Both engines answer, a port is free there and nothing of the customer is there yet:
        // checked before anything stops.
        let source = self.engines.of(from).await?;
        self.engines.of(to).await?;
        if self.engines.same_engine(from, to).await {
            return Err(EngineError::Conflict(format!(
                "hosts {} and {} are one Docker engine: a move between them would remove what it \
                 starts; remove the second record with `nbmsp host remove`",
                name(from),
                name(to)
            )));
        }
        let moved = Customer { host_id: to, ..customer.clone() };
        // The same port when the target has it free (users' firewalls know it), else another:
        // the management server hands clients the relay address, so they follow.
        let target_port = {
            let s = self.store.settings()?;
            let free = self.port_check(&moved).await?;
            self.store.port_on_host(to, port, s.relay_base_port, s.relay_port_count, free)?
        };
        let (there, target_files) = files::settings_on(self.store, to)?;
        let target_dir = render::instance_dir(&there, &moved);
        if target_files.exists(&target_dir).await? {
            return Err(EngineError::Conflict(format!("{} exists already", target_files.describe(&target_dir))));
        }
        let old_names = self.container_names(&customer).await?;
        let source_proxy = self.proxy_record(customer_id);
        let mut proxy_back = ProxyBack::Untouched;

        let journal = self.store.journal_begin_move(customer_id, &customer.subdomain, self.actor, from, to, port)?;
        let note = |p: &mut dyn FnMut(Progress), text: String| p(Progress::Note { text });
        let result = async {
            self.store.journal_step(journal, "back up")?;
            note(progress, format!("backing up on {}", name(from)));
            let settings = self.store.settings()?;
            let archive = backup_file(self.store, &settings, &customer, "move")?;
            self.backup_unlocked(customer_id, &archive, None, "move").await?;
            self.store.journal_step(journal, "stop source")?;
            for n in old_names.iter().rev() {
                source.stop(n, std::time::Duration::from_secs(10)).await?;
            }
            self.store.journal_step(journal, "copy")?;
            note(progress, format!("copying to {}", target_files.describe(&target_dir)));
            let scratch = Scratch::new(&settings.data_dir, "move")?;
            let (file, into) = (archive.clone(), scratch.0.clone());
            crate::engine::blocking(move || crate::engine::data::archive::unpack(&file, &into).map(|_| ())).await?;
            target_files.copy_in(&scratch.0.join("instance"), &target_dir).await?;
            self.store.journal_step(journal, "start on target")?;
            self.store.set_host_and_port(customer_id, to, target_port)?;
            // The target's proxy registers afresh (its ids mean nothing to the source's NPM);
            // the source's entry is removed once the target runs, or stored again on the way back.
            proxy_back = ProxyBack::OnTarget(Some(source_proxy.clone()));
            self.store.set_proxy_state(customer_id, None, None, false, None)?;
            self.apply_stack(&moved, target_port, false, progress).await.map_err(|(_, e)| e)
        }
        .await;
        if let Err(e) = result {
            note(progress, format!("move failed: {e}; going back to host {}", name(from)));
            let back = self.undo_move(&customer, from, to, proxy_back, Some(port)).await;
            let outcome = match &back {
                Ok(()) => format!("move to host {} failed: {e}; still on host {}", name(to), name(from)),
                Err(b) => format!("move to host {} failed: {e}; going back also failed: {b}", name(to)),
            };
            self.store.journal_end(journal, "failed", &outcome)?;
            self.store.log_customer(self.actor, &customer, "move", AuditStatus::Error, &outcome)?;
            return Err(EngineError::Step { step: "move", kind: e.kind(), message: outcome });
        }
        self.store.journal_step(journal, "remove source")?;
        self.remove_from(&customer, from).await?;
        // The switch: the target's proxy serves the domain; the source's entry goes. The move
        // stands if that fails (reconcile lists the entry as an orphan on the source's proxy).
        if let Err(e) = self.unregister_on(from, &source_proxy).await {
            let line = format!("the proxy entry on host {} stays: {e}", name(from));
            note(progress, line.clone());
            self.store.log_customer(self.actor, &moved, "move", AuditStatus::Error, &line)?;
        }
        if customer.reverse_proxy {
            // Its services' names leave the source's edge and arrive at the target's.
            for key in [from, to] {
                match self.apply_edge(key).await {
                    Ok(Some(r)) if r.result == "refused" => note(
                        progress,
                        format!("edge on host {}: configuration refused ({})", name(key), r.detail.unwrap_or_default()),
                    ),
                    Ok(_) => {}
                    Err(e) => note(progress, format!("edge on host {} not updated: {e}", name(key))),
                }
            }
        }
        let settings = self.store.settings()?;
        let outcome = MoveOutcome {
            from: name(from),
            to: name(to),
            public_ip: self.engines.host(to).map(|h| h.public_ip.to_string()),
            domain: customer.fqdn(&settings.base_domain),
            udp_port: target_port,
            port_changed_from: Some(port).filter(|p| *p != target_port),
            dns_hook: None,
        };
        let dns = outcome.public_ip.clone().unwrap_or_else(|| "this machine's address".into());
        let mut text = format!("moved from host {} to {}; point {} at {dns}", outcome.from, outcome.to, outcome.domain);
        if let Some(old) = outcome.port_changed_from {
            text.push_str(&format!("; UDP {old} was taken there, so it uses UDP {target_port} now"));
        }
        self.store.journal_end(journal, "done", &text)?;
        self.store.log_customer(self.actor, &moved, "move", AuditStatus::Success, &text)?;
        let mut outcome = outcome;
        if !settings.dns_hook.is_empty() {
            let said = dns_hook(&settings.dns_hook, &outcome, &customer.subdomain).await;
            let status = if said.is_ok() { AuditStatus::Info } else { AuditStatus::Error };
            let line = match &said {
                Ok(m) => format!("dns hook: {m}"),
                Err(e) => format!("dns hook failed: {e}; point {} at {dns} by hand", outcome.domain),
            };
            note(progress, line.clone());
            self.store.log_customer(self.actor, &moved, "dns-hook", status, &line)?;
            outcome.dns_hook = Some(said);
        }
        Ok(outcome)
    }

    /// Goes back to `from` after a failed or interrupted move: whatever reached `to` is
    /// removed (containers, the instance dir the move created), the source starts again with
    /// `port`, the one its files publish (`None`: a journal from before ports were per host,
    /// when the port never changed).
    pub(crate) async fn undo_move(
        &self,
        customer: &Customer,
        from: HostKey,
        to: HostKey,
        proxy: ProxyBack,
        port: Option<u16>,
    ) -> Result<(), EngineError> {
        self.remove_from(customer, to).await?;
        if let ProxyBack::OnTarget(source) = proxy {
            self.unregister_on(to, &self.proxy_record(customer.id)).await?;
            let r = source.unwrap_or_default();
            let pending = r.pending.as_deref();
            self.store.set_proxy_state(customer.id, r.proxy_id, r.certificate_id, r.certificate_owned, pending)?;
        }
        match port {
            Some(p) => self.store.set_host_and_port(customer.id, from, p)?,
            None => self.store.set_customer_host(customer.id, from)?,
        }
        let back = Customer { host_id: from, ..customer.clone() };
        let source = self.engines.of(from).await?;
        let baseline =
            crate::engine::checks::health::restart_baseline(&source, &self.name_prefix(&back)?, back.layout).await?;
        for n in self.ordered(&back, self.container_names(&back).await?) {
            source.start(&n).await?;
        }
        // Back means answering again, as after a start.
        self.after_start(&back, "move back", &baseline).await.map(|_| ())
    }

    /// Finishes an interrupted move that had switched to `to`: the source's leftovers go.
    pub(crate) async fn finish_move(&self, customer: &Customer, from: HostKey) -> Result<(), EngineError> {
        self.remove_from(customer, from).await
    }

    /// Removes what the customer has on `host` (its containers, its instance dir there): one
    /// side of a move, never the side it is placed on.
    async fn remove_from(&self, customer: &Customer, host: HostKey) -> Result<(), EngineError> {
        let there = Customer { host_id: host, ..customer.clone() };
        let docker = self.engines.of(host).await?;
        for n in self.container_names(&there).await? {
            docker.remove(&n).await?;
        }
        let (dir, files) = files::instance_of(self.store, &there)?;
        files.remove(&dir).await
    }
}

/// Runs the `hooks.dns` program for a finished move (at most a minute): its last line of output,
/// or why it failed. The move stands either way.
async fn dns_hook(program: &str, m: &MoveOutcome, subdomain: &str) -> Result<String, Failure> {
    let mut cmd = tokio::process::Command::new(program);
    crate::engine::hosts::process::scrub(&mut cmd)
        .env("NBMSP_DOMAIN", &m.domain)
        .env("NBMSP_PUBLIC_IP", m.public_ip.as_deref().unwrap_or(""))
        .env("NBMSP_SUBDOMAIN", subdomain)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
        .await
        .map_err(|_| Failure::runtime(format!("{program} did not finish within 60 s")))?
        .map_err(|e| Failure::runtime(format!("cannot run {program}: {e}")))?;
    let last = |b: &[u8]| {
        let text = String::from_utf8_lossy(b);
        crate::domain::sanitize::terminal_safe(text.trim().lines().last().unwrap_or(""))
    };
    if out.status.success() {
        Ok(if out.stdout.is_empty() { "done".into() } else { last(&out.stdout) })
    } else {
        Err(Failure::runtime(format!("{program} exited with {}: {}", out.status, last(&out.stderr))))
    }
}
