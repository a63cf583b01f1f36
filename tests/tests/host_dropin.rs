//! What an existing Entra application sends keeps working: the DN as Microsoft's host carries
//! it (`-dn-` in the ECMA2Host extension: create, rename, read) and a create's password in the
//! same operation as its Add, against slapd; and attribute
//! directions (an import-only column is readOnly in `/Schemas` and refused by name on writes)
//! against SQLite.

use ecma_host_tests::host::{blocking, start_host};
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::slapd::{SUFFIX, Slapd, users_app_toml};
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn ext_attribute<'a>(schemas: &'a Value, name: &str) -> &'a Value {
    schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == EXT)
        .and_then(|s| {
            s["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == name)
        })
        .unwrap_or_else(|| panic!("no {name} in the extension: {schemas}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dn_travels_as_microsofts_host_carries_it() {
    let Some(s) = blocking(Slapd::start) else {
        return;
    };
    blocking(|| {
        s.create_ou("people");
        s.create_ou("staff");
    });
    let host = start_host(
        &users_app_toml(&s, "directory", ""),
        &[plugin_path("generic_ldap")],
    )
    .await;
    host.wait_ready().await;

    let schemas = host
        .request("GET", "directory", "/Schemas", None)
        .await
        .body;
    assert_eq!(
        ext_attribute(&schemas, "-dn-")["mutability"],
        "readWrite",
        "slapd renames, so -dn- can change"
    );

    // Microsoft's LDAP tutorial maps the DN from an expression: the create names its DN,
    // which differs from the DN template's.
    let chosen = format!("uid=dnuser,ou=staff,{SUFFIX}");
    let r = host
        .request(
            "POST",
            "directory",
            "/Users",
            Some(json!({"schemas": [CORE, EXT], "userName": "dnuser",
                EXT: {"-dn-": chosen, "cn": "Dn User", "sn": "User"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body[EXT]["-dn-"], json!(chosen));
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(
        blocking(|| s.read(&chosen)).is_some(),
        "created at {chosen}"
    );
    assert!(
        blocking(|| s.read(&format!("uid=dnuser,ou=people,{SUFFIX}"))).is_none(),
        "the template's DN was not used"
    );

    // A read returns the current DN.
    let r = host
        .request("GET", "directory", &format!("/Users/{id}"), None)
        .await;
    assert_eq!(r.body[EXT]["-dn-"], json!(chosen), "{:?}", r.body);

    // A PATCH of -dn- is a rename; the id (entryUUID) stays.
    let renamed = format!("uid=dnuser,ou=people,{SUFFIX}");
    let r = host
        .request(
            "PATCH",
            "directory",
            &format!("/Users/{id}"),
            Some(json!({"schemas": [PATCH], "Operations": [
                {"op": "replace", "path": format!("{EXT}:-dn-"), "value": renamed}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body[EXT]["-dn-"], json!(renamed));
    assert_eq!(r.body["id"], json!(id));
    assert!(blocking(|| s.read(&chosen)).is_none(), "moved away");
    let entry = blocking(|| s.read(&renamed)).expect("renamed entry");
    assert_eq!(entry.attrs["entryUUID"], vec![id.clone()]);

    // The same DN in another case is no rename.
    let r = host
        .request(
            "PATCH",
            "directory",
            &format!("/Users/{id}"),
            Some(json!({"schemas": [PATCH], "Operations": [
                {"op": "replace", "path": format!("{EXT}:-dn-"), "value": renamed.to_uppercase()}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body[EXT]["-dn-"], json!(renamed));

    // The password travels with the Add (ECMA2's ExportPasswordInFirstPass, which the
    // connector declares for its attribute password method): one operation, no second call.
    let r = host
        .request(
            "POST",
            "directory",
            "/Users",
            Some(json!({"schemas": [CORE, EXT], "userName": "firstpass",
                "password": "First-Passw0rd!", EXT: {"cn": "F", "sn": "P"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let labels = |pass| [("app", "directory"), ("pass", pass)];
    assert_eq!(
        host.metric_with("ecma_initial_passwords_total", &labels("first"))
            .await,
        1.0
    );
    assert_eq!(
        host.metric_with("ecma_initial_passwords_total", &labels("second"))
            .await,
        0.0
    );
    let bind = blocking(|| {
        ldap3::LdapConn::new(&s.url)
            .unwrap()
            .simple_bind(
                &format!("uid=firstpass,ou=people,{SUFFIX}"),
                "First-Passw0rd!",
            )
            .unwrap()
    });
    assert_eq!(bind.rc, 0, "bind with the initial password: {bind:?}");

    // Without -dn-, the DN template applies.
    let r = host
        .request(
            "POST",
            "directory",
            "/Users",
            Some(json!({"schemas": [CORE, EXT], "userName": "templated",
                EXT: {"cn": "T", "sn": "T"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        r.body[EXT]["-dn-"],
        json!(format!("uid=templated,ou=people,{SUFFIX}"))
    );
    host.stop().await;
}

#[test]
fn an_import_only_column_is_read_only_and_refused_by_name() {
    let db = ecma_host_tests::sql::Target::sqlite();
    db.exec(&[
        "CREATE TABLE people (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, \
         first_name TEXT, badge TEXT)",
        "INSERT INTO people (login, first_name, badge) VALUES ('ada', 'Ada', 'B-1')",
    ]);
    let apps = ecma_host_tests::sql::scim_app_toml("dirs", &db.connector_url, "people", "")
        .replace(
            "\"Anchor columns\" = \"id\"",
            "\"Anchor columns\" = \"id\"\n\"Attribute directions\" = \"badge:import\"",
        )
        .replace(
            "attributes = [\"login\", \"first_name\", \"last_name\", \"email\"]",
            "attributes = [\"login\", \"first_name\", \"badge\"]",
        );
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = start_host(&apps, &[plugin_path("generic_sql")]).await;
        host.wait_ready().await;

        let schemas = host.request("GET", "dirs", "/Schemas", None).await.body;
        assert_eq!(ext_attribute(&schemas, "badge")["mutability"], "readOnly");
        assert_eq!(
            ext_attribute(&schemas, "first_name")["mutability"],
            "readWrite"
        );

        let r = host
            .request("GET", "dirs", "/Users?filter=login+eq+%22ada%22", None)
            .await;
        let ada = r.body["Resources"][0].clone();
        assert_eq!(ada[EXT]["badge"], "B-1", "imported values are read");
        let id = ada["id"].as_str().unwrap().to_owned();

        let r = host
            .request(
                "PATCH",
                "dirs",
                &format!("/Users/{id}"),
                Some(json!({"schemas": [PATCH], "Operations": [
                    {"op": "replace", "path": format!("{EXT}:badge"), "value": "B-2"}]})),
            )
            .await;
        assert_eq!(
            (r.status, r.body["scimType"].as_str()),
            (400, Some("mutability")),
            "{:?}",
            r.body
        );
        assert!(r.body["detail"].as_str().unwrap().contains("badge"));

        let r = host
            .request(
                "POST",
                "dirs",
                "/Users",
                Some(json!({"schemas": [CORE, EXT], EXT: {"login": "bob", "badge": "B-9"}})),
            )
            .await;
        assert_eq!(
            (r.status, r.body["scimType"].as_str()),
            (400, Some("mutability")),
            "{:?}",
            r.body
        );

        // A PUT that echoes what it read, with another first name, passes and keeps the badge.
        let mut put = ada.clone();
        put[EXT]["first_name"] = json!("Augusta");
        let r = host
            .request("PUT", "dirs", &format!("/Users/{id}"), Some(put))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body[EXT]["badge"], "B-1");
        let row = blocking(|| db.rows("SELECT first_name, badge FROM people WHERE login = 'ada'"));
        assert_eq!(
            row[0],
            vec![Some("Augusta".to_owned()), Some("B-1".to_owned())]
        );
        host.stop().await;
    });
    drop(rt);
}

/// Microsoft's SQL tutorial creates `Employees` without quotes: PostgreSQL stores it (and its
/// columns) in lower case, MariaDB on Linux keeps the case. Configured as the tutorial writes
/// it, `"Table" = "Employees"`, Entra's create / match / update / delete works on both.
fn tutorial_table_flow(t: &ecma_host_tests::sql::Target) {
    t.exec(&[
        "DROP TABLE IF EXISTS Employees",
        &format!(
            "CREATE TABLE Employees (EmployeeId {pk}, ContosoLogin VARCHAR(128) NOT NULL, \
             FirstName VARCHAR(64), LastName VARCHAR(64), Email VARCHAR(128))",
            pk = t.serial_pk()
        ),
        "INSERT INTO Employees (ContosoLogin, FirstName) VALUES ('existing@contoso.com', 'Ex')",
    ]);
    let apps = format!(
        r#"
[[app]]
name = "tutorial"
connector = "generic-sql"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
"Connection string" = {url:?}
[app.parameters.schema]
"Table" = "Employees"
"Anchor columns" = "EmployeeId"
[[app.object_type]]
scim = "User"
target = "User"
query_attributes = ["ContosoLogin"]
attributes = ["ContosoLogin", "FirstName", "LastName", "Email"]
"#,
        url = t.connector_url
    );
    let rt = ecma_host_tests::host::test_runtime();
    rt.block_on(async {
        let host = start_host(&apps, &[plugin_path("generic_sql")]).await;
        host.wait_ready().await;
        let r = host
            .request(
                "GET",
                "tutorial",
                &format!("/Users?filter={EXT}:ContosoLogin+eq+%22existing@contoso.com%22"),
                None,
            )
            .await;
        assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
        let r = host
            .request(
                "POST",
                "tutorial",
                "/Users",
                Some(json!({"schemas": [CORE, EXT],
                    EXT: {"ContosoLogin": "adele@contoso.com", "FirstName": "Adele", "LastName": "Vance"}})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let r = host
            .request(
                "PATCH",
                "tutorial",
                &format!("/Users/{id}"),
                Some(json!({"schemas": [PATCH], "Operations": [
                    {"op": "Replace", "path": format!("{EXT}:FirstName"), "value": "Adèle"}]})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let row = blocking(|| {
            t.rows("SELECT FirstName, LastName FROM Employees WHERE ContosoLogin = 'adele@contoso.com'")
        });
        assert_eq!(
            row,
            vec![vec![Some("Adèle".to_owned()), Some("Vance".to_owned())]]
        );
        let r = host
            .request("DELETE", "tutorial", &format!("/Users/{id}"), None)
            .await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        assert_eq!(
            blocking(|| t.count("SELECT COUNT(*) FROM Employees")),
            1,
            "only the existing row is left"
        );
        host.stop().await;
    });
    drop(rt);
}

#[test]
fn microsofts_tutorial_table_on_postgresql() {
    let Some(pg) = ecma_host_tests::sql::Target::postgres() else {
        return;
    };
    tutorial_table_flow(&pg);
}

#[test]
fn microsofts_tutorial_table_on_mariadb() {
    let Some(m) = ecma_host_tests::sql::Target::mariadb() else {
        return;
    };
    tutorial_table_flow(&m);
}
