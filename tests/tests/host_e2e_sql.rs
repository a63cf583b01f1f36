//! End to end over HTTPS through the Generic SQL plugin against SQLite, PostgreSQL and
//! MariaDB: Entra's create / match / update / disable / delete, checked in the SCIM answer and
//! in the database.

use ecma_host_tests::host::{blocking, start_host};
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::sql::Target;
use serde_json::json;

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn scenario(t: &Target) {
    t.exec(&[
        "DROP TABLE IF EXISTS scim_users",
        &format!(
            "CREATE TABLE scim_users (id {pk}, login VARCHAR(200) NOT NULL UNIQUE, first_name VARCHAR(200), \
             last_name VARCHAR(200), email VARCHAR(200), disabled {b})",
            pk = t.serial_pk(),
            b = t.bool_type()
        ),
        "INSERT INTO scim_users (login, first_name, last_name, email, disabled) VALUES ('existing@contoso.com', 'Ex', 'Isting', 'e@x', false)",
    ]);
    let apps = ecma_host_tests::sql::scim_app_toml(
        "hr",
        &t.url,
        "scim_users",
        "on_disable = { set = \"disabled\", value = true }",
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let host = start_host(&apps, &[plugin_path("generic_sql")]).await;
        host.wait_ready().await;

        let r = host.request("GET", "hr", "/Users?filter=login+eq+%22EXISTING@contoso.com%22", None).await;
        assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
        assert_eq!(r.body["Resources"][0]["active"], true);

        let create = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
            EXT: {"login": "adele@contoso.com", "first_name": "Adele", "last_name": "O'Vance; DROP TABLE scim_users; --", "email": "adele@contoso.com"}});
        let r = host.request("POST", "hr", "/Users", Some(create.clone())).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert!(id.parse::<i64>().is_ok(), "the database generated the anchor: {id}");
        let row = blocking(|| t.rows(&format!("SELECT login, last_name FROM scim_users WHERE id = {id}")));
        assert_eq!(row[0][0].as_deref(), Some("adele@contoso.com"));
        assert_eq!(row[0][1].as_deref(), Some("O'Vance; DROP TABLE scim_users; --"));

        let r = host.request("POST", "hr", "/Users", Some(create)).await;
        assert_eq!((r.status, r.body["scimType"].as_str()), (409, Some("uniqueness")));
        assert_eq!(blocking(|| t.count("SELECT COUNT(*) FROM scim_users")), 2);

        let patch = json!({"schemas": [PATCH], "Operations": [
            {"op": "Replace", "path": format!("{EXT}:last_name"), "value": "Vance"},
            {"op": "Remove", "path": format!("{EXT}:email")}]});
        let r = host.request("PATCH", "hr", &format!("/Users/{id}"), Some(patch)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let row = blocking(|| t.rows(&format!("SELECT last_name, email FROM scim_users WHERE id = {id}")));
        assert_eq!((row[0][0].as_deref(), row[0][1].as_deref()), (Some("Vance"), None));

        let disable = json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let r = host.request("PATCH", "hr", &format!("/Users/{id}"), Some(disable)).await;
        assert_eq!((r.status, &r.body["active"]), (200, &json!(false)), "{:?}", r.body);
        let flag = blocking(|| t.rows(&format!("SELECT disabled FROM scim_users WHERE id = {id}")));
        assert!(matches!(flag[0][0].as_deref(), Some("1" | "true")), "{flag:?}");

        let r = host.request("DELETE", "hr", &format!("/Users/{id}"), None).await;
        assert_eq!(r.status, 204);
        assert_eq!(blocking(|| t.count(&format!("SELECT COUNT(*) FROM scim_users WHERE id = {id}"))), 0);
        assert_eq!(host.request("GET", "hr", &format!("/Users/{id}"), None).await.status, 404);
        host.stop().await;
    });
}

#[test]
fn entra_cycle_through_the_host_on_sqlite() {
    scenario(&Target::sqlite());
}

#[test]
fn entra_cycle_through_the_host_on_postgres() {
    if let Some(t) = Target::postgres() {
        scenario(&t);
    }
}

#[test]
fn entra_cycle_through_the_host_on_mariadb() {
    if let Some(t) = Target::mariadb() {
        scenario(&t);
    }
}
