//! The one table of Microsoft wizard labels and the ecma-host connector parameters they become.
//!
//! Labels are those of Microsoft's Generic SQL and Generic LDAP connectors as their technical
//! references and Entra's provisioning tutorials show them; they are compared without case and
//! without spaces, and per-object-type fields ("User:Table/View/SP") are looked up without
//! their type prefix. Where a label and our name differ, the TOML gets ours.
//!
//! The connectors also accept Microsoft's labels where a value under them means the same
//! (their parameters' aliases). Migration keeps its own table rather than asking the loaded
//! connector: it runs before connectors are installed, and most rows convert a value, pick a
//! parameter by run step, or report what has no counterpart. The two must agree, and
//! `tests/tests/host_migrate.rs` holds this table to the Generic SQL connector's aliases: an
//! alias becomes that same parameter on that same page here, and a label whose value is
//! converted here is no alias there.

use super::export::{MsPage, RunProfile};

/// The connectors a migration carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    GenericSql,
    GenericLdap,
}

impl Connector {
    /// Microsoft's `LibraryName` (with or without `.dll`) → ours.
    pub fn from_library(library: &str) -> Option<Self> {
        let l = library.trim().to_ascii_lowercase();
        let l = l.strip_suffix(".dll").unwrap_or(&l);
        match l {
            "microsoft.iam.connector.genericsql" => Some(Self::GenericSql),
            "microsoft.iam.connector.genericldap" => Some(Self::GenericLdap),
            _ => None,
        }
    }

    /// The connector name in ecma-host (`ecma-host plugins`).
    pub fn ours(self) -> &'static str {
        match self {
            Self::GenericSql => "generic-sql",
            Self::GenericLdap => "generic-ldap",
        }
    }
}

/// Our parameter pages (the `[app.parameters.*]` tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OurPage {
    Connectivity,
    Global,
    Schema,
    RunStep,
    Partition,
    Capabilities,
}

impl OurPage {
    pub fn toml_key(self) -> &'static str {
        match self {
            Self::Connectivity => "connectivity",
            Self::Global => "global",
            Self::Schema => "schema",
            Self::RunStep => "run_step",
            Self::Partition => "partition",
            Self::Capabilities => "capabilities",
        }
    }
}

/// How a value is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The text as it is.
    Same,
    /// A CheckBox (`0`/`1`) → a TOML boolean.
    Checkbox,
    /// A secret: an environment-variable reference in the TOML, the value never read.
    Secret,
    /// Microsoft's value → ours; a value not listed is reported and not carried.
    Choice(&'static [(&'static str, &'static str)]),
    /// Needs more than a rename; handled by the connector's mapping file.
    Special(Special),
    /// Not carried; the text says what to do instead.
    NotCarried(&'static str),
}

/// Fields whose value needs work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// Generic SQL: the ODBC DSN file → a connection string.
    DsnFile,
    /// Generic SQL: `domain\user` is Windows authentication.
    SqlUser,
    /// Generic SQL: .NET date format → a `time` format description.
    DotNetDateFormat,
    /// Generic SQL: a Windows time zone name → an offset.
    TimeZone,
    /// Generic SQL: the run step's table, procedure or query names, by operation method.
    RunStepObject,
    /// Generic SQL: `Parent.col=Child.col` → the child's join column.
    JoinCondition,
    /// Generic SQL: `@name: INPUT: attribute` lines → the attribute list.
    ProcedureParameters,
    /// Generic LDAP: Binding → connection security and bind method.
    LdapBinding,
    /// Generic LDAP: the change log DN → delta strategy and its DN.
    LdapChangeLog,
}

/// One row: a Microsoft field and what it becomes.
#[derive(Debug, Clone, Copy)]
pub struct NameMapping {
    pub connector: Connector,
    pub page: MsPage,
    /// For run-step fields: the run profile (None: any).
    pub profile: Option<RunProfile>,
    /// The wizard label, without a `<type>:` prefix.
    pub microsoft: &'static str,
    /// Our parameter ("" when not carried or when a special decides).
    pub ours: &'static str,
    pub our_page: OurPage,
    pub rule: Rule,
}

const fn row(
    connector: Connector,
    page: MsPage,
    microsoft: &'static str,
    ours: &'static str,
    our_page: OurPage,
    rule: Rule,
) -> NameMapping {
    NameMapping {
        connector,
        page,
        profile: None,
        microsoft,
        ours,
        our_page,
        rule,
    }
}

const fn step(
    profile: RunProfile,
    microsoft: &'static str,
    ours: &'static str,
    rule: Rule,
) -> NameMapping {
    step_to(profile, microsoft, ours, OurPage::RunStep, rule)
}

/// A run-step field whose counterpart lives on another of our pages (Microsoft asks for the
/// multi-valued table and the delta's columns per run step; we, once).
const fn step_to(
    profile: RunProfile,
    microsoft: &'static str,
    ours: &'static str,
    our_page: OurPage,
    rule: Rule,
) -> NameMapping {
    NameMapping {
        connector: Connector::GenericSql,
        page: MsPage::RunStep,
        profile: Some(profile),
        microsoft,
        ours,
        our_page,
        rule,
    }
}

use Connector::{GenericLdap as L, GenericSql as S};
use MsPage::{Connectivity as C, Global as G, Schema as Sc};
use RunProfile::{DeltaImport as Delta, Export as Exp, FullImport as Full};

const METHODS: &[(&str, &str)] = &[
    ("Table", "Table"),
    ("View", "Table"),
    ("Stored Procedure", "Stored procedure"),
    ("SQL Query", "SQL query"),
];

const DELTA: &[(&str, &str)] = &[
    ("None", "None"),
    ("Watermark", "Watermark"),
    ("Trigger", "Change table"),
];

const WINDOWS_ONLY_SQL: &str = "SQL Server's snapshot and change tracking have no counterpart: use the Watermark or Change table strategy";

pub const NAME_TABLE: &[NameMapping] = &[
    // ---- Generic SQL: Connectivity ----
    row(
        S,
        C,
        "DSN File",
        "Connection string",
        OurPage::Connectivity,
        Rule::Special(Special::DsnFile),
    ),
    row(
        S,
        C,
        "User Name",
        "User",
        OurPage::Connectivity,
        Rule::Special(Special::SqlUser),
    ),
    row(
        S,
        C,
        "Password",
        "Password",
        OurPage::Connectivity,
        Rule::Secret,
    ),
    row(
        S,
        C,
        "DN is Anchor",
        "DN is anchor",
        OurPage::Connectivity,
        Rule::Checkbox,
    ),
    row(
        S,
        C,
        "Export Type: Object Replace",
        "Export type",
        OurPage::Connectivity,
        Rule::Choice(&[
            ("1", "ObjectReplace"),
            ("0", "AttributeUpdate"),
            ("true", "ObjectReplace"),
            ("false", "AttributeUpdate"),
        ]),
    ),
    row(
        S,
        C,
        "Export Type",
        "Export type",
        OurPage::Connectivity,
        Rule::Choice(&[
            ("ObjectReplace", "ObjectReplace"),
            ("Object Replace", "ObjectReplace"),
            ("AttributeUpdate", "AttributeUpdate"),
            ("AttributeReplace", "AttributeUpdate"),
        ]),
    ),
    row(
        S,
        C,
        "Command Timeout",
        "Command timeout",
        OurPage::Connectivity,
        Rule::Same,
    ),
    // ---- Generic SQL: Schema 1–5 ----
    row(
        S,
        Sc,
        "Object type detection method",
        "Object type detection",
        OurPage::Schema,
        Rule::Choice(&[("Fixed Value", "Fixed")]),
    ),
    row(
        S,
        Sc,
        "Fixed value list/Table/View/SP",
        "Object types",
        OurPage::Schema,
        Rule::Same,
    ),
    row(
        S,
        Sc,
        "Attribute Detection",
        "Attribute detection",
        OurPage::Schema,
        Rule::Choice(&[
            ("Table", "Table"),
            ("View", "View"),
            ("Stored Procedure", "Stored procedure"),
        ]),
    ),
    row(S, Sc, "Table/View/SP", "Table", OurPage::Schema, Rule::Same),
    row(
        S,
        Sc,
        "Select Anchor for",
        "Anchor columns",
        OurPage::Schema,
        Rule::Same,
    ),
    row(
        S,
        Sc,
        "Anchor",
        "Anchor columns",
        OurPage::Schema,
        Rule::Same,
    ),
    row(
        S,
        Sc,
        "Select DN attribute for",
        "DN column",
        OurPage::Schema,
        Rule::Same,
    ),
    row(S, Sc, "DN", "DN column", OurPage::Schema, Rule::Same),
    // ---- Generic SQL: Global ----
    row(
        S,
        G,
        "Delta Strategy",
        "Delta strategy",
        OurPage::Global,
        Rule::Choice(DELTA),
    ),
    row(
        S,
        G,
        "Water Mark Query",
        "Watermark query",
        OurPage::Global,
        Rule::Same,
    ),
    row(
        S,
        G,
        "Data Source Date Time Format",
        "Date format",
        OurPage::Global,
        Rule::Special(Special::DotNetDateFormat),
    ),
    row(
        S,
        G,
        "Database Server Time Zone",
        "Database time zone",
        OurPage::Global,
        Rule::Special(Special::TimeZone),
    ),
    row(
        S,
        G,
        "Set Password SP Name",
        "Set password procedure",
        OurPage::Global,
        Rule::Same,
    ),
    row(
        S,
        G,
        "Password Extension",
        "",
        OurPage::Global,
        Rule::NotCarried(
            "a password extension DLL cannot run here: use the 'Password method' SQL or Stored procedure",
        ),
    ),
    row(
        S,
        G,
        "Change Password SP Name",
        "",
        OurPage::Global,
        Rule::NotCarried(
            "Entra sends only initial passwords (set); change-password procedures are never called",
        ),
    ),
    row(
        S,
        G,
        "Use named parameters to execute a stored procedure",
        "",
        OurPage::Global,
        Rule::NotCarried(
            "procedures are called with positional parameters in the order of 'Procedure parameters'",
        ),
    ),
    // ---- Generic SQL: run steps ----
    step(
        Full,
        "Operation Method",
        "Import method",
        Rule::Choice(METHODS),
    ),
    step(
        Delta,
        "Operation Method",
        "Import method",
        Rule::Choice(METHODS),
    ),
    step(
        Exp,
        "Operation Method",
        "Export method",
        Rule::Choice(METHODS),
    ),
    step(
        Full,
        "Table/View/SP",
        "",
        Rule::Special(Special::RunStepObject),
    ),
    step(
        Delta,
        "Table/View/SP",
        "",
        Rule::Special(Special::RunStepObject),
    ),
    step(
        Exp,
        "Table/View/SP",
        "",
        Rule::Special(Special::RunStepObject),
    ),
    step_to(
        Full,
        "Name of Multi-Valued table/views",
        "Multi-valued table",
        OurPage::Schema,
        Rule::Same,
    ),
    step_to(
        Full,
        "Join condition",
        "Multi-valued join column",
        OurPage::Schema,
        Rule::Special(Special::JoinCondition),
    ),
    step(Full, "SQL Query", "Import query", Rule::Same),
    step(Delta, "SQL Query", "Delta import query", Rule::Same),
    step_to(
        Delta,
        "Water Mark Column Name",
        "Watermark column",
        OurPage::Global,
        Rule::Same,
    ),
    step_to(
        Delta,
        "History Table or Snapshot database name",
        "Change table",
        OurPage::Global,
        Rule::Same,
    ),
    step_to(
        Delta,
        "Change Type attribute",
        "Change table type column",
        OurPage::Global,
        Rule::Same,
    ),
    step(Delta, "Snapshot", "", Rule::NotCarried(WINDOWS_ONLY_SQL)),
    step(Exp, "Insert Query", "Insert query", Rule::Same),
    step(Exp, "Update Query", "Update query", Rule::Same),
    step(Exp, "Delete Query", "Delete query", Rule::Same),
    step(Exp, "Add SP Name", "Add procedure", Rule::Same),
    step(Exp, "Update SP Name", "Update procedure", Rule::Same),
    step(Exp, "Delete SP Name", "Delete procedure", Rule::Same),
    step(
        Exp,
        "Add SP Parameters",
        "Procedure parameters",
        Rule::Special(Special::ProcedureParameters),
    ),
    // ---- Generic LDAP: Connectivity ----
    row(L, C, "Host", "Host", OurPage::Connectivity, Rule::Same),
    row(L, C, "Port", "Port", OurPage::Connectivity, Rule::Same),
    row(
        L,
        C,
        "Connection Timeout",
        "Connection timeout",
        OurPage::Connectivity,
        Rule::Same,
    ),
    row(
        L,
        C,
        "Binding",
        "Binding",
        OurPage::Connectivity,
        Rule::Special(Special::LdapBinding),
    ),
    row(
        L,
        C,
        "User Name",
        "User name",
        OurPage::Connectivity,
        Rule::Same,
    ),
    row(
        L,
        C,
        "Password",
        "Password",
        OurPage::Connectivity,
        Rule::Secret,
    ),
    row(
        L,
        C,
        "Realm/Domain",
        "",
        OurPage::Connectivity,
        Rule::NotCarried(
            "Kerberos binding is not supported: bind with Simple (a DN and password) or SASL EXTERNAL (a client certificate)",
        ),
    ),
    row(
        L,
        C,
        "Certificate",
        "",
        OurPage::Connectivity,
        Rule::NotCarried(
            "a Windows certificate store reference: export the client certificate and its key as PEM files and set 'Client certificate file' and 'Client key file'",
        ),
    ),
    row(
        L,
        C,
        "Attribute Aliases",
        "",
        OurPage::Connectivity,
        Rule::NotCarried(
            "attribute aliases (RFC 4522 ';binary') are not configurable: attributes are typed from the server schema",
        ),
    ),
    row(
        L,
        C,
        "Include operational attributes",
        "Include operational attributes",
        OurPage::Connectivity,
        Rule::Checkbox,
    ),
    row(
        L,
        C,
        "Include extensible attributes",
        "",
        OurPage::Connectivity,
        Rule::NotCarried(
            "extensibleObject attributes are not offered: add the classes that define them as 'Auxiliary object classes'",
        ),
    ),
    row(
        L,
        C,
        "Allow manual anchor selection",
        "",
        OurPage::Connectivity,
        Rule::NotCarried("the anchor is always selectable: the 'Anchor' parameter (Global)"),
    ),
    // ---- Generic LDAP: Global ----
    row(
        L,
        G,
        "Change Log DN",
        "",
        OurPage::Global,
        Rule::Special(Special::LdapChangeLog),
    ),
    row(
        L,
        G,
        "Delta Import",
        "",
        OurPage::Global,
        Rule::Special(Special::LdapChangeLog),
    ),
    row(
        L,
        G,
        "Password Attribute",
        "Password attribute",
        OurPage::Global,
        Rule::Same,
    ),
    row(
        L,
        G,
        "Hash password before sending",
        "Hash password before sending",
        OurPage::Global,
        Rule::Checkbox,
    ),
    row(
        L,
        G,
        "Paged Results",
        "Use paged results",
        OurPage::Global,
        Rule::Checkbox,
    ),
    row(
        L,
        G,
        "Partition Names",
        "",
        OurPage::Global,
        Rule::NotCarried(
            "one application reads one set of containers: list every container to read in 'Base DNs'",
        ),
    ),
];

/// Labels compared without case, spaces and a trailing colon.
pub fn normalize(label: &str) -> String {
    label
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_end_matches(':')
        .to_lowercase()
}

/// The row for a field of `connector` on `page`, if the table has one.
pub fn lookup(
    connector: Connector,
    page: MsPage,
    profile: Option<RunProfile>,
    label: &str,
) -> Option<&'static NameMapping> {
    let wanted = normalize(label);
    NAME_TABLE.iter().find(|m| {
        m.connector == connector
            && m.page == page
            && (m.profile.is_none() || m.profile == profile)
            && normalize(m.microsoft) == wanted
    })
}

/// Attribute names Microsoft's hosts expose that ecma-host's connectors name otherwise.
/// Microsoft's DN pseudo-attribute `-dn-` is not one of them: the host serves it under that
/// name in the ECMA2Host extension (see [`is_dn_pseudo`]).
pub const ATTRIBUTE_NAMES: &[(Connector, &str, &str)] = &[
    // The query attribute Microsoft's LDAP connector offers for the DN: the LDAP connector's
    // DN attribute is `dn`.
    (Connector::GenericLdap, "_distinguishedName", "dn"),
];

/// Our name for an attribute Microsoft's export selected.
pub fn attribute_name(connector: Connector, name: &str) -> &str {
    ATTRIBUTE_NAMES
        .iter()
        .find(|(c, ms, _)| *c == connector && ms.eq_ignore_ascii_case(name))
        .map(|(_, _, ours)| *ours)
        .unwrap_or(name)
}

/// Whether `name` is Microsoft's DN pseudo-attribute, which ecma-host serves as Microsoft's
/// host does (`-dn-` in the ECMA2Host extension, for connectors with LDAP-style DNs: a create
/// names the DN with it, a change renames, reads return it): Entra's mappings to it stay.
pub fn is_dn_pseudo(name: &str) -> bool {
    name.eq_ignore_ascii_case(crate::mapping::DN_ATTRIBUTE)
}

/// The connector attribute that stands for `-dn-` where the DN is the anchor or a matching
/// attribute (whose values are the DN): the LDAP connector's `dn`.
pub fn dn_pseudo_attribute(connector: Connector) -> Option<&'static str> {
    match connector {
        Connector::GenericLdap => Some("dn"),
        Connector::GenericSql => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_without_case_spaces_or_colon() {
        let m = lookup(
            Connector::GenericSql,
            MsPage::Connectivity,
            None,
            "dsn  file",
        )
        .unwrap();
        assert_eq!(m.ours, "Connection string");
        let m = lookup(
            Connector::GenericSql,
            MsPage::Schema,
            None,
            "Select Anchor for:",
        )
        .unwrap();
        assert_eq!(m.ours, "Anchor columns");
        let m = lookup(
            Connector::GenericSql,
            MsPage::RunStep,
            Some(RunProfile::Export),
            "Operation Method",
        )
        .unwrap();
        assert_eq!(m.ours, "Export method");
        assert!(lookup(Connector::GenericLdap, MsPage::Global, None, "Nope").is_none());
    }

    #[test]
    fn each_label_has_one_row_per_page_and_profile() {
        for (i, a) in NAME_TABLE.iter().enumerate() {
            for b in &NAME_TABLE[i + 1..] {
                assert!(
                    !(a.connector == b.connector
                        && a.page == b.page
                        && a.profile == b.profile
                        && normalize(a.microsoft) == normalize(b.microsoft)),
                    "two rows for {}",
                    a.microsoft
                );
            }
        }
    }
}
