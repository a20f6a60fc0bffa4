//! Identity providers of the embedded IdP as upstream answers them (netbirdio/netbird v0.77.1):
//! `management/server/http/handlers/idp/idp_handler.go` (routes; answers carry type, name,
//! issuer and client id — **never the client secret**), `management/server/types/identity_provider.go`
//! (`Validate`: its words, the supported types, Google and Microsoft needing no issuer),
//! `management/server/identity_provider.go` (`validateOIDCIssuer`: the issuer's discovery
//! document is fetched and its `issuer` must match exactly; `generateIdentityProviderID`'s type
//! prefixes; "identity provider not found"). Errors of `Validate` are InvalidArgument: 422.
//!
//! The stand-in fetches `http://` issuers itself; it has no TLS, so an `https://` issuer is
//! unreachable here, as any issuer is to a server without a way out.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::account::{Account, Body};
use crate::http::{Response, error, json};
use crate::json::Json;

/// One connector (`types.IdentityProvider`).
pub struct Idp {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// Kept as upstream keeps it (in the IdP's storage); never answered.
    pub client_secret: String,
}

const TYPES: [&str; 10] =
    ["oidc", "zitadel", "entra", "google", "okta", "pocketid", "microsoft", "authentik", "keycloak", "adfs"];

fn fail(status: u16, msg: &str) -> Response {
    error(status, &msg.to_lowercase())
}

/// The paths this module answers.
pub fn known(method: &str, segs: &[&str]) -> bool {
    matches!((method, segs), ("GET" | "POST", ["identity-providers"]) | ("GET" | "PUT" | "DELETE", ["identity-providers", _]))
}

/// `toAPIResponse`.
fn answer(i: &Idp) -> String {
    let q = Json::quote;
    format!(
        r#"{{"id":{},"type":{},"name":{},"issuer":{},"client_id":{}}}"#,
        q(&i.id),
        q(&i.kind),
        q(&i.name),
        q(&i.issuer),
        q(&i.client_id)
    )
}

/// Answers an authenticated request; `(answer, changed)`.
pub fn route(account: &mut Account, counter: &mut u64, method: &str, segs: &[&str], body: &str) -> (Response, bool) {
    match (method, segs) {
        ("GET", ["identity-providers"]) => {
            let all: Vec<String> = account.idps.iter().map(answer).collect();
            (json(200, &format!("[{}]", all.join(","))), false)
        }
        ("GET", ["identity-providers", id]) => match account.idps.iter().find(|i| i.id == *id) {
            Some(i) => (json(200, &answer(i)), false),
            None => (fail(404, "identity provider not found"), false),
        },
        ("POST", ["identity-providers"]) => match parse(body) {
            Ok(mut i) => {
                let prefix = if i.kind == "oidc" { String::new() } else { format!("{}-", i.kind) };
                i.id = format!("{prefix}{}", crate::api::fresh(counter, 20));
                let a = answer(&i);
                account.idps.push(i);
                (json(200, &a), true)
            }
            Err(r) => (r, false),
        },
        ("PUT", ["identity-providers", id]) => {
            let Some(pos) = account.idps.iter().position(|i| i.id == *id) else {
                return (fail(404, "identity provider not found"), false);
            };
            match parse(body) {
                Ok(mut i) => {
                    i.id = (*id).to_string();
                    let a = answer(&i);
                    account.idps[pos] = i;
                    (json(200, &a), true)
                }
                Err(r) => (r, false),
            }
        }
        ("DELETE", ["identity-providers", id]) => {
            let before = account.idps.len();
            account.idps.retain(|i| i.id != *id);
            if account.idps.len() == before {
                return (fail(404, "identity provider not found"), false);
            }
            (json(200, "{}"), true)
        }
        _ => (fail(404, "not found"), false),
    }
}

/// Decodes and validates a request as `fromAPIRequest` + `validateIdentityProviderConfig`.
fn parse(body: &str) -> Result<Idp, Response> {
    let bad = || error(400, "couldn't parse JSON request");
    let b = Body::parse(body).map_err(|_| bad())?;
    let text = |k: &str| b.string(k).map(Option::unwrap_or_default).map_err(|_| bad());
    let i = Idp {
        id: String::new(),
        kind: text("type")?,
        name: text("name")?,
        issuer: text("issuer")?,
        client_id: text("client_id")?,
        client_secret: text("client_secret")?,
    };
    let invalid = if i.name.is_empty() {
        Some("identity provider name is required".to_string())
    } else if i.kind.is_empty() {
        Some("identity provider type is required".into())
    } else if !TYPES.contains(&i.kind.as_str()) {
        Some("unsupported identity provider type".into())
    } else if i.issuer.is_empty() && !["google", "microsoft"].contains(&i.kind.as_str()) {
        Some("identity provider issuer is required".into())
    } else if !i.issuer.is_empty() && !valid_url(&i.issuer) {
        Some("identity provider issuer must be a valid URL".into())
    } else if i.client_id.is_empty() {
        Some("identity provider client ID is required".into())
    } else if !i.issuer.is_empty() {
        discover(&i.issuer).err()
    } else {
        None
    };
    match invalid {
        Some(why) => Err(fail(422, &why)),
        None => Ok(i),
    }
}

/// `url.Parse` with a scheme and a host.
fn valid_url(u: &str) -> bool {
    u.split_once("://").is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.split('/').next().unwrap_or("").is_empty())
}

/// `validateOIDCIssuer`: GET the discovery document; its `issuer` must be exactly `issuer`.
fn discover(issuer: &str) -> Result<(), String> {
    let unreachable = |why: String| format!("identity provider issuer is unreachable: {why}");
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(unreachable(format!("Get \"{url}\": no route to the issuer")));
    };
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let hostport = if host.contains(':') { host.to_string() } else { format!("{host}:80") };
    let addr = hostport
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| unreachable(format!("Get \"{url}\": no such host")))?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| unreachable(format!("Get \"{url}\": {e}")))?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).map_err(|e| unreachable(e.to_string()))?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| unreachable(e.to_string()))?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw.as_str(), ""));
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(unreachable(format!("{status}: {body}")));
    }
    let doc = Json::parse(body)
        .map_err(|e| unreachable(format!("failed to decode provider discovery object: {e}")))?;
    let got = doc.get("issuer").and_then(Json::as_str).unwrap_or("");
    if got != issuer {
        return Err(format!(
            "identity provider issuer does not match the issuer returned by the provider: expected {issuer:?} got {got:?}"
        ));
    }
    Ok(())
}
