//! The NetBird tab of the customer detail: one section at a time (devices, setup keys, users,
//! groups) listed fresh from the instance, a search, and the changes an operator makes there.
//! Nothing is kept as true when the instance did not answer: a failed load shows the failure,
//! not the previous list.

use super::TextKey;
pub use super::netbird_form::KeyForm;
pub use prompt::{Prompt, Purpose};

#[path = "netbird_prompt.rs"]
mod prompt;
use super::text::Field;
use crate::domain::netbird::{AdminAction, AdminAnswer, CreatedKey, CreatedUser};

/// The four lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Devices.
    Peers,
    /// Setup keys.
    Keys,
    /// NetBird users.
    Users,
    /// Groups.
    Groups,
    /// Networks: resources beyond the devices and the devices that route to them.
    Networks,
    /// Legacy routes (accounts from before Networks).
    Routes,
    /// Services the Reverse Proxy publishes.
    Services,
    /// Access-control policies (the flat All → All one marked).
    Policies,
    /// Posture checks: what a device must run to be let through.
    Posture,
    /// DNS nameserver groups: which resolvers the devices use.
    Dns,
    /// Identity providers the customer's staff sign in with.
    Idps,
    /// NetBird's own audit events, newest first (read only).
    Events,
}

impl Section {
    /// In tab order.
    pub const ALL: [Section; 12] = [
        Section::Peers,
        Section::Keys,
        Section::Users,
        Section::Groups,
        Section::Networks,
        Section::Routes,
        Section::Services,
        Section::Policies,
        Section::Posture,
        Section::Dns,
        Section::Idps,
        Section::Events,
    ];

    /// Title.
    pub fn title(self) -> &'static str {
        match self {
            Section::Peers => "Devices",
            Section::Keys => "Setup keys",
            Section::Users => "Users",
            Section::Groups => "Groups",
            Section::Networks => "Networks",
            Section::Routes => "Routes",
            Section::Services => "Services",
            Section::Policies => "Policies",
            Section::Posture => "Posture",
            Section::Dns => "DNS",
            Section::Idps => "IdPs",
            Section::Events => "Events",
        }
    }

    /// The action that lists it.
    pub fn list(self) -> AdminAction {
        match self {
            Section::Peers => AdminAction::Peers,
            Section::Keys => AdminAction::Keys,
            Section::Users => AdminAction::Users,
            Section::Groups => AdminAction::Groups,
            Section::Networks => AdminAction::Network(crate::domain::networks::NetworkAction::List),
            Section::Routes => AdminAction::Network(crate::domain::networks::NetworkAction::Routes),
            Section::Services => AdminAction::Services,
            Section::Policies => AdminAction::Policies,
            Section::Posture => AdminAction::Postures,
            Section::Dns => AdminAction::Nameservers,
            Section::Idps => AdminAction::Idps,
            Section::Events => AdminAction::Events,
        }
    }

    fn step(self, delta: isize) -> Section {
        let i = Section::ALL.iter().position(|s| *s == self).unwrap_or(0) as isize;
        Section::ALL[(i + delta).rem_euclid(Section::ALL.len() as isize) as usize]
    }
}

/// A secret NetBird returned once, shown until dismissed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// A new setup key with its `netbird up` line.
    Key(CreatedKey),
    /// A new user, with a password for a person.
    User(CreatedUser),
}

/// The tab's state.
#[derive(Debug, Clone, PartialEq)]
pub struct NetBirdView {
    /// Which list.
    pub section: Section,
    /// The last answer for the section: a list, or why it could not be had.
    pub list: Option<Result<AdminAnswer, crate::domain::error::Failure>>,
    /// A request is out (list or change).
    pub busy: bool,
    /// Selected row among the shown ones.
    pub selected: usize,
    /// The search being typed.
    pub search: Option<Field>,
    /// The active search.
    pub query: String,
    /// A one-line prompt.
    pub prompt: Option<Prompt>,
    /// The new-key form.
    pub key_form: Option<KeyForm>,
    /// A change waiting for y/n, in words.
    pub confirm: Option<(String, AdminAction)>,
    /// A secret to show once.
    pub secret: Option<Secret>,
    /// Why the last prompt's line was not taken.
    pub prompt_error: Option<String>,
    /// The key form as sent, given back with NetBird's answer when it refuses the key.
    pub key_form_sent: Option<KeyForm>,
    /// The fleet's rules for setup keys as the baseline says them (`None`: not asked yet;
    /// `Some(None)`: there are none), for the key form's starting values.
    pub key_rules: Option<Option<crate::domain::baseline_keys::KeyRules>>,
}

impl Default for NetBirdView {
    fn default() -> Self {
        Self {
            section: Section::Peers,
            list: None,
            busy: false,
            selected: 0,
            search: None,
            query: String::new(),
            prompt: None,
            key_form: None,
            confirm: None,
            secret: None,
            prompt_error: None,
            key_form_sent: None,
            key_rules: None,
        }
    }
}

/// One shown row: its place in the list, NetBird's id, a name for prompts, and the text the
/// search looks in.
pub struct Row {
    /// Position in the list NetBird sent.
    pub index: usize,
    /// NetBird id.
    pub id: String,
    /// Name (email for people).
    pub name: String,
    haystack: String,
}

impl NetBirdView {
    /// True while typing (search, prompt, key form, confirmation).
    pub fn typing(&self) -> bool {
        self.search.is_some() || self.prompt.is_some() || self.key_form.is_some() || self.confirm.is_some()
    }

    /// The rows of the current list that match the search, in NetBird's order.
    pub fn rows(&self) -> Vec<Row> {
        let row = |index: usize, id: &str, name: &str, haystack: String| Row {
            index,
            id: id.to_string(),
            name: name.to_string(),
            haystack,
        };
        let all: Vec<Row> = match &self.list {
            Some(Ok(AdminAnswer::Peers(p))) => p
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let text = format!("{} {} {} {} {}", p.name, p.ip, p.os, p.version, p.groups.join(" "));
                    row(i, &p.id, &p.name, text)
                })
                .collect(),
            Some(Ok(AdminAnswer::Keys(k))) => k
                .iter()
                .enumerate()
                .map(|(i, k)| row(i, &k.id, &k.name, format!("{} {} {}", k.name, k.state, k.auto_groups.join(" "))))
                .collect(),
            Some(Ok(AdminAnswer::Users(u))) => u
                .iter()
                .enumerate()
                .map(|(i, u)| {
                    let name = if u.email.is_empty() { &u.name } else { &u.email };
                    row(i, &u.id, name, format!("{} {} {}", u.name, u.email, u.role))
                })
                .collect(),
            Some(Ok(AdminAnswer::Groups(g))) => {
                g.iter().enumerate().map(|(i, g)| row(i, &g.id, &g.name, g.name.clone())).collect()
            }
            Some(Ok(AdminAnswer::Networks(n))) => n
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let res: Vec<String> = n.resources.iter().map(|r| format!("{} {}", r.name, r.address)).collect();
                    let via: Vec<&str> = n.routers.iter().map(|r| r.peer.as_str()).collect();
                    row(i, &n.id, &n.name, format!("{} {} {}", n.name, res.join(" "), via.join(" ")))
                })
                .collect(),
            Some(Ok(AdminAnswer::Routes(r))) => r
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let hay = format!(
                        "{} {} {} {} {}",
                        r.network_id,
                        r.network,
                        r.domains.join(" "),
                        r.peer,
                        r.groups.join(" ")
                    );
                    row(i, &r.id, &r.network_id, hay)
                })
                .collect(),
            Some(Ok(AdminAnswer::Postures(p))) => p
                .iter()
                .enumerate()
                .map(|(i, p)| row(i, &p.id, &p.name, format!("{} {}", p.name, p.min_version.as_deref().unwrap_or(""))))
                .collect(),
            Some(Ok(AdminAnswer::Nameservers(n))) => n
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    row(i, &n.id, &n.name, format!("{} {} {}", n.name, n.servers.join(" "), n.domains.join(" ")))
                })
                .collect(),
            Some(Ok(AdminAnswer::Idps(d))) => d
                .iter()
                .enumerate()
                .map(|(i, d)| row(i, &d.id, &d.name, format!("{} {} {}", d.name, d.kind, d.issuer)))
                .collect(),
            Some(Ok(AdminAnswer::Services(s))) => s
                .iter()
                .enumerate()
                .map(|(i, s)| row(i, &s.id, &s.name, format!("{} {} {}", s.name, s.domain, s.status)))
                .collect(),
            Some(Ok(AdminAnswer::Events(e))) => e
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    row(i, &e.target, &e.activity, format!("{} {} {} {}", e.activity, e.code, e.initiator, e.target))
                })
                .collect(),
            Some(Ok(AdminAnswer::Policies(p))) => p
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let groups: Vec<String> =
                        p.rules.iter().flat_map(|r| r.sources.iter().chain(&r.destinations).cloned()).collect();
                    row(i, &p.id, &p.name, format!("{} {}", p.name, groups.join(" ")))
                })
                .collect(),
            _ => Vec::new(),
        };
        let q = self.query.to_lowercase();
        all.into_iter().filter(|r| q.is_empty() || r.haystack.to_lowercase().contains(&q)).collect()
    }

    /// Indexes into the current list of the rows shown (for the renderer).
    pub fn shown(&self) -> Vec<usize> {
        self.rows().into_iter().map(|r| r.index).collect()
    }

    fn selected_row(&self) -> Option<Row> {
        self.rows().into_iter().nth(self.selected)
    }

    /// Asks for the current section again.
    pub fn reload(&mut self) -> AdminAction {
        self.busy = true;
        self.section.list()
    }

    /// Switches section and asks for its list.
    pub fn switch(&mut self, delta: isize) -> AdminAction {
        self.section = self.section.step(delta);
        self.list = None;
        self.selected = 0;
        self.query.clear();
        self.reload()
    }

    /// Moves the selection.
    pub fn move_by(&mut self, n: isize) {
        let len = self.rows().len();
        self.selected = self.selected.saturating_add_signed(n).min(len.saturating_sub(1));
    }

    /// The right the tab's `key` takes in the current list (the [`AdminAction::right`] of the
    /// change it leads to).
    pub fn needs(&self, key: Key) -> crate::domain::rights::Right {
        use crate::domain::rights::Right;
        match (key, self.section) {
            (Key::Toggle, Section::Services) => Right::ServicesToggle,
            // Turning a policy off is an operator's; on, an admin's (the engine decides which).
            (Key::Toggle, Section::Policies) => Right::NetBirdChange,
            (_, Section::Services) => Right::ServicesPublish,
            (Key::New | Key::Rename, Section::Policies) => Right::NetBirdGrant,
            (Key::New, Section::Groups | Section::Posture)
            | (Key::Rename, _)
            | (Key::Toggle, _)
            | (Key::LoginExpiry, _) => Right::NetBirdChange,
            _ => Right::NetBirdGrant,
        }
    }

    /// What a key of the tab asks for (`None`: not for this section or nothing selected).
    pub fn start(&mut self, key: Key) -> Option<AdminAction> {
        let row = self.selected_row();
        let user = |v: &Self, id: &str| match &v.list {
            Some(Ok(AdminAnswer::Users(u))) => u.iter().find(|x| x.id == id).cloned(),
            _ => None,
        };
        match (key, self.section) {
            (Key::New, Section::Keys) => self.key_form = Some(KeyForm::new(self.key_rules.clone().flatten().as_ref())),
            (Key::New, Section::Groups) => {
                self.prompt = Some(Prompt { purpose: Purpose::NewGroup, text: Default::default() })
            }
            (Key::New, Section::Networks) => {
                self.prompt = Some(Prompt { purpose: Purpose::NewNetwork, text: Default::default() })
            }
            (Key::New, Section::Users) => {
                self.prompt = Some(Prompt { purpose: Purpose::NewUser, text: Default::default() })
            }
            (Key::New, Section::Services) => {
                self.prompt = Some(Prompt { purpose: Purpose::NewService, text: Default::default() })
            }
            (Key::New, Section::Dns) => {
                self.prompt = Some(Prompt { purpose: Purpose::NewNameservers, text: Default::default() })
            }
            (Key::New, Section::Idps) => {
                self.prompt = Some(Prompt { purpose: Purpose::NewIdp, text: Default::default() })
            }
            (Key::New, Section::Routes) => {
                self.prompt = Some(Prompt { purpose: Purpose::NewRoute, text: Default::default() })
            }
            (Key::New, Section::Policies) => {
                self.prompt = Some(Prompt { purpose: Purpose::NewPolicy, text: Default::default() })
            }
            (Key::Rename, Section::Policies) => {
                let r = row?;
                let policy = match &self.list {
                    Some(Ok(AdminAnswer::Policies(p))) => p.iter().find(|x| x.id == r.id).cloned(),
                    _ => None,
                }?;
                match crate::domain::policy::policy_line(&policy) {
                    Some(line) => {
                        self.prompt = Some(Prompt { purpose: Purpose::EditPolicy(r.id), text: line.as_str().into() })
                    }
                    None => {
                        // Shown where the line would be; the engine refuses such a change too.
                        self.prompt = Some(Prompt { purpose: Purpose::EditPolicy(r.id), text: Default::default() });
                        self.prompt_error =
                            Some(format!("'{}' has several rules: change it in NetBird's dashboard", r.name));
                    }
                }
            }
            (Key::New, Section::Posture) => {
                self.prompt = Some(Prompt { purpose: Purpose::NewPosture, text: Default::default() })
            }
            (Key::Toggle, Section::Services) => {
                let r = row?;
                let on = match &self.list {
                    Some(Ok(AdminAnswer::Services(s))) => s.iter().any(|x| x.id == r.id && x.enabled),
                    _ => false,
                };
                let verb = if on { "disable" } else { "enable" };
                self.confirm = Some((
                    format!("{verb} service '{}'?", r.name),
                    AdminAction::ServiceEnabled { service: r.id, enabled: !on },
                ));
            }
            (Key::Toggle, Section::Policies) => {
                let r = row?;
                let (on, flat) = match &self.list {
                    Some(Ok(AdminAnswer::Policies(p))) => {
                        p.iter().find(|x| x.id == r.id).map_or((false, false), |x| (x.enabled, x.all_to_all))
                    }
                    _ => (false, false),
                };
                let why = if flat { " (every device can reach every other now)" } else { "" };
                let verb = if on { "disable" } else { "enable" };
                self.confirm = Some((
                    format!("{verb} policy '{}'?{why}", r.name),
                    AdminAction::PolicyEnabled { policy: r.id, enabled: !on },
                ));
            }
            (Key::Rename, Section::Peers) => {
                let r = row?;
                self.prompt = Some(Prompt { purpose: Purpose::RenamePeer(r.id), text: r.name.into() });
            }
            (Key::Rename, Section::Groups) => {
                let r = row?;
                self.prompt = Some(Prompt { purpose: Purpose::RenameGroup(r.id), text: r.name.into() });
            }
            (Key::Role, Section::Users) => {
                let r = row?;
                let current = user(self, &r.id).map(|u| u.role).unwrap_or_default();
                self.prompt = Some(Prompt { purpose: Purpose::Role(r.id), text: current.into() });
            }
            (Key::Toggle, Section::Keys) => {
                let r = row?;
                self.confirm = Some((
                    format!("revoke setup key '{}'? (cannot be undone)", r.name),
                    AdminAction::RevokeKey { key: r.id },
                ));
            }
            (Key::Toggle, Section::Users) => {
                let r = row?;
                let blocked = user(self, &r.id).is_some_and(|u| u.blocked);
                let verb = if blocked { "unblock" } else { "block" };
                self.confirm =
                    Some((format!("{verb} '{}'?", r.name), AdminAction::BlockUser { user: r.id, blocked: !blocked }));
            }
            (Key::LoginExpiry, Section::Peers) => {
                let r = row?;
                let on = match &self.list {
                    Some(Ok(AdminAnswer::Peers(p))) => p.iter().any(|x| x.id == r.id && x.login_expiration_enabled),
                    _ => false,
                };
                return Some(AdminAction::PeerLoginExpiration { peer: r.id, enabled: !on });
            }
            // The audit trail is read only.
            (_, Section::Events) => {}
            (Key::Delete, section) => {
                let r = row?;
                let (what, action) = match section {
                    Section::Peers => ("device", AdminAction::DeletePeer { peer: r.id }),
                    Section::Keys => ("setup key", AdminAction::DeleteKey { key: r.id }),
                    Section::Users => ("user (and their devices)", AdminAction::DeleteUser { user: r.id }),
                    Section::Groups => ("group", AdminAction::DeleteGroup { group: r.id }),
                    Section::Networks => (
                        "network (with its resources and routers)",
                        AdminAction::Network(crate::domain::networks::NetworkAction::Delete { network: r.id }),
                    ),
                    Section::Services => ("service", AdminAction::DeleteService { service: r.id }),
                    Section::Routes => (
                        "route",
                        AdminAction::Network(crate::domain::networks::NetworkAction::DeleteRoute { route: r.id }),
                    ),
                    Section::Policies => ("policy", AdminAction::DeletePolicy { policy: r.id }),
                    Section::Posture => ("posture check", AdminAction::DeletePosture { posture: r.id }),
                    Section::Dns => ("nameserver group", AdminAction::DeleteNameservers { group: r.id }),
                    Section::Idps => ("identity provider", AdminAction::DeleteIdp { idp: r.id }),
                    Section::Events => return None,
                };
                self.confirm = Some((format!("delete {what} '{}'?", r.name), action));
            }
            _ => {}
        }
        None
    }

    /// A key while typing; returns a change to send when one is submitted.
    pub fn on_text(&mut self, k: TextKey) -> Option<AdminAction> {
        if let Some((_, action)) = self.confirm.clone() {
            match k {
                TextKey::Char('y') | TextKey::Enter => {
                    self.confirm = None;
                    return Some(action);
                }
                TextKey::Char('n') | TextKey::Esc => self.confirm = None,
                _ => {}
            }
            return None;
        }
        if let Some(q) = self.search.as_mut() {
            match k {
                TextKey::Enter => {
                    self.query = self.search.take().unwrap_or_default().to_string();
                    self.selected = 0;
                }
                TextKey::Esc => self.search = None,
                k => {
                    q.edit(k);
                }
            }
            return None;
        }
        if let Some(f) = self.key_form.as_mut() {
            match k {
                TextKey::Esc => self.key_form = None,
                TextKey::Tab | TextKey::Down => f.focus = (f.focus + 1) % 6,
                TextKey::BackTab | TextKey::Up => f.focus = (f.focus + 5) % 6,
                TextKey::Char(' ') if f.focus == 1 => f.reusable = !f.reusable,
                TextKey::Char(' ') if f.focus == 5 => f.ephemeral = !f.ephemeral,
                TextKey::Enter | TextKey::Submit => match f.request() {
                    Ok(key) => {
                        self.key_form_sent = self.key_form.take();
                        return Some(AdminAction::CreateKey(key));
                    }
                    Err(e) => f.error = Some(e.rule),
                },
                k => {
                    if let Some(t) = f.text_mut() {
                        t.edit(k);
                    }
                }
            }
            return None;
        }
        self.on_prompt(k)
    }

    /// Takes in what the engine answered for `action`; returns the list to ask for next, if any.
    pub fn answered(
        &mut self,
        action: &AdminAction,
        result: Result<AdminAnswer, crate::domain::error::Failure>,
    ) -> Option<AdminAction> {
        self.busy = false;
        let is_list = !action.changes();
        match result {
            Ok(answer) if is_list => {
                if action == &self.section.list() {
                    self.list = Some(Ok(answer));
                    self.move_by(0);
                }
                None
            }
            Ok(AdminAnswer::KeyCreated(k)) => {
                self.key_form_sent = None;
                self.secret = Some(Secret::Key(k));
                Some(self.reload())
            }
            Ok(AdminAnswer::UserCreated(u)) => {
                self.secret = Some(Secret::User(u));
                Some(self.reload())
            }
            Ok(_) => Some(self.reload()),
            Err(e) if is_list => {
                if action == &self.section.list() {
                    self.list = Some(Err(e));
                }
                None
            }
            // A refused key comes back with what was typed and why, to be fixed, not retyped.
            Err(e) if matches!(action, AdminAction::CreateKey(_)) => {
                self.key_form = self.key_form_sent.take().map(|f| KeyForm { error: Some(e.message), ..f });
                None
            }
            Err(_) => None,
        }
    }
}

/// The tab's own keys, beyond moving and searching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// New key, group or user.
    New,
    /// Rename the device or group.
    Rename,
    /// Revoke the key, or block/unblock the user.
    Toggle,
    /// Login expiration on/off for the device.
    LoginExpiry,
    /// Change the user's role.
    Role,
    /// Delete the selected record.
    Delete,
}

#[cfg(test)]
#[path = "netbird_view_tests.rs"]
mod tests;
