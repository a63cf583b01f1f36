//! The configuration file (TOML), environment overrides, and secrets.
//!
//! Layering: defaults → the TOML file → `ECMA_HOST_`-prefixed environment variables (`__`
//! separates nesting levels, e.g. `ECMA_HOST_HOST__PORT=9443`; applications are addressed by
//! name: `ECMA_HOST_APP__HR__AUTOSYNC_MINUTES=5`). Unknown keys are errors that name the key.
//! Secrets are [`SecretSource`]s: an environment variable, a file, or (discouraged) a literal;
//! their values never appear in `Debug` output, logs, or a syntax error's quoted line.
//!
//! Over 800 lines: the file's types, their parsing and the checks on them stay together so a
//! new key is added in one place; the tests are a third of it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use plugin_api::model::Capabilities;
use serde::Deserialize;

use crate::plugins::{CallLimits, ConnectorLaunch, Isolation};

/// Errors reading or checking the configuration. Messages say what and where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("secret {what}: {message}")]
    Secret { what: String, message: String },
}

/// Where a secret comes from. In TOML: `token = { env = "HR_TOKEN" }`,
/// `token = { file = "/etc/ecma-host/hr.token" }`, or a plain string (discouraged).
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum SecretSource {
    Env { env: String },
    File { file: PathBuf },
    Literal(String),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env { env } => write!(f, "env:{env}"),
            SecretSource::File { file } => write!(f, "file:{}", file.display()),
            SecretSource::Literal(_) => f.write_str("literal:***"),
        }
    }
}

impl SecretSource {
    /// Reads the secret. A file's trailing newline is not part of the secret.
    pub fn resolve(&self, what: &str) -> Result<Secret, ConfigError> {
        let err = |message: String| ConfigError::Secret {
            what: what.to_owned(),
            message,
        };
        match self {
            SecretSource::Env { env } => std::env::var(env)
                .map(Secret::new)
                .map_err(|_| err(format!("environment variable {env} is not set"))),
            SecretSource::File { file } => {
                if let Some(warning) = readable_by_others(file, what) {
                    warn_once(file, &warning);
                }
                std::fs::read_to_string(file)
                    .map(|s| Secret::new(s.trim_end_matches(['\r', '\n'])))
                    .map_err(|e| err(format!("cannot read {}: {e}", file.display())))
            }
            SecretSource::Literal(s) => Ok(Secret::new(s.clone())),
        }
    }
}

/// A resolved secret: the one secret type of the workspace (`Debug` never shows it).
pub use plugin_api::model::Secret;

/// The warning for a secret or key file that users other than its owner may read (`what`
/// says which secret), None when only the owner can. Group-readable files are named too: a
/// group shared with other services (say `ssl-cert`) hands the secret to all of them. The one
/// exception is how the Debian package lays secrets out: 0640, owned by root, in the group of
/// the (non-root) user the host runs as, so that only the service reads it.
#[cfg(unix)]
pub fn readable_by_others(path: &Path, what: &str) -> Option<String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(path).ok()?;
    let mode = meta.permissions().mode();
    let service_group_only = mode & 0o077 == 0o040
        && meta.uid() == 0
        && std::fs::metadata("/proc/self").is_ok_and(|me| me.uid() != 0 && me.gid() == meta.gid());
    (mode & 0o077 != 0 && !service_group_only).then(|| {
        format!(
            "{what}: {} is readable by users other than its owner (mode {:o}); run `chmod 600 {}` (or 640 with a group only the host's user is in)",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}

#[cfg(not(unix))]
pub fn readable_by_others(_path: &Path, _what: &str) -> Option<String> {
    None
}

/// Logs `warning` once per file for the life of the process: secrets are resolved again on
/// every set-up attempt, and one line per file is enough.
fn warn_once(file: &Path, warning: &str) {
    if first_warning(file) {
        tracing::warn!("{warning}");
    }
}

/// Whether `file` has not been warned about yet (and is from now on).
fn first_warning(file: &Path) -> bool {
    use std::sync::{Mutex, OnceLock};
    static WARNED: OnceLock<Mutex<std::collections::BTreeSet<PathBuf>>> = OnceLock::new();
    WARNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(file.to_owned())
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub host: HostConfig,
    /// `[admin]`: the status page's address (the admin socket needs no setting).
    #[serde(default)]
    pub admin: crate::admin::AdminConfig,
    #[serde(default, rename = "app")]
    pub apps: Vec<AppConfig>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[host]`: listener, TLS, state, plugins, logging, limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    pub listen: String,
    pub port: u16,
    /// PEM certificate chain and key. Both absent: a self-signed certificate is generated
    /// in the state directory.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub state_dir: PathBuf,
    pub plugins_dirs: Vec<PathBuf>,
    pub plugin_files: Vec<PathBuf>,
    pub log_level: String,
    pub log_format: LogFormat,
    /// Maximum request body, bytes.
    pub max_body_bytes: usize,
    /// Per-request time limit, seconds (Entra gives up after 60 s).
    pub request_timeout_secs: u64,
    /// Serve `GET /ecma2host_{name}/scim/cache` (still authenticated), like Microsoft's host
    /// in debug mode.
    pub cache_dump: bool,
    /// Host name put in the generated certificate (default: this machine's name).
    pub hostname: Option<String>,
    /// Load plugins from paths other users could change (a group-writable folder above
    /// them, say): each is loaded with a warning instead of refused. For development
    /// machines only.
    pub allow_insecure_plugin_paths: bool,
    /// A bearer token `/metrics` asks for; absent, `/metrics` is open like `/healthz`.
    pub metrics_token: Option<SecretSource>,
    /// Failed authentications (401) from one address within a minute before the address is
    /// answered 429 for a minute; 0 turns throttling off.
    pub auth_failures_per_minute: u32,
    /// The `ecma-host` binary that runs plugin libraries as workers for applications with
    /// `isolation = "process"` (absolute). Absent: this executable, which is what an
    /// installed host wants; set it where the host is embedded in another program (tests).
    pub worker_executable: Option<PathBuf>,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0".into(),
            port: 8585,
            tls_cert: None,
            tls_key: None,
            state_dir: PathBuf::from("state"),
            // Absolute: a relative default would load whatever `plugins` folder the current
            // directory happens to hold.
            plugins_dirs: vec![PathBuf::from(DEFAULT_PLUGINS_DIR)],
            plugin_files: Vec::new(),
            log_level: "info".into(),
            log_format: LogFormat::Text,
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 50,
            cache_dump: false,
            hostname: None,
            allow_insecure_plugin_paths: false,
            metrics_token: None,
            auth_failures_per_minute: DEFAULT_AUTH_FAILURES_PER_MINUTE,
            worker_executable: None,
        }
    }
}

/// Where packaged connectors are installed.
pub const DEFAULT_PLUGINS_DIR: &str = "/usr/lib/ecma-host/plugins";

/// Failed authentications per minute from one address before it is throttled: more than a
/// misconfigured client retries, far fewer than guessing needs.
pub const DEFAULT_AUTH_FAILURES_PER_MINUTE: u32 = 10;

impl HostConfig {
    /// How plugin paths are checked.
    pub fn plugin_path_policy(&self) -> crate::plugins::PathPolicy {
        crate::plugins::PathPolicy::from_allow_insecure(self.allow_insecure_plugin_paths)
    }

    /// The plugins this configuration names, loaded under its path policy.
    pub fn plugin_registry(&self) -> crate::plugins::PluginRegistry {
        crate::plugins::PluginRegistry::discover_with(
            &self.plugins_dirs,
            &self.plugin_files,
            self.plugin_path_policy(),
        )
    }
}

/// `[[app]]`: one Entra application: one connector instance with its own endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// URL segment: `https://HOST:PORT/ecma2host_{name}/scim`. Case-sensitive.
    pub name: String,
    /// The connector's name (as listed by `ecma-host plugins`).
    pub connector: String,
    /// The bearer token Entra sends (at least 12 characters).
    pub token: SecretSource,
    /// Minutes between automatic imports (fractions allowed); 0 turns autosync off.
    #[serde(default = "default_autosync")]
    pub autosync_minutes: f64,
    /// Hours between reconciling full imports (fractions allowed); the autosync cycle that
    /// falls due after this long since the last full import is a full import. 0: never.
    #[serde(default = "default_full_import_every_hours")]
    pub full_import_every_hours: f64,
    /// Whether deletes a connector's deltas cannot see are reconciled on every cycle.
    #[serde(default)]
    pub reconcile_deletes: ReconcileDeletes,
    #[serde(default)]
    pub run_profiles: RunProfiles,
    /// Page size for imports (0: the connector's default).
    #[serde(default)]
    pub import_page_size: u32,
    /// Connector parameters per ECMA page.
    #[serde(default)]
    pub parameters: Parameters,
    #[serde(rename = "object_type")]
    pub object_types: Vec<ObjectTypeConfig>,
    /// The longest wait between two attempts to set the application up while its target
    /// cannot be reached (the wait starts at 1 s and doubles).
    #[serde(default = "default_setup_retry_max")]
    pub setup_retry_max_secs: u64,
    /// Time limits of connector calls: a call that outlives its limit is abandoned and its
    /// instance replaced (see `plugins/instance.rs`).
    #[serde(default)]
    pub timeouts: Timeouts,
    /// What a write does with a SCIM attribute this application does not map.
    #[serde(default)]
    pub unknown_attributes: UnknownAttributePolicy,
    /// What a successful PATCH of a group answers.
    #[serde(default)]
    pub group_patch_answer: GroupPatchAnswer,
    /// Whether each cache snapshot is kept in the state directory, so that a restart loads
    /// it and catches up with a delta instead of reading the whole target again.
    #[serde(default)]
    pub persist_cache: bool,
    /// How the connector runs: `"in_process"` (the default; a crash in the connector ends the
    /// host) or `"process"` (each connector instance in its own worker process, restarted
    /// when it dies). Absent: in process, or in a worker when `connector_command` is set.
    #[serde(default)]
    pub isolation: Option<Isolation>,
    /// An executable that speaks the worker protocol (`plugin-api/docs/worker-protocol.md`)
    /// and its arguments, run instead of a plugin library: `["/usr/lib/ecma-host/connectors/
    /// hr-api", "--flag"]`. `connector` must then be the name it reports in its handshake.
    #[serde(default)]
    pub connector_command: Option<Vec<String>>,
}

/// `reconcile_deletes`: how objects deleted in the target leave the cache when the connector's
/// delta imports cannot see deletes (`Capabilities::delta_sees_deletes` false, e.g. a SQL
/// watermark or LDAP `modifyTimestamp`).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileDeletes {
    /// By the `full_import_every_hours` schedule only (the default): a deleted object is
    /// served until the next scheduled full import.
    #[default]
    Scheduled,
    /// Every autosync cycle is a full import (what Microsoft's host does for such
    /// connectors): deletes leave the cache within one cycle, at the cost of reading the whole
    /// target each time. Connectors whose deltas see deletes keep their deltas.
    EveryCycle,
}

/// `unknown_attributes`: `"reject"` (the default: 400 naming the attribute and the
/// application) or `"ignore"` (dropped from the write, logged once per attribute), for
/// generic SCIM clients that send more than the target stores.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UnknownAttributePolicy {
    #[default]
    Reject,
    Ignore,
}

/// `group_patch_answer`: `"resource"` (the default: 200 with the group, members and all) or
/// `"no_content"` (204 with the group's `ETag`, as RFC 7644 §3.5.2 allows), for applications
/// whose groups are so large that printing each one after every membership change (Entra
/// sends one PATCH per member) costs more than the change. A request that names
/// `attributes`, and a PATCH inside `/Bulk`, still get the group.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub enum GroupPatchAnswer {
    #[default]
    Resource,
    NoContent,
}

/// Parsed by hand so that a wrong value names the setting: serde's own message for an enum
/// ("unknown variant `x`") does not say which key it is about.
impl TryFrom<String> for GroupPatchAnswer {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "resource" => Ok(Self::Resource),
            "no_content" => Ok(Self::NoContent),
            other => Err(format!(
                "group_patch_answer must be \"resource\" or \"no_content\", not \"{other}\""
            )),
        }
    }
}

/// `[app.timeouts]`, seconds (fractions allowed). The defaults sit well below Entra's 60 s.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// Opening an import, reading one page, closing it.
    pub import_page_secs: f64,
    /// One export (one SCIM write).
    pub export_secs: f64,
    /// Setting a password.
    pub password_secs: f64,
    /// Test connection.
    pub check_secs: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        let d = CallLimits::default();
        Self {
            import_page_secs: d.import.as_secs_f64(),
            export_secs: d.export.as_secs_f64(),
            password_secs: d.password.as_secs_f64(),
            check_secs: d.check.as_secs_f64(),
        }
    }
}

impl Timeouts {
    pub fn limits(&self) -> CallLimits {
        // At least 10 ms: a zero or negative limit would fail every call.
        let secs = |s: f64| Duration::from_secs_f64(if s.is_finite() { s.max(0.01) } else { 0.01 });
        CallLimits {
            import: secs(self.import_page_secs),
            export: secs(self.export_secs),
            password: secs(self.password_secs),
            check: secs(self.check_secs),
        }
    }
}

fn default_autosync() -> f64 {
    120.0
}

fn default_full_import_every_hours() -> f64 {
    24.0
}

/// A period given in fractional `unit`s: None when 0 (off) or beyond what a timer can wait.
fn period(amount: f64, unit: Duration) -> Option<Duration> {
    (amount > 0.0)
        .then(|| Duration::try_from_secs_f64(amount * unit.as_secs_f64()).ok())
        .flatten()
}

impl AppConfig {
    /// How this application's connector runs, for [`crate::plugins::PluginRegistry::for_app`].
    pub fn launch(&self, host: &HostConfig) -> ConnectorLaunch {
        let isolation = match (self.isolation, &self.connector_command) {
            (Some(isolation), _) => isolation,
            (None, Some(_)) => Isolation::Process,
            (None, None) => Isolation::InProcess,
        };
        ConnectorLaunch {
            app: self.name.clone(),
            connector: self.connector.clone(),
            isolation,
            command: self.connector_command.clone(),
            worker_executable: host.worker_executable.clone(),
        }
    }

    /// The time between autosync cycles; None when autosync is off.
    pub fn autosync_interval(&self) -> Option<Duration> {
        period(self.autosync_minutes, Duration::from_secs(60))
    }

    /// The time between reconciling full imports; None when there is no such schedule.
    pub fn full_import_interval(&self) -> Option<Duration> {
        period(self.full_import_every_hours, Duration::from_secs(3600))
    }

    /// Whether scheduled deltas are in use with these capabilities: autosync on, the
    /// connector and the run profile offer deltas.
    fn uses_deltas(&self, caps: &Capabilities) -> bool {
        self.autosync_interval().is_some()
            && caps.support_import
            && caps.delta_import
            && self.run_profiles.delta_import
    }

    /// Whether every autosync cycle must be a full import: the connector's deltas cannot see
    /// deletes and the application asked for `reconcile_deletes = "every_cycle"`.
    pub fn full_import_every_cycle(&self, caps: &Capabilities) -> bool {
        self.reconcile_deletes == ReconcileDeletes::EveryCycle
            && self.run_profiles.full_import
            && !caps.delta_sees_deletes
    }

    /// `check-config`'s warning when this application's deltas cannot see deletes and no
    /// full import is scheduled to reconcile them: deleted objects would be served (and
    /// matched by Entra) until the host restarts.
    pub fn reconciliation_warning(&self, caps: &Capabilities) -> Option<String> {
        if !self.uses_deltas(caps) || caps.delta_sees_deletes {
            return None;
        }
        let scheduled = self.run_profiles.full_import
            && (self.full_import_interval().is_some()
                || self.reconcile_deletes == ReconcileDeletes::EveryCycle);
        if scheduled {
            return None;
        }
        let why = if self.run_profiles.full_import {
            "full_import_every_hours = 0 and reconcile_deletes is not \"every_cycle\""
        } else {
            "run_profiles.full_import = false"
        };
        Some(format!(
            "app '{}': the connector's delta imports cannot see deleted objects and no full import reconciles them ({why}): objects deleted in the target stay in the cache, and Entra keeps matching them, until the host restarts; set full_import_every_hours (e.g. 24) or reconcile_deletes = \"every_cycle\"",
            self.name
        ))
    }
}

fn default_setup_retry_max() -> u64 {
    60
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunProfiles {
    pub full_import: bool,
    pub delta_import: bool,
    pub export: bool,
}

impl Default for RunProfiles {
    fn default() -> Self {
        Self {
            full_import: true,
            delta_import: true,
            export: true,
        }
    }
}

/// A parameter value: text, or a secret reference (sent to the connector as an encrypted
/// parameter).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ParameterValue {
    Bool(bool),
    Integer(i64),
    Text(String),
    Secret(SecretRef),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    pub secret: SecretSource,
}

/// Connector parameters by page (ECMA2 `ConfigParameterPage`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Parameters {
    pub connectivity: BTreeMap<String, ParameterValue>,
    pub global: BTreeMap<String, ParameterValue>,
    pub schema: BTreeMap<String, ParameterValue>,
    pub run_step: BTreeMap<String, ParameterValue>,
    pub partition: BTreeMap<String, ParameterValue>,
    pub capabilities: BTreeMap<String, ParameterValue>,
}

impl Parameters {
    pub fn pages(&self) -> [(&'static str, &BTreeMap<String, ParameterValue>); 6] {
        [
            ("connectivity", &self.connectivity),
            ("global", &self.global),
            ("schema", &self.schema),
            ("run_step", &self.run_step),
            ("partition", &self.partition),
            ("capabilities", &self.capabilities),
        ]
    }
}

/// SCIM resource type an object type is served as.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScimKind {
    User,
    Group,
}

/// `[[app.object_type]]`: one connector object type served as SCIM Users or Groups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectTypeConfig {
    /// `User` or `Group`.
    pub scim: ScimKind,
    /// The connector's object type name.
    pub target: String,
    /// The anchor attribute; the SCIM `id` is its value. Default: the connector's anchor.
    pub anchor: Option<String>,
    /// Matching attributes Entra filters on (`attr eq "v"`), indexed in the cache and
    /// checked for uniqueness on create.
    #[serde(default)]
    pub query_attributes: Vec<String>,
    /// The attribute holding the DN; absent: autogenerated `CN=<anchor>,OBJECT=<TYPE>`.
    pub dn_attribute: Option<String>,
    /// Connector attributes exposed to Entra (default: all of the type's attributes).
    pub attributes: Option<Vec<String>>,
    /// Multi-valued attributes exposed as single-valued ("treat as single value").
    #[serde(default)]
    pub single_value: Vec<String>,
    /// Extra mappings of SCIM core attributes to connector attributes, e.g.
    /// `{ userName = "login", displayName = "cn", "name.givenName" = "givenName" }`.
    /// Every exposed attribute is also in the ECMA2Host extension under its own name.
    #[serde(default)]
    pub core: BTreeMap<String, String>,
    /// For Groups: the reference attribute holding members.
    pub members_attribute: Option<String>,
    /// What `active: false` does.
    #[serde(default = "default_disable")]
    pub on_disable: Deprovision,
    /// What `DELETE` does.
    #[serde(default = "default_delete")]
    pub on_delete: Deprovision,
}

fn default_disable() -> Deprovision {
    Deprovision::None
}
fn default_delete() -> Deprovision {
    Deprovision::Delete
}

/// Deprovisioning: `"none"`, `"delete"`, or `{ set = "isDisabled", value = true }`
/// (boolean attributes only, as in Microsoft's host).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Deprovision {
    Keyword(DeprovisionKeyword),
    SetAttribute { set: String, value: bool },
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DeprovisionKeyword {
    None,
    Delete,
}

impl Deprovision {
    #[allow(non_upper_case_globals)]
    pub const None: Deprovision = Deprovision::Keyword(DeprovisionKeyword::None);
    #[allow(non_upper_case_globals)]
    pub const Delete: Deprovision = Deprovision::Keyword(DeprovisionKeyword::Delete);
}

/// Minimum token length Microsoft's host enforces.
pub const MIN_TOKEN_LEN: usize = 12;

impl Config {
    /// Reads `path`, applies `ECMA_HOST_*` overrides from `env`, and checks it.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path, std::env::vars())
    }

    pub fn from_toml(
        text: &str,
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut value: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: path.to_owned(),
                    message: syntax_error(text, &e),
                })?;
        apply_env_overrides(&mut value, env)?;
        let config: Config =
            toml::Value::Table(value)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.message().to_owned(),
                })?;
        config.check()?;
        Ok(config)
    }

    /// Structural checks that need no connector.
    pub fn check(&self) -> Result<(), ConfigError> {
        if let Some(exe) = &self.host.worker_executable
            && !exe.is_absolute()
        {
            return Err(ConfigError::Invalid(format!(
                "[host] worker_executable must be an absolute path, not '{}'",
                exe.display()
            )));
        }
        let mut names = std::collections::BTreeSet::new();
        for app in &self.apps {
            let at = |m: String| ConfigError::Invalid(format!("app '{}': {m}", app.name));
            if app.name.is_empty()
                || !app
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(at(
                    "name must be non-empty and use only letters, digits, '-' and '_' (it is a URL segment)"
                        .into(),
                ));
            }
            if !names.insert(app.name.clone()) {
                return Err(at("two applications have this name".into()));
            }
            for (key, value) in [
                ("autosync_minutes", app.autosync_minutes),
                ("full_import_every_hours", app.full_import_every_hours),
            ] {
                if !value.is_finite() || value < 0.0 {
                    return Err(at(format!(
                        "{key} must be a number of 0 or more (0 turns it off), not {value}"
                    )));
                }
            }
            if app.object_types.is_empty() {
                return Err(at("needs at least one [[app.object_type]]".into()));
            }
            if let Some(argv) = &app.connector_command {
                check_connector_command(argv, app.isolation).map_err(at)?;
            }
            let mut kinds = std::collections::BTreeSet::new();
            for ot in &app.object_types {
                if !kinds.insert(ot.scim) {
                    return Err(at(format!("{:?} is served by two object types", ot.scim)));
                }
                if ot.scim == ScimKind::User && ot.members_attribute.is_some() {
                    return Err(at("members_attribute is only for Groups".into()));
                }
            }
        }
        Ok(())
    }
}

/// `connector_command`: an absolute path to an executable file, and no `isolation` that
/// contradicts running it as a process.
fn check_connector_command(argv: &[String], isolation: Option<Isolation>) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let Some(program) = argv.first() else {
        return Err("connector_command is empty: name the executable (and its arguments)".into());
    };
    if isolation == Some(Isolation::InProcess) {
        return Err(
            "connector_command runs the connector as a process of its own, so isolation = \"in_process\" contradicts it (leave isolation out, or set \"process\")"
                .into(),
        );
    }
    let path = Path::new(program);
    if !path.is_absolute() {
        return Err(format!(
            "connector_command must start with an absolute path, not '{program}' (no search through PATH: the worker's environment is cleared)"
        ));
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(()),
        Ok(m) if m.is_file() => Err(format!("connector_command '{program}' is not executable")),
        Ok(_) => Err(format!("connector_command '{program}' is not a file")),
        Err(e) => Err(format!("connector_command '{program}': {e}")),
    }
}

/// A TOML syntax error as "line L, column C: what", with the offending line quoted only when
/// it cannot hold a secret: `toml`'s own message quotes the source line, and a broken line is
/// as likely as any to be `token = "…` or a connector password.
fn syntax_error(text: &str, e: &toml::de::Error) -> String {
    let what = e.message().trim().replace('\n', "; ");
    let Some(span) = e.span() else {
        return what;
    };
    let start = span.start.min(text.len());
    let before = &text[..start];
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..start].chars().count() + 1;
    let line = text[line_start..].lines().next().unwrap_or_default();
    let quoted = if may_hold_secret(line) {
        "(the line is not shown: it may hold a secret)".to_owned()
    } else {
        format!("`{}`", line.trim())
    };
    format!("line {line_no}, column {column}: {what}: {quoted}")
}

/// Whether a configuration line names something secret: tokens, passwords, keys, or a
/// connector parameter given as `{ secret = … }`.
fn may_hold_secret(line: &str) -> bool {
    const MARKERS: &[&str] = &[
        "secret",
        "password",
        "passwd",
        "pwd",
        "token",
        "key",
        "credential",
        "auth",
    ];
    let lower = line.to_lowercase();
    MARKERS.iter().any(|m| lower.contains(m))
}

/// Resolves every application's token ([`resolve_token`]) and refuses two applications with
/// the same one: a token must open exactly one application, or a token leaked from one gives
/// away the other, and Entra's requests could not tell them apart. Errors name both
/// applications, never the token. Every problem is reported, not only the first.
pub fn resolve_tokens(config: &Config) -> Result<Vec<(String, Secret)>, Vec<ConfigError>> {
    let mut resolved: Vec<(String, Secret)> = Vec::new();
    let mut errors = Vec::new();
    for app in &config.apps {
        let token = match resolve_token(app) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some((first, _)) = resolved.iter().find(|(_, t)| t.expose() == token.expose()) {
            errors.push(ConfigError::Invalid(format!(
                "apps '{first}' and '{}' have the same secret token; give each application its own",
                app.name
            )));
            continue;
        }
        resolved.push((app.name.clone(), token));
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(errors)
    }
}

impl Config {
    /// Warnings for key and secret files users other than their owner can read: the TLS key,
    /// and every `{ file = … }` secret (tokens, the metrics token, connector parameters).
    /// For start-up logs and `check-config`; the files named are not warned about again when
    /// their secrets are resolved.
    pub fn secret_file_warnings(&self) -> Vec<String> {
        let mut files: Vec<(String, &Path)> = Vec::new();
        if let Some(key) = &self.host.tls_key {
            files.push(("the TLS key (tls_key)".into(), key));
        }
        if let Some(SecretSource::File { file }) = &self.host.metrics_token {
            files.push(("metrics_token".into(), file));
        }
        for app in &self.apps {
            if let SecretSource::File { file } = &app.token {
                files.push((format!("token of app '{}'", app.name), file));
            }
            for (page, values) in app.parameters.pages() {
                for (name, value) in values {
                    if let ParameterValue::Secret(SecretRef {
                        secret: SecretSource::File { file },
                    }) = value
                    {
                        files.push((
                            format!("app '{}': {page} parameter '{name}'", app.name),
                            file,
                        ));
                    }
                }
            }
        }
        files
            .into_iter()
            .filter_map(|(what, file)| {
                let warning = readable_by_others(file, &what)?;
                first_warning(file);
                Some(warning)
            })
            .collect()
    }
}

/// Resolves the token and enforces Microsoft's minimum length.
pub fn resolve_token(app: &AppConfig) -> Result<Secret, ConfigError> {
    let token = app.token.resolve(&format!("token of app '{}'", app.name))?;
    if token.expose().chars().count() < MIN_TOKEN_LEN {
        return Err(ConfigError::Invalid(format!(
            "app '{}': the secret token must have at least {MIN_TOKEN_LEN} characters",
            app.name
        )));
    }
    Ok(token)
}

/// `ECMA_HOST_A__B=value` sets `a.b`. Applications (`app`, an array) are addressed by
/// name: `ECMA_HOST_APP__<NAME>__KEY`. Values parse as TOML when they can (numbers,
/// booleans), else they are strings.
fn apply_env_overrides(
    root: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    const PREFIX: &str = "ECMA_HOST_";
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix(PREFIX) else {
            continue;
        };
        // Variables the binary itself reads, not configuration keys.
        if matches!(rest, "CONFIG" | "PLUGINS_DIR" | "LOG") {
            continue;
        }
        let err = |message: String| ConfigError::Env {
            var: var.clone(),
            message,
        };
        let parts: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
        let value = raw
            .parse::<toml::Value>()
            .ok()
            .filter(|v| !v.is_table())
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        let mut table = &mut *root;
        let mut i = 0;
        while i + 1 < parts.len() {
            let key = &parts[i];
            if key == "app" {
                let name = rest.split("__").nth(i + 1).unwrap_or_default();
                let apps = table
                    .get_mut("app")
                    .and_then(|v| v.as_array_mut())
                    .ok_or_else(|| err("no [[app]] in the configuration".into()))?;
                let app = apps
                    .iter_mut()
                    .filter_map(|a| a.as_table_mut())
                    .find(|a| a.get("name").and_then(|n| n.as_str()) == Some(name))
                    .ok_or_else(|| err(format!("no application named '{name}'")))?;
                table = app;
                i += 2;
                continue;
            }
            table = table
                .entry(key.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| err(format!("'{key}' is not a table")))?;
            i += 1;
        }
        let last = parts
            .get(i)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| err("names no key".into()))?;
        table.insert(last.clone(), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[host]
port = 8585

[[app]]
name = "hr"
connector = "csv"
token = { env = "HR_TOKEN_FOR_TEST" }
[app.parameters.connectivity]
File = "/tmp/x.csv"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["login"]
on_disable = { set = "disabled", value = true }
"#;

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_toml(
            text,
            Path::new("test.toml"),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn the_status_page_is_set_in_admin_and_refused_off_loopback() {
        let c = parse(&format!("[admin]\nstatus_page = \"off\"\n{MINIMAL}"), &[]).unwrap();
        assert_eq!(
            c.admin.status_page(None).unwrap(),
            crate::admin::StatusPage::Off
        );
        let c = parse(MINIMAL, &[("ECMA_HOST_ADMIN__STATUS_PAGE", "0.0.0.0:8586")]).unwrap();
        assert!(c.admin.status_page(None).is_err());
        assert!(parse(&format!("[admin]\nport = 1\n{MINIMAL}"), &[]).is_err());
    }

    #[test]
    fn parses_an_application_with_defaults() {
        let c = parse(MINIMAL, &[]).unwrap();
        assert_eq!(c.host.port, 8585);
        assert_eq!(c.host.request_timeout_secs, 50);
        let app = &c.apps[0];
        assert_eq!(app.autosync_minutes, 120.0);
        assert_eq!(app.full_import_every_hours, 24.0);
        assert_eq!(app.reconcile_deletes, ReconcileDeletes::Scheduled);
        assert!(app.run_profiles.export);
        assert_eq!(app.object_types[0].on_delete, Deprovision::Delete);
        assert_eq!(
            app.object_types[0].on_disable,
            Deprovision::SetAttribute {
                set: "disabled".into(),
                value: true
            }
        );
    }

    #[test]
    fn isolation_and_connector_command_decide_how_the_connector_runs() {
        let c = parse(MINIMAL, &[]).unwrap();
        assert_eq!(c.apps[0].launch(&c.host).isolation, Isolation::InProcess);
        let with = |extra: &str| {
            parse(
                &MINIMAL.replace(
                    "connector = \"csv\"",
                    &format!("connector = \"csv\"\n{extra}"),
                ),
                &[],
            )
        };
        let c = with("isolation = \"process\"").unwrap();
        let launch = c.apps[0].launch(&c.host);
        assert_eq!(launch.isolation, Isolation::Process);
        assert_eq!(launch.command, None);
        assert!(with("isolation = \"separate\"").is_err());
        // A command runs in a worker without saying so; an executable file is required.
        let c = with("connector_command = [\"/bin/sh\", \"-c\", \"true\"]").unwrap();
        let launch = c.apps[0].launch(&c.host);
        assert_eq!(launch.isolation, Isolation::Process);
        assert_eq!(launch.command.as_deref().map(<[String]>::len), Some(3));
        let plain = tempfile::NamedTempFile::new().unwrap();
        let not_executable = format!(
            "connector_command = [{:?}]",
            plain.path().display().to_string()
        );
        for (extra, expected) in [
            ("connector_command = []", "is empty"),
            ("connector_command = [\"sh\"]", "absolute path"),
            (not_executable.as_str(), "not executable"),
            (
                "connector_command = [\"/nonexistent/connector\"]",
                "/nonexistent/connector",
            ),
            (
                "connector_command = [\"/bin/sh\"]\nisolation = \"in_process\"",
                "contradicts",
            ),
        ] {
            let err = with(extra).unwrap_err().to_string();
            assert!(
                err.contains(expected) && err.contains("app 'hr'"),
                "{extra}: {err}"
            );
        }
        let err = parse(
            &MINIMAL.replace(
                "port = 8585",
                "port = 8585\nworker_executable = \"ecma-host\"",
            ),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("worker_executable"), "{err}");
    }

    #[test]
    fn group_patch_answer_is_resource_unless_set_and_refuses_other_values() {
        let with = |extra: &str| {
            parse(
                &MINIMAL.replace(
                    "connector = \"csv\"",
                    &format!("connector = \"csv\"\n{extra}"),
                ),
                &[],
            )
        };
        assert_eq!(
            parse(MINIMAL, &[]).unwrap().apps[0].group_patch_answer,
            GroupPatchAnswer::Resource
        );
        let c = with("group_patch_answer = \"no_content\"").unwrap();
        assert_eq!(c.apps[0].group_patch_answer, GroupPatchAnswer::NoContent);
        let c = parse(
            MINIMAL,
            &[("ECMA_HOST_APP__hr__GROUP_PATCH_ANSWER", "no_content")],
        )
        .unwrap();
        assert_eq!(c.apps[0].group_patch_answer, GroupPatchAnswer::NoContent);
        let err = with("group_patch_answer = \"empty\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "group_patch_answer must be \"resource\" or \"no_content\", not \"empty\""
            ),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_reported_by_name() {
        let err = parse(&MINIMAL.replace("port = 8585", "prot = 8585"), &[]).unwrap_err();
        assert!(err.to_string().contains("prot"), "{err}");
        let err = parse(
            &MINIMAL.replace("target = \"User\"", "target = \"User\"\nanchr = \"id\""),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("anchr"), "{err}");
    }

    #[test]
    fn environment_overrides_host_and_app_keys() {
        let c = parse(
            MINIMAL,
            &[
                ("ECMA_HOST_HOST__PORT", "9443"),
                ("ECMA_HOST_APP__hr__AUTOSYNC_MINUTES", "5"),
                ("ECMA_HOST_HOST__LOG_LEVEL", "debug"),
                ("UNRELATED", "x"),
            ],
        )
        .unwrap();
        assert_eq!(c.host.port, 9443);
        assert_eq!(c.host.log_level, "debug");
        assert_eq!(c.apps[0].autosync_minutes, 5.0);
        let err = parse(MINIMAL, &[("ECMA_HOST_APP__nope__AUTOSYNC_MINUTES", "5")]).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let err = parse(MINIMAL, &[("ECMA_HOST_HOST__PROT", "1")]).unwrap_err();
        assert!(err.to_string().contains("prot"), "{err}");
    }

    #[test]
    fn secrets_resolve_from_env_and_file_and_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "file-token-1234567\n").unwrap();
        let src = SecretSource::File { file: file.clone() };
        let s = src.resolve("t").unwrap();
        assert_eq!(s.expose(), "file-token-1234567");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        let lit = SecretSource::Literal("super-secret-value".into());
        assert!(!format!("{lit:?}").contains("super"));
        let missing = SecretSource::Env {
            env: "ECMA_HOST_TEST_SURELY_UNSET_VAR".into(),
        };
        assert!(
            missing
                .resolve("t")
                .unwrap_err()
                .to_string()
                .contains("not set")
        );
    }

    #[test]
    fn autosync_takes_fractions_and_integers_and_refuses_negatives() {
        let with = |line: &str| {
            parse(
                &MINIMAL.replace(
                    "connector = \"csv\"",
                    &format!("connector = \"csv\"\n{line}"),
                ),
                &[],
            )
        };
        let c = with("autosync_minutes = 0.05\nfull_import_every_hours = 0.002").unwrap();
        assert_eq!(c.apps[0].autosync_interval(), Some(Duration::from_secs(3)));
        assert_eq!(
            c.apps[0].full_import_interval(),
            Some(Duration::from_secs_f64(7.2))
        );
        let c = with("autosync_minutes = 2\nfull_import_every_hours = 0").unwrap();
        assert_eq!(
            c.apps[0].autosync_interval(),
            Some(Duration::from_secs(120))
        );
        assert_eq!(c.apps[0].full_import_interval(), None);
        let c = with("autosync_minutes = 0").unwrap();
        assert_eq!(c.apps[0].autosync_interval(), None);
        let err = with("autosync_minutes = -1").unwrap_err();
        assert!(err.to_string().contains("autosync_minutes"), "{err}");
        let err = with("full_import_every_hours = nan").unwrap_err();
        assert!(err.to_string().contains("full_import_every_hours"), "{err}");
        let c = with("reconcile_deletes = \"every_cycle\"").unwrap();
        assert_eq!(c.apps[0].reconcile_deletes, ReconcileDeletes::EveryCycle);
        let err = with("reconcile_deletes = \"always\"").unwrap_err();
        assert!(err.to_string().contains("always"), "{err}");
    }

    #[test]
    fn a_warning_when_deltas_miss_deletes_and_nothing_reconciles_them() {
        let app = |extra: &str| {
            parse(
                &MINIMAL.replace(
                    "connector = \"csv\"",
                    &format!("connector = \"csv\"\n{extra}"),
                ),
                &[],
            )
            .unwrap()
            .apps
            .remove(0)
        };
        // A connector that imports, with deltas blind to deletes (claimed explicitly: the
        // defaults are not what this test is about).
        let blind = Capabilities {
            support_import: true,
            delta_import: true,
            delta_sees_deletes: false,
            ..Capabilities::default()
        };
        let sees = Capabilities {
            delta_sees_deletes: true,
            ..blind.clone()
        };
        let no_delta = Capabilities {
            delta_import: false,
            ..blind.clone()
        };
        // The defaults reconcile daily.
        assert_eq!(app("").reconciliation_warning(&blind), None);
        let unreconciled = app("full_import_every_hours = 0");
        let warning = unreconciled.reconciliation_warning(&blind).unwrap();
        assert!(
            warning.contains("app 'hr'")
                && warning.contains("cannot see deleted objects")
                && warning.contains("full_import_every_hours")
                && warning.contains("every_cycle"),
            "{warning}"
        );
        assert_eq!(unreconciled.reconciliation_warning(&sees), None);
        assert_eq!(unreconciled.reconciliation_warning(&no_delta), None);
        let every_cycle = app("full_import_every_hours = 0\nreconcile_deletes = \"every_cycle\"");
        assert_eq!(every_cycle.reconciliation_warning(&blind), None);
        assert!(every_cycle.full_import_every_cycle(&blind));
        assert!(!every_cycle.full_import_every_cycle(&sees));
        // Autosync off: no deltas run, nothing to warn about.
        assert_eq!(
            app("full_import_every_hours = 0\nautosync_minutes = 0").reconciliation_warning(&blind),
            None
        );
        // A schedule the run profile forbids reconciles nothing.
        let no_full = app("run_profiles = { full_import = false }");
        let warning = no_full.reconciliation_warning(&blind).unwrap();
        assert!(
            warning.contains("run_profiles.full_import = false"),
            "{warning}"
        );
    }

    #[test]
    fn a_syntax_error_never_quotes_a_line_with_a_secret() {
        let broken = MINIMAL.replace(
            "token = { env = \"HR_TOKEN_FOR_TEST\" }",
            "token = \"literal-secret-Xy7q9 unterminated",
        );
        let err = parse(&broken, &[]).unwrap_err().to_string();
        assert!(!err.contains("literal-secret-Xy7q9"), "{err}");
        assert!(err.contains("line 8"), "{err}");
        assert!(err.contains("not shown"), "{err}");
        let broken = MINIMAL.replace(
            "File = \"/tmp/x.csv\"",
            "\"Password\" = { secret = \"hunter2-Qz\" ",
        );
        let err = parse(&broken, &[]).unwrap_err().to_string();
        assert!(!err.contains("hunter2-Qz"), "{err}");
        // A line without anything secret is still quoted, so the admin sees what is wrong.
        let err = parse(&MINIMAL.replace("port = 8585", "port = = 8585"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("`port = = 8585`"),
            "{err}"
        );
    }

    #[test]
    fn two_applications_with_one_token_are_refused_naming_both() {
        let second = MINIMAL
            .split_once("[[app]]")
            .unwrap()
            .1
            .replace("name = \"hr\"", "name = \"payroll\"");
        let two = |token2: &str| {
            let text = format!(
                "{}\n[[app]]{}",
                MINIMAL.replace(
                    "{ env = \"HR_TOKEN_FOR_TEST\" }",
                    "\"shared-token-value-123\""
                ),
                second.replace("{ env = \"HR_TOKEN_FOR_TEST\" }", token2)
            );
            parse(&text, &[]).unwrap()
        };
        let errors = resolve_tokens(&two("\"shared-token-value-123\"")).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        let text = errors[0].to_string();
        assert!(
            text.contains("'hr'") && text.contains("'payroll'") && !text.contains("shared-token"),
            "{text}"
        );
        // The same value from a file is the same token.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t");
        std::fs::write(&file, "shared-token-value-123\n").unwrap();
        let from_file = format!("{{ file = {:?} }}", file.display().to_string());
        assert!(resolve_tokens(&two(&from_file)).is_err());
        let ok = resolve_tokens(&two("\"another-token-value-456\"")).unwrap();
        assert_eq!(ok.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_readable_by_others_are_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        let key = dir.path().join("key.pem");
        let password = dir.path().join("db.secret");
        for f in [&token, &key, &password] {
            std::fs::write(f, "some-secret-value-1234").unwrap();
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let text = MINIMAL
            .replace(
                "port = 8585",
                &format!(
                    "port = 8585\ntls_cert = \"/c.pem\"\ntls_key = {:?}",
                    key.display().to_string()
                ),
            )
            .replace(
                "{ env = \"HR_TOKEN_FOR_TEST\" }",
                &format!("{{ file = {:?} }}", token.display().to_string()),
            )
            .replace(
                "File = \"/tmp/x.csv\"",
                &format!(
                    "File = \"/tmp/x.csv\"\nPassword = {{ secret = {{ file = {:?} }} }}",
                    password.display().to_string()
                ),
            );
        let c = parse(&text, &[]).unwrap();
        assert!(c.secret_file_warnings().is_empty());
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
        std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warnings = c.secret_file_warnings();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("tls_key") && warnings[0].contains("mode 640"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].contains("parameter 'Password'") && warnings[1].contains("mode 644"),
            "{warnings:?}"
        );
        assert!(warnings.iter().all(|w| !w.contains("some-secret-value")));
        assert!(readable_by_others(&token, "t").is_none());
    }

    #[test]
    fn the_default_plugins_folder_is_absolute() {
        let c = parse(MINIMAL, &[]).unwrap();
        assert!(c.host.plugins_dirs.iter().all(|d| d.is_absolute()));
        assert_eq!(
            c.host.auth_failures_per_minute,
            DEFAULT_AUTH_FAILURES_PER_MINUTE
        );
        assert!(!c.host.allow_insecure_plugin_paths);
        assert_eq!(
            c.host.plugin_path_policy(),
            crate::plugins::PathPolicy::Strict
        );
    }

    #[test]
    fn short_tokens_and_bad_names_are_refused() {
        let c = parse(
            &MINIMAL.replace("{ env = \"HR_TOKEN_FOR_TEST\" }", "\"short\""),
            &[],
        )
        .unwrap();
        let err = resolve_token(&c.apps[0]).unwrap_err();
        assert!(err.to_string().contains("at least 12"), "{err}");
        let err = parse(&MINIMAL.replace("name = \"hr\"", "name = \"h r\""), &[]).unwrap_err();
        assert!(err.to_string().contains("URL segment"), "{err}");
    }
}
