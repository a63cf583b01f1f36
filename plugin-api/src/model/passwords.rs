//! Passwords: the secret itself, the options of `SetPassword`, and the object a call is for.

use std::fmt;

use super::entries::AnchorAttribute;
use super::wire::Wire;

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

/// `***`: a secret formatted into a message by mistake still does not leak.
impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `PasswordOptions` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PasswordOptions {
    pub force_change_at_logon: bool,
    pub unlock_account: bool,
    pub validate_password: bool,
}

impl Wire for PasswordOptions {
    type Repr = u32;
    #[inline]
    fn to_wire(self) -> u32 {
        (self.force_change_at_logon as u32)
            | ((self.unlock_account as u32) << 1)
            | ((self.validate_password as u32) << 2)
    }
    /// Bits this side does not know are ignored.
    #[inline]
    fn from_wire(bits: u32) -> Self {
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

/// The attribute of an `Add` that carries the new object's password (ECMA2's name), for
/// connectors that declare `export_password_in_first_pass`: the host then sends no
/// `set_password` after the Add. Its value is a secret: never log it, never store it as an
/// ordinary attribute.
pub const EXPORT_PASSWORD_ATTRIBUTE: &str = "export_password";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_options_cross_the_boundary_as_bits() {
        for bits in 0..8u32 {
            let options = PasswordOptions::from_wire(bits);
            assert_eq!(options.to_wire(), bits);
        }
        let all = PasswordOptions {
            force_change_at_logon: true,
            unlock_account: true,
            validate_password: true,
        };
        assert_eq!(all.to_wire(), 0b111);
        assert_eq!(PasswordOptions::default().to_wire(), 0);
        assert_eq!(
            PasswordOptions::from_wire(2),
            PasswordOptions {
                unlock_account: true,
                ..PasswordOptions::default()
            }
        );
        // Bits of a newer side are ignored.
        assert_eq!(
            PasswordOptions::from_wire(!0b111),
            PasswordOptions::default()
        );
    }
}
