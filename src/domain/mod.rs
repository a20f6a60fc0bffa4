//! Pure types and rules: customers, deployments, settings, users, validation and port choice.
//! Nothing in here does IO, so everything here is tested with plain tables.

pub mod advice;
pub mod alerts;
pub mod audit;
pub mod baseline;
pub mod baseline_drift;
pub mod baseline_keys;
pub mod customer;
pub mod customer_fields;
pub mod deployment;
pub mod edge;
pub mod error;
pub mod fleet;
pub mod host;
pub mod images;
pub mod netbird;
pub mod netbird_action;
pub mod netbird_lines;
pub mod networks;
pub mod policy;
pub mod ports;
pub mod posture;
pub mod rights;
pub mod routes;
pub mod sanitize;
pub mod service_target;
pub mod settings;
pub mod sla;
pub mod user;
pub mod validate;

pub use validate::ValidationError;

/// A point in time, always UTC; serialised as RFC 3339.
pub type Timestamp = time::OffsetDateTime;

/// `2026-12-02 10:41`, or `never`: a moment to the minute for lists (last seen, last login).
pub fn minute_or_never(t: Option<Timestamp>) -> String {
    t.map_or("never".into(), |t| format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()))
}

/// `3d 4h`, `5m 2s`: a duration in seconds for people (uptimes).
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86400, (s % 86400) / 3600),
    }
}

/// Declares a fieldless enum stored and typed as a fixed lowercase word, with `as_str`, `ALL`,
/// `Display` and `FromStr` (whose error lists the valid words). One macro so the database, CLI
/// and JSON spellings can never drift apart.
macro_rules! word_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word used in the database, the CLI and JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($word => Ok($name::$variant),)+
                    _ => Err(format!("must be one of: {}", [$($word),+].join(", "))),
                }
            }
        }
    };
}
pub(crate) use word_enum;

/// RFC 3339 text of a time, as stored and printed.
pub fn fmt_time(t: Timestamp) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
