//! The delta strategies and the watermark a delta import continues from.

/// The delta strategy actually used, encoded in the watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeltaStrategy {
    /// OpenLDAP slapo-accesslog, watermark `reqStart`.
    Accesslog,
    /// RFC 4533 content synchronisation (OpenLDAP syncprov, 389 DS content sync plugin) in
    /// refreshOnly mode, watermark the sync cookie per searched container. Deletes come from
    /// the provider's session log; a provider that can only answer with a present phase
    /// makes the delta ask for a full import.
    ContentSync,
    /// `cn=changelog` (389 DS retro changelog, OpenDJ), watermark `changeNumber`.
    Changelog,
    /// `modifyTimestamp >= watermark`: sees adds and modifies, never deletes.
    ModifyTimestamp,
}

impl DeltaStrategy {
    const ALL: [DeltaStrategy; 4] = [
        DeltaStrategy::Accesslog,
        DeltaStrategy::ContentSync,
        DeltaStrategy::Changelog,
        DeltaStrategy::ModifyTimestamp,
    ];

    /// The strategy's name in the watermark.
    fn tag(self) -> &'static str {
        match self {
            DeltaStrategy::Accesslog => "accesslog",
            DeltaStrategy::ContentSync => "contentsync",
            DeltaStrategy::Changelog => "changelog",
            DeltaStrategy::ModifyTimestamp => "modifyTimestamp",
        }
    }

    /// Whether this strategy's deltas report deleted objects (the host's
    /// `Capabilities::delta_sees_deletes`). Change logs record deletes; content sync reports
    /// them from the provider's session log, or asks for a full import when it cannot;
    /// `modifyTimestamp` only finds entries that still exist.
    pub(crate) fn sees_deletes(self) -> bool {
        match self {
            DeltaStrategy::Accesslog | DeltaStrategy::ContentSync | DeltaStrategy::Changelog => {
                true
            }
            DeltaStrategy::ModifyTimestamp => false,
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.tag() == tag)
    }
}

/// `CustomData`: `generic-ldap:v1:<strategy>:<value>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Watermark {
    pub strategy: DeltaStrategy,
    pub value: String,
}

const WM_PREFIX: &str = "generic-ldap:v1:";
/// Earlier than any generalized time a server writes.
pub(super) const TIME_ZERO: &str = "19700101000000Z";

impl Watermark {
    pub fn encode(&self) -> String {
        format!("{WM_PREFIX}{}:{}", self.strategy.tag(), self.value)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let rest = s.strip_prefix(WM_PREFIX)?;
        let (tag, value) = rest.split_once(':')?;
        Some(Self {
            strategy: DeltaStrategy::from_tag(tag)?,
            value: value.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_round_trip() {
        let w = Watermark {
            strategy: DeltaStrategy::Accesslog,
            value: "20250101120000.000001Z".into(),
        };
        assert_eq!(Watermark::decode(&w.encode()), Some(w));
        assert_eq!(Watermark::decode("garbage"), None);
        for s in DeltaStrategy::ALL {
            assert_eq!(DeltaStrategy::from_tag(s.tag()), Some(s));
        }
    }

    #[test]
    fn only_modify_timestamp_misses_deletes() {
        let blind: Vec<_> = DeltaStrategy::ALL
            .into_iter()
            .filter(|s| !s.sees_deletes())
            .collect();
        assert_eq!(blind, [DeltaStrategy::ModifyTimestamp]);
    }
}
