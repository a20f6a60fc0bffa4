//! The template set: files embedded in the binary, each overridable by a file of the same name
//! under `$NBMSP_HOME/templates/`, rendered by minijinja with escaping chosen by file type.
//!
//! Templates are trusted (ours, or the operator's overrides); the values put into them are not.
//! So every `{{ value }}` is escaped for its target automatically: JSON-quoted in `.yml`, `.yaml`
//! and `.json` files (a JSON string is a valid YAML double-quoted scalar), refused in `.env` files
//! when it could start a new line, and restricted to a safe alphabet in `.conf` (nginx) files.

use std::borrow::Cow;
use std::path::PathBuf;

use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};

/// Templates compiled into the binary, by name.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("combined/docker-compose.yml", include_str!("../../../templates/combined/docker-compose.yml")),
    ("combined/config.yaml", include_str!("../../../templates/combined/config.yaml")),
    ("combined/dashboard.env", include_str!("../../../templates/combined/dashboard.env")),
    ("combined/proxy.env", include_str!("../../../templates/combined/proxy.env")),
    ("legacy/docker-compose.yml", include_str!("../../../templates/legacy/docker-compose.yml")),
    ("legacy/management.json", include_str!("../../../templates/legacy/management.json")),
    ("legacy/relay.env", include_str!("../../../templates/legacy/relay.env")),
    ("legacy/dashboard.env", include_str!("../../../templates/legacy/dashboard.env")),
    ("nginx/locations.conf", include_str!("../../../templates/nginx/locations.conf")),
    ("nginx/server.conf", include_str!("../../../templates/nginx/server.conf")),
];

const ENV: &str = "env";
const NGINX: &str = "nginx";
const JSON: &str = "json";
const COMPOSE: &str = "compose";

fn escape_for(name: &str) -> AutoEscape {
    // docker-compose interpolates `$` in every value of its file: a customer's name must not.
    if name.rsplit('/').next() == Some("docker-compose.yml") {
        return AutoEscape::Custom(COMPOSE);
    }
    match name.rsplit('.').next() {
        Some("yml" | "yaml" | "json") => AutoEscape::Custom(JSON),
        Some("env") => AutoEscape::Custom(ENV),
        Some("conf") => AutoEscape::Custom(NGINX),
        _ => AutoEscape::None,
    }
}

fn plain(value: &Value) -> Result<Cow<'_, str>, Error> {
    if value.is_undefined() || value.is_none() {
        return Err(Error::new(ErrorKind::UndefinedError, "a template printed a missing value"));
    }
    Ok(value.as_str().map_or_else(|| Cow::Owned(value.to_string()), Cow::Borrowed))
}

/// A JSON value that is also a valid YAML 1.1 and 1.2 double-quoted scalar with the same
/// meaning: JSON leaves DEL, C1 controls and some Unicode separators raw, which YAML forbids
/// (DEL, C1) or folds into spaces (PyYAML, i.e. docker-compose v1, reads NEL, LS and PS as line
/// breaks). Those are written as `\uXXXX` escapes, which both languages read back exactly.
fn json_value(value: &Value) -> Result<String, Error> {
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "a template printed a missing value"));
    }
    let json = serde_json::to_string(value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("cannot write a value as JSON: {e}")))?;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}') {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Docker reads env files line by line, taking everything after `=` literally: a value is safe
/// unless it could end the line.
fn env_value(value: &Value) -> Result<String, Error> {
    let s = plain(value)?;
    if s.contains(['\n', '\r', '\0']) {
        return Err(Error::new(ErrorKind::InvalidOperation, "a value for an env file contains a line break"));
    }
    Ok(s.into_owned())
}

/// nginx has no general quoting that survives every context (`;`, `{`, `$`, quotes, spaces), so
/// values are limited to what domains, container names, ports and paths need.
fn nginx_value(value: &Value) -> Result<String, Error> {
    let s = plain(value)?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-:/".contains(&b)) {
        return Err(Error::new(ErrorKind::InvalidOperation, format!("value {s:?} is not safe in an nginx config")));
    }
    Ok(s.into_owned())
}

/// A template environment reading overrides from `override_dir` (when given) before the
/// embedded set.
pub fn environment(override_dir: Option<PathBuf>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(escape_for);
    env.set_keep_trailing_newline(true);
    env.set_formatter(|out, state, value| match state.auto_escape() {
        AutoEscape::Custom(ENV) => out.write_str(&env_value(value)?).map_err(Error::from),
        AutoEscape::Custom(NGINX) => out.write_str(&nginx_value(value)?).map_err(Error::from),
        AutoEscape::Custom(JSON) => out.write_str(&json_value(value)?).map_err(Error::from),
        AutoEscape::Custom(COMPOSE) => out.write_str(&json_value(value)?.replace('$', "$$")).map_err(Error::from),
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.set_loader(move |name| {
        if let Some(dir) = &override_dir {
            let path = dir.join(name);
            // Names come from our own list (no user input), but refuse escapes from the dir anyway.
            if !name.contains("..") && path.is_file() {
                return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                    Error::new(ErrorKind::TemplateNotFound, format!("cannot read {}: {e}", path.display()))
                });
            }
        }
        Ok(EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, t)| (*t).to_string()))
    });
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn render(name: &str, source: &str, v: &str) -> Result<String, Error> {
        let mut env = environment(None);
        env.add_template_owned(name.to_string(), source.to_string())?;
        env.get_template(name)?.render(context! { v => v })
    }

    #[test]
    fn yaml_and_json_values_are_quoted() {
        assert_eq!(render("a.yml", "k: {{ v }}", "x\ny: 1").unwrap(), r#"k: "x\ny: 1""#);
        assert_eq!(render("a.json", "{{ v }}", "\"}").unwrap(), r#""\"}""#);
    }

    #[test]
    fn env_values_cannot_add_lines() {
        assert_eq!(render("a.env", "K={{ v }}", "a b=c").unwrap(), "K=a b=c");
        assert!(render("a.env", "K={{ v }}", "a\nEVIL=1").is_err());
    }

    #[test]
    fn nginx_values_are_restricted() {
        assert_eq!(
            render("a.conf", "server_name {{ v }};", "acme.msp.example").unwrap(),
            "server_name acme.msp.example;"
        );
        for bad in ["a;b", "a b", "$host", "a{", "", "a\"b"] {
            assert!(render("a.conf", "x {{ v }};", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn missing_values_are_errors() {
        let mut env = environment(None);
        env.add_template("a.yml", "k: {{ nope }}").unwrap();
        assert!(env.get_template("a.yml").unwrap().render(context! {}).is_err());
    }

    #[test]
    fn override_dir_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("combined")).unwrap();
        std::fs::write(dir.path().join("combined/dashboard.env"), "OVERRIDDEN={{ domain }}\n").unwrap();
        let env = environment(Some(dir.path().to_path_buf()));
        let out = env.get_template("combined/dashboard.env").unwrap().render(context! { domain => "a.b" }).unwrap();
        assert_eq!(out, "OVERRIDDEN=a.b\n");
        assert!(env.get_template("combined/config.yaml").is_ok(), "others still come from the binary");
    }
}
