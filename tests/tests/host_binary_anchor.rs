//! A binary anchor end to end: a host serving an LDAP application whose anchor is an
//! octet-string attribute (`ecmaBinaryId`, loaded into slapd as an extra schema), with anchor
//! bytes that are not UTF-8. Entra's flow (GET by filter, GET by id, PATCH, DELETE, POST) must
//! reach exactly the entry whose bytes the id encodes: ids are the unpadded base64url of the
//! bytes, so two anchors that lossy UTF-8 would merge stay two objects.

use ecma_host_tests::host::{TestHost, blocking, start_host};
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::slapd::{
    ADMIN_DN, ADMIN_PW, BINARY_ID_ATTR, BINARY_ID_CLASS, ExtraSchema, Slapd, SlapdOptions,
};
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const APP: &str = "binary";

/// Not UTF-8 anywhere, with filter metacharacters (`*`, `(`, `)`, `\`) and NUL among them.
const ALICE_ID: [u8; 16] = [
    0xff, 0x00, 0xfe, 0x80, 0x2a, 0x28, 0x5c, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x29, 0xf0, 0x8c, 0x01,
];
/// Differs from [`ALICE_ID`] only in invalid sequences: lossy UTF-8 makes them one text.
const BOB_ID: [u8; 16] = [
    0xfe, 0x00, 0xff, 0x81, 0x2a, 0x28, 0x5c, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x29, 0xf0, 0x8c, 0x01,
];
/// The anchor a create chooses; its base64 has both `+` and `/`, its base64url `-` and `_`.
const CAROL_ID: [u8; 16] = [
    0xfb, 0xff, 0x00, 0xfe, 0x3e, 0x2b, 0x2f, 0x3f, 0xfc, 0x80, 0x00, 0xff, 0xfe, 0xfd, 0x2a, 0x5c,
];
// The encodings, worked out independently of the host (Python's base64 module).
const ALICE_SCIM_ID: &str = "_wD-gCooXMMooKHiKfCMAQ";
const ALICE_BASE64: &str = "/wD+gCooXMMooKHiKfCMAQ==";
const BOB_SCIM_ID: &str = "_gD_gSooXMMooKHiKfCMAQ";
const BOB_BASE64: &str = "/gD/gSooXMMooKHiKfCMAQ==";
const CAROL_SCIM_ID: &str = "-_8A_j4rLz_8gAD__v0qXA";
const CAROL_BASE64: &str = "+/8A/j4rLz/8gAD//v0qXA==";

/// One users application over slapd whose anchor is [`BINARY_ID_ATTR`], exposed in the
/// ECMA2Host extension so a create can choose it.
fn app_toml(s: &Slapd, ou: &str) -> String {
    format!(
        r#"
[[app]]
name = "{APP}"
connector = "generic-ldap"
token = "{{TOKEN}}"
autosync_minutes = 0

[app.parameters.connectivity]
Host = "127.0.0.1"
Port = "{port}"
Binding = "Simple"
"User name" = "{ADMIN_DN}"
Password = {{ secret = "{ADMIN_PW}" }}
"Base DNs" = "{ou}"
"Object types" = "inetOrgPerson"
Anchor = "{BINARY_ID_ATTR}"
"Auxiliary object classes" = "inetOrgPerson = {BINARY_ID_CLASS}"
"DN templates" = "inetOrgPerson = uid={{uid}},{ou}"

[[app.object_type]]
scim = "User"
target = "inetOrgPerson"
query_attributes = ["uid"]
attributes = ["uid", "cn", "sn", "{BINARY_ID_ATTR}"]
core = {{ userName = "uid" }}
"#,
        port = s.port,
    )
}

async fn user_by_name(host: &TestHost, name: &str) -> Value {
    let r = host
        .request(
            "GET",
            APP,
            &format!("/Users?filter=userName+eq+%22{name}%22"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["totalResults"], 1, "{name}: {:?}", r.body);
    r.body["Resources"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_anchor_is_a_base64url_id_through_entras_flow() {
    assert_eq!(
        String::from_utf8_lossy(&ALICE_ID),
        String::from_utf8_lossy(&BOB_ID),
        "the two anchors must be one text once lossy"
    );
    let Some(s) = blocking(|| {
        Slapd::start_with(SlapdOptions {
            extra_schema: Some(ExtraSchema::binary_id()),
            ..SlapdOptions::default()
        })
    }) else {
        return;
    };
    let (ou, alice, bob) = blocking(|| {
        let ou = s.create_ou("people");
        let alice = s.add_with_binary_id(&ou, "alice", &ALICE_ID);
        let bob = s.add_with_binary_id(&ou, "bob", &BOB_ID);
        (ou, alice, bob)
    });
    let host = start_host(&app_toml(&s, &ou), &[plugin_path("generic_ldap")]).await;
    host.wait_ready().await;

    // GET by filter (Entra's matching): the id is the base64url of the bytes, distinct for
    // the two anchors; the attribute itself is base64 (RFC 7643 binary).
    let a = user_by_name(&host, "alice").await;
    assert_eq!(a["id"], ALICE_SCIM_ID, "{a}");
    assert_eq!(a[EXT][BINARY_ID_ATTR], ALICE_BASE64, "{a}");
    let b = user_by_name(&host, "bob").await;
    assert_eq!(b["id"], BOB_SCIM_ID, "{b}");

    // GET by id.
    let r = host
        .request("GET", APP, &format!("/Users/{ALICE_SCIM_ID}"), None)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["userName"], "alice");

    // PATCH lands on alice's entry (found by her bytes), not bob's.
    let r = host
        .request(
            "PATCH",
            APP,
            &format!("/Users/{ALICE_SCIM_ID}"),
            Some(json!({"schemas": [PATCH], "Operations": [
                {"op": "replace", "path": format!("{EXT}:sn"), "value": "Patched"}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["id"], ALICE_SCIM_ID);
    let sn = |dn: &str| blocking(|| s.read(dn)).expect("entry").attrs["sn"].clone();
    assert_eq!(sn(&alice), ["Patched"]);
    assert_eq!(sn(&bob), ["Binary"]);

    // DELETE removes bob's entry, and only his.
    let r = host
        .request("DELETE", APP, &format!("/Users/{BOB_SCIM_ID}"), None)
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert!(blocking(|| s.read(&bob)).is_none(), "bob deleted");
    assert_eq!(blocking(|| s.binary_id(&alice)), Some(ALICE_ID.to_vec()));
    let r = host
        .request("GET", APP, &format!("/Users/{BOB_SCIM_ID}"), None)
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);

    // POST: the client chooses the anchor (the directory assigns none), as base64 in the
    // extension; the Add writes those bytes and the id encodes them.
    let r = host
        .request(
            "POST",
            APP,
            "/Users",
            Some(json!({"schemas": [CORE, EXT], "userName": "carol",
                EXT: {BINARY_ID_ATTR: CAROL_BASE64, "cn": "Carol", "sn": "C"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["id"], CAROL_SCIM_ID, "{:?}", r.body);
    assert_eq!(r.body[EXT][BINARY_ID_ATTR], CAROL_BASE64);
    let carol = format!("uid=carol,{ou}");
    assert_eq!(blocking(|| s.binary_id(&carol)), Some(CAROL_ID.to_vec()));
    let c = user_by_name(&host, "carol").await;
    assert_eq!(c["id"], CAROL_SCIM_ID);
    let r = host
        .request("DELETE", APP, &format!("/Users/{CAROL_SCIM_ID}"), None)
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert!(blocking(|| s.read(&carol)).is_none(), "carol deleted");

    // Bob comes back with his own bytes while alice, whose bytes read the same as lossy
    // text, exists: a create, not a 409.
    let r = host
        .request(
            "POST",
            APP,
            "/Users",
            Some(json!({"schemas": [CORE, EXT], "userName": "bob",
                EXT: {BINARY_ID_ATTR: BOB_BASE64, "cn": "Bob", "sn": "B"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["id"], BOB_SCIM_ID, "{:?}", r.body);
    assert_eq!(blocking(|| s.binary_id(&bob)), Some(BOB_ID.to_vec()));
    host.stop().await;
}
