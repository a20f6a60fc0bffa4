//! The CLI's flags for a customer's reference fields (`--contract-id`, …), made from
//! `domain::customer_fields::REF_FIELDS` so a new field gets its flag on `customer create` and
//! `customer update` without code here.

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};

use crate::domain::customer::{CustomerPatch, NewCustomer};
use crate::domain::customer_fields::{REF_FIELDS, none_if_empty};

/// The reference fields given (`None`: not given), in table order; `UPDATE`: on `customer
/// update`, where `""` clears one.
#[derive(Debug, Clone, Default)]
pub struct RefValues<const UPDATE: bool>(pub Vec<Option<String>>);

/// The reference fields given on `customer create`.
pub type RefArgs = RefValues<false>;
/// The reference fields given on `customer update`.
pub type RefPatchArgs = RefValues<true>;

impl RefArgs {
    /// Gives `n` the references given (trimmed; empty is none).
    pub fn apply(&self, n: &mut NewCustomer) {
        for (f, v) in REF_FIELDS.iter().zip(&self.0) {
            (f.set_new)(n, none_if_empty(v.clone()));
        }
    }
}

impl RefPatchArgs {
    /// Makes `p` set the references given.
    pub fn apply(&self, p: &mut CustomerPatch) {
        for (f, v) in REF_FIELDS.iter().zip(&self.0) {
            if v.is_some() {
                (f.set_patch)(p, v.clone());
            }
        }
    }
}

impl<const UPDATE: bool> FromArgMatches for RefValues<UPDATE> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self(REF_FIELDS.iter().map(|f| m.get_one::<String>(f.key).cloned()).collect()))
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl<const UPDATE: bool> Args for RefValues<UPDATE> {
    fn augment_args(cmd: Command) -> Command {
        REF_FIELDS.iter().fold(cmd, |cmd, f| {
            let help = if UPDATE { format!("{} (\"\" clears it)", f.help) } else { f.help.to_string() };
            cmd.arg(Arg::new(f.key).long(f.flag).value_name("REF").help(help))
        })
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

/// The flags `customer update` takes, for its "nothing to change" message.
pub fn flags() -> impl Iterator<Item = String> {
    REF_FIELDS.iter().map(|f| format!("--{}", f.flag))
}
