//! The `:` command line: `:VERB` acts on the open or selected customer, `:VERB SUBDOMAIN` (or
//! `:VERB #ID`) on that customer, `:restore FILE` on a backup file. The list here is the one
//! the help overlay shows.

use super::detail::{DetailState, Tab};
use super::operate::{operate, target};
use super::stack::Overlay;
use super::tabs::switch_tab;
use super::{Action, AppState, Command, Operation, Screen};

/// Every command with its arguments, for help and errors.
pub const COMMANDS: &[(&str, &str)] = &[
    ("customers", "back to the table"),
    ("new", "a new customer"),
    ("edit [CUSTOMER]", "edit"),
    ("deploy|redeploy|start|stop|restart|delete|backup|retry-cert [CUSTOMER]", "run on the customer"),
    ("info|deployment|logs|health|netbird [CUSTOMER]", "open the customer on that tab"),
    ("devices", "the fleet's devices: over the limit first, online, old clients"),
    ("reports", "this month and the last: uptime against the SLA, misses first, devices per day, downtime by cause"),
    ("baseline", "edit the fleet's NetBird baseline in $EDITOR (admins; checked before it is saved)"),
    ("hosts", "the Docker hosts: engine, customers, memory, UDP ports, reachable or not; d drains"),
    ("move HOST", "move the open or selected customer to Docker host HOST (local: this machine)"),
    ("restore FILE", "recreate a customer from a backup"),
    ("rollout", "roll the images in settings out"),
    ("reconcile", "apply reconcile's safe fixes"),
    ("settings", "the settings editor"),
    ("help", "this help"),
    ("q", "quit"),
];

fn operation(verb: &str) -> Option<Operation> {
    Some(match verb {
        "deploy" => Operation::Deploy,
        "redeploy" => Operation::Redeploy,
        "start" => Operation::Start,
        "stop" => Operation::Stop,
        "restart" => Operation::Restart,
        "delete" => Operation::Delete,
        "retry-cert" => Operation::RetryCert,
        "backup" => Operation::Backup,
        "rollout" => Operation::Rollout,
        "reconcile" => Operation::Reconcile,
        _ => return None,
    })
}

fn tab(verb: &str) -> Option<Tab> {
    Some(match verb {
        "info" => Tab::Info,
        "deployment" => Tab::Deployment,
        "logs" => Tab::Logs,
        "health" => Tab::Health,
        "netbird" => Tab::NetBird,
        _ => return None,
    })
}

/// What a command line leads to: commands for the engine, then (for the verbs that are keys
/// too: `:q`, `:new`, `:settings`, `:edit`) the key's action, which the caller dispatches — so
/// this module never calls back into `update`.
pub struct Ran {
    /// For the engine.
    pub commands: Vec<Command>,
    /// The key's action to run next.
    pub then: Option<Action>,
}

impl From<Vec<Command>> for Ran {
    fn from(commands: Vec<Command>) -> Self {
        Ran { commands, then: None }
    }
}

fn key(then: Action) -> Ran {
    Ran { commands: Vec::new(), then: Some(then) }
}

/// Runs one command line.
pub fn run(s: &mut AppState, line: &str) -> Ran {
    let (verb, arg) = match line.split_once(' ') {
        Some((v, a)) => (v, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    match (verb, arg) {
        ("q" | "quit", None) => return key(Action::Quit),
        ("new", None) => return key(Action::NewCustomer),
        ("settings", None) => return key(Action::OpenSettings),
        _ => {}
    }
    Ran::from(match (verb, arg) {
        ("", _) => Vec::new(),
        ("customers" | "c", None) => s.leave_to_dashboard(),
        ("help", None) => {
            s.overlays.push(Overlay::Help { scroll: 0 });
            Vec::new()
        }
        ("devices", None) => {
            s.overlays.push(Overlay::Devices { scroll: 0 });
            Vec::new()
        }
        ("hosts", None) => super::overlays::open_hosts(s),
        ("reports", None) => super::reports::open(s),
        ("baseline", None) => super::baseline_edit::open(s),
        ("move", Some(host)) => move_to(s, host),
        ("restore", Some(file)) => {
            s.notify(format!("restoring a customer from {file}"), false);
            vec![Command::Restore { file: file.into() }]
        }
        ("rollout" | "reconcile", None) => operate(s, operation(verb).unwrap_or(Operation::Reconcile)),
        (v, arg) if operation(v).is_some() || tab(v).is_some() || v == "edit" => {
            let mut cmds = Vec::new();
            if let Some(name) = arg {
                match select(s, name) {
                    Some(leaving) => cmds = leaving,
                    None => {
                        s.notify(format!("no customer {name} (give a subdomain or #id)"), true);
                        return Ran::from(Vec::new());
                    }
                }
            }
            match (operation(v), tab(v)) {
                (Some(op), _) => cmds.extend(operate(s, op)),
                (None, Some(t)) => cmds.extend(open_on(s, t)),
                (None, None) => return Ran { commands: cmds, then: Some(Action::EditCustomer) },
            }
            cmds
        }
        (other, _) => {
            s.notify(format!("unknown command :{other} (? lists the commands)"), true);
            Vec::new()
        }
    })
}

/// Asks to confirm moving the open (or selected) customer to `host`.
fn move_to(s: &mut AppState, host: &str) -> Vec<Command> {
    let Some((id, subdomain)) = target(s) else {
        s.notify("no customer selected", true);
        return Vec::new();
    };
    if let Some(r) = s.running.get(&id) {
        s.notify(format!("{subdomain}: {} is still running", r.op.verb()), true);
        return Vec::new();
    }
    s.overlays.push(Overlay::Confirm(super::Confirm {
        customer_id: id,
        subdomain,
        op: Operation::Move.into(),
        typed: Default::default(),
        bulk: Vec::new(),
        to_host: Some(host.to_string()),
    }));
    Vec::new()
}

/// Selects `name` (a subdomain or `#id`) in the table, leaving any other open customer; the
/// commands leaving it needs, or `None` when there is no such customer.
fn select(s: &mut AppState, name: &str) -> Option<Vec<Command>> {
    let id = name.strip_prefix('#').and_then(|n| n.parse::<i64>().ok());
    let row_id = s
        .dashboard
        .rows
        .iter()
        .find(|r| Some(r.customer.id) == id || r.customer.subdomain == name)
        .map(|r| r.customer.id)?;
    let mut leaving = Vec::new();
    let other_open = s.screen() == Screen::Detail && s.detail().is_some_and(|d| d.customer_id != row_id);
    if other_open || matches!(s.screen(), Screen::Settings | Screen::Form) {
        // Back to the table first, so the command acts on the named customer.
        leaving = s.leave_to_dashboard();
    }
    s.dashboard.filter.clear();
    s.dashboard.status_filter = None;
    s.dashboard.recompute();
    if let Some(pos) = s.dashboard.visible.iter().position(|i| s.dashboard.rows[*i].customer.id == row_id) {
        s.dashboard.selected = pos;
    }
    Some(leaving)
}

/// Opens the customer the command is about (the open one, else the selected row) on `t`.
fn open_on(s: &mut AppState, t: Tab) -> Vec<Command> {
    let Some((id, sub)) = target(s) else {
        s.notify("no customer selected", true);
        return Vec::new();
    };
    let mut cmds = Vec::new();
    match s.show_dashboard() {
        Some(d) if d.customer_id == id => s.show_detail(d),
        _ => {
            s.show_detail(DetailState::new(id, sub));
            cmds.push(Command::LoadDetail { customer_id: id });
        }
    }
    if let Some(d) = s.detail_mut() {
        cmds.extend(switch_tab(d, t));
    }
    cmds
}

/// Completes the word being typed on the command line (Tab): a command, or a customer's
/// subdomain after one. A unique match is filled in with a space; several fill in what they
/// share and are listed.
pub fn complete(s: &mut AppState) {
    let Some(line) = s.overlays.command_line().cloned() else { return };
    let set = |s: &mut AppState, text: String| {
        if let Some(Overlay::CommandLine(f)) = s.overlays.top_mut() {
            *f = text.into();
        }
    };
    let (head, word) = match line.rsplit_once(' ') {
        Some((h, w)) => (format!("{h} "), w.to_string()),
        None => (String::new(), line.to_string()),
    };
    let candidates: Vec<String> = if head.is_empty() {
        COMMANDS
            .iter()
            .flat_map(|(cmd, _)| cmd.split(' ').next().unwrap_or("").split('|'))
            .map(str::to_string)
            .collect()
    } else {
        s.dashboard.rows.iter().map(|r| r.customer.subdomain.clone()).collect()
    };
    let matching: Vec<&String> = candidates.iter().filter(|c| c.starts_with(&word)).collect();
    match matching.as_slice() {
        [] => s.notify(format!("nothing starts with {word}"), true),
        [one] => set(s, format!("{head}{one} ")),
        many => {
            let first = many[0].as_str();
            let shared = many
                .iter()
                .fold(first.len(), |n, c| first.chars().zip(c.chars()).take_while(|(a, b)| a == b).count().min(n));
            set(s, format!("{head}{}", &first[..first.char_indices().nth(shared).map_or(first.len(), |(i, _)| i)]));
            let shown: Vec<&str> = many.iter().take(8).map(|c| c.as_str()).collect();
            s.notify(shown.join("  "), false);
        }
    }
}
