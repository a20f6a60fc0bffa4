//! How many customers a bulk action works on at once. A deploy mostly waits for NetBird to
//! come up (seconds of an idle engine), so a fixed 4 left the host idle through an import of a
//! hundred; the window instead follows what the engines take: it starts at
//! `monitor.concurrency`, grows by one with each customer that succeeds, up to a ceiling from
//! the engines' CPUs, and halves when one fails (a slow or refusing engine shows up as
//! failures first). A number the operator gave (`--parallel`) is kept as given.

/// Customers in flight per CPU of the engines at most: the CPU a deploy needs is a fraction of
/// its time (it waits for NetBird's start).
pub const PER_CPU: usize = 8;

/// The most ever in flight, whatever the engines report.
pub const MAX: usize = 64;

/// The bulk action's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    now: usize,
    ceiling: usize,
    adaptive: bool,
}

impl Window {
    /// A window that stays at `n` (the operator's `--parallel`).
    pub fn fixed(n: usize) -> Self {
        let n = n.clamp(1, MAX);
        Self { now: n, ceiling: n, adaptive: false }
    }

    /// A window starting at `start` that may grow to [`PER_CPU`] per CPU of the engines the
    /// customers are on (`cpus`, 0 when no engine said), never below `start`.
    pub fn adaptive(start: usize, cpus: usize) -> Self {
        let start = start.clamp(1, MAX);
        Self { now: start, ceiling: cpus.saturating_mul(PER_CPU).clamp(start, MAX), adaptive: true }
    }

    /// How many may be in flight now.
    pub fn size(&self) -> usize {
        self.now
    }

    /// One customer succeeded: one more may run, up to the ceiling.
    pub fn succeeded(&mut self) {
        self.now = (self.now + 1).min(self.ceiling);
    }

    /// One customer failed: half as many run from now on (at least one).
    pub fn failed(&mut self) {
        if self.adaptive {
            self.now = (self.now / 2).max(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_grows_with_successes_to_the_engines_ceiling_and_halves_on_a_failure() {
        let mut w = Window::adaptive(4, 2);
        for _ in 0..30 {
            w.succeeded();
        }
        assert_eq!(w.size(), 16, "8 per CPU on a 2-core engine");
        w.failed();
        assert_eq!(w.size(), 8);
        for _ in 0..10 {
            w.failed();
        }
        assert_eq!(w.size(), 1, "never below one");
        w.succeeded();
        assert_eq!(w.size(), 2);
    }

    #[test]
    fn an_engine_that_said_nothing_keeps_the_setting_and_a_given_number_stays() {
        let mut unknown = Window::adaptive(4, 0);
        unknown.succeeded();
        assert_eq!(unknown.size(), 4);
        let mut given = Window::fixed(3);
        given.succeeded();
        given.failed();
        assert_eq!(given.size(), 3);
        assert_eq!(Window::adaptive(500, 1000).size(), MAX);
    }
}
