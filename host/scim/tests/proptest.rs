//! Property tests: filter print/parse round trip; PATCH through the engine then GET equals a model.

use std::collections::BTreeMap;

use ecma_scim::testing::{MemoryBackend, block_on};
use ecma_scim::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("userName".to_owned()),
        Just("title".to_owned()),
        Just("ContosoLogin".to_owned()),
        Just("and".to_owned()),
        Just("or".to_owned()),
        Just("not".to_owned()),
        Just("pr".to_owned()),
        Just("$ref".to_owned()),
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
    ]
}

fn path() -> impl Strategy<Value = AttrPath> {
    (
        prop::option::of(prop_oneof![
            Just(CORE_USER_URN.to_owned()),
            Just(ECMA2HOST_USER_URN.to_owned()),
            Just("urn:x:y".to_owned())
        ]),
        name(),
        prop::option::of(name()),
    )
        .prop_map(|(urn, attr, sub_attr)| AttrPath {
            urn,
            attr,
            sub_attr,
        })
}

fn value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| CompValue::Number(serde_json::Number::from_f64(f).unwrap())),
        any::<String>().prop_map(CompValue::String),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ])
}

fn leaf(p: BoxedStrategy<AttrPath>) -> impl Strategy<Value = Filter> {
    prop_oneof![
        (p.clone(), op(), value()).prop_map(|(path, op, value)| Filter::Compare {
            path,
            op,
            value
        }),
        p.prop_map(Filter::Present),
    ]
}

fn tree(l: BoxedStrategy<Filter>) -> impl Strategy<Value = Filter> {
    l.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let simple = name().prop_map(|n| AttrPath::simple(&n)).boxed();
    let value_path = (
        path().prop_map(|p| AttrPath {
            sub_attr: None,
            ..p
        }),
        tree(leaf(simple).boxed().boxed()).boxed(),
    )
        .prop_map(|(path, f)| Filter::ValuePath {
            path,
            filter: Box::new(f),
        });
    tree(prop_oneof![leaf(path().boxed()), value_path].boxed())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn filter_print_parse_roundtrip(f in filter()) {
        let s = f.to_string();
        let back = parse_filter_with(&s, FilterLimits { max_len: 1 << 20, max_depth: 64 });
        prop_assert_eq!(back.as_ref(), Ok(&f), "printed: {}", s);
    }

    #[test]
    fn parser_never_panics(s in "\\PC{0,80}") {
        let _ = parse_filter(&s);
    }
}

const ATTRS: &[&str] = &[
    "displayName",
    "title",
    "name.givenName",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:ECMA2Host:2.0:User:FirstName",
    "LastName",
];

#[derive(Debug, Clone)]
enum Op {
    Set(usize, String, bool),
    Remove(usize),
    Clear(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let one = prop_oneof![
        (0..ATTRS.len(), "[a-zA-Z0-9 ]{1,12}", any::<bool>())
            .prop_map(|(a, v, add)| Op::Set(a, v, add)),
        (0..ATTRS.len()).prop_map(Op::Remove),
        (0..ATTRS.len()).prop_map(Op::Clear),
    ];
    prop::collection::vec(one, 1..8)
}

fn user_rt_ext() -> SchemaDef {
    let a = |n: &str| ExtensionAttribute {
        name: n.into(),
        attr_type: AttrType::String,
        multi_valued: false,
        required: false,
        case_exact: false,
    };
    ecma2host_extension(ECMA2HOST_USER_URN, &[a("FirstName"), a("LastName")])
}

/// Where the model expects attribute `i`: (extension URN or none, attribute, sub-attribute).
fn location(i: usize) -> (Option<&'static str>, &'static str, Option<&'static str>) {
    match i {
        0 => (None, "displayName", None),
        1 => (None, "title", None),
        2 => (None, "name", Some("givenName")),
        3 => (Some(ENTERPRISE_USER_URN), "department", None),
        4 => (Some(ECMA2HOST_USER_URN), "FirstName", None),
        _ => (Some(ECMA2HOST_USER_URN), "LastName", None),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn patch_then_get_equals_model(ops in ops(), batch in any::<bool>()) {
        let rt = user_resource_type(core_user_schema(), vec![enterprise_user_schema(), user_rt_ext()]);
        let engine = ScimEngine::new(EngineConfig::new("https://h/scim", vec![rt]));
        let b = MemoryBackend::new();
        let created = block_on(engine.handle(&b, ScimRequest::new(Method::Post, "/Users")
            .with_json(&json!({"schemas":[CORE_USER_URN],"userName":"u"}))));
        prop_assert_eq!(created.status, 201);
        let id = created.json_body().unwrap()["id"].as_str().unwrap().to_owned();
        let mut model: BTreeMap<usize, String> = BTreeMap::new();
        let mut wire = vec![];
        for op in &ops {
            match op {
                Op::Set(a, v, add) => {
                    model.insert(*a, v.clone());
                    wire.push(json!({"op": if *add {"Add"} else {"replace"}, "path": ATTRS[*a], "value": v}));
                }
                Op::Remove(a) => {
                    model.remove(a);
                    wire.push(json!({"op":"Remove","path": ATTRS[*a]}));
                }
                Op::Clear(a) => {
                    model.remove(a);
                    wire.push(json!({"op":"Replace","path": ATTRS[*a], "value": ""}));
                }
            }
        }
        let batches: Vec<Vec<Value>> = if batch { vec![wire] } else { wire.into_iter().map(|w| vec![w]).collect() };
        let mut last = None;
        for ops in batches {
            let r = block_on(engine.handle(&b, ScimRequest::new(Method::Patch, format!("/Users/{id}"))
                .with_json(&json!({"schemas":[PATCH_OP_URN],"Operations": ops}))));
            prop_assert_eq!(r.status, 200, "{:?}", r.body);
            last = r.json_body();
        }
        let got = block_on(engine.handle(&b, ScimRequest::new(Method::Get, format!("/Users/{id}")))).json_body().unwrap();
        prop_assert_eq!(Some(&got), last.as_ref(), "GET equals the PATCH response");
        let mut expected = json!({"userName": "u", "id": id});
        for (a, v) in &model {
            let (ext, attr, sub) = location(*a);
            let c = match ext {
                Some(u) => expected.as_object_mut().unwrap().entry(u).or_insert_with(|| json!({})),
                None => &mut expected,
            };
            match sub {
                Some(s) => { c.as_object_mut().unwrap().entry(attr).or_insert_with(|| json!({}))[s] = json!(v); }
                None => { c[attr] = json!(v); }
            }
        }
        let mut schemas = vec![json!(CORE_USER_URN)];
        for u in [ENTERPRISE_USER_URN, ECMA2HOST_USER_URN] {
            if expected.get(u).is_some() { schemas.push(json!(u)); }
        }
        expected["schemas"] = Value::Array(schemas);
        let mut got = got;
        got.as_object_mut().unwrap().remove("meta");
        prop_assert_eq!(got, expected);
    }
}
