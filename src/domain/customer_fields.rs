//! A customer's reference fields — optional one-line texts the MSP keeps beside a customer (a
//! contract or billing reference) — described once. The form, the Info tab, `customer show`,
//! the CLI's `--FLAG`s on create and update, import, validation and patching all walk this
//! table, so a new reference field is its members in `customer.rs`, a line here, and its column
//! in the store; backups carry it because they carry `NewCustomer` whole.

use super::customer::{Customer, CustomerPatch, NewCustomer};
use super::validate::{ValidationError, line};

/// One reference field.
pub struct RefField {
    /// Its name everywhere: the struct member, the column, the import/backup key, `--json`.
    pub key: &'static str,
    /// Its CLI flag without the dashes (the key with `-` for `_`).
    pub flag: &'static str,
    /// Its label in the form and the Info tab.
    pub label: &'static str,
    /// Its help on `customer create` (`update` says "" clears it).
    pub help: &'static str,
    /// Longest value, in characters.
    pub max: usize,
    /// The value a customer has.
    pub get: fn(&Customer) -> Option<&str>,
    /// The value a new customer is given.
    pub get_new: fn(&NewCustomer) -> Option<&str>,
    /// Gives a new customer its value.
    pub set_new: fn(&mut NewCustomer, Option<String>),
    /// The value a patch sets (`Some("")` clears it).
    pub get_patch: fn(&CustomerPatch) -> Option<&str>,
    /// Makes a patch set the value.
    pub set_patch: fn(&mut CustomerPatch, Option<String>),
    /// Gives a customer the value (a patch applied).
    pub set: fn(&mut Customer, Option<String>),
}

/// Declares a reference field whose member is called `$key` in `Customer`, `NewCustomer` and
/// `CustomerPatch`.
macro_rules! ref_field {
    ($key:ident, $flag:expr, $label:expr, $max:expr, $help:expr) => {
        RefField {
            key: stringify!($key),
            flag: $flag,
            label: $label,
            help: $help,
            max: $max,
            get: |c| c.$key.as_deref(),
            get_new: |n| n.$key.as_deref(),
            set_new: |n, v| n.$key = v,
            get_patch: |p| p.$key.as_deref(),
            set_patch: |p, v| p.$key = v,
            set: |c, v| c.$key = v,
        }
    };
}

/// Every reference field, in the order forms and views show them.
pub static REF_FIELDS: &[RefField] = &[
    ref_field!(
        contract_id,
        "contract-id",
        "Contract",
        64,
        "The MSP's contract or billing reference (reports group by it)"
    ),
    ref_field!(
        psa_ref,
        "psa-ref",
        "PSA ref",
        64,
        "The customer's record in the MSP's PSA or ticketing system (ConnectWise, Autotask, HaloPSA, ...)"
    ),
];

impl RefField {
    /// One line, at most `max` characters, nothing invisible; empty means none.
    pub fn check(&self, value: &str) -> Result<(), ValidationError> {
        line(self.key, value, false, self.max)
    }
}

/// A value as stored: trimmed, and none when empty.
pub fn none_if_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Every broken rule among a new customer's reference fields.
pub fn check_new(n: &NewCustomer) -> impl Iterator<Item = ValidationError> + '_ {
    REF_FIELDS.iter().filter_map(move |f| f.check((f.get_new)(n).unwrap_or_default()).err())
}

/// Every broken rule among the reference fields a patch sets.
pub fn check_patch(p: &CustomerPatch) -> impl Iterator<Item = ValidationError> + '_ {
    REF_FIELDS.iter().filter_map(move |f| (f.get_patch)(p).and_then(|v| f.check(v).err()))
}

/// Applies the reference fields a patch sets (empty clears).
pub fn apply_patch(p: &CustomerPatch, c: &mut Customer) {
    for f in REF_FIELDS {
        if let Some(v) = (f.get_patch)(p) {
            (f.set)(c, none_if_empty(Some(v.to_string())));
        }
    }
}

/// Trims a new customer's reference fields, empty ones to none.
pub fn tidy_new(n: &mut NewCustomer) {
    for f in REF_FIELDS {
        let v = (f.get_new)(n).map(str::to_string);
        (f.set_new)(n, none_if_empty(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reference_field_reads_and_writes_its_own_member_of_every_record() {
        let mut n = NewCustomer::new("A", "acme", "it@acme.example", super::super::customer::Layout::Combined);
        let mut p = CustomerPatch::default();
        for (i, f) in REF_FIELDS.iter().enumerate() {
            (f.set_new)(&mut n, Some(format!("  ref-{i}  ")));
            (f.set_patch)(&mut p, Some(format!("patched-{i}")));
        }
        tidy_new(&mut n);
        for (i, f) in REF_FIELDS.iter().enumerate() {
            assert_eq!((f.get_new)(&n), Some(format!("ref-{i}").as_str()), "{}", f.key);
            assert_eq!((f.get_patch)(&p), Some(format!("patched-{i}").as_str()), "{}", f.key);
        }
        assert_eq!(check_new(&n).count(), 0);
        for f in REF_FIELDS {
            (f.set_new)(&mut n, Some("x".repeat(f.max + 1)));
            assert_eq!(check_new(&n).next().map(|e| e.field), Some(f.key.to_string()));
            (f.set_new)(&mut n, None);
            assert!(f.check("line\nbreak").is_err());
            assert_eq!(f.flag, f.key.replace('_', "-"));
        }
    }
}
