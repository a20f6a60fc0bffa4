//! The customer detail view: a title line, the tabs, and the tab's content.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Gauge, Paragraph, Row, Table, Wrap};

use super::fit;
use super::theme::Theme;
use crate::app::detail::{DetailState, LOG_CAPACITY, Tab};
use crate::app::keymap::Mode;
use crate::app::{Action, AppState, Operation};
use crate::engine::ops::lifecycle::Step;
use crate::engine::worker::Detail;

/// Draws the detail view of the open customer into `area`.
pub fn render(state: &AppState, t: &Theme, frame: &mut Frame, area: Rect) {
    let Some(d) = state.detail() else { return };
    let [title, tabs, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Min(1)]).areas(area);
    frame.render_widget(title_line(d, t), title);
    let mut spans = Vec::new();
    for tab in Tab::ALL {
        let label = format!(" [{} {}] ", tab.index() + 1, tab.title());
        spans.push(if tab == d.tab { Span::styled(label, t.selected()) } else { Span::raw(label) });
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), tabs);
    let Some(data) = &d.data else {
        frame.render_widget(Paragraph::new(Line::styled(" loading…", t.dim())).block(Block::bordered()), body);
        return;
    };
    match d.tab {
        Tab::Info => info(data, t, frame, body),
        Tab::Deployment => deployment(state, d, data, t, frame, body),
        Tab::Logs => logs(state, d, t, frame, body),
        Tab::Health => health(state, d, data, t, frame, body),
        Tab::NetBird => super::netbird::render(&d.netbird, &state.keys, t, frame, body),
    }
}

fn title_line(d: &DetailState, t: &Theme) -> Paragraph<'static> {
    let Some(data) = &d.data else { return Paragraph::new(Line::styled(format!(" {}", d.subdomain), t.bold())) };
    let c = &data.customer;
    let (marker, style) = t.status(c.status);
    let port = data.deployment.as_ref().and_then(|x| x.relay_udp_port).map_or("—".to_string(), |p| p.to_string());
    Paragraph::new(Line::from(vec![
        Span::styled(format!(" {}", crate::domain::sanitize::terminal_safe(&c.name)), t.bold()),
        Span::raw(format!(" · {} · ", data.fqdn)),
        Span::styled(format!("{marker} {}", c.status), style),
        Span::raw(format!(" · {} · UDP {port}", c.layout)),
    ]))
}

/// A hint naming the detail view's key for `action` as the keymap has it (keys.toml may have
/// moved it): `text` with the key, or `without` when no key does it.
fn hint(state: &AppState, action: Action, text: impl FnOnce(&str) -> String, without: &str) -> String {
    state.keys.label(Mode::Detail, &action).map_or_else(|| without.to_string(), text)
}

fn kv(key: &str, value: String, t: &Theme) -> Line<'static> {
    Line::from(vec![Span::styled(format!(" {key:<14}"), t.dim()), Span::raw(value)])
}

/// A stored reason in full and what to do about it when nbmsp knows, as (label, text, style).
fn reason_items(reason: &str, t: &Theme) -> Vec<(&'static str, String, ratatui::style::Style)> {
    let mut l = vec![("reason", crate::domain::sanitize::terminal_safe(reason), t.warn())];
    if let Some(fix) = crate::domain::advice::for_reason(reason) {
        l.push(("what to do", fix.to_string(), ratatui::style::Style::default()));
    }
    l
}

/// Width of the label column of key/value lines.
const LABEL: u16 = 15;

/// Rows the wrapped `items` take in a box `width` wide (for sizing it to its text): greedy
/// word wrap, as the paragraph does it.
fn item_rows(items: &[(&'static str, String, ratatui::style::Style)], width: u16) -> u16 {
    let w = usize::from(width.saturating_sub(2 + LABEL)).max(1);
    let rows: usize = items.iter().map(|(_, text, _)| word_wrap_rows(text, w)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

fn word_wrap_rows(text: &str, width: usize) -> usize {
    let (mut rows, mut used) = (1, 0);
    for word in text.split_whitespace() {
        let n = word.chars().count();
        if used > 0 && used + 1 + n > width {
            rows += 1;
            used = 0;
        }
        used += if used == 0 { n } else { n + 1 };
        while used > width {
            rows += 1;
            used -= width;
        }
    }
    rows
}

/// Draws `items` as label + text wrapped under itself (the label column stays clear).
fn wrapped_items(items: &[(&'static str, String, ratatui::style::Style)], t: &Theme, frame: &mut Frame, area: Rect) {
    let mut y = area.y;
    for (label, text, style) in items {
        if y >= area.y + area.height {
            break;
        }
        let rows = item_rows(&[(label, text.clone(), *style)], area.width + 2).min(area.y + area.height - y);
        let [key, value] =
            Layout::horizontal([Constraint::Length(LABEL), Constraint::Min(1)]).areas(Rect { y, height: rows, ..area });
        frame.render_widget(Paragraph::new(Span::styled(format!(" {label:<14}"), t.dim())), key);
        frame.render_widget(Paragraph::new(Span::styled(text.clone(), *style)).wrap(Wrap { trim: true }), value);
        y += rows;
    }
}

fn info(data: &Detail, t: &Theme, frame: &mut Frame, area: Rect) {
    let c = &data.customer;
    let dash = |s: &str| if s.is_empty() { "—".to_string() } else { s.to_string() };
    let mut lines = vec![
        kv("name", crate::domain::sanitize::terminal_safe(&c.name), t),
        kv("company", dash(&crate::domain::sanitize::terminal_safe(&c.company)), t),
        kv("subdomain", format!("{} → {}", c.subdomain, data.fqdn), t),
        kv("email", c.email.clone(), t),
        kv(
            "max devices",
            format!(
                "{} · SLA target {}",
                c.max_devices,
                c.sla_target.map_or("as sla.target".to_string(), |x| format!("{x} %"))
            ),
            t,
        ),
    ];
    // The references share one line: the tab stays within 24 rows whatever their number.
    let refs: Vec<String> = crate::domain::customer_fields::REF_FIELDS
        .iter()
        .map(|f| {
            let value = (f.get)(c).map_or("—".to_string(), crate::domain::sanitize::terminal_safe);
            format!("{} {value}", f.label.to_lowercase())
        })
        .collect();
    lines.push(kv("references", refs.join(" · "), t));
    lines.extend([
        kv("layout", format!("{} · reverse proxy {}", c.layout, if c.reverse_proxy { "on" } else { "off" }), t),
        kv("status", c.status.to_string(), t),
        kv("created", crate::domain::fmt_time(c.created_at), t),
    ]);
    if !c.notes.is_empty() {
        lines.push(kv("notes", c.notes.lines().next().unwrap_or("").to_string(), t));
    }
    let items = c.status_reason.as_deref().map(|r| reason_items(r, t)).unwrap_or_default();
    // The box grows with the reason (wrapped in full), leaving the audit log a few rows.
    let plain = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let height = (plain + item_rows(&items, area.width) + 2).max(11).min(area.height.saturating_sub(3));
    let [fields, log] = Layout::vertical([Constraint::Length(height), Constraint::Min(3)]).areas(area);
    let block = Block::bordered().title(" Info ");
    let inner = block.inner(fields);
    frame.render_widget(block, fields);
    let [top, rest] = Layout::vertical([Constraint::Length(plain), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), top);
    wrapped_items(&items, t, frame, rest);
    let rows = data.audit.iter().map(|e| {
        let mark = match e.status {
            crate::domain::audit::AuditStatus::Success => Span::styled("✓", t.ok()),
            crate::domain::audit::AuditStatus::Error => Span::styled("✗", t.error()),
            crate::domain::audit::AuditStatus::Info => Span::styled("·", t.dim()),
        };
        Row::new(vec![
            Cell::from(crate::domain::fmt_time(e.created_at)),
            Cell::from(mark),
            Cell::from(e.actor.clone()),
            Cell::from(e.action.clone()),
            Cell::from(e.message.clone()),
        ])
    });
    let widths = [
        Constraint::Length(20),
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Min(10),
    ];
    frame.render_widget(Table::new(rows, widths).block(Block::bordered().title(" Audit log ")), log);
}

fn deployment(state: &AppState, d: &DetailState, data: &Detail, t: &Theme, frame: &mut Frame, area: Rect) {
    if let Some(run) = state.running.get(&d.customer_id) {
        return progress(run, None, t, frame, area);
    }
    if let Some(f) = &d.finished {
        let creds = match (f.ok, f.run.op, state.keys.label(Mode::Detail, &Action::ShowCredentials)) {
            (true, crate::app::Operation::Deploy, Some(k)) => format!(" · {k} shows the owner's password"),
            _ => String::new(),
        };
        let end = (f.ok, format!("{}{creds}", f.outcome));
        return progress(&f.run, Some(end), t, frame, area);
    }
    if let (true, Some(own)) = (d.nginx_open, &data.own_proxy) {
        let keys = |a: Action| state.keys.label(Mode::Detail, &a).unwrap_or("—").to_string();
        let title = format!(
            " nginx server block · {} scroll · {} copies · {} closes ",
            keys(Action::Move(-1)),
            keys(Action::CopySetupUrl),
            keys(Action::Back)
        );
        let mut lines = vec![
            Line::styled(
                format!(
                    "# for {}: your nginx must join Docker network {} to reach the containers by name",
                    data.fqdn, own.network
                ),
                t.dim(),
            ),
            Line::raw(""),
        ];
        lines.extend(own.server_block.lines().map(|l| Line::raw(l.to_string())));
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((d.nginx_scroll, 0))
                .block(Block::bordered().title(fit(&title, usize::from(area.width.saturating_sub(2))))),
            area,
        );
        return;
    }
    let creds_height = if d.credentials.is_some() { 5 } else { 0 };
    let [top, creds, containers] =
        Layout::vertical([Constraint::Length(11), Constraint::Length(creds_height), Constraint::Min(3)]).areas(area);
    if let Some(c) = &d.credentials {
        let lines = match c {
            Ok(o) => vec![
                kv("owner", o.email.clone(), t),
                kv("password", o.password.clone(), t),
                kv("access token", o.pat.clone().unwrap_or_else(|| "—".into()), t),
            ],
            Err(e) => vec![Line::styled(format!(" ✗ {e}"), t.error())],
        };
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(hint(
                state,
                Action::ShowCredentials,
                |k| format!(" NetBird owner ({k} hides) "),
                " NetBird owner ",
            ))),
            creds,
        );
    }
    let lines = match &data.deployment {
        None => {
            let block = Block::bordered().title(" Deployment ");
            let inner = block.inner(top);
            frame.render_widget(block, top);
            let [first, rest] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
            let text = hint(
                state,
                Action::Operate(Operation::Deploy),
                |k| format!(" Not deployed. Press {k} to deploy."),
                " Not deployed.",
            );
            frame.render_widget(Paragraph::new(Line::styled(text, t.dim())), first);
            if let Some(r) = data.customer.status_reason.as_deref() {
                wrapped_items(&reason_items(r, t), t, frame, rest);
            }
            Vec::new()
        }
        Some(dep) => {
            let mut l = vec![
                kv("status", dep.status.to_string(), t),
                kv("setup URL", dep.setup_url.clone().unwrap_or_else(|| "—".into()), t),
                kv("UDP port", dep.relay_udp_port.map_or("—".into(), |p| p.to_string()), t),
                kv(
                    "proxy host",
                    match (dep.npm_proxy_id, &data.own_proxy) {
                        (Some(i), _) => format!("#{i}"),
                        (None, Some(_)) => hint(
                            state,
                            Action::ShowNginx,
                            |k| format!("proxy = none: {k} shows the nginx server block for yours"),
                            "proxy = none: `nbmsp customer proxy-config` prints the nginx server block",
                        ),
                        (None, None) => "— (not registered)".into(),
                    },
                    t,
                ),
            ];
            l.push(match &dep.proxy_pending {
                Some(p) => Line::from(vec![
                    Span::styled(format!(" {:<14}", "certificate"), t.dim()),
                    Span::styled(
                        hint(
                            state,
                            Action::Operate(Operation::RetryCert),
                            |k| format!("✗ {p} ({k} retries)"),
                            &format!("✗ {p}"),
                        ),
                        t.warn(),
                    ),
                ]),
                None => kv("certificate", dep.npm_certificate_id.map_or("—".into(), |i| format!("#{i} ✓")), t),
            });
            l.push(kv(
                "devices",
                dep.devices_total.map_or("not counted".into(), |n| format!("{n} of {}", data.customer.max_devices)),
                t,
            ));
            l.push(kv(
                "owner token",
                dep.pat_expires_at.map_or("— (none held by nbmsp)".into(), |e| format!("valid until {}", e.date())),
                t,
            ));
            l.push(kv(
                "last backup",
                {
                    let now = hint(state, Action::Operate(Operation::Backup), |k| format!("{k} backs up now"), "");
                    data.last_backup.as_ref().map_or_else(
                        || if now.is_empty() { "none yet".to_string() } else { format!("none yet ({now})") },
                        |b| {
                            // The file is in `nbmsp customer backups`; the when and why fit on one line.
                            let when = b.created_at.replace('T', " ");
                            let when = when.trim_end_matches('Z');
                            if now.is_empty() {
                                format!("{when} UTC ({})", b.kind)
                            } else {
                                format!("{when} UTC ({}) · {now}", b.kind)
                            }
                        },
                    )
                },
                t,
            ));
            l
        }
    };
    if data.deployment.is_some() {
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(" Deployment ")),
            top,
        );
    }
    match &data.containers {
        Err(e) => frame.render_widget(
            Paragraph::new(Line::styled(format!(" ✗ {e}"), t.error()))
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" Containers ")),
            containers,
        ),
        Ok(list) => {
            // Stopped on purpose is not an error; the screen does not tick, so "up since" is a
            // time (true until the next look), not a count that would freeze at 0s.
            let stopped_on_purpose = data.customer.status == crate::domain::customer::CustomerStatus::Stopped;
            let rows = list.iter().map(|c| {
                let (mark, state_style) = match (c.is_up(), stopped_on_purpose) {
                    (true, _) => ("●", t.ok()),
                    (false, true) => ("■", t.dim()),
                    (false, false) => ("✗", t.error()),
                };
                Row::new(vec![
                    Cell::from(c.service.clone()),
                    Cell::from(Span::styled(format!("{mark} {}", c.state), state_style)),
                    Cell::from(c.started_at.filter(|_| c.is_up()).map_or("—".into(), |s| {
                        format!(
                            "{} UTC ({} ago)",
                            s.format(time::macros::format_description!("[month]-[day] [hour]:[minute]"))
                                .unwrap_or_default(),
                            crate::domain::human_duration((data.loaded_at - s).whole_seconds())
                        )
                    })),
                    Cell::from(fit(&c.image, 40)),
                ])
            });
            let widths = [Constraint::Length(11), Constraint::Length(13), Constraint::Length(26), Constraint::Min(10)];
            let header = Row::new(["Service", "State", "Up since", "Image"]).style(t.bold());
            frame.render_widget(
                Table::new(rows, widths).header(header).block(Block::bordered().title(" Containers ")),
                containers,
            );
        }
    }
}

/// A deploy's steps: under way (`end: None`), or ended with its outcome (ok, words).
fn progress(run: &crate::app::Running, end: Option<(bool, String)>, t: &Theme, frame: &mut Frame, area: Rect) {
    // Only deploys and redeploys go through the numbered steps; the rest is one line.
    if !matches!(run.op, crate::app::Operation::Deploy | crate::app::Operation::Redeploy) {
        let text =
            format!(" ◐ {} {}: {}…", run.op.verb(), run.subdomain, run.current.as_deref().unwrap_or("under way"));
        frame.render_widget(Paragraph::new(Line::styled(text, t.warn())).block(Block::bordered()), area);
        return;
    }
    let [steps, gauge] = Layout::vertical([Constraint::Min(3), Constraint::Length(3)]).areas(area);
    let mut lines: Vec<Line> = run
        .done
        .iter()
        .map(|(label, detail)| {
            let failed = detail.starts_with("FAILED");
            let (mark, style) = if failed { ("✗", t.error()) } else { ("✓", t.ok()) };
            Line::from(vec![Span::styled(format!(" {mark} {label:<18}"), style), Span::raw(fit(detail, 100))])
        })
        .collect();
    if let Some(cur) = &run.current {
        lines.push(Line::styled(format!(" ● {cur}…"), t.warn()));
    }
    if let Some((ok, words)) = &end {
        let (mark, style) = if *ok { ("✓", t.ok()) } else { ("✗", t.error()) };
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!(" {mark} {words}"), style));
    }
    let cancel = if end.is_none() && matches!(run.op, crate::app::Operation::Deploy | crate::app::Operation::Redeploy) {
        " X cancel (rolls back) "
    } else {
        ""
    };
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(format!(" {} {} ", run.op.verb(), run.subdomain))
                .title_bottom(Line::from(cancel).right_aligned()),
        ),
        steps,
    );
    let total = Step::ALL.len();
    let ratio = (run.done.len() as f64 / total as f64).min(1.0);
    frame.render_widget(
        Gauge::default()
            .ratio(ratio)
            .label(format!("{}/{total} steps", run.done.len()))
            .gauge_style(t.ok())
            .block(Block::bordered()),
        gauge,
    );
}

fn logs(state: &AppState, d: &DetailState, t: &Theme, frame: &mut Frame, area: Rect) {
    let height = usize::from(area.height.saturating_sub(2));
    let width = usize::from(area.width.saturating_sub(2)).max(1);
    let shown = d.visible_logs();
    let matches = d.log_matches();
    let end = shown.len().saturating_sub(if d.follow { 0 } else { d.log_scroll });
    // With wrapping a line may take several rows: walk back until the window is full.
    let mut start = end;
    let mut rows = 0;
    while start > 0 && rows < height {
        let len = shown[start - 1].text.chars().count() + 20;
        rows += if d.wrap { len.div_ceil(width) } else { 1 };
        start -= 1;
    }
    let q = d.log_query.to_lowercase();
    let lines: Vec<Line> = shown[start..end]
        .iter()
        .map(|l| {
            let time = if d.timestamps {
                l.timestamp.as_deref().and_then(|ts| ts.get(11..19)).unwrap_or("        ")
            } else {
                ""
            };
            let prefix =
                if d.timestamps { format!("{time} {:<10} ", l.service) } else { format!("{:<10} ", l.service) };
            let text = if d.wrap { l.text.clone() } else { fit(&l.text, width.saturating_sub(prefix.chars().count())) };
            let hit = !q.is_empty() && l.text.to_lowercase().contains(&q);
            let body = if hit { Span::styled(text, t.selected()) } else { Span::raw(text) };
            Line::from(vec![Span::styled(prefix, t.dim()), body])
        })
        .collect();
    let onoff = |b: bool| if b { "●" } else { "○" };
    let service = d.service_filter.clone().unwrap_or_else(|| "all services".into());
    let mut title = format!(
        " Logs · {service} · follow {} · wrap {} · time {} ",
        onoff(d.follow),
        onoff(d.wrap),
        onoff(d.timestamps)
    );
    if let Some(s) = &d.log_search {
        title.push_str(&format!("· /{} ", super::field(s, true, false, 30)));
    } else if !d.log_query.is_empty() {
        let at = if matches.is_empty() { 0 } else { d.log_match + 1 };
        title.push_str(&format!("· /{} ({at} of {}) ", d.log_query, matches.len()));
    }
    let latest = if d.log_rate > crate::app::detail::LOG_FLOOD { ", showing the latest" } else { "" };
    let bottom = format!(
        " {} lines/s{latest} · {} lines per service kept · {} dropped ",
        thousands(u64::from(d.log_rate)),
        LOG_CAPACITY,
        thousands(d.logs.dropped)
    );
    let mut block = Block::bordered().title(title).title_bottom(Line::from(bottom).right_aligned());
    // A paused view says what it is missing, where the eye is.
    if !d.follow && d.paused_new > 0 {
        let text = hint(
            state,
            Action::ToggleFollow,
            |k| format!(" paused — {} new lines ({k} follows) ", d.paused_new),
            &format!(" paused — {} new lines ", d.paused_new),
        );
        block = block.title_bottom(Line::styled(text, t.warn()));
    }
    let body = if lines.is_empty() { vec![Line::styled(" waiting for log lines…", t.dim())] } else { lines };
    let mut p = Paragraph::new(body).block(block);
    if d.wrap {
        p = p.wrap(Wrap { trim: false });
        let total: usize = shown[start..end].iter().map(|l| (l.text.chars().count() + 20).div_ceil(width)).sum();
        p = p.scroll((u16::try_from(total.saturating_sub(height)).unwrap_or(0), 0));
    }
    frame.render_widget(p, area);
}

fn health(state: &AppState, d: &DetailState, data: &Detail, t: &Theme, frame: &mut Frame, area: Rect) {
    let checked =
        data.deployment.as_ref().and_then(|x| x.last_health_check).map_or("never".into(), crate::domain::fmt_time);
    let title = format!(" Health · last check {checked} ");
    let ok = |b: bool| if b { Span::styled("✓ ok  ", t.ok()) } else { Span::styled("✗ FAIL", t.error()) };
    let lines: Vec<Line> = match (&d.health, d.health_running) {
        (_, true) => vec![Line::styled(" checking containers, endpoints and STUN…", t.warn())],
        (None, false) => vec![Line::styled(
            hint(state, Action::CheckHealth, |k| format!(" Press {k} to check now."), " Not checked yet."),
            t.dim(),
        )],
        (Some(Err(e)), false) => vec![Line::styled(format!(" ✗ {e}"), t.error())],
        (Some(Ok(r)), false) => {
            let mut l: Vec<Line> = r
                .containers
                .iter()
                .map(|c| {
                    Line::from(vec![
                        Span::raw(" "),
                        ok(c.is_up()),
                        Span::raw(format!(" container {:<11} {}", c.service, c.state)),
                    ])
                })
                .collect();
            l.extend(r.missing.iter().map(|m| {
                Line::from(vec![Span::raw(" "), ok(false), Span::raw(format!(" container {m:<11} missing"))])
            }));
            l.extend(r.endpoints.iter().map(|e| {
                Line::from(vec![Span::raw(" "), ok(e.ok), Span::raw(format!(" http      {:<24} {}", e.name, e.detail))])
            }));
            if let Some(s) = &r.stun {
                l.push(Line::from(vec![
                    Span::raw(" "),
                    ok(s.ok),
                    Span::raw(format!(" stun      {:<24} {}", s.target, s.detail)),
                ]));
            }
            if let Some(p) = &r.public {
                let warn =
                    |ok: bool| if ok { Span::styled("✓ ok  ", t.ok()) } else { Span::styled("▲ warn", t.warn()) };
                for (ok, what) in [(p.api_ok, "https /api/instance"), (p.relay_ok, "wss /relay")] {
                    l.push(Line::from(vec![
                        Span::raw(" "),
                        warn(ok),
                        Span::raw(format!(" public    {what:<24} via {}", p.target)),
                    ]));
                }
                l.extend(p.notes.iter().map(|n| Line::styled(format!(" ▲ {n}"), t.warn())));
            }
            l.push(Line::raw(""));
            l.push(if r.healthy { Line::styled(" healthy", t.ok()) } else { Line::styled(" NOT healthy", t.error()) });
            match &d.stats {
                Some(Ok(stats)) => {
                    l.push(Line::raw(""));
                    l.extend(stats.iter().map(|x| {
                        Line::raw(format!(
                            "   {:<11} cpu {:>5.1}%   mem {:>7.1} MiB   net in {:>8.1} KiB   out {:>8.1} KiB",
                            x.service,
                            x.cpu_percent,
                            x.memory_bytes as f64 / 1_048_576.0,
                            x.net_rx_bytes as f64 / 1024.0,
                            x.net_tx_bytes as f64 / 1024.0
                        ))
                    }));
                }
                Some(Err(e)) => l.push(Line::styled(format!(" ✗ stats: {e}"), t.error())),
                None => l.push(Line::styled(" measuring CPU and memory…", t.dim())),
            }
            l
        }
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title)), area);
}

/// 5012 as "5,012": a rate read at a glance.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
