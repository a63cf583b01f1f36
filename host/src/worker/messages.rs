//! The JSON messages of the worker protocol, both directions, and their conversions to and from
//! the plugin-api model. `plugin-api/docs/worker-protocol.md` documents every field; the model
//! types that already have a JSON form (schema, entries, capabilities, ...) travel in that
//! form, and the few that have none (run requests, password calls, close reasons, log levels)
//! get one here, spelled out so a connector in another language can write it.

use std::fmt;

use plugin_api::model::{
    AnchorAttribute, CloseReason, ConfigPage, ConfigParameters, ConnectorError, ConnectorInfo,
    CsEntryChange, ErrorKind, ImportType, LogLevel, OpenExportRequest, OpenImportRequest,
    Partition, PasswordOptions, PasswordTarget, Schema, Secret,
};
use serde::{Deserialize, Serialize};

/// The protocol version this host and its `ecma-host worker` speak. Both sides must state the
/// same one in their `hello`; see the document's versioning rules for when it changes.
pub const PROTOCOL_VERSION: u32 = 1;

/// A request id: the host numbers its calls, the worker echoes the number in the answer.
pub type CallId = u64;

/// Host → worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostMessage {
    /// The first message on the pipe.
    Hello {
        protocol: u32,
        host: String,
    },
    /// Asks the running call `id` to stop (the connector sees `is_cancelled`).
    Cancel {
        id: CallId,
    },
    Capabilities {
        id: CallId,
        config: ConfigParameters,
    },
    ConfigParameters {
        id: CallId,
        config: ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    },
    ValidateConfig {
        id: CallId,
        config: ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    },
    Schema {
        id: CallId,
        config: ConfigParameters,
    },
    Partitions {
        id: CallId,
        config: ConfigParameters,
    },
    /// Creates the worker's one connector instance; the instance calls below go to it.
    CreateInstance {
        id: CallId,
        config: ConfigParameters,
    },
    TestConnection {
        id: CallId,
    },
    OpenImport {
        id: CallId,
        import_type: ImportType,
        page_size: u32,
        custom_data: String,
        partition: Option<Partition>,
        schema: Schema,
    },
    GetImportPage {
        id: CallId,
    },
    CloseImport {
        id: CallId,
        reason: WireCloseReason,
    },
    OpenExport {
        id: CallId,
        batch_size: u32,
        partition: Option<Partition>,
        schema: Schema,
    },
    PutExportEntries {
        id: CallId,
        entries: Vec<CsEntryChange>,
    },
    CloseExport {
        id: CallId,
        reason: WireCloseReason,
    },
    /// `open_export`, `put_export_entries` and `close_export` in one call, sent only to a
    /// worker that announced [`Feature::Export`]. `schema` is left out when the worker already
    /// holds this one (the last it was sent in an `export` that succeeded).
    Export {
        id: CallId,
        batch_size: u32,
        partition: Option<Partition>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<Schema>,
        entries: Vec<CsEntryChange>,
    },
    SetPassword {
        id: CallId,
        target: WirePasswordTarget,
        password: WireSecret,
        #[serde(default)]
        options: WirePasswordOptions,
    },
    ChangePassword {
        id: CallId,
        target: WirePasswordTarget,
        old_password: WireSecret,
        new_password: WireSecret,
    },
    GetFullObjects {
        id: CallId,
        requests: Vec<CsEntryChange>,
    },
}

impl HostMessage {
    /// The id of a call; `None` for `hello` and `cancel`.
    pub fn call_id(&self) -> Option<CallId> {
        use HostMessage::*;
        match self {
            Hello { .. } | Cancel { .. } => None,
            Capabilities { id, .. }
            | ConfigParameters { id, .. }
            | ValidateConfig { id, .. }
            | Schema { id, .. }
            | Partitions { id, .. }
            | CreateInstance { id, .. }
            | TestConnection { id }
            | OpenImport { id, .. }
            | GetImportPage { id }
            | CloseImport { id, .. }
            | OpenExport { id, .. }
            | PutExportEntries { id, .. }
            | CloseExport { id, .. }
            | Export { id, .. }
            | SetPassword { id, .. }
            | ChangePassword { id, .. }
            | GetFullObjects { id, .. } => Some(*id),
        }
    }

    pub fn open_import(id: CallId, r: OpenImportRequest) -> Self {
        HostMessage::OpenImport {
            id,
            import_type: r.import_type,
            page_size: r.page_size,
            custom_data: r.custom_data,
            partition: r.partition,
            schema: r.schema,
        }
    }

    pub fn open_export(id: CallId, r: OpenExportRequest) -> Self {
        HostMessage::OpenExport {
            id,
            batch_size: r.batch_size,
            partition: r.partition,
            schema: r.schema,
        }
    }
}

/// Worker → host. Page results travel as page frames (see `framing.rs`), not as JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerMessage {
    /// The answer to the host's `hello`: the worker's own protocol version whatever the host
    /// sent (so a mismatch names both), and, when it can serve, the connector it runs.
    Hello {
        protocol: u32,
        #[serde(default)]
        connector: Option<ConnectorInfo>,
        /// Why the worker cannot serve (a plugin that did not load, another version).
        #[serde(default)]
        error: Option<String>,
        /// The optional calls the worker answers besides those of its protocol version.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        features: Vec<Feature>,
    },
    /// A call succeeded; `value` is the call's result (`null` for calls that return nothing).
    Result {
        id: CallId,
        #[serde(default)]
        value: serde_json::Value,
    },
    /// A call failed.
    Error {
        id: CallId,
        kind: ErrorKind,
        message: String,
    },
    /// A log line of the connector, at any time (also while a call runs).
    Log {
        level: WireLogLevel,
        #[serde(default)]
        target: String,
        message: String,
    },
}

impl WorkerMessage {
    pub fn of_error(id: CallId, e: ConnectorError) -> Self {
        WorkerMessage::Error {
            id,
            kind: e.kind,
            message: e.message,
        }
    }
}

/// An optional part of the protocol a worker announces in its `hello`: the host uses it only
/// with workers that announced it, so workers written without it keep working. Names this
/// host does not know are read as [`Feature::Unknown`] and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// The `export` call, and keeping the last schema it carried.
    Export,
    #[serde(other)]
    Unknown,
}

/// `CloseReason` by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireCloseReason {
    Normal,
    TerminatedByUser,
    TerminatedShuttingDown,
    Unknown,
}

impl From<CloseReason> for WireCloseReason {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::Normal => Self::Normal,
            CloseReason::TerminatedByUser => Self::TerminatedByUser,
            CloseReason::TerminatedShuttingDown => Self::TerminatedShuttingDown,
            CloseReason::Unknown => Self::Unknown,
        }
    }
}

impl From<WireCloseReason> for CloseReason {
    fn from(r: WireCloseReason) -> Self {
        match r {
            WireCloseReason::Normal => Self::Normal,
            WireCloseReason::TerminatedByUser => Self::TerminatedByUser,
            WireCloseReason::TerminatedShuttingDown => Self::TerminatedShuttingDown,
            WireCloseReason::Unknown => Self::Unknown,
        }
    }
}

/// `LogLevel` by lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireLogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevel> for WireLogLevel {
    fn from(l: LogLevel) -> Self {
        match l {
            LogLevel::Error => Self::Error,
            LogLevel::Warn => Self::Warn,
            LogLevel::Info => Self::Info,
            LogLevel::Debug => Self::Debug,
            LogLevel::Trace => Self::Trace,
        }
    }
}

impl From<WireLogLevel> for LogLevel {
    fn from(l: WireLogLevel) -> Self {
        match l {
            WireLogLevel::Error => Self::Error,
            WireLogLevel::Warn => Self::Warn,
            WireLogLevel::Info => Self::Info,
            WireLogLevel::Debug => Self::Debug,
            WireLogLevel::Trace => Self::Trace,
        }
    }
}

/// `PasswordTarget`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WirePasswordTarget {
    pub object_type: String,
    #[serde(default)]
    pub dn: String,
    #[serde(default)]
    pub anchor: Vec<AnchorAttribute>,
}

impl From<PasswordTarget> for WirePasswordTarget {
    fn from(t: PasswordTarget) -> Self {
        Self {
            object_type: t.object_type,
            dn: t.dn,
            anchor: t.anchor,
        }
    }
}

impl From<WirePasswordTarget> for PasswordTarget {
    fn from(t: WirePasswordTarget) -> Self {
        Self {
            object_type: t.object_type,
            dn: t.dn,
            anchor: t.anchor,
        }
    }
}

/// `PasswordOptions` as three booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WirePasswordOptions {
    pub force_change_at_logon: bool,
    pub unlock_account: bool,
    pub validate_password: bool,
}

impl From<PasswordOptions> for WirePasswordOptions {
    fn from(o: PasswordOptions) -> Self {
        Self {
            force_change_at_logon: o.force_change_at_logon,
            unlock_account: o.unlock_account,
            validate_password: o.validate_password,
        }
    }
}

impl From<WirePasswordOptions> for PasswordOptions {
    fn from(o: WirePasswordOptions) -> Self {
        Self {
            force_change_at_logon: o.force_change_at_logon,
            unlock_account: o.unlock_account,
            validate_password: o.validate_password,
        }
    }
}

/// A password on the pipe: a JSON string, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WireSecret(String);

impl fmt::Debug for WireSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<Secret> for WireSecret {
    fn from(s: Secret) -> Self {
        Self(s.expose().to_owned())
    }
}

impl From<WireSecret> for Secret {
    fn from(s: WireSecret) -> Self {
        Secret::new(s.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_api::model::{AttributeChange, ObjectModification, Value};
    use serde_json::json;

    /// The document's examples are these messages: a change here that the document does not
    /// follow breaks connectors written from it.
    #[test]
    fn messages_have_the_documented_json_forms() {
        let hello = HostMessage::Hello {
            protocol: 1,
            host: "ecma-host 0.1.0".into(),
        };
        assert_eq!(
            serde_json::to_value(&hello).unwrap(),
            json!({"type": "hello", "protocol": 1, "host": "ecma-host 0.1.0"})
        );
        let mut config = ConfigParameters::new();
        config.set("File", "/srv/users.json");
        config.set_secret("Password", "s3cret");
        let create = HostMessage::CreateInstance { id: 2, config };
        assert_eq!(
            serde_json::to_value(&create).unwrap(),
            json!({"type": "create_instance", "id": 2, "config": {"params": {
                "File": {"name": "File", "value": "/srv/users.json", "encrypted": false},
                "Password": {"name": "Password", "value": "s3cret", "encrypted": true},
            }}})
        );
        assert!(!format!("{create:?}").contains("s3cret"));
        let put = HostMessage::PutExportEntries {
            id: 5,
            entries: vec![
                CsEntryChange::new("User", ObjectModification::Add)
                    .with_anchor("id", "42")
                    .with_change(AttributeChange::add("displayName", [Value::from("Ada")])),
            ],
        };
        let v = serde_json::to_value(&put).unwrap();
        assert_eq!(v["type"], "put_export_entries");
        assert_eq!(v["entries"][0]["modification"], "Add");
        assert_eq!(
            v["entries"][0]["anchor"][0],
            json!({"name": "id", "value": {"String": "42"}})
        );
        let export = |schema| HostMessage::Export {
            id: 6,
            batch_size: 1,
            partition: None,
            schema,
            entries: vec![
                CsEntryChange::new("User", ObjectModification::Delete).with_anchor("id", "42"),
            ],
        };
        let with = serde_json::to_value(export(Some(Schema::default()))).unwrap();
        assert_eq!(
            (
                &with["type"],
                &with["batch_size"],
                &with["partition"],
                &with["schema"]
            ),
            (
                &json!("export"),
                &json!(1),
                &json!(null),
                &json!({"types": []})
            )
        );
        assert_eq!(with["entries"][0]["modification"], "Delete");
        let without = serde_json::to_value(export(None)).unwrap();
        assert!(without.get("schema").is_none(), "{without}");
        let back: HostMessage = serde_json::from_value(without).unwrap();
        assert!(matches!(
            back,
            HostMessage::Export {
                id: 6,
                schema: None,
                ..
            }
        ));
        let pw = HostMessage::SetPassword {
            id: 9,
            target: WirePasswordTarget {
                object_type: "User".into(),
                dn: "uid=ada".into(),
                anchor: vec![],
            },
            password: Secret::new("pw").into(),
            options: WirePasswordOptions::default(),
        };
        assert!(!format!("{pw:?}").contains("\"pw\""));
        let back: HostMessage = serde_json::from_value(json!({
            "type": "close_import", "id": 4, "reason": "TerminatedByUser"
        }))
        .unwrap();
        assert!(matches!(
            back,
            HostMessage::CloseImport {
                id: 4,
                reason: WireCloseReason::TerminatedByUser
            }
        ));
        let log: WorkerMessage = serde_json::from_value(
            json!({"type": "log", "level": "warn", "message": "clear-text bind"}),
        )
        .unwrap();
        assert!(matches!(
            log,
            WorkerMessage::Log {
                level: WireLogLevel::Warn,
                ..
            }
        ));
        let err: WorkerMessage = serde_json::from_value(
            json!({"type": "error", "id": 3, "kind": "Connection", "message": "refused"}),
        )
        .unwrap();
        assert!(matches!(
            err,
            WorkerMessage::Error {
                id: 3,
                kind: ErrorKind::Connection,
                ..
            }
        ));
        let hello: WorkerMessage = serde_json::from_value(json!({"type": "hello", "protocol": 1,
            "connector": {"name": "x", "version": "1", "vendor": "", "description": "", "api_version": ""},
            "features": ["export", "from_the_future"]}))
        .unwrap();
        assert!(matches!(
            hello,
            WorkerMessage::Hello { ref features, .. } if features == &[Feature::Export, Feature::Unknown]
        ));
        let old: WorkerMessage = serde_json::from_value(json!({"type": "hello", "protocol": 1,
            "connector": {"name": "x", "version": "1", "vendor": "", "description": "", "api_version": ""}}))
        .unwrap();
        assert!(matches!(old, WorkerMessage::Hello { ref features, .. } if features.is_empty()));
        let ok: WorkerMessage = serde_json::from_value(json!({"type": "result", "id": 3})).unwrap();
        assert!(matches!(
            ok,
            WorkerMessage::Result {
                id: 3,
                value: serde_json::Value::Null
            }
        ));
    }
}
