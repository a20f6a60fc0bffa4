//! The NetBird tab's one-line prompts: what each is for, and what a submitted line becomes.
//! A line that cannot become a request stays on screen with the reason, to be fixed.

use super::NetBirdView;
use crate::app::TextKey;
use crate::app::text::Field;
use crate::domain::netbird::{AdminAction, NewUser};
use crate::domain::policy::{NewPolicy, PolicyEdit};
use crate::domain::posture::NewPosture;

/// What a one-line prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// New name for the device with this id.
    RenamePeer(String),
    /// New name for the group with this id.
    RenameGroup(String),
    /// A new group's name.
    NewGroup,
    /// A new network's name.
    NewNetwork,
    /// A new user: a name (service user), or a name and an email (a person).
    NewUser,
    /// A new role for the user with this id.
    Role(String),
    /// A new service: `NAME TARGET[@ADDRESS][:PORT] [none|sso|pin|password]`.
    NewService,
    /// The PIN or password of this service (the text is drawn as dots).
    ServiceSecret(crate::domain::netbird::NewService),
    /// A new posture check: [`NewPosture::parse_line`].
    NewPosture,
    /// A new legacy route: [`crate::domain::routes::NewRoute::parse_line`].
    NewRoute,
    /// A new nameserver group: [`crate::domain::netbird_lines::nameservers`].
    NewNameservers,
    /// A new identity provider: [`crate::domain::netbird_lines::idp`].
    NewIdp,
    /// The client secret of this identity provider (drawn as dots).
    IdpSecret(crate::domain::netbird::NewIdp),
    /// A new policy: [`NewPolicy::parse_line`].
    NewPolicy,
    /// The policy with this id, as a line to change.
    EditPolicy(String),
}

impl Purpose {
    /// The prompt's label.
    pub fn label(&self) -> &'static str {
        match self {
            Purpose::RenamePeer(_) => "new device name",
            Purpose::RenameGroup(_) => "new group name",
            Purpose::NewGroup => "group name",
            Purpose::NewNetwork => "network name (then its resources and router: nbmsp customer networks)",
            Purpose::NewUser => "name (a service user), or name and email (a person who logs in)",
            Purpose::Role(_) => "role: admin, user, auditor, network_admin or billing_admin",
            Purpose::NewService => "service: NAME DEVICE-OR-RESOURCE[@ADDRESS][:PORT] [none|sso|pin|password]",
            Purpose::ServiceSecret(_) => "its PIN or password (not shown)",
            Purpose::NewPolicy | Purpose::EditPolicy(_) => {
                "policy: NAME from=GROUP,… to=GROUP,… [proto=tcp|udp|icmp] [ports=22,443] [oneway] [drop]"
            }
            Purpose::NewNameservers => "nameservers: NAME ns=IP[:PORT],… groups=G,… [domains=D,…] [search]",
            Purpose::NewIdp => "identity provider: TYPE NAME client-id=ID [issuer=URL] (the secret next)",
            Purpose::IdpSecret(_) => "its client secret (not shown; kept only by NetBird)",
            Purpose::NewRoute => {
                "route: NETWORK-ID RANGE|DOMAIN,… via=DEVICE|via=group:G to=GROUP,… [metric=N] [nomasq]"
            }
            Purpose::NewPosture => {
                "posture: NAME client=V linux=V windows=V macos=V allow=CIDR,… deny=… countries=DE,… not-countries=…"
            }
        }
    }
}

/// A one-line prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// What the text becomes.
    pub purpose: Purpose,
    /// Typed so far.
    pub text: Field,
}

impl NetBirdView {
    /// A key while a prompt is open; returns the change a submitted line asks for.
    pub(super) fn on_prompt(&mut self, k: TextKey) -> Option<AdminAction> {
        let p = self.prompt.as_mut()?;
        match k {
            TextKey::Esc => {
                self.prompt = None;
                self.prompt_error = None;
            }
            TextKey::Enter => {
                self.prompt_error = None;
                let Prompt { purpose, text } = self.prompt.take()?;
                let text = text.trim().to_string();
                if text.is_empty() {
                    return None;
                }
                // A line that cannot be sent is kept, with what is wrong in the label's place, to
                // be fixed, not retyped.
                let mut refused = |purpose: Purpose, why: String| {
                    self.prompt = Some(Prompt { purpose, text: text.as_str().into() });
                    self.prompt_error = Some(why);
                };
                return Some(match purpose {
                    Purpose::NewPolicy | Purpose::EditPolicy(_) => match NewPolicy::parse_line(&text) {
                        Ok(p) => match purpose {
                            Purpose::EditPolicy(policy) => {
                                AdminAction::EditPolicy { policy, edit: PolicyEdit::from_line(p) }
                            }
                            _ => AdminAction::CreatePolicy(p),
                        },
                        Err(why) => {
                            refused(purpose, why.rule);
                            return None;
                        }
                    },
                    Purpose::NewNameservers => match crate::domain::netbird_lines::nameservers(&text) {
                        Ok(n) => AdminAction::CreateNameservers(n),
                        Err(why) => {
                            refused(Purpose::NewNameservers, why.rule);
                            return None;
                        }
                    },
                    Purpose::NewIdp => match crate::domain::netbird_lines::idp(&text) {
                        Ok(i) => {
                            self.prompt = Some(Prompt { purpose: Purpose::IdpSecret(i), text: Default::default() });
                            return None;
                        }
                        Err(why) => {
                            refused(Purpose::NewIdp, why.rule);
                            return None;
                        }
                    },
                    Purpose::IdpSecret(mut idp) => {
                        idp.secret = crate::domain::netbird::Secret(text);
                        AdminAction::CreateIdp(idp)
                    }
                    Purpose::NewRoute => match crate::domain::routes::NewRoute::parse_line(&text) {
                        Ok(r) => AdminAction::Network(crate::domain::networks::NetworkAction::CreateRoute(r)),
                        Err(why) => {
                            refused(Purpose::NewRoute, why.rule);
                            return None;
                        }
                    },
                    Purpose::NewPosture => match NewPosture::parse_line(&text) {
                        Ok(p) => AdminAction::CreatePosture(p),
                        Err(why) => {
                            refused(Purpose::NewPosture, why.rule);
                            return None;
                        }
                    },
                    Purpose::NewService => match crate::app::netbird_form::parse_service(&text) {
                        Ok((service, true)) => {
                            self.prompt =
                                Some(Prompt { purpose: Purpose::ServiceSecret(service), text: Default::default() });
                            return None;
                        }
                        Ok((service, false)) => AdminAction::CreateService(service),
                        Err(why) => {
                            refused(Purpose::NewService, why.rule);
                            return None;
                        }
                    },
                    Purpose::ServiceSecret(service) => {
                        AdminAction::CreateService(crate::app::netbird_form::with_secret(service, &text))
                    }
                    Purpose::RenamePeer(peer) => AdminAction::RenamePeer { peer, name: text },
                    Purpose::RenameGroup(group) => AdminAction::RenameGroup { group, name: text },
                    Purpose::NewGroup => AdminAction::CreateGroup { name: text },
                    Purpose::NewNetwork => AdminAction::Network(crate::domain::networks::NetworkAction::Create {
                        name: text,
                        description: String::new(),
                    }),
                    Purpose::Role(user) => AdminAction::SetUserRole { user, role: text },
                    Purpose::NewUser => {
                        let (name, email) = match text.rsplit_once(' ') {
                            Some((n, e)) if e.contains('@') => (n.trim().to_string(), e.to_string()),
                            _ => (text, String::new()),
                        };
                        let service = email.is_empty();
                        AdminAction::CreateUser(NewUser { service, name, email, role: "user".into() })
                    }
                });
            }
            k => {
                p.text.edit(k);
            }
        }
        None
    }
}
