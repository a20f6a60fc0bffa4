//! The new/edit customer form: fields, live validation against the domain rules, and the
//! multi-line notes editor (ratatui-textarea, whose state lives here; rendering only reads it).

use ratatui_textarea::{Input, Key, TextArea};

use super::text::Field as Text;

use super::TextKey;
use crate::domain::ValidationError;
use crate::domain::customer::{CustomerPatch, Layout, NewCustomer, fqdn};
use crate::domain::customer_fields::{REF_FIELDS, none_if_empty};
use crate::domain::validate;

/// The form's fields in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Display name.
    Name,
    /// Company.
    Company,
    /// Subdomain (fixed when editing).
    Subdomain,
    /// Email.
    Email,
    /// Device limit.
    MaxDevices,
    /// A reference field (`customer_fields::REF_FIELDS`, by index).
    Ref(usize),
    /// The uptime promised, in percent (empty: the `sla.target` setting).
    Sla,
    /// Layout (space toggles).
    Layout,
    /// NetBird's Reverse Proxy on or off (space toggles).
    ReverseProxy,
    /// Notes (Enter adds a line).
    Notes,
}

impl Field {
    /// Tab order: the reference fields after the device limit.
    pub fn all() -> Vec<Field> {
        let head = [Field::Name, Field::Company, Field::Subdomain, Field::Email, Field::MaxDevices];
        let tail = [Field::Sla, Field::Layout, Field::ReverseProxy, Field::Notes];
        head.into_iter().chain((0..REF_FIELDS.len()).map(Field::Ref)).chain(tail).collect()
    }

    /// Label shown left of the field.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Company => "Company",
            Field::Subdomain => "Subdomain",
            Field::Email => "Email",
            Field::MaxDevices => "Max devices",
            Field::Ref(i) => REF_FIELDS[i].label,
            Field::Sla => "SLA target",
            Field::Layout => "Layout",
            Field::ReverseProxy => "Rev. proxy",
            Field::Notes => "Notes",
        }
    }

    /// The domain rule's field name (errors are matched by it).
    pub fn rule_name(self) -> &'static str {
        match self {
            Field::MaxDevices => "max_devices",
            Field::Ref(i) => REF_FIELDS[i].key,
            Field::Sla => "sla_target",
            Field::Name => "name",
            Field::Company => "company",
            Field::Subdomain => "subdomain",
            Field::Email => "email",
            Field::Layout => "layout",
            Field::ReverseProxy => "reverse_proxy",
            Field::Notes => "notes",
        }
    }
}

/// The form.
#[derive(Debug, Clone)]
pub struct FormState {
    /// `Some(id)` when editing that customer.
    pub editing: Option<i64>,
    /// Editing a deployed customer: its layout cannot change (its data lives in the layout's place).
    pub layout_fixed: bool,
    /// Display name.
    pub name: Text,
    /// Company.
    pub company: Text,
    /// Subdomain.
    pub subdomain: Text,
    /// Email.
    pub email: Text,
    /// Device limit as typed.
    pub max_devices: Text,
    /// The reference fields as typed (empty: none), in `REF_FIELDS` order.
    pub refs: Vec<Text>,
    /// The uptime promised as typed (empty: the setting's).
    pub sla: Text,
    /// Layout.
    pub layout: Layout,
    /// NetBird's Reverse Proxy on.
    pub reverse_proxy: bool,
    /// Notes editor.
    pub notes: TextArea<'static>,
    /// Focused field.
    pub focus: Field,
    /// Rules broken by the current values (recomputed on every edit).
    pub errors: Vec<ValidationError>,
    /// The base domain, for the FQDN preview.
    pub base_domain: String,
    /// The last refusal from the store (e.g. the subdomain was taken meanwhile).
    pub server_error: Option<String>,
    /// Waiting for the store.
    pub busy: bool,
}

impl FormState {
    /// An empty form for a new customer.
    pub fn new_customer(base_domain: &str, layout: Layout) -> Self {
        let mut f = Self {
            editing: None,
            layout_fixed: false,
            name: Text::default(),
            company: Text::default(),
            subdomain: Text::default(),
            email: Text::default(),
            max_devices: Text::new(crate::domain::customer::DEFAULT_MAX_DEVICES.to_string()),
            refs: vec![Text::default(); REF_FIELDS.len()],
            sla: Text::default(),
            layout,
            reverse_proxy: false,
            notes: TextArea::default(),
            focus: Field::Name,
            errors: Vec::new(),
            base_domain: base_domain.to_string(),
            server_error: None,
            busy: false,
        };
        f.validate(&[]);
        f
    }

    /// A form filled with `c` for editing; `deployed` fixes its layout.
    pub fn edit(c: &crate::domain::customer::Customer, base_domain: &str, deployed: bool) -> Self {
        let mut f = Self::new_customer(base_domain, c.layout);
        f.editing = Some(c.id);
        f.layout_fixed = deployed;
        f.name = Text::new(c.name.as_str());
        f.company = Text::new(c.company.as_str());
        f.subdomain = Text::new(c.subdomain.as_str());
        f.email = Text::new(c.email.as_str());
        f.max_devices = Text::new(c.max_devices.to_string());
        f.refs = REF_FIELDS.iter().map(|r| Text::new((r.get)(c).unwrap_or_default())).collect();
        f.sla = Text::new(c.sla_target.map(|t| t.to_string()).unwrap_or_default());
        f.reverse_proxy = c.reverse_proxy;
        f.notes = TextArea::new(c.notes.lines().map(str::to_string).collect());
        f.validate(&[]);
        f
    }

    /// The notes as one string.
    pub fn notes_text(&self) -> String {
        self.notes.lines().join("\n")
    }

    /// The promise as typed: `None` when empty (the setting's), an error when not a percentage.
    fn sla_value(&self) -> Result<Option<crate::domain::sla::Target>, ValidationError> {
        let typed = self.sla.trim();
        if typed.is_empty() {
            return Ok(None);
        }
        typed.parse().map(Some).map_err(|e: String| ValidationError::new("sla_target", e))
    }

    fn max_devices_value(&self) -> Result<i64, ValidationError> {
        self.max_devices
            .trim()
            .parse::<i64>()
            .map_err(|_| ValidationError::new("max_devices", "must be a whole number"))
    }

    /// What would be created.
    pub fn new_customer_value(&self) -> NewCustomer {
        let mut n = NewCustomer::new(&self.name, &self.subdomain, &self.email, self.layout);
        n.company = self.company.to_string();
        n.max_devices = self.max_devices_value().unwrap_or(0);
        n.notes = self.notes_text();
        n.sla_target = self.sla_value().ok().flatten();
        n.reverse_proxy = self.reverse_proxy;
        for (r, typed) in REF_FIELDS.iter().zip(&self.refs) {
            (r.set_new)(&mut n, none_if_empty(Some(typed.to_string())));
        }
        n
    }

    /// What would change (all editable fields).
    pub fn patch(&self) -> CustomerPatch {
        let mut p = CustomerPatch {
            name: Some(self.name.to_string()),
            company: Some(self.company.to_string()),
            email: Some(self.email.to_string()),
            max_devices: self.max_devices_value().ok(),
            notes: Some(self.notes_text()),
            sla_target: self.sla_value().ok(),
            reverse_proxy: Some(self.reverse_proxy),
            layout: Some(self.layout),
            ..CustomerPatch::default()
        };
        for (r, typed) in REF_FIELDS.iter().zip(&self.refs) {
            (r.set_patch)(&mut p, Some(typed.to_string()));
        }
        p
    }

    /// Re-checks every field; `taken` lists (subdomain, name) of other customers.
    pub fn validate(&mut self, taken: &[(String, String)]) {
        let mut errors = self.new_customer_value().validate();
        if let Err(e) = self.max_devices_value() {
            errors.retain(|x| x.field != "max_devices");
            errors.push(e);
        }
        if let Err(e) = self.sla_value() {
            errors.push(e);
        }
        if self.editing.is_none()
            && let Some((_, name)) = taken.iter().find(|(s, _)| *s == *self.subdomain)
        {
            errors
                .push(ValidationError::new("subdomain", format!("\"{}\" is already taken by {name}", self.subdomain)));
        }
        self.errors = errors;
    }

    /// The first error for `field`.
    pub fn error(&self, field: Field) -> Option<&ValidationError> {
        self.errors.iter().find(|e| e.field == field.rule_name())
    }

    /// The FQDN the subdomain gives, when it is valid.
    pub fn fqdn(&self) -> Option<String> {
        validate::subdomain(&self.subdomain).ok().map(|()| fqdn(&self.subdomain, &self.base_domain))
    }

    /// Moves the focus by `delta` fields (the subdomain is skipped when editing: it cannot change).
    pub fn move_focus(&mut self, delta: isize) {
        let all = Field::all();
        let n = all.len() as isize;
        let mut i = all.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        loop {
            i = (i + delta).rem_euclid(n);
            let f = all[i as usize];
            let fixed = (self.editing.is_some() && f == Field::Subdomain) || (self.layout_fixed && f == Field::Layout);
            if !fixed {
                self.focus = f;
                return;
            }
        }
    }

    /// Applies a key to the focused field. Returns true when the key was consumed.
    pub fn key(&mut self, k: TextKey) -> bool {
        if self.focus == Field::Notes {
            let input = match k {
                TextKey::Char(c) => Key::Char(c),
                TextKey::Backspace => Key::Backspace,
                TextKey::Enter => Key::Enter,
                TextKey::Up => Key::Up,
                TextKey::Down => Key::Down,
                TextKey::Left => Key::Left,
                TextKey::Right => Key::Right,
                // The text area's own Ctrl-U / Ctrl-W (to the line start, the word before).
                TextKey::ClearLine => Key::Char('u'),
                TextKey::DeleteWord => Key::Char('w'),
                _ => return false,
            };
            let ctrl = matches!(k, TextKey::ClearLine | TextKey::DeleteWord);
            self.notes.input(Input { key: input, ctrl, alt: false, shift: false });
            return true;
        }
        if self.focus == Field::ReverseProxy {
            if matches!(k, TextKey::Char(' ') | TextKey::Left | TextKey::Right) {
                self.reverse_proxy = !self.reverse_proxy;
                return true;
            }
            return false;
        }
        if self.focus == Field::Layout {
            if matches!(k, TextKey::Char(' ') | TextKey::Left | TextKey::Right) {
                self.layout = if self.layout == Layout::Combined { Layout::Legacy } else { Layout::Combined };
                return true;
            }
            return false;
        }
        let text = match self.focus {
            Field::Name => &mut self.name,
            Field::Company => &mut self.company,
            Field::Subdomain => &mut self.subdomain,
            Field::Email => &mut self.email,
            Field::Ref(i) => &mut self.refs[i],
            Field::Sla => &mut self.sla,
            _ => &mut self.max_devices,
        };
        text.edit(k)
    }
}
