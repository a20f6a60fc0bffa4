//! Alert channels as operators use them: the test notification.

use crate::domain::rights::Right;
use crate::engine::EngineError;
use crate::engine::fleet::notify::{Notifier, test_notice};
use crate::store::{Session, Store, StoreError};

/// Sends a test notification to every configured channel (operators and admins: it sends in
/// the MSP's name to its on-call channels); the channels it went to, in words.
pub async fn send_test(store: &Store, session: &Session) -> Result<String, EngineError> {
    session.require(Right::TestAlerts)?;
    let notifier = Notifier::from_settings(store, &session.vault)?.ok_or_else(|| {
        StoreError::Invalid(crate::domain::ValidationError::new(
            "alerts",
            "no alert channel is configured: set alerts.webhook_url, or alerts.gotify_url and alerts.gotify_token",
        ))
    })?;
    notifier.send(&test_notice(&session.user.username)).await?;
    Ok(notifier.channels())
}
