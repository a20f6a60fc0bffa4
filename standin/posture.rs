//! Posture checks as upstream answers them (netbirdio/netbird v0.77.1):
//! `management/server/http/handlers/policies/posture_checks_handler.go` (routes; a geolocation
//! check without a GeoLite database is 412 with upstream's words — a self-hosted server has
//! none until one is installed), `management/server/posture/checks.go` (`Validate`: name, at
//! least one check; `buildPostureCheck`, `ToAPIResponse`), `management/server/posture/nb_version.go`
//! ("NBVersionCheck minimum version shouldn't be empty", "… version: X is not valid"), and
//! `management/server/posture_checks.go` (`validatePostureChecks`: names unique for new ones;
//! deleting one a policy uses is 412 "posture checks have been linked to policy: NAME").
//! Modelled: the client-version check; the other kinds are kept as sent and not validated.

use crate::account::{Account, Body};
use crate::http::{Response, error, json};
use crate::json::Json;

/// One posture check.
pub struct Posture {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `checks.nb_version_check.min_version`, when set.
    pub min_version: Option<String>,
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
    let checks = p.min_version.as_ref().map_or(String::new(), |v| format!(r#""nb_version_check":{{"min_version":{}}}"#, q(v)));
    format!(r#"{{"id":{},"name":{},"description":{},"checks":{{{checks}}}}}"#, q(&p.id), q(&p.name), q(&p.description))
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

fn parse(body: &str) -> Result<Posture, Response> {
    let bad = || error(400, "couldn't parse JSON request");
    let b = Body::parse(body).map_err(|_| bad())?;
    let name = b.string("name").map_err(|_| bad())?.unwrap_or_default();
    let description = b.string("description").map_err(|_| bad())?.unwrap_or_default();
    let checks = Json::parse(body).ok().and_then(|j| j.get("checks").cloned()).filter(|c| !c.is_null());
    // `*source.Checks` is dereferenced without a check: upstream's handler panics (the
    // connection is dropped); the stand-in says 500.
    let Some(checks) = checks else { return Err(error(500, "internal server error")) };
    if checks.get("geo_location_check").is_some_and(|g| !g.is_null()) {
        return Err(error(
            412,
            "Geo location database is not initialized. Check the self-hosted Geo database documentation at https://docs.netbird.io/selfhosted/geo-support",
        ));
    }
    let min_version = match checks.get("nb_version_check").filter(|c| !c.is_null()) {
        Some(c) => Some(c.get("min_version").and_then(Json::as_str).ok_or_else(bad)?.to_string()),
        None => None,
    };
    let why = if name.is_empty() {
        Some("posture checks name shouldn't be empty".to_string())
    } else if min_version.is_none() && !has_other(&checks) {
        Some("posture checks shouldn't be empty".into())
    } else if min_version.as_deref() == Some("") {
        Some("NBVersionCheck minimum version shouldn't be empty".into())
    } else if let Some(v) = min_version.as_deref().filter(|v| !valid_version(v)) {
        Some(format!("NBVersionCheck version: {v} is not valid"))
    } else {
        None
    };
    match why {
        Some(w) => Err(fail(422, &w)),
        None => Ok(Posture { id: String::new(), name, description, min_version }),
    }
}

fn has_other(checks: &Json) -> bool {
    ["os_version_check", "peer_network_range_check", "process_check"].iter().any(|k| checks.get(k).is_some_and(|c| !c.is_null()))
}

/// hashicorp/go-version's loose form: digits and dots, an optional `v` and pre-release.
fn valid_version(v: &str) -> bool {
    let core = v.trim_start_matches('v').split(['-', '+']).next().unwrap_or("");
    !core.is_empty() && core.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}
