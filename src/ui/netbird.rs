//! The NetBird tab: the section bar, a secret shown once, the list with as many columns as
//! fit, and the prompt, form or question the tab has open.

use crate::domain::sanitize::terminal_safe;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table, Wrap};

use super::fit;
use super::theme::Theme;
use crate::app::netbird::{KeyForm, NetBirdView, Secret, Section};
use crate::domain::minute_or_never;
use crate::domain::netbird::AdminAnswer;

/// Draws the tab into `area`.
pub fn render(v: &NetBirdView, keys: &crate::app::keymap::Keymap, t: &Theme, frame: &mut Frame, area: Rect) {
    let secret_rows = if v.secret.is_some() { 5 } else { 0 };
    let bottom_rows = if v.key_form.is_some() {
        9
    } else if v.prompt.is_some() || v.confirm.is_some() {
        3
    } else {
        0
    };
    let [bar, secret, list, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(secret_rows),
        Constraint::Min(3),
        Constraint::Length(bottom_rows),
    ])
    .areas(area);
    frame.render_widget(section_bar(v, t, usize::from(bar.width)), bar);
    if let Some(s) = &v.secret {
        let copy_key = keys.label(crate::app::keymap::Mode::NetBird, &crate::app::Action::CopySecret).unwrap_or("—");
        secret_box(s, copy_key, t, frame, secret);
    }
    let new_key =
        keys.label(crate::app::keymap::Mode::NetBird, &crate::app::Action::NetBird(crate::app::netbird::Key::New));
    table(v, new_key, t, frame, list);
    if let Some(f) = &v.key_form {
        key_form(f, t, frame, bottom);
    } else if let Some(p) = &v.prompt {
        // A PIN or password is drawn as dots, like every secret typed into nbmsp.
        let hidden = matches!(
            p.purpose,
            crate::app::netbird::Purpose::ServiceSecret(_) | crate::app::netbird::Purpose::IdpSecret(_)
        );
        let text = super::field(&p.text, true, hidden, usize::from(area.width.saturating_sub(4)));
        let mut spans = vec![Span::raw(" "), Span::raw(text)];
        if let Some(why) = &v.prompt_error {
            spans.push(Span::styled(format!("  ✗ {why}"), t.error()));
        }
        let line = Line::from(spans);
        let title = format!(" {} (Enter save · Esc cancel) ", p.purpose.label());
        frame.render_widget(
            Paragraph::new(line).block(Block::bordered().title(fit(&title, usize::from(area.width)))),
            bottom,
        );
    } else if let Some((question, _)) = &v.confirm {
        let line = Line::styled(format!(" {question}  y yes · n no"), t.warn());
        frame.render_widget(Paragraph::new(line).block(Block::bordered()), bottom);
    }
}

/// The lists' names, the current one marked. Where they do not all fit, a window of them
/// around the current one, with `…` where names are left out (← and → still step through all).
fn section_bar(v: &NetBirdView, t: &Theme, width: usize) -> Paragraph<'static> {
    let mut extra = Vec::new();
    if v.busy {
        extra.push(Span::styled("asking NetBird…", t.warn()));
    }
    if let Some(q) = &v.search {
        extra.push(Span::raw(format!(" /{}", super::field(q, true, false, 30))));
    } else if !v.query.is_empty() {
        extra.push(Span::raw(format!(" /{} (Esc clears)", v.query)));
    }
    let cost = |s: &Section| s.title().chars().count() + 2;
    let at = Section::ALL.iter().position(|s| *s == v.section).unwrap_or(0);
    // Arrows and both ellipses take 7 columns; what a search or "asking" needs comes first.
    let extra_width: usize = extra.iter().map(|s| s.content.chars().count()).sum();
    let budget = width.saturating_sub(7 + extra_width);
    let (mut from, mut to) = (at, at + 1);
    let mut used = cost(&Section::ALL[at]);
    loop {
        let grew_right = to < Section::ALL.len() && used + cost(&Section::ALL[to]) <= budget;
        if grew_right {
            used += cost(&Section::ALL[to]);
            to += 1;
        }
        let grew_left = from > 0 && used + cost(&Section::ALL[from - 1]) <= budget;
        if grew_left {
            from -= 1;
            used += cost(&Section::ALL[from]);
        }
        if !grew_left && !grew_right {
            break;
        }
    }
    let mut spans = vec![Span::styled(" ←", t.dim())];
    if from > 0 {
        spans.push(Span::styled("…", t.dim()));
    }
    for s in &Section::ALL[from..to] {
        let label = format!(" {} ", s.title());
        spans.push(if *s == v.section { Span::styled(label, t.selected()) } else { Span::raw(label) });
    }
    if to < Section::ALL.len() {
        spans.push(Span::styled("…", t.dim()));
    }
    spans.push(Span::styled("→ ", t.dim()));
    spans.extend(extra);
    Paragraph::new(Line::from(spans))
}

fn secret_box(s: &Secret, copy_key: &str, t: &Theme, frame: &mut Frame, area: Rect) {
    let (title, lines) = match s {
        Secret::Key(k) => (
            format!(
                " Setup key '{}' — shown only now · {} copy the line · Esc hide ",
                terminal_safe(&k.key.name),
                copy_key
            ),
            vec![
                Line::from(vec![Span::styled(" key  ", t.dim()), Span::styled(terminal_safe(&k.secret), t.bold())]),
                Line::from(vec![Span::styled(" run  ", t.dim()), Span::raw(terminal_safe(&k.command))]),
            ],
        ),
        Secret::User(u) => (
            format!(" NetBird user '{}' created · Esc hide ", terminal_safe(&u.user.name)),
            vec![match &u.password {
                Some(p) => Line::from(vec![
                    Span::styled(" password  ", t.dim()),
                    Span::styled(terminal_safe(p), t.bold()),
                    Span::styled("  (shown only now)", t.dim()),
                ]),
                None => Line::styled(" a service user: give it an access token in NetBird's dashboard", t.dim()),
            }],
        ),
    };
    let title = fit(&title, usize::from(area.width.saturating_sub(2)));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().border_style(t.ok()).title(title)),
        area,
    );
}

/// Header and cells of the current list, columns in priority order.
fn columns(v: &NetBirdView) -> (Vec<(&'static str, u16)>, Vec<Vec<String>>) {
    let shown = v.shown();
    let pick = |len: usize| shown.iter().copied().filter(move |i| *i < len);
    match &v.list {
        Some(Ok(AdminAnswer::Peers(p))) => (
            vec![
                ("Name", 16),
                ("IP", 15),
                ("State", 18),
                ("OS", 8),
                ("Version", 8),
                ("Groups", 14),
                ("Login exp.", 10),
            ],
            pick(p.len())
                .map(|i| &p[i])
                .map(|p| {
                    // Waiting for approval matters more than when it was last seen.
                    let state = if p.approval_required {
                        "⚠ needs approval".to_string()
                    } else if p.connected {
                        "● online".to_string()
                    } else {
                        format!("○ {}", minute_or_never(p.last_seen))
                    };
                    let exp = if !p.added_with_sso {
                        "—".to_string()
                    } else if p.login_expiration_enabled {
                        "on".into()
                    } else {
                        "off".into()
                    };
                    vec![p.name.clone(), p.ip.clone(), state, p.os.clone(), p.version.clone(), p.groups.join(","), exp]
                })
                .collect(),
        ),
        Some(Ok(AdminAnswer::Keys(k))) => (
            vec![
                ("Name", 16),
                ("Type", 9),
                ("State", 8),
                ("Used", 6),
                ("Expires", 10),
                ("Groups", 14),
                ("Ephemeral", 9),
            ],
            pick(k.len())
                .map(|i| &k[i])
                .map(|k| {
                    vec![
                        k.name.clone(),
                        k.kind.clone(),
                        k.state.clone(),
                        k.usage(),
                        k.expiry(),
                        k.auto_groups.join(","),
                        if k.ephemeral { "yes".into() } else { "no".into() },
                    ]
                })
                .collect(),
        ),
        Some(Ok(AdminAnswer::Users(u))) => (
            vec![("Name", 14), ("Email", 22), ("Role", 13), ("Status", 8), ("Kind", 7), ("Last login", 16)],
            pick(u.len())
                .map(|i| &u[i])
                .map(|u| {
                    vec![
                        u.name.clone(),
                        if u.email.is_empty() { "—".into() } else { u.email.clone() },
                        u.role.clone(),
                        u.state(),
                        u.kind().into(),
                        minute_or_never(u.last_login),
                    ]
                })
                .collect(),
        ),
        Some(Ok(AdminAnswer::Groups(g))) => (
            vec![("Name", 24), ("Devices", 8)],
            pick(g.len()).map(|i| &g[i]).map(|g| vec![g.name.clone(), g.peers_count.to_string()]).collect(),
        ),
        Some(Ok(AdminAnswer::Services(s))) => (
            vec![("Name", 12), ("Status", 19), ("Domain", 28), ("Auth", 9), ("Enabled", 7), ("Target", 26)],
            pick(s.len())
                .map(|i| &s[i])
                .map(|s| {
                    // Trouble first, in words, where the eye is.
                    let status = match s.status.as_str() {
                        "active" => "● active".to_string(),
                        "pending" | "certificate_pending" => format!("◐ {}", s.status),
                        other => format!("✗ {other}"),
                    };
                    vec![
                        s.name.clone(),
                        status,
                        s.domain.clone(),
                        if s.auth.is_empty() { "none".into() } else { s.auth.join(",") },
                        if s.enabled { "on".into() } else { "off".into() },
                        s.target.clone(),
                    ]
                })
                .collect(),
        ),
        Some(Ok(AdminAnswer::Events(e))) => (
            vec![("Activity", 26), ("When (UTC)", 16), ("By", 24), ("Details", 30)],
            pick(e.len())
                .map(|i| &e[i])
                .map(|e| {
                    let when = e.time.map_or("—".to_string(), |t| {
                        format!(
                            "{:04}-{:02}-{:02} {:02}:{:02}",
                            t.year(),
                            u8::from(t.month()),
                            t.day(),
                            t.hour(),
                            t.minute()
                        )
                    });
                    let meta: Vec<String> = e.meta.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    vec![e.activity.clone(), when, e.initiator.clone(), meta.join(" ")]
                })
                .collect(),
        ),
        Some(Ok(AdminAnswer::Postures(p))) => (
            vec![("Name", 24), ("Requires", 50)],
            pick(p.len()).map(|i| &p[i]).map(|p| vec![p.name.clone(), p.checks.join("; ")]).collect(),
        ),
        Some(Ok(AdminAnswer::Nameservers(n))) => (
            vec![("Name", 16), ("Resolvers", 26), ("For", 24), ("Enabled", 7)],
            pick(n.len())
                .map(|i| &n[i])
                .map(|n| {
                    let scope = if n.primary { "every name".to_string() } else { n.domains.join(", ") };
                    vec![n.name.clone(), n.servers.join(", "), scope, if n.enabled { "on" } else { "off" }.into()]
                })
                .collect(),
        ),
        Some(Ok(AdminAnswer::Idps(d))) => (
            vec![("Name", 18), ("Type", 10), ("Issuer", 34), ("Client id", 18)],
            pick(d.len())
                .map(|i| &d[i])
                .map(|d| vec![d.name.clone(), d.kind.clone(), d.issuer.clone(), d.client_id.clone()])
                .collect(),
        ),
        Some(Ok(AdminAnswer::Routes(r))) => (
            vec![("Network id", 16), ("Routes", 22), ("Via", 16), ("For", 16), ("Metric", 6)],
            pick(r.len())
                .map(|i| &r[i])
                .map(|r| {
                    let what = if r.domains.is_empty() { r.network.clone() } else { r.domains.join(",") };
                    let via = if r.peer.is_empty() { r.peer_groups.join(",") } else { r.peer.clone() };
                    let id = if r.enabled { r.network_id.clone() } else { format!("{} (off)", r.network_id) };
                    vec![id, what, via, r.groups.join(","), r.metric.to_string()]
                })
                .collect(),
        ),
        Some(Ok(AdminAnswer::Networks(n))) => (
            vec![("Name", 14), ("Routed by", 18), ("Resources", 40)],
            pick(n.len())
                .map(|i| &n[i])
                .map(|n| {
                    // A network no device routes reaches nothing: said where the eye is.
                    let via: Vec<String> = n
                        .routers
                        .iter()
                        .map(|r| if r.peer.is_empty() { r.peer_groups.join(",") } else { r.peer.clone() })
                        .collect();
                    let res: Vec<String> = n.resources.iter().map(|r| format!("{} {}", r.name, r.address)).collect();
                    vec![
                        n.name.clone(),
                        if via.is_empty() { "⚠ no router".into() } else { via.join(", ") },
                        if res.is_empty() { "—".into() } else { res.join(", ") },
                    ]
                })
                .collect(),
        ),
        Some(Ok(AdminAnswer::Policies(p))) => (
            vec![("Name", 14), ("State", 13), ("From → to", 28), ("What", 16)],
            pick(p.len())
                .map(|i| &p[i])
                .map(|p| {
                    // One line per policy: its first rule, and how many more there are.
                    let first = p.rules.first();
                    let arrow = |r: &crate::domain::netbird::PolicyRule| if r.bidirectional { "↔" } else { "→" };
                    let more = if p.rules.len() > 1 { format!(" +{}", p.rules.len() - 1) } else { String::new() };
                    vec![
                        p.name.clone(),
                        match (p.enabled, p.all_to_all) {
                            (true, true) => "on ⚠ ALL→ALL".into(),
                            (true, false) => "on".into(),
                            (false, _) => "off".into(),
                        },
                        first.map_or(String::new(), |r| {
                            format!("{} {} {}{more}", r.sources.join(","), arrow(r), r.destinations.join(","))
                        }),
                        first.map_or(String::new(), |r| {
                            let ports =
                                if r.ports.is_empty() { String::new() } else { format!(":{}", r.ports.join(",")) };
                            format!("{} {}{ports}", r.action, r.protocol)
                        }),
                    ]
                })
                .collect(),
        ),
        _ => (Vec::new(), Vec::new()),
    }
}

fn table(v: &NetBirdView, new_key: Option<&str>, t: &Theme, frame: &mut Frame, area: Rect) {
    let title = format!(" {} ", v.section.title());
    let block = Block::bordered().title(Line::styled(title, t.bold()));
    let message = match &v.list {
        None => Some((" loading…".to_string(), t.dim())),
        Some(Err(e)) => Some((format!(" ✗ {e}"), t.error())),
        Some(Ok(_)) if v.rows().is_empty() && !v.query.is_empty() => {
            Some((" nothing matches the search (Esc clears it)".into(), t.dim()))
        }
        Some(Ok(_)) if v.rows().is_empty() => Some((empty_hint(v.section, new_key), t.dim())),
        Some(Ok(_)) => None,
    };
    if let Some((text, style)) = message {
        frame.render_widget(Paragraph::new(Line::styled(text, style)).wrap(Wrap { trim: false }).block(block), area);
        return;
    }
    let (cols, rows) = columns(v);
    // Keep columns by priority while they fit; the first takes what is left.
    let inner = area.width.saturating_sub(2);
    let mut used = 0;
    let mut keep = 0;
    for (_, w) in &cols {
        if used + w + 1 > inner && keep > 0 {
            break;
        }
        used += w + 1;
        keep += 1;
    }
    let extra = inner.saturating_sub(used);
    let widths: Vec<u16> =
        cols.iter().take(keep).enumerate().map(|(i, (_, w))| if i == 0 { w + extra } else { *w }).collect();
    let header = Row::new(cols.iter().take(keep).map(|(h, _)| *h)).style(t.bold());
    let height = usize::from(area.height.saturating_sub(3)).max(1);
    let offset = v.selected.saturating_sub(height - 1);
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, cells)| {
            let cells: Vec<String> =
                cells.iter().zip(&widths).map(|(c, w)| fit(&terminal_safe(c), usize::from(*w))).collect();
            let row = Row::new(cells);
            if i == v.selected { row.style(t.selected()) } else { row }
        })
        .collect();
    let count = format!(" {} of {} ", rows.len().min(v.selected + 1), rows.len());
    let block = block.title_bottom(Line::from(count).right_aligned());
    let constraints: Vec<Constraint> = widths.iter().map(|w| Constraint::Length(*w)).collect();
    frame.render_widget(Table::new(body, constraints).header(header).block(block), area);
}

/// What an empty list says, naming the key that creates one as the keymap has it.
fn empty_hint(s: Section, new_key: Option<&str>) -> String {
    let create = |what: &str| new_key.map_or(format!(" no {what}"), |k| format!(" no {what}: {k} creates one"));
    match s {
        Section::Peers => match new_key {
            Some(k) => format!(" no devices yet: create a setup key (→ Setup keys, {k}) and run its `netbird up` line"),
            None => " no devices yet: create a setup key and run its `netbird up` line".into(),
        },
        Section::Keys => create("setup keys"),
        Section::Users => " no users".into(),
        Section::Groups => create("groups"),
        Section::Networks => create("networks: devices reach only each other"),
        Section::Routes => create("routes (networks are NetBird's newer way)"),
        Section::Services => create("services (publishing needs the reverse proxy on)"),
        Section::Policies => " no policies: no device reaches any other".into(),
        Section::Posture => create("posture checks (any device is let through)"),
        Section::Dns => create("nameserver groups (devices keep their own resolvers)"),
        Section::Idps => create("identity providers (staff sign in with NetBird's own accounts)"),
        Section::Events => " no events recorded".into(),
    }
}

fn key_form(f: &KeyForm, t: &Theme, frame: &mut Frame, area: Rect) {
    frame.render_widget(Clear, area);
    let check = |b: bool| if b { "[x]" } else { "[ ]" }.to_string();
    let text = |i: usize, x: &crate::app::text::Field| super::field(x, i == f.focus, false, 40);
    let values = [
        text(0, &f.name),
        check(f.reusable),
        text(2, &f.days),
        if f.reusable { text(3, &f.limit) } else { "1 (one-off)".into() },
        text(4, &f.groups),
        check(f.ephemeral),
    ];
    let mut lines: Vec<Line> = KeyForm::LABELS
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (label, value))| {
            let focus = i == f.focus;
            let style = if focus { t.selected() } else { t.dim() };
            Line::from(vec![Span::styled(format!(" {label:<16}"), style), Span::raw(value)])
        })
        .collect();
    if let Some(e) = &f.error {
        lines.push(Line::styled(format!(" ✗ {e}"), t.error()));
    }
    let title = " New setup key · Tab next · Space toggle · Enter create · Esc cancel ";
    let [form] = Layout::vertical([Constraint::Min(1)]).areas(area);
    frame
        .render_widget(Paragraph::new(lines).block(Block::bordered().title(fit(title, usize::from(area.width)))), form);
}
