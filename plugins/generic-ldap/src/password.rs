//! Passwords: SetPassword (Password Modify or the password attribute, optionally
//! `{SSHA}`-hashed) and ChangePassword (bound as the user).

use std::collections::HashSet;

use ldap3::Mod;
use ldap3::exop::PasswordModify;
use plugin_api::prelude::*;

use crate::conn::{LResult, LdapFailure, OID_PASSWORD_MODIFY, Session, check_result, connect};
use crate::export::{ExportContext, current_dn, op_err};
use crate::settings::{BindMethod, PasswordMethod, Settings};

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
fn password_value(settings: &Settings, password: &Secret) -> String {
    if settings.hash_password {
        ssha(password.expose())
    } else {
        password.expose().to_owned()
    }
}

pub fn target_dn(
    session: &mut Session,
    ctx: &ExportContext,
    t: &PasswordTarget,
) -> LResult<String> {
    let e = CsEntryChange {
        identifier: String::new(),
        object_type: t.object_type.clone(),
        modification: ObjectModification::Update,
        dn: t.dn.clone(),
        anchor: t.anchor.clone(),
        changes: Vec::new(),
        error: None,
    };
    current_dn(session, ctx, &e)
}

pub fn set_password(
    session: &mut Session,
    ctx: &ExportContext,
    t: &PasswordTarget,
    password: &Secret,
) -> LResult<()> {
    let settings = session.settings.clone();
    let dn_ = target_dn(session, ctx, t)?;
    match settings.password_method {
        PasswordMethod::PasswordModify => {
            let r = session
                .conn()?
                .with_timeout(settings.op_timeout)
                .extended(PasswordModify {
                    user_id: Some(&dn_),
                    old_pass: None,
                    new_pass: Some(password.expose()),
                })
                .map_err(|x| op_err(session, "password modify", x))?;
            check_result(&format!("password modify {dn_}"), &r.1)
        }
        PasswordMethod::Attribute => {
            let value = password_value(&settings, password);
            let r = session
                .conn()?
                .with_timeout(settings.op_timeout)
                .modify(
                    &dn_,
                    vec![Mod::Replace(
                        settings.password_attr.clone().into_bytes(),
                        HashSet::from([value.into_bytes()]),
                    )],
                )
                .map_err(|x| op_err(session, "set password", x))?;
            check_result(&format!("set password of {dn_}"), &r)
        }
    }
}

/// Change = the user proves the old password: bind as the user on a separate connection,
/// then change it with that identity (Password Modify with the old password when the server
/// offers it, else a delete-old/add-new modify of the password attribute).
pub fn change_password(
    session: &mut Session,
    ctx: &ExportContext,
    t: &PasswordTarget,
    old: &Secret,
    new: &Secret,
) -> LResult<()> {
    let settings = session.settings.clone();
    let dn_ = target_dn(session, ctx, t)?;
    let exop = session.root()?.supports_extension(OID_PASSWORD_MODIFY);
    let mut user_settings = (*settings).clone();
    user_settings.binding = BindMethod::Simple;
    user_settings.user = dn_.clone();
    user_settings.password = old.clone();
    let mut conn = connect(&user_settings, &session.host)?;
    let url = settings.url();
    let r = if exop {
        conn.with_timeout(settings.op_timeout)
            .extended(PasswordModify {
                user_id: None,
                old_pass: Some(old.expose()),
                new_pass: Some(new.expose()),
            })
            .map(|r| r.1)
    } else {
        let newv = password_value(&settings, new);
        conn.with_timeout(settings.op_timeout).modify(
            &dn_,
            vec![
                Mod::Delete(
                    settings.password_attr.clone().into_bytes(),
                    HashSet::from([old.expose().as_bytes().to_vec()]),
                ),
                Mod::Add(
                    settings.password_attr.clone().into_bytes(),
                    HashSet::from([newv.into_bytes()]),
                ),
            ],
        )
    }
    .map_err(|x| LdapFailure::from_ldap("change password", &url, x))?;
    let _ = conn.unbind();
    check_result(&format!("change password of {dn_}"), &r)
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
