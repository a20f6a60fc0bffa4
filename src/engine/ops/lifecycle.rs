//! Customer operations: deploy, redeploy, start, stop, restart, delete, with progress events
//! and rollback. A failed first deploy leaves nothing behind; a failed redeploy restores the
//! previous files and containers and never touches the customer's data.

use crate::domain::rights::Right;
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::audit::AuditStatus;
use crate::domain::customer::{Customer, CustomerStatus};
use crate::domain::deployment::{ContainerInfo, DeploymentStatus};
use crate::engine::checks::health;
use crate::engine::hosts::files;
use crate::engine::netbird::owner::OwnerOutcome;
use crate::engine::npm::proxy::Proxy;
use crate::engine::stack::apply;
use crate::engine::stack::render::{self, RenderedStack};
use crate::engine::{EngineError, stack::ports};
use crate::store::{Store, Vault};

pub use super::progress::{DeployOutcome, Progress, Step};

/// How long an operation may go without confirming that it still holds its lock before it
/// takes another step: well inside [`crate::store::locks::STALE_AFTER_S`], after which another
/// process may take the lock over. A confirmation is one small UPDATE, so checking this often
/// costs nothing; an operation that is never stalled confirms at its 30 s heartbeat anyway.
const FENCE_CHECK: Duration = Duration::from_secs(10);

/// Serialises network creation among operations of this process (Docker API 1.41 happily
/// creates two networks of one name); `exclusive_file_lock` does the same across processes.
static NETWORK_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Everything an operation needs, borrowed from the caller.
pub struct Ops<'a, P: Proxy> {
    /// The database.
    pub store: &'a Store,
    /// Unlocked secrets.
    pub vault: &'a Vault,
    /// Who acts (for the audit log).
    pub actor: &'a str,
    /// What the actor may do: every customer operation is checked against it.
    pub role: crate::domain::user::Role,
    /// The Docker engines: each customer's own host's.
    pub engines: &'a crate::engine::hosts::Engines,
    /// The proxy.
    pub proxy: &'a P,
    /// Template overrides dir.
    pub template_dir: Option<PathBuf>,
}

impl<P: Proxy> Ops<'_, P> {
    /// Runs `fut` holding the customer's operation lock (one operation per customer across all
    /// processes), with a heartbeat every 30 s so a crashed holder's lock goes stale.
    pub(crate) async fn locked<T>(
        &self,
        customer_id: i64,
        right: Right,
        fut: impl Future<Output = Result<T, EngineError>>,
    ) -> Result<T, EngineError> {
        // The one gate every customer operation passes, whichever door (CLI, app, monitor) it came in by.
        crate::store::auth::require_role(self.role, right)?;
        let operation = right.word();
        let pid = std::process::id();
        let now = || time::OffsetDateTime::now_utc().unix_timestamp();
        let token = self.store.acquire_lock(customer_id, operation, self.actor, pid, now())?;
        // An operator's operation is maintenance for the SLA, whichever door it came in by.
        let mut window = None;
        if crate::domain::sla::is_maintenance(right) {
            match self.store.open_maintenance(customer_id, operation, self.actor, now()) {
                Ok(w) => window = Some(w),
                Err(e) => {
                    self.release_quietly(customer_id, &token);
                    return Err(e.into());
                }
            }
        }
        let mut beat = tokio::time::interval(Duration::from_secs(30));
        beat.tick().await;
        tokio::pin!(fut);
        // Fencing: the operation is polled on only while its lock is known to be held. After
        // a stall longer than the check interval (a stopped process, a suspended machine),
        // the token is checked before the operation takes its next step, so a holder that
        // was taken over never acts again.
        let mut confirmed = std::time::Instant::now();
        let result = loop {
            let stepped = tokio::select! {
                biased;
                _ = beat.tick() => None,
                r = std::future::poll_fn(|cx| {
                    if confirmed.elapsed() >= FENCE_CHECK {
                        return std::task::Poll::Ready(None);
                    }
                    fut.as_mut().poll(cx).map(Some)
                }) => r,
            };
            if let Some(r) = stepped {
                break r;
            }
            match self.store.heartbeat_lock(customer_id, &token, now()) {
                Ok(()) => confirmed = std::time::Instant::now(),
                Err(e @ crate::store::StoreError::Stale(_)) => {
                    tracing::warn!("customer {customer_id}: {e}");
                    return Err(e.into());
                }
                Err(e) => tracing::warn!("lock heartbeat: {e}"),
            }
        };
        // A stop's window stays open: the customer is down on purpose until it runs again.
        if let Some(w) = window.filter(|_| !(right == Right::Stop && result.is_ok()))
            && let Err(e) = self.store.close_maintenance(w, now())
        {
            // The monitor closes windows no operation holds.
            tracing::warn!("maintenance window of customer {customer_id} left open: {e}");
        }
        self.release_quietly(customer_id, &token);
        result
    }

    fn release_quietly(&self, customer_id: i64, token: &str) {
        if let Err(e) = self.store.release_lock(customer_id, token) {
            // It goes stale after STALE_AFTER_S and is taken over then.
            tracing::warn!("cannot release the lock on customer {customer_id}: {e}");
        }
    }

    /// Deploys the customer; when it is already deployed this is a redeploy.
    pub async fn deploy(
        &self,
        customer_id: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeployOutcome, EngineError> {
        self.locked(customer_id, Right::Deploy, self.deploy_unlocked(customer_id, progress)).await
    }

    /// Applies changed settings, images or layout (see `redeploy_unlocked`).
    pub async fn redeploy(
        &self,
        customer_id: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeployOutcome, EngineError> {
        self.locked(customer_id, Right::Redeploy, self.redeploy_unlocked(customer_id, progress)).await
    }

    /// Renders the customer's files with `udp_port` (secrets are created and stored if new).
    pub fn render(&self, customer: &Customer, udp_port: u16) -> Result<RenderedStack, EngineError> {
        render::render_customer(self.store, self.vault, customer, udp_port, self.template_dir.clone())
    }

    /// Deploys the customer; when it is already deployed this is a redeploy.
    async fn deploy_unlocked(
        &self,
        customer_id: i64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeployOutcome, EngineError> {
        let existing = self.store.deployment(customer_id)?;
        if existing.as_ref().is_some_and(|d| matches!(d.status, DeploymentStatus::Running | DeploymentStatus::Stopped))
        {
            return self.redeploy_unlocked(customer_id, progress).await;
        }
        let customer = self.store.customer(customer_id)?;
        // Journal first: from here on a crash leaves a trace reconcile can act on.
        let journal = self.store.journal_begin(customer_id, &customer.subdomain, "deploy", self.actor)?;
        let result = match self.store.set_customer_status(customer_id, CustomerStatus::Deploying, None).and_then(|()| {
            self.store.log_customer(self.actor, &customer, "deploy", AuditStatus::Info, "deploy started")
        }) {
            // Every way out below closes the entry: a leaked `running` entry is replayed later.
            Err(e) => Err((Step::Validate, e.into())),
            Ok(()) => {
                let mut journaled = self.journaled(journal, progress);
                self.first_deploy(&customer, &mut journaled).await
            }
        };
        match result {
            Ok(outcome) => {
                self.store.journal_end(journal, "done", &format!("deployed on UDP {}", outcome.udp_port))?;
                Ok(outcome)
            }
            Err((step, e)) => {
                progress(Progress::Failed { step, error: e.to_string() });
                self.rollback_first_deploy(&customer, progress).await;
                let reason = format!("deploy failed at {}: {e}", step.label());
                self.store.journal_end(journal, "failed", &reason)?;
                self.store.set_customer_status(customer_id, CustomerStatus::Error, Some(&reason))?;
                self.store.log_customer(self.actor, &customer, "deploy", AuditStatus::Error, &reason)?;
                Err(e)
            }
        }
    }

    /// Wraps `progress` so every step started is also written to journal entry `id`.
    pub(crate) fn journaled<'p>(&'p self, id: i64, progress: &'p mut dyn FnMut(Progress)) -> impl FnMut(Progress) + 'p {
        move |p: Progress| {
            if let Progress::Started { step } = &p
                && let Err(e) = self.store.journal_step(id, step.label())
            {
                tracing::warn!("journal: {e}");
            }
            progress(p);
        }
    }

    async fn first_deploy(
        &self,
        customer: &Customer,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeployOutcome, (Step, EngineError)> {
        progress(Progress::Started { step: Step::Validate });
        let settings = self.store.settings().map_err(|e| (Step::Validate, e.into()))?;
        let problems: Vec<String> =
            crate::domain::customer::NewCustomer::of(customer).validate().iter().map(ToString::to_string).collect();
        if !problems.is_empty() {
            return Err((Step::Validate, EngineError::Usage(problems.join("; "))));
        }
        if settings.data_dir.is_empty() {
            return Err((Step::Validate, EngineError::Usage("the data_dir setting is empty".into())));
        }
        self.proxy_allowed_on(customer.host_id).map_err(|e| (Step::Validate, e))?;
        // Containers carrying this id for another customer: refused before anything is made.
        self.container_names(customer).await.map_err(|e| (Step::Validate, e))?;
        progress(Progress::Done { step: Step::Validate, detail: customer.fqdn(&settings.base_domain) });

        progress(Progress::Started { step: Step::AllocatePort });
        let prefix = render::prefix(&settings, customer);
        let free = self.port_check(customer).await.map_err(|e| (Step::AllocatePort, e))?;
        let port = self
            .store
            .allocate_deployment(customer.id, &prefix, settings.relay_base_port, settings.relay_port_count, free)
            .map_err(|e| (Step::AllocatePort, e.into()))?;
        progress(Progress::Done { step: Step::AllocatePort, detail: format!("UDP {port}") });

        let outcome = self.apply_stack(customer, port, true, progress).await?;
        Ok(outcome)
    }

    /// Steps shared by deploy and redeploy: render → write → network → images → containers →
    /// ready → owner → proxy → record. The owner is created while the instance is reachable only
    /// on the Docker network: `/api/setup` needs no authentication, so whoever reaches it first
    /// owns the instance.
    pub(crate) async fn apply_stack(
        &self,
        customer: &Customer,
        port: u16,
        first_deploy: bool,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<DeployOutcome, (Step, EngineError)> {
        let at = |step: Step| move |e: EngineError| (step, e);
        let settings = self.store.settings().map_err(|e| (Step::Render, e.into()))?;
        if !first_deploy {
            // Redeploy, move and restore start an instance that was set up: its store must be there.
            self.require_store(customer).await.map_err(at(Step::Validate))?;
        }

        progress(Progress::Started { step: Step::Render });
        let stack = self.render(customer, port).map_err(at(Step::Render))?;
        progress(Progress::Done { step: Step::Render, detail: format!("{} files", stack.files.len()) });

        progress(Progress::Started { step: Step::WriteFiles });
        let (_, files) = files::settings_for(self.store, customer).map_err(at(Step::WriteFiles))?;
        files.write(&stack.instance_dir, &stack.files).await.map_err(at(Step::WriteFiles))?;
        progress(Progress::Done { step: Step::WriteFiles, detail: files.describe(&stack.instance_dir) });

        progress(Progress::Started { step: Step::Network });
        let docker = self.engines.for_customer(customer).await.map_err(at(Step::Network))?;
        let created = {
            // In-process first, then across processes with a file lock polled asynchronously:
            // nothing here may block the thread, or concurrent operations in one app would stall.
            let _local = NETWORK_LOCK.lock().await;
            let _file = match self.store.path().and_then(|p| p.parent()) {
                Some(dir) => Some(exclusive_file_lock(&dir.join("network.lock")).await.map_err(at(Step::Network))?),
                None => None,
            };
            docker.ensure_network(&settings.docker_network).await.map_err(at(Step::Network))?
        };
        let verb = if created { "created" } else { "exists" };
        progress(Progress::Done { step: Step::Network, detail: format!("{} {verb}", settings.docker_network) });

        progress(Progress::Started { step: Step::Images });
        let pulled = self.ensure_images(customer, &stack, &settings, progress).await.map_err(at(Step::Images))?;
        progress(Progress::Done { step: Step::Images, detail: pulled });

        progress(Progress::Started { step: Step::Containers });
        let prefix = render::prefix(&settings, customer);
        let baseline =
            health::restart_baseline(&docker, &prefix, customer.layout).await.map_err(at(Step::Containers))?;
        let mut notes = Vec::new();
        // After a layout switch the other layout's containers still hold the UDP port: remove
        // every container of this customer that the new compose file does not name.
        for name in self.container_names(customer).await.map_err(at(Step::Containers))? {
            if !stack.compose.services.values().any(|s| s.container_name == name) {
                docker.remove(&name).await.map_err(at(Step::Containers))?;
                notes.push(format!("{name}: removed"));
            }
        }
        let changes = apply::apply(&docker, &stack.compose, &stack.project, customer.layout, &stack.instance_dir)
            .await
            .map_err(at(Step::Containers))?;
        notes.extend(changes.iter().map(|(svc, change)| format!("{svc}: {change:?}")));
        progress(Progress::Done { step: Step::Containers, detail: notes.join(", ") });

        progress(Progress::Started { step: Step::Health });
        let timeout = Duration::from_secs(settings.health_timeout_s);
        let network = &settings.docker_network;
        health::wait_ready(&docker, &prefix, customer.layout, network, Some(port), &baseline, timeout)
            .await
            .map_err(at(Step::Health))?;
        progress(Progress::Done {
            step: Step::Health,
            detail: "management API, signal, relay, dashboard and STUN answer".into(),
        });

        progress(Progress::Started { step: Step::Bootstrap });
        let owner = self.bootstrap(customer, network, first_deploy).await.map_err(at(Step::Bootstrap))?;
        let detail = match &owner {
            OwnerOutcome::Created(o) if o.pat.is_some() => format!("owner {} created with an access token", o.email),
            OwnerOutcome::Created(o) => {
                format!("owner {} created, but the server issued no access token (needs NB_SETUP_PAT_ENABLED)", o.email)
            }
            OwnerOutcome::Exists => "owner exists".to_string(),
            OwnerOutcome::Foreign => "set up outside nbmsp: no credentials stored".to_string(),
        };
        progress(Progress::Done { step: Step::Bootstrap, detail });
        let owner = match owner {
            // Credentials are shown to admins only; the rest learn where to ask.
            OwnerOutcome::Created(o) if self.role.allows(Right::Credentials.needs()) => Some(o),
            OwnerOutcome::Created(o) => {
                progress(Progress::Note {
                    text: format!(
                        "owner {} created; an admin can show its credentials (customer credentials)",
                        o.email
                    ),
                });
                None
            }
            _ => None,
        };

        progress(Progress::Started { step: Step::Baseline });
        let detail = if !first_deploy {
            "applied at the first deploy only (nbmsp baseline apply)".to_string()
        } else if self.stored_pat(customer).is_err() {
            "not applied: nbmsp holds no access token for this NetBird".to_string()
        } else {
            crate::engine::fleet::baseline::onboard(self, customer.id).await.map_err(at(Step::Baseline))?
        };
        progress(Progress::Done { step: Step::Baseline, detail });

        progress(Progress::Started { step: Step::ReverseProxy });
        let detail = self.apply_reverse_proxy(customer, port).await.map_err(at(Step::ReverseProxy))?;
        progress(Progress::Done { step: Step::ReverseProxy, detail });

        progress(Progress::Started { step: Step::Proxy });
        let domain = customer.fqdn(&settings.base_domain);
        let req = self.proxy_request(customer, &settings).map_err(at(Step::Proxy))?;
        let previous = self.proxy_record(customer.id);
        let proxy = self.proxy_on(customer.host_id).await.map_err(at(Step::Proxy))?;
        let mut record = proxy.register(&req).await.map_err(at(Step::Proxy))?;
        // An adopted host keeps the certificate nbmsp requested earlier: it is still ours to delete.
        if record.certificate_id.is_some() && record.certificate_id == previous.certificate_id {
            record.certificate_owned |= previous.certificate_owned;
        }
        // Recorded at once, so a failure in a later step (or a crash) can undo exactly this.
        self.store
            .set_proxy_state(
                customer.id,
                record.proxy_id,
                record.certificate_id,
                record.certificate_owned,
                record.pending.as_deref(),
            )
            .map_err(|e| (Step::Proxy, e.into()))?;
        progress(Progress::Done { step: Step::Proxy, detail: record.detail.clone() });
        // Whether users can get there yet (DNS, certificate) is worth a word, never a failure.
        let deployment = self.store.deployment(customer.id).map_err(|e| (Step::Proxy, e.into()))?;
        if let Some(w) = self.public_check(customer, deployment.as_ref(), &settings).await.and_then(|p| p.warning()) {
            progress(Progress::Note { text: format!("warning: {w}") });
        }

        progress(Progress::Started { step: Step::Record });
        let setup_url = format!("https://{domain}");
        let rec = |e: crate::store::StoreError| (Step::Record, EngineError::from(e));
        let running = self.containers(customer).await.map_err(at(Step::Record))?;
        let image_ids = running.iter().map(|c| (c.service.clone(), c.image_id.clone())).collect();
        self.store.set_image_ids(customer.id, &image_ids).map_err(rec)?;
        self.store.set_deployment_status(customer.id, DeploymentStatus::Running, Some(&setup_url)).map_err(rec)?;
        self.store.set_health_checked(customer.id).map_err(rec)?;
        self.store.set_customer_status(customer.id, CustomerStatus::Active, record.pending.as_deref()).map_err(rec)?;
        let summary = match &record.pending {
            None => format!("deployed on UDP {port}, {setup_url}"),
            Some(p) => format!("deployed on UDP {port}, {setup_url}; degraded: {p}"),
        };
        self.store.log_customer(self.actor, customer, "deploy", AuditStatus::Success, &summary).map_err(rec)?;
        progress(Progress::Done { step: Step::Record, detail: summary });
        Ok(DeployOutcome {
            udp_port: port,
            setup_url,
            changes: changes.into_iter().map(|(s, c)| (s, format!("{c:?}").to_lowercase())).collect(),
            owner,
        })
    }

    /// Undoes a first deploy a crash interrupted (the caller holds the lock).
    pub(crate) async fn undo_first_deploy(&self, customer: &Customer, progress: &mut dyn FnMut(Progress)) {
        self.rollback_first_deploy(customer, progress).await;
    }

    /// Undoes a failed first deploy: containers, proxy entry, instance dir (there is no
    /// customer data yet) with the secrets of the NetBird in it, and the port. Best effort:
    /// every part is tried, failures are noted.
    async fn rollback_first_deploy(&self, customer: &Customer, progress: &mut dyn FnMut(Progress)) {
        progress(Progress::Note { text: "rolling back".into() });
        let names = self.container_names(customer).await.unwrap_or_default();
        let docker = self.engines.for_customer(customer).await;
        for name in names {
            let removed = match &docker {
                Ok(d) => d.remove(&name).await,
                Err(e) => Err(EngineError::Docker(e.to_string())),
            };
            if let Err(e) = removed {
                progress(Progress::Note { text: format!("rollback: {e}") });
            }
        }
        let record = self.proxy_record(customer.id);
        if let Err(e) = self.unregister_on(customer.host_id, &record).await {
            progress(Progress::Note { text: format!("rollback: {e}") });
        }
        let removed = match files::instance_of(self.store, customer) {
            Ok((dir, files)) => files.remove(&dir).await,
            Err(e) => Err(e),
        };
        match removed {
            // The NetBird that the owner, its token and the proxy token belong to is gone with
            // the files: kept, they would make the next deploy skip the owner's setup and speak
            // to a fresh NetBird with a token it never issued. Kept while the files are there:
            // the store key among them opens that data.
            Ok(()) => {
                if let Err(e) = self.store.delete_secret_scope(&crate::store::vault::customer_scope(customer.id)) {
                    progress(Progress::Note { text: format!("rollback: {e}") });
                }
            }
            Err(e) => progress(Progress::Note { text: format!("rollback: {e}") }),
        }
        if let Err(e) = self.store.delete_deployment(customer.id) {
            progress(Progress::Note { text: format!("rollback: {e}") });
        }
        progress(Progress::Note { text: "rolled back: no containers, files or port left".into() });
    }

    /// Whether a UDP port is free where the customer's containers run: on this machine a bind
    /// tells; on a remote host, the ports its engine already publishes (nbmsp runs no program
    /// of its own there to try a bind).
    pub(crate) async fn port_check(&self, customer: &Customer) -> Result<impl Fn(u16) -> bool + use<P>, EngineError> {
        let taken = match customer.host_id {
            None => None,
            Some(_) => Some(self.engines.for_customer(customer).await?.published_udp_ports().await?),
        };
        Ok(move |p: u16| match &taken {
            None => ports::udp_port_free(p),
            Some(taken) => !taken.contains(&p),
        })
    }

    /// Names of the customer's containers on the engine, found by label (so containers of a
    /// half-finished operation are found too).
    /// Containers that carry this customer's id but another subdomain belong to a customer this
    /// database no longer knows (its id was handed out again after a database restore): every
    /// operation refuses rather than act on them.
    pub async fn container_names(&self, customer: &Customer) -> Result<Vec<String>, EngineError> {
        let installation = self.store.installation_id()?;
        let id = customer.id.to_string();
        let found = self
            .engines
            .for_customer(customer)
            .await?
            .labelled(&[(render::LABEL_INSTALLATION, installation.as_str()), (render::LABEL_CUSTOMER, id.as_str())])
            .await?;
        if let Some((name, labels)) =
            found.iter().find(|(_, l)| l.get(render::LABEL_SUBDOMAIN).is_some_and(|s| *s != customer.subdomain))
        {
            return Err(crate::store::StoreError::Conflict(format!(
                "container {name} carries customer id {} but belongs to '{}', not '{}': the database was put back \
                 from before that customer existed. Nothing was changed; `nbmsp reconcile` lists such containers",
                customer.id,
                crate::domain::sanitize::terminal_safe(labels.get(render::LABEL_SUBDOMAIN).map_or("", |s| s)),
                customer.subdomain
            ))
            .into());
        }
        Ok(found.into_iter().map(|(name, _)| name).collect())
    }

    /// The customer's containers with their state, in layout order.
    pub async fn containers(&self, customer: &Customer) -> Result<Vec<ContainerInfo>, EngineError> {
        let network = self.store.settings()?.docker_network;
        let mut out = Vec::new();
        let docker = self.engines.for_customer(customer).await?;
        for name in self.container_names(customer).await? {
            if let Some(c) = docker.inspect(&name, Some(&network)).await? {
                out.push(c);
            }
        }
        let order = |svc: &str| render::services(customer.layout).iter().position(|s| *s == svc).unwrap_or(usize::MAX);
        out.sort_by_key(|c| (order(&c.service), c.name.clone()));
        Ok(out)
    }
}

/// Takes an exclusive `flock` on `path` (created if missing), waiting without blocking the
/// thread; released when the returned file is dropped (or the process dies).
async fn exclusive_file_lock(path: &std::path::Path) -> Result<std::fs::File, EngineError> {
    use rustix::fs::{FlockOperation, flock};
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| EngineError::Files(format!("cannot open {}: {e}", path.display())))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(file),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(EngineError::Files(format!("cannot lock {}: {e}", path.display()))),
        }
    }
}
