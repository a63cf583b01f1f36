//! Criterion benchmarks: Entra's hot paths.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ecma_scim::*;
use serde_json::json;

fn rt() -> ResourceTypeDef {
    let a = |n: &str| ExtensionAttribute {
        name: n.into(),
        attr_type: AttrType::String,
        multi_valued: false,
        required: false,
        case_exact: false,
    };
    let ext = ecma2host_extension(
        ECMA2HOST_USER_URN,
        &[
            a("ContosoLogin"),
            a("FirstName"),
            a("LastName"),
            a("AzureID"),
            a("textID"),
            a("Email"),
        ],
    );
    user_resource_type(core_user_schema(), vec![enterprise_user_schema(), ext])
}

fn filters(c: &mut Criterion) {
    let rt = rt();
    let indexed = |a: &ResolvedAttr| a.in_extension || a.attr == "userName";
    c.bench_function("parse+plan short: ContosoLogin eq", |b| {
        b.iter(|| {
            let f = parse_filter(black_box(r#"ContosoLogin eq "adele@contoso.com""#)).unwrap();
            black_box(index_plan(&f, &rt, indexed))
        })
    });
    let urn = format!(r#"{ECMA2HOST_USER_URN}:ContosoLogin eq "adele@contoso.com""#);
    c.bench_function("parse+plan URN-qualified", |b| {
        b.iter(|| {
            let f = parse_filter(black_box(&urn)).unwrap();
            black_box(index_plan(&f, &rt, indexed))
        })
    });
    let f = parse_filter(
        r#"userName eq "bjensen" and emails[type eq "work" and value co "@example.com"]"#,
    )
    .unwrap();
    let res = json!({"userName":"bjensen","emails":[{"type":"home","value":"b@x"},{"type":"work","value":"b@example.com"}]});
    c.bench_function("matches: and + value path", |b| {
        b.iter(|| black_box(matches(&f, black_box(&res), &rt)))
    });
}

fn patch(c: &mut Criterion) {
    let rt = rt();
    let adele = json!({
        "schemas": [CORE_USER_URN, ECMA2HOST_USER_URN],
        "id": "adele@contoso.com",
        ECMA2HOST_USER_URN: {"ContosoLogin":"adele@contoso.com","FirstName":"Adele","LastName":"Vance",
            "AzureID":"1f0c","textID":"adele","Email":"adele@contoso.com"}
    });
    let body = json!({"schemas":[PATCH_OP_URN],
     "Operations":[
       {"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:LastName","value":"Vance-Smith"},
       {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:Email","value":"adele.v@contoso.com"},
       {"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:textID"}]});
    c.bench_function("parse+apply Entra PATCH (3 ops)", |b| {
        b.iter(|| {
            let ops = parse_patch(black_box(&body)).unwrap();
            black_box(apply_patch(&adele, &ops, &rt).unwrap())
        })
    });
    let disable = json!({"schemas":[PATCH_OP_URN],"Operations":[{"op":"Replace","path":"active","value":"False"}]});
    c.bench_function("parse+apply Entra disable", |b| {
        b.iter(|| {
            let ops = parse_patch(black_box(&disable)).unwrap();
            black_box(apply_patch(&adele, &ops, &rt).unwrap())
        })
    });
}

criterion_group!(benches, filters, patch);
criterion_main!(benches);
