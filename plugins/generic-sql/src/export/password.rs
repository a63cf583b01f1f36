//! Passwords: set or changed with the configured statement or procedure, with `@Password`,
//! `@OldPassword` and anchor parameters.

use plugin_api::prelude::*;

use crate::cells::Bind;
use crate::config::{P_PW_METHOD, PasswordMethod, Settings};
use crate::conn::Conn;
use crate::dialect::Dialect;
use crate::error::SqlError;
use crate::schema::Detected;
use crate::sql::translate_named;
use crate::values::to_bind;

/// Sets (or changes) a password with the configured statement or procedure.
pub async fn set_password(
    conn: &mut Conn,
    d: &Detected,
    settings: &Settings,
    target: &PasswordTarget,
    password: &str,
    old: Option<&str>,
) -> Result<(), SqlError> {
    let template = match &settings.password_method {
        // Not declared (the capabilities say no passwords): ECMA2's "not implemented".
        PasswordMethod::None => {
            return Err(SqlError::Unsupported(format!("'{P_PW_METHOD}' is None")));
        }
        PasswordMethod::Sql(q) => q.clone(),
        PasswordMethod::StoredProcedure(p) => {
            let mut args: Vec<String> =
                d.anchor_columns().map(|c| format!("@{}", c.name)).collect();
            args.push("@Password".into());
            let call = format!(
                "CALL {}({})",
                d.dialect.quote_table(d.procedure(p)),
                args.join(", ")
            );
            if d.dialect == Dialect::Odbc {
                // The ODBC call escape, translated by the driver.
                format!("{{{call}}}")
            } else {
                call
            }
        }
    };
    let (sql, names) = translate_named(d.dialect, &template);
    let mut binds = Vec::with_capacity(names.len());
    for n in &names {
        let b = match n.to_ascii_lowercase().as_str() {
            "password" => Bind::Text(password.to_owned()),
            "oldpassword" => Bind::Text(old.unwrap_or_default().to_owned()),
            _ => {
                let col = d.anchor_columns().find(|c| c.name.eq_ignore_ascii_case(n));
                let value = target
                    .anchor
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(n))
                    .map(|a| &a.value);
                match (col, value) {
                    (Some(col), Some(v)) => {
                        let attr = d.attr(&col.name).expect("anchor attribute");
                        to_bind(v, attr, col, settings)?
                    }
                    _ => {
                        return Err(SqlError::Config(format!(
                            "password statement parameter @{n} is not @Password, @OldPassword or an anchor the target carries"
                        )));
                    }
                }
            }
        };
        binds.push(b);
    }
    let written = conn.execute(&sql, &binds).await?;
    if matches!(settings.password_method, PasswordMethod::Sql(_)) && written.rows_affected == 0 {
        return Err(SqlError::Missing(format!(
            "no object with anchor {:?}",
            target
                .anchor
                .iter()
                .map(|a| a.value.as_text())
                .collect::<Vec<_>>()
        )));
    }
    Ok(())
}
