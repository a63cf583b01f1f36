//! Redaction: what a debug log line or a support archive shows instead of a secret.
//!
//! A value is secret when its name says so (`password`, `export_password`, `*secret*`,
//! `*token*`, …, qualified or not), when a SCIM PATCH operation's `path` names such an
//! attribute (its `value` is the secret), or when it is a credential embedded in a string
//! (`scheme://user:PASSWORD@host`, `Password=…;` in a connection string).

use serde_json::Value;

/// What replaces a secret.
pub const MARKER: &str = "[REDACTED]";

/// Name fragments that make an attribute, parameter or key secret (compared in lower case,
/// without `_`, `-` and spaces).
const SECRET_WORDS: [&str; 9] = [
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "credential",
    "apikey",
    "privatekey",
    "passphrase",
];

/// Whether a name (a JSON key, a SCIM attribute path, a connector parameter) is a secret's.
/// Only the last segment of a qualified name counts: `urn:…:User:export_password` is, the
/// schema URN `urn:…:2.0:User` is not.
pub fn is_secret_name(name: &str) -> bool {
    let last = name
        .rsplit([':', '.'])
        .next()
        .unwrap_or(name)
        .split('[')
        .next()
        .unwrap_or_default();
    let folded: String = last
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_WORDS.iter().any(|w| folded.contains(w))
}

/// Keys whose string value names the attribute a sibling `value` belongs to (SCIM PATCH
/// operations, name/value pairs).
const NAMING_KEYS: [&str; 3] = ["path", "name", "attribute"];
const VALUE_KEYS: [&str; 2] = ["value", "values"];

/// Replaces every secret inside a JSON document, in place.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let names_a_secret = NAMING_KEYS.iter().any(|k| {
                map.iter().any(|(key, v)| {
                    key.eq_ignore_ascii_case(k) && v.as_str().is_some_and(is_secret_name)
                })
            });
            for (key, v) in map.iter_mut() {
                let secret = is_secret_name(key)
                    || (names_a_secret && VALUE_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k)));
                if secret && !v.is_null() {
                    *v = Value::String(MARKER.to_owned());
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::String(s) => {
            if let Some(clean) = scrub_embedded(s) {
                *s = clean;
            }
        }
        _ => {}
    }
}

/// A body as it may be logged: JSON with its secrets replaced, or a note saying why it is
/// not shown (a body that is not JSON cannot be searched for secrets reliably).
pub fn loggable_body(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            redact_json(&mut v);
            v.to_string()
        }
        Err(_) => format!("({} bytes, not JSON: not logged)", bytes.len()),
    }
}

/// A string with embedded credentials replaced: the password of a URL's user information
/// and the value of a `password=`/`pwd=`-like pair in a `key=value;` connection string.
/// None when there is nothing to replace.
pub fn scrub_embedded(s: &str) -> Option<String> {
    let mut out = s.to_owned();
    let mut changed = false;
    // scheme://user:password@host
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| authority_start + i);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            let userinfo = &out[authority_start..authority_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = authority_start + colon + 1;
                let end = authority_start + at;
                if start < end {
                    out.replace_range(start..end, MARKER);
                    changed = true;
                }
            }
        }
    }
    // Key=Value; pairs (ODBC, ADO.NET, libpq's key=value with spaces)
    if out.contains('=') {
        let separator = if out.contains(';') { ';' } else { ' ' };
        let mut rebuilt = Vec::new();
        let mut pairs_changed = false;
        for part in out.split(separator) {
            match part.split_once('=') {
                Some((key, value)) if is_secret_name(key.trim()) && !value.trim().is_empty() => {
                    rebuilt.push(format!("{key}={MARKER}"));
                    pairs_changed = true;
                }
                _ => rebuilt.push(part.to_owned()),
            }
        }
        if pairs_changed {
            out = rebuilt.join(&separator.to_string());
            changed = true;
        }
    }
    changed.then_some(out)
}

/// Replaces each known secret value wherever it occurs in `text` (secrets shorter than
/// `MIN_KNOWN_SECRET` are left: replacing them would blank out ordinary words).
pub fn scrub_known(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets
        .iter()
        .filter(|s| s.chars().count() >= MIN_KNOWN_SECRET)
    {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MARKER);
        }
    }
    out
}

/// The shortest secret value searched for verbatim.
pub const MIN_KNOWN_SECRET: usize = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_names_are_recognised_in_any_spelling() {
        for name in [
            "password",
            "export_password",
            "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:export_password",
            "userPassword",
            "Client Secret",
            "api-token",
            "PWD",
            "privateKey",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "userName",
            "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User",
            "emails[type eq \"work\"].value",
            "displayName",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn json_bodies_lose_passwords_and_patch_values_naming_them() {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada",
            "password": "Hunter2-hunter2",
            "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User": {
                "export_password": "Another-one-9"
            },
            "Operations": [
                {"op": "replace", "path": "password", "value": "Patched-pass-1"},
                {"op": "replace", "path": "displayName", "value": "Ada L"},
                {"op": "add", "value": {"password": "No-path-pass-2"}}
            ]
        });
        redact_json(&mut body);
        let text = body.to_string();
        for secret in ["Hunter2", "Another-one", "Patched-pass", "No-path-pass"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("Ada L") && text.contains("ada"), "{text}");
        assert_eq!(body["password"], MARKER);
    }

    #[test]
    fn embedded_credentials_are_scrubbed() {
        assert_eq!(
            scrub_embedded("postgres://app:s3cr3t-pw@db.example:5432/hr").unwrap(),
            "postgres://app:[REDACTED]@db.example:5432/hr"
        );
        assert_eq!(
            scrub_embedded("Driver=PostgreSQL;Server=db;Uid=app;Pwd=s3cr3t-pw;").unwrap(),
            "Driver=PostgreSQL;Server=db;Uid=app;Pwd=[REDACTED];"
        );
        assert_eq!(
            scrub_embedded("host=db user=app password=s3cr3t-pw").unwrap(),
            "host=db user=app password=[REDACTED]"
        );
        assert_eq!(scrub_embedded("ldap://ldap.example:389"), None);
        assert_eq!(scrub_embedded("plain text"), None);
    }

    #[test]
    fn non_json_bodies_are_not_logged() {
        assert_eq!(
            loggable_body(b"password=abc"),
            "(12 bytes, not JSON: not logged)"
        );
        assert_eq!(loggable_body(b""), "");
    }
}
