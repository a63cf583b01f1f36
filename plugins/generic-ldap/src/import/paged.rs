//! A full import over simple paged results on the caller's thread.

use std::sync::Arc;

use ldap3::LdapConn;
use ldap3::controls::{ControlType, PagedResults as PagedControl};
use plugin_api::prelude::*;

use super::pending::Pending;
use super::plan::ImportPlan;
use super::raw_entry::RawEntry;
use crate::conn::{LResult, LdapFailure, check_result, connect};
use crate::settings::Settings;

/// A full import over simple paged results on the caller's thread: each server page is one
/// search with the paged-results cookie, so memory is bounded by the page size and entries
/// are allocated and freed on the same thread (cross-thread frees made the threaded variant
/// spend half its time in the allocator).
pub(crate) struct PagedImport {
    conn: Option<LdapConn>,
    settings: Arc<Settings>,
    host: HostServices,
    plan: Arc<ImportPlan>,
    /// Index in `plan.bases` of the container being read.
    base: usize,
    cookie: Vec<u8>,
    pending: Pending,
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
            pending: Pending::default(),
            max_modify_timestamp: None,
        }
    }

    pub fn finished(&self) -> bool {
        self.pending.finished()
    }

    pub fn next_page(&mut self, page_size: usize) -> ConnectorResult<Vec<CsEntryChange>> {
        let mut out = Vec::with_capacity(page_size);
        while !self.pending.fill(&mut out, page_size) {
            self.host.check_cancelled()?;
            if let Err(e) = self.fetch() {
                // A broken import is not resumed: the host starts a new one.
                self.pending.done = true;
                self.conn = None;
                return Err(e.into());
            }
        }
        Ok(out)
    }

    /// One server page into `pending`.
    fn fetch(&mut self) -> LResult<()> {
        if self.conn.is_none() {
            self.conn = Some(connect(&self.settings, &self.host)?);
        }
        let Some(base) = self.plan.bases.get(self.base).cloned() else {
            self.pending.done = true;
            return Ok(());
        };
        let cookie = self.read_page(&base)?;
        self.advance(cookie);
        Ok(())
    }

    /// Searches the page after `self.cookie` of `base`, converting its entries into
    /// `pending`; returns the cookie of the next page (empty after the last one).
    fn read_page(&mut self, base: &str) -> LResult<Vec<u8>> {
        let url = self.settings.url();
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
                base,
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
            let e = RawEntry::from_message(re)?;
            e.raise_newest_timestamp(&mut self.max_modify_timestamp);
            self.pending
                .extend(self.plan.convert_raw(e, ObjectModification::Add));
        }
        let res = stream.result();
        check_result(&format!("search {base}"), &res)?;
        Ok(res
            .ctrls
            .iter()
            .find(|c| matches!(c.0, Some(ControlType::PagedResults)))
            .map(|c| c.1.parse::<PagedControl>().cookie)
            .unwrap_or_default())
    }

    /// After a page: the next page of this container, else the next container; the
    /// connection is closed after the last.
    fn advance(&mut self, cookie: Vec<u8>) {
        if !cookie.is_empty() {
            self.cookie = cookie;
            return;
        }
        self.base += 1;
        if self.base >= self.plan.bases.len() {
            self.pending.done = true;
            if let Some(mut c) = self.conn.take() {
                let _ = c.unbind();
            }
        }
    }
}
