//! What an operation reports while it runs (its steps and lines) and what a deploy returns.

use serde::Serialize;

use crate::engine::netbird::OwnerCredentials;

/// The steps of a deploy, in order; progress events name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Check the customer and the settings.
    Validate,
    /// Reserve the public UDP port.
    AllocatePort,
    /// Render the files from the templates.
    Render,
    /// Write them to the instance dir.
    WriteFiles,
    /// Make sure the shared network exists.
    Network,
    /// Make sure the images are present (pull if not).
    Images,
    /// Create and start the containers.
    Containers,
    /// Wait until the stack is ready (management API, signal, relay, dashboard, STUN).
    Health,
    /// Create the NetBird owner account and its access token, before anything is public.
    Bootstrap,
    /// The fleet's baseline, at the first deploy (policies, groups, checks, DNS, key rules).
    Baseline,
    /// NetBird's Reverse Proxy: its token, its container, its registration (or, off, revoked).
    ReverseProxy,
    /// Register the domain in the proxy.
    Proxy,
    /// Record the result.
    Record,
}

impl Step {
    /// Every step in order.
    pub const ALL: [Step; 13] = [
        Step::Validate,
        Step::AllocatePort,
        Step::Render,
        Step::WriteFiles,
        Step::Network,
        Step::Images,
        Step::Containers,
        Step::Health,
        Step::Bootstrap,
        Step::Baseline,
        Step::ReverseProxy,
        Step::Proxy,
        Step::Record,
    ];

    /// Short label for progress lines.
    pub fn label(self) -> &'static str {
        match self {
            Step::Validate => "validate",
            Step::AllocatePort => "allocate UDP port",
            Step::Render => "render files",
            Step::WriteFiles => "write files",
            Step::Network => "network",
            Step::Images => "images",
            Step::Containers => "start containers",
            Step::Health => "wait until ready",
            Step::Proxy => "proxy host",
            Step::Bootstrap => "NetBird owner",
            Step::Baseline => "fleet baseline",
            Step::ReverseProxy => "reverse proxy",
            Step::Record => "record",
        }
    }

    /// 1-based position.
    pub fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).map_or(0, |i| i + 1)
    }
}

/// What an operation reports while it runs (for the TUI's progress view and CLI stderr).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// A step began.
    Started {
        /// Which.
        step: Step,
    },
    /// A step ended well.
    Done {
        /// Which.
        step: Step,
        /// What it did, in a few words.
        detail: String,
    },
    /// A step failed (rollback follows).
    Failed {
        /// Which.
        step: Step,
        /// Why.
        error: String,
    },
    /// Anything else worth a line (image pull progress, rollback actions).
    Note {
        /// The line.
        text: String,
    },
}

/// The result of a successful deploy or redeploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployOutcome {
    /// The customer's public UDP port.
    pub udp_port: u16,
    /// URL to open first.
    pub setup_url: String,
    /// What happened to each service.
    pub changes: Vec<(String, String)>,
    /// The NetBird owner account, when this deploy created it (shown once; later on demand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerCredentials>,
}
