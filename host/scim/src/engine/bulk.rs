//! `/Bulk` (RFC 7644 §3.7): operations run in order through the same handling as single
//! requests (so the same write guard), `bulkId:` references resolved, limits enforced.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Backend, Method, ScimEngine, ScimRequest, ScimResponse};
use crate::ScimError;
use crate::json::get_ci;

pub const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

impl ScimEngine {
    /// `/Bulk` (RFC 7644 §3.7): operations in order, `bulkId:` references resolved to ids created earlier in
    /// the request, `failOnErrors` honoured, limits enforced with 413.
    pub(super) async fn bulk<B: Backend>(
        &self,
        backend: &B,
        req: &ScimRequest,
    ) -> Result<ScimResponse, ScimError> {
        if req.body.len() > self.cfg.bulk_max_payload {
            return Err(ScimError::payload_too_large(format!(
                "bulk request is {} bytes; maxPayloadSize is {}",
                req.body.len(),
                self.cfg.bulk_max_payload
            )));
        }
        let body = self.body(req)?;
        let schemas_ok = get_ci(&body, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter().any(|s| {
                    s.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST_URN))
                })
            });
        if !schemas_ok {
            return Err(ScimError::invalid_syntax(format!(
                "bulk request must list '{BULK_REQUEST_URN}' in schemas"
            )));
        }
        let Some(Value::Array(ops)) = get_ci(&body, "Operations") else {
            return Err(ScimError::invalid_syntax(
                "bulk request needs an 'Operations' array",
            ));
        };
        if ops.len() > self.cfg.bulk_max_operations {
            return Err(ScimError::payload_too_large(format!(
                "{} operations; maxOperations is {}",
                ops.len(),
                self.cfg.bulk_max_operations
            )));
        }
        let fail_on = get_ci(&body, "failOnErrors")
            .and_then(Value::as_u64)
            .map(|n| n.max(1) as usize);
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut results = Vec::with_capacity(ops.len());
        let mut errors = 0;
        for op in ops {
            if fail_on.is_some_and(|n| errors >= n) {
                break;
            }
            let (res, meta) = self.bulk_one(backend, op, &ids).await;
            let mut entry = json!({"method": meta.method});
            if let Some(b) = &meta.bulk_id {
                entry["bulkId"] = Value::String(b.clone());
            }
            match res {
                Ok(r) => {
                    let body = r.json_body();
                    if let (Some(b), Some(Value::String(id))) =
                        (&meta.bulk_id, body.as_ref().and_then(|b| b.get("id")))
                    {
                        ids.insert(b.clone(), id.clone());
                    }
                    if let Some(l) = body
                        .as_ref()
                        .and_then(|b| b.pointer("/meta/location"))
                        .and_then(Value::as_str)
                    {
                        entry["location"] = Value::String(l.to_owned());
                    }
                    if let Some(v) = r.header_value("ETag") {
                        entry["version"] = Value::String(v.to_owned());
                    }
                    if r.status >= 400 {
                        errors += 1;
                        entry["response"] = body.unwrap_or(Value::Null);
                    }
                    entry["status"] = Value::String(r.status.to_string());
                }
                Err(e) => {
                    errors += 1;
                    entry["status"] = Value::String(e.status.to_string());
                    entry["response"] = e.to_json();
                }
            }
            results.push(entry);
        }
        Ok(ScimResponse::json(
            200,
            json!({"schemas": [BULK_RESPONSE_URN], "Operations": results}),
        ))
    }

    async fn bulk_one<B: Backend>(
        &self,
        backend: &B,
        op: &Value,
        ids: &HashMap<String, String>,
    ) -> (Result<ScimResponse, ScimError>, BulkMeta) {
        let method_s = get_ci(op, "method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let meta = BulkMeta {
            method: method_s.clone(),
            bulk_id: get_ci(op, "bulkId")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        let run = async {
            let method = Method::parse(&method_s);
            if !matches!(
                method,
                Method::Post | Method::Put | Method::Patch | Method::Delete
            ) {
                return Err(ScimError::invalid_syntax(format!(
                    "bulk operation method '{method_s}' is not POST, PUT, PATCH or DELETE"
                )));
            }
            if method == Method::Post && meta.bulk_id.is_none() {
                return Err(ScimError::invalid_syntax("bulk POST needs a bulkId"));
            }
            let path = get_ci(op, "path")
                .and_then(Value::as_str)
                .ok_or_else(|| ScimError::invalid_syntax("bulk operation needs a path"))?;
            let path = resolve_bulk_ids(&Value::String(path.to_owned()), ids)?;
            let mut req = ScimRequest::new(method, path.as_str().unwrap_or_default());
            if let Some(d) = get_ci(op, "data") {
                req = req.with_json(&resolve_bulk_ids(d, ids)?);
            }
            req.if_match = get_ci(op, "version")
                .and_then(Value::as_str)
                .map(str::to_owned);
            self.handle_inner(backend, &req, false).await
        };
        (Box::pin(run).await, meta)
    }
}

struct BulkMeta {
    method: String,
    bulk_id: Option<String>,
}

/// Replace `bulkId:<id>` references (RFC 7644 §3.7.2) in every string of `v`.
fn resolve_bulk_ids(v: &Value, ids: &HashMap<String, String>) -> Result<Value, ScimError> {
    Ok(match v {
        Value::String(s) if s.contains("bulkId:") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(p) = rest.find("bulkId:") {
                out.push_str(&rest[..p]);
                let after = &rest[p + 7..];
                let end = after
                    .find(|c: char| c == '/' || c == '"' || c.is_whitespace())
                    .unwrap_or(after.len());
                let key = &after[..end];
                let id = ids.get(key).ok_or_else(|| {
                    ScimError::conflict(format!("unresolved reference bulkId:{key}"))
                })?;
                out.push_str(id);
                rest = &after[end..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| resolve_bulk_ids(x, ids))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), resolve_bulk_ids(x, ids)?)))
                .collect::<Result<_, ScimError>>()?,
        ),
        v => v.clone(),
    })
}
