//! Re-reading what the target holds when the host cannot know it: ECMA2's FullObject import
//! for the few objects concerned, or the whole target when the connector cannot read single
//! objects.
//!
//! Requests come from SCIM writes whose outcome is unknown (a timeout, a lost connection, a
//! panic after the target may have applied the export), from a create the target refused as
//! existing, from an update of an object the target reports missing, and from delta entries
//! skipped because a SCIM write overtook them. They are gathered for a moment
//! ([`super::autosync`] waits before it runs them), so a burst of failures costs one call.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use plugin_api::model::*;

use super::import::{DeltaWrites, ImportRun};
use super::reread_queue::{PendingReReads, ReReadTarget};
use super::{Application, ImportMode, ImportSummary};
use crate::plugins::{CallKind, LateReturn};

impl Application {
    /// Asks for the target to be read again soon, whole: an export failed in a way that
    /// leaves its outcome unknown and the object cannot be named.
    pub(super) fn request_reconcile(&self, why: &str) {
        tracing::warn!(app = %self.name, "the target will be re-read: {why}");
        metrics::counter!("ecma_reconcile_requests_total", "app" => self.name.clone()).increment(1);
        self.pending_rereads().add_whole();
        self.reconcile.notify_one();
    }

    /// Asks for one object to be read again soon (a FullObject import where the connector
    /// has one, else the whole target). Without an anchor or a DN to find it by, the whole
    /// target is read.
    pub(super) fn request_reread(&self, target: ReReadTarget, why: &str) {
        if target.anchor.is_none() && target.dn.is_empty() {
            return self.request_reconcile(why);
        }
        tracing::warn!(
            app = %self.name,
            anchor = target.anchor.as_deref().unwrap_or(""),
            dn = %target.dn,
            "the object will be re-read: {why}"
        );
        metrics::counter!("ecma_reconcile_requests_total", "app" => self.name.clone()).increment(1);
        self.pending_rereads().add(target);
        self.reconcile.notify_one();
    }

    /// What asks for `target` (or, without one, the whole target) to be read again when an
    /// abandoned export's thread returns after all ([`crate::plugins::LateReturn`]): the
    /// re-read asked for when the export was abandoned may have run before the export
    /// landed.
    pub(super) fn reread_when_late(&self, target: Option<ReReadTarget>) -> LateReturn {
        let (app, pending, wake) = (
            self.name.clone(),
            self.pending_rereads.clone(),
            self.reconcile.clone(),
        );
        Box::new(move || {
            tracing::warn!(app = %app, "an abandoned export returned after all: its object will be read again");
            metrics::counter!("ecma_reconcile_requests_total", "app" => app).increment(1);
            let mut pending = pending.lock().unwrap_or_else(|p| p.into_inner());
            match target {
                Some(t) if t.anchor.is_some() || !t.dn.is_empty() => pending.add(t),
                _ => pending.add_whole(),
            }
            drop(pending);
            wake.notify_one();
        })
    }

    /// The object an export entry is about, to read again after it.
    pub(super) fn reread_target_of(&self, entry: &CsEntryChange) -> Option<ReReadTarget> {
        let type_idx = self
            .types
            .iter()
            .position(|t| t.object_type.eq_ignore_ascii_case(&entry.object_type))?;
        let t = &self.types[type_idx];
        let anchor = entry
            .anchor
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(&t.anchor))
            .map(|a| t.anchor_form.id_of(&a.value))
            .filter(|a| !a.is_empty());
        Some(ReReadTarget {
            type_idx,
            anchor,
            dn: entry.dn.clone(),
        })
    }

    fn pending_rereads(&self) -> std::sync::MutexGuard<'_, PendingReReads> {
        self.pending_rereads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Runs what is pending: the named objects through FullObject import, or a whole import
    /// when that is what was asked or the connector cannot read single objects. A whole
    /// re-read is a full import, never a delta: a write whose outcome was unknown may land
    /// in the target after the delta's watermark has passed its time (a create abandoned
    /// while slapd was frozen is logged with the time it was sent), so only reading
    /// everything finds it. False when
    /// the target could not be read; what was pending stays pending for the next attempt.
    pub(super) async fn run_pending_rereads(&self) -> bool {
        let PendingReReads { objects, whole } = self.pending_rereads().take();
        if !whole && objects.is_empty() {
            return true;
        }
        let whole = whole || !self.full_object_import.load(Ordering::Acquire);
        let read = if whole {
            self.import(ImportMode::Full, false)
                .await
                .map(|_| false)
                .map_err(|e| e.to_string())
        } else {
            match self.reread(&objects).await {
                Ok(unanswered) if unanswered => {
                    tracing::warn!(app = %self.name, "the connector did not answer for every object; reading the whole target");
                    self.import(ImportMode::Full, false)
                        .await
                        .map(|_| false)
                        .map_err(|e| e.to_string())
                }
                Ok(_) => Ok(false),
                Err(e) if e.kind == ErrorKind::Unsupported => {
                    self.full_object_import.store(false, Ordering::Release);
                    tracing::info!(app = %self.name, "the connector has no FullObject import; reading the whole target instead");
                    self.import(ImportMode::Full, false)
                        .await
                        .map(|_| false)
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            }
        };
        match read {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(app = %self.name, "re-reading the target failed, will try again: {e}");
                self.pending_rereads().restore(objects, whole);
                false
            }
        }
    }

    /// FullObject import of `objects`, applied to the live cache like delta entries (an object
    /// a SCIM write changed meanwhile keeps what that write left). Returns whether some object
    /// went unanswered.
    async fn reread(&self, objects: &[ReReadTarget]) -> ConnectorResult<bool> {
        // One import at a time: a full import swapping its snapshot in would drop these.
        let _one_at_a_time = self.import_lock.lock().await;
        let mut unanswered = false;
        let mut type_indexes: Vec<usize> = objects.iter().map(|o| o.type_idx).collect();
        type_indexes.sort_unstable();
        type_indexes.dedup();
        for idx in type_indexes {
            let (t, cache) = (&self.types[idx], &self.caches[idx]);
            let targets: Vec<&ReReadTarget> =
                objects.iter().filter(|o| o.type_idx == idx).collect();
            let requests: Vec<CsEntryChange> = targets
                .iter()
                .map(|o| {
                    let mut e = CsEntryChange::new(&t.object_type, ObjectModification::None);
                    e.dn = o.dn.clone();
                    match &o.anchor {
                        Some(a) => e.with_anchor(&t.anchor, t.anchor_value(a)),
                        None => e,
                    }
                })
                .collect();
            let _noting = DeltaWrites::begin(cache);
            let opened_at_seq = cache.write_seq();
            let page = self
                .import_instance
                .call(CallKind::Import, move |i| i.get_full_objects(requests))
                .await?;
            let entries = page
                .entries
                .entries()
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    ConnectorError::internal(format!(
                        "the connector sent a malformed FullObject page: {e}"
                    ))
                })?;
            let mut summary = ImportSummary::default();
            let mut run = ImportRun::live(self, idx, &mut summary, opened_at_seq);
            let (mut ids, mut dns) = (HashSet::new(), HashSet::new());
            for entry in &entries {
                if let Some(id) = run.entry_id(entry) {
                    ids.insert(id);
                }
                dns.insert(entry.dn.to_lowercase());
                run.apply_entry(entry).await;
            }
            drop(run);
            metrics::counter!("ecma_reread_objects_total", "app" => self.name.clone())
                .increment(targets.len() as u64);
            tracing::info!(
                app = %self.name,
                object_type = %t.object_type,
                asked = targets.len(),
                read = summary.objects,
                gone = summary.deleted,
                errors = summary.errors,
                "objects re-read (FullObject import)"
            );
            unanswered |= summary.errors > 0
                || targets.iter().any(|o| {
                    !(o.anchor.as_ref().is_some_and(|a| ids.contains(a))
                        || (!o.dn.is_empty() && dns.contains(&o.dn.to_lowercase())))
                });
        }
        Ok(unanswered)
    }
}
