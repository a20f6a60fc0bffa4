//! Jobs: each piece of work the worker takes on (an operation, a detail load, the monitor, a
//! settings write) runs on a thread of its own with its own runtime and its own connection to
//! the database. SQLite calls block; a write lock another process holds (the CLI, the monitor
//! service, a backup) can hold one of them for the whole busy timeout. Apart, that stalls only
//! the job that asked — never the dispatcher, the log stream or another job's lock heartbeat.

use crate::domain::error::Failure;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use super::{Ctx, Event, Shared};
use crate::store::Store;

/// Starts `work` as a job. It ends when its future does, or when nobody listens for events any
/// more (the app has gone), whichever is first.
pub(super) fn spawn<F, Fut>(shared: &Arc<Shared>, tx: &UnboundedSender<Event>, name: &str, work: F)
where
    F: FnOnce(Rc<Ctx>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let (shared, job_tx) = (shared.clone(), tx.clone());
    let started = std::thread::Builder::new().name(format!("nbmsp-{name}")).spawn(move || {
        let tx = job_tx;
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                let _ = tx.send(Event::Error(format!("cannot start a job: {e}")));
                return;
            }
        };
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let store = match open(&shared.db) {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Event::Error(e.to_string()));
                    return;
                }
            };
            let ctx = Rc::new(Ctx { store, shared });
            tokio::select! {
                () = work(ctx) => {}
                () = tx.closed() => {}
            }
        });
    });
    if let Err(e) = started {
        let _ = tx.send(Event::Error(format!("cannot start a job thread: {e}")));
    }
}

/// Runs `work` as a job that can be stopped: a send on the returned sender drops `work` where it
/// stands — like a crash of this job — and `on_cancel` runs instead.
pub(super) fn spawn_cancellable<F, Fut, C, CFut>(
    shared: &Arc<Shared>,
    tx: &UnboundedSender<Event>,
    name: &str,
    work: F,
    on_cancel: C,
) -> oneshot::Sender<()>
where
    F: FnOnce(Rc<Ctx>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
    C: FnOnce(Rc<Ctx>) -> CFut + Send + 'static,
    CFut: Future<Output = ()> + 'static,
{
    let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
    spawn(shared, tx, name, move |c| async move {
        // Only a send cancels: a sender dropped unused (an operation nobody may cancel) is not one.
        let cancel = async {
            if cancel_rx.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let cancelled = tokio::select! {
            () = work(c.clone()) => false,
            () = cancel => true,
        };
        if cancelled {
            on_cancel(c).await;
        }
    });
    cancel_tx
}

/// Opens a connection for a job (no new file: the database exists once someone logged in).
pub(super) fn open(db: &std::path::Path) -> Result<Store, Failure> {
    Store::open(db, false).map_err(|e| Failure::new(e.kind(), format!("database: {e}")))
}
