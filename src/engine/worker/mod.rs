//! The engine as a task for the TUI: it takes [`Command`]s and emits [`Event`]s. A dispatcher
//! on its own thread hands each command to a job (see [`jobs`]), so neither a slow Docker or NPM
//! call nor a blocked SQLite call holds up input, drawing or other work. The unlocked secrets
//! live only in this module.

use crate::domain::error::Failure;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::{oneshot, watch};

use super::npm::proxy::{self, AnyProxy};
use super::ops::lifecycle::Ops;
use crate::store::{Session, Store};

mod background;
mod commands;
mod fleet;
mod jobs;
mod logs;
pub mod protocol;
mod rate;

pub use super::worker::protocol::{Command, Detail, Event, InitRequest, Operation};

/// What every job of one login shares.
struct Shared {
    db: PathBuf,
    session: Session,
    template_dir: PathBuf,
}

/// One job's view: the login it works for and its own database connection.
struct Ctx {
    store: Store,
    shared: Arc<Shared>,
}

impl std::ops::Deref for Ctx {
    type Target = Shared;
    // Jobs read the login's fields (session, templates) as if they were their own.
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// The dispatcher's state for one login: what runs that may be stopped, and which customer is
/// on screen (the monitor samples its containers more often).
struct Dispatch {
    shared: Arc<Shared>,
    tx: UnboundedSender<Event>,
    /// A send stops the log stream.
    logs: Option<oneshot::Sender<()>>,
    /// Deploys and redeploys under way, so they can be cancelled.
    tasks: HashMap<i64, (Operation, oneshot::Sender<()>)>,
    focus: watch::Sender<Option<i64>>,
}

impl Dispatch {
    /// Starts `work` as a job of this login.
    fn job<F, Fut>(&self, name: &str, work: F)
    where
        F: FnOnce(std::rc::Rc<Ctx>, UnboundedSender<Event>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let tx = self.tx.clone();
        jobs::spawn(&self.shared, &self.tx, name, move |c| work(c, tx));
    }
}

/// Starts the worker thread for the database at `db` (templates overrides under `home`).
pub fn spawn(db: PathBuf, home: PathBuf) -> (UnboundedSender<Command>, UnboundedReceiver<Event>) {
    let (cmd_tx, cmd_rx) = unbounded_channel();
    let (ev_tx, ev_rx) = unbounded_channel();
    std::thread::Builder::new()
        .name("nbmsp-engine".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ev_tx.send(Event::Error(format!("cannot start the engine: {e}")));
                    return;
                }
            };
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, run(db, home, cmd_rx, ev_tx));
        })
        .ok();
    (cmd_tx, ev_rx)
}

/// The dispatcher: nothing here waits on the database; login and init do their SQLite and
/// argon2 work on blocking threads, everything after login goes to jobs.
async fn run(db: PathBuf, home: PathBuf, mut rx: UnboundedReceiver<Command>, tx: UnboundedSender<Event>) {
    let mut dispatch: Option<Dispatch> = None;
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::Init(req) => {
                let _ = tx.send(init(&db, &home, req).await);
            }
            Command::TestNpm { url, identity, secret } => {
                let tx = tx.clone();
                tokio::task::spawn_local(async move {
                    let result = async {
                        let client =
                            super::npm::client::NpmClient::new(&url, &identity, &secret).map_err(Failure::from)?;
                        let version = client.version().await.map_err(Failure::from)?;
                        client.login().await.map_err(Failure::from)?;
                        Ok(format!("Nginx Proxy Manager {version}: login ok"))
                    }
                    .await;
                    let _ = tx.send(Event::NpmTested(result));
                });
            }
            Command::Login { user, password } => match login(&db, &home, user, password).await {
                Ok((shared, logged_in)) => {
                    let _ = tx.send(logged_in);
                    dispatch = Some(background::start(shared, &tx));
                }
                Err(e) => {
                    let _ = tx.send(Event::LoginFailed(e.to_string()));
                }
            },
            cmd => match dispatch.as_mut() {
                Some(d) => commands::handle(d, cmd),
                None => {
                    let _ = tx.send(Event::Error("not logged in".into()));
                }
            },
        }
    }
}

/// Logs in on a blocking thread (argon2 twice: verify, unwrap the key).
async fn login(db: &Path, home: &Path, user: String, password: String) -> Result<(Arc<Shared>, Event), Failure> {
    let db = db.to_path_buf();
    let template_dir = home.join("templates");
    tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&db, false).map_err(Failure::from)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let session = store.login(&user, &password, now).map_err(Failure::from)?;
        let (base_domain, layout) = store
            .settings()
            .map(|s| (s.base_domain, s.layout))
            .unwrap_or((String::new(), crate::domain::customer::Layout::Combined));
        let event = Event::LoggedIn { user: session.user.username.clone(), role: session.role(), base_domain, layout };
        Ok((Arc::new(Shared { db, session, template_dir }), event))
    })
    .await
    .map_err(|e| Failure::runtime(format!("login stopped unexpectedly: {e}")))?
}

/// The wizard's `nbmsp init`. Starting over next to another installation's containers usually
/// means its database was lost: the wizard refuses, the CLI names the ways on.
async fn init(db: &Path, home: &Path, req: InitRequest) -> Event {
    let found = super::hosts::local::foreign_installations().await.unwrap_or_default();
    if !found.is_empty() && !req.beside_foreign {
        return Event::InitForeign(super::hosts::local::foreign_refusal(&found));
    }
    let (db, home) = (db.to_path_buf(), home.to_path_buf());
    let user = req.admin_user.clone();
    match tokio::task::spawn_blocking(move || initialise(&db, &home, &req)).await {
        Ok(Ok(())) => Event::Initialised { user },
        Ok(Err(e)) => Event::InitFailed(e.to_string()),
        Err(e) => Event::InitFailed(format!("init stopped unexpectedly: {e}")),
    }
}

/// Creates the database, the admin and the settings.
fn initialise(db: &Path, home: &Path, req: &InitRequest) -> Result<(), Failure> {
    crate::store::home::ensure_private_dir(home).map_err(Failure::from)?;
    let mut store = Store::open(db, true).map_err(Failure::from)?;
    let session = store
        .initialise(&crate::store::auth::InitParams {
            home,
            admin_user: &req.admin_user,
            password: &req.password,
            admin_email: &req.admin_email,
            base_domain: &req.base_domain,
            beside_foreign: req.beside_foreign,
        })
        .map_err(Failure::from)?;
    for (k, v) in &req.settings {
        store.set_setting(&session, k, v).map_err(Failure::from)?;
    }
    Ok(())
}

fn send_settings(c: &Ctx, tx: &UnboundedSender<Event>) {
    let _ = tx.send(match (c.store.settings_view(), c.store.users()) {
        (Ok(rows), Ok(users)) => Event::Settings { rows, users },
        (Err(e), _) | (_, Err(e)) => Event::Error(e.to_string()),
    });
}

fn send_customers(c: &Ctx, tx: &UnboundedSender<Event>) {
    let _ = tx.send(match c.store.customer_rows() {
        Ok(rows) => Event::Customers(rows),
        Err(e) => Event::Error(e.to_string()),
    });
}

async fn with_ops<T>(c: &Ctx, f: impl AsyncFnOnce(&Ops<'_, AnyProxy>) -> Result<T, Failure>) -> Result<T, Failure> {
    // Built per operation: the settings may have changed since the last one.
    let proxy =
        proxy::from_settings(&c.store, &c.session.vault, Some(c.template_dir.clone())).map_err(Failure::from)?;
    let engines = crate::engine::hosts::Engines::connect(&c.store).await.map_err(Failure::from)?;
    let ops = Ops {
        store: &c.store,
        vault: &c.session.vault,
        actor: &c.session.user.username,
        role: c.session.role(),
        engines: &engines,
        proxy: &proxy,
        template_dir: Some(c.template_dir.clone()),
    };
    f(&ops).await
}
