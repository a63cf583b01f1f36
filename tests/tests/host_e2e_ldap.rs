//! End to end over HTTPS against a real slapd through the Generic LDAP plugin: Entra's user
//! requests, Groups with members as references, and an initial password, checked both in the
//! SCIM answer and in the directory.

use ecma_host_tests::host::{blocking, start_host};
use ecma_host_tests::plugins::plugin_path;
use std::collections::HashSet;

use ecma_host_tests::slapd::{ADMIN_DN, ADMIN_PW, SUFFIX, Slapd, SlapdOptions};
use serde_json::json;

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn apps(s: &Slapd) -> String {
    format!(
        r#"
[[app]]
name = "directory"
connector = "generic-ldap"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
Host = "127.0.0.1"
Port = "{port}"
Binding = "Simple"
"User name" = "{admin}"
Password = {{ secret = "{pw}" }}
"Base DNs" = "{suffix}"
"Object types" = "inetOrgPerson, groupOfNames"
"DN templates" = """
inetOrgPerson = uid={{uid}},ou=people,{suffix}
groupOfNames = cn={{cn}},ou=groups,{suffix}
"""

[[app.object_type]]
scim = "User"
target = "inetOrgPerson"
query_attributes = ["uid"]
attributes = ["uid", "cn", "sn", "givenName", "mail"]
core = {{ userName = "uid" }}

[[app.object_type]]
scim = "Group"
target = "groupOfNames"
attributes = ["cn", "description"]
core = {{ displayName = "cn" }}
members_attribute = "member"
"#,
        port = s.port,
        admin = ADMIN_DN,
        pw = ADMIN_PW,
        suffix = SUFFIX
    )
}

fn attr(s: &Slapd, dn: &str, name: &str) -> Vec<String> {
    blocking(|| {
        s.read(dn)
            .map(|e| e.attrs.get(name).cloned().unwrap_or_default())
            .unwrap_or_default()
    })
}

fn exists(s: &Slapd, dn: &str) -> bool {
    blocking(|| s.read(dn).is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_users_groups_and_passwords_against_slapd() {
    let Some(s) = blocking(Slapd::start) else {
        return;
    };
    let existing_dn = format!("uid=existing,ou=people,{SUFFIX}");
    blocking(|| {
        s.create_ou("people");
        s.create_ou("groups");
        let mut c = s.admin();
        let r = c
            .add(
                &existing_dn,
                vec![
                    ("objectClass", ["inetOrgPerson"].into()),
                    ("uid", ["existing"].into()),
                    ("cn", ["Ex Isting"].into()),
                    ("sn", ["Isting"].into()),
                ],
            )
            .unwrap();
        assert_eq!(r.rc, 0, "{r:?}");
    });
    let host = start_host(&apps(&s), &[plugin_path("generic_ldap")]).await;
    host.wait_ready().await;

    // Test connection and matching.
    let r = host
        .request(
            "GET",
            "directory",
            "/Users?filter=PLACEHOLDER+eq+%22d3b07384%22",
            None,
        )
        .await;
    assert_eq!(
        (r.status, &r.body["totalResults"]),
        (200, &json!(0)),
        "{:?}",
        r.body
    );
    let r = host
        .request(
            "GET",
            "directory",
            "/Users?filter=userName+eq+%22EXISTING%22",
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
    let existing_id = r.body["Resources"][0]["id"].as_str().unwrap().to_owned();
    let uuid = attr(&s, &existing_dn, "entryUUID");
    assert_eq!(
        vec![existing_id.clone()],
        uuid,
        "the SCIM id is the entryUUID anchor"
    );

    // Create with an initial password (SetPassword after the Add), then bind with it.
    let create = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
        "userName": "adele", "password": "Initial-Passw0rd!",
        EXT: {"cn": "Adele Vance", "sn": "Vance", "mail": "adele@contoso.com"}});
    let r = host
        .request("POST", "directory", "/Users", Some(create.clone()))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(
        r.body.get("password").is_none(),
        "passwords are never returned"
    );
    let adele_id = r.body["id"].as_str().unwrap().to_owned();
    let adele_dn = format!("uid=adele,ou=people,{SUFFIX}");
    assert_eq!(attr(&s, &adele_dn, "entryUUID"), vec![adele_id.clone()]);
    assert_eq!(attr(&s, &adele_dn, "mail"), vec!["adele@contoso.com"]);
    let bind = blocking(|| {
        let mut user_conn = ldap3::LdapConn::new(&s.url).unwrap();
        user_conn
            .simple_bind(&adele_dn, "Initial-Passw0rd!")
            .unwrap()
    });
    assert_eq!(bind.rc, 0, "bind with the initial password: {bind:?}");

    let r = host
        .request("POST", "directory", "/Users", Some(create))
        .await;
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (409, Some("uniqueness"))
    );

    // Update.
    let patch = json!({"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": format!("{EXT}:sn"), "value": "Vance-Smith"},
        {"op": "Remove", "path": format!("{EXT}:mail")}]});
    let r = host
        .request(
            "PATCH",
            "directory",
            &format!("/Users/{adele_id}"),
            Some(patch),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(attr(&s, &adele_dn, "sn"), vec!["Vance-Smith"]);
    assert!(attr(&s, &adele_dn, "mail").is_empty());

    // Groups: create with a member, look up without members, add and remove members.
    let r = host
        .request(
            "POST",
            "directory",
            "/Groups",
            Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Sales", "members": [{"value": adele_id}]})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let group_id = r.body["id"].as_str().unwrap().to_owned();
    let group_dn = format!("cn=Sales,ou=groups,{SUFFIX}");
    let members = |s: &Slapd| {
        let mut m: Vec<String> = attr(s, &group_dn, "member")
            .into_iter()
            .map(|d| d.to_lowercase())
            .collect();
        m.sort();
        m
    };
    assert_eq!(
        members(&s),
        vec![adele_dn.to_lowercase()],
        "members are DNs in the directory"
    );
    let r = host
        .request(
            "GET",
            "directory",
            "/Groups?excludedAttributes=members&filter=displayName+eq+%22Sales%22",
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
    assert!(r.body["Resources"][0].get("members").is_none());
    let r = host
        .request("GET", "directory", &format!("/Groups/{group_id}"), None)
        .await;
    assert_eq!(
        r.body["members"],
        json!([{"value": adele_id}]),
        "members are SCIM ids in SCIM"
    );

    let add = json!({"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "members", "value": [{"$ref": null, "value": existing_id}]}]});
    let r = host
        .request(
            "PATCH",
            "directory",
            &format!("/Groups/{group_id}"),
            Some(add.clone()),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut both = vec![adele_dn.to_lowercase(), existing_dn.to_lowercase()];
    both.sort();
    assert_eq!(members(&s), both);
    // Adding a member that is already there succeeds.
    let r = host
        .request(
            "PATCH",
            "directory",
            &format!("/Groups/{group_id}"),
            Some(add),
        )
        .await;
    assert_eq!(r.status, 200);
    let remove = json!({"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{adele_id}\"]")}]});
    let r = host
        .request(
            "PATCH",
            "directory",
            &format!("/Groups/{group_id}"),
            Some(remove.clone()),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(members(&s), vec![existing_dn.to_lowercase()]);
    // Removing one that is not there succeeds too.
    let r = host
        .request(
            "PATCH",
            "directory",
            &format!("/Groups/{group_id}"),
            Some(remove),
        )
        .await;
    assert_eq!(r.status, 200);

    // Entra creates groups empty and adds members afterwards: groupOfNames requires a
    // member, so the connector keeps a placeholder that SCIM never shows.
    let r = host
        .request(
            "POST",
            "directory",
            "/Groups",
            Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "externalId": "e1", "displayName": "Empty", "members": []})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let empty_id = r.body["id"].as_str().unwrap().to_owned();
    let empty_dn = format!("cn=Empty,ou=groups,{SUFFIX}");
    assert_eq!(
        attr(&s, &empty_dn, "member"),
        vec!["cn=empty-membership-placeholder"]
    );
    let r = host
        .request("GET", "directory", &format!("/Groups/{empty_id}"), None)
        .await;
    assert!(
        r.body.get("members").is_none_or(|m| m == &json!([])),
        "{:?}",
        r.body
    );
    let add = json!({"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": existing_id}]}]});
    let r = host
        .request(
            "PATCH",
            "directory",
            &format!("/Groups/{empty_id}"),
            Some(add),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["members"], json!([{"value": existing_id}]));
    assert_eq!(
        attr(&s, &empty_dn, "member")
            .into_iter()
            .map(|d| d.to_lowercase())
            .collect::<Vec<_>>(),
        vec![existing_dn.to_lowercase()]
    );
    assert_eq!(
        host.request("DELETE", "directory", &format!("/Groups/{empty_id}"), None)
            .await
            .status,
        204
    );

    // Delete group and user.
    assert_eq!(
        host.request("DELETE", "directory", &format!("/Groups/{group_id}"), None)
            .await
            .status,
        204
    );
    assert!(!exists(&s, &group_dn));
    assert_eq!(
        host.request("DELETE", "directory", &format!("/Users/{adele_id}"), None)
            .await
            .status,
        204
    );
    assert!(!exists(&s, &adele_dn));
    assert_eq!(
        host.request("GET", "directory", &format!("/Users/{adele_id}"), None)
            .await
            .status,
        404
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watermarks_persist_so_a_restart_resumes_with_a_delta() {
    use ecma_host::app::ImportMode;
    let Some(s) = blocking(Slapd::start) else {
        return;
    };
    blocking(|| {
        s.create_ou("people");
        s.create_ou("groups");
    });
    let state = tempfile::tempdir().unwrap();
    let build = offline_app(&s, state.path(), "");
    let first = build();
    assert!(
        first.import(ImportMode::Auto, false).await.unwrap().full,
        "no watermark yet: full"
    );
    drop(first);
    // "Restart": a new application object over the same state directory.
    let second = build();
    let summary = second.import(ImportMode::Auto, false).await.unwrap();
    assert!(
        !summary.full,
        "the persisted watermark makes the next import a delta"
    );
    assert!(state.path().join("apps/directory/watermarks.json").exists());
}

/// A delta the connector cannot run from the stored watermark (here: content sync against a
/// provider without a session log, after a delete) becomes a full import, so the delete
/// still reaches the cache; an explicit delta reports the error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delta_that_needs_a_full_import_falls_back_to_one() {
    use ecma_host::app::ImportMode;
    let Some(s) = blocking(|| {
        Slapd::start_with(SlapdOptions {
            no_accesslog: true,
            no_sync_sessionlog: true,
            ..Default::default()
        })
    }) else {
        return;
    };
    let doomed = blocking(|| {
        let people = s.create_ou("people");
        s.create_ou("groups");
        let dn = format!("uid=doomed,{people}");
        s.admin()
            .add(
                &dn,
                vec![
                    ("objectClass", HashSet::from(["inetOrgPerson"])),
                    ("uid", HashSet::from(["doomed"])),
                    ("cn", HashSet::from(["Doomed"])),
                    ("sn", HashSet::from(["D"])),
                ],
            )
            .unwrap()
            .success()
            .unwrap();
        dn
    });
    let state = tempfile::tempdir().unwrap();
    let app = offline_app(&s, state.path(), "\"Delta strategy\" = \"ContentSync\"\n")();
    let users = |app: &ecma_host::app::Application| {
        app.cache_dump()["inetOrgPerson"].as_array().unwrap().len()
    };
    assert!(app.import(ImportMode::Auto, false).await.unwrap().full);
    assert_eq!(users(&app), 1);
    blocking(|| s.admin().delete(&doomed).unwrap().success().unwrap());
    let err = app.import(ImportMode::Delta, false).await.unwrap_err();
    assert!(err.to_string().contains("present phase"), "{err}");
    assert_eq!(users(&app), 1, "a failed delta leaves the cache as it was");
    let summary = app.import(ImportMode::Auto, false).await.unwrap();
    assert!(summary.full, "fell back to a full import: {summary:?}");
    assert_eq!(users(&app), 0, "the delete reached the cache");
}

/// An application over the harness slapd built without the HTTP layer, over `state`; each
/// call builds a new one (a "restart").
fn offline_app(
    s: &Slapd,
    state: &std::path::Path,
    extra_parameters: &str,
) -> impl Fn() -> ecma_host::app::Application {
    use ecma_host::config::Config;
    use ecma_host::plugins::PluginRegistry;
    let text = format!(
        "[host]\nstate_dir = {:?}\nplugins_dirs = []\nplugin_files = [{:?}]\n{}",
        state.display().to_string(),
        plugin_path("generic_ldap").display().to_string(),
        apps(s).replace("{TOKEN}", "abcdefghijklmnop").replace(
            "[app.parameters.connectivity]\n",
            &format!("[app.parameters.connectivity]\n{extra_parameters}")
        )
    );
    let config =
        Config::from_toml(&text, std::path::Path::new("t.toml"), std::iter::empty()).unwrap();
    let registry = PluginRegistry::discover(&[], &config.host.plugin_files);
    move || {
        ecma_host::app::Application::new(
            &config.apps[0],
            &config.host,
            &registry,
            "https://h/ecma2host_directory/scim",
        )
        .unwrap()
    }
}
