//! Export: add, modify (incremental for multi-valued), rename, delete.

use std::collections::{HashMap, HashSet};

use ldap3::controls::RawControl;
use ldap3::{Mod, Scope};
use plugin_api::prelude::*;

use crate::conn::{LResult, LdapFailure, OID_PERMISSIVE_MODIFY, Session, check_result};
use crate::dn;
use crate::entry::{anchor_value, attr_values, first_raw_value, show_value};
use crate::first_pass;
use crate::schema::DN_ANCHOR;
use crate::search::search_all;
use crate::settings::Settings;

mod value_mods;

use value_mods::{
    membership_update_mods, membership_update_mods_unread, value_bytes, value_update_mods,
};

/// Group membership attributes whose values are DNs: `member` (groupOfNames, AD, 389 DS)
/// and `uniqueMember` (groupOfUniqueNames).
fn is_membership(name: &str) -> bool {
    name.eq_ignore_ascii_case("member") || name.eq_ignore_ascii_case("uniqueMember")
}

/// The special attribute ECMA uses for a new DN (`AttributeChange.CreateNewDN`).
fn is_dn_change(name: &str) -> bool {
    name.eq_ignore_ascii_case("DN") || name.eq_ignore_ascii_case("-dn-")
}

/// Who gives an object its anchor value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnchorSource {
    /// The directory (`entryUUID`, `nsUniqueId`, `objectGUID`, the DN): an Add never sends
    /// it, and learns it by reading the new object back.
    #[default]
    Server,
    /// The client (an ordinary user attribute chosen as anchor): the Add writes it.
    Client,
}

/// How the export's anchor is handled, as the schema describes the anchor attribute.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnchorTraits {
    pub source: AnchorSource,
    /// Values are bytes (an octet string such as `objectGUID`), never text.
    pub binary: bool,
}

impl AnchorTraits {
    /// The traits of `attr` as one of `types` describes it (the first that has it).
    pub fn of<'a>(attr: &str, types: impl IntoIterator<Item = &'a SchemaType>) -> Option<Self> {
        let a = types.into_iter().find_map(|t| t.attribute(attr))?;
        Some(Self {
            source: if a.operation == AttributeOperation::ImportOnly {
                AnchorSource::Server
            } else {
                AnchorSource::Client
            },
            binary: a.data_type == DataType::Binary,
        })
    }
}

pub struct ExportContext {
    pub anchor: Option<String>,
    pub anchor_traits: AnchorTraits,
    pub bases: Vec<String>,
}

impl ExportContext {
    fn anchor_name(&self) -> &str {
        self.anchor.as_deref().unwrap_or(DN_ANCHOR)
    }

    /// Refuses a new DN (an add's, a rename's target) outside every container the export
    /// serves: the host hands on a client's `-dn-` as it came, and a DN elsewhere in the
    /// directory would create or move an object no import of this connector sees. Without
    /// any known container (no `Base DNs`, no naming contexts) there is nothing to hold it to.
    fn check_under_bases(&self, op: &str, target: &str) -> LResult<()> {
        if self.bases.is_empty() || self.bases.iter().any(|b| dn::is_under(target, b)) {
            return Ok(());
        }
        Err(LdapFailure::OutsideBases {
            op: op.to_owned(),
            dn: target.to_owned(),
            bases: self.bases.clone(),
        })
    }

    /// Refuses a member value written to a group (an add's members, an update's added
    /// members, a replace's set) that names an object outside every container the export
    /// serves: a client could otherwise make any directory object, an administrators' group's
    /// member included, a member through a group this connector manages, and no import would
    /// ever show it. The placeholder member is the connector's own and always allowed; members
    /// removed are not checked (taking a stray member out is always welcome).
    fn check_members_under_bases(&self, settings: &Settings, e: &CsEntryChange) -> LResult<()> {
        if self.bases.is_empty() {
            return Ok(());
        }
        // Normalised once: a group may arrive with 100,000 members.
        let bases: Vec<String> = self.bases.iter().map(|b| dn::normalize(b)).collect();
        let under = |member: &str| {
            let m = dn::normalize(member);
            bases.iter().any(|b| dn::is_under_normalized(&m, b))
        };
        for c in e.changes.iter().filter(|c| is_membership(&c.name)) {
            if c.modification == AttributeModification::Delete {
                continue;
            }
            for v in c.added_values() {
                let member = v.as_text();
                if !under(&member) && !settings.is_placeholder(&member) {
                    return Err(LdapFailure::OutsideBases {
                        op: "member".to_owned(),
                        dn: member,
                        bases: self.bases.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether an Add writes the anchor attribute itself.
    fn writes_anchor(&self) -> bool {
        self.anchor.is_some() && self.anchor_traits.source == AnchorSource::Client
    }
}

/// Finds an object's current DN from its anchor value.
pub fn find_dn(
    session: &mut Session,
    ctx: &ExportContext,
    value: &Value,
) -> LResult<Option<String>> {
    let Some(anchor) = &ctx.anchor else {
        return Ok(value.as_str().map(str::to_owned));
    };
    let filter = dn::equality_filter(anchor, value);
    for base in &ctx.bases {
        let found = search_all(session, base, Scope::Subtree, &filter, &["1.1".to_owned()])?;
        if let Some(e) = found.into_iter().next() {
            return Ok(Some(e.dn));
        }
    }
    Ok(None)
}

/// The current DN of the object an export entry is about.
pub(crate) fn current_dn(
    session: &mut Session,
    ctx: &ExportContext,
    e: &CsEntryChange,
) -> LResult<String> {
    if ctx.anchor.is_some()
        && let Some(v) = e.anchor_value()
        && !v.as_text().is_empty()
    {
        return find_dn(session, ctx, v)?.ok_or_else(|| {
            LdapFailure::result(
                "find by anchor",
                32,
                format!("no object with {} {}", ctx.anchor_name(), show_value(v)),
            )
        });
    }
    if !e.dn.is_empty() {
        return Ok(e.dn.clone());
    }
    if let Some(Value::String(d)) = e.anchor_value() {
        return Ok(d.clone());
    }
    Err(LdapFailure::result(
        "export",
        34,
        "the entry has neither a DN nor an anchor".into(),
    ))
}

pub fn export_one(session: &mut Session, ctx: &ExportContext, e: &CsEntryChange) -> ExportResult {
    let result = match e.modification {
        ObjectModification::Add => add(session, ctx, e),
        ObjectModification::Update | ObjectModification::Replace => modify(session, ctx, e),
        ObjectModification::Delete => delete(session, ctx, e),
        ObjectModification::None => Ok(ExportResult::success(&e.identifier)),
    };
    match result {
        Ok(r) => r,
        Err(f) => {
            session.note(&f);
            ExportResult::failure(&e.identifier, f.export_code(), f.to_string())
        }
    }
}

pub(crate) fn op_err(session: &Session, op: &str, e: ldap3::LdapError) -> LdapFailure {
    LdapFailure::from_ldap(op, &session.url(), e)
}

fn add(session: &mut Session, ctx: &ExportContext, e: &CsEntryChange) -> LResult<ExportResult> {
    let settings = session.settings.clone();
    let password = first_pass::initial_password(&settings, e)?;
    let (mut entry, new_dn) = NewEntry::from_changes(&settings, ctx, e);
    let target = add_target(&settings, e, new_dn)?;
    ctx.check_under_bases("add", &target)?;
    ctx.check_members_under_bases(&settings, e)?;
    entry.put_naming_values(&target)?;
    if let Some((attr, value)) = password {
        entry.put(&attr, value);
    }
    let timeout = settings.op_timeout;
    let r = session
        .conn()?
        .with_timeout(timeout)
        .add(&target, entry.attrs)
        .map_err(|x| op_err(session, "add", x))?;
    check_result(&format!("add {target}"), &r)?;
    added(session, ctx, e, target)
}

/// The attributes of an object to add, each with its values, in first-seen order. Names
/// match case-insensitively; the first spelling is sent.
#[derive(Default)]
struct NewEntry {
    attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)>,
    /// Lower-cased name → position in `attrs`.
    index: HashMap<String, usize>,
}

impl NewEntry {
    /// The attributes an export entry adds, the placeholder member and the object classes;
    /// and the DN the entry asks for.
    fn from_changes(
        settings: &Settings,
        ctx: &ExportContext,
        e: &CsEntryChange,
    ) -> (Self, Option<String>) {
        let mut entry = Self::default();
        let mut new_dn = None;
        let anchor_name = ctx.anchor_name();
        for c in &e.changes {
            if is_dn_change(&c.name) {
                new_dn = c.added_values().next().map(Value::as_text);
                continue;
            }
            if (c.name.eq_ignore_ascii_case(anchor_name) && !ctx.writes_anchor())
                || c.modification == AttributeModification::Delete
                || first_pass::is_export_password(&c.name)
            {
                continue;
            }
            for v in c.added_values() {
                entry.put(&c.name, value_bytes(v));
            }
        }
        // A client-chosen anchor the host sent only as the entry's anchor (the SCIM id).
        if ctx.writes_anchor()
            && !entry.has(anchor_name, |_| true)
            && let Some(v) = e
                .anchor
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(anchor_name))
                .map(|a| &a.value)
                .filter(|v| !value_bytes(v).is_empty())
        {
            entry.put(anchor_name, value_bytes(v));
        }
        // A group created without members gets the placeholder (Entra creates groups empty
        // and adds members afterwards).
        if let (Some(attr), Some(placeholder)) = (
            settings.placeholder_attr(&e.object_type),
            settings.placeholder_member.as_deref(),
        ) && !entry.has(attr, |_| true)
        {
            entry.put(attr, placeholder.as_bytes().to_vec());
        }
        entry.put("objectClass", e.object_type.clone().into_bytes());
        if let Some(aux) = settings.aux_classes.get(&e.object_type.to_lowercase()) {
            for a in aux {
                entry.put("objectClass", a.clone().into_bytes());
            }
        }
        (entry, new_dn)
    }

    fn put(&mut self, name: &str, v: Vec<u8>) {
        let attrs = &mut self.attrs;
        let i = *self.index.entry(name.to_lowercase()).or_insert_with(|| {
            attrs.push((name.as_bytes().to_vec(), HashSet::new()));
            attrs.len() - 1
        });
        self.attrs[i].1.insert(v);
    }

    /// Whether attribute `attr` has a value `matches` accepts.
    fn has(&self, attr: &str, matches: impl Fn(&[u8]) -> bool) -> bool {
        self.attrs.iter().any(|(k, vals)| {
            String::from_utf8_lossy(k).eq_ignore_ascii_case(attr) && vals.iter().any(|v| matches(v))
        })
    }

    /// The naming attribute values of `target` must be in the entry.
    fn put_naming_values(&mut self, target: &str) -> LResult<()> {
        let (rdn, _) = dn::split_first(target)
            .ok_or_else(|| LdapFailure::result("add", 34, format!("invalid DN {target:?}")))?;
        for ava in dn::parse_rdn(&rdn)
            .ok_or_else(|| LdapFailure::result("add", 34, format!("invalid RDN {rdn:?}")))?
        {
            if !self.has(&ava.attr, |v| {
                String::from_utf8_lossy(v).eq_ignore_ascii_case(&ava.value)
            }) {
                self.put(&ava.attr, ava.value.into_bytes());
            }
        }
        Ok(())
    }
}

/// The DN of a new object: the DN change's, else the entry's, else from the type's DN
/// template.
fn add_target(settings: &Settings, e: &CsEntryChange, new_dn: Option<String>) -> LResult<String> {
    if let Some(d) = new_dn.filter(|d| !d.is_empty()) {
        return Ok(d);
    }
    if !e.dn.is_empty() {
        return Ok(e.dn.clone());
    }
    let template = settings
        .dn_templates
        .get(&e.object_type.to_lowercase())
        .ok_or_else(|| {
            LdapFailure::result(
                "add",
                34,
                format!(
                    "no DN given and no DN template configured for {}",
                    e.object_type
                ),
            )
        })?;
    dn::expand_template(template, |a| {
        if first_pass::is_export_password(a) {
            return None;
        }
        e.change(a)
            .and_then(|c| c.added_values().next())
            .map(Value::as_text)
    })
    .map_err(|m| LdapFailure::result("add", 34, m))
}

/// The result of an add: the new object's DN and, with a server-assigned anchor, its value.
fn added(
    session: &mut Session,
    ctx: &ExportContext,
    e: &CsEntryChange,
    target: String,
) -> LResult<ExportResult> {
    let mut result = ExportResult::success(&e.identifier);
    if let Some(a) = &ctx.anchor {
        let found = search_all(
            session,
            &target,
            Scope::Base,
            "(objectClass=*)",
            std::slice::from_ref(a),
        )?;
        if let Some(raw) = found.first().and_then(|x| first_raw_value(x, a)) {
            result = result.with_anchor(a, anchor_value(raw, ctx.anchor_traits.binary));
        }
    }
    // The host learns the DN the template produced (for references and renames).
    Ok(result.with_anchor(DN_ANCHOR, target))
}

/// LDAP answers noSuchObject (32) for a missing object, but also for a missing new parent
/// of a rename or (with referential integrity) a missing member DN. A base search on the
/// object tells the two apart, so a missing reference is not mistaken for a deleted object.
fn modify(session: &mut Session, ctx: &ExportContext, e: &CsEntryChange) -> LResult<ExportResult> {
    first_pass::refuse_outside_add(e)?;
    match modify_object(session, ctx, e) {
        Err(LdapFailure::Result {
            op, rc: 32, text, ..
        }) => {
            let dn_now = current_dn(session, ctx, e)?;
            if entry_exists(session, &dn_now)? {
                Err(LdapFailure::MissingReference { op, text })
            } else {
                Err(LdapFailure::result(&op, 32, text))
            }
        }
        other => other,
    }
}

/// Whether an entry exists at `dn` (a base-scope search).
fn entry_exists(session: &mut Session, dn: &str) -> LResult<bool> {
    match search_all(
        session,
        dn,
        Scope::Base,
        "(objectClass=*)",
        &["1.1".to_owned()],
    ) {
        Ok(found) => Ok(!found.is_empty()),
        Err(LdapFailure::Result { rc: 32, .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

fn modify_object(
    session: &mut Session,
    ctx: &ExportContext,
    e: &CsEntryChange,
) -> LResult<ExportResult> {
    let settings = session.settings.clone();
    // Before anything is sent: a refused member must not leave a half-done rename behind.
    ctx.check_members_under_bases(&settings, e)?;
    let mut dn_now = current_dn(session, ctx, e)?;
    let mut result = ExportResult::success(&e.identifier);
    // A rename: an explicit DN change, or (with a server-assigned anchor) a different DN.
    let mut new_dn = e
        .changes
        .iter()
        .find(|c| is_dn_change(&c.name))
        .and_then(|c| c.added_values().next().map(Value::as_text));
    if new_dn.is_none() && ctx.anchor.is_some() && !e.dn.is_empty() {
        new_dn = Some(e.dn.clone());
    }
    if let Some(target) = new_dn.filter(|t| dn::normalize(t) != dn::normalize(&dn_now)) {
        ctx.check_under_bases("rename", &target)?;
        let (new_rdn, new_parent) = dn::split_first(&target)
            .ok_or_else(|| LdapFailure::result("rename", 34, format!("invalid DN {target:?}")))?;
        let old_parent = dn::split_first(&dn_now).map(|(_, p)| p).unwrap_or_default();
        let superior =
            (dn::normalize(&new_parent) != dn::normalize(&old_parent)).then_some(new_parent);
        let r = session
            .conn()?
            .with_timeout(settings.op_timeout)
            .modifydn(&dn_now, &new_rdn, true, superior.as_deref())
            .map_err(|x| op_err(session, "rename", x))?;
        check_result(&format!("rename {dn_now} to {target}"), &r)?;
        dn_now = target;
        if ctx.anchor.is_none() {
            result = result.with_anchor(DN_ANCHOR, dn_now.clone());
        }
    }
    // Membership value changes of a group that needs the placeholder are computed against
    // the current members, so the placeholder goes in when the last member leaves and out
    // when a real member arrives; first, though, they are tried without reading them.
    let permissive = session.root()?.supports_control(OID_PERMISSIVE_MODIFY);
    let membership_attr = settings.placeholder_attr(&e.object_type).filter(|a| {
        e.changes.iter().any(|c| {
            c.modification == AttributeModification::Update && c.name.eq_ignore_ascii_case(a)
        })
    });
    let mods = if let Some(attr) = membership_attr {
        let attempt = update_members_unread(session, &settings, ctx, e, &dn_now, attr, permissive)?;
        if attempt == UnreadAttempt::Applied {
            return Ok(result);
        }
        let current = read_incremental(session, &dn_now, e)?;
        build_mods(&settings, ctx, e, Current::Read(current.as_ref()))
    } else {
        build_mods(&settings, ctx, e, Current::Unread)
    };
    if mods.is_empty() {
        return Ok(result);
    }
    let first = send_modify(session, &dn_now, mods, permissive);
    match first {
        // Without permissive modify (OpenLDAP 2.5 does not offer it), adding a present value
        // or deleting an absent one fails the whole modify. Re-read the values and send only
        // what is still needed, so a retried or overlapping export converges.
        Err(LdapFailure::Result { rc: 16 | 20, .. }) if !permissive => {
            let current = read_incremental(session, &dn_now, e)?;
            let mods = build_mods(&settings, ctx, e, Current::Read(current.as_ref()));
            if !mods.is_empty() {
                send_modify(session, &dn_now, mods, false)?;
            }
        }
        other => other?,
    }
    Ok(result)
}

/// How an update of a group's members without reading them ended.
#[derive(Debug, PartialEq, Eq)]
enum UnreadAttempt {
    Applied,
    /// Nothing was changed: the change must be computed against the current members.
    NeedsCurrent,
}

/// A membership update of a group that needs the placeholder, tried without reading the
/// group's members: a large group holds 100,000 of them while Entra adds or removes one at a
/// time, and reading them all for each change costs far more than the change. One compare
/// tells whether the placeholder must make way for arriving members, one modify applies the
/// change. When the directory refuses it because the current members matter after all (a
/// deleted member is absent: noSuchAttribute; an added one is present: typeOrValueExists;
/// the deletes would empty the group, which then needs the placeholder:
/// objectClassViolation), nothing was changed (a modify is atomic) and the caller computes
/// the change against the members it reads, as it always did.
fn update_members_unread(
    session: &mut Session,
    settings: &Settings,
    ctx: &ExportContext,
    e: &CsEntryChange,
    dn_now: &str,
    attr: &str,
    permissive: bool,
) -> LResult<UnreadAttempt> {
    let Some(placeholder) = settings.placeholder_member.as_deref() else {
        return Ok(UnreadAttempt::NeedsCurrent);
    };
    let changes: Vec<&AttributeChange> = e
        .changes
        .iter()
        .filter(|c| {
            c.modification == AttributeModification::Update && c.name.eq_ignore_ascii_case(attr)
        })
        .collect();
    // A change naming the placeholder itself (rare) is for the current members to decide.
    if changes
        .iter()
        .flat_map(|c| &c.values)
        .any(|v| settings.is_placeholder(&v.value.as_text()))
    {
        return Ok(UnreadAttempt::NeedsCurrent);
    }
    let members_arrive = changes.iter().any(|c| c.added_values().next().is_some());
    let current = if members_arrive {
        match placeholder_present(session, dn_now, attr, placeholder) {
            Ok(true) => Current::UnreadWithPlaceholder,
            Ok(false) => Current::Unread,
            Err(f @ LdapFailure::Result { rc: 32, .. }) => return Err(f),
            // A directory that refuses the compare (access rights) may still answer the read.
            Err(LdapFailure::Result { .. }) => return Ok(UnreadAttempt::NeedsCurrent),
            Err(f) => return Err(f),
        }
    } else {
        Current::Unread
    };
    let mods = build_mods(settings, ctx, e, current);
    if mods.is_empty() {
        return Ok(UnreadAttempt::Applied);
    }
    match send_modify(session, dn_now, mods, permissive) {
        // Where the directory's schema lets the group go empty (389 DS, Active Directory:
        // `member` is optional there), the last member leaving is no objectClassViolation:
        // the placeholder goes in afterwards, as the read path would have added it.
        Ok(()) if !members_arrive && !holds_any(session, dn_now, attr)? => {
            let placeholder = HashSet::from([placeholder.as_bytes().to_vec()]);
            let add = vec![Mod::Add(attr.as_bytes().to_vec(), placeholder)];
            send_modify(session, dn_now, add, permissive)?;
            Ok(UnreadAttempt::Applied)
        }
        Ok(()) => Ok(UnreadAttempt::Applied),
        Err(LdapFailure::Result {
            rc: 16 | 20 | 65, ..
        }) => Ok(UnreadAttempt::NeedsCurrent),
        Err(f) => Err(f),
    }
}

/// Whether the entry at `dn` holds any value of `attr` (a membership attribute's fixed name):
/// a base search that returns no attribute.
fn holds_any(session: &mut Session, dn: &str, attr: &str) -> LResult<bool> {
    let filter = format!("({attr}=*)");
    let found = search_all(session, dn, Scope::Base, &filter, &["1.1".to_owned()])?;
    Ok(!found.is_empty())
}

/// Whether the group at `dn` holds the placeholder in `attr`: one compare, matched by the
/// directory's own rules (however the value is spelt there). An absent attribute
/// (noSuchAttribute) holds no placeholder.
fn placeholder_present(
    session: &mut Session,
    dn: &str,
    attr: &str,
    placeholder: &str,
) -> LResult<bool> {
    let timeout = session.settings.op_timeout;
    let r = session
        .conn()?
        .with_timeout(timeout)
        .compare(dn, attr, placeholder)
        .map_err(|x| op_err(session, "compare", x))?
        .0;
    match r.rc {
        6 => Ok(true),
        5 | 16 => Ok(false),
        rc => Err(LdapFailure::result(&format!("compare {dn}"), rc, r.text)),
    }
}

/// The current values of every attribute `e` changes incrementally: `build_mods` filters each
/// one's value changes against them.
fn read_incremental(
    session: &mut Session,
    dn_now: &str,
    e: &CsEntryChange,
) -> LResult<Option<ldap3::SearchEntry>> {
    let names: Vec<String> = e
        .changes
        .iter()
        .filter(|c| c.modification == AttributeModification::Update)
        .map(|c| c.name.clone())
        .collect();
    let current = search_all(session, dn_now, Scope::Base, "(objectClass=*)", &names)?;
    Ok(current.into_iter().next())
}

fn send_modify(
    session: &mut Session,
    dn_now: &str,
    mods: Vec<Mod<Vec<u8>>>,
    permissive: bool,
) -> LResult<()> {
    let timeout = session.settings.op_timeout;
    let conn = session.conn()?;
    conn.with_timeout(timeout);
    if permissive {
        // Permissive modify: adding a present value or deleting an absent one is not an
        // error, so a retried export converges instead of failing.
        conn.with_controls(RawControl {
            ctype: OID_PERMISSIVE_MODIFY.to_owned(),
            crit: false,
            val: None,
        });
    }
    let r = conn
        .modify(dn_now, mods)
        .map_err(|x| op_err(session, "modify", x))?;
    check_result(&format!("modify {dn_now}"), &r)
}

/// What [`build_mods`] knows of the object's current values.
#[derive(Debug, Clone, Copy)]
enum Current<'a> {
    /// Not read: value changes go as they are.
    Unread,
    /// Not read, but the placeholder member is known to be there: arriving members replace it.
    UnreadWithPlaceholder,
    /// As read from the directory (None: no entry came back).
    Read(Option<&'a ldap3::SearchEntry>),
}

/// The modify operations for an export entry. With the current values read, value adds
/// already present and value deletes already absent are left out.
fn build_mods(
    settings: &Settings,
    ctx: &ExportContext,
    e: &CsEntryChange,
    current: Current<'_>,
) -> Vec<Mod<Vec<u8>>> {
    let mut mods: Vec<Mod<Vec<u8>>> = Vec::new();
    let placeholder_attr = settings.placeholder_attr(&e.object_type);
    let placeholder = settings.placeholder_member.as_deref().unwrap_or_default();
    let needs_placeholder =
        |name: &str| placeholder_attr.is_some_and(|a| a.eq_ignore_ascii_case(name));
    let have = |entry: Option<&ldap3::SearchEntry>, name: &str| {
        entry.map(|x| attr_values(x, name)).unwrap_or_default()
    };
    for c in &e.changes {
        if is_dn_change(&c.name) || c.name.eq_ignore_ascii_case(ctx.anchor_name()) {
            continue;
        }
        let name = c.name.clone().into_bytes();
        match c.modification {
            AttributeModification::Add | AttributeModification::Replace => {
                let mut values: HashSet<Vec<u8>> = c.added_values().map(value_bytes).collect();
                if values.is_empty() && needs_placeholder(&c.name) {
                    values.insert(placeholder.as_bytes().to_vec());
                }
                mods.push(Mod::Replace(name, values));
            }
            AttributeModification::Update if needs_placeholder(&c.name) => match current {
                Current::Unread => membership_update_mods_unread(c, None, &mut mods),
                Current::UnreadWithPlaceholder => {
                    membership_update_mods_unread(c, Some(placeholder), &mut mods)
                }
                Current::Read(entry) => {
                    membership_update_mods(c, &have(entry, &c.name), placeholder, &mut mods)
                }
            },
            AttributeModification::Update => match current {
                Current::Unread | Current::UnreadWithPlaceholder => {
                    value_update_mods(c, None, &mut mods)
                }
                Current::Read(entry) => {
                    value_update_mods(c, Some(&have(entry, &c.name)), &mut mods)
                }
            },
            // Replace with no values removes the attribute and, unlike Delete, does not fail
            // when it is already absent.
            AttributeModification::Delete if needs_placeholder(&c.name) => mods.push(Mod::Replace(
                name,
                HashSet::from([placeholder.as_bytes().to_vec()]),
            )),
            AttributeModification::Delete => mods.push(Mod::Replace(name, HashSet::new())),
        }
    }
    mods
}

fn delete(session: &mut Session, ctx: &ExportContext, e: &CsEntryChange) -> LResult<ExportResult> {
    let timeout = session.settings.op_timeout;
    let dn_now = current_dn(session, ctx, e)?;
    let r = session
        .conn()?
        .with_timeout(timeout)
        .delete(&dn_now)
        .map_err(|x| op_err(session, "delete", x))?;
    check_result(&format!("delete {dn_now}"), &r)?;
    Ok(ExportResult::success(&e.identifier))
}
