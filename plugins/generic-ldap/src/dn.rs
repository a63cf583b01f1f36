//! Distinguished names (RFC 4514) and filter values (RFC 4515).
//!
//! Escaping uses ldap3's `dn_escape`/`ldap_escape`, which were checked against the RFCs
//! (see the tests below): `dn_escape` hex-escapes `"+,;<>\` and NUL everywhere (and `=`,
//! which RFC 4514 allows), a leading space or `#` and a trailing space; `ldap_escape` escapes
//! `*()\` and NUL as `\XX`. Both work on UTF-8 bytes, so non-ASCII passes through unchanged,
//! which both RFCs allow. Parsing (splitting a DN into RDNs, unescaping) is ours, because
//! ldap3 has none.

use std::borrow::Cow;

use plugin_api::model::Value;

/// Escapes one attribute value for use in an RDN.
pub fn escape_value(value: &str) -> Cow<'_, str> {
    ldap3::dn_escape(value)
}

/// Escapes one assertion value for use in a search filter.
pub fn escape_filter(value: &str) -> Cow<'_, str> {
    ldap3::ldap_escape(value)
}

/// Escapes raw bytes for a filter (binary anchors such as `objectGUID`): every byte `\XX`.
pub fn escape_filter_bytes(value: &[u8]) -> String {
    value.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// `(attr=value)`: an equality filter on one value, escaped per RFC 4515 (binary values, such
/// as an `objectGUID` anchor, byte by byte).
pub fn equality_filter(attr: &str, value: &Value) -> String {
    let assertion = match value {
        Value::Binary(b) => escape_filter_bytes(b),
        other => escape_filter(&other.as_text()).into_owned(),
    };
    format!("({attr}={assertion})")
}

/// One `type=value` pair of an RDN, value unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ava {
    pub attr: String,
    pub value: String,
}

/// Splits a DN string at unescaped `,` (RDN boundaries), keeping each RDN's text as written.
/// Returns None for a malformed DN (dangling escape, unterminated quote).
pub fn split_rdns(dn: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let bytes = dn.as_bytes();
    let mut start = 0;
    let mut i = 0;
    let mut quoted = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                if i + 1 >= bytes.len() {
                    return None;
                }
                i += 2;
                continue;
            }
            b'"' => quoted = !quoted,
            b',' | b';' if !quoted => {
                out.push(dn[start..i].trim_start());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if quoted {
        return None;
    }
    if !dn.trim().is_empty() {
        out.push(dn[start..].trim_start());
    }
    Some(out)
}

/// The first RDN and the parent DN (`uid=a,ou=x,dc=y` → (`uid=a`, `ou=x,dc=y`)).
pub fn split_first(dn: &str) -> Option<(String, String)> {
    let rdns = split_rdns(dn)?;
    let (first, rest) = rdns.split_first()?;
    Some(((*first).to_owned(), rest.join(",")))
}

/// Parses one RDN into its attribute-value assertions (multi-valued RDNs use `+`).
pub fn parse_rdn(rdn: &str) -> Option<Vec<Ava>> {
    let mut avas = Vec::new();
    let bytes = rdn.as_bytes();
    let mut start = 0;
    let mut i = 0;
    let mut parts = Vec::new();
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'+' => {
                parts.push(&rdn[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&rdn[start..]);
    for part in parts {
        let eq = part.find('=')?;
        let attr = part[..eq].trim();
        if attr.is_empty() {
            return None;
        }
        avas.push(Ava {
            attr: attr.to_owned(),
            value: unescape_value(&part[eq + 1..])?,
        });
    }
    Some(avas)
}

/// Undoes RFC 4514 escaping of one value (`\,` and `\2c` forms; `#hex` BER values are kept
/// as written). Unescaped leading/trailing spaces are not part of the value.
pub fn unescape_value(raw: &str) -> Option<String> {
    let raw = raw.trim_start_matches(' ');
    if raw.starts_with('#') {
        return Some(raw.trim_end().to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    // Index of the last byte that came from an escape: trailing spaces after it are kept.
    let mut last_escaped = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let a = *bytes.get(i + 1)?;
            if let (Some(h), Some(l)) = (hex(a), bytes.get(i + 2).and_then(|b| hex(*b))) {
                out.push(h << 4 | l);
                i += 3;
            } else {
                out.push(a);
                i += 2;
            }
            last_escaped = out.len();
        } else if bytes[i] == b'"' {
            // Quoted values (RFC 2253 style): drop the quotes.
            i += 1;
            last_escaped = out.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    while out.len() > last_escaped && out.last() == Some(&b' ') {
        out.pop();
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A comparable form of a DN: attribute types and values lower-cased, escapes resolved,
/// whitespace around separators dropped. Two DNs naming the same entry compare equal (for
/// the case-insensitive matching rules almost all naming attributes use).
pub fn normalize(dn: &str) -> String {
    let Some(rdns) = split_rdns(dn) else {
        return dn.to_lowercase();
    };
    let mut out = Vec::with_capacity(rdns.len());
    for rdn in rdns {
        match parse_rdn(rdn) {
            Some(mut avas) => {
                avas.sort_by_key(|a| a.attr.to_lowercase());
                out.push(
                    avas.iter()
                        .map(|a| {
                            format!(
                                "{}={}",
                                a.attr.to_lowercase(),
                                escape_value(&a.value.to_lowercase())
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("+"),
                );
            }
            None => out.push(rdn.to_lowercase()),
        }
    }
    out.join(",")
}

/// True when `dn` is `base` or below it.
pub fn is_under(dn: &str, base: &str) -> bool {
    is_under_normalized(&normalize(dn), &normalize(base))
}

/// [`is_under`] for DNs already [`normalize`]d (to check many DNs against a few bases). The
/// comma before `base` must separate RDNs: an escaped one (`cn=a\,dc=x`) is part of a value.
pub fn is_under_normalized(dn: &str, base: &str) -> bool {
    if base.is_empty() || dn == base {
        return true;
    }
    let Some(head) = dn.strip_suffix(base).and_then(|h| h.strip_suffix(',')) else {
        return false;
    };
    let backslashes = head.bytes().rev().take_while(|b| *b == b'\\').count();
    backslashes % 2 == 0
}

/// Expands a DN template such as `uid={uid},ou=people,dc=example,dc=com`: each `{attr}` is
/// replaced by the RFC 4514-escaped first value `lookup(attr)` returns. Errors name the
/// missing attribute.
pub fn expand_template(
    template: &str,
    mut lookup: impl FnMut(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("unterminated '{{' in DN template {template:?}"))?
            + open;
        let name = rest[open + 1..close].trim();
        let value = lookup(name)
            .ok_or_else(|| format!("DN template needs attribute '{name}', which has no value"))?;
        out.push_str(&escape_value(&value));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_escape_follows_rfc4514() {
        // RFC 4514 2.4: escape '"', '+', ',', ';', '<', '>', '\\' and NUL anywhere, a leading
        // space or '#', and a trailing space.
        assert_eq!(escape_value("a,b"), "a\\2cb");
        assert_eq!(escape_value("a+b"), "a\\2bb");
        assert_eq!(escape_value("\"q\""), "\\22q\\22");
        assert_eq!(escape_value("a\\b"), "a\\5cb");
        assert_eq!(escape_value("<>;"), "\\3c\\3e\\3b");
        assert_eq!(escape_value("a\0b"), "a\\00b");
        assert_eq!(escape_value(" lead"), "\\20lead");
        assert_eq!(escape_value("trail "), "trail\\20");
        assert_eq!(escape_value("#hash"), "\\23hash");
        assert_eq!(escape_value("mid#dle sp"), "mid#dle sp");
        assert_eq!(escape_value(" "), "\\20");
        assert_eq!(escape_value("Zoë 日本"), "Zoë 日本");
    }

    #[test]
    fn filter_escape_follows_rfc4515() {
        // RFC 4515 3: '*', '(', ')', '\\' and NUL must be escaped as \XX.
        assert_eq!(escape_filter("a*b"), "a\\2ab");
        assert_eq!(escape_filter("(x)"), "\\28x\\29");
        assert_eq!(escape_filter("back\\slash"), "back\\5cslash");
        assert_eq!(escape_filter("nul\0"), "nul\\00");
        assert_eq!(escape_filter("ü=&|!~<>"), "ü=&|!~<>");
        assert_eq!(escape_filter_bytes(&[0, 0xff]), "\\00\\ff");
        assert_eq!(
            equality_filter("uid", &Value::from("a*)(uid=*")),
            "(uid=a\\2a\\29\\28uid=\\2a)"
        );
        assert_eq!(
            equality_filter("objectGUID", &Value::Binary(vec![0x28, 0x2a])),
            "(objectGUID=\\28\\2a)"
        );
    }

    #[test]
    fn escape_then_parse_round_trips() {
        for v in [
            ",+\"\\<>;=#",
            " leading",
            "trailing ",
            "  both  ",
            "#start",
            "Zoë, \"日本\" + <x>",
            "*()\\",
        ] {
            let dn = format!("cn={},ou=x,dc=example", escape_value(v));
            let (rdn, parent) = split_first(&dn).unwrap();
            assert_eq!(parent, "ou=x,dc=example");
            let avas = parse_rdn(&rdn).unwrap();
            assert_eq!(avas.len(), 1);
            assert_eq!(avas[0].value, v, "round trip of {v:?} via {dn:?}");
        }
    }

    #[test]
    fn parses_server_forms() {
        // Servers may return the other escape forms RFC 4514 allows.
        assert_eq!(unescape_value("a\\,b").unwrap(), "a,b");
        assert_eq!(unescape_value("\\ a\\ ").unwrap(), " a ");
        assert_eq!(unescape_value("x\\C3\\A9").unwrap(), "xé");
        let avas = parse_rdn("cn=a\\+b+uid=c").unwrap();
        assert_eq!(avas[0].value, "a+b");
        assert_eq!(avas[1].attr, "uid");
        assert!(split_rdns("cn=a\\").is_none());
    }

    #[test]
    fn normalize_and_under() {
        assert_eq!(
            normalize("UID=Bob, OU=People,dc=Example"),
            normalize("uid=bob,ou=people,DC=example")
        );
        assert_eq!(normalize("cn=a\\2cb,dc=x"), normalize("cn=a\\,b,dc=x"));
        assert!(is_under("uid=a,ou=p,dc=x", "dc=x"));
        assert!(is_under("dc=x", "DC=X"));
        assert!(!is_under("uid=a,ou=p,dc=xy", "dc=x"));
        // An escaped comma is part of the value, not a separator.
        assert!(!is_under("cn=a\\,dc=x", "dc=x"));
        assert!(is_under("cn=a\\\\,dc=x", "dc=x"));
    }

    #[test]
    fn templates() {
        let dn = expand_template("uid={uid},ou=p,dc=x", |a| {
            (a == "uid").then(|| "a,b ".to_owned())
        })
        .unwrap();
        assert_eq!(dn, "uid=a\\2cb\\20,ou=p,dc=x");
        assert!(expand_template("cn={cn},dc=x", |_| None).is_err());
    }
}
