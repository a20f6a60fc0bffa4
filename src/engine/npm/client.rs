//! A client for Nginx Proxy Manager's REST API (as of 2.13-2.15).
//!
//! Three facts about the real server shape this code: it reports auth problems as 404, 500 or
//! 400 (never 401), so the client tracks its token's expiry itself and retries once with a fresh
//! token when an answer could be an auth failure; it rejects any field it does not know
//! (`additionalProperties: false`), so request bodies are typed and carry exactly the documented
//! fields; and it answers 201 even when nginx rejects a host's config, so callers read the host
//! back and look at `meta.nginx_online`.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Renew the token when it has less than this left.
const RENEW_BEFORE: time::Duration = time::Duration::minutes(10);

/// What went wrong talking to NPM; messages carry NPM's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpmError {
    /// No HTTP answer.
    #[error("Nginx Proxy Manager at {url} is unreachable: {detail}")]
    Unreachable {
        /// Base URL.
        url: String,
        /// Transport error.
        detail: String,
    },
    /// The login was refused.
    #[error("Nginx Proxy Manager refused the login of {identity}: {message}; check npm.identity and npm.secret")]
    Login {
        /// The identity used.
        identity: String,
        /// NPM's message.
        message: String,
    },
    /// An API call failed.
    #[error("Nginx Proxy Manager answered {status} to {what}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// What nbmsp asked for.
        what: String,
        /// NPM's message (with the useful part of its debug output, when it sent one).
        message: String,
    },
    /// An answer nbmsp cannot read.
    #[error("Nginx Proxy Manager sent an unexpected answer to {what}: {detail}")]
    Protocol {
        /// What nbmsp asked for.
        what: String,
        /// What was wrong.
        detail: String,
    },
}

impl From<NpmError> for crate::domain::error::Failure {
    fn from(e: NpmError) -> Self {
        use crate::domain::error::ErrorKind;
        let kind = if matches!(e, NpmError::Unreachable { .. }) { ErrorKind::Unavailable } else { ErrorKind::Runtime };
        Self::new(kind, e.to_string())
    }
}

impl NpmError {
    /// True for NPM's "domain already in use" answer.
    pub fn is_domain_in_use(&self) -> bool {
        matches!(self, NpmError::Api { status: 400, message, .. } if message.ends_with("is already in use"))
    }
}

/// A proxy host as NPM returns it (the fields nbmsp reads).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProxyHost {
    /// NPM's id.
    pub id: i64,
    /// Domains it serves.
    pub domain_names: Vec<String>,
    /// Upstream host.
    pub forward_host: String,
    /// Upstream port.
    pub forward_port: u16,
    /// Attached certificate (0: none).
    #[serde(default)]
    pub certificate_id: Value,
    /// HTTPS enforced.
    #[serde(default)]
    pub ssl_forced: bool,
    /// Free-form meta, including `nginx_online` and `nginx_err` after nginx was configured.
    #[serde(default)]
    pub meta: Value,
    /// The advanced config it carries.
    #[serde(default)]
    pub advanced_config: String,
}

impl ProxyHost {
    /// Whether the host serves `domain` (NPM compares case-insensitively and accepts a trailing dot).
    pub fn serves(&self, domain: &str) -> bool {
        self.domain_names.iter().any(|d| d.trim_end_matches('.').eq_ignore_ascii_case(domain))
    }

    /// `Some(true)` when nginx accepted the host's config; `None` before nginx was configured.
    pub fn nginx_online(&self) -> Option<bool> {
        self.meta.get("nginx_online").and_then(Value::as_bool)
    }

    /// nginx's complaint when it rejected the config.
    pub fn nginx_err(&self) -> Option<String> {
        self.meta.get("nginx_err").and_then(Value::as_str).map(str::to_string)
    }

    /// The attached certificate's id, if any.
    pub fn certificate(&self) -> Option<i64> {
        self.certificate_id.as_i64().filter(|id| *id > 0)
    }
}

/// Body of `POST /api/nginx/proxy-hosts`: exactly fields from NPM's schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewProxyHost {
    /// Domains.
    pub domain_names: Vec<String>,
    /// `http`.
    pub forward_scheme: &'static str,
    /// Upstream container name.
    pub forward_host: String,
    /// Upstream port.
    pub forward_port: u16,
    /// Certificate id (0: none yet).
    pub certificate_id: i64,
    /// Redirect HTTP to HTTPS.
    pub ssl_forced: bool,
    /// HSTS header.
    pub hsts_enabled: bool,
    /// HTTP/2 (gRPC needs it).
    pub http2_support: bool,
    /// NPM's exploit filter.
    pub block_exploits: bool,
    /// WebSocket upgrade on `/`.
    pub allow_websocket_upgrade: bool,
    /// nginx text inserted into the server block.
    pub advanced_config: String,
    /// Free-form; nbmsp marks its hosts here.
    pub meta: Value,
}

impl NewProxyHost {
    /// A host for a NetBird customer: `/` to the dashboard on port 80, HTTP/2 (gRPC needs it),
    /// websockets and NPM's exploit filter on; certificate and HTTPS are attached afterwards.
    pub fn netbird(domain: &str, dashboard: &str, advanced_config: String, meta: Value) -> Self {
        Self {
            domain_names: vec![domain.to_string()],
            forward_scheme: "http",
            forward_host: dashboard.to_string(),
            forward_port: 80,
            certificate_id: 0,
            ssl_forced: false,
            hsts_enabled: false,
            http2_support: true,
            block_exploits: true,
            allow_websocket_upgrade: true,
            advanced_config,
            meta,
        }
    }
}

/// Body of `PUT /api/nginx/proxy-hosts/{id}`: only the fields being changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProxyHostUpdate {
    /// New upstream host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_host: Option<String>,
    /// New upstream port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_port: Option<u16>,
    /// New certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<i64>,
    /// Redirect HTTP to HTTPS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_forced: Option<bool>,
    /// HSTS header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hsts_enabled: Option<bool>,
    /// HTTP/2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2_support: Option<bool>,
    /// Advanced config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_config: Option<String>,
}

#[derive(Serialize)]
struct Login<'a> {
    identity: &'a str,
    secret: &'a str,
}

#[derive(Deserialize)]
struct TokenAnswer {
    token: String,
    expires: String,
}

#[derive(Debug, Clone)]
struct Token {
    value: Zeroizing<String>,
    expires: OffsetDateTime,
}

/// A logged-in (lazily) NPM client.
pub struct NpmClient {
    http: reqwest::Client,
    base: String,
    identity: String,
    secret: Zeroizing<String>,
    token: Mutex<Option<Token>>,
    timeout_s: u64,
}

impl std::fmt::Debug for NpmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpmClient").field("base", &self.base).field("identity", &self.identity).finish_non_exhaustive()
    }
}

/// NPM's error body `{"error": {"code", "message"}, "debug": {"stack": [...]}}` as one sentence.
fn error_message(body: &Value) -> String {
    let message = body.pointer("/error/message").and_then(Value::as_str).unwrap_or("").to_string();
    // For failed certificate requests NPM says only "Internal Error"; certbot's words are in the stack.
    let detail = body
        .pointer("/debug/stack")
        .and_then(Value::as_array)
        .and_then(|lines| {
            lines
                .iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .map(|l| l.trim_start_matches("Error: "))
                // certbot's boilerplate around the one line that says what went wrong.
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("at ")
                        && !l.starts_with("Saving debug log")
                        && !l.starts_with("An unexpected error occurred")
                        && !l.starts_with("Ask for help")
                })
                .find(|l| l.contains("Error") || l.contains("error") || l.contains("failed") || l.contains("Failed"))
                .map(|l| l.chars().take(300).collect::<String>())
        })
        .unwrap_or_default();
    match (message.is_empty(), detail.is_empty()) {
        (true, true) => body.to_string().chars().take(300).collect(),
        (false, true) => message,
        (true, false) => detail,
        (false, false) => format!("{message} ({detail})"),
    }
}

/// Could this failed answer be NPM's way of saying the token is bad?
fn maybe_auth_failure(status: u16, message: &str) -> bool {
    match status {
        401 | 403 => true,
        400 => message.starts_with("Token has expired") || message.contains("jwt"),
        // A route-level 404 ("Not Found - /nginx/...") is what an unauthenticated request gets.
        404 => message.starts_with("Not Found - /"),
        500 => message == "Internal Error",
        _ => false,
    }
}

impl NpmClient {
    /// A client for NPM at `base` (e.g. `http://127.0.0.1:81`) logging in as `identity`.
    pub fn new(base: &str, identity: &str, secret: &str) -> Result<Self, NpmError> {
        let http =
            super::http_client().map_err(|e| NpmError::Unreachable { url: base.to_string(), detail: e.to_string() })?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            identity: identity.to_string(),
            secret: Zeroizing::new(secret.to_string()),
            token: Mutex::new(None),
            timeout_s: 30,
        })
    }

    /// The same client with another per-request timeout.
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Result<Self, NpmError> {
        self.http = super::http_client_with(timeout)
            .map_err(|e| NpmError::Unreachable { url: self.base.clone(), detail: e.to_string() })?;
        self.timeout_s = timeout.as_secs();
        Ok(self)
    }

    /// The same client talking over `http` (a host's SSH tunnel) whose requests time out after
    /// `timeout`.
    pub fn over(mut self, http: reqwest::Client, timeout: std::time::Duration) -> Self {
        self.http = http;
        self.timeout_s = timeout.as_secs();
        self
    }

    fn unreachable(&self, e: &reqwest::Error) -> NpmError {
        let detail = if e.is_timeout() {
            format!("no answer within {} s (npm.timeout_s); NPM is overloaded or hung", self.timeout_s)
        } else if e.is_connect() {
            format!("cannot connect: {}", crate::engine::root_cause(e))
        } else {
            crate::engine::error_chain(e)
        };
        NpmError::Unreachable { url: self.base.clone(), detail }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn cached_token(&self) -> Option<Token> {
        self.token.lock().map(|t| t.clone()).unwrap_or(None)
    }

    fn store_token(&self, t: Option<Token>) {
        if let Ok(mut slot) = self.token.lock() {
            *slot = t;
        }
    }

    /// Logs in (`POST /api/tokens`), remembering the token and its expiry.
    pub async fn login(&self) -> Result<(), NpmError> {
        let url = format!("{}/api/tokens", self.base);
        let resp = self
            .http
            .post(&url)
            .json(&Login { identity: &self.identity, secret: &self.secret })
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status != 200 {
            return Err(NpmError::Login { identity: self.identity.clone(), message: error_message(&body) });
        }
        let t: TokenAnswer = serde_json::from_value(body)
            .map_err(|e| NpmError::Protocol { what: "login".into(), detail: e.to_string() })?;
        let expires = OffsetDateTime::parse(&t.expires, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| OffsetDateTime::now_utc() + time::Duration::hours(1));
        self.store_token(Some(Token { value: Zeroizing::new(t.token), expires }));
        Ok(())
    }

    async fn token(&self) -> Result<Zeroizing<String>, NpmError> {
        match self.cached_token() {
            Some(t) if t.expires - OffsetDateTime::now_utc() > RENEW_BEFORE => Ok(t.value),
            _ => {
                self.login().await?;
                self.cached_token()
                    .map(|t| t.value)
                    .ok_or_else(|| NpmError::Protocol { what: "login".into(), detail: "no token".into() })
            }
        }
    }

    /// One authenticated call; returns status and JSON body. Retries once with a fresh token
    /// when the failure could be an auth problem.
    async fn call(&self, method: Method, path: &str, body: Option<&Value>, what: &str) -> Result<Value, NpmError> {
        for attempt in 0..2 {
            let token = self.token().await?;
            let mut req =
                self.http.request(method.clone(), format!("{}/api{path}", self.base)).bearer_auth(token.as_str());
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if (200..300).contains(&status) {
                return Ok(value);
            }
            let message = error_message(&value);
            if attempt == 0 && maybe_auth_failure(status, &message) {
                self.store_token(None);
                continue;
            }
            return Err(NpmError::Api { status, what: what.to_string(), message });
        }
        Err(NpmError::Protocol { what: what.to_string(), detail: "retry loop ended".into() })
    }

    fn parse<T: for<'de> Deserialize<'de>>(v: Value, what: &str) -> Result<T, NpmError> {
        serde_json::from_value(v).map_err(|e| NpmError::Protocol { what: what.to_string(), detail: e.to_string() })
    }

    /// NPM's version from `GET /api/` (no login needed).
    pub async fn version(&self) -> Result<String, NpmError> {
        let st = super::probe(&self.http, &self.base).await.map_err(|e| match e {
            // The probe's error already names NPM and the URL: keep only what went wrong.
            crate::engine::EngineError::Npm { detail, .. } => NpmError::Unreachable { url: self.base.clone(), detail },
            other => NpmError::Unreachable { url: self.base.clone(), detail: other.to_string() },
        })?;
        Ok(st.version)
    }

    /// Proxy hosts, optionally filtered by NPM's `?query=`.
    pub async fn hosts(&self, query: Option<&str>) -> Result<Vec<ProxyHost>, NpmError> {
        let path = match query {
            Some(q) => format!("/nginx/proxy-hosts?query={}", urlencode(q)),
            None => "/nginx/proxy-hosts".to_string(),
        };
        Self::parse(self.call(Method::GET, &path, None, "list proxy hosts").await?, "list proxy hosts")
    }

    /// One proxy host.
    pub async fn host(&self, id: i64) -> Result<ProxyHost, NpmError> {
        let what = format!("read proxy host {id}");
        Self::parse(self.call(Method::GET, &format!("/nginx/proxy-hosts/{id}"), None, &what).await?, &what)
    }

    /// Creates a proxy host (NPM answers before nginx is configured: read it back).
    pub async fn create_host(&self, host: &NewProxyHost) -> Result<ProxyHost, NpmError> {
        let body = serde_json::to_value(host)
            .map_err(|e| NpmError::Protocol { what: "create".into(), detail: e.to_string() })?;
        let what = format!("create proxy host {}", host.domain_names.join(","));
        Self::parse(self.call(Method::POST, "/nginx/proxy-hosts", Some(&body), &what).await?, &what)
    }

    /// Changes a proxy host; the answer carries the post-configure `meta.nginx_online`.
    pub async fn update_host(&self, id: i64, update: &ProxyHostUpdate) -> Result<ProxyHost, NpmError> {
        let body = serde_json::to_value(update)
            .map_err(|e| NpmError::Protocol { what: "update".into(), detail: e.to_string() })?;
        let what = format!("update proxy host {id}");
        Self::parse(self.call(Method::PUT, &format!("/nginx/proxy-hosts/{id}"), Some(&body), &what).await?, &what)
    }

    /// Deletes a proxy host; an unknown id is fine.
    pub async fn delete_host(&self, id: i64) -> Result<(), NpmError> {
        match self
            .call(Method::DELETE, &format!("/nginx/proxy-hosts/{id}"), None, &format!("delete proxy host {id}"))
            .await
        {
            Ok(_) | Err(NpmError::Api { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Requests a Let's Encrypt certificate for `domain` (NPM uses its user's email); returns its id.
    pub async fn request_certificate(&self, domain: &str) -> Result<i64, NpmError> {
        let body = serde_json::json!({ "provider": "letsencrypt", "domain_names": [domain], "meta": { "dns_challenge": false } });
        let what = format!("request a certificate for {domain}");
        let v = self.call(Method::POST, "/nginx/certificates", Some(&body), &what).await?;
        v.get("id").and_then(Value::as_i64).ok_or(NpmError::Protocol { what, detail: "no id in the answer".into() })
    }

    /// Every live certificate's id and expiry (Unix seconds; `None` where NPM's `expires_on`
    /// cannot be read).
    pub async fn certificate_expiries(&self) -> Result<Vec<(i64, Option<i64>)>, NpmError> {
        let v = self.call(Method::GET, "/nginx/certificates", None, "list certificates").await?;
        let list = v.as_array().ok_or_else(|| NpmError::Protocol {
            what: "list certificates".into(),
            detail: "the answer is not a list".into(),
        })?;
        Ok(list
            .iter()
            .filter_map(|c| {
                Some((c.get("id")?.as_i64()?, c.get("expires_on").and_then(Value::as_str).and_then(npm_time)))
            })
            .collect())
    }

    /// Deletes a certificate; an unknown id is fine.
    pub async fn delete_certificate(&self, id: i64) -> Result<(), NpmError> {
        match self
            .call(Method::DELETE, &format!("/nginx/certificates/{id}"), None, &format!("delete certificate {id}"))
            .await
        {
            Ok(_) | Err(NpmError::Api { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// How long nbmsp waits for NPM per request (certificate requests run certbot and take long).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A time as NPM writes it: its database's "2026-11-23 10:38:56" (UTC, what the recorded
/// 2.15 answers carry) or ISO 8601 as its OpenAPI example has it ("2025-10-28T04:17:54.000Z").
pub fn npm_time(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s, &f).ok().map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    #[test]
    fn npm_times_are_read_in_both_forms_it_writes() {
        assert_eq!(super::npm_time("2026-11-23 10:38:56"), Some(1_795_430_336));
        assert_eq!(super::npm_time("2026-11-23T10:38:56.000Z"), Some(1_795_430_336));
        assert_eq!(super::npm_time("soon"), None);
    }

    use super::*;

    /// An NPM that is not there is said once, with the reason, not the URL three times.
    #[tokio::test]
    async fn an_unreachable_npm_is_named_once_with_the_reason() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let c = NpmClient::new(&base, "a@b.example", "pw").unwrap();
        let msg = c.version().await.unwrap_err().to_string();
        assert_eq!(msg.matches(&base).count(), 1, "{msg}");
        assert_eq!(msg.matches("Nginx Proxy Manager").count(), 1, "{msg}");
        assert!(msg.contains("cannot connect: Connection refused"), "{msg}");
    }

    #[test]
    fn error_messages_prefer_npm_words_and_add_certbot_detail() {
        let v = serde_json::json!({"error": {"code": 400, "message": "acme.msp.example is already in use"}});
        assert_eq!(error_message(&v), "acme.msp.example is already in use");
        let v = serde_json::json!({"error": {"code": 500, "message": "Internal Error"}, "debug": {"stack": [
            "Error: Saving debug log to /data/logs/letsencrypt.log",
            "An unexpected error occurred:",
            "",
            "requests.exceptions.ConnectionError: Failed to resolve 'acme-v02.api.letsencrypt.org'"
        ]}});
        let m = error_message(&v);
        assert!(m.starts_with("Internal Error (") && m.contains("Failed to resolve"), "{m}");
    }

    #[test]
    fn auth_failures_are_recognised_in_their_real_shapes() {
        assert!(maybe_auth_failure(400, "Token has expired"));
        assert!(maybe_auth_failure(404, "Not Found - /nginx/proxy-hosts"));
        assert!(!maybe_auth_failure(404, "Not Found - 9999"));
        assert!(maybe_auth_failure(500, "Internal Error"));
        assert!(!maybe_auth_failure(400, "data must NOT have additional properties"));
    }

    #[test]
    fn bodies_carry_only_schema_fields() {
        let h = NewProxyHost::netbird("a.b", "c", String::new(), serde_json::json!({}));
        let v = serde_json::to_value(&h).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        for k in keys {
            assert!(
                [
                    "domain_names",
                    "forward_scheme",
                    "forward_host",
                    "forward_port",
                    "certificate_id",
                    "ssl_forced",
                    "hsts_enabled",
                    "http2_support",
                    "block_exploits",
                    "allow_websocket_upgrade",
                    "advanced_config",
                    "meta"
                ]
                .contains(&k.as_str())
            );
        }
        let u = serde_json::to_value(ProxyHostUpdate { certificate_id: Some(3), ..Default::default() }).unwrap();
        assert_eq!(u, serde_json::json!({"certificate_id": 3}));
        assert_eq!(urlencode("a b&c"), "a%20b%26c");
    }
}
