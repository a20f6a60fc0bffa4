//! Redeploys: apply changed settings, images or layout to a deployed customer, recreating only
//! what changed; on failure, cancel or crash the previous files and containers come back.

use super::lifecycle::{DeployOutcome, Ops, Progress, Step};
use crate::domain::audit::AuditStatus;
use crate::domain::customer::{Customer, CustomerStatus};
use crate::engine::EngineError;
use crate::engine::hosts::files;
use crate::engine::npm::proxy::Proxy;
use crate::engine::{stack::apply, stack::instance, stack::render};

impl<P: Proxy> Ops<'_, P> {
    /// Puts back the files and containers a cancelled redeploy replaced (kept on disk while it
    /// ran), then drops that copy.
    pub(crate) async fn restore_interrupted_redeploy(&self, customer: &Customer) -> Result<(), EngineError> {
        let (dir, _) = files::instance_of(self.store, customer)?;
        let kept = self.previous_dir(customer)?;
        let all_files = render::all_file_names();
        let saved = instance::load_previous(&kept, &all_files)
            .ok_or_else(|| EngineError::Damaged(format!("{} holds no copy of the previous files", kept.display())))?;
        self.restore_previous(customer, &dir, &saved).await?;
        instance::drop_previous(&kept);
        Ok(())
    }

    /// Where a redeploy keeps the files it replaces until it ends: beside the instance files,
    /// on this machine even when the customer runs on a remote host (the recovery that needs
    /// them after a crash runs here).
    fn previous_dir(&self, customer: &Customer) -> Result<std::path::PathBuf, EngineError> {
        Ok(render::instance_dir(&self.store.settings()?, customer))
    }

    /// A redeploy for a caller that already holds the customer's lock (crash recovery).
    pub(crate) async fn redeploy_now(
        &self,
        customer_id: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeployOutcome, EngineError> {
        self.redeploy_unlocked(customer_id, progress).await
    }

    /// Applies changed settings, images or layout to a deployed customer, recreating only what
    /// changed. On failure the previous files and containers come back; data is never touched.
    pub(crate) async fn redeploy_unlocked(
        &self,
        customer_id: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeployOutcome, EngineError> {
        let customer = self.store.customer(customer_id)?;
        let deployment = self.store.deployment(customer_id)?.ok_or_else(|| {
            EngineError::Usage(format!("customer '{}' is not deployed; deploy it first", customer.subdomain))
        })?;
        let port =
            deployment.relay_udp_port.ok_or_else(|| EngineError::Damaged("the deployment has no UDP port".into()))?;
        let (settings, files) = files::settings_for(self.store, &customer)?;
        let dir = render::instance_dir(&settings, &customer);
        let kept = self.previous_dir(&customer)?;
        self.require_store(&customer).await?;
        let all_files = render::all_file_names();
        // An interrupted redeploy left the files it replaced on disk: those are the ones to go
        // back to, not the half-new ones in the instance dir.
        let saved = match instance::load_previous(&kept, &all_files) {
            Some(s) => s,
            None => files.read(&dir, &all_files).await?,
        };
        let journal = self.store.journal_begin(customer_id, &customer.subdomain, "redeploy", self.actor)?;
        // From here every way out closes the entry: a leaked `running` entry would be replayed
        // at the next start.
        let started = instance::save_previous(&kept, &saved).and_then(|()| {
            self.store.set_customer_status(customer_id, CustomerStatus::Deploying, None)?;
            self.store.log_customer(self.actor, &customer, "redeploy", AuditStatus::Info, "redeploy started")?;
            Ok(())
        });
        if let Err(e) = started {
            instance::drop_previous(&kept);
            self.store.journal_end(journal, "failed", &format!("redeploy could not start: {e}"))?;
            return Err(e);
        }
        progress(Progress::Done { step: Step::Validate, detail: customer.fqdn(&settings.base_domain) });
        progress(Progress::Done { step: Step::AllocatePort, detail: format!("UDP {port} (kept)") });
        let result = {
            let mut journaled = self.journaled(journal, progress);
            self.apply_stack(&customer, port, false, &mut journaled).await
        };
        match result {
            Ok(o) => {
                instance::drop_previous(&kept);
                self.store.journal_end(journal, "done", "redeployed")?;
                Ok(o)
            }
            Err((step, e)) => {
                progress(Progress::Failed { step, error: e.to_string() });
                progress(Progress::Note { text: "restoring the previous files and containers".into() });
                let restored = self.restore_previous(&customer, &dir, &saved).await;
                let reason = match &restored {
                    Ok(()) => format!("redeploy failed at {}: {e}; the previous version was restored", step.label()),
                    Err(r) => format!(
                        "redeploy failed at {}: {e}; restoring the previous version also failed: {r}",
                        step.label()
                    ),
                };
                progress(Progress::Note { text: reason.clone() });
                let status = if restored.is_ok() { CustomerStatus::Active } else { CustomerStatus::Error };
                if restored.is_ok() {
                    instance::drop_previous(&kept);
                }
                self.store.journal_end(journal, "failed", &reason)?;
                self.store.set_customer_status(customer_id, status, Some(&reason))?;
                self.store.log_customer(self.actor, &customer, "redeploy", AuditStatus::Error, &reason)?;
                Err(e)
            }
        }
    }

    pub(crate) async fn restore_previous(
        &self,
        customer: &Customer,
        dir: &std::path::Path,
        saved: &[(&'static str, Vec<u8>)],
    ) -> Result<(), EngineError> {
        let (_, files) = files::settings_for(self.store, customer)?;
        let docker = self.engines.for_customer(customer).await?;
        files.put(dir, saved).await?;
        let compose = saved
            .iter()
            .find(|(n, _)| *n == "docker-compose.yml")
            .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
            .ok_or_else(|| EngineError::Damaged("no previous docker-compose.yml to restore".into()))?;
        let file =
            crate::engine::stack::compose::ComposeFile::parse(&compose).map_err(|e| EngineError::Damaged(e.0))?;
        // The previous layout is whatever the previous compose file describes.
        let layout = if file.services.contains_key("server") {
            crate::domain::customer::Layout::Combined
        } else {
            crate::domain::customer::Layout::Legacy
        };
        // Containers of the other layout (a failed layout switch) must go first.
        for name in self.container_names(customer).await? {
            if !file.services.values().any(|s| s.container_name == name) {
                docker.remove(&name).await?;
            }
        }
        let prefix = self.name_prefix(customer)?;
        let baseline = crate::engine::checks::health::restart_baseline(&docker, &prefix, layout).await?;
        let project = format!("nbmsp-{prefix}");
        apply::apply(&docker, &file, &project, layout, dir).await?;
        // "Restored" means answering again, not just started: NetBird takes seconds to come up.
        let settings = self.store.settings()?;
        let port = self.store.deployment(customer.id)?.and_then(|d| d.relay_udp_port);
        let timeout = std::time::Duration::from_secs(settings.health_timeout_s);
        crate::engine::checks::health::wait_ready(
            &docker,
            &prefix,
            layout,
            &settings.docker_network,
            port,
            &baseline,
            timeout,
        )
        .await?;
        Ok(())
    }
}
