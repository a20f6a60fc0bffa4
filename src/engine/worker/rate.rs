//! How many log lines per second the containers write, from the batches the log stream sends:
//! shown in the Logs tab, sent alone only when it changed (an idle stream sends nothing).

use std::time::{Duration, Instant};

/// Lines per second over the last [`LineRate::WINDOW`], from the batches sent.
#[derive(Default)]
pub struct LineRate {
    batches: std::collections::VecDeque<(Instant, usize)>,
    shown: u32,
    last: u32,
}

impl LineRate {
    const WINDOW: Duration = Duration::from_secs(5);

    /// Records `n` lines at `now`; returns the rate.
    pub fn add(&mut self, now: Instant, n: usize) -> u32 {
        self.batches.push_back((now, n));
        while self.batches.front().is_some_and(|(t, _)| now.duration_since(*t) > Self::WINDOW) {
            self.batches.pop_front();
        }
        let lines: usize = self.batches.iter().map(|(_, n)| n).sum();
        self.last = u32::try_from(lines).unwrap_or(u32::MAX) / Self::WINDOW.as_secs() as u32;
        self.last
    }

    /// Whether the rate differs from the one last reported (then it counts as reported).
    pub fn changed(&mut self) -> bool {
        let changed = self.last != self.shown;
        self.shown = self.last;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_lines_over_the_window_and_changes_are_reported_once() {
        let t0 = Instant::now();
        let mut r = LineRate::default();
        assert_eq!(r.add(t0, 50), 10, "50 lines over a 5 s window");
        assert!(r.changed());
        assert!(!r.changed(), "reported once");
        assert_eq!(r.add(t0 + Duration::from_secs(1), 50), 20);
        // Six seconds on, the first batches have left the window.
        assert_eq!(r.add(t0 + Duration::from_secs(7), 0), 0);
        assert!(r.changed());
    }
}
