//! How directory entries become `CsEntryChange`s: the requested types, the anchor, the
//! search that reads them.

use std::collections::HashMap;

use ldap3::{Scope, SearchEntry};
use plugin_api::prelude::*;

use super::raw_entry::{RawEntry, base_name};
use crate::dn;
use crate::entry::{anchor_value, show_value};
use crate::schema::DN_ANCHOR;
use crate::settings::{SearchScope, Settings};

/// How entries become `CsEntryChange`s: the requested types, the anchor, what to request.
#[derive(Debug, Clone)]
pub(crate) struct ImportPlan {
    pub types: Vec<SchemaType>,
    /// Anchor attribute; None when the DN is the anchor.
    pub anchor: Option<String>,
    pub filter: String,
    pub attrs: Vec<String>,
    pub bases: Vec<String>,
    pub scope: Scope,
    /// Per type (same order as `types`): lower-cased attribute name → how to import it.
    /// Built once, so converting an entry costs one hash lookup per attribute.
    index: Vec<HashMap<String, AttrInfo>>,
    /// Per type: the membership attribute holding the placeholder member, which is never
    /// imported; and the placeholder itself (normalised).
    placeholder_attr: Vec<Option<&'static str>>,
    placeholder: Option<String>,
}

#[derive(Debug, Clone)]
struct AttrInfo {
    name: String,
    data_type: DataType,
    multi: bool,
    /// Anchors (sent separately), export-only attributes, the password.
    skip: bool,
}

impl ImportPlan {
    pub fn new(
        settings: &Settings,
        schema: &Schema,
        anchor: Option<String>,
        bases: Vec<String>,
    ) -> ConnectorResult<Self> {
        if schema.types.is_empty() {
            return Err(ConnectorError::invalid_input("no object types to import"));
        }
        let filter = type_filter(&schema.types);
        let mut attrs = vec![
            "*".to_owned(),
            "structuralObjectClass".to_owned(),
            "modifyTimestamp".to_owned(),
        ];
        if settings.operational {
            attrs.push("+".to_owned());
        }
        if let Some(a) = &anchor {
            attrs.push(a.clone());
        }
        Ok(Self {
            index: schema
                .types
                .iter()
                .map(|t| attribute_index(settings, t))
                .collect(),
            placeholder_attr: schema
                .types
                .iter()
                .map(|t| settings.placeholder_attr(&t.name))
                .collect(),
            placeholder: settings.placeholder_member.as_deref().map(dn::normalize),
            types: schema.types.clone(),
            anchor,
            filter,
            attrs,
            bases,
            scope: match settings.scope {
                SearchScope::Subtree => Scope::Subtree,
                SearchScope::OneLevel => Scope::OneLevel,
            },
        })
    }

    /// True when `d` is one of the searched containers or below one.
    pub fn in_bases(&self, d: &str) -> bool {
        self.bases.iter().any(|b| dn::is_under(d, b))
    }

    /// True when a full import's search reaches `d`: below a searched container, or (one-level
    /// scope) directly below one.
    pub fn in_scope(&self, d: &str) -> bool {
        match self.scope {
            Scope::OneLevel => dn::split_first(d).is_some_and(|(_, parent)| {
                let parent = dn::normalize(&parent);
                self.bases.iter().any(|b| dn::normalize(b) == parent)
            }),
            _ => self.in_bases(d),
        }
    }

    fn type_of(&self, e: &RawEntry) -> Option<usize> {
        let find = |name: &str| {
            self.types
                .iter()
                .position(|t| t.name.eq_ignore_ascii_case(name))
        };
        if let Some(soc) = e.first_text("structuralObjectClass") {
            return find(soc);
        }
        // Without structuralObjectClass (389 DS, AD LDS), take the first requested type the
        // entry's classes name; list more specific types first in "Object types".
        let classes = e.values("objectClass");
        self.types.iter().position(|t| {
            classes
                .iter()
                .any(|c| std::str::from_utf8(c).is_ok_and(|c| c.eq_ignore_ascii_case(&t.name)))
        })
    }

    /// Converts one entry; None when it is not of a requested type.
    pub fn convert(
        &self,
        e: SearchEntry,
        modification: ObjectModification,
    ) -> Option<CsEntryChange> {
        self.convert_raw(RawEntry::from(e), modification)
    }

    /// Converts one entry as the server sent it (see [`RawEntry`]).
    pub fn convert_raw(
        &self,
        e: RawEntry,
        modification: ObjectModification,
    ) -> Option<CsEntryChange> {
        let ti = self.type_of(&e)?;
        let ty = &self.types[ti];
        let mut out = CsEntryChange::new(&ty.name, modification);
        self.push_anchor(ty, &e, &mut out);
        out.identifier = show_value(&out.anchor[0].value);
        out.dn = e.dn;
        out.changes.reserve(e.attrs.len());
        // Values are moved out of the entry, not copied: allocation is most of an import's
        // cost.
        for (name, values) in e.attrs {
            self.push_attribute(ti, name, values, &mut out);
        }
        Some(out)
    }

    /// The entry's anchor: the anchor attribute's first value (an error on the entry when it
    /// has none), or the DN.
    fn push_anchor(&self, ty: &SchemaType, e: &RawEntry, out: &mut CsEntryChange) {
        let Some(a) = &self.anchor else {
            out.anchor.push(AnchorAttribute {
                name: DN_ANCHOR.into(),
                value: Value::String(e.dn.clone()),
            });
            return;
        };
        let binary = ty
            .attribute(a)
            .is_some_and(|x| x.data_type == DataType::Binary);
        let v = match e.values(a).first() {
            Some(b) => anchor_value(b.clone(), binary),
            None => {
                out.error = Some(EntryError {
                    code: ImportErrorCode::MissingAnchor,
                    name: "missing-anchor".into(),
                    detail: format!("{} has no {a}", e.dn),
                });
                Value::String(String::new())
            }
        };
        out.anchor.push(AnchorAttribute {
            name: a.clone(),
            value: v,
        });
    }

    /// One attribute of the entry of type `ti`, when the type imports it: its values as
    /// adds (an error on the entry for a value of the wrong syntax).
    fn push_attribute(
        &self,
        ti: usize,
        name: String,
        values: Vec<Vec<u8>>,
        out: &mut CsEntryChange,
    ) {
        let index = &self.index[ti];
        // `name;binary` and other options: the attribute is the base name.
        let Some(base) = base_name(&name) else {
            return;
        };
        let Some(info) = index.get(base).or_else(|| index.get(&base.to_lowercase())) else {
            return;
        };
        if info.skip || values.is_empty() {
            return;
        }
        let take = if info.multi { values.len() } else { 1 };
        let hide_placeholder =
            self.placeholder_attr[ti].is_some_and(|a| a.eq_ignore_ascii_case(base));
        let mut converted: Vec<ValueChange> = Vec::with_capacity(take);
        // Like ldap3, an attribute with any value that is not UTF-8 is binary as a whole.
        let text = info.data_type != DataType::Binary
            && values.iter().all(|v| std::str::from_utf8(v).is_ok());
        for v in values.into_iter().take(take) {
            if !text {
                converted.push(ValueChange::add(Value::Binary(v)));
                continue;
            }
            let v = String::from_utf8(v).expect("checked above");
            if hide_placeholder && self.placeholder.as_deref() == Some(&dn::normalize(&v)) {
                continue;
            }
            match to_value(info.data_type, v) {
                Some(v) => converted.push(ValueChange::add(v)),
                None => {
                    out.error = Some(EntryError {
                        code: ImportErrorCode::InvalidAttributeValue,
                        name: base.to_owned(),
                        detail: format!(
                            "{}: {base} value is not a valid {:?}",
                            out.dn, info.data_type
                        ),
                    });
                }
            }
        }
        if converted.is_empty() {
            return;
        }
        // The server's spelling is the schema's almost always: reuse its string.
        let name = if base.len() == name.len() && name == info.name {
            name
        } else {
            info.name.clone()
        };
        out.changes.push(AttributeChange {
            name,
            modification: AttributeModification::Add,
            values: converted,
        });
    }

    /// The object type of a deleted object: the requested type `class_hint` names, else the
    /// first requested type (a deleted object can no longer be read).
    fn delete_type(&self, class_hint: Option<&str>) -> String {
        class_hint
            .and_then(|h| self.types.iter().find(|t| t.name.eq_ignore_ascii_case(h)))
            .or(self.types.first())
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }

    /// A `Delete` of the object that was at `dn`. With the DN as anchor, the DN names it
    /// both ways; with an anchor attribute, its value left with the object, so the DN alone
    /// names it (the host knows which object it held there).
    pub fn deletion_at(&self, class_hint: Option<&str>, dn: String) -> CsEntryChange {
        let mut d = CsEntryChange::new(&self.delete_type(class_hint), ObjectModification::Delete);
        if self.anchor.is_none() {
            d = d.with_anchor(DN_ANCHOR, dn.clone());
        }
        d.identifier = dn.clone();
        d.dn = dn;
        d
    }

    /// A `Delete` of the object whose `anchor` is `value`.
    pub fn deletion(&self, class_hint: Option<&str>, anchor: &str, value: String) -> CsEntryChange {
        let mut d = CsEntryChange::new(&self.delete_type(class_hint), ObjectModification::Delete)
            .with_anchor(anchor, value.clone());
        d.identifier = value;
        d
    }
}

/// How to import each attribute of `ty`, keyed by the schema's spelling (what servers
/// return, so the common lookup allocates nothing) and by the lower-cased name.
fn attribute_index(settings: &Settings, ty: &SchemaType) -> HashMap<String, AttrInfo> {
    let mut m = HashMap::new();
    for a in &ty.attributes {
        let info = AttrInfo {
            name: a.name.clone(),
            data_type: a.data_type,
            multi: a.multi_valued,
            skip: a.is_anchor
                || a.operation == AttributeOperation::ExportOnly
                || a.name.eq_ignore_ascii_case(&settings.password_attr),
        };
        m.insert(a.name.to_lowercase(), info.clone());
        m.insert(a.name.clone(), info);
    }
    m
}

fn to_value(dt: DataType, v: String) -> Option<Value> {
    Some(match dt {
        DataType::String => Value::String(v),
        DataType::Reference => Value::Reference(v),
        DataType::Integer => Value::Integer(v.trim().parse().ok()?),
        DataType::Boolean => match v.trim().to_ascii_uppercase().as_str() {
            "TRUE" => Value::Boolean(true),
            "FALSE" => Value::Boolean(false),
            _ => return None,
        },
        DataType::Binary => Value::Binary(v.into_bytes()),
    })
}

/// `(|(objectClass=a)(objectClass=b))` for the requested types.
fn type_filter(types: &[SchemaType]) -> String {
    let parts: Vec<String> = types
        .iter()
        .map(|t| format!("(objectClass={})", dn::escape_filter(&t.name)))
        .collect();
    if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("(|{})", parts.concat())
    }
}
