//! Choosing a customer's public UDP port. Pure: the caller says which ports are taken.

use std::collections::BTreeSet;

/// Why no port could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Every port of the configured range is in the database or bound on the host.
    #[error(
        "no free UDP port in {first}-{last}: all {count} are taken by customers or by other programs on this host; raise the setting relay_port_count or move relay_base_port"
    )]
    RangeFull {
        /// First port of the range.
        first: u16,
        /// Last port of the range.
        last: u16,
        /// Size of the range.
        count: u32,
    },
}

/// The lowest port in `[base, base + count)` that is neither in `taken` nor refused by
/// `is_free_on_host` (which the engine implements by trying to bind it).
pub fn choose(
    base: u16,
    count: u16,
    taken: &BTreeSet<u16>,
    mut is_free_on_host: impl FnMut(u16) -> bool,
) -> Result<u16, PortError> {
    let last = base.saturating_add(count.saturating_sub(1));
    (base..=last).filter(|p| !taken.contains(p)).find(|p| is_free_on_host(*p)).ok_or(PortError::RangeFull {
        first: base,
        last,
        count: u32::from(count),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_taken_and_host_bound_ports() {
        let taken: BTreeSet<u16> = [3478, 3479].into();
        assert_eq!(choose(3478, 10, &taken, |p| p != 3480), Ok(3481));
    }

    #[test]
    fn full_range_names_the_setting() {
        let taken: BTreeSet<u16> = (3478..3480).collect();
        let err = choose(3478, 2, &taken, |_| true).unwrap_err();
        assert!(err.to_string().contains("relay_port_count"), "{err}");
        assert!(err.to_string().contains("3478-3479"), "{err}");
    }

    #[test]
    fn range_at_the_top_does_not_overflow() {
        assert_eq!(choose(65_535, 1, &BTreeSet::new(), |_| true), Ok(65_535));
    }
}
