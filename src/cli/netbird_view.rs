//! How `nbmsp customer peers|keys|users|groups|services|policies|…` print NetBird's answers:
//! tables for lists, one line for a change; every text from NetBird made terminal-safe.

use super::output;
use crate::domain::minute_or_never;
use crate::domain::netbird::AdminAnswer;
use crate::domain::sanitize::terminal_safe;

/// Prints what NetBird answered, as a table or a line.
pub(super) fn print_answer(answer: &AdminAnswer) {
    if super::networks::print(answer) || super::routes::print(answer) {
        return;
    }
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    match answer {
        AdminAnswer::Peers(peers) => {
            let rows: Vec<Vec<String>> = peers
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        p.ip.clone(),
                        if p.connected { "online".into() } else { "offline".into() },
                        minute_or_never(p.last_seen),
                        p.os.clone(),
                        p.version.clone(),
                        p.groups.join(","),
                        if p.approval_required { "waiting".into() } else { "approved".into() },
                        yes(p.login_expiration_enabled),
                        p.id.clone(),
                    ]
                })
                .collect();
            let header =
                ["NAME", "IP", "STATE", "LAST SEEN", "OS", "VERSION", "GROUPS", "APPROVAL", "LOGIN EXPIRY", "ID"];
            println!("{}", output::table(&header, &rows));
        }
        AdminAnswer::Keys(keys) => {
            let rows: Vec<Vec<String>> = keys
                .iter()
                .map(|k| {
                    vec![
                        k.name.clone(),
                        k.kind.clone(),
                        k.state.clone(),
                        k.usage(),
                        k.expiry(),
                        k.auto_groups.join(","),
                        yes(k.ephemeral),
                        k.id.clone(),
                    ]
                })
                .collect();
            let header = ["NAME", "TYPE", "STATE", "USED", "EXPIRES", "GROUPS", "EPHEMERAL", "ID"];
            println!("{}", output::table(&header, &rows));
        }
        AdminAnswer::Users(users) => {
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    vec![
                        u.name.clone(),
                        u.email.clone(),
                        u.role.clone(),
                        u.state(),
                        u.kind().into(),
                        minute_or_never(u.last_login),
                        u.id.clone(),
                    ]
                })
                .collect();
            println!("{}", output::table(&["NAME", "EMAIL", "ROLE", "STATUS", "KIND", "LAST LOGIN", "ID"], &rows));
        }
        AdminAnswer::Services(services) => {
            let rows: Vec<Vec<String>> = services
                .iter()
                .map(|s| {
                    vec![
                        terminal_safe(&s.name),
                        terminal_safe(&s.domain),
                        terminal_safe(&s.target),
                        if s.auth.is_empty() { "none".into() } else { s.auth.join(",") },
                        if s.enabled { "on".into() } else { "off".into() },
                        terminal_safe(&s.status),
                    ]
                })
                .collect();
            println!("{}", output::table(&["NAME", "DOMAIN", "TARGET", "AUTH", "ENABLED", "STATUS"], &rows));
        }
        AdminAnswer::Groups(groups) => {
            let rows: Vec<Vec<String>> =
                groups.iter().map(|g| vec![g.name.clone(), g.peers_count.to_string(), g.id.clone()]).collect();
            println!("{}", output::table(&["NAME", "DEVICES", "ID"], &rows));
        }
        AdminAnswer::Postures(checks) => {
            let rows: Vec<Vec<String>> =
                checks.iter().map(|p| vec![p.name.clone(), p.checks.join("; "), p.id.clone()]).collect();
            println!("{}", output::table(&["NAME", "REQUIRES", "ID"], &rows));
        }
        AdminAnswer::Nameservers(groups) => {
            let rows: Vec<Vec<String>> = groups
                .iter()
                .map(|g| {
                    vec![
                        g.name.clone(),
                        g.servers.join(","),
                        if g.primary { "every name".into() } else { g.domains.join(",") },
                        if g.enabled { "on".into() } else { "off".into() },
                        g.groups.join(","),
                        g.id.clone(),
                    ]
                })
                .collect();
            println!("{}", output::table(&["NAME", "RESOLVERS", "FOR", "STATE", "GROUP IDS", "ID"], &rows));
        }
        AdminAnswer::Idps(idps) => {
            let rows: Vec<Vec<String>> = idps
                .iter()
                .map(|i| vec![i.name.clone(), i.kind.clone(), i.issuer.clone(), i.client_id.clone(), i.id.clone()])
                .collect();
            println!("{}", output::table(&["NAME", "TYPE", "ISSUER", "CLIENT ID", "ID"], &rows));
        }
        AdminAnswer::Events(events) => {
            let rows: Vec<Vec<String>> = events
                .iter()
                .map(|e| {
                    let meta: Vec<String> = e.meta.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    vec![
                        e.time.map_or("—".into(), crate::domain::fmt_time),
                        e.activity.clone(),
                        e.initiator.clone(),
                        e.target.clone(),
                        meta.join(" "),
                    ]
                })
                .collect();
            println!("{}", output::table(&["WHEN (UTC)", "ACTIVITY", "BY", "TARGET", "DETAILS"], &rows));
        }
        AdminAnswer::Policies(policies) => {
            let mut rows = Vec::new();
            for p in policies {
                for r in &p.rules {
                    let arrow = if r.bidirectional { "↔" } else { "→" };
                    let ports = if r.ports.is_empty() { String::new() } else { format!(":{}", r.ports.join(",")) };
                    rows.push(vec![
                        if p.all_to_all && r.is_all_to_all() { "ALL→ALL".into() } else { String::new() },
                        p.name.clone(),
                        if p.enabled && r.enabled { "on".into() } else { "off".into() },
                        format!("{} {arrow} {}", r.sources.join(","), r.destinations.join(",")),
                        format!("{} {}{ports}", r.action, r.protocol),
                        p.id.clone(),
                    ]);
                }
            }
            println!("{}", output::table(&["", "POLICY", "STATE", "FROM → TO", "WHAT", "ID"], &rows));
            if policies.iter().any(|p| p.all_to_all) {
                println!(
                    "ALL→ALL: every device of this customer can reach every other; `disable` it once narrower policies exist"
                );
            }
        }
        AdminAnswer::KeyCreated(k) => {
            println!(
                "setup key '{}' created ({}); its secret is shown only now:",
                terminal_safe(&k.key.name),
                terminal_safe(&k.key.kind)
            );
            println!("  {}", terminal_safe(&k.secret));
            println!("on the device:");
            println!("  {}", terminal_safe(&k.command));
        }
        AdminAnswer::UserCreated(u) => {
            println!(
                "NetBird user '{}' created with role {}",
                terminal_safe(&u.user.name),
                terminal_safe(&u.user.role)
            );
            if let Some(p) = &u.password {
                println!("password (shown only now; they change it at first login): {}", terminal_safe(p));
            }
        }
        AdminAnswer::Done(m) => println!("{}", terminal_safe(m)),
        // Printed by `networks::print` above.
        AdminAnswer::Networks(_) | AdminAnswer::DnsSettings(_) | AdminAnswer::Routes(_) => {}
    }
}
