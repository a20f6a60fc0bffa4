//! The customer detail view: tabs, loaded data, the bounded log buffer, health results.

use std::collections::VecDeque;

use crate::domain::deployment::LogLine;
use crate::engine::checks::health::HealthReport;
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
    /// The customer's NetBird: devices, setup keys, users, groups.
    NetBird,
}

impl Tab {
    /// All tabs in order.
    pub const ALL: [Tab; 5] = [Tab::Info, Tab::Deployment, Tab::Logs, Tab::Health, Tab::NetBird];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Info => "Info",
            Tab::Deployment => "Deployment",
            Tab::Logs => "Logs",
            Tab::Health => "Health",
            Tab::NetBird => "NetBird",
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

/// Log lines kept per service; older lines are dropped and counted, so memory stays bounded
/// however chatty a container is, and a chatty service never pushes a quiet one's lines out.
pub const LOG_CAPACITY: usize = 2000;

/// The shortest time between two frames drawn only because log lines arrived, by the rate they
/// arrive at: a few lines a second are read as they come (4 frames a second); a flood cannot be
/// read at any frame rate, so it shows the latest once a second, and above 2,000 lines a second
/// (every frame a whole pane of new lines, ~1.3 KB) every two: a slow link pays for half a frame
/// a second, not four. A key always draws at once; a paused or searched view does not move.
pub fn log_frame(lines_per_second: u32) -> std::time::Duration {
    std::time::Duration::from_millis(match lines_per_second {
        0..=20 => 250,
        21..=200 => 500,
        201..=2000 => 1000,
        _ => 2000,
    })
}

/// Above this many lines a second the Logs tab says it shows the latest, not every line.
pub const LOG_FLOOD: u32 = 200;

/// One ring buffer of log lines per service, merged in arrival order when read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBuffer {
    /// Per service: (arrival number, line), oldest first.
    rings: std::collections::BTreeMap<String, VecDeque<(u64, LogLine)>>,
    /// The next arrival number.
    next: u64,
    /// Lines dropped to stay within [`LOG_CAPACITY`] per service.
    pub dropped: u64,
}

impl LogBuffer {
    /// Appends lines, dropping the oldest of their service beyond the capacity.
    pub fn extend(&mut self, new: Vec<LogLine>) {
        for l in new {
            let ring = self.rings.entry(l.service.clone()).or_default();
            if ring.len() == LOG_CAPACITY {
                ring.pop_front();
                self.dropped += 1;
            }
            ring.push_back((self.next, l));
            self.next += 1;
        }
    }

    /// Lines held.
    pub fn len(&self) -> usize {
        self.rings.values().map(VecDeque::len).sum()
    }

    /// No lines held.
    pub fn is_empty(&self) -> bool {
        self.rings.values().all(VecDeque::is_empty)
    }

    /// The services seen, sorted.
    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.rings.keys().map(String::as_str)
    }

    /// Every line of `service` (or of all when `None`), in arrival order.
    pub fn lines(&self, service: Option<&str>) -> Vec<&LogLine> {
        let mut out: Vec<(u64, &LogLine)> = self
            .rings
            .iter()
            .filter(|(s, _)| service.is_none_or(|f| f == s.as_str()))
            .flat_map(|(_, ring)| ring.iter().map(|(n, l)| (*n, l)))
            .collect();
        // Each ring is in order already: a sort of nearly sorted runs is cheap.
        out.sort_unstable_by_key(|(n, _)| *n);
        out.into_iter().map(|(_, l)| l).collect()
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
    /// Lines that arrived (within the service filter) since following stopped.
    pub paused_new: usize,
    /// Lines per second the containers write (as the worker last measured).
    pub log_rate: u32,
    /// Last health result.
    pub health: Option<Result<HealthReport, crate::domain::error::Failure>>,
    /// A health check is running.
    pub health_running: bool,
    /// CPU and memory from the last check.
    pub stats: Option<Result<Vec<crate::domain::deployment::ContainerStats>, String>>,
    /// The log search being typed.
    pub log_search: Option<super::text::Field>,
    /// The active log search (highlighted; n/N jump between matches).
    pub log_query: String,
    /// Which match n/N last jumped to.
    pub log_match: usize,
    /// Wrap long log lines.
    pub wrap: bool,
    /// Show timestamps.
    pub timestamps: bool,
    /// Only this service's lines.
    pub service_filter: Option<String>,
    /// Owner credentials, once asked for (shown until the view closes).
    pub credentials: Option<Result<crate::engine::netbird::OwnerCredentials, crate::domain::error::Failure>>,
    /// The NetBird tab.
    pub netbird: super::netbird::NetBirdView,
    /// The nginx server block (proxy = none) is shown over the Deployment tab.
    pub nginx_open: bool,
    /// The last deploy or redeploy's steps and outcome, kept on the Deployment tab while the
    /// customer stays open (until the next operation).
    pub finished: Option<crate::app::FinishedRun>,
    /// Lines it is scrolled by (j/k).
    pub nginx_scroll: u16,
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
            paused_new: 0,
            log_rate: 0,
            health: None,
            health_running: false,
            stats: None,
            log_search: None,
            log_query: String::new(),
            log_match: 0,
            wrap: false,
            timestamps: true,
            service_filter: None,
            credentials: None,
            netbird: super::netbird::NetBirdView::default(),
            nginx_open: false,
            finished: None,
            nginx_scroll: 0,
        }
    }
}

impl DetailState {
    /// The log lines shown (after the service filter), oldest first.
    pub fn visible_logs(&self) -> Vec<&LogLine> {
        self.logs.lines(self.service_filter.as_deref())
    }

    /// Positions in [`DetailState::visible_logs`] of lines matching the search (case-insensitive).
    pub fn log_matches(&self) -> Vec<usize> {
        if self.log_query.is_empty() {
            return Vec::new();
        }
        let q = self.log_query.to_lowercase();
        self.visible_logs()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.text.to_lowercase().contains(&q))
            .map(|(i, _)| i)
            .collect()
    }

    /// Jumps to the next (`+1`) or previous (`-1`) match, scrolling it to the bottom line.
    pub fn jump(&mut self, dir: isize) {
        let matches = self.log_matches();
        if matches.is_empty() {
            return;
        }
        let n = matches.len() as isize;
        // From following (at the bottom), "previous" is the newest match.
        self.log_match =
            if self.follow { (n - 1) as usize } else { (self.log_match as isize + dir).rem_euclid(n) as usize };
        self.follow = false;
        let total = self.visible_logs().len();
        self.log_scroll = total - 1 - matches[self.log_match];
    }

    /// Cycles the service filter through the services seen in the buffer.
    pub fn cycle_service(&mut self) {
        let services: Vec<&str> = self.logs.services().collect();
        self.service_filter = match &self.service_filter {
            None => services.first().map(|s| (*s).to_string()),
            Some(cur) => services.iter().skip_while(|s| *s != cur).nth(1).map(|s| (*s).to_string()),
        };
        self.log_scroll = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_frames_never_come_faster_as_lines_come_faster_and_a_flood_is_at_most_one_a_second() {
        let frames: Vec<_> = [0, 5, 20, 21, 150, 200, 201, 1999, 2000, 2001, 5000, u32::MAX].map(log_frame).into();
        assert!(frames.windows(2).all(|w| w[0] <= w[1]), "{frames:?}");
        assert!(log_frame(5).as_millis() <= 250, "a few lines a second are read as they come");
        assert!(log_frame(LOG_FLOOD + 1).as_millis() >= 1000);
    }

    #[test]
    fn the_log_buffer_is_bounded_and_counts_drops() {
        let mut b = LogBuffer::default();
        let line = |i: usize| LogLine { service: "server".into(), timestamp: None, text: format!("line {i}") };
        b.extend((0..LOG_CAPACITY + 500).map(line).collect());
        assert_eq!(b.len(), LOG_CAPACITY);
        assert_eq!(b.dropped, 500);
        assert_eq!(b.lines(None)[0].text, "line 500");
        // A quiet service keeps its lines however chatty another is.
        b.extend(vec![LogLine { service: "dashboard".into(), timestamp: None, text: "GET /".into() }]);
        b.extend((0..3 * LOG_CAPACITY).map(line).collect());
        assert_eq!(b.lines(Some("dashboard")).len(), 1);
        assert_eq!(b.len(), LOG_CAPACITY + 1);
        let all = b.lines(None);
        assert_eq!(all[0].text, "GET /", "the oldest line kept, in arrival order");
        assert_eq!(all.last().unwrap().text, format!("line {}", 3 * LOG_CAPACITY - 1));
    }

    #[test]
    fn search_jumps_between_matches_and_services_filter() {
        let mut d = DetailState::new(1, "acme".into());
        let l = |svc: &str, text: &str| LogLine { service: svc.into(), timestamp: None, text: text.into() };
        d.logs.extend(vec![
            l("server", "relay up"),
            l("dashboard", "GET /"),
            l("server", "RELAY peer"),
            l("server", "other"),
        ]);
        d.log_query = "relay".into();
        assert_eq!(d.log_matches(), [0, 2]);
        d.jump(-1);
        assert_eq!((d.follow, d.log_scroll), (false, 1), "newest match at the bottom");
        d.jump(-1);
        assert_eq!(d.log_scroll, 3);
        d.cycle_service();
        assert_eq!(d.service_filter.as_deref(), Some("dashboard"));
        assert_eq!(d.visible_logs().len(), 1);
        d.cycle_service();
        d.cycle_service();
        assert_eq!(d.service_filter, None, "after the last service: all again");
    }

    #[test]
    fn tabs_wrap() {
        assert_eq!(Tab::Info.step(-1), Tab::NetBird);
        assert_eq!(Tab::NetBird.step(1), Tab::Info);
    }
}
