//! Filter parser, evaluator and planner: RFC 7644 §3.4.2.2 examples and Entra's lookups.

use ecma_scim::*;
use serde_json::{Value, json};

fn user_rt() -> ResourceTypeDef {
    let ext = ecma2host_extension(
        ECMA2HOST_USER_URN,
        &[
            ExtensionAttribute {
                name: "ContosoLogin".into(),
                attr_type: AttrType::String,
                multi_valued: false,
                required: false,
                case_exact: false,
            },
            ExtensionAttribute {
                name: "EmployeeId".into(),
                attr_type: AttrType::Integer,
                multi_valued: false,
                required: false,
                case_exact: false,
            },
            ExtensionAttribute {
                name: "Badge".into(),
                attr_type: AttrType::String,
                multi_valued: false,
                required: false,
                case_exact: true,
            },
        ],
    );
    user_resource_type(core_user_schema(), vec![enterprise_user_schema(), ext])
}

fn bjensen() -> Value {
    json!({
        "schemas": [CORE_USER_URN, ENTERPRISE_USER_URN, ECMA2HOST_USER_URN],
        "id": "2819c223",
        "userName": "bjensen",
        "name": {"familyName": "O'Malley", "givenName": "Barbara"},
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "babs@foo.com", "type": "xmpp"}],
        "meta": {"lastModified": "2011-05-13T04:42:34Z", "created": "2010-01-23T04:56:22Z"},
        ENTERPRISE_USER_URN: {"employeeNumber": "701984", "manager": {"value": "26118915"}},
        ECMA2HOST_USER_URN: {"ContosoLogin": "adele@contoso.com", "EmployeeId": 42, "Badge": "AbC"}
    })
}

/// (filter, does it match bjensen?)
const CASES: &[(&str, bool)] = &[
    // RFC 7644 §3.4.2.2 examples
    (r#"userName eq "bjensen""#, true),
    (r#"name.familyName co "O'Malley""#, true),
    (r#"userName sw "J""#, false),
    (r#"userName sw "bJ""#, true),
    (
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        false,
    ),
    ("title pr", true),
    (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false),
    (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true),
    (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false),
    (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true),
    (r#"meta.lastModified gt "2011-05-13T05:42:34+02:00""#, true),
    (r#"title pr and userType eq "Employee""#, true),
    (r#"title pr or userType eq "Intern""#, true),
    (
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        true,
    ),
    (
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        true,
    ),
    (
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        false,
    ),
    (
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        true,
    ),
    (
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        true,
    ),
    (
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        true,
    ),
    // case-insensitive operators, keywords and attribute names; caseExact=false values
    (r#"UserName EQ "BJensen""#, true),
    (r#"USERNAME eq "bjensen" AND Title PR"#, true),
    (r#"emails[TYPE eq "WORK"]"#, true),
    (r#"emails[type eq "home" and primary eq true]"#, false),
    (r#"emails[type eq "work" and primary eq true]"#, true),
    // Entra lookups: short and URN-qualified extension names
    (r#"ContosoLogin eq "adele@contoso.com""#, true),
    (r#"contosologin eq "ADELE@contoso.com""#, true),
    (
        r#"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:ContosoLogin eq "adele@contoso.com""#,
        true,
    ),
    (
        r#"PLACEHOLDER eq "8646d011-1693-4cd3-9ee6-0d7482ca2219""#,
        false,
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
        true,
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
        true,
    ),
    // caseExact honoured
    (r#"Badge eq "AbC""#, true),
    (r#"Badge eq "abc""#, false),
    (r#"id eq "2819C223""#, false),
    // typed comparison
    ("EmployeeId gt 41", true),
    ("EmployeeId lt 41.5", false),
    ("EmployeeId eq 42", true),
    ("active eq true", true),
    ("active eq false", false),
    ("active ne false", true),
    ("nickName eq null", true),
    ("userName eq null", false),
    (r#"not (userName eq "x") and not (title eq "y")"#, true),
    (
        r#"userName eq "x" or userName eq "y" or userName eq "bjensen""#,
        true,
    ),
    (
        r#"userName eq "bjensen" and (userName eq "y" or title sw "tour")"#,
        true,
    ),
    (r#"userName ew "SEN""#, true),
    (r#"displayName pr"#, false),
];

#[test]
fn rfc_and_entra_filters_parse_roundtrip_and_evaluate() {
    let rt = user_rt();
    let res = bjensen();
    for (src, expected) in CASES {
        let f = parse_filter(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let printed = f.to_string();
        let back = parse_filter(&printed).unwrap_or_else(|e| panic!("reparse {printed}: {e}"));
        assert_eq!(f, back, "{src} printed as {printed}");
        assert_eq!(matches(&f, &res, &rt), *expected, "{src}");
    }
}

#[test]
fn precedence_and_binds_tighter_than_or() {
    let f = parse_filter(r#"a eq "1" or b eq "2" and c eq "3""#).unwrap();
    let Filter::Or(_, right) = &f else {
        panic!("expected or at the root: {f:?}")
    };
    assert!(matches!(**right, Filter::And(..)));
    let g = parse_filter(r#"(a eq "1" or b eq "2") and c eq "3""#).unwrap();
    assert!(matches!(g, Filter::And(..)));
    assert_eq!(g.to_string(), r#"(a eq "1" or b eq "2") and c eq "3""#);
}

#[test]
fn ast_shape_of_value_path_and_urn() {
    let f = parse_filter(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "B""#)
        .unwrap();
    assert_eq!(
        f,
        Filter::Compare {
            path: AttrPath {
                urn: Some(CORE_USER_URN.into()),
                attr: "name".into(),
                sub_attr: Some("givenName".into())
            },
            op: CompareOp::Eq,
            value: CompValue::String("B".into()),
        }
    );
    let g = parse_filter(r#"members[value eq "abc"]"#).unwrap();
    assert_eq!(
        g,
        Filter::ValuePath {
            path: AttrPath::simple("members"),
            filter: Box::new(Filter::Compare {
                path: AttrPath::simple("value"),
                op: CompareOp::Eq,
                value: CompValue::String("abc".into())
            })
        }
    );
}

#[test]
fn string_escapes_are_decoded() {
    let f = parse_filter(r#"displayName eq "a \"quoted\" \\ \u00e9""#).unwrap();
    let Filter::Compare {
        value: CompValue::String(s),
        ..
    } = &f
    else {
        panic!()
    };
    assert_eq!(s, "a \"quoted\" \\ é");
    assert_eq!(parse_filter(&f.to_string()).unwrap(), f);
}

/// (filter, 1-based position the error must point at)
const BAD: &[(&str, usize)] = &[
    ("", 1),
    ("userName", 9),
    ("userName eq", 12),
    (r#"userName xx "a""#, 10),
    (r#"userName eq "unterminated"#, 13),
    (r#"userName eq "a" and"#, 20),
    (r#"userName eq "a" foo"#, 17),
    (r#"(userName eq "a""#, 17),
    (r#"emails[type eq "work""#, 22),
    (r#"emails[type eq "work"] extra"#, 24),
    (r#"userName eq bjensen"#, 13),
    (r#"emails[type[value eq "x"]]"#, 12),
];

#[test]
fn errors_are_invalid_filter_with_position() {
    for (src, pos) in BAD {
        let e = parse_filter(src).expect_err(src);
        assert_eq!(e.status, 400, "{src}");
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{src}");
        assert!(
            e.detail.contains(&format!("position {pos} ")),
            "{src}: {}",
            e.detail
        );
        assert_eq!(e.to_json()["scimType"], "invalidFilter");
        assert_eq!(e.to_json()["status"], "400");
    }
}

#[test]
fn limits_on_length_and_depth() {
    let deep = format!("{}userName pr{}", "(".repeat(100), ")".repeat(100));
    let e = parse_filter(&deep).unwrap_err();
    assert!(e.detail.contains("nested too deeply"), "{}", e.detail);
    let ok = format!("{}userName pr{}", "(".repeat(10), ")".repeat(10));
    assert!(parse_filter(&ok).is_ok());
    let long = format!(r#"userName eq "{}""#, "x".repeat(5000));
    let e = parse_filter(&long).unwrap_err();
    assert!(e.detail.contains("limit"), "{}", e.detail);
    let lim = FilterLimits {
        max_len: 10_000,
        max_depth: 200,
    };
    assert!(parse_filter_with(&deep, lim).is_ok());
    assert!(parse_filter_with(&long, lim).is_ok());
}

fn indexed(a: &ResolvedAttr) -> bool {
    matches!(
        a.attr.as_str(),
        "userName" | "externalId" | "ContosoLogin" | "id" | "members" | "displayName"
    ) && (a.sub_attr.is_none() || a.sub_attr.as_deref() == Some("value"))
}

#[test]
fn planner_recognises_entra_lookups() {
    let rt = user_rt();
    let p = index_plan(
        &parse_filter(r#"contosologin eq "Adele@Contoso.com""#).unwrap(),
        &rt,
        indexed,
    )
    .unwrap();
    let IndexPlan::Eq { attr, value } = &p else {
        panic!("{p:?}")
    };
    assert_eq!(
        (attr.urn.as_str(), attr.attr.as_str()),
        (ECMA2HOST_USER_URN, "ContosoLogin")
    );
    assert_eq!(
        value, "adele@contoso.com",
        "case-insensitive attributes are keyed lower-case"
    );

    let q = format!(r#"{ECMA2HOST_USER_URN}:ContosoLogin eq "x""#);
    assert_eq!(
        index_plan(&parse_filter(&q).unwrap(), &rt, indexed),
        Some(p.clone()).map(|_| {
            IndexPlan::Eq {
                attr: rt.resolve(&AttrPath::simple("ContosoLogin")).unwrap(),
                value: "x".into(),
            }
        })
    );

    // and: narrow with the indexable child only
    let f = parse_filter(r#"userName eq "a" and title pr"#).unwrap();
    assert!(matches!(
        index_plan(&f, &rt, indexed),
        Some(IndexPlan::Eq { .. })
    ));
    // and chains flatten
    let f =
        parse_filter(r#"userName eq "a" and externalId eq "b" and ContosoLogin eq "c""#).unwrap();
    let Some(IndexPlan::And(v)) = index_plan(&f, &rt, indexed) else {
        panic!()
    };
    assert_eq!(v.len(), 3);
    // or: all children must be indexable
    let f = parse_filter(r#"userName eq "a" or externalId eq "b""#).unwrap();
    assert!(matches!(index_plan(&f, &rt, indexed), Some(IndexPlan::Or(v)) if v.len() == 2));
    let f = parse_filter(r#"userName eq "a" or title eq "b""#).unwrap();
    assert_eq!(index_plan(&f, &rt, indexed), None);
    // not / non-eq / unknown attributes are not indexable
    for s in [
        r#"not (userName eq "a")"#,
        r#"userName sw "a""#,
        r#"PLACEHOLDER eq "x""#,
        "userName pr",
    ] {
        assert_eq!(
            index_plan(&parse_filter(s).unwrap(), &rt, indexed),
            None,
            "{s}"
        );
    }
    // id is case-exact: key kept as is
    let Some(IndexPlan::Eq { value, .. }) =
        index_plan(&parse_filter(r#"id eq "AbC""#).unwrap(), &rt, indexed)
    else {
        panic!()
    };
    assert_eq!(value, "AbC");
}

#[test]
fn planner_uses_value_path_for_group_members() {
    let rt = group_resource_type(core_group_schema(), vec![]);
    let f = parse_filter(r#"displayName eq "Sales" and members[value eq "u1"]"#).unwrap();
    let Some(IndexPlan::And(v)) = index_plan(&f, &rt, indexed) else {
        panic!()
    };
    assert!(v.iter().any(
        |p| matches!(p, IndexPlan::Eq { attr, value } if attr.attr == "members"
        && attr.sub_attr.as_deref() == Some("value") && value == "u1")
    ));
    let g =
        json!({"id": "g", "displayName": "sales", "members": [{"value": "u1"}, {"value": "u2"}]});
    assert!(matches(&f, &g, &rt));
    assert!(
        !matches(&parse_filter(r#"members[value eq "U1"]"#).unwrap(), &g, &rt),
        "member ids are caseExact"
    );
}
