//! Day-to-day operations on a deployed customer: start, stop, restart, delete, health, stats.

use crate::domain::rights::Right;
use std::path::PathBuf;
use std::time::Duration;

use super::lifecycle::Ops;
use crate::domain::audit::AuditStatus;
use crate::domain::customer::{Customer, CustomerStatus};
use crate::domain::deployment::{ContainerInfo, ContainerStats, DeploymentStatus};
use crate::engine::EngineError;
use crate::engine::checks::health::{self, HealthReport};
use crate::engine::npm::proxy::Proxy;
use crate::engine::stack::render;

fn stop_grace() -> Duration {
    Duration::from_secs(10)
}

impl<P: Proxy> Ops<'_, P> {
    /// Starts every container of the customer and waits for health.
    pub async fn start(&self, customer_id: i64) -> Result<HealthReport, EngineError> {
        self.locked(customer_id, Right::Start, self.start_unlocked(customer_id)).await
    }

    /// Stops every container of the customer (they keep their data and config).
    pub async fn stop(&self, customer_id: i64) -> Result<(), EngineError> {
        self.locked(customer_id, Right::Stop, self.stop_unlocked(customer_id)).await
    }

    /// Stops, then starts, then waits for health.
    pub async fn restart(&self, customer_id: i64) -> Result<HealthReport, EngineError> {
        self.locked(customer_id, Right::Restart, self.restart_unlocked(customer_id)).await
    }

    /// Removes the customer: containers, proxy entry, instance dir, port, secrets, row. The
    /// customer's data is archived unless `purge_data`; the archive path is returned.
    pub async fn delete(&self, customer_id: i64, purge_data: bool) -> Result<Option<PathBuf>, EngineError> {
        self.locked(customer_id, Right::Delete, self.delete_unlocked(customer_id, purge_data)).await
    }

    /// A stop for a caller that already holds the lock (a restore of a stopped customer).
    pub(crate) async fn stop_now(&self, customer_id: i64) -> Result<(), EngineError> {
        self.stop_unlocked(customer_id).await
    }

    /// A delete for a caller that already holds the lock (crash recovery).
    pub(crate) async fn delete_now(&self, customer_id: i64, purge_data: bool) -> Result<Option<PathBuf>, EngineError> {
        self.delete_unlocked(customer_id, purge_data).await
    }

    /// Starts every container of the customer and waits for health.
    async fn start_unlocked(&self, customer_id: i64) -> Result<HealthReport, EngineError> {
        let customer = self.store.customer(customer_id)?;
        self.require_deployed(&customer)?;
        self.require_store(&customer).await?;
        let names = self.existing_names(&customer).await?;
        let docker = self.engines.for_customer(&customer).await?;
        let baseline = health::restart_baseline(&docker, &self.name_prefix(&customer)?, customer.layout).await?;
        // Servers first, dashboard last, as at deploy.
        for name in self.ordered(&customer, names) {
            docker.start(&name).await?;
        }
        self.after_start(&customer, "start", &baseline).await
    }

    /// The customer's container names, or an error saying how to recreate them: starting
    /// nothing and then waiting out the health timeout would only delay the bad news.
    async fn existing_names(&self, customer: &Customer) -> Result<Vec<String>, EngineError> {
        let names = self.container_names(customer).await?;
        if names.is_empty() {
            return Err(EngineError::Usage(format!(
                "customer '{}' has no containers; run `nbmsp customer redeploy {}`",
                customer.subdomain, customer.id
            )));
        }
        Ok(names)
    }

    /// `names` in start order: servers before the dashboard that points at them.
    pub(crate) fn ordered(&self, customer: &Customer, mut names: Vec<String>) -> Vec<String> {
        let order = |n: &String| {
            render::services(customer.layout)
                .iter()
                .position(|s| n.ends_with(&format!("-{}-{s}", customer.subdomain)))
                .unwrap_or(usize::MAX)
        };
        names.sort_by_key(order);
        names
    }

    pub(crate) async fn after_start(
        &self,
        customer: &Customer,
        action: &str,
        baseline: &std::collections::HashMap<String, i64>,
    ) -> Result<HealthReport, EngineError> {
        let settings = self.store.settings()?;
        let timeout = Duration::from_secs(settings.health_timeout_s);
        let port = self.store.deployment(customer.id)?.and_then(|d| d.relay_udp_port);
        let result = health::wait_ready(
            &self.engines.for_customer(customer).await?,
            &self.name_prefix(customer)?,
            customer.layout,
            &settings.docker_network,
            port,
            baseline,
            timeout,
        )
        .await;
        match result {
            Ok(report) => {
                self.store.set_deployment_status(customer.id, DeploymentStatus::Running, None)?;
                self.store.set_health_checked(customer.id)?;
                let pending = self.store.deployment(customer.id)?.and_then(|d| d.proxy_pending);
                self.store.set_customer_status(customer.id, CustomerStatus::Active, pending.as_deref())?;
                self.store.log_customer(
                    self.actor,
                    customer,
                    action,
                    AuditStatus::Success,
                    &format!("{action}: healthy"),
                )?;
                Ok(report)
            }
            Err(e) => {
                let reason = format!("{action} failed: {e}");
                self.store.set_customer_status(customer.id, CustomerStatus::Error, Some(&reason))?;
                self.store.log_customer(self.actor, customer, action, AuditStatus::Error, &reason)?;
                Err(e)
            }
        }
    }

    /// Stops every container of the customer (they keep their data and config).
    async fn stop_unlocked(&self, customer_id: i64) -> Result<(), EngineError> {
        let customer = self.store.customer(customer_id)?;
        self.require_deployed(&customer)?;
        let mut names = self.ordered(&customer, self.container_names(&customer).await?);
        names.reverse();
        let docker = self.engines.for_customer(&customer).await?;
        for name in names {
            docker.stop(&name, stop_grace()).await?;
        }
        self.store.set_deployment_status(customer_id, DeploymentStatus::Stopped, None)?;
        self.store.set_customer_status(customer_id, CustomerStatus::Stopped, None)?;
        self.store.log_customer(self.actor, &customer, "stop", AuditStatus::Success, "stopped")?;
        Ok(())
    }

    /// Stops, then starts, then waits for health.
    async fn restart_unlocked(&self, customer_id: i64) -> Result<HealthReport, EngineError> {
        let customer = self.store.customer(customer_id)?;
        self.require_deployed(&customer)?;
        self.require_store(&customer).await?;
        let names = self.ordered(&customer, self.existing_names(&customer).await?);
        let docker = self.engines.for_customer(&customer).await?;
        let baseline = health::restart_baseline(&docker, &self.name_prefix(&customer)?, customer.layout).await?;
        for name in names.iter().rev() {
            docker.stop(name, stop_grace()).await?;
        }
        for name in &names {
            docker.start(name).await?;
        }
        self.after_start(&customer, "restart", &baseline).await
    }

    /// Removes the customer: containers, proxy entry, instance dir, port, secrets, row. The
    /// customer's data is archived unless `purge_data`; the archive path is returned.
    async fn delete_unlocked(&self, customer_id: i64, purge_data: bool) -> Result<Option<PathBuf>, EngineError> {
        let customer = self.store.customer(customer_id)?;
        let journal =
            self.store.journal_begin_with(customer_id, &customer.subdomain, "delete", self.actor, purge_data)?;
        let result = async {
            let settings = self.store.settings()?;
            let (dir, files) = crate::engine::hosts::files::instance_of(self.store, &customer)?;
            // What is kept is a backup that can be restored (config, data and the secrets that
            // open the data), taken before anything is removed.
            let kept = if !purge_data && files.exists(&dir).await? {
                self.store.journal_step(journal, "back up")?;
                let out =
                    crate::engine::data::customer_backup::backup_file(self.store, &settings, &customer, "deleted")?;
                Some(self.backup_unlocked(customer_id, &out, None, "delete").await?.path)
            } else {
                None
            };
            // Its names leave the edge first: no visitor is sent to a proxy that is going. An
            // edge that cannot be updated now is tried again once the records are gone.
            let edge_left = if customer.reverse_proxy {
                self.store.journal_step(journal, "remove edge routes")?;
                self.apply_edge_except(customer.host_id, Some(customer_id))
                    .await
                    .inspect_err(|e| tracing::warn!("edge before deleting {}: {e}", customer.subdomain))
                    .is_ok()
            } else {
                true
            };
            self.store.journal_step(journal, "remove containers")?;
            let docker = self.engines.for_customer(&customer).await?;
            for name in self.container_names(&customer).await? {
                docker.remove(&name).await?;
            }
            self.store.journal_step(journal, "remove proxy host")?;
            self.unregister_on(customer.host_id, &self.proxy_record(customer_id)).await?;
            self.store.journal_step(journal, "remove files and data")?;
            files.remove(&dir).await?;
            self.store.journal_step(journal, "remove records")?;
            self.store.delete_deployment(customer_id)?;
            self.store.delete_customer(self.actor, customer_id)?;
            if !edge_left {
                // An edge that cannot be updated is logged, not a reason to undo a delete (its
                // route leads nowhere now).
                if let Err(e) = self.apply_edge(customer.host_id).await {
                    tracing::warn!("edge after deleting {}: {e}", customer.subdomain);
                }
            }
            Ok::<_, EngineError>(kept)
        }
        .await;
        match &result {
            Ok(a) => self.store.journal_end(
                journal,
                "done",
                &a.as_ref().map_or("deleted".to_string(), |p| format!("deleted; backup kept in {}", p.display())),
            )?,
            // Half-deleted but this process knows it: the user hears it and runs delete again
            // (each step is idempotent). Only a crash leaves the entry `running` for reconcile.
            Err(e) => self.store.journal_end(journal, "failed", &format!("delete failed: {e}; run it again"))?,
        }
        result
    }

    /// One health check, including the STUN test on the public port and, once the proxy host
    /// exists, the public path through the proxy.
    pub async fn health(&self, customer_id: i64) -> Result<HealthReport, EngineError> {
        let customer = self.store.customer(customer_id)?;
        let deployment = self.store.deployment(customer_id)?;
        let settings = self.store.settings()?;
        let port = deployment.as_ref().and_then(|d| d.relay_udp_port);
        let mut report = health::check(
            &self.engines.for_customer(&customer).await?,
            &self.name_prefix(&customer)?,
            customer.layout,
            &settings.docker_network,
            port.map(|p| (p, Duration::from_secs(3))),
        )
        .await?;
        report.public = self.public_check(&customer, deployment.as_ref(), &settings).await;
        if port.is_some() {
            self.store.set_health_checked(customer_id)?;
        }
        Ok(report)
    }

    /// The public path through the proxy, when there is one to check: a proxy host was
    /// registered (or the operator runs the proxy) and its HTTPS address is known.
    pub(crate) async fn public_check(
        &self,
        customer: &Customer,
        deployment: Option<&crate::domain::deployment::Deployment>,
        settings: &crate::domain::settings::Settings,
    ) -> Option<crate::engine::checks::public::PublicCheck> {
        let registered = deployment.is_some_and(|d| d.npm_proxy_id.is_some())
            || (settings.proxy == crate::domain::settings::ProxyKind::None && deployment.is_some());
        let target = crate::engine::checks::public::target(settings, self.engines.host(customer.host_id))
            .filter(|_| registered)?;
        let services = crate::engine::checks::public::Services::of(settings, customer.reverse_proxy);
        Some(crate::engine::checks::public::check(&customer.fqdn(&settings.base_domain), &target, services).await)
    }

    /// One-shot resource samples of the customer's containers (all at once: a handful per customer).
    pub async fn stats(&self, customer_id: i64) -> Result<Vec<ContainerStats>, EngineError> {
        let customer = self.store.customer(customer_id)?;
        let containers: Vec<ContainerInfo> =
            self.containers(&customer).await?.into_iter().filter(ContainerInfo::is_up).collect();
        let docker = self.engines.for_customer(&customer).await?;
        let samples =
            futures_util::future::join_all(containers.iter().map(|c| docker.stats(&c.name, &c.service))).await;
        samples.into_iter().collect()
    }
}
