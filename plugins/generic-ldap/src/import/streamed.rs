//! A full import without paged results: one streamed search on a producer thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use ldap3::LdapConn;
use plugin_api::prelude::*;

use super::pending::Pending;
use super::plan::ImportPlan;
use super::raw_entry::RawEntry;
use crate::conn::{LResult, LdapFailure, check_result, connect};
use crate::search::entries_adapters;
use crate::settings::Settings;

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
pub(crate) struct StreamedImport {
    rx: Option<Receiver<Msg>>,
    pending: Pending,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    pub max_modify_timestamp: Option<String>,
}

impl StreamedImport {
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
            pending: Pending::default(),
            stop,
            handle: Some(handle),
            max_modify_timestamp: None,
        }
    }

    /// Up to `page_size` entries; [`Self::finished`] tells when the search has ended and
    /// every entry was handed out.
    pub fn next_page(
        &mut self,
        page_size: usize,
        host: &HostServices,
    ) -> ConnectorResult<Vec<CsEntryChange>> {
        let mut out = Vec::with_capacity(page_size);
        while !self.pending.fill(&mut out, page_size) {
            let rx = self.rx.as_ref().expect("receiver while running");
            match rx.recv() {
                Ok(Msg::Entries(batch)) => self.pending.extend(batch),
                Ok(Msg::Finished {
                    max_modify_timestamp,
                }) => {
                    self.max_modify_timestamp = max_modify_timestamp;
                    self.pending.done = true;
                    break;
                }
                Ok(Msg::Failed(e)) => {
                    self.pending.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.pending.done = true;
                    return Err(ConnectorError::internal("import thread ended unexpectedly"));
                }
            }
            host.check_cancelled()?;
        }
        Ok(out)
    }

    /// True when every entry has been handed out.
    pub fn finished(&self) -> bool {
        self.pending.finished()
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

impl Drop for StreamedImport {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The producer's side of the channel: converted entries gathered into batches, and the
/// newest `modifyTimestamp` seen.
struct Batcher<'a> {
    tx: &'a SyncSender<Msg>,
    batch: Vec<CsEntryChange>,
    max_ts: Option<String>,
}

impl Batcher<'_> {
    /// Converts and queues one entry; false when the consumer is gone (import closed).
    fn push(&mut self, plan: &ImportPlan, e: RawEntry) -> bool {
        e.raise_newest_timestamp(&mut self.max_ts);
        self.batch
            .extend(plan.convert_raw(e, ObjectModification::Add));
        self.batch.len() < BATCH
            || self
                .tx
                .send(Msg::Entries(std::mem::replace(
                    &mut self.batch,
                    Vec::with_capacity(BATCH),
                )))
                .is_ok()
    }
}

/// How reading one container ended.
enum Streamed {
    Complete,
    /// Stopped, or the consumer is gone: the producer ends quietly.
    Abandoned,
}

fn produce(
    settings: &Settings,
    host: &HostServices,
    plan: &ImportPlan,
    paged: bool,
    tx: &SyncSender<Msg>,
    stop: &AtomicBool,
) -> LResult<Option<String>> {
    let mut conn = connect(settings, host)?;
    let mut out = Batcher {
        tx,
        batch: Vec::with_capacity(BATCH),
        max_ts: None,
    };
    for base in &plan.bases {
        if let Streamed::Abandoned =
            stream_base(&mut conn, settings, plan, paged, base, &mut out, stop)?
        {
            return Ok(out.max_ts);
        }
    }
    if !out.batch.is_empty() && tx.send(Msg::Entries(out.batch)).is_err() {
        return Ok(out.max_ts);
    }
    let _ = conn.unbind();
    Ok(out.max_ts)
}

/// One container's entries into `out`.
fn stream_base(
    conn: &mut LdapConn,
    settings: &Settings,
    plan: &ImportPlan,
    paged: bool,
    base: &str,
    out: &mut Batcher<'_>,
    stop: &AtomicBool,
) -> LResult<Streamed> {
    let url = settings.url();
    let adapters = entries_adapters(paged.then_some(settings.page_size));
    let mut stream = conn
        .with_timeout(settings.op_timeout)
        .streaming_search_with(adapters, base, plan.scope, &plan.filter, plan.attrs.clone())
        .map_err(|e| LdapFailure::from_ldap("search", &url, e))?;
    loop {
        if stop.load(Ordering::Relaxed) {
            // Dropping the connection (thread exit) ends the search on the server.
            return Ok(Streamed::Abandoned);
        }
        match stream.next() {
            Ok(Some(re)) => {
                if !out.push(plan, RawEntry::from_message(re)?) {
                    return Ok(Streamed::Abandoned);
                }
            }
            Ok(None) => break,
            Err(e) => return Err(LdapFailure::from_ldap("search", &url, e)),
        }
    }
    check_result(&format!("search {base}"), &stream.result())?;
    Ok(Streamed::Complete)
}
