//! `update`: the entry point for every state change. Engine events are handled in `events`,
//! forms in `forms`, starting operations (and their confirmations) in `operate`; here:
//! dispatch, text entry and keys per screen.

use super::detail::{DetailState, Tab};
use super::events::on_event;
use super::forms::{on_form, on_settings, on_settings_text, on_setup};
use super::operate::operate;
use super::stack::Overlay;
use super::tabs::switch_tab;
use super::{Action, AppState, Command, Confirm, Operation, Screen, TextKey};
use crate::domain::customer::CustomerStatus;

/// Applies `action` to `state` and returns the engine commands it causes.
pub fn update(s: &mut AppState, action: Action) -> Vec<Command> {
    // Handlers clear `dirty` when nothing visible changed; a change from an earlier update not
    // yet drawn (several engine events are applied per frame) must survive that.
    let pending = s.dirty;
    s.dirty = true;
    let cmds = match action {
        Action::Engine(ev) => on_event(s, ev),
        Action::Edited(text) => super::baseline_edit::on_edited(s, text),
        Action::Resize(w, h) => {
            s.size = (w, h);
            let height = s.table_height();
            s.dashboard.scroll_into_view(height);
            Vec::new()
        }
        // An error panel says "any key closes": that key closes it and does nothing else.
        _ if s.notice.as_ref().is_some_and(|n| n.panel_rows(s.size.0).is_some()) => {
            s.notice = None;
            Vec::new()
        }
        Action::Text(k) => on_text(s, k),
        other => {
            s.notice = None;
            on_key(s, other)
        }
    };
    s.dirty |= pending;
    cmds
}

fn on_text(s: &mut AppState, k: TextKey) -> Vec<Command> {
    match s.overlays.top_mut() {
        Some(Overlay::Confirm(c)) => {
            let c = c.clone();
            return super::operate::on_confirm(s, k, c);
        }
        Some(Overlay::CommandLine(line)) => {
            return match k {
                TextKey::Enter => {
                    let line = line.clone();
                    s.overlays.pop();
                    let ran = super::command_line::run(s, line.trim());
                    let mut cmds = ran.commands;
                    if let Some(then) = ran.then {
                        cmds.extend(on_key(s, then));
                    }
                    cmds
                }
                TextKey::Esc => {
                    s.overlays.pop();
                    Vec::new()
                }
                TextKey::Tab => {
                    super::command_line::complete(s);
                    Vec::new()
                }
                k => {
                    line.edit(k);
                    Vec::new()
                }
            };
        }
        _ => {}
    }
    if let Some(cmds) = super::netbird_keys::on_text(s, k) {
        return cmds;
    }
    if s.dashboard.filtering {
        match k {
            TextKey::Enter => s.dashboard.filtering = false,
            TextKey::Esc => {
                s.dashboard.filtering = false;
                s.dashboard.filter.clear();
                s.dashboard.recompute();
            }
            k => {
                s.dashboard.filter.edit(k);
                let before = s.dashboard.selected_row().map(|r| r.customer.id);
                s.dashboard.recompute();
                // The selected customer stays selected while it matches; else the best match.
                if s.dashboard.selected_row().map(|r| r.customer.id) != before {
                    s.dashboard.selected = 0;
                }
            }
        }
        let height = s.table_height();
        s.dashboard.scroll_into_view(height);
        return Vec::new();
    }
    if let Some(d) = s.detail_mut().filter(|d| d.log_search.is_some()) {
        match k {
            TextKey::Esc => d.log_search = None,
            TextKey::Enter => {
                d.log_query = d.log_search.take().unwrap_or_default().to_string();
                d.follow = true;
                d.paused_new = 0;
                d.jump(-1);
                if !d.log_query.is_empty() && d.log_matches().is_empty() {
                    let q = d.log_query.clone();
                    s.notify(format!("no log line contains \"{q}\""), true);
                }
            }
            k => {
                if let Some(q) = d.log_search.as_mut() {
                    q.edit(k);
                }
            }
        }
        return Vec::new();
    }
    match s.screen() {
        Screen::Login => on_login(s, k),
        Screen::Settings => on_settings_text(s, k),
        Screen::Form => on_form(s, k),
        Screen::Setup => on_setup(s, k),
        _ => Vec::new(),
    }
}

fn on_login(s: &mut AppState, k: TextKey) -> Vec<Command> {
    if s.login.busy {
        s.dirty = false;
        return Vec::new();
    }
    match k {
        TextKey::Tab | TextKey::BackTab | TextKey::Up | TextKey::Down => s.login.field = 1 - s.login.field.min(1),
        TextKey::Esc => s.should_quit = true,
        TextKey::Enter if s.login.field == 0 => s.login.field = 1,
        TextKey::Enter => {
            s.login.busy = true;
            s.login.message = None;
            return vec![Command::Login { user: s.login.user.to_string(), password: s.login.password.to_string() }];
        }
        k if s.login.field == 0 => {
            s.login.user.edit(k);
        }
        k => {
            s.login.password.edit(k);
        }
    }
    Vec::new()
}

pub(super) fn on_key(s: &mut AppState, action: Action) -> Vec<Command> {
    if let Some(cmds) = super::overlays::on_key(s, action.clone()) {
        return cmds;
    }
    match action {
        Action::Quit if !s.running.is_empty() => {
            // Quitting does not abandon work: it is asked, and what runs finishes first.
            let list: Vec<String> = s.running.values().map(|r| format!("{} ({})", r.subdomain, r.op.verb())).collect();
            s.overlays.push(Overlay::Confirm(Confirm {
                customer_id: 0,
                subdomain: list.join(", "),
                op: super::Asked::Quit,
                typed: Default::default(),
                bulk: Vec::new(),
                to_host: None,
            }));
        }
        Action::Quit => s.should_quit = true,
        Action::ToggleHelp => s.overlays.push(Overlay::Help { scroll: 0 }),
        Action::CommandLine => s.overlays.push(Overlay::CommandLine(Default::default())),
        Action::ToggleMouse => {
            s.mouse = !s.mouse;
            let off = match s.keys.label(super::keymap::Mode::Dashboard, &Action::ToggleMouse) {
                Some(k) => format!("mouse on ({k} turns it off)"),
                None => "mouse on".to_string(),
            };
            s.notify(if s.mouse { off } else { "mouse off".to_string() }, false);
        }
        Action::Click(_, y) if s.screen() == Screen::Dashboard => {
            let (first, y) = (s.table_first_row(), usize::from(y));
            let row = s.dashboard.offset + y.saturating_sub(first);
            if y >= first && y < first + s.table_height() && row < s.dashboard.visible.len() {
                s.dashboard.selected = row;
            } else {
                s.dirty = false;
            }
        }
        Action::Refresh => {
            let mut cmds = vec![Command::LoadCustomers];
            if let Some(d) = s.detail_mut() {
                cmds.push(Command::LoadDetail { customer_id: d.customer_id });
                cmds.extend(super::netbird_keys::refreshed(d));
            }
            return cmds;
        }
        Action::Operate(op) => return operate(s, op),
        Action::OpenSettings => {
            let leaving = s.show_dashboard();
            s.show_settings(super::settings::SettingsState::default());
            let mut cmds = vec![Command::LoadSettings];
            if leaving.is_some() {
                cmds.insert(0, Command::StopLogs);
            }
            return cmds;
        }
        Action::NewCustomer => {
            let form = super::form::FormState::new_customer(&s.base_domain, s.default_layout);
            s.show_form(form);
        }
        Action::EditCustomer => {
            // Deployed: its layout is fixed (the store refuses a switch; the form shows it fixed).
            let customer = match (s.screen(), s.detail()) {
                (Screen::Detail, Some(d)) => d.data.as_ref().map(|x| (x.customer.clone(), x.deployment.is_some())),
                _ => s.dashboard.selected_row().map(|r| (r.customer.clone(), r.udp_port.is_some())),
            };
            match customer {
                Some((c, deployed)) => {
                    let form = super::form::FormState::edit(&c, &s.base_domain, deployed);
                    s.show_form(form);
                }
                None => s.notify("no customer selected", true),
            }
        }
        other => {
            return match s.screen() {
                Screen::Dashboard => on_dashboard(s, other),
                Screen::Detail => on_detail(s, other),
                Screen::Settings => on_settings(s, other),
                Screen::Login | Screen::Form | Screen::Setup => Vec::new(),
            };
        }
    }
    Vec::new()
}

fn on_dashboard(s: &mut AppState, action: Action) -> Vec<Command> {
    let page = s.table_height().max(1) as isize;
    let d = &mut s.dashboard;
    match action {
        Action::Move(n) => d.move_by(if n.abs() > 1 { n.signum() * page } else { n }),
        Action::Top => d.selected = 0,
        Action::Bottom => d.selected = d.visible.len().saturating_sub(1),
        Action::Filter => d.filtering = true,
        Action::ToggleMark => {
            d.toggle_mark();
            d.move_by(1);
        }
        Action::MarkVisible => d.toggle_mark_visible(),
        Action::Back if !d.marked.is_empty() => d.marked.clear(),
        // "Esc clears it": the text filter and the status filter alike.
        Action::Back if !d.filter.is_empty() || d.status_filter.is_some() => {
            d.filter.clear();
            d.status_filter = None;
            d.recompute();
        }
        Action::CycleStatus => {
            // all → each status in declaration order → all.
            let all: Vec<CustomerStatus> = CustomerStatus::ALL.to_vec();
            d.status_filter = match d.status_filter {
                None => all.first().copied(),
                Some(s) => all.iter().position(|x| *x == s).and_then(|i| all.get(i + 1)).copied(),
            };
            d.selected = 0;
            d.recompute();
        }
        Action::CycleSort => {
            d.sort = Some(d.sort.map_or(super::dashboard::SortKey::Subdomain, super::dashboard::SortKey::next));
            d.recompute();
        }
        Action::Open => {
            let Some(row) = d.selected_row() else { return Vec::new() };
            let (id, sub) = (row.customer.id, row.customer.subdomain.clone());
            s.show_detail(DetailState::new(id, sub));
            return vec![Command::LoadDetail { customer_id: id }];
        }
        _ => s.dirty = false,
    }
    let height = s.table_height();
    s.dashboard.scroll_into_view(height);
    Vec::new()
}

fn on_detail(s: &mut AppState, action: Action) -> Vec<Command> {
    if let Some(cmds) = super::netbird_keys::on_key(s, &action) {
        return cmds;
    }
    let Some(d) = s.detail_mut() else { return s.leave_to_dashboard() };
    match action {
        // Up is positive in the log's terms (lines back); the block scrolls down on j.
        Action::Move(n) if d.nginx_open && d.tab == Tab::Deployment => {
            d.nginx_scroll = d.nginx_scroll.saturating_add_signed(-(n.clamp(-10, 10) as i16));
            Vec::new()
        }
        // Esc first closes the server block shown over the Deployment tab.
        Action::Back if d.nginx_open => {
            d.nginx_open = false;
            Vec::new()
        }
        Action::Back => s.leave_to_dashboard(),
        Action::NextTab(n) => {
            let tab = d.tab.step(n);
            switch_tab(d, tab)
        }
        Action::GoTab(i) => match Tab::ALL.get(i) {
            Some(tab) => switch_tab(d, *tab),
            None => Vec::new(),
        },
        Action::CheckHealth => {
            d.health_running = true;
            if d.tab != Tab::Health {
                let mut cmds = switch_tab(d, Tab::Health);
                if !cmds.iter().any(|c| matches!(c, Command::CheckHealth { .. })) {
                    cmds.push(Command::CheckHealth { customer_id: d.customer_id });
                }
                return cmds;
            }
            vec![Command::CheckHealth { customer_id: d.customer_id }]
        }
        Action::CancelOperation => {
            let id = d.customer_id;
            match s.running.get(&id).map(|r| r.op) {
                Some(op @ (Operation::Deploy | Operation::Redeploy)) => {
                    s.notify(format!("cancelling the {}: rolling back…", op.verb()), false);
                    return vec![Command::Cancel { customer_id: id }];
                }
                Some(op) => s.notify(format!("a {} cannot be cancelled; it ends by itself", op.verb()), true),
                None => s.notify("nothing is running for this customer", true),
            }
            Vec::new()
        }
        Action::ShowNginx => {
            let own =
                d.data.as_ref().map(|x| (x.own_proxy.is_some(), x.deployment.as_ref().and_then(|y| y.npm_proxy_id)));
            match own {
                Some((true, _)) => {
                    d.nginx_open = !d.nginx_open;
                    if d.nginx_open {
                        return switch_tab(d, Tab::Deployment);
                    }
                }
                Some((false, Some(id))) => {
                    s.notify(format!("Nginx Proxy Manager holds this customer's proxy host (#{id})"), false)
                }
                Some((false, None)) => {
                    s.notify("not deployed, or the proxy is not `none`: no server block to show", true)
                }
                None => s.notify("still loading", true),
            }
            Vec::new()
        }
        Action::CopySetupUrl if d.nginx_open => {
            let block = d.data.as_ref().and_then(|x| x.own_proxy.as_ref()).map(|p| p.server_block.clone());
            s.clipboard = block;
            s.notify("copied the nginx server block to the clipboard", false);
            Vec::new()
        }
        Action::CopySetupUrl => {
            let url = d.data.as_ref().and_then(|x| x.deployment.as_ref()).and_then(|x| x.setup_url.clone());
            match url {
                Some(u) => {
                    s.notify(format!("copied {u} to the clipboard"), false);
                    s.clipboard = Some(u);
                }
                None => s.notify("not deployed: no setup URL yet", true),
            }
            Vec::new()
        }
        Action::ShowCredentials => {
            if d.credentials.is_some() {
                d.credentials = None;
                return Vec::new();
            }
            let (id, sub) = (d.customer_id, d.subdomain.clone());
            s.overlays.push(Overlay::Confirm(Confirm {
                customer_id: id,
                subdomain: sub,
                op: super::Asked::ShowCredentials,
                typed: Default::default(),
                bulk: Vec::new(),
                to_host: None,
            }));
            Vec::new()
        }
        Action::LogSearch if d.tab == Tab::Logs => {
            d.log_search = Some(Default::default());
            Vec::new()
        }
        Action::LogJump(dir) if d.tab == Tab::Logs => {
            d.jump(dir);
            Vec::new()
        }
        Action::ToggleWrap if d.tab == Tab::Logs => {
            d.wrap = !d.wrap;
            Vec::new()
        }
        Action::ToggleTimestamps if d.tab == Tab::Logs => {
            d.timestamps = !d.timestamps;
            Vec::new()
        }
        Action::CycleService if d.tab == Tab::Logs => {
            d.cycle_service();
            Vec::new()
        }
        Action::ExportLogs if d.tab == Tab::Logs => {
            let lines: Vec<_> = d.visible_logs().into_iter().cloned().collect();
            vec![Command::ExportLogs { subdomain: d.subdomain.clone(), lines }]
        }
        Action::ToggleFollow if d.tab == Tab::Logs => {
            d.follow = !d.follow;
            d.log_scroll = 0;
            d.paused_new = 0;
            Vec::new()
        }
        Action::Move(n) if d.tab == Tab::Logs => {
            d.follow = false;
            let max = d.logs.len();
            d.log_scroll = d.log_scroll.saturating_add_signed(-n * if n.abs() > 1 { 10 } else { 1 }).min(max);
            Vec::new()
        }
        _ => {
            s.dirty = false;
            Vec::new()
        }
    }
}
