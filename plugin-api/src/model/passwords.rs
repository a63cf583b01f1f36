//! Passwords: the secret itself, the options of `SetPassword`, and the object a call is for.

use std::fmt;

use super::entries::AnchorAttribute;

/// A secret string (password). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself. Call only where the value is really needed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// `PasswordOptions` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PasswordOptions {
    pub force_change_at_logon: bool,
    pub unlock_account: bool,
    pub validate_password: bool,
}

impl PasswordOptions {
    pub(crate) fn to_bits(self) -> u32 {
        (self.force_change_at_logon as u32)
            | ((self.unlock_account as u32) << 1)
            | ((self.validate_password as u32) << 2)
    }
    pub(crate) fn from_bits(bits: u32) -> Self {
        Self {
            force_change_at_logon: bits & 1 != 0,
            unlock_account: bits & 2 != 0,
            validate_password: bits & 4 != 0,
        }
    }
}

/// The object a password call is for (ECMA's `CSEntry`, reduced to what identifies it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordTarget {
    pub object_type: String,
    pub dn: String,
    pub anchor: Vec<AnchorAttribute>,
}
