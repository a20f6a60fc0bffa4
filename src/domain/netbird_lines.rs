//! The NetBird tab's one-line forms for what the CLI takes as flags: a nameserver group and an
//! identity provider. Each becomes the same request type the CLI builds, so the engine checks
//! both doors alike.

use super::ValidationError;

use super::netbird::{IDP_TYPES, NewIdp, NewNameservers, Secret, parse_resolver};

/// `NAME ns=IP[:PORT],… groups=G,… [domains=D,…] [search]`.
pub fn nameservers(text: &str) -> Result<NewNameservers, ValidationError> {
    let why = || -> Result<NewNameservers, String> {
        let mut words = text.split_whitespace();
        let name = words.next().filter(|w| !w.contains('=')).ok_or("type: NAME ns=IP[:PORT],… groups=G,…")?;
        let mut new = NewNameservers {
            name: name.to_string(),
            description: String::new(),
            servers: Vec::new(),
            groups: Vec::new(),
            domains: Vec::new(),
            search_domains: false,
        };
        let list = |v: &str| v.split(',').filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>();
        for w in words {
            match w.split_once('=') {
                Some(("ns", v)) => {
                    new.servers =
                        list(v).iter().map(|s| parse_resolver(s).map_err(|e| e.rule)).collect::<Result<_, _>>()?
                }
                Some(("groups", v)) => new.groups = list(v),
                Some(("domains", v)) => new.domains = list(v),
                None if w == "search" => new.search_domains = true,
                _ => return Err(format!("'{w}': ns=, groups=, domains= or search")),
            }
        }
        if new.servers.is_empty() || new.servers.len() > 3 {
            return Err("1 to 3 resolvers: ns=IP[:PORT],…".into());
        }
        if new.groups.is_empty() {
            return Err("which devices use them: groups=G,…".into());
        }
        Ok(new)
    };
    why().map_err(|rule| ValidationError::new("nameserver group", rule))
}

/// `TYPE NAME… client-id=ID [issuer=URL]`; the client secret follows on a line of its own
/// (drawn as dots, kept nowhere but the request to NetBird).
pub fn idp(text: &str) -> Result<NewIdp, ValidationError> {
    let why = || -> Result<NewIdp, String> {
        let mut words = text.split_whitespace();
        let kind = words.next().ok_or("type: TYPE NAME client-id=ID [issuer=URL]")?.to_ascii_lowercase();
        if !IDP_TYPES.contains(&kind.as_str()) {
            return Err(format!("'{kind}': one of {}", IDP_TYPES.join(", ")));
        }
        let (mut name, mut client_id, mut issuer) = (Vec::new(), String::new(), String::new());
        for w in words {
            match w.split_once('=') {
                Some(("client-id", v)) => client_id = v.to_string(),
                Some(("issuer", v)) => issuer = v.to_string(),
                Some((k, _)) => return Err(format!("'{k}': client-id= or issuer=")),
                None => name.push(w),
            }
        }
        if name.is_empty() || client_id.is_empty() {
            return Err("a name and client-id=ID".into());
        }
        Ok(NewIdp { kind, name: name.join(" "), issuer, client_id, secret: Secret(String::new()) })
    };
    why().map_err(|rule| ValidationError::new("identity provider", rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nameserver_line_names_resolvers_and_the_groups_that_use_them() {
        let n = nameservers("quad9 ns=9.9.9.9,[2620:fe::fe]:53 groups=All domains=corp.example search").unwrap();
        assert_eq!(n.servers, vec![("9.9.9.9".to_string(), 53), ("2620:fe::fe".to_string(), 53)]);
        assert_eq!((n.groups.as_slice(), n.domains.len(), n.search_domains), (["All".to_string()].as_slice(), 1, true));
        assert!(nameservers("x ns=dns.example groups=All").unwrap_err().rule.contains("IP address"));
        assert!(nameservers("x ns=1.1.1.1").unwrap_err().rule.contains("groups="));
        assert!(nameservers("x groups=All").unwrap_err().rule.contains("1 to 3"));
    }

    #[test]
    fn an_idp_line_names_its_type_and_client_and_never_its_secret() {
        let i = idp("okta Staff SSO client-id=0oa1 issuer=https://acme.okta.com").unwrap();
        assert_eq!((i.kind.as_str(), i.name.as_str(), i.client_id.as_str()), ("okta", "Staff SSO", "0oa1"));
        assert_eq!(i.secret.0, "", "the secret comes on its own line");
        assert!(idp("ldap x client-id=1").unwrap_err().rule.contains("one of"));
        assert!(idp("google Staff").unwrap_err().rule.contains("client-id"));
    }
}
