//! Passwords: SetPassword (Password Modify or the password attribute, optionally
//! `{SSHA}`-hashed, see `password_value`) and ChangePassword (bound as the user).

use std::collections::HashSet;

use ldap3::Mod;
use ldap3::exop::PasswordModify;
use plugin_api::prelude::*;

use crate::conn::{LResult, LdapFailure, OID_PASSWORD_MODIFY, Session, check_result, connect};
use crate::export::{ExportContext, current_dn, op_err};
use crate::password_value::password_value;
use crate::settings::{BindMethod, PasswordMethod};

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
