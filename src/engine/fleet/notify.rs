//! Delivers alert notices to the channels configured in settings: a generic webhook (a JSON
//! body) and Gotify (its `POST /message` API). Each channel is tried; one failing does not
//! stop the other, and the caller hears which failed.

use std::time::Duration;

use serde::Serialize;

use crate::domain::alerts::{Notice, NoticeState};
use crate::engine::EngineError;
use crate::store::{Store, Vault};

/// The configured channels.
#[derive(Clone)]
pub struct Notifier {
    client: reqwest::Client,
    webhook: Option<String>,
    gotify: Option<(String, zeroize::Zeroizing<String>)>,
    installation: String,
    host: String,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The Gotify token never reaches a log.
        f.debug_struct("Notifier")
            .field("webhook", &self.webhook)
            .field("gotify", &self.gotify.as_ref().map(|g| &g.0))
            .finish_non_exhaustive()
    }
}

/// The webhook's JSON body.
#[derive(Debug, Serialize)]
pub struct WebhookBody<'a> {
    /// Always `nbmsp`.
    pub source: &'static str,
    /// This nbmsp installation's id (several hosts may post to one receiver).
    pub installation: &'a str,
    /// This host's name.
    pub host: &'a str,
    /// The notice.
    #[serde(flatten)]
    pub notice: &'a Notice,
    /// `at` as RFC 3339, for receivers that do not parse Unix time.
    pub time: String,
}

#[derive(Serialize)]
struct GotifyMessage<'a> {
    title: &'a str,
    message: &'a str,
    priority: u8,
}

impl Notifier {
    /// The channels from the settings (the Gotify token from the vault). `Ok(None)` when
    /// no channel is configured.
    pub fn from_settings(store: &Store, vault: &Vault) -> Result<Option<Self>, EngineError> {
        let s = store.settings()?.alerts;
        let token = store.secret(vault, crate::store::vault::SCOPE_SETTINGS, "alerts.gotify_token")?;
        let gotify = match (s.gotify_url.is_empty(), token) {
            (true, _) => None,
            (false, Some(t)) => Some((s.gotify_url.clone(), t)),
            (false, None) => {
                return Err(EngineError::Usage(
                    "alerts.gotify_url is set but alerts.gotify_token is not: `nbmsp settings set alerts.gotify_token ...`"
                        .into(),
                ));
            }
        };
        let webhook = Some(s.webhook_url).filter(|u| !u.is_empty());
        if webhook.is_none() && gotify.is_none() {
            return Ok(None);
        }
        Ok(Some(Self::new(webhook, gotify.map(|(u, t)| (u, t.to_string())), &store.installation_id()?)?))
    }

    /// Channels given directly (tests, and `from_settings`).
    pub fn new(
        webhook: Option<String>,
        gotify: Option<(String, String)>,
        installation: &str,
    ) -> Result<Self, EngineError> {
        crate::engine::install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| EngineError::Files(format!("cannot set up HTTP: {e}")))?;
        Ok(Self {
            client,
            webhook,
            gotify: gotify.map(|(u, t)| (u.trim_end_matches('/').to_string(), zeroize::Zeroizing::new(t))),
            installation: installation.to_string(),
            host: crate::store::locks::host_name(),
        })
    }

    /// The channels as words, for messages ("webhook, Gotify").
    pub fn channels(&self) -> String {
        let mut v = Vec::new();
        if self.webhook.is_some() {
            v.push("webhook");
        }
        if self.gotify.is_some() {
            v.push("Gotify");
        }
        v.join(", ")
    }

    /// Sends `notice` to every channel; the error names each channel that failed.
    pub async fn send(&self, notice: &Notice) -> Result<(), EngineError> {
        let mut failures = Vec::new();
        if let Some(url) = &self.webhook {
            let time =
                time::OffsetDateTime::from_unix_timestamp(notice.at).map(crate::store::fmt_time).unwrap_or_default();
            let body =
                WebhookBody { source: "nbmsp", installation: &self.installation, host: &self.host, notice, time };
            if let Err(e) = self.post(self.client.post(url).json(&body)).await {
                failures.push(format!("webhook {url}: {e}"));
            }
        }
        if let Some((url, token)) = &self.gotify {
            let priority = match notice.state {
                NoticeState::Firing => 8,
                NoticeState::Suppressed => 6,
                NoticeState::Resolved | NoticeState::Test | NoticeState::Report => 4,
            };
            let msg = GotifyMessage { title: &notice.title, message: &notice.message, priority };
            let req = self.client.post(format!("{url}/message")).header("X-Gotify-Key", token.as_str()).json(&msg);
            if let Err(e) = self.post(req).await {
                failures.push(format!("Gotify {url}: {e}"));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Unavailable(format!("notice not delivered: {}", failures.join("; "))))
        }
    }

    async fn post(&self, req: reqwest::RequestBuilder) -> Result<(), String> {
        let r = req.send().await.map_err(|e| {
            if e.is_timeout() {
                "no answer within 10 s".to_string()
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                e.to_string()
            }
        })?;
        let status = r.status();
        if status.is_success() {
            return Ok(());
        }
        // Gotify says why in {"error","errorCode","errorDescription"}; show its description.
        let text = r.text().await.unwrap_or_default();
        let why = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("errorDescription").and_then(|d| d.as_str()).map(str::to_string))
            .unwrap_or_else(|| text.chars().take(200).collect());
        Err(format!("HTTP {}{}", status.as_u16(), if why.is_empty() { String::new() } else { format!(": {why}") }))
    }
}

/// The notice "send test notification" sends.
pub fn test_notice(actor: &str) -> Notice {
    Notice {
        state: NoticeState::Test,
        scope: crate::domain::alerts::HOST_SCOPE.to_string(),
        kind: String::new(),
        title: "nbmsp test notification".to_string(),
        message: format!(
            "Sent by {actor} from {} to check the alert channels. No action needed.",
            crate::store::locks::host_name()
        ),
        at: crate::store::now().unix_timestamp(),
    }
}
