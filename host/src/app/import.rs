//! Imports: a full or delta import of every object type into the cache, page by page, with
//! the watermark kept per object type. A full import builds a new snapshot and swaps it in
//! whole; a delta applies each entry to the live cache under the object's lock.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use plugin_api::model::*;
use plugin_api::page::EntryView;

use super::reread_queue::ReReadTarget;
use super::{AppError, Application, setup_err};
use crate::cache::{Snapshot, TypeCache};
use crate::mapping::{Record, TypeMapping, apply_changes};
use crate::plugins::CallKind;

/// The file in an application's state directory that holds its watermarks by object type.
pub(super) const WATERMARKS_FILE: &str = "watermarks.json";

/// Reads an application's stored watermarks. A missing file is a first start; a file that
/// cannot be read or parsed is a warning, and the next import is a full one.
pub(super) fn load_watermarks(app: &str, state_dir: &Path) -> BTreeMap<String, String> {
    let path = state_dir.join(WATERMARKS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BTreeMap::new(),
        Err(e) => {
            tracing::warn!(
                app,
                "cannot read {}: {e}; the next import is a full import",
                path.display()
            );
            return BTreeMap::new();
        }
    };
    serde_json::from_str(&text).unwrap_or_else(|e| {
        tracing::warn!(
            app,
            "{} is not valid ({e}); the next import is a full import",
            path.display()
        );
        BTreeMap::new()
    })
}

/// What the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Delta where the connector supports it and a watermark exists, else full.
    Auto,
    Full,
    Delta,
}

/// Counts from one import run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub full: bool,
    /// Objects read.
    pub objects: u64,
    /// Of those, objects the cache did not hold, held differently, or held the same.
    pub added: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub errors: u64,
    /// The first entry error's text.
    pub first_error: Option<String>,
    pub millis: u128,
}

impl ImportSummary {
    /// Counts one entry that could not be imported; the first one's text is kept.
    fn entry_failed(&mut self, text: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(text());
        }
    }

    /// The change counts by the label `ecma_import_changes_total` gives them.
    pub fn changes(&self) -> [(&'static str, u64); 4] {
        [
            ("added", self.added),
            ("changed", self.changed),
            ("deleted", self.deleted),
            ("unchanged", self.unchanged),
        ]
    }
}

/// Whether two records of one object hold the same values. Values of a multi-valued
/// attribute may come back in another order (SQL rows without ORDER BY): not a change.
fn same_record(a: &Record, b: &Record) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((ka, va), (kb, vb))| {
            ka == kb
                && va.len() == vb.len()
                && (va == vb || {
                    let (mut sa, mut sb) = (va.clone(), vb.clone());
                    sa.sort_unstable();
                    sb.sort_unstable();
                    sa == sb
                })
        })
}

impl Application {
    /// Runs one import of every object type. Returns the summary; on failure the caches are
    /// unchanged (full) or hold what was applied before the failure (delta: entries are
    /// applied in order and the watermark is not advanced).
    pub async fn import(&self, mode: ImportMode, dry_run: bool) -> Result<ImportSummary, AppError> {
        let _one_at_a_time = self.import_lock.lock().await;
        self.importing.store(true, Ordering::Release);
        let started = Instant::now();
        let started_at = super::render::now_rfc3339();
        self.progress.store(0, Ordering::Relaxed);
        let result = self.import_all(mode, dry_run).await;
        self.importing.store(false, Ordering::Release);
        let elapsed = started.elapsed();
        metrics::histogram!("ecma_import_duration_seconds", "app" => self.name.clone())
            .record(elapsed.as_secs_f64());
        match &result {
            Ok(summary) => {
                if !dry_run {
                    self.ready.store(true, Ordering::Release);
                }
                *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                metrics::counter!("ecma_import_objects_total", "app" => self.name.clone())
                    .increment(summary.objects);
                if !dry_run {
                    let import = if summary.full { "full" } else { "delta" };
                    for (change, n) in summary.changes() {
                        metrics::counter!("ecma_import_changes_total", "app" => self.name.clone(), "import" => import, "change" => change)
                            .increment(n);
                    }
                    metrics::counter!("ecma_import_entry_errors_total", "app" => self.name.clone())
                        .increment(summary.errors);
                }
                if !dry_run && self.config.persist_cache {
                    self.persist_after_import(summary);
                }
                for (kind, size) in self.cache_sizes() {
                    metrics::gauge!("ecma_cache_objects", "app" => self.name.clone(), "type" => format!("{kind:?}"))
                        .set(size as f64);
                }
                tracing::info!(
                    app = %self.name,
                    full = summary.full,
                    objects = summary.objects,
                    added = summary.added,
                    changed = summary.changed,
                    deleted = summary.deleted,
                    unchanged = summary.unchanged,
                    errors = summary.errors,
                    first_error = summary.first_error.as_deref().unwrap_or(""),
                    ms = elapsed.as_millis() as u64,
                    dry_run,
                    "import finished"
                );
            }
            Err(e) => {
                *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                metrics::counter!("ecma_import_failures_total", "app" => self.name.clone())
                    .increment(1);
                tracing::warn!(app = %self.name, "import failed, keeping the old cache: {e}");
            }
        }
        let result = result.map(|mut s| {
            s.millis = elapsed.as_millis();
            s
        });
        if !dry_run {
            let record = match &result {
                Ok(s) => super::history::ImportRecord::of(started_at, s, None),
                Err(e) => super::history::ImportRecord::of(
                    started_at,
                    &ImportSummary {
                        full: mode == ImportMode::Full,
                        millis: elapsed.as_millis(),
                        ..ImportSummary::default()
                    },
                    Some(e.to_string()),
                ),
            };
            self.history.import_finished(record, result.is_ok());
        }
        result
    }

    async fn import_all(&self, mode: ImportMode, dry_run: bool) -> Result<ImportSummary, AppError> {
        let mut summary = ImportSummary::default();
        let page_size = match self.config.import_page_size {
            0 => self.capabilities.import_default_page_size.max(1),
            n => n.min(self.capabilities.import_max_page_size.max(1)),
        };
        for idx in 0..self.types.len() {
            let t = &self.types[idx];
            let watermark = self
                .watermarks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&t.object_type)
                .cloned();
            let can_delta = self.capabilities.delta_import
                && self.config.run_profiles.delta_import
                && watermark.as_deref().is_some_and(|w| !w.is_empty());
            let delta = match mode {
                ImportMode::Full => false,
                ImportMode::Auto => can_delta,
                ImportMode::Delta if can_delta => true,
                ImportMode::Delta => {
                    return Err(setup_err(
                        &self.name,
                        "delta import is not possible: the connector has no delta import, the run profile is off, or no watermark exists yet (run a full import first)",
                    ));
                }
            };
            summary.full |= !delta;
            let result = self
                .import_type(
                    idx,
                    delta,
                    page_size,
                    watermark.unwrap_or_default(),
                    dry_run,
                    &mut summary,
                )
                .await;
            let final_watermark = match result {
                // The connector cannot continue from the watermark (log purged, cookie
                // refused): a scheduled delta becomes a full import, which also yields a
                // fresh watermark. An explicit `--delta` reports the error instead.
                Err(AppError::Connector { source, .. })
                    if delta
                        && mode == ImportMode::Auto
                        && source.kind == ErrorKind::FullImportRequired =>
                {
                    tracing::warn!(
                        app = %self.name,
                        object_type = %t.object_type,
                        reason = %source.message,
                        "delta import not possible from the stored watermark; running a full import"
                    );
                    summary.full = true;
                    self.import_type(idx, false, page_size, String::new(), dry_run, &mut summary)
                        .await?
                }
                other => other?,
            };
            if !dry_run {
                self.save_watermark(&t.object_type, final_watermark);
            }
        }
        Ok(summary)
    }

    /// Imports one object type: opens the connector's import, applies every page, closes it.
    /// Returns the watermark to store.
    async fn import_type(
        &self,
        idx: usize,
        delta: bool,
        page_size: u32,
        watermark: String,
        dry_run: bool,
        summary: &mut ImportSummary,
    ) -> Result<String, AppError> {
        let t = &self.types[idx];
        let cache = &self.caches[idx];
        // ECMA's continue-run rule: after entry errors the watermark stays where it was, so
        // the next delta reads those changes again instead of losing them.
        let unchanged_watermark = watermark.clone();
        let connector_err = |source| AppError::Connector {
            app: self.name.clone(),
            source,
        };
        let request = OpenImportRequest {
            import_type: if delta {
                ImportType::Delta
            } else {
                ImportType::Full
            },
            page_size,
            custom_data: watermark,
            partition: None,
            schema: Schema {
                types: vec![t.schema_type.clone()],
            },
        };
        let builds_snapshot = !delta && !dry_run;
        // Journal SCIM writes from before the connector starts reading, so that a write
        // landing between open and swap is replayed onto the new snapshot.
        if builds_snapshot {
            cache.begin_full_import();
        }
        let abort = || {
            if builds_snapshot {
                cache.abort_full_import();
            }
        };
        // A delta applies entries to the live cache: SCIM writes made meanwhile are noted so
        // that an entry read before such a write does not undo it.
        // Connectors read ahead (whole change logs at open, pages in the background), so
        // "before" means before the import opened.
        let _noting = (delta && !dry_run).then(|| DeltaWrites::begin(cache));
        let opened_at_seq = cache.write_seq();
        let mut custom_data = match self
            .import_instance
            .call(CallKind::Import, move |i| i.open_import(request))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                abort();
                return Err(connector_err(e));
            }
        };
        let previous = cache.snapshot();
        let mut run = ImportRun {
            app: self,
            t,
            cache,
            previous: previous.clone(),
            // A full import starts from what the cache holds and changes what differs:
            // objects it finds unchanged cost nothing, and the maps it does not touch stay
            // shared with the snapshot it replaces.
            next: (!delta).then(|| Snapshot::clone(&previous)),
            kept: HashSet::new(),
            dry_run,
            summary,
            entry_errors: 0,
            stop: None,
            opened_at_seq,
            skipped: Vec::new(),
        };
        let result: Result<(), ConnectorError> = async {
            loop {
                // Entries are read in place from the connector's buffer: cache records are
                // built straight from it, with no CsEntryChange in between.
                let page = self
                    .import_instance
                    .call(CallKind::Import, |i| i.get_import_page())
                    .await?;
                if !page.custom_data.is_empty() {
                    custom_data = page.custom_data.clone();
                }
                // Checked whole before any entry is applied: a delta writes straight into the
                // cache, so a malformed page must not be half-applied.
                let entries = page
                    .entries
                    .entries()
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| {
                        ConnectorError::internal(format!(
                            "the connector sent a malformed import page: {e}"
                        ))
                    })?;
                for entry in entries {
                    run.apply_entry(&entry).await;
                    if let Some(reason) = run.stop.take() {
                        // CustomStopRun: a full import keeps the old snapshot (aborted below),
                        // a delta keeps its old watermark.
                        return Err(ConnectorError::internal(format!(
                            "the connector stopped the import (CustomStopRun): {reason}"
                        )));
                    }
                }
                if !page.more_to_import {
                    break;
                }
            }
            Ok(())
        }
        .await;
        let (mut next, entry_errors, previous, kept) =
            (run.next, run.entry_errors, run.previous, run.kept);
        if let Some(next) = &mut next {
            // What the full import did not read is gone from the target (unless it was
            // replaced meanwhile in this snapshot).
            for e in previous.iter() {
                if !kept.contains(&(Arc::as_ptr(e) as usize))
                    && next.get(e.id()).is_some_and(|n| Arc::ptr_eq(n, e))
                {
                    next.remove(e.id());
                }
            }
        }
        for id in run.skipped {
            let dn = cache.snapshot().get(&id).map(|e| e.dn().to_owned());
            self.request_reread(
                ReReadTarget {
                    type_idx: idx,
                    anchor: Some(id),
                    dn: dn.unwrap_or_default(),
                },
                "its delta entry was overtaken by a SCIM write",
            );
        }
        match result {
            Ok(()) => {
                let closed = match self
                    .import_instance
                    .call(CallKind::Import, |i| i.close_import(CloseReason::Normal))
                    .await
                {
                    Ok(c) => c,
                    Err(e) => {
                        abort();
                        return Err(connector_err(e));
                    }
                };
                if let Some(next) = next {
                    // What a full import deletes: the objects it no longer read.
                    summary.deleted += previous
                        .iter()
                        .filter(|e| next.get(e.id()).is_none())
                        .count() as u64;
                    if !dry_run {
                        cache.finish_full_import(next);
                    }
                }
                if entry_errors > 0 {
                    tracing::warn!(
                        app = %self.name,
                        object_type = %t.object_type,
                        entry_errors,
                        "entries failed to import; the watermark is not advanced, so the next delta reads them again"
                    );
                    return Ok(unchanged_watermark);
                }
                Ok(if closed.is_empty() {
                    custom_data
                } else {
                    closed
                })
            }
            Err(e) => {
                abort();
                let _ = self
                    .import_instance
                    .call(CallKind::Import, |i| i.close_import(CloseReason::Unknown))
                    .await;
                Err(connector_err(e))
            }
        }
    }
    fn save_watermark(&self, object_type: &str, watermark: String) {
        let mut marks = self.watermarks.lock().unwrap_or_else(|p| p.into_inner());
        marks.insert(object_type.to_owned(), watermark);
        let text = serde_json::to_string_pretty(&*marks).unwrap_or_default();
        let path = self.state_dir.join(WATERMARKS_FILE);
        if let Err(e) = crate::state::write_atomic(&path, text.as_bytes()) {
            tracing::warn!(app = %self.name, "cannot persist the watermark to {}: {e}", path.display());
        }
    }
}

/// One object type's import in progress: where its entries go and what they are counted in.
pub(super) struct ImportRun<'a> {
    app: &'a Application,
    t: &'a TypeMapping,
    cache: &'a TypeCache,
    /// The cache when the run started: an unchanged object keeps its `meta` timestamps.
    previous: Arc<Snapshot>,
    /// A full import's new snapshot; `None` for a delta, whose entries go to the live cache.
    next: Option<Snapshot>,
    /// The objects of `previous` a full import read and found unchanged (by address).
    kept: HashSet<usize>,
    /// Read and count everything, change nothing.
    dry_run: bool,
    summary: &'a mut ImportSummary,
    /// Entries of this run that failed (also counted in the summary).
    entry_errors: u64,
    /// Set when an entry asks to stop the run (`CustomStopRun`), with its detail.
    stop: Option<String>,
    /// The cache's SCIM write count when the import opened.
    opened_at_seq: u64,
    /// Objects whose delta entry was skipped because a SCIM write overtook it: read again
    /// once the delta is done, so another tool's change in the same delta is not lost.
    skipped: Vec<String>,
}

/// Notes SCIM writes for the length of a delta import (see [`TypeCache::written_after`]).
pub(super) struct DeltaWrites<'a>(&'a TypeCache);

impl<'a> DeltaWrites<'a> {
    pub(super) fn begin(cache: &'a TypeCache) -> Self {
        cache.begin_delta();
        Self(cache)
    }
}

impl Drop for DeltaWrites<'_> {
    fn drop(&mut self) {
        self.0.end_delta();
    }
}

impl<'a> ImportRun<'a> {
    /// A run whose entries go straight to the live cache of type `idx`, like a delta's.
    pub(super) fn live(
        app: &'a Application,
        idx: usize,
        summary: &'a mut ImportSummary,
        opened_at_seq: u64,
    ) -> Self {
        let cache = &app.caches[idx];
        Self {
            app,
            t: &app.types[idx],
            cache,
            previous: cache.snapshot(),
            next: None,
            kept: HashSet::new(),
            dry_run: false,
            summary,
            entry_errors: 0,
            stop: None,
            opened_at_seq,
            skipped: Vec::new(),
        }
    }

    /// Applies one imported entry (or counts why it cannot be applied).
    pub(super) async fn apply_entry(&mut self, entry: &EntryView<'_>) {
        let t = self.t;
        if !entry.object_type.is_empty() && !entry.object_type.eq_ignore_ascii_case(&t.object_type)
        {
            return;
        }
        if let Some(err) = entry.error() {
            self.summary.entry_failed(|| {
                format!("{}: {:?} {}: {}", entry.dn, err.code, err.name, err.detail)
            });
            self.entry_errors += 1;
            tracing::warn!(app = %self.app.name, dn = %entry.dn, "import entry error {:?} {}: {}", err.code, err.name, err.detail);
            if err.code == ImportErrorCode::CustomStopRun {
                self.stop = Some(format!("{}: {}", err.name, err.detail));
            }
            return;
        }
        let Some(id) = self.entry_id(entry) else {
            self.summary
                .entry_failed(|| format!("{}: the entry has no anchor", entry.dn));
            self.entry_errors += 1;
            tracing::warn!(app = %self.app.name, dn = %entry.dn, "imported entry has no anchor; skipped");
            return;
        };
        // A delta entry takes the object's write lock, so it never interleaves with a SCIM
        // write's read → export → cache update of the same object.
        let _held = match self.next.is_none() && !self.dry_run {
            true => Some(self.app.object_locks.object(&t.object_type, &id).await),
            false => None,
        };
        if self.next.is_none() && self.cache.written_after(&id, self.opened_at_seq) {
            // Possibly read before a SCIM write to the same object landed: the cache holds
            // the state that write left. (A change another tool made to the same object after
            // that write, within this one delta, waits for the next full import.)
            tracing::debug!(app = %self.app.name, id = %id, "delta entry older than a SCIM write; skipped");
            self.skipped.push(id);
            return;
        }
        self.apply_to_cache(id, entry);
    }

    /// The SCIM id of an imported entry: the configured anchor; a delta entry that names its
    /// object only by DN (a delete, say) is resolved through the cache, never by taking some
    /// other anchor as the id.
    pub(super) fn entry_id(&self, entry: &EntryView<'_>) -> Option<String> {
        let anchor = &self.t.anchor;
        entry
            .anchors()
            .find(|(name, _)| name.eq_ignore_ascii_case(anchor))
            .map(|(_, value)| self.t.anchor_form.id_of(&Value::from(value)))
            .or_else(|| {
                entry
                    .change(anchor)
                    .and_then(|c| c.added_values().next())
                    .map(|v| self.t.anchor_form.id_of(&Value::from(v)))
            })
            .or_else(|| {
                (self.next.is_none() && !entry.dn.is_empty())
                    .then(|| self.cache.snapshot().id_by_dn(entry.dn))
                    .flatten()
            })
            .filter(|i| !i.is_empty())
    }

    fn apply_to_cache(&mut self, id: String, entry: &EntryView<'_>) {
        let (t, summary) = (self.t, &mut *self.summary);
        let current = match &self.next {
            Some(_) => None,
            None => self.cache.snapshot().get(&id).cloned(),
        };
        if entry.modification == ObjectModification::Delete {
            // A full import counts its deletions at the end (objects it did not read); a
            // delta counts the objects it removes.
            if self.next.is_none() && current.is_some() {
                summary.deleted += 1;
            }
            if !self.dry_run {
                match &mut self.next {
                    Some(n) => {
                        n.remove(&id);
                    }
                    None => self.cache.remove_imported(&id),
                }
            }
            return;
        }
        // Delta updates apply to what the cache holds; adds and replaces are whole objects.
        // An update of an object the cache does not have would cache a fragment: skip it (the
        // next full import brings the object).
        let mut record = match (entry.modification, &current) {
            (ObjectModification::Update, Some(c)) => self.cache.snapshot().record(c),
            (ObjectModification::Update, None) if self.next.is_none() => {
                summary.entry_failed(|| {
                    format!("{id}: a delta update for an object not in the cache (skipped until the next full import)")
                });
                tracing::warn!(app = %self.app.name, id = %id, "delta update for an object not in the cache; skipped until the next full import");
                return;
            }
            _ => Record::new(),
        };
        apply_changes(&mut record, entry.changes());
        record
            .entry(t.anchor.clone())
            .or_insert_with(|| vec![t.anchor_value(&id)]);
        let dn = if !entry.dn.is_empty() {
            entry.dn.to_owned()
        } else if let Some(v) = t
            .dn_attribute
            .as_ref()
            .and_then(|a| record.get(a))
            .and_then(|v| v.first())
        {
            v.as_text()
        } else if let Some(c) = &current {
            c.dn().to_owned()
        } else {
            Application::autogenerated_dn(t, &id)
        };
        let prev = self.previous.get(&id).cloned();
        // Without an attribute that stores it, `active` lives in the host only; keep it.
        let active = if t.active_attribute().is_none() {
            // Imported users are active unless the host has recorded otherwise.
            match &prev {
                Some(p) => p.active,
                None => Some(true),
            }
        } else {
            None
        };
        let e = self.cache.entry(&id, &dn, &record, active, prev.as_deref());
        summary.objects += 1;
        // Against what the cache held: the run's start for a full import, the live cache
        // for a delta.
        let before = match &self.next {
            Some(_) => prev.as_ref(),
            None => current.as_ref(),
        };
        let unchanged = before.filter(|b| {
            b.same_content(&e)
                || (b.dn() == e.dn()
                    && b.active == e.active
                    && same_record(&b.record(&self.cache.names().table()), &record))
        });
        match (before, unchanged) {
            (None, _) => summary.added += 1,
            (Some(_), Some(_)) => summary.unchanged += 1,
            (Some(_), None) => summary.changed += 1,
        }
        self.app.progress.fetch_add(1, Ordering::Relaxed);
        // A dry run's full import still fills its (discarded) snapshot: deletions are
        // counted against it.
        if self.dry_run && self.next.is_none() {
            return;
        }
        match (&mut self.next, unchanged) {
            // An unchanged object is shared with the snapshot it came from: a full import
            // holds only what changed twice, not the whole cache.
            (Some(n), Some(same)) => {
                self.kept.insert(Arc::as_ptr(same) as usize);
                if !n.get(same.id()).is_some_and(|x| Arc::ptr_eq(x, same)) {
                    n.insert_shared(same.clone());
                }
            }
            (Some(n), None) => n.insert(e),
            // A delta entry that changes nothing leaves the cache as it is.
            (None, Some(_)) => {}
            (None, None) => self.cache.put_imported(e),
        }
    }
}
