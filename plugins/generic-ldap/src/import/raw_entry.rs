//! Search result entries as the full import reads them: straight from the BER tree.

use ldap3::SearchEntry;

use crate::conn::{LResult, LdapFailure};

/// A search result entry as the server sent it: the DN and each attribute's raw values, in
/// order. Built straight from the BER tree, so values are moved, never copied (ldap3's
/// `SearchEntry` copies every value into a new `String` and builds a hash map that an import
/// only iterates: together a fifth of a full import's time).
#[derive(Debug, Default)]
pub(crate) struct RawEntry {
    pub dn: String,
    pub attrs: Vec<(String, Vec<Vec<u8>>)>,
}

impl RawEntry {
    /// From a search result entry message; a protocol error for a malformed one.
    pub fn from_message(re: ldap3::ResultEntry) -> LResult<Self> {
        Self::from_result(re).ok_or_else(|| {
            LdapFailure::Protocol("the server sent a malformed search result entry".into())
        })
    }

    /// From a search result entry message; None for anything else or a malformed one.
    fn from_result(re: ldap3::ResultEntry) -> Option<Self> {
        let mut tags = re.0.match_id(4)?.expect_constructed()?.into_iter();
        let dn = String::from_utf8(tags.next()?.expect_primitive()?).ok()?;
        let mut attrs = Vec::new();
        for a in tags.next()?.expect_constructed()? {
            let mut parts = a.expect_constructed()?.into_iter();
            let name = String::from_utf8(parts.next()?.expect_primitive()?).ok()?;
            let values = parts
                .next()?
                .expect_constructed()?
                .into_iter()
                .map(|v| v.expect_primitive())
                .collect::<Option<Vec<Vec<u8>>>>()?;
            attrs.push((name, values));
        }
        Some(Self { dn, attrs })
    }

    pub fn values(&self, name: &str) -> &[Vec<u8>] {
        self.attrs
            .iter()
            .find(|(k, _)| base_name(k).is_some_and(|b| b.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }

    pub fn first_text(&self, name: &str) -> Option<&str> {
        self.values(name)
            .first()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Raises `newest` to this entry's `modifyTimestamp` when that is later: the
    /// modifyTimestamp delta continues from the newest one a full import saw.
    pub fn raise_newest_timestamp(&self, newest: &mut Option<String>) {
        if let Some(ts) = self.first_text("modifyTimestamp")
            && newest.as_deref().is_none_or(|m| ts > m)
        {
            *newest = Some(ts.to_owned());
        }
    }
}

/// The attribute an attribute description stands for: the name itself, or without the
/// transfer option (`userCertificate;binary` → `userCertificate`). None for descriptions with
/// other options (`cn;lang-de`, AD's `member;range=0-1499`): those values are not the
/// attribute's values, and taking them would replace the real ones. A byte scan: names are
/// short, and this runs for every attribute of every entry.
pub(super) fn base_name(description: &str) -> Option<&str> {
    match description.bytes().position(|b| b == b';') {
        None => Some(description),
        Some(i) if description[i + 1..].eq_ignore_ascii_case("binary") => Some(&description[..i]),
        Some(_) => None,
    }
}

impl From<SearchEntry> for RawEntry {
    fn from(e: SearchEntry) -> Self {
        let mut attrs: Vec<(String, Vec<Vec<u8>>)> = e
            .attrs
            .into_iter()
            .map(|(k, vs)| (k, vs.into_iter().map(String::into_bytes).collect()))
            .collect();
        attrs.extend(e.bin_attrs);
        Self { dn: e.dn, attrs }
    }
}
