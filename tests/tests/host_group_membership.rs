//! Group membership PATCHes: Entra's forms (`add`/`remove` on `members` by value) are applied
//! to the cached record without rendering the group; every other form goes through the
//! general PATCH path. The same changes, sent to one group in Entra's forms and to a twin
//! group in general forms, must leave both with the same members: in the SCIM answers, in
//! the target (a real slapd, where members are DNs; a CSV file, where they are anchors),
//! and in the cache after a full import re-reads the target.

use std::collections::BTreeSet;
use std::path::Path;

use ecma_host::app::ImportMode;
use ecma_host_tests::host::{TOKEN, TestHost, blocking, start_host};
use ecma_host_tests::plugins::plugin_path;
use ecma_host_tests::slapd::{SUFFIX, Slapd, users_and_groups_app_toml};
use serde_json::{Value, json};

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": ops})
}

fn values(ids: &[&str]) -> Value {
    ids.iter().map(|id| json!({"value": id})).collect()
}

/// One change, in Entra's form (the member fast path) and in a general form.
struct Step {
    fast: Value,
    general: Value,
    add: Vec<String>,
    remove: Vec<String>,
}

fn steps(ids: &[String; 4]) -> Vec<Step> {
    let [a, b, c, d] = ids.each_ref().map(String::as_str);
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        Step {
            fast: json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": b}]}]),
            general: json!([{"op": "add", "value": {"members": values(&[b])}}]),
            add: owned(&[b]),
            remove: vec![],
        },
        // Already a member: succeeds, changes nothing.
        Step {
            fast: json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": b}]}]),
            general: json!([{"op": "add", "value": {"members": values(&[b])}}]),
            add: vec![],
            remove: vec![],
        },
        Step {
            fast: json!([
                {"op": "add", "path": "members", "value": values(&[c, d])},
                {"op": "remove", "path": format!("members[value eq \"{a}\"]")}]),
            general: json!([
                {"op": "add", "value": {"members": values(&[c, d])}},
                {"op": "remove", "path": format!("members[value eq \"{a}\" or value eq \"nobody\"]")}]),
            add: owned(&[c, d]),
            remove: owned(&[a]),
        },
        // Not a member: succeeds, changes nothing.
        Step {
            fast: json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "nobody"}]}]),
            general: json!([{"op": "remove", "path": "members[value eq \"nobody\" or value eq \"none\"]"}]),
            add: vec![],
            remove: vec![],
        },
        // The last members go: the attribute goes.
        Step {
            fast: json!([{"op": "Remove", "path": "members", "value": values(&[b, c, d])}]),
            general: json!([{"op": "remove", "path": format!(
                "members[value eq \"{b}\" or value eq \"{c}\" or value eq \"{d}\"]")}]),
            add: vec![],
            remove: owned(&[b, c, d]),
        },
        // And comes back.
        Step {
            fast: json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": a}]}]),
            general: json!([{"op": "add", "value": {"members": values(&[a])}}]),
            add: owned(&[a]),
            remove: vec![],
        },
    ]
}

fn member_ids(resource: &Value) -> BTreeSet<String> {
    resource["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect()
}

async fn create_group(host: &TestHost, app: &str, name: &str, first: &str) -> String {
    let r = host
        .request(
            "POST",
            app,
            "/Groups",
            Some(json!({"schemas": [GROUP], "displayName": name, "members": values(&[first])})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn members_in_scim(host: &TestHost, app: &str, id: &str) -> BTreeSet<String> {
    let r = host
        .request("GET", app, &format!("/Groups/{id}"), None)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    member_ids(&r.body)
}

/// Runs the steps on the groups "Fast" and "General" of `app` (`groups`: their ids; each
/// has the one member `ids[0]`); `target` reads a group's members (by display name) from
/// the target.
async fn same_members_both_ways(
    host: &TestHost,
    app: &str,
    groups: (String, String),
    ids: &[String; 4],
    target: impl Fn(&str) -> BTreeSet<String>,
) {
    let (fast, general) = groups;
    let mut expected: BTreeSet<String> = [ids[0].clone()].into();
    for (n, step) in steps(ids).into_iter().enumerate() {
        // Entra sends no query; other clients leave the members out of the answer.
        let query = if n % 2 == 0 {
            ""
        } else {
            "?excludedAttributes=members"
        };
        let r = host
            .request(
                "PATCH",
                app,
                &format!("/Groups/{fast}{query}"),
                Some(patch(step.fast)),
            )
            .await;
        assert_eq!(r.status, 200, "step {n}, fast: {:?}", r.body);
        expected.retain(|m| !step.remove.contains(m));
        expected.extend(step.add);
        if query.is_empty() {
            assert_eq!(member_ids(&r.body), expected, "step {n}: the answer");
            // The answer, printed from the member values apart, is the group a read serves.
            let read = host
                .request("GET", app, &format!("/Groups/{fast}"), None)
                .await;
            assert_eq!(r.body, read.body, "step {n}: the answer is the group read");
        } else {
            assert!(r.body.get("members").is_none(), "step {n}: {:?}", r.body);
            assert_eq!(r.body["displayName"], "Fast");
        }
        assert!(r.headers.get("etag").is_some(), "step {n}: an ETag");
        let r = host
            .request(
                "PATCH",
                app,
                &format!("/Groups/{general}"),
                Some(patch(step.general)),
            )
            .await;
        assert_eq!(r.status, 200, "step {n}, general: {:?}", r.body);
        assert_eq!(
            members_in_scim(host, app, &fast).await,
            expected,
            "step {n}"
        );
        assert_eq!(
            members_in_scim(host, app, &general).await,
            expected,
            "step {n}"
        );
        let (in_fast, in_general) = blocking(|| (target("Fast"), target("General")));
        assert_eq!(in_fast, in_general, "step {n}: the target");
        assert_eq!(in_fast.len(), expected.len(), "step {n}: {in_fast:?}");
    }

    // If-Match is checked on the fast path too.
    let r = host
        .request("GET", app, &format!("/Groups/{fast}"), None)
        .await;
    let etag = r.headers["etag"].to_str().unwrap().to_owned();
    let add = patch(json!([{"op": "Add", "path": "members", "value": values(&[&ids[1]])}]));
    let stale = host
        .client
        .patch(host.app_url(app, &format!("/Groups/{fast}")))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .header("if-match", "W/\"0000000000000000\"")
        .body(add.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 412);
    assert_eq!(members_in_scim(host, app, &fast).await, expected);
    let current = host
        .client
        .patch(host.app_url(app, &format!("/Groups/{fast}")))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .header("if-match", etag)
        .body(add.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(current.status().as_u16(), 200);
    expected.insert(ids[1].clone());
    assert_eq!(members_in_scim(host, app, &fast).await, expected);

    // What the cache holds is what the target holds.
    host.application(app)
        .import(ImportMode::Full, false)
        .await
        .expect("a full import");
    assert_eq!(members_in_scim(host, app, &fast).await, expected);
    expected.remove(&ids[1]);
    assert_eq!(members_in_scim(host, app, &general).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_patches_agree_with_the_general_path_against_slapd() {
    let Some(s) = blocking(Slapd::start) else {
        return;
    };
    let uids = ["m0", "m1", "m2", "m3"];
    let host = host_over_people(&s, &uids).await;
    let mut ids = Vec::new();
    for uid in uids {
        ids.push(user_id(&host, uid).await.expect("imported"));
    }
    let ids: [String; 4] = ids.try_into().unwrap();
    let target = |group: &str| -> BTreeSet<String> {
        s.read(&format!("cn={group},ou=groups,{SUFFIX}"))
            .and_then(|e| e.attrs.get("member").cloned())
            .unwrap_or_default()
            .into_iter()
            .map(|dn| dn.to_lowercase())
            .filter(|dn| dn.starts_with("uid="))
            .collect()
    };
    let groups = (
        create_group(&host, "directory", "Fast", &ids[0]).await,
        create_group(&host, "directory", "General", &ids[0]).await,
    );
    same_members_both_ways(&host, "directory", groups, &ids, target).await;
    host.stop().await;
}

fn person(uid: &str) -> Vec<(&str, std::collections::HashSet<&str>)> {
    vec![
        ("objectClass", ["inetOrgPerson"].into()),
        ("uid", [uid].into()),
        ("cn", [uid].into()),
        ("sn", [uid].into()),
    ]
}

/// `ou=people` holding `uids` and an empty `ou=groups` in `s`, and a host with one
/// users-and-groups application ("directory") over them, ready.
async fn host_over_people(s: &Slapd, uids: &[&str]) -> TestHost {
    blocking(|| {
        s.create_ou("people");
        s.create_ou("groups");
        let mut c = s.admin();
        for uid in uids {
            let r = c
                .add(&format!("uid={uid},ou=people,{SUFFIX}"), person(uid))
                .unwrap();
            assert_eq!(r.rc, 0, "{r:?}");
        }
    });
    let host = start_host(
        &users_and_groups_app_toml(s, "directory", ""),
        &[plugin_path("generic_ldap")],
    )
    .await;
    host.wait_ready().await;
    host
}

/// The SCIM id of user `uid` of the "directory" application, when it has one.
async fn user_id(host: &TestHost, uid: &str) -> Option<String> {
    let path = format!("/Users?filter=userName+eq+%22{uid}%22");
    let r = host.request("GET", "directory", &path, None).await;
    r.body["Resources"][0]["id"].as_str().map(str::to_owned)
}

/// One PATCH in Entra's form (no query: the answer shows every member); its answer must be
/// the group a read serves. Returns the member ids the answer shows.
async fn entra_patch_answers_as_read(
    host: &TestHost,
    app: &str,
    group: &str,
    ops: Value,
) -> BTreeSet<String> {
    let path = format!("/Groups/{group}");
    let r = host.request("PATCH", app, &path, Some(patch(ops))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let read = host.request("GET", app, &path, None).await;
    assert_eq!(r.body, read.body, "the answer is the group a read serves");
    member_ids(&r.body)
}

/// Consecutive membership PATCHes of one group start from the members the last answer
/// showed (resolved from DNs to ids once); when what those DNs refer to changes in between
/// (a user deleted, a user re-read with another id), the next answer shows what they refer
/// to now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_answers_follow_what_the_member_dns_refer_to() {
    let Some(s) = blocking(Slapd::start) else {
        return;
    };
    let uids = ["p0", "p1", "p2", "p3", "p4"];
    let host = host_over_people(&s, &uids).await;
    let mut ids = Vec::new();
    for uid in uids {
        ids.push(user_id(&host, uid).await.expect("imported"));
    }
    let group = create_group(&host, "directory", "Followed", &ids[0]).await;
    let add = |id: &str| json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}]}]);
    let shown = entra_patch_answers_as_read(&host, "directory", &group, add(&ids[1])).await;
    assert_eq!(shown, [ids[0].clone(), ids[1].clone()].into());
    // Unchanged in between: the next answers build on this one.
    let shown = entra_patch_answers_as_read(&host, "directory", &group, add(&ids[2])).await;
    assert_eq!(shown.len(), 3);
    let remove = json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[2])}]);
    let shown = entra_patch_answers_as_read(&host, "directory", &group, remove).await;
    assert_eq!(shown, [ids[0].clone(), ids[1].clone()].into());

    // p1 is deleted: the group still holds its DN (this slapd keeps no referential
    // integrity), which now refers to no user and shows as itself.
    let r = host
        .request("DELETE", "directory", &format!("/Users/{}", ids[1]), None)
        .await;
    assert_eq!(r.status, 204);
    let shown = entra_patch_answers_as_read(&host, "directory", &group, add(&ids[3])).await;
    let p1_dn = format!("uid=p1,ou=people,{SUFFIX}");
    assert!(!shown.contains(&ids[1]), "{shown:?}");
    assert!(
        shown.iter().any(|m| m.eq_ignore_ascii_case(&p1_dn)),
        "{shown:?}"
    );

    // p1 comes back in the directory with a new entryUUID; a full import reads it.
    blocking(|| {
        let r = s
            .admin()
            .add(&format!("uid=p1,ou=people,{SUFFIX}"), person("p1"))
            .unwrap();
        assert_eq!(r.rc, 0, "{r:?}");
    });
    host.application("directory")
        .import(ImportMode::Full, false)
        .await
        .expect("a full import");
    let new_p1 = user_id(&host, "p1").await.expect("re-imported");
    assert_ne!(new_p1, ids[1]);
    let shown = entra_patch_answers_as_read(&host, "directory", &group, add(&ids[4])).await;
    let expected: BTreeSet<String> = [&ids[0], &new_p1, &ids[3], &ids[4]]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(shown, expected);
    host.stop().await;
}

fn csv_apps(file: &Path) -> String {
    format!(
        r#"
[[app]]
name = "files"
connector = "csv"
token = "{{TOKEN}}"
autosync_minutes = 0
[app.parameters.connectivity]
File = "{file}"
[app.parameters.schema]
"Object type" = "Group"
"Multi-valued columns" = "members"
[[app.object_type]]
scim = "Group"
target = "Group"
anchor = "id"
members_attribute = "members"
core = {{ displayName = "displayName" }}
"#,
        file = file.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_patches_agree_with_the_general_path_in_a_csv_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("groups.csv");
    // The CSV connector takes its anchor from the file (SCIM creates need one mapped).
    std::fs::write(
        &file,
        "id,displayName,members\ng-fast,Fast,u-0\ng-general,General,u-0\n",
    )
    .unwrap();
    let host = start_host(&csv_apps(&file), &[plugin_path("csv_connector")]).await;
    host.wait_ready().await;
    // Anchors of objects the target keeps elsewhere: CSV members are plain references.
    let ids = ["u-0", "u-1", "U-2", "u-3"].map(str::to_owned);
    let target = |group: &str| -> BTreeSet<String> {
        // Ids, names and members here have no commas or quotes: the columns split plainly.
        std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|r| r.get(1) == Some(&group))
            .map(|r| {
                r[2].split(';')
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let groups = ("g-fast".to_owned(), "g-general".to_owned());
    same_members_both_ways(&host, "files", groups, &ids, target).await;
    host.stop().await;
}

/// `group_patch_answer = "no_content"`: a group PATCH answers 204 with the new ETag (RFC 7644
/// §3.5.2), in Entra's form and in a general one, and the change is made all the same; a
/// request naming `attributes` still gets the group (the RFC requires it), and so does a
/// PATCH inside `/Bulk`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_patches_answer_no_content_when_the_application_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("groups.csv");
    std::fs::write(&file, "id,displayName,members\ng-quiet,Quiet,u-0\n").unwrap();
    let apps = csv_apps(&file).replace(
        "autosync_minutes = 0\n",
        "autosync_minutes = 0\ngroup_patch_answer = \"no_content\"\n",
    );
    let host = start_host(&apps, &[plugin_path("csv_connector")]).await;
    host.wait_ready().await;
    let app = "files";
    let path = "/Groups/g-quiet";
    let in_file = || -> String {
        std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .find(|l| l.starts_with("g-quiet,"))
            .unwrap()
            .to_owned()
    };
    let etag_now = || async {
        let r = host.request("GET", app, path, None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        (r.headers["etag"].to_str().unwrap().to_owned(), r.body)
    };

    // Entra's form: the member fast path.
    let entra =
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u-1"}]}]);
    let r = host.request("PATCH", app, path, Some(patch(entra))).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(r.body, Value::Null, "no body");
    let answered = r.headers["etag"].to_str().unwrap().to_owned();
    let (etag, group) = etag_now().await;
    assert_eq!(answered, etag, "the ETag of the new version");
    assert_eq!(member_ids(&group), ["u-0", "u-1"].map(str::to_owned).into());
    assert_eq!(in_file(), "g-quiet,Quiet,u-0;u-1");

    // A general PATCH, with excludedAttributes: 204 too.
    let rename = json!([{"op": "replace", "path": "displayName", "value": "Quieter"}]);
    let r = host
        .request(
            "PATCH",
            app,
            &format!("{path}?excludedAttributes=members"),
            Some(patch(rename)),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let (etag, group) = etag_now().await;
    assert_eq!(r.headers["etag"].to_str().unwrap(), etag);
    assert_eq!(group["displayName"], "Quieter");
    assert!(in_file().starts_with("g-quiet,Quieter,"), "{}", in_file());

    // If-Match is still checked.
    let remove = patch(json!([{"op": "Remove", "path": "members", "value": [{"value": "u-0"}]}]));
    let stale = host
        .client
        .patch(host.app_url(app, path))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .header("if-match", "W/\"0000000000000000\"")
        .body(remove.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 412);

    // `attributes` asks for the group: 200 with what was asked.
    let r = host
        .request(
            "PATCH",
            app,
            &format!("{path}?attributes=members"),
            Some(remove),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(member_ids(&r.body), ["u-1".to_owned()].into());
    assert!(r.body.get("displayName").is_none(), "{:?}", r.body);

    // Inside /Bulk the result keeps the group's location.
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "PATCH", "path": path,
                        "data": patch(json!([{"op": "add", "path": "members", "value": [{"value": "u-2"}]}]))}]
    });
    let r = host.request("POST", app, "/Bulk", Some(bulk)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let result = &r.body["Operations"][0];
    assert_eq!(result["status"], "200", "{result:?}");
    assert!(
        result["location"].as_str().unwrap().ends_with(path),
        "{result:?}"
    );
    let (_, group) = etag_now().await;
    assert_eq!(member_ids(&group), ["u-1", "u-2"].map(str::to_owned).into());
    assert_eq!(in_file(), "g-quiet,Quieter,u-1;u-2");
    host.stop().await;
}
