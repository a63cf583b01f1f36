//! Full import (streamed, paged, constant memory) and delta import (accesslog, RFC 4533
//! content synchronisation, changelog, modifyTimestamp).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapConn, Scope, SearchEntry};
use plugin_api::prelude::*;

use crate::conn::{LResult, LdapFailure, Session, connect};
use crate::dn;
use crate::schema::DN_ANCHOR;
use crate::settings::{SearchScope, Settings};

/// The delta strategy actually used, encoded in the watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaStrategy {
    /// OpenLDAP slapo-accesslog, watermark `reqStart`.
    Accesslog,
    /// RFC 4533 content synchronisation (OpenLDAP syncprov, 389 DS content sync plugin) in
    /// refreshOnly mode, watermark the sync cookie per searched container. Deletes come from
    /// the provider's session log; a provider that can only answer with a present phase
    /// makes the delta ask for a full import.
    ContentSync,
    /// `cn=changelog` (389 DS retro changelog, OpenDJ), watermark `changeNumber`.
    Changelog,
    /// `modifyTimestamp >= watermark`: sees adds and modifies, never deletes.
    ModifyTimestamp,
}

impl DeltaStrategy {
    fn tag(self) -> &'static str {
        match self {
            DeltaStrategy::Accesslog => "accesslog",
            DeltaStrategy::ContentSync => "contentsync",
            DeltaStrategy::Changelog => "changelog",
            DeltaStrategy::ModifyTimestamp => "modifyTimestamp",
        }
    }
}

/// `CustomData`: `generic-ldap:v1:<strategy>:<value>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    pub strategy: DeltaStrategy,
    pub value: String,
}

const WM_PREFIX: &str = "generic-ldap:v1:";
/// Earlier than any generalized time a server writes.
const TIME_ZERO: &str = "19700101000000Z";

impl Watermark {
    pub fn encode(&self) -> String {
        format!("{WM_PREFIX}{}:{}", self.strategy.tag(), self.value)
    }
    pub fn decode(s: &str) -> Option<Self> {
        let rest = s.strip_prefix(WM_PREFIX)?;
        let (tag, value) = rest.split_once(':')?;
        let strategy = match tag {
            "accesslog" => DeltaStrategy::Accesslog,
            "contentsync" => DeltaStrategy::ContentSync,
            "changelog" => DeltaStrategy::Changelog,
            "modifyTimestamp" => DeltaStrategy::ModifyTimestamp,
            _ => return None,
        };
        Some(Self {
            strategy,
            value: value.to_owned(),
        })
    }
}

/// How entries become `CsEntryChange`s: the requested types, the anchor, what to request.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub types: Vec<SchemaType>,
    /// Anchor attribute; None when the DN is the anchor.
    pub anchor: Option<String>,
    pub password_attr: String,
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
        // Keyed by the schema's spelling (what servers return, so the common lookup
        // allocates nothing) and by the lower-cased name.
        let index = schema
            .types
            .iter()
            .map(|t| {
                let mut m = HashMap::new();
                for a in &t.attributes {
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
            })
            .collect();
        Ok(Self {
            index,
            placeholder_attr: schema
                .types
                .iter()
                .map(|t| settings.placeholder_attr(&t.name))
                .collect(),
            placeholder: settings.placeholder_member.as_deref().map(dn::normalize),
            types: schema.types.clone(),
            anchor,
            password_attr: settings.password_attr.clone(),
            filter,
            attrs,
            bases,
            scope: match settings.scope {
                SearchScope::Subtree => Scope::Subtree,
                SearchScope::OneLevel => Scope::OneLevel,
            },
        })
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
        let index = &self.index[ti];
        let mut out = CsEntryChange::new(&ty.name, modification);
        match &self.anchor {
            Some(a) => {
                let binary = ty
                    .attribute(a)
                    .is_some_and(|x| x.data_type == DataType::Binary);
                let v = match e.values(a).first() {
                    Some(b) if binary => Value::Binary(b.clone()),
                    Some(b) => match std::str::from_utf8(b) {
                        Ok(s) => Value::String(s.to_owned()),
                        Err(_) => Value::Binary(b.clone()),
                    },
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
            None => {
                out.anchor.push(AnchorAttribute {
                    name: DN_ANCHOR.into(),
                    value: Value::String(e.dn.clone()),
                });
            }
        }
        out.identifier = out.anchor[0].value.as_text();
        out.dn = e.dn;
        out.changes.reserve(e.attrs.len());
        // Values are moved out of the entry, not copied: allocation is most of an import's
        // cost.
        for (name, values) in e.attrs {
            // `name;binary` and other options: the attribute is the base name.
            let Some(base) = base_name(&name) else {
                continue;
            };
            let Some(info) = index.get(base).or_else(|| index.get(&base.to_lowercase())) else {
                continue;
            };
            if info.skip || values.is_empty() {
                continue;
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
            if !converted.is_empty() {
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
        }
        Some(out)
    }
}

/// A search result entry as the server sent it: the DN and each attribute's raw values, in
/// order. Built straight from the BER tree, so values are moved, never copied (ldap3's
/// `SearchEntry` copies every value into a new `String` and builds a hash map that an import
/// only iterates: together a fifth of a full import's time).
#[derive(Debug, Default)]
pub struct RawEntry {
    pub dn: String,
    pub attrs: Vec<(String, Vec<Vec<u8>>)>,
}

impl RawEntry {
    /// From a search result entry message; None for anything else or a malformed one.
    pub fn from_result(re: ldap3::ResultEntry) -> Option<Self> {
        let mut tags = re.0.match_id(4)?.expect_constructed()?.into_iter();
        let dn = String::from_utf8(tags.next()?.expect_primitive()?).ok()?;
        let mut attrs = Vec::new();
        for a in tags.next()?.expect_constructed()? {
            let mut parts = a.expect_constructed()?.into_iter();
            let name = String::from_utf8(parts.next()?.expect_primitive()?).ok()?;
            let values = parts
                .next()?
                .expect_constructed()?
                .into_iter()
                .map(|v| v.expect_primitive())
                .collect::<Option<Vec<Vec<u8>>>>()?;
            attrs.push((name, values));
        }
        Some(Self { dn, attrs })
    }

    pub fn values(&self, name: &str) -> &[Vec<u8>] {
        self.attrs
            .iter()
            .find(|(k, _)| base_name(k).is_some_and(|b| b.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }

    pub fn first_text(&self, name: &str) -> Option<&str> {
        self.values(name)
            .first()
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// The attribute an attribute description stands for: the name itself, or without the
/// transfer option (`userCertificate;binary` → `userCertificate`). None for descriptions with
/// other options (`cn;lang-de`, AD's `member;range=0-1499`): those values are not the
/// attribute's values, and taking them would replace the real ones. A byte scan: names are
/// short, and this runs for every attribute of every entry.
fn base_name(description: &str) -> Option<&str> {
    match description.bytes().position(|b| b == b';') {
        None => Some(description),
        Some(i) if description[i + 1..].eq_ignore_ascii_case("binary") => Some(&description[..i]),
        Some(_) => None,
    }
}

impl From<SearchEntry> for RawEntry {
    fn from(e: SearchEntry) -> Self {
        let mut attrs: Vec<(String, Vec<Vec<u8>>)> = e
            .attrs
            .into_iter()
            .map(|(k, vs)| (k, vs.into_iter().map(String::into_bytes).collect()))
            .collect();
        attrs.extend(e.bin_attrs);
        Self { dn: e.dn, attrs }
    }
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

pub fn attr_values(e: &SearchEntry, name: &str) -> Vec<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn malformed_entry() -> LdapFailure {
    LdapFailure::Protocol("the server sent a malformed search result entry".into())
}

/// `(|(objectClass=a)(objectClass=b))` for the requested types.
pub fn type_filter(types: &[SchemaType]) -> String {
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

// ---------------------------------------------------------------------------------------------
// Full import: a producer thread streams the search into a bounded channel
// ---------------------------------------------------------------------------------------------

/// Entries travel in batches: one channel hand-off (and thread wake-up) per batch, not per
/// entry, which was a third of the import time.
const BATCH: usize = 128;

enum Msg {
    Entries(Vec<CsEntryChange>),
    Failed(ConnectorError),
    Finished {
        max_modify_timestamp: Option<String>,
    },
}

/// A running full import. The producer thread owns its own connection and streams entries
/// (paged results when the server supports them) into a channel of bounded size, so memory
/// stays constant whatever the directory size, and reading the network overlaps with the
/// host consuming pages.
pub struct FullImport {
    rx: Option<Receiver<Msg>>,
    pending: VecDeque<CsEntryChange>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    pub done: bool,
    pub max_modify_timestamp: Option<String>,
}

impl FullImport {
    pub fn start(
        settings: Arc<Settings>,
        host: HostServices,
        plan: Arc<ImportPlan>,
        paged: bool,
        channel_size: usize,
    ) -> Self {
        let (tx, rx) = sync_channel(channel_size.div_ceil(BATCH).max(2));
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name("generic-ldap-import".into())
            .spawn(move || {
                let result = produce(&settings, &host, &plan, paged, &tx, &stop2);
                let msg = match result {
                    Ok(max) => Msg::Finished {
                        max_modify_timestamp: max,
                    },
                    Err(e) => Msg::Failed(e.into()),
                };
                let _ = tx.send(msg);
            })
            .expect("spawn import thread");
        Self {
            rx: Some(rx),
            pending: VecDeque::new(),
            stop,
            handle: Some(handle),
            done: false,
            max_modify_timestamp: None,
        }
    }

    /// Up to `page_size` entries; `done` is set when the search has finished.
    pub fn next_page(
        &mut self,
        page_size: usize,
        host: &HostServices,
    ) -> ConnectorResult<Vec<CsEntryChange>> {
        let mut out = Vec::with_capacity(page_size);
        loop {
            let n = (page_size - out.len()).min(self.pending.len());
            out.extend(self.pending.drain(..n));
            if out.len() >= page_size || self.done {
                break;
            }
            let rx = self.rx.as_ref().expect("receiver while running");
            match rx.recv() {
                Ok(Msg::Entries(batch)) => self.pending.extend(batch),
                Ok(Msg::Finished {
                    max_modify_timestamp,
                }) => {
                    self.max_modify_timestamp = max_modify_timestamp;
                    self.done = true;
                    break;
                }
                Ok(Msg::Failed(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Err(ConnectorError::internal("import thread ended unexpectedly"));
                }
            }
            host.check_cancelled()?;
        }
        Ok(out)
    }

    /// True when every entry has been handed out.
    pub fn finished(&self) -> bool {
        self.done && self.pending.is_empty()
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Dropping the receiver makes a producer blocked in send() fail at once.
        self.rx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for FullImport {
    fn drop(&mut self) {
        self.stop();
    }
}

fn produce(
    settings: &Settings,
    host: &HostServices,
    plan: &ImportPlan,
    paged: bool,
    tx: &SyncSender<Msg>,
    stop: &AtomicBool,
) -> LResult<Option<String>> {
    let url = settings.url();
    let mut conn = connect(settings, host)?;
    let mut max_ts: Option<String> = None;
    let mut batch: Vec<CsEntryChange> = Vec::with_capacity(BATCH);
    for base in &plan.bases {
        let adapters: Vec<Box<dyn Adapter<'_, String, Vec<String>>>> = if paged {
            vec![
                Box::new(EntriesOnly::new()),
                Box::new(PagedResults::new(settings.page_size)),
            ]
        } else {
            vec![Box::new(EntriesOnly::new())]
        };
        let mut stream = conn
            .with_timeout(settings.op_timeout)
            .streaming_search_with(adapters, base, plan.scope, &plan.filter, plan.attrs.clone())
            .map_err(|e| LdapFailure::from_ldap("search", &url, e))?;
        loop {
            if stop.load(Ordering::Relaxed) {
                // Dropping the connection (thread exit) ends the search on the server.
                return Ok(max_ts);
            }
            match stream.next() {
                Ok(Some(re)) => {
                    let e = RawEntry::from_result(re).ok_or_else(malformed_entry)?;
                    if let Some(ts) = e.first_text("modifyTimestamp")
                        && max_ts.as_deref().is_none_or(|m| ts > m)
                    {
                        max_ts = Some(ts.to_owned());
                    }
                    batch.extend(plan.convert_raw(e, ObjectModification::Add));
                    if batch.len() >= BATCH
                        && tx
                            .send(Msg::Entries(std::mem::replace(
                                &mut batch,
                                Vec::with_capacity(BATCH),
                            )))
                            .is_err()
                    {
                        // The consumer is gone (import closed): stop quietly.
                        return Ok(max_ts);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(LdapFailure::from_ldap("search", &url, e)),
            }
        }
        let res = stream.result();
        if res.rc != 0 {
            return Err(LdapFailure::result(
                &format!("search {base}"),
                res.rc,
                res.text,
            ));
        }
    }
    if !batch.is_empty() && tx.send(Msg::Entries(batch)).is_err() {
        return Ok(max_ts);
    }
    let _ = conn.unbind();
    Ok(max_ts)
}

/// A full import over simple paged results on the caller's thread: each server page is one
/// search with the paged-results cookie, so memory is bounded by the page size and entries
/// are allocated and freed on the same thread (cross-thread frees made the threaded variant
/// spend half its time in the allocator).
pub struct PagedImport {
    conn: Option<LdapConn>,
    settings: Arc<Settings>,
    host: HostServices,
    plan: Arc<ImportPlan>,
    base: usize,
    cookie: Vec<u8>,
    pending: VecDeque<CsEntryChange>,
    done: bool,
    pub max_modify_timestamp: Option<String>,
}

impl PagedImport {
    pub fn new(settings: Arc<Settings>, host: HostServices, plan: Arc<ImportPlan>) -> Self {
        Self {
            conn: None,
            settings,
            host,
            plan,
            base: 0,
            cookie: Vec::new(),
            pending: VecDeque::new(),
            done: false,
            max_modify_timestamp: None,
        }
    }

    pub fn finished(&self) -> bool {
        self.done && self.pending.is_empty()
    }

    pub fn next_page(&mut self, page_size: usize) -> ConnectorResult<Vec<CsEntryChange>> {
        let mut out = Vec::with_capacity(page_size);
        loop {
            let n = (page_size - out.len()).min(self.pending.len());
            out.extend(self.pending.drain(..n));
            if out.len() >= page_size || self.done {
                return Ok(out);
            }
            self.host.check_cancelled()?;
            if let Err(e) = self.fetch() {
                // A broken import is not resumed: the host starts a new one.
                self.done = true;
                self.conn = None;
                return Err(e.into());
            }
        }
    }

    /// One server page into `pending`.
    fn fetch(&mut self) -> LResult<()> {
        use ldap3::controls::{ControlType, PagedResults as PagedControl};
        let url = self.settings.url();
        if self.conn.is_none() {
            self.conn = Some(connect(&self.settings, &self.host)?);
        }
        let Some(base) = self.plan.bases.get(self.base).cloned() else {
            self.done = true;
            return Ok(());
        };
        let conn = self.conn.as_mut().expect("connected above");
        // Streamed within the page: entries are converted while the server is still sending
        // the rest of it.
        let mut stream = conn
            .with_controls(PagedControl {
                size: self.settings.page_size,
                cookie: std::mem::take(&mut self.cookie),
            })
            .with_timeout(self.settings.op_timeout)
            .streaming_search(
                &base,
                self.plan.scope,
                &self.plan.filter,
                self.plan.attrs.clone(),
            )
            .map_err(|e| LdapFailure::from_ldap("search", &url, e))?;
        while let Some(re) = stream
            .next()
            .map_err(|e| LdapFailure::from_ldap("search", &url, e))?
        {
            if re.is_ref() || re.is_intermediate() {
                continue;
            }
            let e = RawEntry::from_result(re).ok_or_else(malformed_entry)?;
            if let Some(ts) = e.first_text("modifyTimestamp")
                && self.max_modify_timestamp.as_deref().is_none_or(|m| ts > m)
            {
                self.max_modify_timestamp = Some(ts.to_owned());
            }
            self.pending
                .extend(self.plan.convert_raw(e, ObjectModification::Add));
        }
        let res = stream.result();
        if res.rc != 0 {
            return Err(LdapFailure::result(
                &format!("search {base}"),
                res.rc,
                res.text,
            ));
        }
        let cookie = res
            .ctrls
            .iter()
            .find(|c| matches!(c.0, Some(ControlType::PagedResults)))
            .map(|c| c.1.parse::<PagedControl>().cookie)
            .unwrap_or_default();
        if cookie.is_empty() {
            // This base is complete; go on with the next one.
            self.base += 1;
            if self.base >= self.plan.bases.len() {
                self.done = true;
                if let Some(mut c) = self.conn.take() {
                    let _ = c.unbind();
                }
            }
        } else {
            self.cookie = cookie;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Delta import
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChangeKind {
    Add,
    Modify,
    Delete,
    Rename,
}

#[derive(Debug, Clone)]
struct ChangeRecord {
    kind: ChangeKind,
    dn: String,
    new_dn: Option<String>,
    uuid: Option<String>,
    class_hint: Option<String>,
}

/// The watermark to store after a full import started now.
pub fn start_watermark(
    session: &mut Session,
    strategy: DeltaStrategy,
    plan: &ImportPlan,
) -> LResult<Watermark> {
    let settings = session.settings.clone();
    let url = settings.url();
    let value = match strategy {
        DeltaStrategy::ContentSync => {
            // The provider's current state, without transferring entries: a refresh whose
            // filter matches nothing still ends with the cookie (the cookie records the
            // provider's change sequence, not the filter).
            let mut cookies = SyncCookies::default();
            for base in &plan.bases {
                let out = sync_refresh(
                    session,
                    base,
                    plan.scope,
                    "(!(objectClass=*))",
                    &["1.1".to_owned()],
                    None,
                )?;
                let cookie = out.cookie.ok_or_else(|| {
                    LdapFailure::Protocol(format!(
                        "content sync of {base}: the provider sent no cookie (is syncprov configured on this database, and has it been written to?)"
                    ))
                })?;
                cookies.0.push((base.clone(), cookie));
            }
            cookies.encode()
        }
        DeltaStrategy::Accesslog => {
            // The newest reqStart. The log is purged (logpurge) in production, so reading
            // just this one attribute of every record is cheap.
            let conn = session.conn()?;
            let mut max = TIME_ZERO.to_owned();
            let mut stream = conn
                .with_timeout(settings.op_timeout)
                .streaming_search_with(
                    vec![
                        Box::new(EntriesOnly::new()) as Box<dyn Adapter<'_, &str, Vec<&str>>>,
                        Box::new(PagedResults::new(1000)),
                    ],
                    &settings.accesslog_dn,
                    Scope::OneLevel,
                    "(reqStart=*)",
                    vec!["reqStart"],
                )
                .map_err(|e| LdapFailure::from_ldap("read accesslog", &url, e))?;
            while let Some(re) = stream
                .next()
                .map_err(|e| LdapFailure::from_ldap("read accesslog", &url, e))?
            {
                let e = SearchEntry::construct(re);
                if let Some(v) = attr_values(&e, "reqStart").into_iter().next()
                    && v > max
                {
                    max = v;
                }
            }
            let res = stream.result();
            if res.rc != 0 {
                return Err(LdapFailure::result("read accesslog", res.rc, res.text));
            }
            max
        }
        DeltaStrategy::Changelog => {
            let root = crate::conn::read_root_dse(session.conn()?, &settings)?;
            root.last_change_number.unwrap_or(0).to_string()
        }
        // Filled in from the entries the full import reads.
        DeltaStrategy::ModifyTimestamp => TIME_ZERO.to_owned(),
    };
    Ok(Watermark { strategy, value })
}

/// Runs a delta import to completion; returns the entries and the new watermark. Memory is
/// proportional to the number of changed objects, not to the directory size.
pub fn run_delta(
    session: &mut Session,
    plan: &ImportPlan,
    wm: &Watermark,
) -> LResult<(Vec<CsEntryChange>, Watermark)> {
    let settings = session.settings.clone();
    match wm.strategy {
        DeltaStrategy::ModifyTimestamp => {
            let filter = format!(
                "(&{}(modifyTimestamp>={}))",
                plan.filter,
                dn::escape_filter(&wm.value)
            );
            let mut max = wm.value.clone();
            let mut out = Vec::new();
            for base in &plan.bases {
                for e in search_all(session, base, plan.scope, &filter, &plan.attrs)? {
                    if let Some(ts) = attr_values(&e, "modifyTimestamp").into_iter().next()
                        && ts > max
                    {
                        max = ts;
                    }
                    out.extend(plan.convert(e, ObjectModification::Replace));
                }
            }
            Ok((
                out,
                Watermark {
                    strategy: wm.strategy,
                    value: max,
                },
            ))
        }
        DeltaStrategy::Accesslog => {
            let filter = format!(
                "(&(objectClass=auditWriteObject)(reqResult=0)(reqStart>={}))",
                dn::escape_filter(&wm.value)
            );
            let attrs: Vec<String> = [
                "reqStart",
                "reqType",
                "reqDN",
                "reqEntryUUID",
                "reqNewRDN",
                "reqNewSuperior",
                "reqOld",
            ]
            .map(String::from)
            .to_vec();
            let mut rows: Vec<(String, ChangeRecord)> = Vec::new();
            for e in search_all(
                session,
                &settings.accesslog_dn,
                Scope::OneLevel,
                &filter,
                &attrs,
            )? {
                let start = attr_values(&e, "reqStart")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                if start <= wm.value {
                    continue;
                }
                let kind = match attr_values(&e, "reqType")
                    .first()
                    .map(|s| s.to_ascii_lowercase())
                    .as_deref()
                {
                    Some("add") => ChangeKind::Add,
                    Some("modify") => ChangeKind::Modify,
                    Some("delete") => ChangeKind::Delete,
                    Some("modrdn") => ChangeKind::Rename,
                    _ => continue,
                };
                let target = attr_values(&e, "reqDN")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                let new_dn = (kind == ChangeKind::Rename).then(|| {
                    renamed_dn(
                        &target,
                        attr_values(&e, "reqNewRDN").first().map(String::as_str),
                        attr_values(&e, "reqNewSuperior")
                            .first()
                            .map(String::as_str),
                    )
                });
                let class_hint = class_from_old(&attr_values(&e, "reqOld"));
                rows.push((
                    start,
                    ChangeRecord {
                        kind,
                        dn: target,
                        new_dn,
                        uuid: attr_values(&e, "reqEntryUUID").into_iter().next(),
                        class_hint,
                    },
                ));
            }
            // Generalized times with a fixed format sort as strings.
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            let max = rows
                .last()
                .map(|r| r.0.clone())
                .unwrap_or_else(|| wm.value.clone());
            let records: Vec<ChangeRecord> = rows.into_iter().map(|r| r.1).collect();
            let out = resolve(session, plan, records)?;
            Ok((
                out,
                Watermark {
                    strategy: wm.strategy,
                    value: max,
                },
            ))
        }
        DeltaStrategy::ContentSync => {
            let anchor = match plan.anchor.as_deref() {
                Some(a) if a.eq_ignore_ascii_case("entryUUID") => a.to_owned(),
                _ => {
                    return Err(LdapFailure::Config(
                        "the ContentSync delta strategy needs entryUUID as the anchor (deletes arrive as entry UUIDs)".into(),
                    ));
                }
            };
            let before = SyncCookies::decode(&wm.value).ok_or_else(|| {
                LdapFailure::Protocol("the content sync watermark is unreadable".into())
            })?;
            let mut after = SyncCookies::default();
            let mut out = Vec::new();
            let mut seen: HashMap<String, usize> = HashMap::new();
            // Deletes are applied after every container was read: an object that moved from
            // one searched container to another is reported present by one and deleted by
            // the other, and it still exists.
            let mut deleted: Vec<String> = Vec::new();
            for base in &plan.bases {
                let Some(cookie) = before.get(base) else {
                    return Err(LdapFailure::FullImportRequired(format!(
                        "no content sync cookie for {base} (the containers changed since the last full import)"
                    )));
                };
                let r = sync_refresh(
                    session,
                    base,
                    plan.scope,
                    &plan.filter,
                    &plan.attrs,
                    Some(cookie.to_vec()),
                )?;
                if r.present_phase {
                    return Err(LdapFailure::FullImportRequired(format!(
                        "content sync of {base}: the provider answered with a present phase (no session log, or the cookie is older than it), so deletes cannot be seen"
                    )));
                }
                // One entry per object, last state wins (an object can be reported twice
                // across phases).
                let mut push = |e: CsEntryChange, out: &mut Vec<CsEntryChange>| match seen
                    .get(&e.identifier.to_lowercase())
                {
                    Some(&i) => out[i] = e,
                    None => {
                        seen.insert(e.identifier.to_lowercase(), out.len());
                        out.push(e);
                    }
                };
                for e in r.entries {
                    if let Some(c) = plan.convert(e, ObjectModification::Replace) {
                        push(c, &mut out);
                    }
                }
                deleted.extend(r.deleted);
                after
                    .0
                    .push((base.clone(), r.cookie.unwrap_or_else(|| cookie.to_vec())));
            }
            let ty = plan
                .types
                .first()
                .map(|t| t.name.clone())
                .unwrap_or_default();
            for uuid in deleted {
                if seen.contains_key(&uuid.to_lowercase()) {
                    continue;
                }
                seen.insert(uuid.to_lowercase(), out.len());
                let mut d = CsEntryChange::new(&ty, ObjectModification::Delete)
                    .with_anchor(&anchor, uuid.clone());
                d.identifier = uuid;
                out.push(d);
            }
            Ok((
                out,
                Watermark {
                    strategy: wm.strategy,
                    value: after.encode(),
                },
            ))
        }
        DeltaStrategy::Changelog => {
            let from: u64 = wm.value.parse().unwrap_or(0);
            let filter = format!("(changeNumber>={})", from + 1);
            let attrs: Vec<String> = [
                "changeNumber",
                "changeType",
                "targetDN",
                "newRDN",
                "newSuperior",
                "targetUniqueId",
                "targetEntryUUID",
            ]
            .map(String::from)
            .to_vec();
            let mut rows: Vec<(u64, ChangeRecord)> = Vec::new();
            for e in search_all(
                session,
                &settings.changelog_dn,
                Scope::OneLevel,
                &filter,
                &attrs,
            )? {
                let n: u64 = attr_values(&e, "changeNumber")
                    .first()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                if n <= from {
                    continue;
                }
                let kind = match attr_values(&e, "changeType")
                    .first()
                    .map(|s| s.to_ascii_lowercase())
                    .as_deref()
                {
                    Some("add") => ChangeKind::Add,
                    Some("modify") => ChangeKind::Modify,
                    Some("delete") => ChangeKind::Delete,
                    Some("modrdn") | Some("moddn") => ChangeKind::Rename,
                    _ => continue,
                };
                let target = attr_values(&e, "targetDN")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                let new_dn = (kind == ChangeKind::Rename).then(|| {
                    renamed_dn(
                        &target,
                        attr_values(&e, "newRDN").first().map(String::as_str),
                        attr_values(&e, "newSuperior").first().map(String::as_str),
                    )
                });
                let uuid = attr_values(&e, "targetUniqueId")
                    .into_iter()
                    .chain(attr_values(&e, "targetEntryUUID"))
                    .next();
                rows.push((
                    n,
                    ChangeRecord {
                        kind,
                        dn: target,
                        new_dn,
                        uuid,
                        class_hint: None,
                    },
                ));
            }
            rows.sort_by_key(|r| r.0);
            let max = rows.last().map(|r| r.0).unwrap_or(from);
            let records = rows.into_iter().map(|r| r.1).collect();
            let out = resolve(session, plan, records)?;
            Ok((
                out,
                Watermark {
                    strategy: wm.strategy,
                    value: max.to_string(),
                },
            ))
        }
    }
}

/// Sync cookies per searched container, in the watermark as `hex(base)=hex(cookie)` joined by
/// `;` (cookies are opaque octet strings).
#[derive(Debug, Default, PartialEq, Eq)]
struct SyncCookies(Vec<(String, Vec<u8>)>);

impl SyncCookies {
    fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(b, c)| format!("{}={}", hex(b.as_bytes()), hex(c)))
            .collect::<Vec<_>>()
            .join(";")
    }
    fn decode(s: &str) -> Option<Self> {
        let mut out = Vec::new();
        for part in s.split(';').filter(|p| !p.is_empty()) {
            let (b, c) = part.split_once('=')?;
            out.push((String::from_utf8(unhex(b)?).ok()?, unhex(c)?));
        }
        Some(Self(out))
    }
    fn get(&self, base: &str) -> Option<&[u8]> {
        let key = dn::normalize(base);
        self.0
            .iter()
            .find(|(b, _)| dn::normalize(b) == key)
            .map(|(_, c)| c.as_slice())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// An entry UUID as the 16 octets of the Sync State control → the text form servers use for
/// `entryUUID` (RFC 4530).
fn uuid_text(b: &[u8]) -> Option<String> {
    (b.len() == 16).then(|| {
        let h = hex(b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    })
}

/// What one refreshOnly content-sync search returned.
#[derive(Default)]
struct SyncRefresh {
    /// Added or changed entries (whole, with the requested attributes).
    entries: Vec<SearchEntry>,
    /// Entry UUIDs (text form) of deleted objects: Sync State `delete` entries and
    /// `syncIdSet`s with refreshDeletes.
    deleted: Vec<String>,
    /// The provider sent a present phase: unchanged objects listed as present, deletes only
    /// implied by absence.
    present_phase: bool,
    cookie: Option<Vec<u8>>,
}

/// RFC 4533 refreshOnly search. ldap3's control parsers panic on malformed BER, so each
/// parse is contained and reported as a protocol error.
fn sync_refresh(
    session: &mut Session,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[String],
    cookie: Option<Vec<u8>>,
) -> LResult<SyncRefresh> {
    use ldap3::controls::{
        ControlParser, EntryState, RawControl, RefreshMode, SyncDone, SyncInfo, SyncRequest,
        SyncState,
    };
    const SYNC_STATE_OID: &str = "1.3.6.1.4.1.4203.1.9.1.2";
    const SYNC_DONE_OID: &str = "1.3.6.1.4.1.4203.1.9.1.3";
    fn parse<T>(what: &str, f: impl FnOnce() -> T) -> LResult<T> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .map_err(|_| LdapFailure::Protocol(format!("content sync: malformed {what}")))
    }
    let settings = session.settings.clone();
    let url = settings.url();
    let op = format!("content sync of {base}");
    let sent_cookie = cookie.is_some();
    let mut request: RawControl = SyncRequest {
        mode: RefreshMode::RefreshOnly,
        cookie,
        reload_hint: false,
    }
    .into();
    // Critical: a server without the control must refuse, not answer a plain search.
    request.crit = true;
    let result = (|| {
        let conn: &mut LdapConn = session.conn()?;
        let mut stream = conn
            .with_controls(vec![request])
            .with_timeout(settings.op_timeout)
            .streaming_search(base, scope, filter, attrs.to_vec())
            .map_err(|e| LdapFailure::from_ldap(&op, &url, e))?;
        let mut out = SyncRefresh::default();
        while let Some(re) = stream
            .next()
            .map_err(|e| LdapFailure::from_ldap(&op, &url, e))?
        {
            if re.is_intermediate() {
                let info = parse("syncInfo message", || ldap3::controls::parse_syncinfo(re))?;
                match info {
                    SyncInfo::NewCookie(c) => out.cookie = Some(c),
                    SyncInfo::RefreshDelete { cookie, .. } => {
                        if cookie.is_some() {
                            out.cookie = cookie;
                        }
                    }
                    SyncInfo::RefreshPresent { cookie, .. } => {
                        out.present_phase = true;
                        if cookie.is_some() {
                            out.cookie = cookie;
                        }
                    }
                    SyncInfo::SyncIdSet {
                        cookie,
                        refresh_deletes,
                        sync_uuids,
                    } => {
                        if refresh_deletes {
                            out.deleted
                                .extend(sync_uuids.iter().filter_map(|u| uuid_text(u)));
                        } else {
                            out.present_phase = true;
                        }
                        if cookie.is_some() {
                            out.cookie = cookie;
                        }
                    }
                }
                continue;
            }
            if re.is_ref() {
                continue;
            }
            let state = match re.1.iter().find(|c| c.1.ctype == SYNC_STATE_OID) {
                Some(c) => match c.1.val.as_deref() {
                    Some(v) => Some(parse("Sync State control", || SyncState::parse(v))?),
                    None => None,
                },
                None => None,
            };
            let Some(state) = state else {
                return Err(LdapFailure::Protocol(format!(
                    "{op}: an entry came without a Sync State control (the server ignored the sync request)"
                )));
            };
            if let Some(c) = state.cookie {
                out.cookie = Some(c);
            }
            match state.state {
                EntryState::Present => out.present_phase = true,
                EntryState::Delete => out.deleted.extend(uuid_text(&state.entry_uuid)),
                EntryState::Add | EntryState::Modify => {
                    out.entries.push(SearchEntry::construct(re))
                }
            }
        }
        let res = stream.result();
        if res.rc == 4096 {
            // e-syncRefreshRequired: the provider cannot continue from this cookie.
            return Err(LdapFailure::FullImportRequired(format!(
                "{op}: the provider requires a full refresh (e-syncRefreshRequired){}",
                if res.text.is_empty() {
                    String::new()
                } else {
                    format!(": {}", res.text)
                }
            )));
        }
        if res.rc != 0 {
            return Err(LdapFailure::result(&op, res.rc, res.text));
        }
        if let Some(c) = res.ctrls.iter().find(|c| c.1.ctype == SYNC_DONE_OID)
            && let Some(v) = c.1.val.as_deref()
        {
            let done = parse("Sync Done control", || SyncDone::parse(v))?;
            if done.cookie.is_some() {
                out.cookie = done.cookie;
            }
            if sent_cookie && !done.refresh_deletes {
                // refreshDeletes FALSE ends a present phase (RFC 4533 §3.3.1): objects the
                // provider did not list as present are gone, which only a client holding
                // the whole content can work out.
                out.present_phase = true;
            }
        }
        Ok(out)
    })();
    if let Err(e) = &result {
        session.note(e);
    }
    result
}

fn renamed_dn(old: &str, new_rdn: Option<&str>, new_superior: Option<&str>) -> String {
    let parent = new_superior
        .map(str::to_owned)
        .or_else(|| dn::split_first(old).map(|(_, p)| p))
        .unwrap_or_default();
    let rdn = new_rdn.unwrap_or("");
    if parent.is_empty() {
        rdn.to_owned()
    } else {
        format!("{rdn},{parent}")
    }
}

/// `reqOld` holds `attr: value` lines of the old entry (when the overlay logs old values).
fn class_from_old(old: &[String]) -> Option<String> {
    let find = |name: &str| {
        old.iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    find("structuralObjectClass").or_else(|| find("objectClass"))
}

/// Turns change records into entries: every affected object is re-read, so the host gets
/// its current state (with its current DN after renames); objects that are gone (deleted, or
/// moved out of the searched containers) become `Delete`s.
fn resolve(
    session: &mut Session,
    plan: &ImportPlan,
    records: Vec<ChangeRecord>,
) -> LResult<Vec<CsEntryChange>> {
    let in_scope = |d: &str| plan.bases.iter().any(|b| dn::is_under(d, b));
    let records: Vec<ChangeRecord> = records
        .into_iter()
        .filter(|r| in_scope(&r.dn) || r.new_dn.as_deref().is_some_and(in_scope))
        .collect();
    let mut out = Vec::new();
    let delete_type = |hint: Option<&str>| -> String {
        hint.and_then(|h| plan.types.iter().find(|t| t.name.eq_ignore_ascii_case(h)))
            .or(plan.types.first())
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    match plan.anchor.clone() {
        Some(anchor) if records.iter().all(|r| r.uuid.is_some()) => {
            // Order of first appearance, one entry per object.
            let mut order: Vec<String> = Vec::new();
            let mut hints: HashMap<String, Option<String>> = HashMap::new();
            for r in &records {
                let u = r.uuid.clone().expect("checked above");
                if !hints.contains_key(&u) {
                    order.push(u.clone());
                }
                let h = hints.entry(u).or_default();
                if r.class_hint.is_some() {
                    h.clone_from(&r.class_hint);
                }
            }
            let mut found: HashMap<String, SearchEntry> = HashMap::new();
            for chunk in order.chunks(50) {
                let ors: String = chunk
                    .iter()
                    .map(|u| format!("({anchor}={})", dn::escape_filter(u)))
                    .collect();
                let filter = format!("(&{}(|{ors}))", plan.filter);
                for base in &plan.bases {
                    for e in search_all(session, base, plan.scope, &filter, &plan.attrs)? {
                        if let Some(u) = attr_values(&e, &anchor).into_iter().next() {
                            found.insert(u.to_lowercase(), e);
                        }
                    }
                }
            }
            for u in order {
                match found.remove(&u.to_lowercase()) {
                    Some(e) => out.extend(plan.convert(e, ObjectModification::Replace)),
                    None => {
                        let ty = delete_type(hints.get(&u).cloned().flatten().as_deref());
                        let mut d = CsEntryChange::new(&ty, ObjectModification::Delete)
                            .with_anchor(&anchor, u.clone());
                        d.identifier = u;
                        out.push(d);
                    }
                }
            }
        }
        _ => {
            // DN as anchor (or a log without entry UUIDs): track the final state per DN.
            #[derive(PartialEq)]
            enum State {
                Present,
                Gone(Option<String>),
            }
            let mut order: Vec<(String, String)> = Vec::new(); // (normalized, as written)
            let mut state: HashMap<String, State> = HashMap::new();
            let mut touch = |d: &str, s: State, order: &mut Vec<(String, String)>| {
                let n = dn::normalize(d);
                if !state.contains_key(&n) {
                    order.push((n.clone(), d.to_owned()));
                }
                state.insert(n, s);
            };
            for r in &records {
                match r.kind {
                    ChangeKind::Add | ChangeKind::Modify => {
                        touch(&r.dn, State::Present, &mut order)
                    }
                    ChangeKind::Delete => {
                        touch(&r.dn, State::Gone(r.class_hint.clone()), &mut order)
                    }
                    ChangeKind::Rename => {
                        touch(&r.dn, State::Gone(r.class_hint.clone()), &mut order);
                        if let Some(n) = &r.new_dn {
                            touch(n, State::Present, &mut order);
                        }
                    }
                }
            }
            let anchor_name = plan.anchor.clone().unwrap_or_else(|| DN_ANCHOR.to_owned());
            for (n, written) in order {
                let current = match &state[&n] {
                    State::Present => read_entry(session, &written, plan)?,
                    State::Gone(_) => None,
                };
                match current {
                    Some(e) => out.extend(plan.convert(e, ObjectModification::Replace)),
                    None => {
                        let hint = match &state[&n] {
                            State::Gone(h) => h.clone(),
                            State::Present => None,
                        };
                        if !plan.bases.iter().any(|b| dn::is_under(&written, b)) {
                            continue;
                        }
                        let mut d = CsEntryChange::new(
                            &delete_type(hint.as_deref()),
                            ObjectModification::Delete,
                        )
                        .with_anchor(&anchor_name, written.clone());
                        d.dn = written.clone();
                        d.identifier = written;
                        out.push(d);
                    }
                }
            }
        }
    }
    Ok(out)
}

fn read_entry(session: &mut Session, dn_: &str, plan: &ImportPlan) -> LResult<Option<SearchEntry>> {
    match search_all(session, dn_, Scope::Base, &plan.filter, &plan.attrs) {
        Ok(mut v) => Ok(v.pop()),
        Err(LdapFailure::Result { rc: 32, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A complete (paged when supported) search; for delta-sized result sets. Reads are
/// idempotent, so one connection failure is retried on a new connection.
pub fn search_all(
    session: &mut Session,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[String],
) -> LResult<Vec<SearchEntry>> {
    match search_once(session, base, scope, filter, attrs) {
        Err(e) if e.is_connection() => search_once(session, base, scope, filter, attrs),
        other => other,
    }
}

fn search_once(
    session: &mut Session,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[String],
) -> LResult<Vec<SearchEntry>> {
    let settings = session.settings.clone();
    let url = settings.url();
    let paged = session
        .root()?
        .supports_control(crate::conn::OID_PAGED_RESULTS);
    let result = (|| {
        let conn: &mut LdapConn = session.conn()?;
        let adapters: Vec<Box<dyn Adapter<'_, String, Vec<String>>>> = if paged {
            vec![
                Box::new(EntriesOnly::new()),
                Box::new(PagedResults::new(settings.page_size)),
            ]
        } else {
            vec![Box::new(EntriesOnly::new())]
        };
        let mut stream = conn
            .with_timeout(settings.op_timeout)
            .streaming_search_with(adapters, base, scope, filter, attrs.to_vec())
            .map_err(|e| LdapFailure::from_ldap("search", &url, e))?;
        let mut out = Vec::new();
        while let Some(re) = stream
            .next()
            .map_err(|e| LdapFailure::from_ldap("search", &url, e))?
        {
            out.push(SearchEntry::construct(re));
        }
        let res = stream.result();
        if res.rc != 0 {
            return Err(LdapFailure::result(
                &format!("search {base}"),
                res.rc,
                res.text,
            ));
        }
        Ok(out)
    })();
    if let Err(e) = &result {
        session.note(e);
    }
    result
}

/// Pages of a finished delta.
pub struct DeltaImport {
    pub entries: VecDeque<CsEntryChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_round_trip() {
        let w = Watermark {
            strategy: DeltaStrategy::Accesslog,
            value: "20250101120000.000001Z".into(),
        };
        assert_eq!(Watermark::decode(&w.encode()), Some(w));
        assert_eq!(Watermark::decode("garbage"), None);
    }

    #[test]
    fn renames() {
        assert_eq!(
            renamed_dn("uid=a,ou=p,dc=x", Some("uid=b"), None),
            "uid=b,ou=p,dc=x"
        );
        assert_eq!(
            renamed_dn("uid=a,ou=p,dc=x", Some("uid=b"), Some("ou=q,dc=x")),
            "uid=b,ou=q,dc=x"
        );
        assert_eq!(
            class_from_old(&["cn: x".into(), "objectClass: inetOrgPerson".into()]).as_deref(),
            Some("inetOrgPerson")
        );
    }
}
