//! List queries (RFC 7644 §3.4.2, §3.4.3), projection (`attributes`/`excludedAttributes`, §3.9) and sorting.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::ScimError;
use crate::filter::{AttrPath, Filter, FilterLimits, parse_attr_path, parse_filter_with};
use crate::json::get_ci;
use crate::schema::{AttrType, AttributeDef, COMMON_ATTRIBUTES, ResourceTypeDef, Returned};

/// URN of the `/.search` request message (RFC 7644 §3.4.3).
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// URN of the list response message (RFC 7644 §3.4.2).
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// `sortOrder` (RFC 7644 §3.4.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Ascending,
    Descending,
}

/// A list/search request: filter, paging, sorting and projection.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based; values below 1 are treated as 1 (RFC 7644 §3.4.2.4).
    pub start_index: usize,
    /// `None`: server default; `Some(0)`: only `totalResults`.
    pub count: Option<usize>,
    pub sort_by: Option<AttrPath>,
    pub sort_order: SortOrder,
    pub attributes: Vec<AttrPath>,
    pub excluded_attributes: Vec<AttrPath>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filter: None,
            start_index: 1,
            count: None,
            sort_by: None,
            sort_order: SortOrder::Ascending,
            attributes: vec![],
            excluded_attributes: vec![],
        }
    }
}

/// Parse a comma-separated attribute list (`attributes=userName,name.givenName`).
pub fn parse_attr_list(s: &str) -> Result<Vec<AttrPath>, ScimError> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| parse_attr_path(p).map_err(to_invalid_value))
        .collect()
}

fn to_invalid_value(mut e: ScimError) -> ScimError {
    e.scim_type = Some(crate::ScimType::InvalidValue);
    e
}

fn parse_index(name: &str, v: &str) -> Result<i64, ScimError> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::invalid_value(format!("'{name}' must be an integer, got '{v}'")))
}

fn parse_order(v: &str) -> Result<SortOrder, ScimError> {
    if v.eq_ignore_ascii_case("ascending") {
        Ok(SortOrder::Ascending)
    } else if v.eq_ignore_ascii_case("descending") {
        Ok(SortOrder::Descending)
    } else {
        Err(ScimError::invalid_value(format!(
            "sortOrder must be 'ascending' or 'descending', got '{v}'"
        )))
    }
}

impl ListQuery {
    /// From a raw URL query string: `+` is a space, percent-escapes are decoded; parameter names are matched
    /// case-insensitively.
    pub fn from_query_string(q: &str, limits: FilterLimits) -> Result<Self, ScimError> {
        let mut lq = ListQuery::default();
        for (k, v) in form_urlencoded::parse(q.trim_start_matches('?').as_bytes()) {
            let k = k.as_ref();
            match () {
                _ if k.eq_ignore_ascii_case("filter") => {
                    lq.filter = Some(parse_filter_with(&v, limits)?)
                }
                _ if k.eq_ignore_ascii_case("startIndex") => {
                    lq.start_index = parse_index(k, &v)?.max(1) as usize
                }
                _ if k.eq_ignore_ascii_case("count") => {
                    lq.count = Some(parse_index(k, &v)?.max(0) as usize)
                }
                _ if k.eq_ignore_ascii_case("sortBy") => {
                    lq.sort_by = Some(parse_attr_path(&v).map_err(to_invalid_value)?)
                }
                _ if k.eq_ignore_ascii_case("sortOrder") => lq.sort_order = parse_order(&v)?,
                _ if k.eq_ignore_ascii_case("attributes") => {
                    lq.attributes.extend(parse_attr_list(&v)?)
                }
                _ if k.eq_ignore_ascii_case("excludedAttributes") => {
                    lq.excluded_attributes.extend(parse_attr_list(&v)?)
                }
                _ => {}
            }
        }
        Ok(lq)
    }

    /// From a `POST .../.search` body (RFC 7644 §3.4.3).
    pub fn from_search_body(body: &Value, limits: FilterLimits) -> Result<Self, ScimError> {
        if !body.is_object() {
            return Err(ScimError::invalid_syntax(
                "search request must be a JSON object",
            ));
        }
        let mut lq = ListQuery::default();
        let str_list = |name: &str| -> Result<Vec<AttrPath>, ScimError> {
            match get_ci(body, name) {
                None | Some(Value::Null) => Ok(vec![]),
                Some(Value::String(s)) => parse_attr_list(s),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .ok_or_else(|| {
                                ScimError::invalid_value(format!("'{name}' must list strings"))
                            })
                            .and_then(|s| parse_attr_path(s).map_err(to_invalid_value))
                    })
                    .collect(),
                Some(_) => Err(ScimError::invalid_value(format!(
                    "'{name}' must be an array of strings"
                ))),
            }
        };
        lq.attributes = str_list("attributes")?;
        lq.excluded_attributes = str_list("excludedAttributes")?;
        let int = |name: &str| -> Result<Option<i64>, ScimError> {
            match get_ci(body, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
                    ScimError::invalid_value(format!("'{name}' must be an integer"))
                }),
                Some(Value::String(s)) => parse_index(name, s).map(Some),
                Some(_) => Err(ScimError::invalid_value(format!(
                    "'{name}' must be an integer"
                ))),
            }
        };
        if let Some(s) = int("startIndex")? {
            lq.start_index = s.max(1) as usize;
        }
        lq.count = int("count")?.map(|c| c.max(0) as usize);
        match get_ci(body, "filter") {
            None | Some(Value::Null) => {}
            Some(Value::String(f)) => lq.filter = Some(parse_filter_with(f, limits)?),
            Some(_) => return Err(ScimError::invalid_filter("'filter' must be a string")),
        }
        match get_ci(body, "sortBy") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                lq.sort_by = Some(parse_attr_path(s).map_err(to_invalid_value)?)
            }
            Some(_) => return Err(ScimError::invalid_value("'sortBy' must be a string")),
        }
        match get_ci(body, "sortOrder") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => lq.sort_order = parse_order(s)?,
            Some(_) => return Err(ScimError::invalid_value("'sortOrder' must be a string")),
        }
        Ok(lq)
    }
}

/// Does the request path `p` name attribute `attr` of schema `urn`? Returns `Some(sub)` on a match, where
/// `sub` is the requested sub-attribute (if any). A bare schema URN names every attribute of that schema.
fn path_names<'p>(p: &'p AttrPath, urn: &str, attr: &str) -> Option<Option<&'p str>> {
    match &p.urn {
        Some(u) if format!("{u}:{}", p.attr).eq_ignore_ascii_case(urn) && p.sub_attr.is_none() => {
            Some(None)
        }
        Some(u) if !u.eq_ignore_ascii_case(urn) => None,
        _ if p.attr.eq_ignore_ascii_case(attr) => Some(p.sub_attr.as_deref()),
        _ => None,
    }
}

/// Apply `attributes`/`excludedAttributes` and `returned` (RFC 7644 §3.9, RFC 7643 §7) to a rendered resource.
/// `always` attributes (`id`, `schemas`) are kept, `never` ones (`password`) dropped, `request` ones only
/// returned when asked for.
pub fn project(
    resource: &Value,
    rt: &ResourceTypeDef,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let Some(m) = resource.as_object() else {
        return resource.clone();
    };
    let mut out = Map::new();
    for (k, shown) in shown(m.iter(), rt, attributes, excluded) {
        let v = match shown {
            Shown::Attr(a) => a.to_value(),
            Shown::Extension(attrs) => Value::Object(
                attrs
                    .into_iter()
                    .map(|(ek, a)| (ek.clone(), a.to_value()))
                    .collect(),
            ),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// One top-level member of a resource as a projection shows it. [`project`] copies what it
/// keeps; the engine prints it without a copy (a group's 100,000 members).
pub(crate) enum Shown<'a> {
    /// `schemas`, or an attribute of the core schema or common to all (`id`, `meta`).
    Attr(ShownAttr<'a>),
    /// An extension's object: the attributes of it that are shown (at least one).
    Extension(Vec<(&'a String, ShownAttr<'a>)>),
}

/// An attribute's value and what of it is shown.
pub(crate) struct ShownAttr<'a> {
    /// `None` for `schemas`, which is always shown whole.
    pub def: Option<&'a AttributeDef>,
    pub value: &'a Value,
    pub kept: Kept<'a>,
}

/// What a projection keeps of an attribute it shows.
pub(crate) enum Kept<'a> {
    /// The value as stored.
    Whole,
    /// In each element (or the one value), only the sub-attributes [`SubKeep::keeps`] accepts.
    Subs(SubKeep<'a>),
}

/// Which sub-attributes of a complex attribute a projection keeps.
pub(crate) enum SubKeep<'a> {
    /// All but those `returned: never` (no `attributes`, no exclusion of this attribute).
    NotNever,
    /// `attributes` named these sub-attributes: they and the `returned: always` ones.
    Asked(Vec<Option<&'a str>>),
    /// `excludedAttributes` named these sub-attributes: all but they and the `never` ones.
    Excluded(Vec<Option<&'a str>>),
}

impl SubKeep<'_> {
    pub(crate) fn keeps(&self, sd: &AttributeDef) -> bool {
        let named = |names: &[Option<&str>]| {
            names
                .iter()
                .any(|h| h.is_some_and(|s| s.eq_ignore_ascii_case(&sd.name)))
        };
        match self {
            SubKeep::NotNever => sd.returned != Returned::Never,
            SubKeep::Asked(hits) => sd.returned == Returned::Always || named(hits),
            SubKeep::Excluded(ex) => {
                sd.returned == Returned::Always || (sd.returned != Returned::Never && !named(ex))
            }
        }
    }
}

impl ShownAttr<'_> {
    /// A copy of what is shown.
    fn to_value(&self) -> Value {
        match (&self.kept, self.def) {
            (Kept::Subs(keep), Some(def)) => keep_subs(def, self.value, |sd| keep.keeps(sd)),
            _ => self.value.clone(),
        }
    }
}

/// The top-level members of a resource (`entries`, in key order) that a projection shows,
/// and what of each. Data outside the schema is never published: a strict client validates
/// against /Schemas.
pub(crate) fn shown<'a>(
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    rt: &'a ResourceTypeDef,
    attributes: &'a [AttrPath],
    excluded: &'a [AttrPath],
) -> Vec<(&'a String, Shown<'a>)> {
    let mut out = Vec::new();
    for (k, v) in entries {
        if k == "schemas" {
            let whole = ShownAttr {
                def: None,
                value: v,
                kept: Kept::Whole,
            };
            out.push((k, Shown::Attr(whole)));
            continue;
        }
        if let Some(ext) = rt.extension(k) {
            let urn = ext.schema.id.as_str();
            let Some(em) = v.as_object() else { continue };
            let attrs: Vec<_> = em
                .iter()
                .filter_map(|(ek, ev)| {
                    let def = ext.schema.attribute(ek)?;
                    let kept = kept(urn, def, attributes, excluded)?;
                    Some((
                        ek,
                        ShownAttr {
                            def: Some(def),
                            value: ev,
                            kept,
                        },
                    ))
                })
                .collect();
            if !attrs.is_empty() {
                out.push((k, Shown::Extension(attrs)));
            }
            continue;
        }
        let urn = rt.schema.id.as_str();
        let def = COMMON_ATTRIBUTES
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(k))
            .or_else(|| rt.schema.attribute(k));
        if let Some(def) = def
            && let Some(kept) = kept(urn, def, attributes, excluded)
        {
            let attr = ShownAttr {
                def: Some(def),
                value: v,
                kept,
            };
            out.push((k, Shown::Attr(attr)));
        }
    }
    out
}

/// What `attributes`/`excludedAttributes` and `returned` keep of attribute `def` of schema
/// `urn`; `None`: it is not shown.
fn kept<'a>(
    urn: &str,
    def: &AttributeDef,
    attributes: &'a [AttrPath],
    excluded: &'a [AttrPath],
) -> Option<Kept<'a>> {
    match def.returned {
        Returned::Never => return None,
        Returned::Always => return Some(Kept::Whole),
        _ => {}
    }
    if !attributes.is_empty() {
        let hits: Vec<Option<&str>> = attributes
            .iter()
            .filter_map(|p| path_names(p, urn, &def.name))
            .collect();
        if hits.is_empty() {
            return None;
        }
        if hits.contains(&None) || def.attr_type != AttrType::Complex {
            return Some(Kept::Whole);
        }
        return Some(Kept::Subs(SubKeep::Asked(hits)));
    }
    if def.returned == Returned::Request {
        return None;
    }
    let ex: Vec<Option<&str>> = excluded
        .iter()
        .filter_map(|p| path_names(p, urn, &def.name))
        .collect();
    if ex.contains(&None) {
        return None;
    }
    if ex.is_empty() || def.attr_type != AttrType::Complex {
        let has_never = def
            .sub_attributes
            .iter()
            .any(|s| s.returned == Returned::Never);
        return Some(if has_never {
            Kept::Subs(SubKeep::NotNever)
        } else {
            Kept::Whole
        });
    }
    Some(Kept::Subs(SubKeep::Excluded(ex)))
}

fn keep_subs(def: &AttributeDef, v: &Value, keep: impl Fn(&AttributeDef) -> bool) -> Value {
    let one = |e: &Value| -> Value {
        match e.as_object() {
            Some(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| def.sub(k).is_some_and(&keep))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            None => e.clone(),
        }
    };
    match v {
        Value::Array(a) => Value::Array(a.iter().map(one).collect()),
        v => one(v),
    }
}

/// The value a resource sorts by (RFC 7644 §3.4.2.3): for multi-valued attributes the primary value, else the
/// first one.
pub(crate) fn sort_key<'a>(
    resource: &'a Value,
    rt: &ResourceTypeDef,
    by: &AttrPath,
) -> Option<(&'a Value, bool)> {
    let r = rt.resolve_ref(by.urn.as_deref(), &by.attr, by.sub_attr.as_deref())?;
    let c = match r.ext {
        Some(u) => get_ci(resource, u)?,
        None => resource,
    };
    let v = get_ci(c, &r.attr.name)?;
    let v = match v {
        Value::Array(a) => a
            .iter()
            .find(|e| get_ci(e, "primary") == Some(&Value::Bool(true)))
            .or(a.first())?,
        v => v,
    };
    let v = match r.sub {
        Some(s) => get_ci(v, &s.name)?,
        None if r.attr.attr_type == AttrType::Complex => get_ci(v, "value")?,
        None => v,
    };
    Some((v, r.leaf().case_exact))
}

/// Ascending order of two sort keys; missing values sort last.
pub(crate) fn cmp_keys(a: Option<(&Value, bool)>, b: Option<(&Value, bool)>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some((x, exact)), Some((y, _))) => match (x, y) {
            (Value::Number(p), Value::Number(q)) => p
                .as_f64()
                .unwrap_or(0.0)
                .partial_cmp(&q.as_f64().unwrap_or(0.0))
                .unwrap_or(Ordering::Equal),
            (Value::Bool(p), Value::Bool(q)) => p.cmp(q),
            (Value::String(p), Value::String(q)) if exact => p.cmp(q),
            (Value::String(p), Value::String(q)) => p.to_lowercase().cmp(&q.to_lowercase()),
            _ => x.to_string().cmp(&y.to_string()),
        },
    }
}
