//! The content sync watermark: one sync cookie per searched container.

use crate::dn;

/// Sync cookies per searched container, in the watermark as `hex(base)=hex(cookie)` joined by
/// `;` (cookies are opaque octet strings).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct SyncCookies(pub Vec<(String, Vec<u8>)>);

impl SyncCookies {
    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(b, c)| format!("{}={}", hex(b.as_bytes()), hex(c)))
            .collect::<Vec<_>>()
            .join(";")
    }

    pub fn decode(s: &str) -> Option<Self> {
        let mut out = Vec::new();
        for part in s.split(';').filter(|p| !p.is_empty()) {
            let (b, c) = part.split_once('=')?;
            out.push((String::from_utf8(unhex(b)?).ok()?, unhex(c)?));
        }
        Some(Self(out))
    }

    /// The cookie of container `base` (DNs compared normalised).
    pub fn get(&self, base: &str) -> Option<&[u8]> {
        let key = dn::normalize(base);
        self.0
            .iter()
            .find(|(b, _)| dn::normalize(b) == key)
            .map(|(_, c)| c.as_slice())
    }
}

/// Lower-case hex digits of `b`.
pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_round_trip() {
        let c = SyncCookies(vec![
            ("ou=People,dc=x".into(), b"rid=000,csn=1;2".to_vec()),
            ("dc=y".into(), vec![0, 255]),
        ]);
        let decoded = SyncCookies::decode(&c.encode()).unwrap();
        assert_eq!(decoded, c);
        assert_eq!(
            decoded.get("OU=people, DC=x"),
            Some(&b"rid=000,csn=1;2"[..])
        );
        assert_eq!(SyncCookies::decode("zz=00"), None);
    }
}
