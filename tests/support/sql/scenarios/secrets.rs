//! Columns that look like secrets: left out of the schema and the import unless the
//! configuration names them, and named in the warning the connector sends the host's log.

use std::sync::{Arc, Mutex};

use plugin_api::host::ConnectorPlugin;
use plugin_api::model::*;
use plugin_api::sdk::{HostCallbacks, HostServices};

use crate::sql::connector::{import_all, load, value_of};
use crate::sql::target::Target;

/// The connector's log lines.
#[derive(Default)]
struct Captured(Mutex<Vec<(LogLevel, String)>>);

impl HostCallbacks for Captured {
    fn log(&self, level: LogLevel, _target: &str, message: &str) {
        self.0.lock().unwrap().push((level, message.to_owned()));
    }
    fn is_cancelled(&self) -> bool {
        false
    }
}

pub fn secret_columns_hidden(t: &Target) {
    let table = "hd_accounts";
    t.exec(&[
        &format!(
            "CREATE TABLE {table} (id INTEGER PRIMARY KEY, login VARCHAR(100) NOT NULL, \
             password_hash VARCHAR(200), pw_salt VARCHAR(50), apiToken VARCHAR(100), \
             display_name VARCHAR(100))"
        ),
        &format!(
            "INSERT INTO {table} VALUES (1, 'ann', '$argon2id$v=19$secret-hash', 'salt-1', 'tok-1', 'Ann')"
        ),
    ]);
    let plugin = load();
    let names = |config: &ConfigParameters| -> Vec<String> {
        let schema = plugin.schema(config).unwrap();
        let mut n: Vec<String> = schema.types[0]
            .attributes
            .iter()
            .map(|a| a.name.to_lowercase())
            .collect();
        n.sort();
        n
    };

    // Nothing listed: the three secret-looking columns are not in the schema...
    let config = t.config(&[("Table", table), ("Anchor columns", "id")]);
    assert_eq!(names(&config), ["display_name", "id", "login"]);
    // ...nor in what an import reads, and the instance tells the host which it hid.
    let log = Arc::new(Captured::default());
    let mut inst = plugin
        .create_instance(&config, HostServices::new(log.clone()))
        .unwrap();
    let (entries, _, _) =
        import_all(&plugin, inst.as_mut(), &config, ImportType::Full, "", 10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(value_of(&entries[0], "login").as_deref(), Some("ann"));
    for hidden in ["password_hash", "pw_salt", "apiToken"] {
        assert!(entries[0].change(hidden).is_none(), "{hidden} imported");
    }
    let warnings: Vec<String> = log
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(level, _)| *level == LogLevel::Warn)
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let lower = warnings[0].to_lowercase();
    assert!(
        ["password_hash", "pw_salt", "apitoken", "expose columns"]
            .iter()
            .all(|w| lower.contains(w))
            && !warnings[0].contains("secret-hash"),
        "{warnings:?}"
    );

    // Listed in 'Expose columns' (any case): served and imported; the others stay hidden.
    let exposed = t.config(&[
        ("Table", table),
        ("Anchor columns", "id"),
        ("Expose columns", "PW_SALT"),
    ]);
    assert_eq!(names(&exposed), ["display_name", "id", "login", "pw_salt"]);
    let mut inst = plugin
        .create_instance(&exposed, HostServices::detached())
        .unwrap();
    let (entries, _, _) =
        import_all(&plugin, inst.as_mut(), &exposed, ImportType::Full, "", 10).unwrap();
    assert_eq!(value_of(&entries[0], "pw_salt").as_deref(), Some("salt-1"));
    assert!(entries[0].change("password_hash").is_none());

    // A column given a direction is named too: served.
    let directed = t.config(&[
        ("Table", table),
        ("Anchor columns", "id"),
        ("Attribute directions", "apiToken:Export"),
    ]);
    assert!(names(&directed).contains(&"apitoken".to_owned()));

    // A listed column that does not exist is the parameter's error.
    let typo = t.config(&[
        ("Table", table),
        ("Anchor columns", "id"),
        ("Expose columns", "pw_sault"),
    ]);
    match plugin
        .validate_config(&typo, ConfigPage::Schema, 4)
        .unwrap()
    {
        ParameterValidation::Failure { parameter, message } => {
            assert_eq!(parameter, "Expose columns");
            assert!(message.contains("pw_sault"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
