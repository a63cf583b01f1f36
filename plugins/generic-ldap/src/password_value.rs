//! The value the password attribute is written with: clear text, or an `{SSHA}` hash.

use plugin_api::prelude::*;

use crate::settings::Settings;

/// `{SSHA}` hash: base64(SHA-1(password ‖ salt) ‖ salt) with an 8-byte random salt, the
/// scheme every LDAP server understands.
pub fn ssha(password: &str) -> String {
    use ring::rand::SecureRandom;
    let mut salt = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .expect("system random");
    ssha_with_salt(password, &salt)
}

pub fn ssha_with_salt(password: &str, salt: &[u8]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(password.as_bytes());
    ctx.update(salt);
    let mut raw = ctx.finish().as_ref().to_vec();
    raw.extend_from_slice(salt);
    format!("{{SSHA}}{}", base64(&raw))
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// The password attribute's new value: `password`, or its `{SSHA}` hash when configured.
/// SetPassword and a first-pass Add both write this, so the two store the same form.
pub(crate) fn password_value(settings: &Settings, password: &Secret) -> String {
    if settings.hash_password {
        ssha(password.expose())
    } else {
        password.expose().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssha_known_answer() {
        // SHA-1("secret" ‖ "salt1234") computed independently (python hashlib).
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(
            ssha_with_salt("secret", b"salt1234"),
            "{SSHA}Wcm1xEisNjqp921ALcHfuQ7avFdzYWx0MTIzNA=="
        );
    }
}
