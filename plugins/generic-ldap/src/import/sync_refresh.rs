//! One RFC 4533 refreshOnly search: the protocol side of the content sync strategy.

use ldap3::controls::{
    Control, ControlParser, EntryState, RawControl, RefreshMode, SyncDone, SyncInfo, SyncRequest,
    SyncState,
};
use ldap3::{LdapConn, LdapResult, ResultEntry, Scope, SearchEntry};

use super::sync_cookies::hex;
use crate::conn::{LResult, LdapFailure, Session, check_result};

const SYNC_STATE_OID: &str = "1.3.6.1.4.1.4203.1.9.1.2";
const SYNC_DONE_OID: &str = "1.3.6.1.4.1.4203.1.9.1.3";
/// e-syncRefreshRequired: the provider cannot continue from the cookie.
const RC_SYNC_REFRESH_REQUIRED: u32 = 4096;

/// What one refreshOnly content-sync search returned.
#[derive(Default)]
pub(super) struct SyncRefresh {
    /// Added or changed entries (whole, with the requested attributes).
    pub entries: Vec<SearchEntry>,
    /// Entry UUIDs (text form) of deleted objects: Sync State `delete` entries and
    /// `syncIdSet`s with refreshDeletes.
    pub deleted: Vec<String>,
    /// The provider sent a present phase: unchanged objects listed as present, deletes only
    /// implied by absence.
    pub present_phase: bool,
    pub cookie: Option<Vec<u8>>,
}

/// RFC 4533 refreshOnly search from `cookie` (None: from the start). ldap3's control
/// parsers panic on malformed BER, so each parse is contained and reported as a protocol
/// error.
pub(super) fn sync_refresh(
    session: &mut Session,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[String],
    cookie: Option<Vec<u8>>,
) -> LResult<SyncRefresh> {
    let settings = session.settings.clone();
    let url = settings.url();
    let op = format!("content sync of {base}");
    let sent_cookie = cookie.is_some();
    let request = sync_request(cookie);
    session.forget_on_failure(|session| {
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
                out.take_info(parse("syncInfo message", || {
                    ldap3::controls::parse_syncinfo(re)
                })?);
            } else if !re.is_ref() {
                out.take_entry(re, &op)?;
            }
        }
        let res = stream.result();
        check_refresh_result(&op, &res)?;
        out.take_done(&res, sent_cookie)?;
        Ok(out)
    })
}

/// The Sync Request control, critical: a server without the control must refuse, not
/// answer a plain search.
fn sync_request(cookie: Option<Vec<u8>>) -> RawControl {
    let mut request: RawControl = SyncRequest {
        mode: RefreshMode::RefreshOnly,
        cookie,
        reload_hint: false,
    }
    .into();
    request.crit = true;
    request
}

fn parse<T>(what: &str, f: impl FnOnce() -> T) -> LResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| LdapFailure::Protocol(format!("content sync: malformed {what}")))
}

/// The refresh's result code: e-syncRefreshRequired asks for a full import.
fn check_refresh_result(op: &str, res: &LdapResult) -> LResult<()> {
    if res.rc == RC_SYNC_REFRESH_REQUIRED {
        return Err(LdapFailure::FullImportRequired(format!(
            "{op}: the provider requires a full refresh (e-syncRefreshRequired){}",
            if res.text.is_empty() {
                String::new()
            } else {
                format!(": {}", res.text)
            }
        )));
    }
    check_result(op, res)
}

fn find_control<'a>(ctrls: &'a [Control], oid: &str) -> Option<&'a Control> {
    ctrls.iter().find(|c| c.1.ctype == oid)
}

impl SyncRefresh {
    /// A later cookie replaces the one held; an absent one keeps it.
    fn keep_cookie(&mut self, cookie: Option<Vec<u8>>) {
        if cookie.is_some() {
            self.cookie = cookie;
        }
    }

    /// A Sync Info message (RFC 4533 §2.5).
    fn take_info(&mut self, info: SyncInfo) {
        match info {
            SyncInfo::NewCookie(c) => self.cookie = Some(c),
            SyncInfo::RefreshDelete { cookie, .. } => self.keep_cookie(cookie),
            SyncInfo::RefreshPresent { cookie, .. } => {
                self.present_phase = true;
                self.keep_cookie(cookie);
            }
            SyncInfo::SyncIdSet {
                cookie,
                refresh_deletes,
                sync_uuids,
            } => {
                if refresh_deletes {
                    self.deleted
                        .extend(sync_uuids.iter().filter_map(|u| uuid_text(u)));
                } else {
                    self.present_phase = true;
                }
                self.keep_cookie(cookie);
            }
        }
    }

    /// A search result entry with its Sync State control (RFC 4533 §2.3).
    fn take_entry(&mut self, re: ResultEntry, op: &str) -> LResult<()> {
        let state = match find_control(&re.1, SYNC_STATE_OID) {
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
        self.keep_cookie(state.cookie);
        match state.state {
            EntryState::Present => self.present_phase = true,
            EntryState::Delete => self.deleted.extend(uuid_text(&state.entry_uuid)),
            EntryState::Add | EntryState::Modify => self.entries.push(SearchEntry::construct(re)),
        }
        Ok(())
    }

    /// The Sync Done control of the final result (RFC 4533 §2.4).
    fn take_done(&mut self, res: &LdapResult, sent_cookie: bool) -> LResult<()> {
        let Some(v) = find_control(&res.ctrls, SYNC_DONE_OID).and_then(|c| c.1.val.as_deref())
        else {
            return Ok(());
        };
        let done = parse("Sync Done control", || SyncDone::parse(v))?;
        self.keep_cookie(done.cookie);
        if sent_cookie && !done.refresh_deletes {
            // refreshDeletes FALSE ends a present phase (RFC 4533 §3.3.1): objects the
            // provider did not list as present are gone, which only a client holding
            // the whole content can work out.
            self.present_phase = true;
        }
        Ok(())
    }
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
