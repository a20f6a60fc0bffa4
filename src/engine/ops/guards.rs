//! What must hold before an operation acts on a customer, decided once for every path that
//! reaches it (CLI, app, monitor, bulk, rollout, move, restore): a deployment must exist before
//! anything is started, and NetBird's store must be there before NetBird is started again.

use super::lifecycle::Ops;
use crate::domain::customer::Customer;
use crate::engine::EngineError;
use crate::engine::hosts::files;
use crate::engine::npm::proxy::Proxy;
use crate::engine::stack::render;

impl<P: Proxy> Ops<'_, P> {
    /// The customer's container-name prefix (see [`render::prefix`]).
    pub(crate) fn name_prefix(&self, customer: &Customer) -> Result<String, EngineError> {
        Ok(render::prefix(&self.store.settings()?, customer))
    }

    /// The customer has a deployment record (start, stop, restart need one).
    pub(crate) fn require_deployed(&self, customer: &Customer) -> Result<(), EngineError> {
        if self.store.deployment(customer.id)?.is_none() {
            return Err(EngineError::Usage(format!("customer '{}' is not deployed", customer.subdomain)));
        }
        Ok(())
    }

    /// NetBird's store of a customer that was set up is on its host. Starting NetBird without it
    /// makes a fresh instance whose owner anyone reaching the domain could claim, and hides the
    /// real data wherever it went; so every path that starts an existing customer's NetBird
    /// (start, restart, redeploy, rollout, move, restore) asks here first.
    pub(crate) async fn require_store(&self, customer: &Customer) -> Result<(), EngineError> {
        let (settings, files) = files::settings_for(self.store, customer)?;
        let store_dir = render::store_dir(&settings, customer);
        if files.has_files(&store_dir).await? {
            return Ok(());
        }
        Err(EngineError::DataMissing(format!(
            "'{}' is deployed but NetBird's data at {} is missing or empty; refusing to start it empty (was data_dir \
             changed? `nbmsp migrate data-dir` moves stacks; `nbmsp customer restore` brings a backup back)",
            customer.subdomain,
            files.describe(&store_dir)
        )))
    }
}
