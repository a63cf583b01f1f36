//! Anchors as SCIM ids: a stable, reversible text form for every anchor type, so that an id
//! Entra stores turns back into exactly the value the target holds.
//!
//! Text, numbers and booleans are their text. Binary anchors cannot pass through text as
//! they are (lossy UTF-8 would merge distinct values): a 16-byte `objectGUID` takes the GUID
//! string form Microsoft's tools show (the first three groups little-endian, as .NET's
//! `Guid(byte[])` reads them), any other binary anchor unpadded base64url.

use base64::Engine as _;
use plugin_api::model::{DataType, Value};

/// How one type's anchor values are written as SCIM ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorForm {
    /// The value's text (string, integer, boolean, reference anchors).
    Text,
    /// Active Directory's `objectGUID`: 16 bytes shown as a GUID string.
    Guid,
    /// Any other binary anchor: unpadded base64url.
    Base64Url,
}

impl AnchorForm {
    /// The form for an anchor attribute of this name and type.
    pub fn of(attribute: &str, data_type: DataType) -> Self {
        match data_type {
            DataType::Binary if attribute.eq_ignore_ascii_case("objectGUID") => AnchorForm::Guid,
            DataType::Binary => AnchorForm::Base64Url,
            _ => AnchorForm::Text,
        }
    }

    /// The SCIM id of an anchor value.
    pub fn id_of(self, value: &Value) -> String {
        match (self, value) {
            (AnchorForm::Guid, Value::Binary(b)) => match <[u8; 16]>::try_from(b.as_slice()) {
                Ok(bytes) => uuid::Uuid::from_bytes_le(bytes).to_string(),
                // Not a GUID after all: still a reversible form.
                Err(_) => base64url(b),
            },
            (AnchorForm::Base64Url, Value::Binary(b)) => base64url(b),
            (_, v) => v.as_text(),
        }
    }

    /// The anchor value an id names, as the target stores it; `None` for an id that no value
    /// of this form can produce (it then names no object).
    pub fn value_of(self, id: &str) -> Option<Value> {
        match self {
            AnchorForm::Text => Some(Value::String(id.to_owned())),
            AnchorForm::Guid => match uuid::Uuid::parse_str(id) {
                Ok(u) => Some(Value::Binary(u.to_bytes_le().to_vec())),
                Err(_) => from_base64url(id),
            },
            AnchorForm::Base64Url => from_base64url(id),
        }
    }

    /// Whether values of this form are bytes (the id is an encoding, not the value).
    pub fn is_binary(self) -> bool {
        self != AnchorForm::Text
    }
}

fn base64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn from_base64url(id: &str) -> Option<Value> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()
        .map(Value::Binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_guid_reads_as_microsoft_shows_it_and_back() {
        // The bytes of {6f9619ff-8b86-d011-b42d-00c04fc964ff} as AD stores them.
        let bytes = vec![
            0xff, 0x19, 0x96, 0x6f, 0x86, 0x8b, 0x11, 0xd0, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9,
            0x64, 0xff,
        ];
        let form = AnchorForm::of("objectGUID", DataType::Binary);
        let id = form.id_of(&Value::Binary(bytes.clone()));
        assert_eq!(id, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        assert_eq!(form.value_of(&id), Some(Value::Binary(bytes)));
    }

    #[test]
    fn binary_anchors_that_differ_only_in_invalid_utf8_keep_distinct_ids() {
        let form = AnchorForm::of("entryBlob", DataType::Binary);
        let (a, b) = (vec![0xff, 0x00, 0xfe], vec![0xfe, 0x00, 0xff]);
        let (ia, ib) = (
            form.id_of(&Value::Binary(a.clone())),
            form.id_of(&Value::Binary(b.clone())),
        );
        assert_ne!(ia, ib);
        assert!(
            ia.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(form.value_of(&ia), Some(Value::Binary(a)));
        assert_eq!(form.value_of(&ib), Some(Value::Binary(b)));
        assert_eq!(form.value_of("not base64!"), None);
    }

    #[test]
    fn text_anchors_are_their_text() {
        let form = AnchorForm::of("login", DataType::String);
        assert_eq!(form.id_of(&Value::String("ada".into())), "ada");
        assert_eq!(form.value_of("ada"), Some(Value::String("ada".into())));
        assert_eq!(
            AnchorForm::of("id", DataType::Integer).id_of(&Value::Integer(7)),
            "7"
        );
    }
}
