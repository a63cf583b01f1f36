//! ECMA2's FullObject import: the objects the host names (after an export whose outcome it
//! does not know, a create refused as existing, an update of a missing object), read again
//! whole. Each comes back as its full import gives it (the same plan: one object type, the same
//! containers, scope, attributes and conversion), or as a `Delete` when the directory does not
//! hold it as that type.

use std::collections::HashMap;

use ldap3::SearchEntry;
use plugin_api::prelude::*;

use super::changes::read_entry;
use super::plan::ImportPlan;
use crate::conn::{LResult, LdapFailure, Session};
use crate::dn;
use crate::schema::DN_ANCHOR;
use crate::search::search_all;
use crate::settings::Settings;

/// How a requested object is found.
enum Lookup {
    /// By the value of the anchor attribute. Tried first when the request has one: unlike
    /// the DN, it survives renames.
    Anchor(Value),
    /// By DN, with a base-scope search (DN-as-anchor, or a create whose server-assigned
    /// anchor the host never learned).
    Dn(String),
}

impl Lookup {
    /// None when the request names neither the anchor nor a DN.
    fn of(plan: &ImportPlan, r: &CsEntryChange) -> Option<Self> {
        let named = |name: &str| {
            r.anchor
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
                .map(|a| &a.value)
                .filter(|v| !v.as_text().is_empty())
        };
        if let Some(v) = plan.anchor.as_deref().and_then(named) {
            return Some(Lookup::Anchor(v.clone()));
        }
        if !r.dn.is_empty() {
            return Some(Lookup::Dn(r.dn.clone()));
        }
        named(DN_ANCHOR)
            .and_then(Value::as_str)
            .map(|d| Lookup::Dn(d.to_owned()))
    }
}

/// What a FullObject import reads with: the settings, the anchor (None: the DN), the
/// containers a full import searches.
pub(crate) struct FullObjectScope<'a> {
    pub settings: &'a Settings,
    pub anchor: Option<String>,
    pub bases: Vec<String>,
}

/// Answers `requests` into `page`, in request order. `types` are the schema types of the
/// requested object types the connector knows; a request of another type, or naming neither
/// an anchor nor a DN, is left unanswered (the host then re-reads its whole type). Errors only
/// when the directory cannot be asked.
pub(crate) fn full_objects(
    session: &mut Session,
    scope: FullObjectScope<'_>,
    types: &[SchemaType],
    requests: &[CsEntryChange],
    page: &mut PageWriter,
) -> ConnectorResult<()> {
    let mut plans: HashMap<String, ImportPlan> = HashMap::new();
    for r in requests {
        session.host.check_cancelled()?;
        let Some(ty) = types
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&r.object_type))
        else {
            session.host.warn(&format!(
                "FullObject request for object type '{}' left unanswered: not a type of this connector",
                r.object_type
            ));
            continue;
        };
        let key = ty.name.to_lowercase();
        if !plans.contains_key(&key) {
            // The host imports one type at a time: a plan of this type alone converts exactly
            // as that import does, and never takes another type's entry for this one.
            let schema = Schema {
                types: vec![ty.clone()],
            };
            let plan = ImportPlan::new(
                scope.settings,
                &schema,
                scope.anchor.clone(),
                scope.bases.clone(),
            )?;
            plans.insert(key.clone(), plan);
        }
        let plan = &plans[&key];
        let Some(lookup) = Lookup::of(plan, r) else {
            continue;
        };
        let found = match &lookup {
            Lookup::Anchor(v) => by_anchor(session, plan, v)?,
            Lookup::Dn(d) => by_dn(session, plan, d)?,
        };
        match found.and_then(|e| plan.convert(e, ObjectModification::Add)) {
            Some(entry) => page.push(&entry),
            None => page.push(&not_held(plan, &ty.name, r)),
        }
    }
    Ok(())
}

/// The object whose anchor is `value`, searched like a full import (same containers, scope
/// and type filter).
fn by_anchor(
    session: &mut Session,
    plan: &ImportPlan,
    value: &Value,
) -> LResult<Option<SearchEntry>> {
    let anchor = plan
        .anchor
        .as_deref()
        .expect("an anchor lookup has an anchor");
    let filter = format!("(&{}{})", plan.filter, dn::equality_filter(anchor, value));
    let mut found = Vec::new();
    for base in &plan.bases {
        match search_all(session, base, plan.scope, &filter, &plan.attrs) {
            Ok(entries) => found.extend(entries),
            // A container that does not exist holds nothing.
            Err(LdapFailure::Result { rc: 32, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    if found.len() > 1 {
        session.host.warn(&format!(
            "{} objects have {anchor} = {}; answering with the first ({})",
            found.len(),
            value.as_text(),
            found[0].dn
        ));
    }
    Ok(found.into_iter().next())
}

/// The object at `d`, when a full import reaches it.
fn by_dn(session: &mut Session, plan: &ImportPlan, d: &str) -> LResult<Option<SearchEntry>> {
    if !plan.in_scope(d) {
        return Ok(None);
    }
    match read_entry(session, d, plan) {
        // invalidDNSyntax: no object can be there.
        Err(LdapFailure::Result { rc: 34, .. }) => Ok(None),
        other => other,
    }
}

/// The `Delete` that tells the host the directory does not hold the requested object: the
/// anchor and DN it asked with.
fn not_held(plan: &ImportPlan, object_type: &str, r: &CsEntryChange) -> CsEntryChange {
    let mut gone = CsEntryChange::new(object_type, ObjectModification::Delete);
    gone.anchor = r.anchor.clone();
    gone.dn = r.dn.clone();
    if plan.anchor.is_none() {
        // DN as anchor: the DN and the anchor are one value; name it both ways.
        if gone.anchor.is_empty() && !gone.dn.is_empty() {
            gone.anchor.push(AnchorAttribute {
                name: DN_ANCHOR.into(),
                value: Value::String(gone.dn.clone()),
            });
        }
        if gone.dn.is_empty()
            && let Some(Value::String(d)) = gone.anchor_value()
        {
            gone.dn = d.clone();
        }
    }
    gone.identifier = gone
        .anchor_value()
        .map(Value::as_text)
        .unwrap_or_else(|| gone.dn.clone());
    gone
}
