//! Columns that look like secrets (password hashes, salts, tokens, API keys): discovery leaves
//! them out of the schema unless the configuration names them, so a `SELECT *` table never
//! hands a credential store to Entra (and to every reader of the host's cache) by default.
//!
//! A column is named by the configuration when it is listed in `Expose columns`, or used as
//! an anchor, DN, object type, watermark or child join column, or given a type or direction:
//! naming a column is asking for it.

use std::collections::HashSet;

use crate::config::Settings;

/// Name parts that mark a secret wherever they stand (`user_password`, `PasswordHash`).
const SECRET_PARTS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "passphrase",
    "hash",
    "hashed",
    "salt",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "credential",
    "credentials",
    "otp",
    "totp",
];

/// Words that mark a secret even inside one undivided part (`userpassword`, `clientsecret`,
/// `apitoken`: PostgreSQL folds unquoted names to one lower-case word). Hiding a harmless
/// `tokenizer` column costs a line in `Expose columns`; serving a secret costs more.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "credential",
];

/// The parts of a column name, lower-cased: split at anything not a letter or digit and
/// where a lower-case letter or digit meets an upper-case one (`passwordHash`, `API_Key`).
fn parts(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether a column name looks like it holds a secret.
pub fn looks_secret(name: &str) -> bool {
    let parts = parts(name);
    parts
        .iter()
        .any(|p| SECRET_PARTS.contains(&p.as_str()) || SECRET_WORDS.iter().any(|w| p.contains(w)))
        || parts
            .windows(2)
            .any(|w| w[0] == "api" && (w[1] == "key" || w[1] == "keys"))
}

/// The columns the configuration names (lower-cased), which are never hidden.
pub fn named_columns(settings: &Settings) -> HashSet<String> {
    let mut named: HashSet<String> = settings
        .expose
        .iter()
        .chain(&settings.anchors)
        .chain(settings.dn_column.iter())
        .chain(settings.type_overrides.keys())
        .chain(settings.directions.keys())
        .chain(&settings.proc_params)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if let crate::config::TypeDetection::Column(c) = &settings.types {
        named.insert(c.to_ascii_lowercase());
    }
    if let crate::config::DeltaStrategy::Watermark { column, .. } = &settings.delta {
        named.insert(column.to_ascii_lowercase());
    }
    if let Some((_, join)) = &settings.mv_table {
        named.insert(join.to_ascii_lowercase());
    }
    named
}

/// Whether discovery leaves the column `name` out.
pub fn hidden(name: &str, named: &HashSet<String>) -> bool {
    looks_secret(name) && !named.contains(&name.to_ascii_lowercase())
}

/// The warning naming the hidden columns, for the host's log.
pub fn hidden_warning(hidden: &[String]) -> Option<String> {
    (!hidden.is_empty()).then(|| {
        format!(
            "columns that look like secrets are not served: {}; list them in '{}' to serve them",
            hidden.join(", "),
            crate::config::P_EXPOSE
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_names_by_their_parts() {
        for secret in [
            "password",
            "password_hash",
            "PasswordHash",
            "userPassword",
            "user_passwd",
            "pwd",
            "salt",
            "pw_salt",
            "hash",
            "client_secret",
            "clientSecret",
            "refresh_token",
            "API_Key",
            "apiKey",
            "api-keys",
            "apikey",
            "apitoken",
            "userpassword",
            "totp_seed",
            "credentials",
        ] {
            assert!(looks_secret(secret), "{secret}");
        }
        for plain in [
            "id",
            "login",
            "mail",
            "display_name",
            "hashtag_count",
            "salty_snack",
            "keyword",
            "primary_key",
            "passport_no",
            "compass",
            "monkey",
            "updated_at",
        ] {
            assert!(!looks_secret(plain), "{plain}");
        }
    }

    #[test]
    fn named_columns_are_not_hidden() {
        let named: HashSet<String> = ["pw_hash".to_owned()].into();
        assert!(!hidden("PW_Hash", &named));
        assert!(hidden("salt", &named));
        assert!(!hidden("login", &named));
        assert_eq!(hidden_warning(&[]), None);
        let w = hidden_warning(&["salt".into(), "pw_hash".into()]).unwrap();
        assert!(
            w.contains("salt, pw_hash") && w.contains("Expose columns"),
            "{w}"
        );
    }
}
