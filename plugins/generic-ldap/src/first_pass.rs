//! ECMA2's ExportPasswordInFirstPass: a create's initial password travels inside the `Add`
//! as the virtual attribute `export_password`, and is written with the object in one LDAP add
//! (so there is no moment when the object exists without its password, and no second call
//! that can fail after the add succeeded).

use plugin_api::prelude::*;

use crate::conn::{LResult, LdapFailure};
use crate::password_value::password_value;
use crate::settings::{P_PASSWORD_METHOD, PasswordMethod, Settings};

/// ECMA2's name of the virtual attribute. It is never a directory attribute: it is never
/// sent under this name, never in the schema, and its value never in a message.
pub(crate) const EXPORT_PASSWORD: &str = "export_password";

pub(crate) fn is_export_password(name: &str) -> bool {
    name.eq_ignore_ascii_case(EXPORT_PASSWORD)
}

/// Whether an add can carry the password: only when SetPassword writes the password
/// attribute. Password Modify (RFC 3062) is an operation of its own on an existing entry.
pub(crate) fn supported(settings: &Settings) -> bool {
    settings.password_method == PasswordMethod::Attribute
}

/// The password attribute and its value (as SetPassword would write it) for the add of `e`,
/// when `e` carries `export_password`.
pub(crate) fn initial_password(
    settings: &Settings,
    e: &CsEntryChange,
) -> LResult<Option<(String, Vec<u8>)>> {
    let Some(change) = e.changes.iter().find(|c| is_export_password(&c.name)) else {
        return Ok(None);
    };
    if !supported(settings) {
        return Err(LdapFailure::Config(format!(
            "the entry carries an initial password ({EXPORT_PASSWORD}), which this connector \
             writes into the add only with '{P_PASSWORD_METHOD}' = Attribute; with \
             PasswordModify it does not declare ExportPasswordInFirstPass and the password is \
             set by SetPassword after the add"
        )));
    }
    let mut values = change.added_values();
    let (Some(Value::String(password)), None) = (values.next(), values.next()) else {
        return Err(LdapFailure::Rejected(format!(
            "{EXPORT_PASSWORD} must carry exactly one string value"
        )));
    };
    let value = password_value(settings, &Secret::new(password.as_str()));
    Ok(Some((settings.password_attr.clone(), value.into_bytes())))
}

/// `export_password` belongs to an `Add` only; anywhere else it is refused, never sent.
pub(crate) fn refuse_outside_add(e: &CsEntryChange) -> LResult<()> {
    if e.changes.iter().any(|c| is_export_password(&c.name)) {
        return Err(LdapFailure::Rejected(format!(
            "{EXPORT_PASSWORD} is the initial password of an Add; a {:?} changes a password \
             through SetPassword",
            e.modification
        )));
    }
    Ok(())
}
