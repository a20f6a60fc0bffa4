//! The edge: one SNI router per Docker host in front of Nginx Proxy Manager, so a customer's
//! NetBird Reverse Proxy can take its own TLS connections on the same address and port.
//!
//! NPM terminates TLS and cannot pass a connection on by name. The edge is nginx's `stream`
//! module with `ssl_preread`: it reads the name a visitor asks for from the TLS ClientHello and
//! forwards the raw connection. `*.<customer domain>` goes to that customer's proxy, everything
//! else (the customer's own management domain among it) to NPM's TLS listener.
//!
//! The visitor's address travels as a PROXY protocol header, but only to the customers'
//! proxies (upstream's `proxy/server.go` requires one from a trusted proxy); nginx sends it per
//! `server`, so the front server hands each connection to one of two internal servers on the
//! loopback: one that passes the header on (customers' proxies) and one that does not (NPM).
//! Loopback TCP, not unix sockets: a header nginx writes for a connection that arrived on a
//! unix socket names `unix:…` as its destination, which is no valid PROXY header. nginx writes
//! PROXY protocol v1, which upstream's listener (`pires/go-proxyproto`) reads as it reads v2.

use std::fmt::Write;

/// Where one customer's services are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The customer's NetBird domain (`acme.msp.example`); its services are `NAME.<domain>`.
    pub domain: String,
    /// The customer's reverse proxy, `host:port` (its container name on the edge network).
    pub upstream: String,
}

/// Everything the edge's configuration is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `address:port` the edge accepts visitors on (`edge.listen`).
    pub listen: String,
    /// Where every other name goes: NPM's TLS listener (`edge.fallback`); `None` closes them.
    pub fallback: Option<String>,
    /// One per customer with a reverse proxy, in any order (the output is sorted).
    pub routes: Vec<Route>,
    /// The first of three loopback ports the internal servers take (proxies, NPM, closed).
    pub internal_port: u16,
    /// DNS resolver for container names (`127.0.0.11` inside Docker); `None` for addresses.
    pub resolver: Option<String>,
}

/// A value that cannot be written into nginx's configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("edge: {what} {value:?} cannot go into the edge's nginx configuration ({why})")]
pub struct EdgeError {
    /// Which value.
    pub what: &'static str,
    /// The value.
    pub value: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// Refuses anything nginx would read as more than one token: the values are names and
/// addresses, so a space, quote, brace, semicolon or control character means a bug or an attack.
fn token(what: &'static str, value: &str) -> Result<(), EdgeError> {
    let bad = |why| Err(EdgeError { what, value: value.to_string(), why });
    if value.is_empty() {
        return bad("it is empty");
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control() || "\"';{}$#\\".contains(c)) {
        return bad("it holds a character nginx would read as syntax");
    }
    Ok(())
}

/// The `stream { … }` block: the edge's whole routing. Deterministic (routes sorted by domain),
/// so an unchanged fleet writes an unchanged file and no reload is needed.
pub fn stream_block(plan: &Plan) -> Result<String, EdgeError> {
    token("edge.listen", &plan.listen)?;
    if let Some(f) = &plan.fallback {
        token("edge.fallback", f)?;
    }
    if let Some(r) = &plan.resolver {
        token("the resolver", r)?;
    }
    let taken = plan.internal_port..=plan.internal_port.saturating_add(2);
    if plan.listen.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).is_some_and(|p| taken.contains(&p)) {
        return Err(EdgeError {
            what: "edge.listen",
            value: plan.listen.clone(),
            why: "its port is one the edge's internal servers take",
        });
    }
    let mut routes = plan.routes.clone();
    routes.sort_by(|a, b| a.domain.cmp(&b.domain));
    for pair in routes.windows(2) {
        if pair[0].domain == pair[1].domain {
            return Err(EdgeError {
                what: "a customer domain",
                value: pair[0].domain.clone(),
                why: "it is routed twice",
            });
        }
    }
    for r in &routes {
        token("a customer domain", &r.domain)?;
        if r.domain.starts_with('.') || r.domain.starts_with('*') {
            return Err(EdgeError { what: "a customer domain", value: r.domain.clone(), why: "it is a pattern" });
        }
        token("a customer's proxy", &r.upstream)?;
    }
    let port = |n: u16| format!("127.0.0.1:{}", plan.internal_port.saturating_add(n));
    let (proxies, fallback, closed) = (port(0), port(1), port(2));
    let other = if plan.fallback.is_some() { &fallback } else { &closed };
    let mut s = String::new();
    // Writing to a String cannot fail; the results are dropped on purpose.
    let _ = writeln!(s, "# nbmsp edge: generated from nbmsp's database; edit its settings, not this file.");
    let _ = writeln!(s, "# {} customer(s) with a reverse proxy.", routes.len());
    s.push_str("stream {\n");
    // Exact names win over wildcards in a `hostnames` map, so a customer's own management
    // domain stays with NPM while every name below it goes to the customer's proxy.
    s.push_str("    map $ssl_preread_server_name $nbmsp_edge_route {\n        hostnames;\n");
    let _ = writeln!(s, "        default {other};");
    for r in &routes {
        let _ = writeln!(s, "        {} {other};", r.domain);
        let _ = writeln!(s, "        *.{} {proxies};", r.domain);
    }
    s.push_str("    }\n");
    s.push_str("    map $ssl_preread_server_name $nbmsp_edge_proxy {\n        hostnames;\n");
    let _ = writeln!(s, "        default {closed};");
    for r in &routes {
        let _ = writeln!(s, "        *.{} {};", r.domain, r.upstream);
    }
    s.push_str("    }\n");
    // The front: reads the name, hands the connection on with the visitor's address.
    let _ = writeln!(
        s,
        "    server {{\n        listen {};\n        ssl_preread on;\n        proxy_protocol on;\n        proxy_pass $nbmsp_edge_route;\n    }}",
        plan.listen
    );
    // Customers' proxies: the visitor's address (from the front's header) passed on.
    let resolver = plan.resolver.as_ref().map(|r| format!("        resolver {r} valid=10s;\n")).unwrap_or_default();
    let _ = writeln!(
        s,
        "    server {{\n        listen {proxies} proxy_protocol;\n        set_real_ip_from 127.0.0.1;\n        ssl_preread on;\n{resolver}        proxy_protocol on;\n        proxy_pass $nbmsp_edge_proxy;\n    }}"
    );
    if let Some(f) = &plan.fallback {
        // Through a variable: a literal name is resolved when nginx loads, so the edge would not
        // start while NPM is down; a variable is resolved per connection.
        let _ = writeln!(
            s,
            "    server {{\n        listen {fallback} proxy_protocol;\n{resolver}        set $nbmsp_edge_npm {f};\n        proxy_pass $nbmsp_edge_npm;\n    }}"
        );
    }
    let _ = writeln!(s, "    server {{\n        listen {closed} proxy_protocol;\n        return \"\";\n    }}");
    s.push_str("}\n");
    Ok(s)
}

/// A whole `nginx.conf` around [`stream_block`] for an nginx that does nothing else (the edge
/// container, tests): `module` is the path of `ngx_stream_module.so` when nginx was built with
/// the stream module as a dynamic one (Debian), `prefix` the directory for its pid file.
pub fn nginx_conf(plan: &Plan, module: Option<&str>, prefix: &str) -> Result<String, EdgeError> {
    token("the nginx prefix", prefix)?;
    let mut s = String::new();
    if let Some(m) = module {
        token("the stream module", m)?;
        let _ = writeln!(s, "load_module {m};");
    }
    let prefix = prefix.trim_end_matches('/');
    let _ =
        writeln!(s, "pid {prefix}/nginx.pid;\nerror_log stderr notice;\nevents {{\n    worker_connections 4096;\n}}");
    s.push_str(&stream_block(plan)?);
    Ok(s)
}

/// A host's edge as nbmsp finds it (hosts view, `host list`, the monitor, reconcile).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EdgeHealth {
    /// `edge.listen` is empty: nbmsp runs no edge.
    NotWanted,
    /// Running, with the routes the database asks for.
    Serving {
        /// Customers routed.
        routes: usize,
    },
    /// Not serving as it should.
    Trouble {
        /// Why, and what fixes it.
        reason: String,
    },
    /// Its host did not answer.
    Unknown,
}

/// The last configuration a host's edge was given, as far as the judgement needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastReload<'a> {
    /// `started`, `reloaded`, `unchanged` or `refused`.
    pub result: &'a str,
    /// Routes in it.
    pub routes: usize,
    /// nginx's words when refused.
    pub detail: Option<&'a str>,
}

impl EdgeHealth {
    /// Judges a wanted edge: its container `running`, its `last` reload, and the routes the
    /// database asks for now.
    pub fn judge(running: bool, last: Option<LastReload<'_>>, wanted_routes: usize) -> Self {
        let trouble = |reason: String| Self::Trouble { reason };
        match last {
            _ if !running => trouble("not running: `nbmsp edge apply` starts it".into()),
            None => trouble("never given a configuration by this installation: `nbmsp edge apply`".into()),
            Some(l) if l.result == "refused" => trouble(format!(
                "its last configuration was refused ({}); it serves an older one",
                l.detail.unwrap_or("no reason given")
            )),
            Some(l) if l.routes != wanted_routes => {
                trouble(format!("serves {} route(s) where {wanted_routes} are wanted: `nbmsp edge apply`", l.routes))
            }
            Some(l) => Self::Serving { routes: l.routes },
        }
    }

    /// A few words for a table cell.
    pub fn short(&self) -> String {
        match self {
            Self::NotWanted => "—".into(),
            Self::Serving { routes } => format!("ok · {routes}"),
            Self::Trouble { .. } => "trouble".into(),
            Self::Unknown => "?".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(routes: &[(&str, &str)]) -> Plan {
        Plan {
            listen: "0.0.0.0:443".into(),
            fallback: Some("npm:443".into()),
            routes: routes.iter().map(|(d, u)| Route { domain: (*d).into(), upstream: (*u).into() }).collect(),
            internal_port: 10443,
            resolver: Some("127.0.0.11".into()),
        }
    }

    #[test]
    fn a_customers_names_go_to_its_proxy_and_its_own_domain_to_npm() {
        let s = stream_block(&plan(&[("beta.msp.example", "netbird-beta-proxy:8443"), ("acme.msp.example", "p:8443")]))
            .unwrap();
        assert!(s.contains("        acme.msp.example 127.0.0.1:10444;\n"), "{s}");
        assert!(s.contains("        *.acme.msp.example 127.0.0.1:10443;\n"), "{s}");
        assert!(s.contains("        *.beta.msp.example netbird-beta-proxy:8443;\n"), "{s}");
        assert!(s.find("acme.msp.example").unwrap() < s.find("beta.msp.example").unwrap(), "sorted: {s}");
        assert!(s.contains("set $nbmsp_edge_npm npm:443;\n        proxy_pass $nbmsp_edge_npm;"), "{s}");
    }

    #[test]
    fn without_a_fallback_other_names_are_closed() {
        let mut p = plan(&[("acme.msp.example", "p:8443")]);
        p.fallback = None;
        let s = stream_block(&p).unwrap();
        assert!(s.contains("default 127.0.0.1:10445;"), "{s}");
        assert!(!s.contains("10444"), "{s}");
    }

    #[test]
    fn values_that_are_nginx_syntax_are_refused() {
        for (d, u) in [("acme.msp.example; include /etc/passwd", "p:1"), ("acme", "p:1 backup"), ("*.acme", "p:1")] {
            assert!(stream_block(&plan(&[(d, u)])).is_err(), "{d} {u}");
        }
        let mut p = plan(&[]);
        p.fallback = Some("npm:443;}".into());
        assert!(stream_block(&p).is_err());
        assert!(stream_block(&plan(&[("a.example", "p:1"), ("a.example", "q:1")])).is_err(), "routed twice");
    }

    #[test]
    fn the_same_fleet_writes_the_same_file() {
        let a = stream_block(&plan(&[("b.example", "q:1"), ("a.example", "p:1")])).unwrap();
        let b = stream_block(&plan(&[("a.example", "p:1"), ("b.example", "q:1")])).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn an_edge_is_judged_by_its_container_its_last_reload_and_the_routes_wanted() {
        let last = |result, routes| Some(LastReload { result, routes, detail: Some("bad resolver") });
        assert_eq!(EdgeHealth::judge(true, last("reloaded", 3), 3), EdgeHealth::Serving { routes: 3 });
        assert_eq!(EdgeHealth::judge(true, last("unchanged", 0), 0), EdgeHealth::Serving { routes: 0 });
        let why = |h: EdgeHealth| match h {
            EdgeHealth::Trouble { reason } => reason,
            other => panic!("{other:?}"),
        };
        assert!(why(EdgeHealth::judge(false, last("reloaded", 3), 3)).starts_with("not running"));
        assert!(why(EdgeHealth::judge(true, None, 0)).starts_with("never given"));
        assert!(why(EdgeHealth::judge(true, last("refused", 3), 3)).contains("refused (bad resolver)"));
        assert!(why(EdgeHealth::judge(true, last("started", 2), 3)).contains("serves 2 route(s) where 3 are wanted"));
    }
}
