//! PATCH parser and applier: no panics; a successful PATCH yields an object, its reported change set equals
//! `diff(old, new)`, and an empty PATCH of the result changes nothing.
#![no_main]

use ecma_scim::*;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    // Either a whole JSON body, or "op byte + path line + JSON value" so the fuzzer reaches paths quickly.
    let body = match serde_json::from_slice::<Value>(data) {
        Ok(v) => v,
        Err(_) => {
            let Some((&k, rest)) = data.split_first() else {
                return;
            };
            let Ok(s) = std::str::from_utf8(rest) else {
                return;
            };
            let (path, value) = s.split_once('\n').unwrap_or((s, ""));
            let op = ["add", "Replace", "REMOVE"][k as usize % 3];
            let value =
                serde_json::from_str::<Value>(value).unwrap_or(Value::String(value.to_owned()));
            let mut o = json!({"op": op, "value": value});
            if !path.is_empty() {
                o["path"] = Value::String(path.to_owned());
            }
            json!({"schemas": [PATCH_OP_URN], "Operations": [o]})
        }
    };
    let Ok(ops) = parse_patch(&body) else { return };
    let rt = common::rt();
    let old = common::user();
    let Ok(out) = apply_patch(&old, &ops, &rt) else {
        return;
    };
    assert!(out.resource.is_object());
    assert_eq!(diff(&old, &out.resource, &rt), out.changes);
    // Applying nothing more is a no-op.
    let again = apply_patch(&out.resource, &[], &rt).expect("empty patch");
    assert!(again.changes.is_empty(), "{:?}", again.changes);
});
