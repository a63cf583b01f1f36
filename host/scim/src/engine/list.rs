//! List requests (RFC 7644 §3.4.2): candidates from the backend's indexes, filtered, merged
//! across resource types, sorted, paged and projected.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Backend, Body, ScimEngine, ScimResponse};
use crate::ScimError;
use crate::filter::{Filter, index_plan, matches};
use crate::query::{LIST_RESPONSE_URN, ListQuery, SortOrder, cmp_keys, project, sort_key};
use crate::resource::StoredResource;
use crate::schema::ResourceTypeDef;

impl ScimEngine {
    pub(super) async fn list<B: Backend>(
        &self,
        backend: &B,
        rt: &ResourceTypeDef,
        q: ListQuery,
    ) -> Result<ScimResponse, ScimError> {
        self.list_many(backend, &[rt], q).await
    }

    /// A list over one or several resource types: each type's candidates filtered with its own schema, merged
    /// in the order of `rts`, then sorted, paged and projected (each resource with its own type).
    pub(super) async fn list_many<B: Backend>(
        &self,
        backend: &B,
        rts: &[&ResourceTypeDef],
        q: ListQuery,
    ) -> Result<ScimResponse, ScimError> {
        if let Some(by) = &q.sort_by
            && !rts.iter().any(|rt| rt.resolve(by).is_some())
        {
            return Err(ScimError::invalid_value(format!(
                "cannot sort by unknown attribute '{by}'"
            )));
        }
        let count = q
            .count
            .unwrap_or(self.cfg.max_results)
            .min(self.cfg.max_results);
        let start = q.start_index.max(1);
        let mut all = Vec::with_capacity(rts.len());
        for &rt in rts {
            let plan = q
                .filter
                .as_ref()
                .and_then(|f| index_plan(f, rt, |a| backend.is_indexed(rt, a)));
            all.push((rt, backend.candidates(rt, plan.as_ref()).await?));
        }
        if q.filter.is_none() && q.sort_by.is_none() {
            // A page of an unfiltered listing: what comes before it is skipped unrendered.
            let total = all.iter().map(|(_, c)| c.len()).sum();
            let mut skip = start - 1;
            let mut hits = Vec::with_capacity(count.min(total));
            for (rt, c) in all {
                if skip >= c.len() {
                    skip -= c.len();
                    continue;
                }
                let want = count - hits.len();
                hits.extend(c.window(skip, want).map(|h| (rt, h)));
                skip = 0;
                if hits.len() == count {
                    break;
                }
            }
            return Ok(self.page_response(hits, total, start, &q));
        }
        let mut hits: Vec<(&ResourceTypeDef, Arc<StoredResource>)> = Vec::new();
        for (rt, cands) in all {
            match &q.filter {
                None => hits.extend(cands.all().map(|c| (rt, c))),
                Some(f) if uses_meta(f) => hits.extend(
                    cands
                        .all()
                        .filter(|c| matches(f, &self.render(rt, c), rt))
                        .map(|c| (rt, c)),
                ),
                Some(f) => hits.extend(
                    cands
                        .all()
                        .filter(|c| matches(f, &c.resource, rt))
                        .map(|c| (rt, c)),
                ),
            }
        }
        if q.sort_by.is_some() && hits.len() > self.cfg.max_sort_candidates {
            return Err(ScimError::too_many(format!(
                "{} resources match; sorting is limited to {} (narrow the filter, or list without sortBy)",
                hits.len(),
                self.cfg.max_sort_candidates
            )));
        }
        if let Some(by) = &q.sort_by {
            let by_meta = by.attr.eq_ignore_ascii_case("meta");
            let mut keyed: Vec<(Value, (&ResourceTypeDef, Arc<StoredResource>))> = hits
                .into_iter()
                .map(|(rt, h)| {
                    (
                        if by_meta {
                            self.render(rt, &h)
                        } else {
                            Value::Null
                        },
                        (rt, h),
                    )
                })
                .collect();
            keyed.sort_by(|(ma, (ra, a)), (mb, (rb, b))| {
                let ka = sort_key(if by_meta { ma } else { &a.resource }, ra, by);
                let kb = sort_key(if by_meta { mb } else { &b.resource }, rb, by);
                cmp_keys(ka, kb)
            });
            if q.sort_order == SortOrder::Descending {
                keyed.reverse();
            }
            hits = keyed.into_iter().map(|(_, h)| h).collect();
        }
        let total = hits.len();
        let page: Vec<_> = hits.into_iter().skip(start - 1).take(count).collect();
        Ok(self.page_response(page, total, start, &q))
    }

    /// The ListResponse of one page of hits.
    fn page_response(
        &self,
        page: Vec<(&ResourceTypeDef, Arc<StoredResource>)>,
        total: usize,
        start: usize,
        q: &ListQuery,
    ) -> ScimResponse {
        if q.attributes.is_empty() && q.excluded_attributes.is_empty() {
            // Default projection: splice the stored encodings into the ListResponse text. Keys
            // in serde_json's (sorted) order, so the output is the same as the tree path's.
            let page: Vec<&str> = page.iter().map(|(rt, h)| self.encoded(rt, h)).collect();
            let mut out =
                String::with_capacity(160 + page.iter().map(|p| p.len() + 1).sum::<usize>());
            out.push_str("{\"Resources\":[");
            for (i, p) in page.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(p);
            }
            use std::fmt::Write as _;
            let _ = write!(
                out,
                "],\"itemsPerPage\":{},\"schemas\":[\"{LIST_RESPONSE_URN}\"],\"startIndex\":{start},\"totalResults\":{total}}}",
                page.len()
            );
            return ScimResponse::with_body(200, Body::Encoded(out));
        }
        let page: Vec<Value> = page
            .iter()
            .map(|(rt, h)| {
                project(
                    &self.render(rt, h),
                    rt,
                    &q.attributes,
                    &q.excluded_attributes,
                )
            })
            .collect();
        ScimResponse::json(200, list_response(page, total, start))
    }
}

fn uses_meta(f: &Filter) -> bool {
    match f {
        Filter::Compare { path, .. } | Filter::Present(path) | Filter::ValuePath { path, .. } => {
            path.attr.eq_ignore_ascii_case("meta")
        }
        Filter::And(a, b) | Filter::Or(a, b) => uses_meta(a) || uses_meta(b),
        Filter::Not(x) => uses_meta(x),
    }
}

/// A ListResponse (RFC 7644 §3.4.2).
pub fn list_response(resources: Vec<Value>, total: usize, start_index: usize) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
