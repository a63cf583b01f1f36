//! Complete searches for small result sets (deltas, existence checks, export read-backs), and
//! the adapter stack every streamed search uses.

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapConn, Scope, SearchEntry};

use crate::conn::{LResult, LdapFailure, OID_PAGED_RESULTS, Session, check_result};

/// The adapters of a streamed search: entries only (no referrals or intermediate messages),
/// over simple paged results of `page_size` when given.
pub(crate) fn entries_adapters<'a>(
    page_size: Option<i32>,
) -> Vec<Box<dyn Adapter<'a, String, Vec<String>>>> {
    let mut adapters: Vec<Box<dyn Adapter<'a, String, Vec<String>>>> =
        vec![Box::new(EntriesOnly::new())];
    if let Some(size) = page_size {
        adapters.push(Box::new(PagedResults::new(size)));
    }
    adapters
}

/// A complete (paged when supported) search; for delta-sized result sets. Reads are
/// idempotent, so one connection failure is retried on a new connection.
pub(crate) fn search_all(
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
    let paged = session.root()?.supports_control(OID_PAGED_RESULTS);
    session.forget_on_failure(|session| {
        let conn: &mut LdapConn = session.conn()?;
        let adapters = entries_adapters(paged.then_some(settings.page_size));
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
        check_result(&format!("search {base}"), &stream.result())?;
        Ok(out)
    })
}
