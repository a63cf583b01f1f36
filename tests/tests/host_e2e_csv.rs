//! End to end over HTTPS: every request of `shared/entra/requests.md` against a real host
//! with the real CSV plugin, checked both in the SCIM answer and in the CSV file.

use ecma_host_tests::host::{TOKEN, TestHost, start_host};
use ecma_host_tests::plugins::plugin_path;
use serde_json::{Value, json};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User";

fn apps(csv: &std::path::Path) -> String {
    format!(
        r#"
[[app]]
name = "contoso"
connector = "csv"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
File = {file:?}
[app.parameters.schema]
"Anchor column" = "textID"
"Columns" = "textID,ContosoLogin,FirstName,LastName,Email,AzureID,disabled"
[[app.object_type]]
scim = "User"
target = "User"
anchor = "textID"
query_attributes = ["ContosoLogin"]
on_disable = {{ set = "disabled", value = true }}

[[app]]
name = "other"
connector = "csv"
token = "another-token-for-the-other-app"
autosync_minutes = 0
[app.parameters.connectivity]
File = {file:?}
[app.parameters.schema]
"Anchor column" = "textID"
[[app.object_type]]
scim = "User"
target = "User"
"#,
        file = csv.display().to_string()
    )
}

fn csv_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

async fn host_with_users(dir: &tempfile::TempDir, rows: &[&str]) -> (TestHost, std::path::PathBuf) {
    let csv = dir.path().join("users.csv");
    let mut text = String::from("textID,ContosoLogin,FirstName,LastName,Email,AzureID,disabled\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&csv, text).unwrap();
    let host = start_host(&apps(&csv), &[plugin_path("csv_connector")]).await;
    host.wait_ready().await;
    (host, csv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_provisioning_cycle_against_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (host, csv) = host_with_users(
        &dir,
        &["existing,existing@contoso.com,Ex,Isting,existing@contoso.com,guid-0,false"],
    )
    .await;

    // 1. Test connection: a random GUID on the matching attribute (PLACEHOLDER for a new app).
    let r = host
        .request(
            "GET",
            "contoso",
            "/Users?filter=PLACEHOLDER+eq+%228646d011-1693-4cd3-9ee6-0d7482ca2219%22",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["totalResults"], 0);
    assert_eq!(r.body["Resources"], json!([]));
    assert_eq!(r.body["startIndex"], 1);
    assert_eq!(r.body["itemsPerPage"], 0);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/scim+json")
    );

    // The imported user is found by its matching attribute, short and URN-qualified.
    let r = host
        .request(
            "GET",
            "contoso",
            "/Users?filter=ContosoLogin+eq+%22EXISTING@contoso.com%22",
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 1, "{:?}", r.body);
    assert_eq!(r.body["Resources"][0]["id"], "existing");
    let q = format!("/Users?filter={EXT}:ContosoLogin+eq+%22existing@contoso.com%22");
    assert_eq!(
        host.request("GET", "contoso", &q, None).await.body["totalResults"],
        1
    );

    // 2. Create.
    let r = host
        .request(
            "GET",
            "contoso",
            "/Users?filter=ContosoLogin+eq+%22adele@contoso.com%22",
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 0);
    let create = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
        EXT: {"ContosoLogin": "adele@contoso.com", "FirstName": "Adele", "LastName": "Vance",
              "AzureID": "1f0c", "textID": "adele", "Email": "adele@contoso.com"}
    });
    let r = host
        .request("POST", "contoso", "/Users", Some(create.clone()))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["id"], "adele");
    assert_eq!(r.body[EXT]["LastName"], "Vance");
    let location = r.headers["location"].to_str().unwrap();
    assert_eq!(location, r.body["meta"]["location"].as_str().unwrap());
    assert!(
        location.ends_with("/ecma2host_contoso/scim/Users/adele"),
        "{location}"
    );
    assert_eq!(
        r.headers["etag"].to_str().unwrap(),
        r.body["meta"]["version"].as_str().unwrap()
    );
    let row = csv_rows(&csv)
        .into_iter()
        .find(|r| r[0] == "adele")
        .expect("row written to the CSV");
    assert_eq!(
        row[1..6],
        [
            "adele@contoso.com",
            "Adele",
            "Vance",
            "adele@contoso.com",
            "1f0c"
        ]
    );
    assert_eq!(row[6], "false", "active users get disabled=false");

    // The same matching value again: 409 uniqueness, nothing written.
    let mut dup = create.clone();
    dup[EXT]["textID"] = json!("adele2");
    let r = host.request("POST", "contoso", "/Users", Some(dup)).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(r.body["scimType"], "uniqueness");
    assert_eq!(r.body["status"], "409");
    assert!(!csv_rows(&csv).iter().any(|r| r[0] == "adele2"));

    // 3. Read back and update.
    let r = host.request("GET", "contoso", "/Users/adele", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[EXT]["FirstName"], "Adele");
    let r = host.request("GET", "contoso", "/Users/nobody", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(r.body["status"], "404");

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": format!("{EXT}:LastName"), "value": "Vance-Smith"},
        {"op": "Add", "path": format!("{EXT}:Email"), "value": "adele.v@contoso.com"},
        {"op": "Remove", "path": format!("{EXT}:AzureID")}
    ]});
    let r = host
        .request("PATCH", "contoso", "/Users/adele", Some(patch))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body[EXT]["LastName"], "Vance-Smith");
    assert_eq!(r.body[EXT]["Email"], "adele.v@contoso.com");
    assert!(r.body[EXT].get("AzureID").is_none());
    let row = csv_rows(&csv)
        .into_iter()
        .find(|r| r[0] == "adele")
        .unwrap();
    assert_eq!(
        (row[3].as_str(), row[4].as_str(), row[5].as_str()),
        ("Vance-Smith", "adele.v@contoso.com", "")
    );

    // 4. Disable with Entra's string boolean: the deprovisioning attribute is set, GET still works.
    let disable = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let r = host
        .request("PATCH", "contoso", "/Users/adele", Some(disable))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["active"], false, "{:?}", r.body);
    let row = csv_rows(&csv)
        .into_iter()
        .find(|r| r[0] == "adele")
        .unwrap();
    assert_eq!(row[6], "true");
    let r = host.request("GET", "contoso", "/Users/adele", None).await;
    assert_eq!((r.status, &r.body["active"]), (200, &json!(false)));

    // 5. Schema discovery lists the connector's attributes in the ECMA2Host extension.
    let r = host.request("GET", "contoso", "/Schemas", None).await;
    assert_eq!(r.status, 200);
    let ext = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == EXT)
        .expect("extension schema");
    let names: Vec<&str> = ext["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for n in [
        "textID",
        "ContosoLogin",
        "FirstName",
        "LastName",
        "Email",
        "AzureID",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }

    // 6. Delete: 204 and gone from the SCIM view and the file.
    let r = host
        .request("DELETE", "contoso", "/Users/adele", None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.body, Value::Null);
    assert_eq!(
        host.request("GET", "contoso", "/Users/adele", None)
            .await
            .status,
        404
    );
    assert!(!csv_rows(&csv).iter().any(|r| r[0] == "adele"));

    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_errors_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (host, _csv) = host_with_users(&dir, &["u1,u1@x,A,B,u1@x,g,false"]).await;
    let r = host
        .request_with_token("GET", "contoso", "/Users", None, None)
        .await;
    assert_eq!(r.status, 401);
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let r = host
        .request_with_token(
            "GET",
            "contoso",
            "/Users",
            None,
            Some("wrong-token-0000000"),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["status"], "401");
    // One application's token never opens another.
    let r = host
        .request_with_token("GET", "other", "/Users", None, Some(TOKEN))
        .await;
    assert_eq!(r.status, 401);
    let r = host
        .request_with_token(
            "GET",
            "other",
            "/Users",
            None,
            Some("another-token-for-the-other-app"),
        )
        .await;
    assert_eq!(r.status, 200);
    // The application name is case-sensitive, like Microsoft's.
    assert_eq!(
        host.request("GET", "Contoso", "/Users", None).await.status,
        404
    );

    let r = host
        .request("GET", "contoso", "/Users?filter=userName+eq", None)
        .await;
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidFilter"))
    );
    let resp = host
        .client
        .post(host.app_url("contoso", "/Users"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scimType"], "invalidSyntax");
    // A body over the limit is refused without being read whole.
    let big = "x".repeat(2 * 1024 * 1024);
    let resp = host
        .client
        .post(host.app_url("contoso", "/Users"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    // Discovery endpoints are read-only.
    let r = host
        .request("POST", "contoso", "/Schemas", Some(json!({})))
        .await;
    assert_eq!(r.status, 405);
    // Health and readiness.
    let r = host
        .client
        .get(format!("{}/healthz", host.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let metrics = host
        .client
        .get(format!("{}/metrics", host.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("ecma_http_requests_total"), "{metrics}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_is_consistent_and_echoes_start_index() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<String> = (0..12)
        .map(|i| format!("u{i:02},u{i}@x,F{i},L{i},u{i}@x,g{i},false"))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let (host, _csv) = host_with_users(&dir, &rows).await;
    let mut seen = Vec::new();
    for start in [1, 6, 11] {
        let r = host
            .request(
                "GET",
                "contoso",
                &format!("/Users?startIndex={start}&count=5"),
                None,
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["startIndex"], start);
        assert_eq!(r.body["totalResults"], 12);
        for u in r.body["Resources"].as_array().unwrap() {
            seen.push(u["id"].as_str().unwrap().to_owned());
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen.len(), 12);
    assert_eq!(sorted.len(), 12, "pages overlap: {seen:?}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_outage_gives_503_and_leaves_the_cache_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (host, csv) = host_with_users(&dir, &["u1,u1@x,A,B,u1@x,g,false"]).await;
    // Make the target unwritable: the CSV folder disappears (a lost share, say).
    let moved = dir.path().join("moved");
    std::fs::create_dir(&moved).unwrap();
    std::fs::rename(&csv, moved.join("users.csv")).unwrap();
    std::fs::remove_dir_all(dir.path().join("moved")).unwrap();
    let lock = dir.path().join("users.csv.lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).unwrap(); // the connector cannot open its lock file
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": format!("{EXT}:LastName"), "value": "Changed"}]});
    let r = host
        .request("PATCH", "contoso", "/Users/u1", Some(patch))
        .await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    let r = host.request("GET", "contoso", "/Users/u1", None).await;
    assert_eq!(
        r.body[EXT]["LastName"], "B",
        "a failed export leaves the cache as it was"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_neither_lose_updates_nor_duplicate_creates() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, "id,login,tags,secret\nu1,u1@x,,keep-me\n").unwrap();
    let apps = format!(
        r#"
[[app]]
name = "tags"
connector = "csv"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
File = {file:?}
[app.parameters.schema]
"Multi-valued columns" = "tags"
[[app.object_type]]
scim = "User"
target = "User"
anchor = "id"
query_attributes = ["login"]
attributes = ["id", "login", "tags"]
"#,
        file = csv.display().to_string()
    );
    let host = std::sync::Arc::new(start_host(&apps, &[plugin_path("csv_connector")]).await);
    host.wait_ready().await;

    // Ten parallel PATCHes, each adding one value to the same multi-valued attribute; every
    // other one inside a /Bulk request, which must be serialised the same way.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": format!("{EXT}:tags"), "value": [format!("t{i}")]}]});
            if i % 2 == 0 {
                let r = host.request("PATCH", "tags", "/Users/u1", Some(patch)).await;
                (r.status, r.body.to_string())
            } else {
                let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                    "Operations": [{"method": "PATCH", "path": "/Users/u1", "data": patch}]});
                let r = host.request("POST", "tags", "/Bulk", Some(bulk)).await;
                let op = r.body["Operations"][0]["status"].as_str().unwrap_or("?").to_owned();
                (if op == "200" { r.status } else { 500 }, r.body.to_string())
            }
        }));
    }
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let r = host.request("GET", "tags", "/Users/u1", None).await;
    let mut tags: Vec<String> = r.body[EXT]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    tags.sort();
    assert_eq!(tags.len(), 10, "no PATCH was lost: {tags:?}");
    let row = csv_rows(&csv).into_iter().find(|r| r[0] == "u1").unwrap();
    assert_eq!(row[2].split(';').count(), 10, "{row:?}");
    assert_eq!(
        row[3], "keep-me",
        "an attribute SCIM does not expose is not deleted by a PATCH"
    );

    // Five parallel creates with the same matching value: one wins, the others get 409.
    let mut tasks = Vec::new();
    for i in 0..5 {
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
                EXT: {"id": format!("dup{i}"), "login": "same@x"}});
            host.request("POST", "tags", "/Users", Some(body))
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409]);
    assert_eq!(
        csv_rows(&csv).iter().filter(|r| r[1] == "same@x").count(),
        1
    );
}
