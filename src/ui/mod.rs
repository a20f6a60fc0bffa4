//! Rendering: `render(&AppState, &mut Frame)`, pure, no IO, one file per view.

mod dashboard;
mod detail;
mod devices;
mod form;
mod hosts;
#[cfg(test)]
mod hosts_tests;
#[cfg(test)]
mod layout_tests;

mod login;
mod netbird;
#[cfg(test)]
mod netbird_lines_tests;
#[cfg(test)]
mod netbird_tests;
mod overlays;
mod reports;
#[cfg(test)]
mod reports_tests;
#[cfg(test)]
mod screenshots;
mod settings;
mod setup;
#[cfg(test)]
mod svg;
#[cfg(test)]
pub(crate) mod tests;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{AppState, DockerState, Screen, keymap};
use theme::Theme;

pub use crate::app::MIN_SIZE;

/// Draws the whole screen for `state`.
pub fn render(state: &AppState, frame: &mut Frame) {
    let theme = Theme::new(state.color);
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        // Better said than typed into blind: fields and keys would be off screen.
        let text = vec![
            Line::styled("terminal too small", theme.error()),
            Line::raw(format!("need {}×{}, have {}×{}", MIN_SIZE.0, MIN_SIZE.1, area.width, area.height)),
            Line::styled("enlarge the window (q still quits)", theme.dim()),
        ];
        frame.render_widget(Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }), area);
        return;
    }
    // A notice longer than the line wraps onto up to three (an error that long gets its panel).
    let notice_rows = state
        .notice
        .as_ref()
        .filter(|n| !n.error)
        // Word wrapping needs a row more than the characters' count where a long word (a path)
        // starts a line of its own.
        .map_or(1, |n| {
            let rows = (unicode_width::UnicodeWidthStr::width(n.text.as_str()) + 3)
                .div_ceil(usize::from(frame.area().width).max(1));
            if rows > 1 { rows + 1 } else { 1 }
        })
        .clamp(1, 3);
    let [header, body, notice, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(u16::try_from(notice_rows).unwrap_or(1)),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    if matches!(state.screen(), Screen::Login | Screen::Setup) {
        let area = Rect { height: frame.area().height.saturating_sub(2), ..frame.area() };
        if state.screen() == Screen::Login {
            login::render(state, &theme, frame, area);
        } else {
            setup::render(state, &theme, frame, area);
        }
        overlays::notice(state, &theme, frame, notice);
        frame.render_widget(footer_line(state, &theme, footer.width), footer);
        return;
    }
    frame.render_widget(header_line(state, &theme, header.width), header);
    match state.screen() {
        Screen::Dashboard => dashboard::render(state, &theme, frame, body),
        Screen::Detail => detail::render(state, &theme, frame, body),
        Screen::Form => {
            if state.detail().is_some() {
                detail::render(state, &theme, frame, body);
            } else {
                dashboard::render(state, &theme, frame, body);
            }
            form::render(state, &theme, frame, body);
        }
        Screen::Settings => settings::render(state, &theme, frame, body),
        Screen::Login | Screen::Setup => {}
    }
    overlays::notice(state, &theme, frame, notice);
    frame.render_widget(footer_line(state, &theme, footer.width), footer);
    overlays::render(state, &theme, frame, body);
    overlays::error_panel(state, &theme, frame, body);
}

fn header_line(state: &AppState, t: &Theme, width: u16) -> Paragraph<'static> {
    let docker = match &state.docker {
        DockerState::Unknown => Span::styled("docker …", t.dim()),
        DockerState::Up(v) => Span::styled(format!("docker {v} ✓"), t.ok()),
        DockerState::Down(_) => Span::styled("docker ✗ unreachable", t.error()),
    };
    let mut left = vec![Span::styled(" nbmsp ", t.bold()), Span::raw(format!(" {} · ", state.host)), docker];
    match &state.npm {
        Some(DockerState::Up(v)) => left.push(Span::styled(format!(" · NPM {v} ✓"), t.ok())),
        Some(DockerState::Down(_)) => left.push(Span::styled(" · NPM ✗ unreachable", t.error())),
        Some(DockerState::Unknown) | None => {}
    }
    if let Some(h) = state.host_stats.filter(|_| width >= 110) {
        let pct = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |p| format!("{p:.0}%"));
        let disk_style = if h.disk_percent.is_some_and(|d| d >= 90.0) { t.error() } else { t.dim() };
        left.push(Span::styled(format!(" · host cpu {} mem {} ", pct(h.cpu_percent), pct(h.memory_percent)), t.dim()));
        left.push(Span::styled(format!("disk {}", pct(h.disk_percent)), disk_style));
        if let Some(n) = h.containers {
            left.push(Span::styled(format!(" · {n} containers"), t.dim()));
        }
    }
    if !state.running.is_empty() {
        left.push(Span::styled(format!(" · ◐ {} running", state.running.len()), t.warn()));
    }
    let right = format!("{} · ? help ", state.user.as_deref().unwrap_or(""));
    let used: usize = left.iter().map(|s| s.content.chars().count()).sum();
    let pad = usize::from(width).saturating_sub(used + right.chars().count());
    left.push(Span::raw(" ".repeat(pad)));
    left.push(Span::styled(right, t.dim()));
    Paragraph::new(Line::from(left))
}

/// The footer: the current mode's bindings marked for it, fitted to `width`. Help, back and
/// quit are always kept (at the end, where people look for them); others drop from the right.
fn footer_line(state: &AppState, t: &Theme, width: u16) -> Paragraph<'static> {
    let essential = |what: &str| matches!(what, "help" | "quit" | "back" | "cancel" | "close help");
    // What fits the selected customer's status comes right after the first entry (Enter open):
    // a stopped customer's footer names `u start`, a running one's `S stop`.
    let next = state.next_operations();
    // Other operations make way for them (help lists every key).
    let fits = |b: &keymap::Binding| {
        if next.is_empty() || !matches!(b.action, crate::app::Action::Operate(_)) {
            b.footer
        } else {
            next.contains(&b.action)
        }
    };
    let mut entries: Vec<&keymap::Binding> = keymap::usable(state).filter(|b| fits(b) && !b.keys.is_empty()).collect();
    let (mut first, rest): (Vec<_>, Vec<_>) =
        entries.drain(1.min(entries.len())..).partition(|b| next.contains(&b.action));
    first.sort_by_key(|b| next.iter().position(|a| *a == b.action));
    entries.extend(first);
    entries.extend(rest);
    let cost = |b: &keymap::Binding| b.label.chars().count() + b.what.chars().count() + 3;
    let mut budget =
        usize::from(width).saturating_sub(entries.iter().filter(|b| essential(b.what)).map(|b| cost(b)).sum());
    let mut spans = Vec::new();
    for b in entries {
        if !essential(b.what) {
            if cost(b) > budget {
                continue;
            }
            budget -= cost(b);
        }
        spans.push(Span::styled(format!(" {}", b.label), t.key()));
        spans.push(Span::raw(format!(" {} ", b.what)));
    }
    Paragraph::new(Line::from(spans))
}

/// A rectangle of `w` x `h` centred in `area` (clipped to it).
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// `text` cut to `max` terminal columns with an ellipsis (CJK and emoji take two columns).
pub(crate) fn fit(text: &str, max: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if text.width() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// A text field as drawn in at most `max` columns: with the cursor (▏) where it is when
/// `focused`, the part around the cursor when the text is longer; `mask` draws each character
/// as • (passwords). Every field in the app is drawn by this.
pub(crate) fn field(f: &crate::app::text::Field, focused: bool, mask: bool, max: usize) -> String {
    let shown = |s: &str| if mask { "•".repeat(s.chars().count()) } else { s.to_string() };
    if !focused {
        return fit(&shown(f.value()), max);
    }
    let (before, after) = f.at_cursor();
    let (before, after) = (shown(before), shown(after));
    // Keep the cursor in view: drop characters from the left of it, then cut the right.
    let room = max.saturating_sub(1).max(1);
    let skip = before.chars().count().saturating_sub(room);
    let before: String = before.chars().skip(skip).collect();
    let left = if skip > 0 { format!("…{}", before.chars().skip(1).collect::<String>()) } else { before };
    let rest = room.saturating_sub(left.chars().count());
    format!("{left}▏{}", fit(&after, rest))
}
