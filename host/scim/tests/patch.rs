//! PATCH (RFC 7644 §3.5.2) and diff: every PATCH of requests.md, RFC examples, and the change sets.

use ecma_scim::*;
use serde_json::{Value, json};

fn ext_attr(name: &str, t: AttrType) -> ExtensionAttribute {
    ExtensionAttribute {
        name: name.into(),
        attr_type: t,
        multi_valued: false,
        required: false,
        case_exact: false,
    }
}

fn user_rt() -> ResourceTypeDef {
    let ext = ecma2host_extension(
        ECMA2HOST_USER_URN,
        &[
            ext_attr("ContosoLogin", AttrType::String),
            ext_attr("FirstName", AttrType::String),
            ext_attr("LastName", AttrType::String),
            ext_attr("Email", AttrType::String),
            ext_attr("textID", AttrType::String),
            ext_attr("AzureID", AttrType::String),
            ext_attr("IsSoftDeleted", AttrType::Boolean),
        ],
    );
    user_resource_type(core_user_schema(), vec![enterprise_user_schema(), ext])
}

fn adele() -> Value {
    json!({
        "schemas": [CORE_USER_URN, ECMA2HOST_USER_URN],
        "id": "adele@contoso.com",
        "userName": "adele",
        "active": true,
        "emails": [{"type": "home", "value": "adele@home.example"}],
        ECMA2HOST_USER_URN: {"ContosoLogin": "adele@contoso.com", "FirstName": "Adele", "LastName": "Vance",
            "AzureID": "1f0c", "textID": "adele", "Email": "adele@contoso.com"}
    })
}

fn run(resource: &Value, body: Value, rt: &ResourceTypeDef) -> Result<PatchOutcome, ScimError> {
    apply_patch(resource, &parse_patch(&body)?, rt)
}

fn ops(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP_URN], "Operations": ops})
}

fn change<'a>(o: &'a PatchOutcome, attr: &str, sub: Option<&str>) -> Option<&'a ChangeKind> {
    o.changes
        .iter()
        .find(|c| c.attr.attr == attr && c.attr.sub_attr.as_deref() == sub)
        .map(|c| &c.kind)
}

#[test]
fn entra_update_replace_add_remove_extension_attributes() {
    let rt = user_rt();
    let o = run(
        &adele(),
        ops(json!([
          {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:LastName","value":"Vance-Smith"},
          {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:Email","value":"adele.v@contoso.com"},
          {"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:textID"}])),
        &rt,
    )
    .unwrap();
    let ext = &o.resource[ECMA2HOST_USER_URN];
    assert_eq!(ext["LastName"], "Vance-Smith");
    assert_eq!(ext["Email"], "adele.v@contoso.com");
    assert!(ext.get("textID").is_none());
    assert_eq!(o.changes.len(), 3, "{:?}", o.changes);
    assert_eq!(
        change(&o, "LastName", None),
        Some(&ChangeKind::Set(json!("Vance-Smith")))
    );
    assert_eq!(
        change(&o, "Email", None),
        Some(&ChangeKind::Set(json!("adele.v@contoso.com")))
    );
    assert_eq!(change(&o, "textID", None), Some(&ChangeKind::Clear));
    assert_eq!(o.changes[0].attr.urn, ECMA2HOST_USER_URN);
}

#[test]
fn disable_with_string_boolean_and_capitalised_op() {
    let rt = user_rt();
    for v in [
        json!("False"),
        json!(false),
        json!("false"),
        json!(["False"]),
    ] {
        let o = run(
            &adele(),
            ops(json!([{"op":"Replace","path":"active","value": v}])),
            &rt,
        )
        .unwrap();
        assert_eq!(o.resource["active"], json!(false));
        assert_eq!(
            o.changes,
            vec![AttributeChange {
                attr: rt.resolve(&AttrPath::simple("active")).unwrap(),
                kind: ChangeKind::Set(json!(false))
            }]
        );
    }
    let o = run(
        &adele(),
        ops(json!([{"op":"REPLACE","path":"IsSoftDeleted","value":"True"}])),
        &rt,
    )
    .unwrap();
    assert_eq!(o.resource[ECMA2HOST_USER_URN]["IsSoftDeleted"], json!(true));
    let e = run(
        &adele(),
        ops(json!([{"op":"Replace","path":"active","value":"maybe"}])),
        &rt,
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn core_paths_name_filtered_email_and_enterprise() {
    let rt = user_rt();
    let o = run(
        &adele(),
        ops(json!([
            {"op":"Add","path":"name.givenName","value":"Adele"},
            {"op":"Replace","path":"emails[type eq \"work\"].value","value":"adele@contoso.com"},
            {"op":"Replace","path":"emails[type eq \"home\"].value","value":"a@home.example"},
            {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"123"}])),
        &rt,
    )
    .unwrap();
    let r = &o.resource;
    assert_eq!(r["name"], json!({"givenName": "Adele"}));
    assert_eq!(
        r["emails"],
        json!([{"type":"home","value":"a@home.example"},{"type":"work","value":"adele@contoso.com"}]),
        "the work email did not exist: created from the filter"
    );
    assert_eq!(r[ENTERPRISE_USER_URN]["employeeNumber"], "123");
    assert!(
        r["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(ENTERPRISE_USER_URN))
    );
    assert_eq!(
        change(&o, "name", Some("givenName")),
        Some(&ChangeKind::Set(json!("Adele")))
    );
    assert_eq!(
        change(&o, "emails", None),
        Some(&ChangeKind::RemoveValues(vec![
            json!({"type":"home","value":"adele@home.example"})
        ]))
    );
    let adds: Vec<_> = o
        .changes
        .iter()
        .filter(|c| matches!(c.kind, ChangeKind::AddValues(_)))
        .collect();
    assert_eq!(adds.len(), 1);
    assert_eq!(
        change(&o, "employeeNumber", None),
        Some(&ChangeKind::Set(json!("123")))
    );
}

#[test]
fn manager_in_every_shape_entra_sends() {
    let rt = user_rt();
    let p = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
    for v in [
        json!([{"$ref": null, "value": "m1"}]),
        json!({"value": "m1"}),
        json!("m1"),
    ] {
        let o = run(
            &adele(),
            ops(json!([{"op":"Add","path": p,"value": v}])),
            &rt,
        )
        .unwrap();
        assert_eq!(
            o.resource[ENTERPRISE_USER_URN]["manager"],
            json!({"value": "m1"}),
            "{v}"
        );
        assert_eq!(
            change(&o, "manager", Some("value")),
            Some(&ChangeKind::Set(json!("m1")))
        );
        // clearing the manager with "" or null
        for clear in [json!(""), Value::Null] {
            let c = run(
                &o.resource,
                ops(json!([{"op":"Replace","path": p,"value": clear}])),
                &rt,
            )
            .unwrap();
            assert!(
                c.resource.get(ENTERPRISE_USER_URN).is_none(),
                "{}",
                c.resource
            );
            assert_eq!(change(&c, "manager", None), Some(&ChangeKind::Clear));
        }
    }
}

#[test]
fn pathless_replace_with_dotted_and_urn_keys() {
    let rt = user_rt();
    let o = run(
        &adele(),
        ops(json!([{"op":"replace","value":{
            "displayName":"X",
            "name.givenName":"Y",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Z",
            "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User": {"FirstName": "Ada"},
            "active": false}}])),
        &rt,
    )
    .unwrap();
    let r = &o.resource;
    assert_eq!(r["displayName"], "X");
    assert_eq!(r["name"]["givenName"], "Y");
    assert_eq!(r[ENTERPRISE_USER_URN]["department"], "Z");
    assert_eq!(r[ECMA2HOST_USER_URN]["FirstName"], "Ada");
    assert_eq!(
        r[ECMA2HOST_USER_URN]["LastName"], "Vance",
        "untouched attributes stay"
    );
    assert_eq!(o.changes.len(), 5, "{:?}", o.changes);
}

#[test]
fn empty_string_and_null_clear() {
    let rt = user_rt();
    let o = run(
        &adele(),
        ops(json!([{"op":"Replace","path":"FirstName","value":""},{"op":"Add","path":"LastName","value":null}])),
        &rt,
    )
    .unwrap();
    assert!(o.resource[ECMA2HOST_USER_URN].get("FirstName").is_none());
    assert!(o.resource[ECMA2HOST_USER_URN].get("LastName").is_none());
    assert_eq!(change(&o, "FirstName", None), Some(&ChangeKind::Clear));
}

fn group_rt() -> ResourceTypeDef {
    group_resource_type(core_group_schema(), vec![])
}

#[test]
fn group_members_add_remove_idempotent() {
    let rt = group_rt();
    let g = json!({"schemas":[CORE_GROUP_URN],"id":"g1","displayName":"Sales","members":[{"value":"u0"}]});
    let add = ops(json!([{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"}]}]));
    let o = run(&g, add.clone(), &rt).unwrap();
    assert_eq!(
        o.resource["members"],
        json!([{"value":"u0"},{"value":"u1"}])
    );
    assert_eq!(
        change(&o, "members", None),
        Some(&ChangeKind::AddValues(vec![json!({"value":"u1"})]))
    );
    // adding again: success, nothing changes
    let again = run(&o.resource, add, &rt).unwrap();
    assert_eq!(again.resource, o.resource);
    assert!(again.changes.is_empty());
    // remove by value array
    let rm = ops(json!([{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}]));
    let r = run(&o.resource, rm.clone(), &rt).unwrap();
    assert_eq!(r.resource["members"], json!([{"value":"u0"}]));
    assert_eq!(
        change(&r, "members", None),
        Some(&ChangeKind::RemoveValues(vec![json!({"value":"u1"})]))
    );
    // removing an absent member succeeds
    let r2 = run(&r.resource, rm, &rt).unwrap();
    assert!(r2.changes.is_empty());
    // flag style: remove with a filter
    let r3 = run(
        &o.resource,
        ops(json!([{"op":"remove","path":"members[value eq \"u0\"]"}])),
        &rt,
    )
    .unwrap();
    assert_eq!(r3.resource["members"], json!([{"value":"u1"}]));
    let r4 = run(
        &r3.resource,
        ops(json!([{"op":"remove","path":"members[value eq \"nobody\"]"}])),
        &rt,
    )
    .unwrap();
    assert!(r4.changes.is_empty());
    // removing the last member drops the attribute
    let r5 = run(
        &r3.resource,
        ops(json!([{"op":"remove","path":"members"}])),
        &rt,
    )
    .unwrap();
    assert!(r5.resource.get("members").is_none());
    assert_eq!(change(&r5, "members", None), Some(&ChangeKind::Clear));
}

#[test]
fn rfc7644_examples() {
    let rt = user_rt();
    let u = json!({"schemas":[CORE_USER_URN],"id":"1","userName":"b",
        "emails":[{"value":"a@x","type":"work","primary":true},{"value":"b@x","type":"home"}],
        "addresses":[{"type":"work","streetAddress":"1 Main"}]});
    // §3.5.2.1 add to a multi-valued attribute
    let o = run(&u, ops(json!([{"op":"add","path":"emails","value":[{"value":"c@x","type":"other","primary":true}]}])), &rt)
        .unwrap();
    assert_eq!(o.resource["emails"].as_array().unwrap().len(), 3);
    assert_eq!(
        o.resource["emails"][0]["primary"],
        json!(false),
        "only one primary"
    );
    // §3.5.2.2 remove with a filter
    let o = run(
        &u,
        ops(json!([{"op":"remove","path":"emails[type eq \"work\" and value ew \"@x\"]"}])),
        &rt,
    )
    .unwrap();
    assert_eq!(o.resource["emails"], json!([{"value":"b@x","type":"home"}]));
    // §3.5.2.2 remove a sub-attribute of matching values
    let o = run(
        &u,
        ops(json!([{"op":"remove","path":"addresses[type eq \"work\"].streetAddress"}])),
        &rt,
    )
    .unwrap();
    assert_eq!(o.resource["addresses"], json!([{"type":"work"}]));
    // §3.5.2.3 replace all values
    let o = run(
        &u,
        ops(json!([{"op":"replace","path":"emails","value":[{"value":"z@x"}]}])),
        &rt,
    )
    .unwrap();
    assert_eq!(o.resource["emails"], json!([{"value":"z@x"}]));
    // §3.5.2.3 replace a sub-attribute of one value
    let o = run(&u, ops(json!([{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"2 Main"}])), &rt)
        .unwrap();
    assert_eq!(
        o.resource["addresses"],
        json!([{"type":"work","streetAddress":"2 Main"}])
    );
    // URN-qualified core path
    let o = run(&u, ops(json!([{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:userName","value":"c"}])), &rt)
        .unwrap();
    assert_eq!(o.resource["userName"], "c");
}

#[test]
fn errors() {
    let rt = user_rt();
    let u = adele();
    let cases: &[(Value, ScimType)] = &[
        (
            json!([{"op":"replace","path":"id","value":"x"}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op":"add","path":"groups","value":[{"value":"g"}]}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op":"replace","path":"noSuchAttr","value":"x"}]),
            ScimType::InvalidPath,
        ),
        (
            json!([{"op":"replace","path":"emails[type eq ","value":"x"}]),
            ScimType::InvalidPath,
        ),
        (
            json!([{"op":"replace","path":"userName[type eq \"x\"]","value":"x"}]),
            ScimType::InvalidPath,
        ),
        (json!([{"op":"remove"}]), ScimType::NoTarget),
        (
            json!([{"op":"replace","path":"emails[type eq \"w\" or type eq \"h\"].value","value":"x"}]),
            ScimType::NoTarget,
        ),
        (
            json!([{"op":"replace","path":"active","value":"yes"}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op":"replace","path":"userName","value":["a","b"]}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op":"replace","value":"x"}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op":"frobnicate","path":"userName"}]),
            ScimType::InvalidSyntax,
        ),
    ];
    for (o, t) in cases {
        let e = run(&u, ops(o.clone()), &rt).expect_err(&o.to_string());
        assert_eq!((e.status, e.scim_type), (400, Some(*t)), "{o}: {e}");
    }
    let e = parse_patch(&json!({"schemas":["urn:wrong"],"Operations":[]})).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
}

#[test]
fn diff_for_put() {
    let rt = user_rt();
    let old = adele();
    let mut new = old.clone();
    new["userName"] = json!("adele2");
    new["name"] = json!({"familyName": "V"});
    new.as_object_mut().unwrap().remove("emails");
    let d = diff(&old, &new, &rt);
    assert_eq!(d.len(), 3, "{d:?}");
    assert!(
        d.iter()
            .any(|c| c.attr.attr == "emails" && c.kind == ChangeKind::Clear)
    );
    assert!(diff(&old, &old, &rt).is_empty());
}

/// scim2-tester `check_remove_attribute`: a remove whose path is an extension's schema URN (RFC 7644
/// §3.5.2.2) drops the whole extension, its URN leaves `schemas`, and every attribute is reported cleared.
#[test]
fn remove_whole_extension_by_schema_urn() {
    let rt = user_rt();
    let mut r = adele();
    r[ENTERPRISE_USER_URN] = json!({"department": "Sales", "manager": {"value": "m1"}});
    r["schemas"] = json!([CORE_USER_URN, ENTERPRISE_USER_URN, ECMA2HOST_USER_URN]);
    let o = run(
        &r,
        ops(json!([{"op": "remove", "path": ECMA2HOST_USER_URN}])),
        &rt,
    )
    .unwrap();
    assert!(
        o.resource.get(ECMA2HOST_USER_URN).is_none(),
        "{}",
        o.resource
    );
    assert_eq!(
        o.resource["schemas"],
        json!([CORE_USER_URN, ENTERPRISE_USER_URN])
    );
    assert_eq!(o.changes.len(), 6, "{:?}", o.changes);
    for a in [
        "ContosoLogin",
        "FirstName",
        "LastName",
        "AzureID",
        "textID",
        "Email",
    ] {
        assert_eq!(change(&o, a, None), Some(&ChangeKind::Clear), "{a}");
        assert!(
            o.changes
                .iter()
                .all(|c| c.attr.in_extension && c.attr.urn == ECMA2HOST_USER_URN)
        );
    }
    // any case, and the enterprise extension (complex manager cleared as a whole)
    let o = run(
        &r,
        ops(json!([{"op": "Remove", "path": ENTERPRISE_USER_URN.to_lowercase()}])),
        &rt,
    )
    .unwrap();
    assert!(o.resource.get(ENTERPRISE_USER_URN).is_none());
    assert_eq!(change(&o, "department", None), Some(&ChangeKind::Clear));
    assert_eq!(change(&o, "manager", None), Some(&ChangeKind::Clear));
    // removing an absent extension is a no-op; the core schema cannot be removed
    let o = run(
        &adele(),
        ops(json!([{"op": "remove", "path": ENTERPRISE_USER_URN}])),
        &rt,
    )
    .unwrap();
    assert!(o.changes.is_empty());
    let e = run(
        &adele(),
        ops(json!([{"op": "remove", "path": CORE_USER_URN}])),
        &rt,
    )
    .unwrap_err();
    assert_eq!(e.status, 400);
    let e = run(
        &adele(),
        ops(json!([{"op": "remove", "path": format!("{ECMA2HOST_USER_URN}[x eq 1]")}])),
        &rt,
    )
    .unwrap_err();
    assert_eq!(e.status, 400);
}

/// add/replace with a path that is an extension URN and an object value set/merge its attributes.
#[test]
fn add_and_replace_with_extension_urn_path() {
    let rt = user_rt();
    let o = run(
        &adele(),
        ops(json!([
            {"op": "add", "path": ENTERPRISE_USER_URN, "value": {"department": "Sales", "manager": {"value": "m1"}}},
            {"op": "replace", "path": ECMA2HOST_USER_URN, "value": {"LastName": "Smith", "IsSoftDeleted": "True"}}
        ])),
        &rt,
    )
    .unwrap();
    assert_eq!(
        o.resource[ENTERPRISE_USER_URN],
        json!({"department": "Sales", "manager": {"value": "m1"}})
    );
    assert_eq!(o.resource[ECMA2HOST_USER_URN]["LastName"], "Smith");
    assert_eq!(
        o.resource[ECMA2HOST_USER_URN]["FirstName"], "Adele",
        "merged"
    );
    assert_eq!(o.resource[ECMA2HOST_USER_URN]["IsSoftDeleted"], true);
    assert_eq!(
        o.resource["schemas"],
        json!([CORE_USER_URN, ENTERPRISE_USER_URN, ECMA2HOST_USER_URN])
    );
    assert_eq!(
        change(&o, "department", None),
        Some(&ChangeKind::Set(json!("Sales")))
    );
    assert_eq!(
        change(&o, "LastName", None),
        Some(&ChangeKind::Set(json!("Smith")))
    );
    // the core URN as path works like a path-less operation
    let o = run(
        &adele(),
        ops(json!([{"op": "replace", "path": CORE_USER_URN, "value": {"displayName": "A V"}}])),
        &rt,
    )
    .unwrap();
    assert_eq!(o.resource["displayName"], "A V");
    // a non-object value, or an unknown attribute inside, is rejected
    let e = run(
        &adele(),
        ops(json!([{"op": "add", "path": ENTERPRISE_USER_URN, "value": "x"}])),
        &rt,
    )
    .unwrap_err();
    assert_eq!(e.status, 400);
    let e = run(
        &adele(),
        ops(json!([{"op": "add", "path": ENTERPRISE_USER_URN, "value": {"bogus": 1}}])),
        &rt,
    )
    .unwrap_err();
    assert_eq!(e.status, 400);
}

/// Removing a required attribute the resource has (core `userName`, or by removing its extension) is 400
/// `invalidValue`; everything else in the request is not applied.
#[test]
fn remove_of_required_attribute_is_rejected() {
    let rt = user_rt();
    let e = run(
        &adele(),
        ops(json!([{"op": "remove", "path": "userName"}])),
        &rt,
    )
    .unwrap_err();
    assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidValue)));
    let e = run(
        &adele(),
        ops(json!([{"op": "replace", "path": "userName", "value": ""}])),
        &rt,
    )
    .unwrap_err();
    assert_eq!(e.status, 400);
    let g = group_resource_type(core_group_schema(), vec![]);
    let grp = json!({"schemas": [CORE_GROUP_URN], "id": "g", "displayName": "G"});
    let e = run(
        &grp,
        ops(json!([{"op": "remove", "path": "displayName"}])),
        &g,
    )
    .unwrap_err();
    assert_eq!(e.status, 400);
    // a resource stored without the required attribute can still be patched
    let mut no_user_name = adele();
    no_user_name.as_object_mut().unwrap().remove("userName");
    assert!(
        run(
            &no_user_name,
            ops(json!([{"op": "remove", "path": "active"}])),
            &rt
        )
        .is_ok()
    );
}

/// A group of 100,000 members: one member added, one removed, one added twice and one removed
/// that is absent, with the same answers as for a small group (the element lookups are
/// bucketed; a pairwise comparison would take minutes here).
#[test]
fn member_changes_on_a_very_large_group() {
    let rt = group_rt();
    let members: Vec<Value> = (0..100_000)
        .map(|i| json!({"value": format!("u{i}")}))
        .collect();
    let g = json!({"schemas":[CORE_GROUP_URN],"id":"g1","displayName":"All","members":members});
    let o = run(
        &g,
        ops(json!([
            {"op":"Add","path":"members","value":[{"value":"new"},{"value":"u5"},{"value":"new"}]},
            {"op":"Remove","path":"members","value":[{"value":"u7"},{"value":"absent"}]}
        ])),
        &rt,
    )
    .unwrap();
    let after = o.resource["members"].as_array().unwrap();
    assert_eq!(after.len(), 100_000);
    assert_eq!(after.last().unwrap(), &json!({"value":"new"}));
    assert!(!after.contains(&json!({"value":"u7"})));
    assert!(
        o.changes
            .iter()
            .any(|c| c.kind == ChangeKind::AddValues(vec![json!({"value":"new"})]))
    );
    assert!(
        o.changes
            .iter()
            .any(|c| c.kind == ChangeKind::RemoveValues(vec![json!({"value":"u7"})]))
    );
}
