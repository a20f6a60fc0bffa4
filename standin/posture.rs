//! Posture checks as upstream answers them (netbirdio/netbird v0.77.1):
//! `management/server/http/handlers/policies/posture_checks_handler.go` (routes; a geolocation
//! check is 412 with upstream's words only when the server runs without its geolocation
//! database, `NB_DISABLE_GEOLOCATION=true` — `management/internals/server/modules.go`; otherwise
//! the server downloaded GeoLite at start and takes it), `management/server/posture/checks.go`
//! (`Validate`: name, at least one check, each check's own `Validate` in `GetChecks` order;
//! `buildPostureCheck`: a range that is not a prefix is 422 "invalid network prefix";
//! `ToAPIResponse`; `countryCodeRegex`), `nb_version.go`, `os_version.go` (its messages keep
//! upstream's double spaces), `network.go`, `geo_location.go`, and
//! `management/server/posture_checks.go` (`validatePostureChecks`: the validation error becomes
//! InvalidArgument 422, lowercased by `util.WriteError`; names unique for new ones; deleting one
//! a policy uses is 412 "posture checks have been linked to policy: NAME").
//! Modelled: the client-version, OS-version, network-range and geolocation checks; a process
//! check is kept as sent and not validated.

use crate::account::{Account, Body};
use crate::http::{Response, error, json};
use crate::json::Json;

/// One posture check.
pub struct Posture {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The `checks` object as `ToAPIResponse` writes it.
    pub checks: String,
}

fn fail(status: u16, msg: &str) -> Response {
    error(status, &msg.to_lowercase())
}

/// The paths this module answers.
pub fn known(method: &str, segs: &[&str]) -> bool {
    matches!((method, segs), ("GET" | "POST", ["posture-checks"]) | ("GET" | "PUT" | "DELETE", ["posture-checks", _]))
}

/// `ToAPIResponse`.
pub fn answer(p: &Posture) -> String {
    let q = Json::quote;
    format!(r#"{{"id":{},"name":{},"description":{},"checks":{}}}"#, q(&p.id), q(&p.name), q(&p.description), p.checks)
}

/// Answers an authenticated request; `(answer, changed)`.
pub fn route(account: &mut Account, counter: &mut u64, method: &str, segs: &[&str], body: &str) -> (Response, bool) {
    let missing = |id: &str| fail(404, &format!("posture checks: {id} not found"));
    match (method, segs) {
        ("GET", ["posture-checks"]) => {
            let all: Vec<String> = account.postures.iter().map(answer).collect();
            (json(200, &format!("[{}]", all.join(","))), false)
        }
        ("GET", ["posture-checks", id]) => match account.postures.iter().find(|p| p.id == *id) {
            Some(p) => (json(200, &answer(p)), false),
            None => (missing(id), false),
        },
        ("POST", ["posture-checks"]) => match parse(body) {
            Ok(mut p) => {
                if account.postures.iter().any(|x| x.name == p.name) {
                    return (fail(422, &format!("posture checks with name {} already exists", p.name)), false);
                }
                p.id = crate::api::fresh(counter, 20);
                let a = answer(&p);
                account.postures.push(p);
                (json(200, &a), true)
            }
            Err(r) => (r, false),
        },
        ("PUT", ["posture-checks", id]) => {
            let Some(pos) = account.postures.iter().position(|p| p.id == *id) else { return (missing(id), false) };
            match parse(body) {
                Ok(mut p) => {
                    p.id = (*id).to_string();
                    let a = answer(&p);
                    account.postures[pos] = p;
                    (json(200, &a), true)
                }
                Err(r) => (r, false),
            }
        }
        ("DELETE", ["posture-checks", id]) => {
            if !account.postures.iter().any(|p| p.id == *id) {
                return (missing(id), false);
            }
            if let Some(p) = account.policies.iter().find(|p| p.posture.as_ref().is_some_and(|v| v.iter().any(|x| x == id))) {
                return (fail(412, &format!("posture checks have been linked to policy: {}", p.name)), false);
            }
            account.postures.retain(|p| p.id != *id);
            (json(200, "{}"), true)
        }
        _ => (fail(404, "not found"), false),
    }
}

/// A check present and not null.
fn present<'a>(checks: &'a Json, key: &str) -> Option<&'a Json> {
    checks.get(key).filter(|c| !c.is_null())
}

fn parse(body: &str) -> Result<Posture, Response> {
    let bad = || error(400, "couldn't parse JSON request");
    let b = Body::parse(body).map_err(|_| bad())?;
    let name = b.string("name").map_err(|_| bad())?.unwrap_or_default();
    let description = b.string("description").map_err(|_| bad())?.unwrap_or_default();
    let checks = Json::parse(body).ok().and_then(|j| j.get("checks").cloned()).filter(|c| !c.is_null());
    // `*source.Checks` is dereferenced without a check: upstream's handler panics (the
    // connection is dropped); the stand-in says 500.
    let Some(checks) = checks else { return Err(error(500, "internal server error")) };
    if present(&checks, "geo_location_check").is_some() && geolocation_disabled() {
        // A status error: `util.WriteError` lowercases it like every other.
        return Err(fail(
            412,
            "Geo location database is not initialized. Check the self-hosted Geo database documentation at https://docs.netbird.io/selfhosted/geo-support",
        ));
    }
    let mut parts = Vec::new();
    let mut why: Option<String> = None;
    let mut first = |e: Option<String>| {
        if why.is_none() {
            why = e;
        }
    };
    if let Some(c) = present(&checks, "nb_version_check") {
        let v = c.get("min_version").and_then(Json::as_str).ok_or_else(bad)?.to_string();
        first(if v.is_empty() {
            Some("NBVersionCheck minimum version shouldn't be empty".into())
        } else if !valid_version(&v) {
            Some(format!("NBVersionCheck version: {v} is not valid"))
        } else {
            None
        });
        parts.push(format!(r#""nb_version_check":{{"min_version":{}}}"#, Json::quote(&v)));
    }
    if let Some(c) = present(&checks, "os_version_check") {
        let (answer, e) = os_version(c).map_err(|_| bad())?;
        first(e);
        parts.push(format!(r#""os_version_check":{answer}"#));
    }
    if let Some(c) = present(&checks, "geo_location_check") {
        let (answer, e) = geo_location(c).map_err(|_| bad())?;
        first(e);
        parts.push(format!(r#""geo_location_check":{answer}"#));
    }
    if let Some(c) = present(&checks, "peer_network_range_check") {
        let action = c.get("action").and_then(Json::as_str).unwrap_or("").to_string();
        let ranges: Vec<String> = match c.get("ranges").and_then(Json::as_array) {
            Some(r) => r.iter().map(|x| x.as_str().map(String::from).ok_or_else(bad)).collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        // `buildPostureCheck` parses the prefixes before anything is validated.
        if ranges.iter().any(|r| !valid_prefix(r)) {
            return Err(fail(422, "invalid network prefix"));
        }
        first(if action.is_empty() {
            Some("action for peer network range check shouldn't be empty".into())
        } else if action != "allow" && action != "deny" {
            Some("PeerNetworkRangeCheck action is not valid".into())
        } else if ranges.is_empty() {
            Some("PeerNetworkRangeCheck network ranges shouldn't be empty".into())
        } else {
            None
        });
        let list: Vec<String> = ranges.iter().map(|r| Json::quote(r)).collect();
        parts.push(format!(
            r#""peer_network_range_check":{{"ranges":[{}],"action":{}}}"#,
            list.join(","),
            Json::quote(&action)
        ));
    }
    if let Some(c) = present(&checks, "process_check") {
        parts.push(format!(r#""process_check":{}"#, raw(c)));
    }
    let why = if name.is_empty() {
        Some("posture checks name shouldn't be empty".to_string())
    } else if parts.is_empty() {
        Some("posture checks shouldn't be empty".into())
    } else {
        why
    };
    match why {
        Some(w) => Err(fail(422, &w)),
        None => Ok(Posture { id: String::new(), name, description, checks: format!("{{{}}}", parts.join(",")) }),
    }
}

/// `modules.go`: the geolocation manager is nil only when this variable says so.
fn geolocation_disabled() -> bool {
    std::env::var("NB_DISABLE_GEOLOCATION").is_ok_and(|v| v == "true")
}

/// `OSVersionCheck.Validate` and its answer; `Err` for a wrong JSON type (400).
fn os_version(c: &Json) -> Result<(String, Option<String>), ()> {
    // (key, field, the words upstream uses in its message)
    const OSES: [(&str, &str, &str); 5] = [
        ("android", "min_version", "android version"),
        ("darwin", "min_version", " darwin version"),
        ("ios", "min_version", "ios version"),
        ("linux", "min_kernel_version", " linux kernel version"),
        ("windows", "min_kernel_version", " windows kernel version"),
    ];
    let mut parts = Vec::new();
    let mut why = None;
    // Upstream checks android, ios, darwin, linux, windows in that order.
    let mut found: Vec<(&str, String, &str)> = Vec::new();
    for (os, field, words) in OSES {
        if let Some(v) = present(c, os) {
            let ver = match v.get(field) {
                Some(s) if !s.is_null() => s.as_str().ok_or(())?.to_string(),
                _ => String::new(),
            };
            parts.push(format!(r#""{os}":{{"{field}":{}}}"#, Json::quote(&ver)));
            found.push((os, ver, words));
        }
    }
    if found.is_empty() {
        why = Some("OSVersionCheck at least one OS version check is required".to_string());
    }
    for os in ["android", "ios", "darwin", "linux", "windows"] {
        if why.is_some() {
            break;
        }
        if let Some((_, ver, words)) = found.iter().find(|(o, _, _)| *o == os) {
            if !valid_version(ver) {
                why = Some(format!("OSVersionCheck {words}: {ver} is not valid"));
            }
        }
    }
    Ok((format!("{{{}}}", parts.join(",")), why))
}

/// `GeoLocationCheck.Validate` and its answer (`toGeoLocationCheckResponse`: an empty city is
/// left out).
fn geo_location(c: &Json) -> Result<(String, Option<String>), ()> {
    let action = match c.get("action") {
        Some(a) if !a.is_null() => a.as_str().ok_or(())?.to_string(),
        _ => String::new(),
    };
    let mut locations = Vec::new();
    let mut codes = Vec::new();
    for l in c.get("locations").and_then(Json::as_array).unwrap_or(&[]) {
        let code = l.get("country_code").and_then(Json::as_str).unwrap_or("").to_string();
        let city = l.get("city_name").and_then(Json::as_str).unwrap_or("");
        let city = if city.is_empty() { String::new() } else { format!(r#","city_name":{}"#, Json::quote(city)) };
        locations.push(format!(r#"{{"country_code":{}{city}}}"#, Json::quote(&code)));
        codes.push(code);
    }
    let why = if action.is_empty() {
        Some("GeoLocationCheck action shouldn't be empty".to_string())
    } else if action != "allow" && action != "deny" {
        Some("GeoLocationCheck action is not valid".into())
    } else if codes.is_empty() {
        Some("GeoLocationCheck locations shouldn't be empty".into())
    } else if codes.iter().any(String::is_empty) {
        Some("GeoLocationCheck country code shouldn't be empty".into())
    } else if codes.iter().any(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic())) {
        Some("GeoLocationCheck country code must be 2 letters (ISO 3166-1 alpha-2 format)".into())
    } else {
        None
    };
    Ok((format!(r#"{{"locations":[{}],"action":{}}}"#, locations.join(","), Json::quote(&action)), why))
}

/// `netip.ParsePrefix`: an address, a slash and a length that fits it.
fn valid_prefix(p: &str) -> bool {
    let Some((ip, len)) = p.split_once('/') else { return false };
    let Ok(len) = len.parse::<u8>() else { return false };
    if len.to_string() != p.rsplit('/').next().unwrap_or("") {
        return false; // no leading zeros or signs
    }
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => len <= 32,
        Ok(std::net::IpAddr::V6(_)) => len <= 128,
        Err(_) => false,
    }
}

/// A JSON value written back (for the process check, kept as sent).
pub fn raw(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Num(n) => n.to_string(),
        Json::Str(s) => Json::quote(s),
        Json::Arr(a) => format!("[{}]", a.iter().map(raw).collect::<Vec<_>>().join(",")),
        Json::Obj(fields) => {
            let all: Vec<String> = fields.iter().map(|(k, x)| format!("{}:{}", Json::quote(k), raw(x))).collect();
            format!("{{{}}}", all.join(","))
        }
    }
}

/// hashicorp/go-version's loose form: digits and dots, an optional `v` and pre-release.
fn valid_version(v: &str) -> bool {
    let core = v.trim_start_matches('v').split(['-', '+']).next().unwrap_or("");
    !core.is_empty() && core.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}
