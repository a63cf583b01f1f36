//! Generic SQL connector for ecma-host: Microsoft's Generic SQL connector re-done over sqlx,
//! for SQLite (bundled, the embedded default), PostgreSQL and MySQL/MariaDB.
//!
//! * Schema discovery from a table, view or query, with a multi-valued child table, composite
//!   anchors, DN column or generated DN, data type and direction overrides.
//! * Full import paged by keyset on the anchor (constant memory); delta import by watermark
//!   (last-modified column against the database clock) or by a trigger-filled change table
//!   (sees deletes).
//! * Export of Add/Update/Replace/Delete, one transaction per object, every value bound,
//!   database-generated anchors handed back, errors mapped to ECMA export codes.
//! * FullObject import: the objects the host names, read again by anchor (or DN column) and
//!   written as a full import writes them, or as deletes when gone.
//! * Import and export through generated statements, user SQL or stored procedures with
//!   `@StartIndex`/`@EndIndex` and `@attribute` parameters; passwords through SQL or a procedure.
//!
//! The ABI is synchronous and a cdylib cannot see the host's tokio runtime, so every instance
//! owns a runtime (one worker thread, for the import's read-ahead task) and blocks on it; the
//! host calls plugins from blocking threads.

mod catalog;
mod cells;
mod config;
mod conn;
mod decode;
mod dialect;
mod error;
mod export;
mod import;
#[cfg(feature = "odbc")]
mod odbc;
mod schema;
mod secrets;
mod sql;
mod values;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use plugin_api::prelude::*;

pub use config::*;
use conn::{Conn, Pool};
pub use dialect::Dialect;
use error::SqlError;
use schema::Detected;

/// The Generic SQL connector.
pub struct GenericSql {
    settings: Settings,
    host: HostServices,
    pool: Option<Pool>,
    detected: Option<Arc<Detected>>,
    import: Option<ImportFeed>,
    /// Created once per instance; every database call of this instance runs on it.
    rt: Arc<tokio::runtime::Runtime>,
}

fn runtime() -> ConnectorResult<tokio::runtime::Runtime> {
    // One worker thread: calls run on the caller's thread (`block_on`), and an import's
    // read-ahead task (`ImportFeed`) runs on the worker while the host takes a page.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("generic-sql")
        .enable_all()
        .build()
        .map_err(|e| ConnectorError::internal(format!("cannot start the connector's runtime: {e}")))
}

/// Runs one database operation under the command timeout.
fn block<T>(
    rt: &tokio::runtime::Runtime,
    timeout: Duration,
    fut: impl Future<Output = Result<T, SqlError>>,
) -> Result<T, SqlError> {
    rt.block_on(error::within(timeout, fut))
}

fn make_pool(settings: &Settings) -> Result<Pool, SqlError> {
    Pool::connect_lazy(
        settings.dialect,
        &settings.url,
        &settings.user,
        &settings.password,
        settings.timeout,
    )
}

/// Runs `f` on a connection of a pool made for this one call (module-level calls: schema,
/// validation), under the command timeout; the pool is closed before this returns.
fn with_throwaway_pool<T>(
    rt: &tokio::runtime::Runtime,
    settings: &Settings,
    f: impl AsyncFnOnce(&mut Conn) -> Result<T, SqlError>,
) -> Result<T, SqlError> {
    // The pool spawns its connections' tasks on the runtime it is made in.
    let _entered = rt.enter();
    block(rt, settings.timeout, async {
        let pool = make_pool(settings)?;
        let r = async {
            let mut conn = pool.acquire().await?;
            f(&mut conn).await
        }
        .await;
        pool.close().await;
        r
    })
}

/// Discovery for module-level calls (schema, validation), on a throwaway pool.
fn detect_once(settings: &Settings) -> Result<Detected, SqlError> {
    let rt = runtime().map_err(|e| SqlError::Config(e.message))?;
    with_throwaway_pool(&rt, settings, async |conn| {
        schema::detect(conn, settings).await
    })
}

impl GenericSql {
    /// Runs `f` inside the instance's runtime: pooled connections return to their pool on
    /// drop, which needs the runtime, and a pool is made on the runtime its tasks run on.
    fn in_runtime<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let rt = self.rt.clone();
        let _entered = rt.enter();
        f(self)
    }

    /// A connection plus the discovered schema (discovered once per instance, on first use).
    /// Called inside [`GenericSql::in_runtime`].
    fn connect(&mut self) -> Result<(Conn, Arc<Detected>), SqlError> {
        if self.pool.is_none() {
            self.pool = Some(make_pool(&self.settings)?);
        }
        let pool = self.pool.clone().expect("pool");
        let settings = &self.settings;
        let known = self.detected.clone();
        let (conn, detected) = block(&self.rt, settings.timeout, async move {
            let mut conn = pool.acquire().await?;
            let detected = match known {
                Some(d) => d,
                None => Arc::new(schema::detect(&mut conn, settings).await?),
            };
            Ok((conn, detected))
        })?;
        if self.detected.is_none()
            && let Some(warning) = secrets::hidden_warning(&detected.hidden)
        {
            self.host.warn(&warning);
        }
        self.detected = Some(detected.clone());
        Ok((conn, detected))
    }

    /// Sets (`old`: None) or changes a password with the configured statement or procedure.
    fn write_password(
        &mut self,
        target: &PasswordTarget,
        password: &str,
        old: Option<&str>,
    ) -> ConnectorResult<()> {
        self.in_runtime(|this| {
            let (mut conn, d) = this.connect()?;
            let settings = &this.settings;
            block(&this.rt, settings.timeout, async {
                export::set_password(&mut conn, &d, settings, target, password, old).await
            })?;
            Ok(())
        })
    }
}

/// Pages an import reads ahead of the host. A few pages absorb the scheduling jitter between
/// the database, the reader and the host on a busy machine at a constant memory cost.
const READ_AHEAD_PAGES: usize = 4;

/// A running import. A task on the instance's runtime ([`import::feed`]) reads the pages, up
/// to [`READ_AHEAD_PAGES`] ahead of the host: the next page's queries and row conversion
/// overlap with the host decoding and caching the previous one; at most
/// [`READ_AHEAD_PAGES`] + 2 pages are held.
struct ImportFeed {
    pages: tokio::sync::mpsc::Receiver<Result<(PageWriter, bool), SqlError>>,
    /// The watermark of this run, taken when it was opened.
    custom_data: String,
    finished: bool,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ImportFeed {
    fn drop(&mut self) {
        // Closing (or failing) the import stops the reader and returns its connection.
        self.task.abort();
    }
}

impl Drop for GenericSql {
    fn drop(&mut self) {
        // An import still running holds a connection, which `close` would wait for: stop it
        // first (fields drop only after this body).
        drop(self.import.take());
        if let Some(pool) = self.pool.take() {
            // Close connections on the runtime that owns them.
            self.rt.block_on(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), pool.close()).await;
            });
        }
    }
}

/// Whether a problem with `parameter` is reported when validating `page` (Schema pages:
/// `number`). Each problem is reported on its parameter's own page, so it is reported once
/// however many pages are validated. A Schema page also reports the problems of the Schema
/// pages after it (the host validates Schema page 1 only), except for a parameter not `filled`
/// in: a wizard validating page by page has not shown that page yet. Such a parameter, still
/// empty when the Global page (after every Schema page) is validated, is reported there.
fn reports(parameter: &str, page: ConfigPage, number: u32, filled: bool) -> bool {
    let (own, own_number) = Settings::page_of(parameter);
    match (own, page) {
        (ConfigPage::Schema, ConfigPage::Schema) => {
            let number = number.max(1);
            own_number == number || (own_number > number && filled)
        }
        (ConfigPage::Schema, ConfigPage::Global) => own_number > 1 && !filled,
        (own, page) => own == page,
    }
}

/// The parameter a discovery error message names (messages start with `'Parameter'`).
fn named_parameter(message: &str) -> Option<&'static str> {
    const ALL: &[&str] = &[
        P_CONNECTION,
        P_TABLE,
        P_ATTR_QUERY,
        P_ATTR_PROC,
        P_MV_TABLE,
        P_MV_JOIN,
        P_ANCHORS,
        P_DN_COLUMN,
        P_TYPE_COLUMN,
        P_TYPES,
        P_DIRECTIONS,
        P_EXPOSE,
        P_WM_COLUMN,
        P_WM_QUERY,
        P_DN_IS_ANCHOR,
        P_CT_TABLE,
        P_CT_ANCHOR,
        P_CT_TYPE,
        P_CT_SEQ,
        P_IMPORT_QUERY,
        P_DELTA_QUERY,
        P_IMPORT_PROC,
        P_DELTA_PROC,
        P_PW_PROC,
    ];
    let name = message.strip_prefix('\'')?.split('\'').next()?;
    ALL.iter().copied().find(|p| *p == name)
}

/// A discovery error as (parameter, message): the parameter it names, or the attribute
/// detection it came from; the message without the parameter's name in front.
fn blamed(e: &SqlError) -> (&'static str, String) {
    if let SqlError::Parameter { parameter, message } = e {
        return (parameter, message.clone());
    }
    let message = e.to_string();
    let Some(parameter) = named_parameter(&message) else {
        return (P_ATTR_DETECTION, message);
    };
    let message = message
        .strip_prefix(&format!("'{parameter}': "))
        .map(str::to_owned)
        .unwrap_or(message);
    (parameter, message)
}

impl Connector for GenericSql {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "generic-sql".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "ecma-host".into(),
            description: "Generic SQL: SQLite, PostgreSQL and MySQL/MariaDB tables, views, queries and stored procedures".into(),
            api_version: String::new(),
        }
    }

    fn capabilities(config: &ConfigParameters) -> Capabilities {
        // Claimed explicitly: the SDK's default claims nothing.
        let mut caps = Capabilities {
            support_import: true,
            support_export: true,
            distinguished_name_style: DnStyle::Generic,
            object_rename: false,
            concurrent_operation: false,
            delete_add_as_replace: false,
            ..Capabilities::default()
        };
        if let Ok(s) = Settings::from_config(config) {
            caps.export_type = s.export_type;
            caps.is_dn_as_anchor = s.dn_is_anchor;
            caps.delta_import = s.delta != DeltaStrategy::None;
            // A watermark sees inserts and updates only; a change table logs deletes too.
            caps.delta_sees_deletes = matches!(s.delta, DeltaStrategy::ChangeTable { .. });
            caps.support_password = s.password_method != PasswordMethod::None;
        }
        caps.support_partitions = false;
        caps.support_hierarchy = false;
        caps
    }

    fn config_parameters(
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<Vec<ConfigParameterDefinition>> {
        Ok(config::definitions(config, page, page_number))
    }

    fn validate_config(
        config: &ConfigParameters,
        page: ConfigPage,
        page_number: u32,
    ) -> ConnectorResult<ParameterValidation> {
        let failure = |parameter: &str, message: String| {
            Ok(ParameterValidation::Failure {
                parameter: parameter.to_owned(),
                message,
            })
        };
        let settings = match Settings::from_config(config) {
            Ok(s) => s,
            Err(e) => {
                let filled = !config.get_or_empty(e.parameter).trim().is_empty();
                if reports(e.parameter, page, page_number, filled) {
                    return failure(e.parameter, e.message);
                }
                return Ok(ParameterValidation::Success);
            }
        };
        match page {
            ConfigPage::Connectivity => {
                let rt = runtime()?;
                let reached = with_throwaway_pool(&rt, &settings, async |conn| {
                    conn.fetch("SELECT 1", &[]).await.map(drop)
                });
                if let Err(e) = reached {
                    return failure(
                        P_CONNECTION,
                        format!("cannot connect to {}: {e}", settings.dialect.name()),
                    );
                }
            }
            // Pages with parameters that discovery reads.
            ConfigPage::Schema | ConfigPage::Global | ConfigPage::RunStep => {
                match detect_once(&settings) {
                    // The Connectivity page reports a database it cannot reach.
                    Err(e) if !e.is_connection() => {
                        let (parameter, message) = blamed(&e);
                        if reports(parameter, page, page_number, true) {
                            return failure(parameter, message);
                        }
                    }
                    _ => {}
                }
            }
            ConfigPage::Partition | ConfigPage::Capabilities => {}
        }
        Ok(ParameterValidation::Success)
    }

    fn schema(config: &ConfigParameters) -> ConnectorResult<Schema> {
        let settings = Settings::from_config(config)?;
        let detected = detect_once(&settings)?;
        Ok(detected.to_schema(&settings))
    }

    fn create(config: &ConfigParameters, host: HostServices) -> ConnectorResult<Self> {
        let settings = Settings::from_config(config)?;
        host.debug(&format!("generic-sql on {}", settings.dialect.name()));
        Ok(Self {
            settings,
            host,
            pool: None,
            detected: None,
            import: None,
            rt: Arc::new(runtime()?),
        })
    }

    fn test_connection(&mut self) -> ConnectorResult<()> {
        self.in_runtime(|this| {
            let (mut conn, _) = this.connect()?;
            block(&this.rt, this.settings.timeout, async move {
                conn.fetch("SELECT 1", &[]).await.map(drop)
            })?;
            Ok(())
        })
    }

    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String> {
        self.in_runtime(|this| {
            // A previous import that was never closed gives its connection back first (a pool of
            // one, as for an in-memory SQLite database, would otherwise never have one free).
            this.import = None;
            let (mut conn, d) = this.connect()?;
            let pool = this.pool.clone().expect("connected");
            let settings = &this.settings;
            let run = block(&this.rt, settings.timeout, async {
                import::open(&mut conn, &d, settings, &request).await
            })?;
            let custom_data = run.custom_data.clone();
            let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD_PAGES);
            let task = this
                .rt
                .spawn(import::feed(conn, pool, d, this.settings.clone(), run, tx));
            this.import = Some(ImportFeed {
                pages: rx,
                custom_data: custom_data.clone(),
                finished: false,
                task,
            });
            Ok(custom_data)
        })
    }

    fn get_import_page(&mut self, page: &mut PageWriter) -> ConnectorResult<PageStatus> {
        self.in_runtime(|this| {
            this.host.check_cancelled()?;
            let feed = this.import.as_mut().ok_or_else(|| {
                ConnectorError::invalid_input("get_import_entries before open_import")
            })?;
            if !feed.finished {
                let next = block(&this.rt, this.settings.timeout, async {
                    Ok(feed.pages.recv().await)
                })
                .and_then(|next| next.transpose());
                let failure: ConnectorError = match next {
                    Ok(Some((written, done))) => {
                        *page = written;
                        feed.finished = done;
                        return Ok(PageStatus {
                            more_to_import: !done,
                            custom_data: feed.custom_data.clone(),
                        });
                    }
                    Err(e) => e.into(),
                    // The reader ended without a last page: it panicked.
                    Ok(None) => {
                        let message = match this.rt.block_on(&mut feed.task) {
                            Err(e) if e.is_panic() => {
                                let payload = e.into_panic();
                                payload
                                    .downcast_ref::<&str>()
                                    .map(|s| s.to_string())
                                    .or_else(|| payload.downcast_ref::<String>().cloned())
                                    .unwrap_or_else(|| "unknown panic".into())
                            }
                            _ => "stopped without a result".into(),
                        };
                        ConnectorError::new(
                            ErrorKind::Panicked,
                            format!("the import's reader panicked: {message}"),
                        )
                    }
                };
                // The run is dropped: the import fails cleanly and must be reopened.
                this.import = None;
                this.host
                    .error(&format!("import failed: {}", failure.message));
                return Err(failure);
            }
            Ok(PageStatus {
                more_to_import: !feed.finished,
                custom_data: feed.custom_data.clone(),
            })
        })
    }

    fn close_import(&mut self, _reason: CloseReason) -> ConnectorResult<String> {
        Ok(self
            .import
            .take()
            .map(|feed| feed.custom_data.clone())
            .unwrap_or_default())
    }

    fn open_export(&mut self, _request: OpenExportRequest) -> ConnectorResult<()> {
        self.in_runtime(|this| {
            // Reaching the database here turns a dead database into one clear error up front.
            this.connect().map(drop).map_err(Into::into)
        })
    }

    fn put_export_entries(
        &mut self,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        self.in_runtime(|this| {
            // No connection at all: the whole call fails and is retried by the host.
            let (conn, d) = this.connect()?;
            let settings = &this.settings;
            let host = &this.host;
            let timeout = settings.timeout;
            let mut conn = Some(conn);
            let mut results = Vec::with_capacity(entries.len());
            let mut lost: Option<String> = None;
            for e in &entries {
                // The host abandons a call that outlived its time limit and answers the
                // client; a write sent after that (when the connection it waited for finally
                // came) could land after the client's newer writes. Not attempting it keeps the
                // target in the order the client saw.
                if lost.is_none() && host.is_cancelled() {
                    lost = Some("the host abandoned this call (time limit)".to_owned());
                }
                if let Some(reason) = &lost {
                    results.push(ExportResult::failure(
                        &e.identifier,
                        ExportErrorCode::ConnectedDirectoryError,
                        format!("not attempted: {reason}"),
                    ));
                    continue;
                }
                let c = conn.as_mut().expect("connection");
                match block(&this.rt, timeout, export::export_entry(c, &d, settings, e)) {
                    Ok(r) => results.push(r),
                    Err(err) => {
                        host.warn(&format!("export of {:?} failed: {err}", e.identifier));
                        if err.is_connection() {
                            // The transaction's fate on the server is its own rollback; this
                            // connection is not reused, and the rest of the batch is retried later.
                            if let Some(c) = conn.take() {
                                c.discard();
                            }
                            lost = Some(err.to_string());
                        }
                        results.push(ExportResult::failure(
                            &e.identifier,
                            err.export_code(),
                            err.to_string(),
                        ));
                    }
                }
            }
            Ok(results)
        })
    }

    fn close_export(&mut self, _reason: CloseReason) -> ConnectorResult<()> {
        Ok(())
    }

    fn set_password(
        &mut self,
        target: PasswordTarget,
        password: Secret,
        _options: PasswordOptions,
    ) -> ConnectorResult<()> {
        self.write_password(&target, password.expose(), None)
    }

    fn change_password(
        &mut self,
        target: PasswordTarget,
        old: Secret,
        new: Secret,
    ) -> ConnectorResult<()> {
        self.write_password(&target, new.expose(), Some(old.expose()))
    }

    fn get_full_objects(
        &mut self,
        requests: &[CsEntryChange],
        page: &mut PageWriter,
    ) -> ConnectorResult<()> {
        self.in_runtime(|this| {
            let (mut conn, d) = this.connect()?;
            let settings = &this.settings;
            block(&this.rt, settings.timeout, async {
                import::write_full_objects(&mut conn, &d, settings, requests, page).await
            })
            .map_err(|e| {
                let e = ConnectorError::from(e);
                match e.kind {
                    ErrorKind::Unsupported => this.host.info(&e.message),
                    _ => this.host.warn(&format!("FullObject import failed: {e}")),
                }
                e
            })
        })
    }
}

plugin_api::export_connector!(GenericSql);

// Rows become millions of small strings (decoded cells, the model, the ABI copies): mimalloc
// is cheaper at that than glibc malloc. The plugin's allocations never reach the host's
// allocator (every ABI value is freed through the vtable of the library that allocated it);
// the workspace builds mimalloc with the local-dynamic TLS model a dlopen()ed library needs.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(test)]
mod tests {
    use super::*;

    /// The pages that report a problem with `parameter` when validated as the host does: each
    /// page once, Schema page 1.
    fn host_pages(parameter: &str, filled: bool) -> Vec<ConfigPage> {
        ConfigPage::ALL
            .into_iter()
            .filter(|p| reports(parameter, *p, 1, filled))
            .collect()
    }

    #[test]
    fn each_problem_is_reported_once_on_its_parameters_page() {
        assert_eq!(host_pages(P_TABLE, true), [ConfigPage::Schema]);
        assert_eq!(host_pages(P_TABLE, false), [ConfigPage::Global]);
        assert_eq!(host_pages(P_TYPE_COLUMN, false), [ConfigPage::Schema]);
        assert_eq!(host_pages(P_WM_COLUMN, true), [ConfigPage::Global]);
        assert_eq!(host_pages(P_IMPORT_PROC, true), [ConfigPage::RunStep]);
        assert_eq!(host_pages(P_TIMEOUT, true), [ConfigPage::Connectivity]);
        // A wizard on Schema page 1 has not shown page 2 yet; page 2 reports its own.
        assert!(!reports(P_TABLE, ConfigPage::Schema, 1, false));
        assert!(reports(P_TABLE, ConfigPage::Schema, 2, false));
        assert!(!reports(P_TABLE, ConfigPage::Schema, 3, true));
    }

    #[test]
    fn discovery_errors_are_blamed_on_their_parameter() {
        let e = SqlError::Parameter {
            parameter: P_TABLE,
            message: "there is no table".into(),
        };
        assert_eq!(blamed(&e), (P_TABLE, "there is no table".to_owned()));
        let e = SqlError::Config(format!("'{P_CT_TABLE}': gone"));
        assert_eq!(blamed(&e), (P_CT_TABLE, "gone".to_owned()));
        let e = SqlError::Config("the import result has no anchor column".into());
        assert_eq!(blamed(&e).0, P_ATTR_DETECTION);
    }
}
