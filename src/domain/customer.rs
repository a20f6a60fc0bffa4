//! A customer of the MSP and the rules for creating and changing one.

use serde::{Deserialize, Serialize};

use super::sla::Target;
use super::validate::{self, ValidationError};
use super::{Timestamp, word_enum};

word_enum! {
    /// What the customer's stack is doing, as far as nbmsp knows.
    pub enum CustomerStatus {
        /// Deployed and running.
        Active = "active",
        /// Running, but something is off (dashboard down, STUN failing, certificate pending,
        /// over the device limit); the reason says what.
        Degraded = "degraded",
        /// Created but not deployed yet.
        Inactive = "inactive",
        /// Stopped on purpose; its containers and data are kept.
        Stopped = "stopped",
        /// An operation is under way.
        Deploying = "deploying",
        /// Down or failed: an operation failed or a core container or health check is down;
        /// see the status reason and the log.
        Error = "error",
    }
}

word_enum! {
    /// Which NetBird container layout a customer runs.
    pub enum Layout {
        /// `netbird-server` + `dashboard` (NetBird >= 0.65).
        Combined = "combined",
        /// management, signal, relay and dashboard (NetBird before 0.65).
        Legacy = "legacy",
    }
}

impl Layout {
    /// The service that serves NetBird's management API (`/api`, `/oauth2`) in this layout.
    pub fn management_service(self) -> &'static str {
        match self {
            Layout::Combined => "server",
            Layout::Legacy => "management",
        }
    }
}

/// Devices allowed when the user gives no limit.
pub const DEFAULT_MAX_DEVICES: i64 = 20;

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    /// Database id; stable for the customer's lifetime.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Company; empty when not given.
    pub company: String,
    /// DNS label under the MSP's base domain; unique.
    pub subdomain: String,
    /// Contact address; also the NetBird owner's login.
    pub email: String,
    /// Devices the customer may connect.
    pub max_devices: i64,
    /// Free-form notes for the MSP's staff.
    pub notes: String,
    /// The MSP's contract or billing reference, for reports.
    pub contract_id: Option<String>,
    /// The customer's record in the MSP's PSA or ticketing system.
    pub psa_ref: Option<String>,
    /// The uptime promised to this customer (`None`: the `sla.target` setting).
    pub sla_target: Option<Target>,
    /// Whether the stack runs NetBird's Reverse Proxy (combined layout only).
    pub reverse_proxy: bool,
    /// NetBird layout of the customer's stack.
    pub layout: Layout,
    /// Current status.
    pub status: CustomerStatus,
    /// Why the status is what it is (the last error, for `error`).
    pub status_reason: Option<String>,
    /// When the customer was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    /// When any field last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    /// The Docker host its stack runs on (a [`super::hosts::local::Host`] id); `None` is the local engine.
    pub host_id: Option<i64>,
}

/// The customer an operator saw when asking for an operation: its id (never reused) and the
/// subdomain shown beside it. The engine checks both before acting, so a screen that is out of
/// date is refused instead of hitting whoever holds that id now.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CustomerRef {
    /// Database id.
    pub id: i64,
    /// Subdomain as shown.
    pub subdomain: String,
}

impl CustomerRef {
    /// A reference to `id` shown as `subdomain`.
    pub fn new(id: i64, subdomain: impl Into<String>) -> Self {
        Self { id, subdomain: subdomain.into() }
    }
}

impl Customer {
    /// The reference an operation on this customer carries.
    pub fn as_ref(&self) -> CustomerRef {
        CustomerRef::new(self.id, self.subdomain.clone())
    }

    /// The customer's public domain under `base_domain`.
    pub fn fqdn(&self, base_domain: &str) -> String {
        fqdn(&self.subdomain, base_domain)
    }
}

/// `<subdomain>.<base_domain>`, with any trailing dot of the base domain dropped.
pub fn fqdn(subdomain: &str, base_domain: &str) -> String {
    format!("{subdomain}.{}", base_domain.trim_end_matches('.'))
}

/// What a user gives to create a customer: also the record a backup carries and an import
/// entry, so a field added here travels through both without further code (a restore gives it
/// back; older records without it read as its default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// Display name.
    pub name: String,
    /// Company (may be empty).
    #[serde(default)]
    pub company: String,
    /// DNS label.
    pub subdomain: String,
    /// Contact address.
    pub email: String,
    /// Device limit.
    #[serde(default = "default_max_devices")]
    pub max_devices: i64,
    /// Notes (may span lines).
    #[serde(default)]
    pub notes: String,
    /// The MSP's contract or billing reference.
    #[serde(default)]
    pub contract_id: Option<String>,
    /// The customer's record in the MSP's PSA or ticketing system.
    #[serde(default)]
    pub psa_ref: Option<String>,
    /// The uptime promised (`None`: the `sla.target` setting).
    #[serde(default)]
    pub sla_target: Option<Target>,
    /// Run NetBird's Reverse Proxy beside the server.
    #[serde(default)]
    pub reverse_proxy: bool,
    /// Layout.
    pub layout: Layout,
}

fn default_max_devices() -> i64 {
    DEFAULT_MAX_DEVICES
}

impl NewCustomer {
    /// The fields `c` was created with, as they are now (what a backup keeps).
    pub fn of(c: &Customer) -> Self {
        // Destructured without `..`: a field added to `Customer` must be decided on here.
        let Customer {
            id: _,
            name,
            company,
            subdomain,
            email,
            max_devices,
            notes,
            contract_id,
            psa_ref,
            sla_target,
            reverse_proxy,
            layout,
            status: _,
            status_reason: _,
            created_at: _,
            updated_at: _,
            host_id: _,
        } = c.clone();
        NewCustomer {
            name,
            company,
            subdomain,
            email,
            max_devices,
            notes,
            contract_id,
            psa_ref,
            sla_target,
            reverse_proxy,
            layout,
        }
    }
}

impl NewCustomer {
    /// A new customer with what must be given; everything else at its default (the device
    /// limit, no notes, no references, the setting's uptime promise, no reverse proxy).
    pub fn new(name: &str, subdomain: &str, email: &str, layout: Layout) -> Self {
        NewCustomer {
            name: name.to_string(),
            company: String::new(),
            subdomain: subdomain.to_string(),
            email: email.to_string(),
            max_devices: DEFAULT_MAX_DEVICES,
            notes: String::new(),
            contract_id: None,
            psa_ref: None,
            sla_target: None,
            reverse_proxy: false,
            layout,
        }
    }

    /// Every rule broken, in form order, so a form can mark all bad fields at once.
    pub fn validate(&self) -> Vec<ValidationError> {
        let mut errors: Vec<ValidationError> = [
            validate::name(&self.name),
            validate::company(&self.company),
            validate::subdomain(&self.subdomain),
            validate::email(&self.email),
            validate::max_devices(self.max_devices),
            validate::notes(&self.notes),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect();
        errors.extend(super::customer_fields::check_new(self));
        errors.extend(validate::reverse_proxy(self.layout, self.reverse_proxy).err());
        errors
    }
}

/// A change to an existing customer; `None` keeps a field. The subdomain cannot change: it names
/// the customer's domain, certificate and containers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerPatch {
    /// New display name.
    pub name: Option<String>,
    /// New company.
    pub company: Option<String>,
    /// New contact address.
    pub email: Option<String>,
    /// New device limit.
    pub max_devices: Option<i64>,
    /// New notes.
    pub notes: Option<String>,
    /// New contract reference (empty clears it; see `customer_fields`).
    pub contract_id: Option<String>,
    /// New PSA reference (empty clears it).
    pub psa_ref: Option<String>,
    /// New uptime promise (`Some(None)`: back to the `sla.target` setting).
    pub sla_target: Option<Option<Target>>,
    /// Turn the reverse proxy on or off (applied on the next redeploy).
    pub reverse_proxy: Option<bool>,
    /// New layout (only before the first deploy: the layouts keep NetBird's data in different places).
    pub layout: Option<Layout>,
}

impl CustomerPatch {
    /// True when the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Every rule broken by the fields the patch sets.
    pub fn validate(&self) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        let mut check = |r: Result<(), ValidationError>| {
            if let Err(e) = r {
                errors.push(e);
            }
        };
        if let Some(v) = &self.name {
            check(validate::name(v));
        }
        if let Some(v) = &self.company {
            check(validate::company(v));
        }
        if let Some(v) = &self.email {
            check(validate::email(v));
        }
        if let Some(v) = self.max_devices {
            check(validate::max_devices(v));
        }
        if let Some(v) = &self.notes {
            check(validate::notes(v));
        }
        errors.extend(super::customer_fields::check_patch(self));
        errors
    }

    /// Applies the patch to a customer in memory.
    pub fn apply(&self, c: &mut Customer) {
        if let Some(v) = &self.name {
            c.name.clone_from(v);
        }
        if let Some(v) = &self.company {
            c.company.clone_from(v);
        }
        if let Some(v) = &self.email {
            c.email.clone_from(v);
        }
        if let Some(v) = self.max_devices {
            c.max_devices = v;
        }
        if let Some(v) = &self.notes {
            c.notes.clone_from(v);
        }
        super::customer_fields::apply_patch(self, c);
        if let Some(v) = self.sla_target {
            c.sla_target = v;
        }
        if let Some(v) = self.reverse_proxy {
            c.reverse_proxy = v;
        }
        if let Some(v) = self.layout {
            c.layout = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NewCustomer {
        NewCustomer {
            company: "ACME GmbH".into(),
            ..NewCustomer::new("ACME Logistics", "acme", "it@acme.example", Layout::Combined)
        }
    }

    #[test]
    fn valid_customer_has_no_errors() {
        assert!(sample().validate().is_empty());
    }

    #[test]
    fn all_bad_fields_are_reported_in_form_order() {
        let c = NewCustomer {
            name: String::new(),
            subdomain: "Bad_".into(),
            email: "nope".into(),
            max_devices: 0,
            ..sample()
        };
        let fields: Vec<_> = c.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "subdomain", "email", "max_devices"]);
    }

    #[test]
    fn words_round_trip() {
        for s in CustomerStatus::ALL {
            assert_eq!(s.as_str().parse::<CustomerStatus>(), Ok(*s));
        }
        assert!(
            "paused"
                .parse::<CustomerStatus>()
                .unwrap_err()
                .contains("active, degraded, inactive, stopped, deploying, error")
        );
        assert_eq!("legacy".parse::<Layout>(), Ok(Layout::Legacy));
    }

    #[test]
    fn fqdn_joins_label_and_base() {
        assert_eq!(fqdn("acme", "msp.example."), "acme.msp.example");
    }

    #[test]
    fn patch_validates_only_what_it_sets() {
        assert!(CustomerPatch::default().validate().is_empty());
        assert!(CustomerPatch::default().is_empty());
        let p = CustomerPatch { email: Some("bad".into()), ..Default::default() };
        assert_eq!(p.validate()[0].field, "email");
    }
}
