//! The customers table: rows, incremental filter, status filter, sort, selection, scrolling.
//! Filtering keeps a lowercased haystack per row so a keystroke over 10,000 rows stays cheap.

use crate::domain::customer::CustomerStatus;
use crate::domain::fleet::CustomerRow;

/// Columns the table can be sorted by (`o` cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Name, A-Z.
    Name,
    /// Subdomain.
    Subdomain,
    /// Status (errors first).
    Status,
    /// UDP port.
    Port,
    /// Creation time, newest first.
    Created,
}

impl SortKey {
    /// The next key in the cycle.
    pub fn next(self) -> Self {
        match self {
            SortKey::Name => SortKey::Subdomain,
            SortKey::Subdomain => SortKey::Status,
            SortKey::Status => SortKey::Port,
            SortKey::Port => SortKey::Created,
            SortKey::Created => SortKey::Name,
        }
    }

    /// Label for the table title.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Subdomain => "subdomain",
            SortKey::Status => "status",
            SortKey::Port => "udp",
            SortKey::Created => "created",
        }
    }
}

/// The dashboard's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardState {
    /// Every customer, as loaded.
    pub rows: Vec<CustomerRow>,
    haystacks: Vec<String>,
    /// The incremental search text.
    pub filter: crate::app::text::Field,
    /// The search line has the keyboard.
    pub filtering: bool,
    /// Only this status.
    pub status_filter: Option<CustomerStatus>,
    /// Sort column.
    pub sort: Option<SortKey>,
    /// Indices into `rows` of what is shown, in order.
    pub visible: Vec<usize>,
    /// Position of the selection in `visible`.
    pub selected: usize,
    /// First visible row of the table (kept by `update`, read by the renderer).
    pub offset: usize,
    /// Rows have arrived at least once.
    pub loaded: bool,
    /// Customer ids marked for a bulk action (kept across reloads while the customer exists).
    pub marked: std::collections::BTreeSet<i64>,
}

impl DashboardState {
    /// Replaces the rows, keeping the selection on the same customer when it still exists.
    pub fn set_rows(&mut self, rows: Vec<CustomerRow>) {
        self.marked.retain(|id| rows.iter().any(|r| r.customer.id == *id));
        self.haystacks = rows
            .iter()
            .map(|r| {
                let c = &r.customer;
                format!(
                    "{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}",
                    c.name,
                    c.subdomain,
                    c.email,
                    c.company,
                    c.contract_id.as_deref().unwrap_or_default()
                )
                .to_lowercase()
            })
            .collect();
        let keep = self.selected_row().map(|r| r.customer.id);
        self.rows = rows;
        self.loaded = true;
        self.recompute_keeping(keep);
    }

    /// Re-applies filter and sort. The selection stays on the same customer wherever it moves
    /// (an action confirmed right after a re-sort must hit the customer that was marked).
    pub fn recompute(&mut self) {
        let keep = self.selected_row().map(|r| r.customer.id);
        self.recompute_keeping(keep);
    }

    fn recompute_keeping(&mut self, keep: Option<i64>) {
        let needle = self.filter.to_lowercase();
        let mut visible: Vec<usize> = (0..self.rows.len())
            .filter(|i| needle.is_empty() || self.haystacks[*i].contains(&needle))
            .filter(|i| self.status_filter.is_none_or(|s| same_card(self.rows[*i].customer.status, s)))
            .collect();
        let rows = &self.rows;
        match self.sort.unwrap_or(SortKey::Name) {
            // Rows arrive sorted by name already.
            SortKey::Name => {}
            SortKey::Subdomain => visible.sort_by(|a, b| rows[*a].customer.subdomain.cmp(&rows[*b].customer.subdomain)),
            SortKey::Status => visible.sort_by_key(|i| {
                // Trouble first.
                let rank = match rows[*i].customer.status {
                    CustomerStatus::Error => 0,
                    CustomerStatus::Degraded => 1,
                    CustomerStatus::Deploying => 2,
                    CustomerStatus::Stopped => 3,
                    CustomerStatus::Inactive => 4,
                    CustomerStatus::Active => 5,
                };
                (rank, rows[*i].customer.name.to_lowercase())
            }),
            SortKey::Port => visible.sort_by_key(|i| rows[*i].udp_port.unwrap_or(u16::MAX)),
            SortKey::Created => visible.sort_by(|a, b| rows[*b].customer.created_at.cmp(&rows[*a].customer.created_at)),
        }
        self.visible = visible;
        match keep.and_then(|id| self.visible.iter().position(|i| self.rows[*i].customer.id == id)) {
            Some(pos) => self.selected = pos,
            None => self.selected = self.selected.min(self.visible.len().saturating_sub(1)),
        }
    }

    /// Marks or unmarks the selected row.
    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected_row().map(|r| r.customer.id)
            && !self.marked.remove(&id)
        {
            self.marked.insert(id);
        }
    }

    /// Marks every row the filter shows, or unmarks them when all already are.
    pub fn toggle_mark_visible(&mut self) {
        let ids: Vec<i64> = self.visible.iter().map(|i| self.rows[*i].customer.id).collect();
        if ids.iter().all(|id| self.marked.contains(id)) {
            for id in ids {
                self.marked.remove(&id);
            }
        } else {
            self.marked.extend(ids);
        }
    }

    /// The marked customers as (id, subdomain), in table order.
    pub fn marked_rows(&self) -> Vec<(i64, String)> {
        self.rows
            .iter()
            .filter(|r| self.marked.contains(&r.customer.id))
            .map(|r| (r.customer.id, r.customer.subdomain.clone()))
            .collect()
    }

    /// The selected row.
    pub fn selected_row(&self) -> Option<&CustomerRow> {
        self.visible.get(self.selected).map(|i| &self.rows[*i])
    }

    /// Moves the selection by `delta` rows, clamped.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.visible.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// Keeps the selection inside a window of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(self.visible.len().saturating_sub(height));
    }

    /// Counts by status for the cards.
    pub fn counts(&self) -> StatusCounts {
        let n = |s| self.rows.iter().filter(|r| r.customer.status == s).count();
        StatusCounts {
            total: self.rows.len(),
            active: n(CustomerStatus::Active),
            degraded: n(CustomerStatus::Degraded),
            inactive: n(CustomerStatus::Inactive),
            stopped: n(CustomerStatus::Stopped),
            deploying: n(CustomerStatus::Deploying),
            error: n(CustomerStatus::Error),
        }
    }

    /// Devices used (last counts) and allowed, over all customers.
    pub fn devices(&self) -> (u64, i64) {
        let used = self.rows.iter().filter_map(|r| r.devices).map(u64::from).sum();
        let allowed = self.rows.iter().map(|r| r.customer.max_devices).sum();
        (used, allowed)
    }
}

/// Whether `status` belongs under the status filter `filter`: the same status. A stopped
/// customer is its own card and filter step, as it is `--status stopped` in the CLI (#29: the
/// Inactive card counted it while `--status inactive` did not).
fn same_card(status: CustomerStatus, filter: CustomerStatus) -> bool {
    status == filter
}

/// Customers per status, as the cards show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusCounts {
    /// All customers.
    pub total: usize,
    /// Active.
    pub active: usize,
    /// Degraded.
    pub degraded: usize,
    /// Not deployed yet.
    pub inactive: usize,
    /// Stopped on purpose.
    pub stopped: usize,
    /// An operation runs.
    pub deploying: usize,
    /// Error.
    pub error: usize,
}
