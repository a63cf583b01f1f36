//! The engine end to end over the in-memory backend: every request of requests.md, discovery, paging,
//! projection, ETags, bulk and `.search`. Over 800 lines because every scenario shares one engine
//! fixture and its request helpers; each test stands alone.

use ecma_scim::testing::{MemoryBackend, block_on};
use ecma_scim::*;
use serde_json::{Value, json};

const BASE: &str = "https://host:8585/ecma2host_app1/scim";

fn ext_attr(name: &str, t: AttrType) -> ExtensionAttribute {
    ExtensionAttribute {
        name: name.into(),
        attr_type: t,
        multi_valued: false,
        required: false,
        case_exact: false,
    }
}

fn engine() -> ScimEngine {
    let ext = ecma2host_extension(
        ECMA2HOST_USER_URN,
        &[
            ext_attr("ContosoLogin", AttrType::String),
            ext_attr("FirstName", AttrType::String),
            ext_attr("LastName", AttrType::String),
            ext_attr("AzureID", AttrType::String),
            ext_attr("textID", AttrType::String),
            ext_attr("Email", AttrType::String),
            ext_attr("PLACEHOLDER", AttrType::String),
        ],
    );
    // The ECMA app publishes only the selected core attributes; userName is not required by Entra's POST.
    let core = core_user_schema().select(&[
        "userName",
        "active",
        "displayName",
        "name",
        "emails",
        "password",
    ]);
    let mut core = core;
    core.attributes.iter_mut().for_each(|a| a.required = false);
    let users = user_resource_type(core, vec![enterprise_user_schema(), ext]);
    let groups = group_resource_type(core_group_schema(), vec![]);
    let mut cfg = EngineConfig::new(BASE, vec![users, groups]);
    cfg.max_results = 100;
    cfg.bulk_max_operations = 10;
    ScimEngine::new(cfg)
}

struct T {
    e: ScimEngine,
    b: MemoryBackend,
}

impl T {
    fn new() -> Self {
        T {
            e: engine(),
            b: MemoryBackend::new(),
        }
    }
    fn req(&self, r: ScimRequest) -> ScimResponse {
        block_on(self.e.handle(&self.b, r))
    }
    fn get(&self, path: &str) -> ScimResponse {
        self.req(ScimRequest::new(Method::Get, path))
    }
    fn send(&self, m: Method, path: &str, body: Value) -> ScimResponse {
        self.req(ScimRequest::new(m, path).with_json(&body))
    }
    fn body(r: &ScimResponse) -> Value {
        r.json_body().expect("body")
    }
}

fn assert_error(r: &ScimResponse, status: u16, scim_type: Option<&str>) {
    let b = T::body(r);
    assert_eq!(r.status, status, "{b}");
    assert_eq!(b["schemas"], json!([ERROR_URN]));
    assert_eq!(b["status"], json!(status.to_string()));
    assert_eq!(b.get("scimType").and_then(Value::as_str), scim_type, "{b}");
    assert_eq!(r.header_value("Content-Type"), Some(SCIM_CONTENT_TYPE));
}

fn adele_post() -> Value {
    json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User"],
     "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User":{
        "ContosoLogin":"adele@contoso.com","FirstName":"Adele","LastName":"Vance",
        "AzureID":"1f0c","textID":"adele","Email":"adele@contoso.com"}})
}

#[test]
fn s1_test_connection_placeholder_lookup() {
    let t = T::new();
    let r = t.get(r#"/Users?filter=PLACEHOLDER+eq+"8646d011-1693-4cd3-9ee6-0d7482ca2219""#);
    assert_eq!(r.status, 200);
    assert_eq!(
        T::body(&r),
        json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[],"startIndex":1,"itemsPerPage":0})
    );
    // percent-encoded form too
    let r = t.get("/Users?filter=PLACEHOLDER%20eq%20%228646d011%22");
    assert_eq!(T::body(&r)["totalResults"], 0);
}

#[test]
fn s2_create_with_lookup_first_and_409_on_duplicate() {
    let t = T::new();
    let r = t.get(r#"/Users?filter=ContosoLogin+eq+"adele@contoso.com""#);
    assert_eq!(T::body(&r)["totalResults"], 0);
    let r = t.send(Method::Post, "/Users", adele_post());
    assert_eq!(r.status, 201, "{:?}", r.body);
    let b = T::body(&r);
    let id = b["id"].as_str().unwrap();
    assert_eq!(b[ECMA2HOST_USER_URN]["ContosoLogin"], "adele@contoso.com");
    assert_eq!(r.header_value("Location"), b["meta"]["location"].as_str());
    assert_eq!(b["meta"]["location"], format!("{BASE}/Users/{id}"));
    assert_eq!(r.header_value("ETag"), b["meta"]["version"].as_str());
    assert_eq!(b["meta"]["resourceType"], "User");
    // the lookup now finds it, through the index (the plan reached the backend)
    let r = t.get(r#"/Users?filter=ContosoLogin+eq+"ADELE@contoso.com""#);
    assert_eq!(T::body(&r)["totalResults"], 1);
    assert!(matches!(
        t.b.plans().last(),
        Some(Some(IndexPlan::Eq { .. }))
    ));
    // URN-qualified lookup
    let r = t.get(&format!(
        "/Users?filter={ECMA2HOST_USER_URN}:ContosoLogin+eq+%22adele@contoso.com%22"
    ));
    assert_eq!(T::body(&r)["totalResults"], 1);
    // uniqueness
    let mut dup = adele_post();
    dup["userName"] = json!("adele");
    assert_eq!(t.send(Method::Post, "/Users", dup.clone()).status, 201);
    assert_error(
        &t.send(Method::Post, "/Users", dup),
        409,
        Some("uniqueness"),
    );
}

#[test]
fn s2_password_is_accepted_and_never_returned() {
    let t = T::new();
    let mut p = adele_post();
    p["password"] = json!("S3cret!");
    let r = t.send(Method::Post, "/Users", p);
    assert_eq!(r.status, 201);
    assert!(T::body(&r).get("password").is_none());
}

#[test]
fn s3_read_back_update_and_404() {
    let t = T::new();
    let id = T::body(&t.send(Method::Post, "/Users", adele_post()))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t.get(&format!("/Users/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(T::body(&r)["id"], id.as_str());
    assert_error(&t.get("/Users/nope"), 404, None);
    let r = t.send(
        Method::Patch,
        &format!("/Users/{id}"),
        json!({"schemas":[PATCH_OP_URN],
         "Operations":[
           {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:LastName","value":"Vance-Smith"},
           {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:Email","value":"adele.v@contoso.com"},
           {"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:textID"}]}),
    );
    assert_eq!(r.status, 200, "PATCH answers 200 with a body");
    let b = T::body(&r);
    assert_eq!(b[ECMA2HOST_USER_URN]["LastName"], "Vance-Smith");
    assert!(b[ECMA2HOST_USER_URN].get("textID").is_none());
    assert_eq!(t.b.change_sets().last().unwrap().len(), 3);
    // Entra quirks through the engine: capitalised ops, string booleans, path-less replace
    let r = t.send(
        Method::Patch,
        &format!("/Users/{id}"),
        json!({"schemas":[PATCH_OP_URN],"Operations":[
            {"op":"Add","path":"name.givenName","value":"Adele"},
            {"op":"Add","path":"emails[type eq \"work\"].value","value":"adele@contoso.com"},
            {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":[{"$ref":null,"value":"m1"}]},
            {"op":"replace","value":{"displayName":"X","name.givenName":"Y","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Z"}}]}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = T::body(&r);
    assert_eq!(b["name"]["givenName"], "Y");
    assert_eq!(
        b["emails"],
        json!([{"type":"work","value":"adele@contoso.com"}])
    );
    assert_eq!(
        b[ENTERPRISE_USER_URN],
        json!({"manager":{"value":"m1"},"department":"Z"})
    );
    assert_eq!(b["displayName"], "X");
}

#[test]
fn s4_disable_then_delete() {
    let t = T::new();
    let id = T::body(&t.send(Method::Post, "/Users", adele_post()))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = format!("/Users/{id}");
    let r = t.send(Method::Patch, &p, json!({"schemas":[PATCH_OP_URN],"Operations":[{"op":"Replace","path":"active","value":"False"}]}));
    assert_eq!(r.status, 200);
    assert_eq!(T::body(&r)["active"], false);
    assert_eq!(
        T::body(&t.get(&p))["active"],
        false,
        "disabled users are still returned"
    );
    let r = t.req(ScimRequest::new(Method::Delete, &p));
    assert_eq!((r.status, r.body.is_none()), (204, true));
    assert_error(&t.get(&p), 404, None);
    assert_error(&t.req(ScimRequest::new(Method::Delete, &p)), 404, None);
}

/// A strict client's check: every attribute we return is declared in the /Schemas we publish.
fn assert_conforms(t: &T, resource: &Value, core_urn: &str) {
    let schemas = T::body(&t.get("/Schemas"))["Resources"]
        .as_array()
        .unwrap()
        .clone();
    let find = |urn: &str| {
        schemas
            .iter()
            .find(|s| s["id"] == urn)
            .unwrap_or_else(|| panic!("{urn} not published"))
            .clone()
    };
    fn check(attrs: &Value, obj: &Value, ctx: &str) {
        for (k, v) in obj.as_object().unwrap() {
            let Some(def) = attrs
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"].as_str().unwrap().eq_ignore_ascii_case(k))
            else {
                panic!("{ctx}: '{k}' is not declared");
            };
            if def["type"] == "complex" {
                let elems: Vec<&Value> = if def["multiValued"] == true {
                    v.as_array().unwrap().iter().collect()
                } else {
                    vec![v]
                };
                for e in elems {
                    check(&def["subAttributes"], e, &format!("{ctx}.{k}"));
                }
            }
        }
    }
    for (k, v) in resource.as_object().unwrap() {
        match k.as_str() {
            "schemas" | "id" | "meta" | "externalId" => {}
            k if k.starts_with("urn:") => {
                assert!(
                    resource["schemas"].as_array().unwrap().contains(&json!(k)),
                    "{k} not in schemas"
                );
                check(&find(k)["attributes"], v, k);
            }
            _ => check(&find(core_urn)["attributes"], &json!({k: v}), core_urn),
        }
    }
}

#[test]
fn s5_schema_discovery_matches_what_is_served() {
    let t = T::new();
    let r = t.get("/Schemas");
    let b = T::body(&r);
    assert_eq!(b["schemas"], json!([LIST_RESPONSE_URN]));
    let ids: Vec<&str> = b["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            CORE_USER_URN,
            ENTERPRISE_USER_URN,
            ECMA2HOST_USER_URN,
            CORE_GROUP_URN
        ]
    );
    let ext = t.get(&format!("/Schemas/{ECMA2HOST_USER_URN}"));
    let ext = T::body(&ext);
    let names: Vec<&str> = ext["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ContosoLogin"));
    assert_eq!(
        ext["schemas"],
        json!([SCHEMA_URN]),
        "a single Schema, not a ListResponse"
    );
    let core = t.get(&format!("/Schemas/{CORE_USER_URN}"));
    assert_eq!(
        T::body(&core)["attributes"].as_array().unwrap().len(),
        6,
        "only selected attributes"
    );
    assert_error(&t.get("/Schemas/urn:nope"), 404, None);
    // resource types
    let rts = t.get("/ResourceTypes");
    assert_eq!(T::body(&rts)["totalResults"], 2);
    let u = t.get("/ResourceTypes/User");
    assert_eq!(T::body(&u)["endpoint"], "/Users");
    assert_eq!(
        T::body(&u)["schemaExtensions"][1],
        json!({"schema": ECMA2HOST_USER_URN, "required": false})
    );
    assert_error(&t.get("/ResourceTypes/Nope"), 404, None);
    let spc = t.get("/ServiceProviderConfig");
    let s = T::body(&spc);
    assert_eq!(
        s["bulk"],
        json!({"supported": true, "maxOperations": 10, "maxPayloadSize": 1048576})
    );
    assert_eq!(s["filter"]["maxResults"], 100);
    assert_eq!(s["patch"]["supported"], true);
    // writes are 405
    for p in [
        "/Schemas",
        "/ResourceTypes",
        "/ServiceProviderConfig",
        "/Schemas/x",
    ] {
        for m in [Method::Post, Method::Put, Method::Patch, Method::Delete] {
            assert_error(&t.send(m, p, json!({})), 405, None);
        }
    }
    assert_error(&t.get("/random/url/x"), 404, None);
    assert_error(&t.get("/Widgets"), 404, None);
    // served resources conform
    let created = t.send(Method::Post, "/Users", adele_post());
    let mut p = adele_post();
    p["name"] = json!({"givenName":"A"});
    p["emails"] = json!([{"value":"a@b","type":"work","primary":"True"}]);
    p["userName"] = json!("u2");
    let c2 = t.send(Method::Post, "/Users", p);
    assert_eq!(c2.status, 201, "{:?}", c2.body);
    assert_eq!(
        T::body(&c2)["emails"][0]["primary"],
        true,
        "string boolean coerced"
    );
    for r in [&created, &c2] {
        assert_conforms(&t, &T::body(r), CORE_USER_URN);
    }
    let g = t.send(Method::Post, "/Groups", json!({"schemas":[CORE_GROUP_URN],"displayName":"G","members":[{"value":"x","display":"ignored"}]}));
    assert_conforms(&t, &T::body(&g), CORE_GROUP_URN);
}

#[test]
fn s6_groups() {
    let t = T::new();
    let uid = T::body(&t.send(Method::Post, "/Users", adele_post()))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t.send(Method::Post, "/Groups", json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"8aa1","displayName":"Sales","members":[]}));
    assert_eq!(r.status, 201);
    let gid = T::body(&r)["id"].as_str().unwrap().to_owned();
    assert_eq!(T::body(&r)["externalId"], "8aa1");
    let gp = format!("/Groups/{gid}");
    let add = json!({"schemas":[PATCH_OP_URN],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":uid}]}]});
    assert_eq!(t.send(Method::Patch, &gp, add.clone()).status, 200);
    assert_eq!(
        t.send(Method::Patch, &gp, add).status,
        200,
        "adding an existing member succeeds"
    );
    let r = t.get(r#"/Groups?excludedAttributes=members&filter=displayName+eq+"Sales""#);
    let b = T::body(&r);
    assert_eq!(b["totalResults"], 1);
    assert!(b["Resources"][0].get("members").is_none());
    assert_eq!(b["Resources"][0]["displayName"], "Sales");
    let r = t.get(&format!("{gp}?excludedAttributes=members"));
    assert!(T::body(&r).get("members").is_none());
    assert_eq!(T::body(&r)["id"], gid.as_str());
    let r = t.get(&format!("/Groups?filter=members[value+eq+%22{uid}%22]"));
    assert_eq!(T::body(&r)["totalResults"], 1);
    let rm = json!({"schemas":[PATCH_OP_URN],"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":uid}]}]});
    assert_eq!(t.send(Method::Patch, &gp, rm.clone()).status, 200);
    assert_eq!(
        t.send(Method::Patch, &gp, rm).status,
        200,
        "removing an absent member succeeds"
    );
    let flag = json!({"schemas":[PATCH_OP_URN],"Operations":[{"op":"remove","path":format!("members[value eq \"{uid}\"]")}]});
    assert_eq!(t.send(Method::Patch, &gp, flag).status, 200);
    assert!(T::body(&t.get(&gp)).get("members").is_none());
    assert_eq!(t.req(ScimRequest::new(Method::Delete, &gp)).status, 204);
}

#[test]
fn s7_paging_sorting_and_count_zero() {
    let t = T::new();
    for i in 0..12 {
        let r = t.send(Method::Post, "/Users", json!({"schemas":[CORE_USER_URN],"userName": format!("user{i:02}"), "displayName": format!("D{}", 11 - i)}));
        assert_eq!(r.status, 201);
    }
    let mut seen = vec![];
    for start in [1, 6, 11] {
        let r = t.get(&format!("/Users?startIndex={start}&count=5"));
        let b = T::body(&r);
        assert_eq!(
            (b["startIndex"].as_u64(), b["totalResults"].as_u64()),
            (Some(start), Some(12))
        );
        for u in b["Resources"].as_array().unwrap() {
            seen.push(u["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(
            b["itemsPerPage"].as_u64(),
            Some(b["Resources"].as_array().unwrap().len() as u64)
        );
    }
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(
        (seen.len(), dedup.len()),
        (12, 12),
        "consistent pages, no overlap"
    );
    let b = T::body(&t.get("/Users?startIndex=0&count=2")).clone();
    assert_eq!(b["startIndex"], 1, "startIndex < 1 is 1");
    let b = T::body(&t.get("/Users?count=0")).clone();
    assert_eq!(
        (b["totalResults"].as_u64(), b["itemsPerPage"].as_u64()),
        (Some(12), Some(0))
    );
    assert_eq!(b["Resources"], json!([]));
    let b = T::body(&t.get("/Users?sortBy=displayName&sortOrder=descending&count=3")).clone();
    let names: Vec<&str> = b["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["D9", "D8", "D7"]);
    let b = T::body(&t.get("/Users?sortBy=userName&count=2&attributes=userName")).clone();
    assert_eq!(
        b["Resources"][0],
        json!({"schemas":[CORE_USER_URN],"id":"user-1","userName":"user00"})
    );
    assert_error(&t.get("/Users?startIndex=abc"), 400, Some("invalidValue"));
    assert_error(&t.get("/Users?sortBy=nope"), 400, Some("invalidValue"));
}

#[test]
fn etags_and_preconditions() {
    let t = T::new();
    let r = t.send(Method::Post, "/Users", adele_post());
    let id = T::body(&r)["id"].as_str().unwrap().to_owned();
    let etag = r.header_value("ETag").unwrap().to_owned();
    let p = format!("/Users/{id}");
    let mut g = ScimRequest::new(Method::Get, &p);
    g.if_none_match = Some(etag.clone());
    let r = t.req(g);
    assert_eq!((r.status, r.body.is_none()), (304, true));
    let mut patch = ScimRequest::new(Method::Patch, &p)
        .with_json(&json!({"schemas":[PATCH_OP_URN],"Operations":[{"op":"replace","path":"FirstName","value":"A"}]}));
    patch.if_match = Some("W/\"stale\"".into());
    assert_error(&t.req(patch.clone()), 412, None);
    patch.if_match = Some(etag.clone());
    let r = t.req(patch);
    assert_eq!(r.status, 200);
    let new_etag = r.header_value("ETag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(Some(new_etag), T::body(&r)["meta"]["version"].as_str());
    let mut d = ScimRequest::new(Method::Delete, &p);
    d.if_match = Some(etag);
    assert_error(&t.req(d), 412, None);
}

#[test]
fn put_replaces_and_reports_changes() {
    let t = T::new();
    let id = T::body(&t.send(Method::Post, "/Users", adele_post()))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = adele_post();
    body["id"] = json!("ignored");
    body[ECMA2HOST_USER_URN]["LastName"] = json!("Smith");
    body["meta"] = json!({"created": "2000-01-01T00:00:00Z"});
    let r = t.send(Method::Put, &format!("/Users/{id}?attributes=urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:LastName"), body);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(T::body(&r)["id"], id.as_str());
    assert_eq!(
        T::body(&r)[ECMA2HOST_USER_URN],
        json!({"LastName":"Smith"}),
        "attributes= applies to PUT responses"
    );
    let cs = t.b.change_sets();
    assert_eq!(cs.last().unwrap().len(), 1);
    assert_error(&t.send(Method::Put, "/Users/nope", adele_post()), 404, None);
}

#[test]
fn request_validation_errors() {
    let t = T::new();
    let bad = ScimRequest {
        body: b"{not json".to_vec(),
        ..ScimRequest::new(Method::Post, "/Users")
    };
    assert_error(&t.req(bad), 400, Some("invalidSyntax"));
    let mut wrong_ct = ScimRequest::new(Method::Post, "/Users").with_json(&adele_post());
    wrong_ct.content_type = Some("text/plain".into());
    assert_error(&t.req(wrong_ct), 415, None);
    let mut json_ct = ScimRequest::new(Method::Post, "/Users").with_json(&adele_post());
    json_ct.content_type = Some("application/json; charset=utf-8".into());
    assert_eq!(t.req(json_ct).status, 201, "application/json is accepted");
    assert_error(
        &t.send(
            Method::Post,
            "/Users",
            json!({"schemas":[CORE_USER_URN],"bogus":1}),
        ),
        400,
        Some("invalidSyntax"),
    );
    assert_error(
        &t.send(
            Method::Post,
            "/Users",
            json!({"schemas":[CORE_USER_URN],"urn:x:y":{}}),
        ),
        400,
        Some("invalidSyntax"),
    );
    assert_error(
        &t.send(
            Method::Post,
            "/Users",
            json!({"schemas":[CORE_USER_URN],"active":"perhaps"}),
        ),
        400,
        Some("invalidValue"),
    );
    assert_error(
        &t.send(Method::Post, "/Groups", json!({"schemas":[CORE_GROUP_URN]})),
        400,
        Some("invalidValue"),
    );
    assert_error(
        &t.get("/Users?filter=userName+eq"),
        400,
        Some("invalidFilter"),
    );
    let id = T::body(&t.send(
        Method::Post,
        "/Users",
        json!({"schemas":[CORE_USER_URN],"userName":"x"}),
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = format!("/Users/{id}");
    assert_error(&t.send(Method::Patch, &p, json!({"schemas":[PATCH_OP_URN],"Operations":[{"op":"replace","path":"id","value":"y"}]})), 400, Some("mutability"));
    assert_error(&t.send(Method::Patch, &p, json!({"schemas":[PATCH_OP_URN],"Operations":[{"op":"replace","path":"nope","value":"y"}]})), 400, Some("invalidPath"));
    assert_error(
        &t.send(Method::Patch, &p, json!({"Operations":[]})),
        400,
        Some("invalidSyntax"),
    );
    assert_error(&t.send(Method::Post, &p, json!({})), 405, None);
}

#[test]
fn dot_search() {
    let t = T::new();
    t.send(Method::Post, "/Users", adele_post());
    let r = t.send(
        Method::Post,
        "/Users/.search",
        json!({"schemas":[SEARCH_REQUEST_URN],"filter":"ContosoLogin eq \"adele@contoso.com\"","attributes":["ContosoLogin"],"startIndex":1,"count":10}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = T::body(&r);
    assert_eq!(b["totalResults"], 1);
    assert_eq!(
        b["Resources"][0][ECMA2HOST_USER_URN],
        json!({"ContosoLogin":"adele@contoso.com"})
    );
    assert_error(&t.get("/Users/.search"), 405, None);
    assert_error(
        &t.send(Method::Post, "/Users/.search", json!({"filter": 3})),
        400,
        Some("invalidFilter"),
    );
}

#[test]
fn bulk_with_bulk_id_references_and_fail_on_errors() {
    let t = T::new();
    let r = t.send(
        Method::Post,
        "/Bulk",
        json!({"schemas":[BULK_REQUEST_URN],"failOnErrors":1,"Operations":[
            {"method":"POST","path":"/Users","bulkId":"qwerty","data":{"schemas":[CORE_USER_URN],"userName":"alice"}},
            {"method":"POST","path":"/Groups","bulkId":"ytrewq","data":{"schemas":[CORE_GROUP_URN],"displayName":"Tour Guides","members":[{"type":"User","value":"bulkId:qwerty"}]}},
            {"method":"PATCH","path":"/Groups/bulkId:ytrewq","data":{"schemas":[PATCH_OP_URN],"Operations":[{"op":"replace","path":"displayName","value":"Guides"}]}},
            {"method":"DELETE","path":"/Users/nope"},
            {"method":"DELETE","path":"/Users/bulkId:qwerty"}]}),
    );
    assert_eq!(r.status, 200);
    let ops = T::body(&r)["Operations"].as_array().unwrap().clone();
    assert_eq!(
        ops.len(),
        4,
        "stopped after the first error (failOnErrors 1)"
    );
    assert_eq!(ops[0]["status"], "201");
    assert_eq!(ops[0]["bulkId"], "qwerty");
    assert!(ops[0]["location"].as_str().unwrap().starts_with(BASE));
    assert_eq!(ops[1]["status"], "201");
    assert_eq!(ops[2]["status"], "200");
    assert_eq!(ops[3]["status"], "404");
    assert_eq!(ops[3]["response"]["schemas"], json!([ERROR_URN]));
    let uid = ops[0]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let g = t.get(
        ops[1]["location"]
            .as_str()
            .unwrap()
            .trim_start_matches(BASE),
    );
    assert_eq!(
        T::body(&g)["members"][0]["value"],
        uid.as_str(),
        "bulkId reference resolved"
    );
    assert_eq!(T::body(&g)["displayName"], "Guides");
    // limits
    let many: Vec<Value> = (0..11)
        .map(|_| json!({"method":"DELETE","path":"/Users/x"}))
        .collect();
    assert_error(
        &t.send(
            Method::Post,
            "/Bulk",
            json!({"schemas":[BULK_REQUEST_URN],"Operations":many}),
        ),
        413,
        None,
    );
    let r = t.send(Method::Post, "/Bulk", json!({"schemas":[BULK_REQUEST_URN],"Operations":[{"method":"DELETE","path":"/Users/bulkId:zzz"}]}));
    assert_eq!(T::body(&r)["Operations"][0]["status"], "409");
    assert_error(&t.get("/Bulk"), 405, None);
}

#[test]
fn projection_honours_returned() {
    let t = T::new();
    let mut p = adele_post();
    p["userName"] = json!("adele");
    p["password"] = json!("pw");
    let id = T::body(&t.send(Method::Post, "/Users", p))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t.get(&format!("/Users/{id}?attributes=userName,password"));
    assert_eq!(
        T::body(&r),
        json!({"schemas": T::body(&r)["schemas"], "id": id, "userName": "adele"})
    );
    let r = t.get(&format!(
        "/Users/{id}?excludedAttributes=id,userName,{ECMA2HOST_USER_URN}:FirstName"
    ));
    let b = T::body(&r);
    assert_eq!(b["id"], id.as_str(), "id is returned always");
    assert!(b.get("userName").is_none());
    assert!(b[ECMA2HOST_USER_URN].get("FirstName").is_none());
    assert_eq!(b[ECMA2HOST_USER_URN]["LastName"], "Vance");
    let r = t.get(&format!("/Users/{id}?attributes={ECMA2HOST_USER_URN}"));
    assert_eq!(
        T::body(&r)[ECMA2HOST_USER_URN].as_object().unwrap().len(),
        6,
        "a schema URN selects all of it"
    );
}

#[cfg(feature = "actix")]
#[test]
fn actix_error_mapping() {
    use actix_web::ResponseError;
    let e = ScimError::unavailable(
        "The ECMA host is currently importing data from the target application",
        Some(30),
    );
    let r = e.error_response();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers().get("Retry-After").unwrap(), "30");
    assert_eq!(r.headers().get("Content-Type").unwrap(), SCIM_CONTENT_TYPE);
    let u = ScimError::unauthorized("bad token").error_response();
    assert_eq!(u.headers().get("WWW-Authenticate").unwrap(), "Bearer");
}

/// scim2-tester `search_with_attributes`: `POST /.search` at the service root searches every resource type
/// (RFC 7644 §3.4.3); each resource keeps its own type's meta and projection. `GET /?filter=` too.
#[test]
fn root_search_across_resource_types() {
    let t = T::new();
    let mut p = adele_post();
    p["userName"] = json!("zed");
    p["displayName"] = json!("Zed");
    let uid = T::body(&t.send(Method::Post, "/Users", p))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let g = t.send(
        Method::Post,
        "/Groups",
        json!({"schemas":[CORE_GROUP_URN],"displayName":"Admins","members":[{"value":uid}]}),
    );
    let gid = T::body(&g)["id"].as_str().unwrap().to_owned();
    let r = t.send(
        Method::Post,
        "/.search",
        json!({"schemas":[SEARCH_REQUEST_URN],"attributes":["displayName"],"sortBy":"displayName"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = T::body(&r);
    assert_eq!(b["schemas"], json!([LIST_RESPONSE_URN]));
    assert_eq!(b["totalResults"], 2);
    assert_eq!(
        b["Resources"],
        json!([
            {"schemas":[CORE_GROUP_URN],"id":gid,"displayName":"Admins"},
            {"schemas":[CORE_USER_URN, ECMA2HOST_USER_URN],"id":uid,"displayName":"Zed"}
        ]),
        "sorted across types, projected per type"
    );
    // each resource renders with its own meta; a filter on a User attribute only matches Users
    let r = t.send(
        Method::Post,
        "/.search",
        json!({"schemas":[SEARCH_REQUEST_URN],"filter":"userName eq \"zed\" or displayName eq \"Admins\"","excludedAttributes":["members"]}),
    );
    let b = T::body(&r);
    assert_eq!(b["totalResults"], 2, "{b}");
    let by_type = |ty: &str| {
        b["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["meta"]["resourceType"] == ty)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_type("Group")["meta"]["location"],
        format!("{BASE}/Groups/{gid}")
    );
    assert!(by_type("Group").get("members").is_none());
    assert_eq!(
        by_type("User")["meta"]["location"],
        format!("{BASE}/Users/{uid}")
    );
    let r = t.send(
        Method::Post,
        "/.search",
        json!({"filter":"userName eq \"zed\"","startIndex":1,"count":1}),
    );
    assert_eq!(T::body(&r)["totalResults"], 1);
    assert_eq!(T::body(&r)["Resources"][0]["id"], uid.as_str());
    // paging over the merged list
    let r = t.send(Method::Post, "/.search", json!({"startIndex":2,"count":1}));
    assert_eq!(
        (
            T::body(&r)["totalResults"].as_u64(),
            T::body(&r)["itemsPerPage"].as_u64()
        ),
        (Some(2), Some(1))
    );
    // GET on the root
    let r = t.get("/?filter=displayName+eq+%22Admins%22");
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(T::body(&r)["Resources"][0]["id"], gid.as_str());
    assert_error(&t.get("/.search"), 405, None);
    assert_error(
        &t.send(Method::Post, "/.search", json!({"sortBy":"nope"})),
        400,
        Some("invalidValue"),
    );
    assert_error(&t.send(Method::Delete, "/", json!({})), 405, None);
}

/// RFC 7644 §3.5.1: PUT must not change an immutable attribute that already has a value (400 `mutability`);
/// the same value is fine, and an omitted one is kept.
#[test]
fn put_keeps_immutable_attributes() {
    let mut ext = ecma2host_extension(
        ECMA2HOST_USER_URN,
        &[
            ext_attr("ContosoLogin", AttrType::String),
            ext_attr("AzureID", AttrType::String),
            ext_attr("LastName", AttrType::String),
        ],
    );
    ext.attributes[1].mutability = Mutability::Immutable;
    let mut core = core_user_schema();
    core.attributes
        .iter_mut()
        .find(|a| a.name == "userName")
        .unwrap()
        .mutability = Mutability::Immutable;
    let users = user_resource_type(core, vec![ext]);
    let t = T {
        e: ScimEngine::new(EngineConfig::new(BASE, vec![users])),
        b: MemoryBackend::new(),
    };
    let body = json!({"schemas":[CORE_USER_URN, ECMA2HOST_USER_URN],"userName":"adele",
        ECMA2HOST_USER_URN: {"ContosoLogin":"adele@contoso.com","AzureID":"1f0c","LastName":"Vance"}});
    let id = T::body(&t.send(Method::Post, "/Users", body.clone()))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = format!("/Users/{id}");
    let mut changed = body.clone();
    changed[ECMA2HOST_USER_URN]["AzureID"] = json!("other");
    assert_error(&t.send(Method::Put, &p, changed), 400, Some("mutability"));
    let mut renamed = body.clone();
    renamed["userName"] = json!("bob");
    assert_error(&t.send(Method::Put, &p, renamed), 400, Some("mutability"));
    assert_eq!(T::body(&t.get(&p))[ECMA2HOST_USER_URN]["AzureID"], "1f0c");
    // same value (case-insensitive string) is accepted
    let mut same = body.clone();
    same[ECMA2HOST_USER_URN]["AzureID"] = json!("1F0C");
    same[ECMA2HOST_USER_URN]["LastName"] = json!("Smith");
    let r = t.send(Method::Put, &p, same);
    assert_eq!(r.status, 200, "{:?}", r.body);
    // omitted: kept, not cleared
    let r = t.send(
        Method::Put,
        &p,
        json!({"schemas":[CORE_USER_URN],"userName":"adele","displayName":"A"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = T::body(&r);
    assert_eq!(b[ECMA2HOST_USER_URN], json!({"AzureID":"1f0c"}), "{b}");
    assert_eq!(b["schemas"], json!([CORE_USER_URN, ECMA2HOST_USER_URN]));
    assert!(
        !t.b.change_sets()
            .last()
            .unwrap()
            .iter()
            .any(|c| c.attr.attr == "AzureID"),
        "no change reported for the kept immutable value"
    );
}

/// Group members whose `type` is known get a `$ref` to the member (RFC 7643 §4.2), and the Group stays valid
/// against the published Group schema; members without `type` (Entra's) are served as stored.
#[test]
fn group_members_get_ref_from_type() {
    let t = T::new();
    let uid = T::body(&t.send(Method::Post, "/Users", adele_post()))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t.send(
        Method::Post,
        "/Groups",
        json!({"schemas":[CORE_GROUP_URN],"displayName":"G","members":[{"value":uid,"type":"User"},{"value":"g9","type":"Group"},{"value":"x"}]}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let b = T::body(&r).clone();
    assert_eq!(
        b["members"],
        json!([
            {"value":uid,"type":"User","$ref":format!("{BASE}/Users/{uid}")},
            {"value":"g9","type":"Group","$ref":format!("{BASE}/Groups/g9")},
            {"value":"x"}
        ])
    );
    assert_conforms(&t, &b, CORE_GROUP_URN);
    let gid = b["id"].as_str().unwrap();
    let r = t.get(&format!("/Groups/{gid}?attributes=members.value"));
    assert_eq!(T::body(&r)["members"][0], json!({"value": uid}));
}

/// Default-projection reads are served from each resource's stored encoding: the text must be
/// exactly what the tree path (render + project + ListResponse) produces, and a write must never
/// leave a stale encoding behind.
#[test]
fn encoded_reads_equal_the_tree_path_and_follow_writes() {
    let t = T::new();
    let mut adele = adele_post();
    adele["userName"] = json!("Adele@contoso.com");
    let uid = T::body(&t.send(Method::Post, "/Users", adele))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let g = t.send(Method::Post, "/Groups", json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales","members":[{"value": uid, "type": "User"}]}));
    let gid = T::body(&g)["id"].as_str().unwrap().to_owned();
    let users = &t.e.config().resource_types[0];
    let groups = &t.e.config().resource_types[1];
    for (rt, id, filter) in [
        (
            users,
            &uid,
            "/Users?filter=userName+eq+%22Adele@contoso.com%22",
        ),
        (groups, &gid, "/Groups?filter=displayName+eq+%22Sales%22"),
    ] {
        let sr = block_on(t.b.get(rt, id)).unwrap().unwrap();
        let expected = project(&t.e.render(rt, &sr), rt, &[], &[]);
        let one = t.get(&format!("/{}/{id}", rt.endpoint.trim_start_matches('/')));
        assert!(
            matches!(one.body, Some(Body::Encoded(_))),
            "served from the encoding"
        );
        assert_eq!(T::body(&one), expected);
        let list = t.get(filter);
        let Some(Body::Encoded(text)) = &list.body else {
            panic!("list not encoded: {:?}", list.body)
        };
        assert_eq!(
            text,
            &list_response(vec![expected.clone()], 1, 1).to_string(),
            "same bytes as the tree path"
        );
    }
    // A group's member carries its `$ref`, computed once into the encoding.
    let list = T::body(&t.get("/Groups?filter=displayName+eq+%22Sales%22"));
    assert!(
        list["Resources"][0]["members"][0]["$ref"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/Users/{uid}"))
    );
    // A write replaces the stored resource, so the next read shows it.
    let patch = json!({"schemas":[PATCH_OP_URN],"Operations":[{"op":"Replace","path":"displayName","value":"Adele V."}]});
    assert_eq!(
        t.send(Method::Patch, &format!("/Users/{uid}"), patch)
            .status,
        200
    );
    let after = T::body(&t.get("/Users?filter=userName+eq+%22Adele@contoso.com%22"));
    assert_eq!(after["Resources"][0]["displayName"], "Adele V.");
    assert_eq!(
        T::body(&t.get(&format!("/Users/{uid}")))["displayName"],
        "Adele V."
    );
}

#[test]
fn a_patch_operation_with_too_many_values_is_refused_with_400() {
    let users = user_resource_type(core_user_schema(), vec![]);
    let groups = group_resource_type(core_group_schema(), vec![]);
    let mut cfg = EngineConfig::new("https://h/ecma2host_a/scim", vec![users, groups]);
    cfg.max_values_per_patch_op = 3;
    let engine = ScimEngine::new(cfg);
    let b = MemoryBackend::new();
    let created = block_on(
        engine.handle(
            &b,
            ScimRequest::new(Method::Post, "/Groups")
                .with_json(&json!({"schemas":[CORE_GROUP_URN],"displayName":"G"})),
        ),
    );
    assert_eq!(created.status, 201);
    let id = created.json_body().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = |n: usize| {
        let members: Vec<Value> = (0..n).map(|i| json!({"value": format!("u{i}")})).collect();
        ScimRequest::new(Method::Patch, format!("/Groups/{id}")).with_json(&json!({
            "schemas":[PATCH_OP_URN],
            "Operations":[{"op":"Add","path":"members","value":members}]}))
    };
    let r = block_on(engine.handle(&b, patch(4)));
    assert_eq!(r.status, 400);
    let body = r.json_body().unwrap();
    assert_eq!(body["scimType"], "invalidValue");
    assert!(
        body["detail"].as_str().unwrap().contains("at most 3"),
        "{body}"
    );
    assert_eq!(block_on(engine.handle(&b, patch(3))).status, 200);
}

/// An extension attribute the target only imports is readOnly: a POST or PATCH that writes it
/// gets 400 `mutability` naming it, instead of the value being dropped without a word.
#[test]
fn read_only_extension_attributes_are_refused_by_name() {
    let mut ext = ecma2host_extension(
        ECMA2HOST_USER_URN,
        &[
            ext_attr("login", AttrType::String),
            ext_attr("lastLogon", AttrType::String),
        ],
    );
    for a in &mut ext.attributes {
        if a.name == "lastLogon" {
            *a = AttributeDef::clone(a).mutability(Mutability::ReadOnly);
        }
    }
    let users = user_resource_type(core_user_schema().select(&["active"]), vec![ext]);
    let t = T {
        e: ScimEngine::new(EngineConfig::new(BASE, vec![users])),
        b: MemoryBackend::new(),
    };
    let post = |extra: Value| {
        let mut ext = json!({"login": "ada"});
        ext.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"schemas": [CORE_USER_URN, ECMA2HOST_USER_URN], ECMA2HOST_USER_URN: ext})
    };
    let r = t.send(
        Method::Post,
        "/Users",
        post(json!({"lastLogon": "yesterday"})),
    );
    assert_error(&r, 400, Some("mutability"));
    assert!(
        T::body(&r)["detail"]
            .as_str()
            .unwrap()
            .contains("lastLogon")
    );
    let r = t.send(Method::Post, "/Users", post(json!({})));
    assert_eq!(r.status, 201, "{}", T::body(&r));
    let id = T::body(&r)["id"].as_str().unwrap().to_owned();
    let r = t.send(
        Method::Patch,
        &format!("/Users/{id}"),
        json!({"schemas": [PATCH_OP_URN], "Operations": [
            {"op": "replace", "path": format!("{ECMA2HOST_USER_URN}:lastLogon"), "value": "now"}]}),
    );
    assert_error(&r, 400, Some("mutability"));
    let r = t.send(
        Method::Put,
        &format!("/Users/{id}"),
        post(json!({"lastLogon": "now"})),
    );
    assert_error(&r, 400, Some("mutability"));
}

fn small_engine(
    policy: UnknownAttributes,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) -> T {
    let ext = ecma2host_extension(ECMA2HOST_USER_URN, &[ext_attr("login", AttrType::String)]);
    let mut core = core_user_schema().select(&["active", "name"]);
    for a in &mut core.attributes {
        if a.name == "name" {
            a.sub_attributes.retain(|s| s.name == "givenName");
        }
    }
    let mut cfg = EngineConfig::new(BASE, vec![user_resource_type(core, vec![ext])]);
    cfg.unknown_attributes = policy;
    cfg.application = "hr".into();
    cfg.on_ignored_attribute = Some(IgnoredAttributeHook(std::sync::Arc::new(
        move |_rt: &str, name: &str| seen.lock().unwrap().push(name.to_owned()),
    )));
    T {
        e: ScimEngine::new(cfg),
        b: MemoryBackend::new(),
    }
}

fn generic_client_post() -> Value {
    json!({"schemas": [CORE_USER_URN, ECMA2HOST_USER_URN],
        "emails": [{"type": "work", "value": "ada@example.org"}],
        "name": {"givenName": "Ada", "formatted": "Ada L"},
        ECMA2HOST_USER_URN: {"login": "ada", "shoeSize": 38}})
}

/// By default a write naming an attribute the application does not map is refused, naming the
/// attribute and the application.
#[test]
fn unknown_attributes_are_refused_naming_the_application() {
    let seen = std::sync::Arc::default();
    let t = small_engine(UnknownAttributes::Reject, seen);
    let r = t.send(Method::Post, "/Users", generic_client_post());
    assert_error(&r, 400, Some("invalidSyntax"));
    let detail = T::body(&r)["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("emails") && detail.contains("'hr'"),
        "{detail}"
    );
}

/// With `Ignore`, unknown attributes, extension attributes, sub-attributes and PATCH paths are
/// dropped and reported; what is known is written.
#[test]
fn ignored_unknown_attributes_are_dropped_and_reported() {
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = std::sync::Arc::default();
    let t = small_engine(UnknownAttributes::Ignore, seen.clone());
    let r = t.send(Method::Post, "/Users", generic_client_post());
    assert_eq!(r.status, 201, "{}", T::body(&r));
    let created = T::body(&r);
    assert_eq!(created[ECMA2HOST_USER_URN]["login"], "ada");
    assert_eq!(created["name"]["givenName"], "Ada");
    assert!(created.get("emails").is_none());
    let id = created["id"].as_str().unwrap().to_owned();
    let r = t.send(
        Method::Patch,
        &format!("/Users/{id}"),
        json!({"schemas": [PATCH_OP_URN], "Operations": [
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "x@example.org"},
            {"op": "replace", "path": format!("{ECMA2HOST_USER_URN}:login"), "value": "ada2"}]}),
    );
    assert_eq!(r.status, 200, "{}", T::body(&r));
    assert_eq!(T::body(&r)[ECMA2HOST_USER_URN]["login"], "ada2");
    let seen = seen.lock().unwrap().clone();
    for name in [
        "emails",
        "name.formatted",
        &format!("{ECMA2HOST_USER_URN}:shoeSize"),
    ] {
        assert!(seen.iter().any(|s| s == name), "{name} not in {seen:?}");
    }
    assert!(
        seen.iter().any(|s| s == "emails.value"),
        "the PATCH path: {seen:?}"
    );
}
