//! Schema discovery: RFC 4512 object class and attribute type descriptions from the
//! subschema entry, turned into ECMA object types.

use std::collections::HashMap;

use ldap3::{LdapConn, Scope, SearchEntry};
use plugin_api::prelude::*;

use crate::conn::{LResult, LdapFailure};
use crate::entry::attr_values;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    Structural,
    Auxiliary,
    Abstract,
}

#[derive(Debug, Clone)]
pub struct ObjectClassDef {
    pub names: Vec<String>,
    pub sup: Vec<String>,
    pub kind: ClassKind,
    pub must: Vec<String>,
    pub may: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AttributeDef {
    pub names: Vec<String>,
    pub sup: Option<String>,
    pub syntax: Option<String>,
    pub single_value: bool,
    pub no_user_modification: bool,
    pub operational: bool,
}

/// The parsed subschema, indexed by lower-cased name.
#[derive(Debug, Default, Clone)]
pub struct DirectorySchema {
    pub classes: HashMap<String, ObjectClassDef>,
    pub attributes: HashMap<String, AttributeDef>,
}

#[derive(Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Dollar,
    Quoted(String),
    Word(String),
}

fn tokenize(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '(' => {
                chars.next();
                out.push(Token::Open)
            }
            ')' => {
                chars.next();
                out.push(Token::Close)
            }
            '$' => {
                chars.next();
                out.push(Token::Dollar)
            }
            '\'' => {
                chars.next();
                let mut v = String::new();
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    v.push(c);
                }
                out.push(Token::Quoted(v))
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            _ => {
                let mut v = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '\'' || c == '$' {
                        break;
                    }
                    v.push(c);
                    chars.next();
                }
                out.push(Token::Word(v))
            }
        }
    }
    out
}

const FLAGS: &[&str] = &[
    "SINGLE-VALUE",
    "NO-USER-MODIFICATION",
    "OBSOLETE",
    "COLLECTIVE",
    "STRUCTURAL",
    "AUXILIARY",
    "ABSTRACT",
];

/// Parses `( OID KEY value KEY ( a $ b ) FLAG ... )` into keyword → values.
fn parse_description(s: &str) -> Option<HashMap<String, Vec<String>>> {
    let tokens = tokenize(s);
    let mut it = tokens.into_iter().peekable();
    if it.next()? != Token::Open {
        return None;
    }
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    match it.next()? {
        Token::Word(oid) | Token::Quoted(oid) => {
            map.insert("OID".into(), vec![oid]);
        }
        _ => return None,
    }
    while let Some(t) = it.next() {
        let key = match t {
            Token::Word(w) => w.to_ascii_uppercase(),
            Token::Close => break,
            _ => continue,
        };
        if FLAGS.contains(&key.as_str()) {
            map.entry(key).or_default();
            continue;
        }
        let mut values = Vec::new();
        match it.peek() {
            Some(Token::Open) => {
                it.next();
                for t in it.by_ref() {
                    match t {
                        Token::Close => break,
                        Token::Word(w) | Token::Quoted(w) => values.push(w),
                        _ => {}
                    }
                }
            }
            Some(Token::Word(_)) | Some(Token::Quoted(_)) => {
                if let Some(Token::Word(w) | Token::Quoted(w)) = it.next() {
                    values.push(w);
                }
            }
            _ => {}
        }
        map.entry(key).or_default().extend(values);
    }
    Some(map)
}

impl DirectorySchema {
    pub fn parse(object_classes: &[String], attribute_types: &[String]) -> Self {
        let mut schema = DirectorySchema::default();
        for d in attribute_types {
            let Some(m) = parse_description(d) else {
                continue;
            };
            let get = |k: &str| m.get(k).cloned().unwrap_or_default();
            let names = get("NAME");
            if names.is_empty() {
                continue;
            }
            let def = AttributeDef {
                sup: get("SUP").into_iter().next(),
                // Lengths such as `{256}` are not part of the syntax OID.
                syntax: get("SYNTAX")
                    .into_iter()
                    .next()
                    .map(|s| s.split('{').next().unwrap_or("").to_owned()),
                single_value: m.contains_key("SINGLE-VALUE"),
                no_user_modification: m.contains_key("NO-USER-MODIFICATION"),
                operational: get("USAGE")
                    .first()
                    .is_some_and(|u| !u.eq_ignore_ascii_case("userApplications")),
                names: names.clone(),
            };
            for n in names {
                schema.attributes.insert(n.to_lowercase(), def.clone());
            }
        }
        for d in object_classes {
            let Some(m) = parse_description(d) else {
                continue;
            };
            let get = |k: &str| m.get(k).cloned().unwrap_or_default();
            let names = get("NAME");
            if names.is_empty() {
                continue;
            }
            let kind = if m.contains_key("AUXILIARY") {
                ClassKind::Auxiliary
            } else if m.contains_key("ABSTRACT") {
                ClassKind::Abstract
            } else {
                // RFC 4512: STRUCTURAL is the default kind.
                ClassKind::Structural
            };
            let def = ObjectClassDef {
                names: names.clone(),
                sup: get("SUP"),
                kind,
                must: get("MUST"),
                may: get("MAY"),
            };
            for n in names {
                schema.classes.insert(n.to_lowercase(), def.clone());
            }
        }
        schema
    }

    /// Reads and parses the subschema entry named in the Root DSE.
    pub fn read(conn: &mut LdapConn, subschema_dn: &str, url: &str) -> LResult<Self> {
        let r = conn
            .search(
                subschema_dn,
                Scope::Base,
                "(objectClass=subschema)",
                vec!["objectClasses", "attributeTypes"],
            )
            .map_err(|e| LdapFailure::from_ldap("read subschema", url, e))?;
        let (entries, _) = r
            .success()
            .map_err(|e| LdapFailure::from_ldap("read subschema", url, e))?;
        let entry = entries
            .into_iter()
            .next()
            .map(SearchEntry::construct)
            .ok_or_else(|| {
                LdapFailure::Protocol(format!("no subschema entry at {subschema_dn}"))
            })?;
        Ok(Self::parse(
            &attr_values(&entry, "objectClasses"),
            &attr_values(&entry, "attributeTypes"),
        ))
    }

    pub fn class(&self, name: &str) -> Option<&ObjectClassDef> {
        self.classes.get(&name.to_lowercase())
    }
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes.get(&name.to_lowercase())
    }

    /// The syntax OID, following SUP chains.
    pub fn syntax_of(&self, name: &str) -> Option<String> {
        let mut cur = self.attribute(name)?;
        for _ in 0..16 {
            if let Some(s) = &cur.syntax {
                return Some(s.clone());
            }
            cur = self.attribute(cur.sup.as_deref()?)?;
        }
        None
    }

    /// MUST and MAY attributes of a class and all its superclasses (primary names).
    pub fn class_attributes(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut stack = vec![name.to_owned()];
        let mut seen = Vec::new();
        while let Some(c) = stack.pop() {
            let lc = c.to_lowercase();
            if seen.contains(&lc) {
                continue;
            }
            seen.push(lc);
            let Some(def) = self.class(&c) else {
                continue;
            };
            for a in def.must.iter().chain(&def.may) {
                let primary = self
                    .attribute(a)
                    .and_then(|d| d.names.first().cloned())
                    .unwrap_or_else(|| a.clone());
                if !out.iter().any(|o| o.eq_ignore_ascii_case(&primary)) {
                    out.push(primary);
                }
            }
            stack.extend(def.sup.iter().cloned());
        }
        out
    }

    /// Primary names of the structural classes.
    pub fn structural_classes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .classes
            .values()
            .filter(|c| c.kind == ClassKind::Structural)
            .filter_map(|c| c.names.first().cloned())
            .collect();
        v.sort_by_key(|n| n.to_lowercase());
        v.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        v
    }

    /// All operational attribute primary names.
    pub fn operational_attributes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .attributes
            .values()
            .filter(|a| a.operational)
            .filter_map(|a| a.names.first().cloned())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// LDAP syntax OID → ECMA data type.
pub fn data_type_for_syntax(oid: Option<&str>) -> DataType {
    match oid.unwrap_or("") {
        // DN, Name and Optional UID (uniqueMember)
        "1.3.6.1.4.1.1466.115.121.1.12" | "1.3.6.1.4.1.1466.115.121.1.34" => DataType::Reference,
        "1.3.6.1.4.1.1466.115.121.1.27" => DataType::Integer,
        "1.3.6.1.4.1.1466.115.121.1.7" => DataType::Boolean,
        // Binary, Octet String, JPEG, Certificate, Certificate List, Certificate Pair,
        // Supported Algorithm, Fax, Audio
        "1.3.6.1.4.1.1466.115.121.1.5"
        | "1.3.6.1.4.1.1466.115.121.1.40"
        | "1.3.6.1.4.1.1466.115.121.1.28"
        | "1.3.6.1.4.1.1466.115.121.1.8"
        | "1.3.6.1.4.1.1466.115.121.1.9"
        | "1.3.6.1.4.1.1466.115.121.1.10"
        | "1.3.6.1.4.1.1466.115.121.1.49"
        | "1.3.6.1.4.1.1466.115.121.1.23"
        | "1.3.6.1.4.1.1466.115.121.1.4" => DataType::Binary,
        // AD: Object(DN-Binary)/GUID-ish octet strings are .40 above; everything else is text.
        _ => DataType::String,
    }
}

/// Attributes that hold bytes whatever syntax a server publishes for them (AD and AD LDS
/// describe some with syntaxes of their own, other servers may not know them at all), so a
/// GUID or SID is never read as lossy text.
const WELL_KNOWN_BINARY: &[&str] = &[
    "objectGUID",
    "objectSid",
    "sIDHistory",
    "mS-DS-ConsistencyGuid",
    "msExchMailboxGuid",
    "jpegPhoto",
    "thumbnailPhoto",
    "userCertificate",
];

impl DirectorySchema {
    /// The ECMA data type of attribute `name`: its syntax's, except that well-known binary
    /// attributes are always binary.
    pub fn data_type_of(&self, name: &str) -> DataType {
        if WELL_KNOWN_BINARY
            .iter()
            .any(|b| b.eq_ignore_ascii_case(name))
        {
            return DataType::Binary;
        }
        data_type_for_syntax(self.syntax_of(name).as_deref())
    }

    /// Whether the server, not the client, gives attribute `name` its values (an anchor such
    /// as `entryUUID`): operational or NO-USER-MODIFICATION, or not in the schema at all.
    pub fn is_server_assigned(&self, name: &str) -> bool {
        self.attribute(name)
            .is_none_or(|d| d.no_user_modification || d.operational)
    }
}

/// What the connector needs to build ECMA types.
pub struct SchemaOptions<'a> {
    pub object_types: &'a [String],
    pub aux_classes: &'a HashMap<String, Vec<String>>,
    /// Anchor attribute, None for DN-as-anchor.
    pub anchor: Option<&'a str>,
    pub operational: bool,
    pub password_attr: &'a str,
}

pub const DN_ANCHOR: &str = "dn";

/// Builds the ECMA schema: one type per structural class (or per configured type).
pub fn build(dir: &DirectorySchema, opts: &SchemaOptions<'_>) -> ConnectorResult<Schema> {
    let names: Vec<String> = if opts.object_types.is_empty() {
        dir.structural_classes()
    } else {
        let mut v = Vec::new();
        for t in opts.object_types {
            let def = dir.class(t).ok_or_else(|| {
                ConnectorError::config(format!("object class '{t}' is not in the server schema"))
            })?;
            v.push(def.names.first().cloned().unwrap_or_else(|| t.clone()));
        }
        v
    };
    let mut types = Vec::new();
    for name in names {
        let mut attr_names = dir.class_attributes(&name);
        if let Some(aux) = opts.aux_classes.get(&name.to_lowercase()) {
            for a in aux {
                for n in dir.class_attributes(a) {
                    if !attr_names.iter().any(|x| x.eq_ignore_ascii_case(&n)) {
                        attr_names.push(n);
                    }
                }
            }
        }
        if opts.operational {
            for n in dir.operational_attributes() {
                if !attr_names.iter().any(|x| x.eq_ignore_ascii_case(&n)) {
                    attr_names.push(n);
                }
            }
        }
        let mut attributes = Vec::new();
        let anchor_name = opts.anchor.unwrap_or(DN_ANCHOR);
        match opts.anchor {
            Some(a) => {
                let dt = match dir.data_type_of(a) {
                    DataType::Binary => DataType::Binary,
                    _ => DataType::String,
                };
                // An anchor the client chooses (an ordinary user attribute) is written by the
                // Add that creates the object; one the server assigns is only read.
                let operation = if dir.is_server_assigned(a) {
                    AttributeOperation::ImportOnly
                } else {
                    AttributeOperation::ImportExport
                };
                attributes.push(SchemaAttribute::anchor(a, dt).with_operation(operation));
            }
            None => attributes.push(SchemaAttribute::anchor(DN_ANCHOR, DataType::String)),
        }
        for n in attr_names {
            if n.eq_ignore_ascii_case(anchor_name) {
                continue;
            }
            let def = dir.attribute(&n);
            let dt = dir.data_type_of(&n);
            let single = def.is_some_and(|d| d.single_value);
            let mut a = if single {
                SchemaAttribute::single(&n, dt)
            } else {
                SchemaAttribute::multi(&n, dt)
            };
            if n.eq_ignore_ascii_case(opts.password_attr) {
                // Passwords go through SetPassword; hashes are never imported.
                a = a.with_operation(AttributeOperation::ExportOnly);
                a.hidden_by_default = true;
            } else if def.is_some_and(|d| d.no_user_modification || d.operational) {
                a = a.with_operation(AttributeOperation::ImportOnly);
            }
            attributes.push(a);
        }
        types.push(SchemaType {
            name: name.clone(),
            locked: false,
            attributes,
            anchor_attributes: vec![anchor_name.to_owned()],
            possible_dn_components: dir.class(&name).map(|c| c.must.clone()).unwrap_or_default(),
        });
    }
    Ok(Schema { types })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc4512_descriptions() {
        let oc = vec![
            "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )".to_owned(),
            "( 2.5.6.6 NAME 'person' DESC 'RFC2256: a person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ telephoneNumber ) )".to_owned(),
            "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP person STRUCTURAL MAY ( mail $ uid $ jpegPhoto ) )".to_owned(),
            "( 1.3.6.1.1.1.2.0 NAME 'posixAccount' SUP top AUXILIARY MUST ( uidNumber ) )".to_owned(),
        ];
        let at = vec![
            "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )".to_owned(),
            "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'common name' SUP name )".to_owned(),
            "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )".to_owned(),
            "( 2.5.4.35 NAME 'userPassword' SYNTAX 1.3.6.1.4.1.1466.115.121.1.40{128} )".to_owned(),
            "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )".to_owned(),
            "( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )".to_owned(),
            "( 1.3.6.1.1.16.4 NAME 'entryUUID' DESC 'UUID of the entry' EQUALITY UUIDMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )".to_owned(),
            "( 0.9.2342.19200300.100.1.60 NAME 'jpegPhoto' SYNTAX 1.3.6.1.4.1.1466.115.121.1.28 )".to_owned(),
        ];
        let s = DirectorySchema::parse(&oc, &at);
        assert_eq!(
            s.class("inetorgperson").unwrap().kind,
            ClassKind::Structural
        );
        assert_eq!(s.class("posixAccount").unwrap().kind, ClassKind::Auxiliary);
        assert_eq!(
            s.syntax_of("commonName").unwrap(),
            "1.3.6.1.4.1.1466.115.121.1.15"
        );
        assert!(s.attribute("entryUUID").unwrap().operational);
        assert_eq!(s.structural_classes(), ["inetOrgPerson", "person"]);

        let aux: HashMap<_, _> = [("inetorgperson".to_owned(), vec!["posixAccount".to_owned()])]
            .into_iter()
            .collect();
        let schema = build(
            &s,
            &SchemaOptions {
                object_types: &["inetOrgPerson".to_owned()],
                aux_classes: &aux,
                anchor: Some("entryUUID"),
                operational: false,
                password_attr: "userPassword",
            },
        )
        .unwrap();
        let t = &schema.types[0];
        assert_eq!(t.anchor_attributes, ["entryUUID"]);
        let uid_number = t.attribute("uidNumber").unwrap();
        assert_eq!(uid_number.data_type, DataType::Integer);
        assert!(!uid_number.multi_valued);
        assert!(t.attribute("cn").unwrap().multi_valued);
        assert_eq!(
            t.attribute("jpegPhoto").unwrap().data_type,
            DataType::Binary
        );
        assert_eq!(
            t.attribute("userPassword").unwrap().operation,
            AttributeOperation::ExportOnly
        );
        assert_eq!(
            t.attribute("entryUUID").unwrap().operation,
            AttributeOperation::ImportOnly
        );
        assert!(t.attribute("objectClass").is_some());
    }

    #[test]
    fn octet_strings_and_well_known_binary_attributes_are_binary() {
        let oc = vec![
            "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) )".to_owned(),
            "( 1.3.6.1.4.1.4203.666.100.2 NAME 'ecmaBinaryObject' SUP top AUXILIARY MAY ecmaBinaryId )".to_owned(),
        ];
        let at = vec![
            "( 2.5.4.3 NAME 'cn' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )".to_owned(),
            "( 2.5.4.4 NAME 'sn' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )".to_owned(),
            "( 1.3.6.1.4.1.4203.666.100.1 NAME 'ecmaBinaryId' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )".to_owned(),
            // AD publishes objectSid with a syntax of its own.
            "( 1.2.840.113556.1.4.146 NAME 'objectSid' SYNTAX 1.2.840.113556.1.4.907 SINGLE-VALUE NO-USER-MODIFICATION )".to_owned(),
        ];
        let s = DirectorySchema::parse(&oc, &at);
        assert_eq!(s.data_type_of("ecmaBinaryId"), DataType::Binary);
        assert_eq!(s.data_type_of("objectSid"), DataType::Binary);
        // Not in this server's schema at all, still bytes.
        assert_eq!(s.data_type_of("objectGUID"), DataType::Binary);
        assert_eq!(s.data_type_of("cn"), DataType::String);
        assert!(!s.is_server_assigned("ecmaBinaryId"));
        assert!(s.is_server_assigned("objectSid"));
        assert!(s.is_server_assigned("objectGUID"));

        let aux: HashMap<_, _> = [("person".to_owned(), vec!["ecmaBinaryObject".to_owned()])]
            .into_iter()
            .collect();
        let build_with = |anchor: &str| {
            build(
                &s,
                &SchemaOptions {
                    object_types: &["person".to_owned()],
                    aux_classes: &aux,
                    anchor: Some(anchor),
                    operational: false,
                    password_attr: "userPassword",
                },
            )
            .unwrap()
            .types
            .remove(0)
        };
        // A client-chosen binary anchor: bytes, written by the Add.
        let t = build_with("ecmaBinaryId");
        let a = t.attribute("ecmaBinaryId").unwrap();
        assert!(a.is_anchor);
        assert_eq!(a.data_type, DataType::Binary);
        assert_eq!(a.operation, AttributeOperation::ImportExport);
        // A server-assigned one: bytes, only read.
        let t = build_with("objectGUID");
        let a = t.attribute("objectGUID").unwrap();
        assert_eq!(a.data_type, DataType::Binary);
        assert_eq!(a.operation, AttributeOperation::ImportOnly);
    }
}
