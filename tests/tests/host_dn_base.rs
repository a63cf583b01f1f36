//! A create's `-dn-` (the DN Microsoft's LDAP tutorial maps from an expression) must lie under
//! the application's `Base DNs`: elsewhere the POST is a 400 naming the DN, and nothing is
//! created in the directory; a PATCH of `-dn-` out of the base is refused the same way.

use ecma_host_tests::host::{blocking, start_host};
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::slapd::{SUFFIX, Slapd, users_app_toml};
use serde_json::json;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const APP: &str = "directory";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dn_outside_the_base_dns_is_a_400_and_creates_nothing() {
    let Some(s) = blocking(Slapd::start) else {
        return;
    };
    let (people, outside) = blocking(|| (s.create_ou("people"), s.create_ou("outside")));
    // The harness's application serves the whole suffix; this one only ou=people.
    let toml = users_app_toml(&s, APP, "").replace(
        &format!("\"Base DNs\" = \"{SUFFIX}\""),
        &format!("\"Base DNs\" = \"{people}\""),
    );
    assert!(toml.contains(&people), "the base was narrowed: {toml}");
    let host = start_host(&toml, &[plugin_path("generic_ldap")]).await;
    host.wait_ready().await;

    let stray = format!("uid=stray,{outside}");
    let r = host
        .request(
            "POST",
            APP,
            "/Users",
            Some(json!({"schemas": [CORE, EXT], "userName": "stray",
                EXT: {"-dn-": stray, "cn": "Stray", "sn": "S"}})),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&stray), "names the DN: {detail}");
    assert!(detail.contains(&people), "names the base: {detail}");
    assert!(blocking(|| s.read(&stray)).is_none(), "nothing created");
    let r = host
        .request("GET", APP, "/Users?filter=userName+eq+%22stray%22", None)
        .await;
    assert_eq!(r.body["totalResults"], 0, "{:?}", r.body);

    // Under the base: created; a PATCH moving it out of the base is refused, it stays.
    let inside = format!("uid=stray,{people}");
    let r = host
        .request(
            "POST",
            APP,
            "/Users",
            Some(json!({"schemas": [CORE, EXT], "userName": "stray",
                EXT: {"-dn-": inside, "cn": "Stray", "sn": "S"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = host
        .request(
            "PATCH",
            APP,
            &format!("/Users/{id}"),
            Some(json!({"schemas": [PATCH], "Operations": [
                {"op": "replace", "path": format!("{EXT}:-dn-"), "value": stray}]})),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&stray),
        "{:?}",
        r.body
    );
    assert!(blocking(|| s.read(&stray)).is_none(), "not moved");
    assert!(blocking(|| s.read(&inside)).is_some());
    let r = host
        .request("GET", APP, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(r.body[EXT]["-dn-"], json!(inside), "{:?}", r.body);
    host.stop().await;
}
