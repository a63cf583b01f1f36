//! Configuration parameters: names, definitions per page, and parsing into [`Settings`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use plugin_api::prelude::*;

// Connectivity page.
pub const P_HOST: &str = "Host";
pub const P_PORT: &str = "Port";
pub const P_SOCKET: &str = "Unix socket";
pub const P_SECURITY: &str = "Connection security";
pub const P_CA_FILE: &str = "CA certificate file";
pub const P_VERIFY: &str = "Verify server certificate";
pub const P_BINDING: &str = "Binding";
pub const P_USER: &str = "User name";
pub const P_PASSWORD: &str = "Password";
pub const P_CLIENT_CERT: &str = "Client certificate file";
pub const P_CLIENT_KEY: &str = "Client key file";
pub const P_CONN_TIMEOUT: &str = "Connection timeout";
pub const P_OP_TIMEOUT: &str = "Operation timeout";
pub const P_OPERATIONAL: &str = "Include operational attributes";
// Global page.
pub const P_BASES: &str = "Base DNs";
pub const P_SCOPE: &str = "Search scope";
pub const P_OBJECT_TYPES: &str = "Object types";
pub const P_ANCHOR: &str = "Anchor";
pub const P_DELTA: &str = "Delta strategy";
pub const P_ACCESSLOG_DN: &str = "Accesslog DN";
pub const P_CHANGELOG_DN: &str = "Changelog DN";
pub const P_PAGE_SIZE: &str = "Search page size";
pub const P_PAGING: &str = "Use paged results";
pub const P_DN_TEMPLATES: &str = "DN templates";
pub const P_AUX_CLASSES: &str = "Auxiliary object classes";
pub const P_PASSWORD_ATTR: &str = "Password attribute";
pub const P_PASSWORD_METHOD: &str = "Password method";
pub const P_HASH_PASSWORD: &str = "Hash password before sending";
pub const P_PLACEHOLDER: &str = "Placeholder member";
/// Keycloak's value for the same purpose, so directories shared with it agree.
pub const DEFAULT_PLACEHOLDER: &str = "cn=empty-membership-placeholder";

/// How the TCP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    None,
    StartTls,
    Ldaps,
}

/// How the connector authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindMethod {
    Anonymous,
    Simple,
    /// SASL EXTERNAL: the identity of a TLS client certificate or of the ldapi peer.
    SaslExternal,
}

/// What identifies an object across renames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorChoice {
    /// From the vendor detected in the Root DSE.
    Auto,
    Attribute(String),
    /// The DN itself (`IsDNAsAnchor`): a rename is a delete plus an add.
    Dn,
}

/// Requested delta-import strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaChoice {
    Auto,
    Accesslog,
    /// RFC 4533 content synchronisation (syncprov with a session log).
    ContentSync,
    Changelog,
    ModifyTimestamp,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordMethod {
    /// Write the password attribute (optionally pre-hashed).
    Attribute,
    /// RFC 3062 Password Modify extended operation.
    PasswordModify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchScope {
    Subtree,
    OneLevel,
}

/// Parsed configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub socket: Option<PathBuf>,
    pub security: Security,
    pub ca_file: Option<PathBuf>,
    pub verify: bool,
    pub binding: BindMethod,
    pub user: String,
    pub password: Secret,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub conn_timeout: Duration,
    pub op_timeout: Duration,
    pub operational: bool,
    pub bases: Vec<String>,
    pub scope: SearchScope,
    pub object_types: Vec<String>,
    pub anchor: AnchorChoice,
    pub delta: DeltaChoice,
    pub accesslog_dn: String,
    pub changelog_dn: String,
    pub page_size: i32,
    /// Use the paged-results control when the server offers it.
    pub paging: bool,
    /// Object type (lower case) → DN template.
    pub dn_templates: HashMap<String, String>,
    /// Object type (lower case) → auxiliary classes added on create.
    pub aux_classes: HashMap<String, Vec<String>>,
    pub password_attr: String,
    pub password_method: PasswordMethod,
    pub hash_password: bool,
    /// The member value that keeps a `groupOfNames`/`groupOfUniqueNames` valid while it has
    /// no real members (both classes require one). Never imported. None: off.
    pub placeholder_member: Option<String>,
}

impl Settings {
    /// The membership attribute `object_type` requires at least one value of, when the
    /// placeholder is on: `member` of groupOfNames, `uniqueMember` of groupOfUniqueNames.
    pub fn placeholder_attr(&self, object_type: &str) -> Option<&'static str> {
        self.placeholder_member.as_ref()?;
        if object_type.eq_ignore_ascii_case("groupOfNames") {
            Some("member")
        } else if object_type.eq_ignore_ascii_case("groupOfUniqueNames") {
            Some("uniqueMember")
        } else {
            None
        }
    }

    /// Whether `value` is the placeholder (DNs compared normalised).
    pub fn is_placeholder(&self, value: &str) -> bool {
        self.placeholder_member
            .as_deref()
            .is_some_and(|p| crate::dn::normalize(p) == crate::dn::normalize(value))
    }
}

fn choice<T: Copy>(
    config: &ConfigParameters,
    name: &str,
    default: T,
    options: &[(&str, T)],
) -> ConnectorResult<T> {
    let raw = config.get_or_empty(name).trim();
    if raw.is_empty() {
        return Ok(default);
    }
    options
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(raw))
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            ConnectorError::config(format!(
                "'{name}' must be one of {:?}, got {raw:?}",
                options.iter().map(|(k, _)| *k).collect::<Vec<_>>()
            ))
        })
}

/// The non-empty trimmed items of `raw` between `separators`.
fn items(raw: &str, separators: &[char]) -> Vec<String> {
    raw.split(separators)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn list(raw: &str) -> Vec<String> {
    items(raw, &[',', '\n'])
}

/// `key = value` lines (text parameters); `;` also separates entries so single-line
/// configuration files can hold them.
fn keyed_lines(raw: &str) -> Vec<(String, String)> {
    raw.split(['\n', ';'])
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            Some((k.trim().to_lowercase(), v.trim().to_owned()))
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// A number above zero; `default` when empty. `what` says which numbers in the error.
fn positive<T: FromStr + PartialOrd + Default>(
    config: &ConfigParameters,
    name: &str,
    default: T,
    what: &str,
) -> ConnectorResult<T> {
    let raw = config.get_or_empty(name).trim();
    if raw.is_empty() {
        return Ok(default);
    }
    raw.parse::<T>()
        .ok()
        .filter(|n| *n > T::default())
        .ok_or_else(|| ConnectorError::config(format!("'{name}' must be {what}, got {raw:?}")))
}

fn seconds(config: &ConfigParameters, name: &str, default: u64) -> ConnectorResult<Duration> {
    positive(config, name, default, "seconds > 0").map(Duration::from_secs)
}

/// A text parameter, trimmed; `default` when unset or blank.
fn text_or(config: &ConfigParameters, name: &str, default: &str) -> String {
    config
        .get(name)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(default)
        .trim()
        .to_owned()
}

fn path(config: &ConfigParameters, name: &str) -> Option<PathBuf> {
    let raw = config.get_or_empty(name).trim();
    (!raw.is_empty()).then(|| PathBuf::from(raw))
}

/// The bind method (default: Simple when a user is set) and the bind DN, which Simple needs.
fn binding(config: &ConfigParameters) -> ConnectorResult<(BindMethod, String)> {
    let binding = choice(
        config,
        P_BINDING,
        if config.get_or_empty(P_USER).is_empty() {
            BindMethod::Anonymous
        } else {
            BindMethod::Simple
        },
        &[
            ("Anonymous", BindMethod::Anonymous),
            ("Simple", BindMethod::Simple),
            ("Basic", BindMethod::Simple),
            ("SASL EXTERNAL", BindMethod::SaslExternal),
            ("External", BindMethod::SaslExternal),
        ],
    )?;
    let user = config.get_or_empty(P_USER).trim().to_owned();
    if binding == BindMethod::Simple && user.is_empty() {
        return Err(ConnectorError::config(format!(
            "'{P_BINDING}' Simple needs '{P_USER}' (a bind DN)"
        )));
    }
    Ok((binding, user))
}

/// The TLS client certificate and key files, both or neither.
fn client_identity(
    config: &ConfigParameters,
) -> ConnectorResult<(Option<PathBuf>, Option<PathBuf>)> {
    let client_cert = path(config, P_CLIENT_CERT);
    let client_key = path(config, P_CLIENT_KEY);
    if client_cert.is_some() != client_key.is_some() {
        return Err(ConnectorError::config(format!(
            "'{P_CLIENT_CERT}' and '{P_CLIENT_KEY}' must be set together"
        )));
    }
    Ok((client_cert, client_key))
}

fn anchor(config: &ConfigParameters) -> AnchorChoice {
    match config.get_or_empty(P_ANCHOR).trim() {
        "" => AnchorChoice::Auto,
        a if a.eq_ignore_ascii_case("auto") => AnchorChoice::Auto,
        a if a.eq_ignore_ascii_case("dn") => AnchorChoice::Dn,
        a => AnchorChoice::Attribute(a.to_owned()),
    }
}

/// The placeholder member: unset, the default; set to empty, off; else a DN.
fn placeholder(config: &ConfigParameters) -> ConnectorResult<Option<String>> {
    match config.get(P_PLACEHOLDER) {
        None => Ok(Some(DEFAULT_PLACEHOLDER.to_owned())),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => {
            let v = v.trim();
            if crate::dn::split_first(v).is_none() {
                return Err(ConnectorError::config(format!(
                    "'{P_PLACEHOLDER}' must be a DN, got {v:?}"
                )));
            }
            Ok(Some(v.to_owned()))
        }
    }
}

impl Settings {
    pub fn from_config(config: &ConfigParameters) -> ConnectorResult<Self> {
        let socket = path(config, P_SOCKET);
        let host = config.get_or_empty(P_HOST).trim().to_owned();
        if host.is_empty() && socket.is_none() {
            return Err(ConnectorError::config(format!(
                "required parameter '{P_HOST}' (or '{P_SOCKET}') is missing"
            )));
        }
        let security = choice(
            config,
            P_SECURITY,
            Security::None,
            &[
                ("None", Security::None),
                ("StartTLS", Security::StartTls),
                ("TLS", Security::StartTls),
                ("LDAPS", Security::Ldaps),
                ("SSL", Security::Ldaps),
            ],
        )?;
        let default_port = if security == Security::Ldaps {
            636
        } else {
            389
        };
        let port = positive(config, P_PORT, default_port, "1-65535")?;
        let (binding, user) = binding(config)?;
        let (client_cert, client_key) = client_identity(config)?;
        let anchor = anchor(config);
        let delta = choice(
            config,
            P_DELTA,
            DeltaChoice::Auto,
            &[
                ("Auto", DeltaChoice::Auto),
                ("Accesslog", DeltaChoice::Accesslog),
                ("ContentSync", DeltaChoice::ContentSync),
                ("Changelog", DeltaChoice::Changelog),
                ("ModifyTimestamp", DeltaChoice::ModifyTimestamp),
                ("None", DeltaChoice::None),
            ],
        )?;
        let page_size = positive(config, P_PAGE_SIZE, 500, "> 0")?;
        Ok(Self {
            host,
            port,
            socket,
            security,
            ca_file: path(config, P_CA_FILE),
            verify: config.get_bool(P_VERIFY).unwrap_or(true),
            binding,
            user,
            password: Secret::new(config.get_or_empty(P_PASSWORD)),
            client_cert,
            client_key,
            conn_timeout: seconds(config, P_CONN_TIMEOUT, 30)?,
            op_timeout: seconds(config, P_OP_TIMEOUT, 120)?,
            operational: config.get_bool(P_OPERATIONAL).unwrap_or(false),
            // DNs contain commas: bases are separated by new lines or ';' only.
            bases: items(config.get_or_empty(P_BASES), &['\n', ';']),
            scope: choice(
                config,
                P_SCOPE,
                SearchScope::Subtree,
                &[
                    ("Subtree", SearchScope::Subtree),
                    ("OneLevel", SearchScope::OneLevel),
                ],
            )?,
            object_types: list(config.get_or_empty(P_OBJECT_TYPES)),
            anchor,
            delta,
            accesslog_dn: text_or(config, P_ACCESSLOG_DN, "cn=accesslog"),
            changelog_dn: text_or(config, P_CHANGELOG_DN, "cn=changelog"),
            page_size,
            paging: config.get_bool(P_PAGING).unwrap_or(true),
            dn_templates: keyed_lines(config.get_or_empty(P_DN_TEMPLATES))
                .into_iter()
                .collect(),
            aux_classes: keyed_lines(config.get_or_empty(P_AUX_CLASSES))
                .into_iter()
                .map(|(k, v)| (k, list(&v)))
                .collect(),
            password_attr: text_or(config, P_PASSWORD_ATTR, "userPassword"),
            password_method: choice(
                config,
                P_PASSWORD_METHOD,
                PasswordMethod::Attribute,
                &[
                    ("Attribute", PasswordMethod::Attribute),
                    ("PasswordModify", PasswordMethod::PasswordModify),
                    ("Password Modify", PasswordMethod::PasswordModify),
                ],
            )?,
            hash_password: config.get_bool(P_HASH_PASSWORD).unwrap_or(false),
            placeholder_member: placeholder(config)?,
        })
    }

    /// The URL ldap3 connects to.
    pub fn url(&self) -> String {
        if let Some(socket) = &self.socket {
            let encoded: String = socket
                .to_string_lossy()
                .chars()
                .map(|c| match c {
                    '/' => "%2F".to_owned(),
                    '%' => "%25".to_owned(),
                    c => c.to_string(),
                })
                .collect();
            return format!("ldapi://{encoded}");
        }
        let scheme = if self.security == Security::Ldaps {
            "ldaps"
        } else {
            "ldap"
        };
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{host}:{}", self.port)
    }
}

impl Settings {
    /// The warning for a simple bind whose password would cross the network in clear text:
    /// no TLS, not a Unix socket, and a server that is not this machine's loopback. None when
    /// the bind is protected (or sends no password). The password itself is never in it.
    pub fn clear_text_bind_warning(&self) -> Option<String> {
        let exposed = self.binding == BindMethod::Simple
            && self.security == Security::None
            && self.socket.is_none()
            && !is_loopback(&self.host);
        exposed.then(|| {
            format!(
                "'{P_SECURITY}' is None: the simple bind as {:?} sends its password in clear text to {} over the network; set '{P_SECURITY}' to StartTLS or LDAPS",
                self.user,
                self.url()
            )
        })
    }
}

/// Whether `host` names this machine's loopback interface (where a clear-text bind never
/// leaves the machine).
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let lower = bare.trim_end_matches('.').to_ascii_lowercase();
    lower == "localhost" || lower.ends_with(".localhost")
}

/// Parameter definitions per page.
pub fn definitions(page: ConfigPage) -> Vec<ConfigParameterDefinition> {
    use ConfigParameterDefinition as D;
    match page {
        ConfigPage::Connectivity => vec![
            D::string(P_HOST, "", "").describe("Server host name or IP address."),
            D::string(P_PORT, "^[0-9]*$", "389").describe("389 for LDAP/StartTLS, 636 for LDAPS."),
            D::string(P_SOCKET, "", "")
                .describe("Path of a Unix socket (ldapi); overrides Host and Port."),
            D::dropdown(P_SECURITY, &["None", "StartTLS", "LDAPS"], false, "None"),
            D::file(P_CA_FILE, "").describe(
                "PEM file of the CA(s) to trust; empty: the system trust store.",
            ),
            D::checkbox(P_VERIFY, true).describe(
                "Verify the server certificate. Turning this off is logged as a warning.",
            ),
            D::dropdown(
                P_BINDING,
                &["Anonymous", "Simple", "SASL EXTERNAL"],
                false,
                "Simple",
            ),
            D::string(P_USER, "", "").describe("Bind DN for Simple binding."),
            D::encrypted_string(P_PASSWORD),
            D::file(P_CLIENT_CERT, "").describe("PEM client certificate (SASL EXTERNAL over TLS)."),
            D::file(P_CLIENT_KEY, ""),
            D::string(P_CONN_TIMEOUT, "^[0-9]*$", "30").describe("Seconds."),
            D::string(P_OP_TIMEOUT, "^[0-9]*$", "120").describe("Seconds per operation."),
            D::checkbox(P_OPERATIONAL, false),
        ],
        ConfigPage::Global => vec![
            // Microsoft's wizard chooses containers per partition, under "Base DN".
            D::text(P_BASES, "")
                .describe("Containers to search, one DN per line; empty: the server's naming contexts.")
                .alias("Base DN")
                .alias("Containers"),
            D::dropdown(P_SCOPE, &["Subtree", "OneLevel"], false, "Subtree"),
            D::string(P_OBJECT_TYPES, "", "").describe(
                "Structural object classes to offer as object types (comma separated); empty: all.",
            ),
            D::dropdown(
                P_ANCHOR,
                &["Auto", "entryUUID", "nsUniqueId", "objectGUID", "DN"],
                true,
                "Auto",
            ),
            D::dropdown(
                P_DELTA,
                &[
                    "Auto",
                    "Accesslog",
                    "ContentSync",
                    "Changelog",
                    "ModifyTimestamp",
                    "None",
                ],
                false,
                "Auto",
            ),
            D::string(P_ACCESSLOG_DN, "", "cn=accesslog"),
            D::string(P_CHANGELOG_DN, "", "cn=changelog"),
            D::string(P_PAGE_SIZE, "^[0-9]*$", "500"),
            D::checkbox(P_PAGING, true)
                .describe(
                    "Use simple paged results when the server offers them (else one streamed search).",
                )
                // Microsoft's Global page label.
                .alias("Paged Results"),
            D::text(P_DN_TEMPLATES, "").describe(
                "One per line: objectType = template, e.g. inetOrgPerson = uid={uid},ou=people,dc=example,dc=com",
            ),
            D::text(P_AUX_CLASSES, "").describe(
                "One per line: objectType = aux1, aux2 (added to new objects).",
            ),
            D::string(P_PASSWORD_ATTR, "", "userPassword"),
            D::dropdown(P_PASSWORD_METHOD, &["Attribute", "PasswordModify"], false, "Attribute"),
            D::checkbox(P_HASH_PASSWORD, false).describe("Send {SSHA} hashes instead of clear text."),
            D::string(P_PLACEHOLDER, "", DEFAULT_PLACEHOLDER).describe(
                "Member DN that keeps a groupOfNames/groupOfUniqueNames without members valid (both require a member); never imported. Empty: off.",
            ),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let mut c = ConfigParameters::new();
        c.set(P_HOST, "127.0.0.1")
            .set(P_SECURITY, "LDAPS")
            .set(P_USER, "cn=admin,dc=x")
            .set(
                P_DN_TEMPLATES,
                "inetOrgPerson = uid={uid},dc=x; groupOfNames=cn={cn},dc=x",
            )
            .set(P_AUX_CLASSES, "inetOrgPerson = posixAccount, shadowAccount");
        let s = Settings::from_config(&c).unwrap();
        assert_eq!(s.port, 636);
        assert_eq!(s.binding, BindMethod::Simple);
        assert_eq!(s.url(), "ldaps://127.0.0.1:636");
        assert_eq!(s.dn_templates["groupofnames"], "cn={cn},dc=x");
        assert_eq!(
            s.aux_classes["inetorgperson"],
            ["posixAccount", "shadowAccount"]
        );
        c.set(P_PORT, "99999");
        assert_eq!(
            Settings::from_config(&c).unwrap_err().kind,
            ErrorKind::Config
        );
        let mut c = ConfigParameters::new();
        c.set(P_SOCKET, "/tmp/a b/ldapi");
        assert_eq!(
            Settings::from_config(&c).unwrap().clear_text_bind_warning(),
            None
        );
        assert_eq!(
            Settings::from_config(&c).unwrap().url(),
            "ldapi://%2Ftmp%2Fa b%2Fldapi"
        );
    }

    #[test]
    fn a_clear_text_simple_bind_off_the_machine_is_warned_about() {
        let settings = |host: &str, security: &str, user: &str| {
            let mut c = ConfigParameters::new();
            c.set(P_HOST, host).set(P_SECURITY, security);
            if !user.is_empty() {
                c.set(P_USER, user);
            }
            c.set_secret(P_PASSWORD, "bind-pw-Zq81");
            Settings::from_config(&c).unwrap()
        };
        let w = settings("ldap.example.com", "None", "cn=admin,dc=x")
            .clear_text_bind_warning()
            .expect("a warning");
        assert!(
            w.contains("ldap://ldap.example.com:389")
                && w.contains("cn=admin,dc=x")
                && w.contains("StartTLS")
                && !w.contains("bind-pw-Zq81"),
            "{w}"
        );
        assert!(
            settings("10.1.2.3", "None", "cn=a")
                .clear_text_bind_warning()
                .is_some()
        );
        for loopback in [
            "127.0.0.1",
            "127.3.4.5",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost.",
        ] {
            assert_eq!(
                settings(loopback, "None", "cn=a").clear_text_bind_warning(),
                None,
                "{loopback}"
            );
        }
        assert_eq!(
            settings("ldap.example.com", "StartTLS", "cn=a").clear_text_bind_warning(),
            None
        );
        assert_eq!(
            settings("ldap.example.com", "LDAPS", "cn=a").clear_text_bind_warning(),
            None
        );
        // No user: an anonymous bind sends no password.
        assert_eq!(
            settings("ldap.example.com", "None", "").clear_text_bind_warning(),
            None
        );
    }
}
