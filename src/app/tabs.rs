//! Moving between a customer's tabs: what each tab needs when it is shown, and what stops when
//! it is left.

use super::Command;
use super::detail::{DetailState, Tab};

/// Shows `tab`: logs followed only while they are shown, a health check run on first sight,
/// the NetBird tab's list asked for.
pub(super) fn switch_tab(d: &mut DetailState, tab: Tab) -> Vec<Command> {
    let from = d.tab;
    d.tab = tab;
    // The server block belongs to the Deployment tab; elsewhere Esc must mean back.
    d.nginx_open &= tab == Tab::Deployment;
    let mut cmds = Vec::new();
    if from == Tab::Logs && tab != Tab::Logs {
        cmds.push(Command::StopLogs);
    }
    if tab == Tab::Logs && from != Tab::Logs {
        cmds.push(Command::FollowLogs { customer_id: d.customer_id });
    }
    if tab == Tab::Health && d.health.is_none() && !d.health_running {
        d.health_running = true;
        cmds.push(Command::CheckHealth { customer_id: d.customer_id });
    }
    if tab == Tab::NetBird {
        cmds.extend(super::netbird_keys::opened(d));
    }
    cmds
}
