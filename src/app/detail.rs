//! The customer detail view: tabs, loaded data, the bounded log buffer, health results.

use std::collections::VecDeque;

use crate::domain::deployment::LogLine;
use crate::engine::health::HealthReport;
use crate::engine::worker::Detail;

/// The detail tabs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Every field and the audit log.
    Info,
    /// Status, containers, port, proxy, setup URL; the progress of a running operation.
    Deployment,
    /// Live merged logs.
    Logs,
    /// Containers, endpoints, STUN.
    Health,
}

impl Tab {
    /// All tabs in order.
    pub const ALL: [Tab; 4] = [Tab::Info, Tab::Deployment, Tab::Logs, Tab::Health];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Info => "Info",
            Tab::Deployment => "Deployment",
            Tab::Logs => "Logs",
            Tab::Health => "Health",
        }
    }

    /// Position, 0-based.
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// The tab `delta` steps away, wrapping.
    pub fn step(self, delta: isize) -> Tab {
        let n = Tab::ALL.len() as isize;
        Tab::ALL[(self.index() as isize + delta).rem_euclid(n) as usize]
    }
}

/// Log lines kept per view; older lines are dropped and counted, so memory stays bounded
/// however chatty a container is.
pub const LOG_CAPACITY: usize = 2000;

/// A ring buffer of log lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBuffer {
    /// The lines, oldest first.
    pub lines: VecDeque<LogLine>,
    /// Lines dropped to stay within [`LOG_CAPACITY`].
    pub dropped: u64,
}

impl LogBuffer {
    /// Appends lines, dropping the oldest beyond the capacity.
    pub fn extend(&mut self, new: Vec<LogLine>) {
        for l in new {
            if self.lines.len() == LOG_CAPACITY {
                self.lines.pop_front();
                self.dropped += 1;
            }
            self.lines.push_back(l);
        }
    }
}

/// The detail view's state.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailState {
    /// Which customer.
    pub customer_id: i64,
    /// Subdomain (shown before the data arrives).
    pub subdomain: String,
    /// Current tab.
    pub tab: Tab,
    /// Loaded data.
    pub data: Option<Detail>,
    /// Log lines.
    pub logs: LogBuffer,
    /// Keep the newest line in view.
    pub follow: bool,
    /// Lines scrolled up from the bottom when not following.
    pub log_scroll: usize,
    /// Last health result.
    pub health: Option<Result<HealthReport, String>>,
    /// A health check is running.
    pub health_running: bool,
    /// Owner credentials, once asked for (shown until the view closes).
    pub credentials: Option<Result<crate::engine::netbird::OwnerCredentials, String>>,
}

impl DetailState {
    /// A detail view for `customer_id`, data still loading.
    pub fn new(customer_id: i64, subdomain: String) -> Self {
        Self {
            customer_id,
            subdomain,
            tab: Tab::Info,
            data: None,
            logs: LogBuffer::default(),
            follow: true,
            log_scroll: 0,
            health: None,
            health_running: false,
            credentials: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_buffer_is_bounded_and_counts_drops() {
        let mut b = LogBuffer::default();
        let line = |i: usize| LogLine { service: "server".into(), timestamp: None, text: format!("line {i}") };
        b.extend((0..LOG_CAPACITY + 500).map(line).collect());
        assert_eq!(b.lines.len(), LOG_CAPACITY);
        assert_eq!(b.dropped, 500);
        assert_eq!(b.lines.front().unwrap().text, "line 500");
    }

    #[test]
    fn tabs_wrap() {
        assert_eq!(Tab::Info.step(-1), Tab::Health);
        assert_eq!(Tab::Health.step(1), Tab::Info);
    }
}
