//! The configuration as the archive shows it: every secret value replaced, references to
//! secrets (`{ env = … }`, `{ file = … }`) kept, since they tell support where a secret
//! should come from without being one.

use toml::Value;

use crate::config::{Config, ParameterValue};
use crate::logging::redact::{MARKER, is_secret_name, scrub_embedded};

/// The file's text with its secrets replaced (comments are not kept), or why it cannot be
/// shown.
pub fn redacted_text(raw: &str) -> Result<String, String> {
    let mut table: toml::Table = raw.parse().map_err(|e: toml::de::Error| {
        // The parser quotes the offending line, which may hold a literal secret.
        format!(
            "the file is not valid TOML ({}); its text is not included",
            e.message()
        )
    })?;
    for (key, value) in table.iter_mut() {
        redact(key, value);
    }
    toml::to_string_pretty(&table).map_err(|e| e.to_string())
}

fn redact(key: &str, value: &mut Value) {
    let secret = is_secret_name(key);
    match value {
        Value::String(s) => {
            if secret {
                *s = MARKER.to_owned();
            } else if let Some(clean) = scrub_embedded(s) {
                *s = clean;
            }
        }
        Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                redact(k, v);
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                redact(key, v);
            }
        }
        // Numbers and booleans under a secret's name still say something about it.
        Value::Integer(_) | Value::Float(_) | Value::Boolean(_) | Value::Datetime(_) => {
            if secret {
                *value = Value::String(MARKER.to_owned());
            }
        }
    }
}

/// Every secret the configuration resolves to (tokens, secret parameters, text parameters
/// named like secrets), so that the archive can be searched for them verbatim whatever file
/// they turn up in. Secrets that cannot be resolved here are skipped.
pub fn known_secrets(raw: &str, config: Option<&Config>) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(table) = raw.parse::<toml::Table>() {
        for (key, value) in &table {
            literal_secrets(key, value, &mut found);
        }
    }
    if let Some(Ok(token)) = config.and_then(|c| {
        c.host
            .metrics_token
            .as_ref()
            .map(|t| t.resolve("metrics_token"))
    }) {
        found.push(token.expose().to_owned());
    }
    for app in config.map(|c| c.apps.as_slice()).unwrap_or_default() {
        if let Ok(token) = app.token.resolve("token") {
            found.push(token.expose().to_owned());
        }
        for (_, page) in app.parameters.pages() {
            for (name, value) in page {
                match value {
                    ParameterValue::Secret(r) => {
                        if let Ok(s) = r.secret.resolve(name) {
                            found.push(s.expose().to_owned());
                        }
                    }
                    ParameterValue::Text(t) if is_secret_name(name) => found.push(t.clone()),
                    _ => {}
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn literal_secrets(key: &str, value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(s) if is_secret_name(key) => found.push(s.clone()),
        Value::Table(t) => t.iter().for_each(|(k, v)| literal_secrets(k, v, found)),
        Value::Array(items) => items.iter().for_each(|v| literal_secrets(key, v, found)),
        _ => {}
    }
}

/// The `ECMA_HOST_*` variables that override the file, values of secret-named ones replaced.
pub fn environment_overrides() -> String {
    let mut out = String::new();
    for (name, value) in std::env::vars() {
        if !name.starts_with("ECMA_HOST_") {
            continue;
        }
        let shown = if is_secret_name(&name) {
            MARKER.to_owned()
        } else {
            scrub_embedded(&value).unwrap_or(value)
        };
        out.push_str(&format!("{name}={shown}\n"));
    }
    if out.is_empty() {
        out.push_str("(no ECMA_HOST_ variables set for this command)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_go_and_references_stay() {
        let raw = r#"
[host]
state_dir = "/var/lib/ecma-host"
[[app]]
name = "hr"
token = "literal-token-value-123"
[app.parameters.connectivity]
"Connection String" = "postgres://app:pg-pass-456@db/hr"
Password = { secret = "param-secret-789" }
"Bind Password" = { secret = { file = "/etc/ecma-host/ldap.secret" } }
[[app]]
name = "crm"
token = { env = "CRM_TOKEN" }
"#;
        let text = redacted_text(raw).unwrap();
        for secret in ["literal-token-value-123", "pg-pass-456", "param-secret-789"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("/etc/ecma-host/ldap.secret"), "{text}");
        assert!(text.contains("CRM_TOKEN"), "{text}");
        assert!(text.contains("/var/lib/ecma-host"), "{text}");
        let known = known_secrets(raw, None);
        assert!(known.contains(&"literal-token-value-123".to_owned()));
        assert!(known.contains(&"param-secret-789".to_owned()));
    }

    #[test]
    fn a_file_that_does_not_parse_is_not_quoted() {
        let err = redacted_text("token = \"leaky-secret\n[host").unwrap_err();
        assert!(!err.contains("leaky-secret"), "{err}");
    }
}
