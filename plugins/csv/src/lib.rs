//! A CSV-file connector for ecma-host: the example a third party copies.
//!
//! One object type per file; the header row names the attributes; one column is the anchor.
//! Multi-valued columns hold their values joined by a separator. Exports rewrite the file
//! atomically (temporary file, fsync, rename, fsync of the directory) under an advisory lock,
//! so a crash never leaves a half-written file and two host processes never interleave writes.
//! Every import re-reads the file, so edits by hand or by another process are picked up.
//! FullObject requests (the host re-reading a few objects) read the same rows the same way,
//! under the export lock, so an export still writing is waited for.
//!
//! One file over 800 lines on purpose: it is the example a connector author reads top to
//! bottom (its tests are in `tests.rs`).

#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use plugin_api::prelude::*;

const P_FILE: &str = "File";
const P_DELIMITER: &str = "Delimiter";
const P_ANCHOR: &str = "Anchor column";
const P_OBJECT_TYPE: &str = "Object type";
const P_COLUMNS: &str = "Columns";
const P_MULTI: &str = "Multi-valued columns";
const P_SEPARATOR: &str = "Multi-value separator";
const P_LOCK_WAIT: &str = "Lock wait seconds";
/// How long an export waits for another writer's lock on the file before it gives up.
const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(10);

/// Parsed configuration.
#[derive(Debug, Clone)]
struct Settings {
    file: PathBuf,
    delimiter: u8,
    anchor: String,
    object_type: String,
    /// Columns to create the file with when it does not exist yet.
    columns: Vec<String>,
    multi_valued: Vec<String>,
    separator: String,
    /// How long an export waits for the file's lock (a lock never released must not hang
    /// every later write).
    lock_wait: Duration,
}

impl Settings {
    fn from_config(config: &ConfigParameters) -> ConnectorResult<Self> {
        let file = PathBuf::from(config.require(P_FILE)?);
        let delimiter = match config.get(P_DELIMITER).unwrap_or(",") {
            "" | "," => b',',
            "\\t" | "tab" | "\t" => b'\t',
            d if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            d => {
                return Err(ConnectorError::config(format!(
                    "'{P_DELIMITER}' must be one ASCII character (or \\t), got {d:?}"
                )));
            }
        };
        let list = |name: &str| -> Vec<String> {
            config
                .get_or_empty(name)
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let separator = config.get(P_SEPARATOR).unwrap_or(";").to_owned();
        if separator.is_empty() {
            return Err(ConnectorError::config(format!(
                "'{P_SEPARATOR}' must not be empty"
            )));
        }
        let lock_wait = match config.get(P_LOCK_WAIT).map(str::trim) {
            None | Some("") => DEFAULT_LOCK_WAIT,
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    ConnectorError::config(format!(
                        "'{P_LOCK_WAIT}' must be a number of seconds, got {v:?}"
                    ))
                })?,
        };
        Ok(Self {
            file,
            delimiter,
            lock_wait,
            anchor: config.get(P_ANCHOR).unwrap_or("id").trim().to_owned(),
            object_type: config
                .get(P_OBJECT_TYPE)
                .unwrap_or("User")
                .trim()
                .to_owned(),
            columns: list(P_COLUMNS),
            multi_valued: list(P_MULTI),
            separator,
        })
    }

    fn is_multi(&self, column: &str) -> bool {
        self.multi_valued
            .iter()
            .any(|m| m.eq_ignore_ascii_case(column))
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.file.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        self.file.with_file_name(name)
    }

    fn reader(&self) -> ConnectorResult<csv::Reader<File>> {
        let file = File::open(&self.file).map_err(|e| {
            ConnectorError::connection(format!("cannot open {}: {e}", self.file.display()))
        })?;
        Ok(csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .from_reader(file))
    }

    /// A reader positioned on the first row, the header, and the anchor column's index: how
    /// every read of the rows starts (import, FullObject).
    fn rows(&self) -> ConnectorResult<(csv::Reader<File>, Vec<String>, usize)> {
        let mut reader = self.reader()?;
        let header: Vec<String> = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(str::to_owned)
            .collect();
        let anchor_index = header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(&self.anchor))
            .ok_or_else(|| {
                ConnectorError::config(format!(
                    "anchor column '{}' is not in the header",
                    self.anchor
                ))
            })?;
        Ok((reader, header, anchor_index))
    }

    /// The header of the file, or the configured columns when the file does not exist.
    fn header(&self) -> ConnectorResult<Vec<String>> {
        if !self.file.exists() {
            if self.columns.is_empty() {
                return Err(ConnectorError::config(format!(
                    "{} does not exist and no '{P_COLUMNS}' are configured to create it with",
                    self.file.display()
                )));
            }
            return Ok(self.columns.clone());
        }
        let mut reader = self.reader()?;
        let header = reader.headers().map_err(csv_error)?;
        Ok(header.iter().map(str::to_owned).collect())
    }
}

/// A CSV error is the target's, never the caller's: an I/O error may pass (a network share
/// back, a full disk freed), so it is `Connection` and retried; a malformed file (a row of
/// the wrong length, bytes that are not UTF-8) is `Internal`, so Entra gets a server error
/// and the operator a message naming the file and the row. `InvalidInput` would answer
/// `400 invalidValue` and blame a SCIM request for the state of the file.
fn csv_error(e: csv::Error) -> ConnectorError {
    if e.is_io_error() {
        ConnectorError::connection(format!("CSV I/O error: {e}"))
    } else {
        ConnectorError::internal(format!("the CSV file is malformed: {e}"))
    }
}

/// Creates the file an export writes before renaming it over `target`: exclusively
/// (`O_CREAT | O_EXCL`, so a file or symbolic link planted under the name is never opened or
/// followed), under a random name (so the name cannot be planted in advance), and with the
/// target's permission bits and owner (so the rename changes neither who may read the file
/// nor who owns it). A new target gets the process's default mode.
fn create_temporary(dir: &Path, target: &Path) -> std::io::Result<(File, PathBuf)> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    let original = match fs::metadata(target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let base = target.file_name().unwrap_or_default().to_string_lossy();
    let mut random = File::open("/dev/urandom")?;
    for _ in 0..8 {
        let mut bytes = [0u8; 8];
        random.read_exact(&mut bytes)?;
        let path = dir.join(format!(".{base}.{:016x}.tmp", u64::from_le_bytes(bytes)));
        let created = OpenOptions::new()
            .write(true)
            .create_new(true)
            // Owner-only until the target's mode is copied: nobody else opens it meanwhile.
            .mode(if original.is_some() { 0o600 } else { 0o666 })
            .open(&path);
        let file = match created {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        if let Some(m) = &original {
            let kept = (|| {
                if (m.uid(), m.gid()) != (file.metadata()?.uid(), file.metadata()?.gid()) {
                    std::os::unix::fs::fchown(&file, Some(m.uid()), Some(m.gid())).map_err(|e| {
                        std::io::Error::new(
                            e.kind(),
                            format!(
                                "cannot give the new copy the owner {}:{} of the file ({e}); run \
                                 the host as that user",
                                m.uid(),
                                m.gid()
                            ),
                        )
                    })?;
                }
                file.set_permissions(fs::Permissions::from_mode(m.permissions().mode() & 0o777))
            })();
            if let Err(e) = kept {
                let _ = fs::remove_file(&path);
                return Err(e);
            }
        }
        return Ok((file, path));
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free temporary file name in 8 random tries",
    ))
}

/// The CSV connector.
pub struct CsvConnector {
    settings: Settings,
    host: HostServices,
    import: Option<ImportRun>,
}

struct ImportRun {
    reader: csv::Reader<File>,
    header: Vec<String>,
    anchor_index: usize,
    page_size: usize,
    done: bool,
}

impl CsvConnector {
    /// The anchor value a FullObject request names: its anchor attribute, or the anchor
    /// column's value in its changes (as an export would take it).
    fn requested_anchor(&self, r: &CsEntryChange) -> Option<String> {
        r.anchor
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(&self.settings.anchor))
            .map(|a| a.value.as_text())
            .or_else(|| {
                r.change(&self.settings.anchor)
                    .and_then(|c| c.added_values().next())
                    .map(Value::as_text)
            })
            .filter(|a| !a.is_empty())
    }

    fn to_entry(
        &self,
        header: &[String],
        anchor_index: usize,
        record: &csv::StringRecord,
    ) -> CsEntryChange {
        let anchor = record.get(anchor_index).unwrap_or("").to_owned();
        let mut entry = CsEntryChange::new(&self.settings.object_type, ObjectModification::Add)
            .with_anchor(&self.settings.anchor, anchor.clone());
        entry.identifier = anchor;
        for (i, column) in header.iter().enumerate() {
            let raw = record.get(i).unwrap_or("");
            if raw.is_empty() {
                continue;
            }
            let values: Vec<Value> = if self.settings.is_multi(column) {
                raw.split(self.settings.separator.as_str())
                    .filter(|v| !v.is_empty())
                    .map(Value::from)
                    .collect()
            } else {
                vec![Value::from(raw)]
            };
            entry.changes.push(AttributeChange::add(column, values));
        }
        entry
    }
}

/// The whole file in memory, for a read-modify-write export.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    by_anchor: HashMap<String, usize>,
    anchor_index: usize,
}

impl Table {
    fn load(settings: &Settings) -> ConnectorResult<Self> {
        let header = settings.header()?;
        let anchor_index = header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(&settings.anchor))
            .ok_or_else(|| {
                ConnectorError::config(format!(
                    "anchor column '{}' is not in the header {:?}",
                    settings.anchor, header
                ))
            })?;
        let mut rows = Vec::new();
        if settings.file.exists() {
            for record in settings.reader()?.records() {
                let record = record.map_err(csv_error)?;
                rows.push(record.iter().map(str::to_owned).collect::<Vec<_>>());
            }
        }
        let by_anchor = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.get(anchor_index).cloned().unwrap_or_default(), i))
            .collect();
        Ok(Self {
            header,
            rows,
            by_anchor,
            anchor_index,
        })
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }

    /// Writes the table to a temporary file next to the target, fsyncs it and renames it
    /// over the target, then fsyncs the directory so the rename itself is durable.
    fn save(&self, settings: &Settings) -> ConnectorResult<()> {
        let dir = settings
            .file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let io = |e: std::io::Error| {
            ConnectorError::connection(format!("cannot write {}: {e}", settings.file.display()))
        };
        let (file, tmp) = create_temporary(dir, &settings.file).map_err(io)?;
        let result = (|| {
            let mut writer = csv::WriterBuilder::new()
                .delimiter(settings.delimiter)
                .from_writer(file);
            writer.write_record(&self.header).map_err(csv_error)?;
            for row in &self.rows {
                writer.write_record(row).map_err(csv_error)?;
            }
            let mut file = writer
                .into_inner()
                .map_err(|e| ConnectorError::connection(e.to_string()))?;
            file.flush().map_err(io)?;
            file.sync_all().map_err(io)?;
            fs::rename(&tmp, &settings.file).map_err(io)?;
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn apply(&mut self, settings: &Settings, entry: &CsEntryChange) -> ExportResult {
        let id = entry.identifier.as_str();
        let anchor = entry
            .anchor_value()
            .map(Value::as_text)
            .or_else(|| {
                entry
                    .change(&settings.anchor)
                    .and_then(|c| c.added_values().next())
                    .map(Value::as_text)
            })
            .filter(|a| !a.is_empty());
        let Some(anchor) = anchor else {
            return ExportResult::failure(
                id,
                ExportErrorCode::MissingAnchorComponent,
                format!("no value for anchor column '{}'", settings.anchor),
            );
        };
        // Unknown attributes are a schema violation for the whole entry: nothing is written.
        if let Some(bad) = entry
            .changes
            .iter()
            .find(|c| self.column(&c.name).is_none())
        {
            return ExportResult::failure(
                id,
                ExportErrorCode::SyntaxViolation,
                format!(
                    "attribute '{}' is not a column of {}",
                    bad.name,
                    settings.file.display()
                ),
            );
        }
        match entry.modification {
            ObjectModification::Add => {
                if self.by_anchor.contains_key(&anchor) {
                    return ExportResult::failure(
                        id,
                        ExportErrorCode::ConnectedDirectoryExistingObject,
                        format!("a row with {} = {anchor:?} already exists", settings.anchor),
                    );
                }
                let mut row = vec![String::new(); self.header.len()];
                row[self.anchor_index] = anchor.clone();
                self.apply_changes(settings, &mut row, &entry.changes);
                self.by_anchor.insert(anchor.clone(), self.rows.len());
                self.rows.push(row);
                ExportResult::success(id).with_anchor(&settings.anchor, anchor)
            }
            ObjectModification::Update | ObjectModification::Replace => {
                let Some(&index) = self.by_anchor.get(&anchor) else {
                    return ExportResult::failure(
                        id,
                        ExportErrorCode::ConnectedDirectoryMissingObject,
                        format!("no row with {} = {anchor:?}", settings.anchor),
                    );
                };
                let mut row = self.rows[index].clone();
                if entry.modification == ObjectModification::Replace {
                    for (i, cell) in row.iter_mut().enumerate() {
                        if i != self.anchor_index {
                            cell.clear();
                        }
                    }
                }
                self.apply_changes(settings, &mut row, &entry.changes);
                // The anchor names the row, as a naming attribute names an LDAP entry: a
                // change to it is ECMA2's ChangeNamingAttribute (400 invalidValue, the
                // request's fault), not AnchorTooLong, which is about an anchor's length.
                if row[self.anchor_index] != anchor {
                    return ExportResult::failure(
                        id,
                        ExportErrorCode::ChangeNamingAttribute,
                        "the anchor column cannot be changed",
                    );
                }
                self.rows[index] = row;
                ExportResult::success(id)
            }
            ObjectModification::Delete => match self.by_anchor.remove(&anchor) {
                Some(index) => {
                    self.rows.remove(index);
                    for i in self.by_anchor.values_mut() {
                        if *i > index {
                            *i -= 1;
                        }
                    }
                    ExportResult::success(id)
                }
                None => ExportResult::failure(
                    id,
                    ExportErrorCode::ConnectedDirectoryMissingObject,
                    format!("no row with {} = {anchor:?}", settings.anchor),
                ),
            },
            ObjectModification::None => ExportResult::success(id),
        }
    }

    fn apply_changes(&self, settings: &Settings, row: &mut [String], changes: &[AttributeChange]) {
        for change in changes {
            let Some(col) = self.column(&change.name) else {
                continue;
            };
            let sep = settings.separator.as_str();
            let mut values: Vec<String> = if row[col].is_empty() {
                Vec::new()
            } else if settings.is_multi(&change.name) {
                row[col].split(sep).map(str::to_owned).collect()
            } else {
                vec![row[col].clone()]
            };
            match change.modification {
                AttributeModification::Add | AttributeModification::Replace => {
                    values = change.added_values().map(Value::as_text).collect();
                }
                AttributeModification::Update => {
                    for deleted in change.deleted_values().map(Value::as_text) {
                        values.retain(|v| *v != deleted);
                    }
                    for added in change.added_values().map(Value::as_text) {
                        if !values.contains(&added) {
                            values.push(added);
                        }
                    }
                }
                AttributeModification::Delete => values.clear(),
            }
            if !settings.is_multi(&change.name) {
                values.truncate(1);
            }
            row[col] = values.join(sep);
        }
    }
}

impl Connector for CsvConnector {
    fn info() -> ConnectorInfo {
        ConnectorInfo {
            name: "csv".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "ecma-host".into(),
            description: "Reads and writes one object type in a CSV file".into(),
            api_version: String::new(),
        }
    }

    fn capabilities(_config: &ConfigParameters) -> Capabilities {
        // The default claims nothing: switch on what this connector does, and only that.
        // No delta import (every import reads the whole file, deletes included), no renames,
        // passwords, partitions or hierarchy.
        Capabilities {
            distinguished_name_style: DnStyle::Generic,
            support_import: true,
            support_export: true,
            export_type: ExportType::AttributeUpdate,
            ..Capabilities::default()
        }
    }

    fn config_parameters(
        _config: &ConfigParameters,
        page: ConfigPage,
        _page_number: u32,
    ) -> ConnectorResult<Vec<ConfigParameterDefinition>> {
        Ok(match page {
            ConfigPage::Connectivity => vec![
                ConfigParameterDefinition::file(P_FILE, "")
                    .describe("Path of the CSV file")
                    .required(),
                ConfigParameterDefinition::string(P_DELIMITER, "^(.|\\\\t)$", ",")
                    .describe("Field delimiter: one character, or \\t for tab"),
                ConfigParameterDefinition::string(P_LOCK_WAIT, "", "10").describe(
                    "Seconds an export waits for another writer's lock on the file before it fails (retryable)",
                ),
            ],
            ConfigPage::Schema => vec![
                ConfigParameterDefinition::string(P_OBJECT_TYPE, "", "User"),
                ConfigParameterDefinition::string(P_ANCHOR, "", "id")
                    .describe("The column whose value identifies a row"),
                ConfigParameterDefinition::string(P_COLUMNS, "", "").describe(
                    "Comma-separated columns to create the file with if it does not exist",
                ),
                ConfigParameterDefinition::string(P_MULTI, "", "")
                    .describe("Comma-separated columns that hold several values"),
                ConfigParameterDefinition::string(P_SEPARATOR, "", ";")
                    .describe("Separator between the values of a multi-valued column"),
            ],
            _ => Vec::new(),
        })
    }

    fn validate_config(
        config: &ConfigParameters,
        page: ConfigPage,
        _page_number: u32,
    ) -> ConnectorResult<ParameterValidation> {
        let failure = |parameter: &str, message: String| {
            Ok(ParameterValidation::Failure {
                parameter: parameter.to_owned(),
                message,
            })
        };
        let settings = match Settings::from_config(config) {
            Ok(s) => s,
            Err(e) => return failure(P_FILE, e.message),
        };
        match page {
            ConfigPage::Connectivity => {
                let dir = settings.file.parent().filter(|p| !p.as_os_str().is_empty());
                if let Some(dir) = dir
                    && !dir.is_dir()
                {
                    return failure(
                        P_FILE,
                        format!("directory {} does not exist", dir.display()),
                    );
                }
            }
            ConfigPage::Schema => match settings.header() {
                Ok(header) => {
                    if !header
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(&settings.anchor))
                    {
                        return failure(
                            P_ANCHOR,
                            format!(
                                "anchor column '{}' is not one of {header:?}",
                                settings.anchor
                            ),
                        );
                    }
                }
                Err(e) => return failure(P_COLUMNS, e.message),
            },
            _ => {}
        }
        Ok(ParameterValidation::Success)
    }

    fn schema(config: &ConfigParameters) -> ConnectorResult<Schema> {
        let settings = Settings::from_config(config)?;
        let header = settings.header()?;
        let attributes = header
            .iter()
            .map(|column| {
                if column.eq_ignore_ascii_case(&settings.anchor) {
                    SchemaAttribute::anchor(column, DataType::String)
                } else if settings.is_multi(column) {
                    SchemaAttribute::multi(column, DataType::String)
                } else {
                    SchemaAttribute::single(column, DataType::String)
                }
            })
            .collect();
        Ok(Schema {
            types: vec![SchemaType {
                name: settings.object_type.clone(),
                locked: true,
                attributes,
                anchor_attributes: vec![settings.anchor.clone()],
                possible_dn_components: Vec::new(),
            }],
        })
    }

    fn create(config: &ConfigParameters, host: HostServices) -> ConnectorResult<Self> {
        let settings = Settings::from_config(config)?;
        host.debug(&format!("csv connector on {}", settings.file.display()));
        Ok(Self {
            settings,
            host,
            import: None,
        })
    }

    fn test_connection(&mut self) -> ConnectorResult<()> {
        self.settings.header().map(|_| ())
    }

    fn open_import(&mut self, request: OpenImportRequest) -> ConnectorResult<String> {
        if request.import_type == ImportType::Delta {
            return Err(ConnectorError::unsupported(
                "the CSV connector has no delta import; run a full import",
            ));
        }
        let (reader, header, anchor_index) = self.settings.rows()?;
        self.import = Some(ImportRun {
            reader,
            header,
            anchor_index,
            page_size: request.page_size.max(1) as usize,
            done: false,
        });
        Ok(String::new())
    }

    fn get_import_entries(&mut self) -> ConnectorResult<ImportPage> {
        // A call out of order is the caller's mistake, and says so.
        let mut run = self.import.take().ok_or_else(|| {
            ConnectorError::invalid_input("get_import_entries before open_import")
        })?;
        let mut entries = Vec::with_capacity(run.page_size);
        let mut record = csv::StringRecord::new();
        while entries.len() < run.page_size {
            self.host.check_cancelled()?;
            if !run.reader.read_record(&mut record).map_err(csv_error)? {
                run.done = true;
                break;
            }
            entries.push(self.to_entry(&run.header, run.anchor_index, &record));
        }
        let more = !run.done;
        self.import = Some(run);
        Ok(ImportPage {
            entries,
            more_to_import: more,
            custom_data: String::new(),
        })
    }

    fn close_import(&mut self, _reason: CloseReason) -> ConnectorResult<String> {
        self.import = None;
        Ok(String::new())
    }

    fn open_export(&mut self, _request: OpenExportRequest) -> ConnectorResult<()> {
        Ok(())
    }

    fn put_export_entries(
        &mut self,
        entries: Vec<CsEntryChange>,
    ) -> ConnectorResult<Vec<ExportResult>> {
        // One advisory lock around read-modify-write, so that two host processes (or two
        // instances) never lose each other's changes.
        let lock = self.lock()?;
        let mut table = Table::load(&self.settings)?;
        let results: Vec<ExportResult> = entries
            .iter()
            .map(|e| table.apply(&self.settings, e))
            .collect();
        if results.iter().any(|r| r.code == ExportErrorCode::Success) {
            table.save(&self.settings)?;
        }
        drop(lock);
        Ok(results)
    }

    fn get_full_objects(
        &mut self,
        requests: &[CsEntryChange],
        page: &mut PageWriter,
    ) -> ConnectorResult<()> {
        // Requests of another type, or without an anchor, cannot be looked up here and stay
        // unanswered.
        let anchors: Vec<Option<String>> = requests
            .iter()
            .map(|r| {
                if r.object_type.eq_ignore_ascii_case(&self.settings.object_type) {
                    self.requested_anchor(r)
                } else {
                    self.host.warn(&format!(
                        "FullObject request for object type '{}' left unanswered: this file holds '{}'",
                        r.object_type, self.settings.object_type
                    ));
                    None
                }
            })
            .collect();
        let mut wanted: HashSet<&str> = anchors.iter().flatten().map(String::as_str).collect();
        if wanted.is_empty() {
            return Ok(());
        }
        // The host asks after an export whose outcome it does not know; that export may still
        // hold the lock, and its write is what the answer must show.
        let lock = self.lock()?;
        let mut found: HashMap<String, CsEntryChange> = HashMap::new();
        // A file not created yet holds no rows (exports create it from 'Columns').
        if self.settings.file.exists() || self.settings.columns.is_empty() {
            let (mut reader, header, anchor_index) = self.settings.rows()?;
            let mut record = csv::StringRecord::new();
            while !wanted.is_empty() && reader.read_record(&mut record).map_err(csv_error)? {
                self.host.check_cancelled()?;
                let anchor = record.get(anchor_index).unwrap_or("");
                if wanted.remove(anchor) {
                    found.insert(
                        anchor.to_owned(),
                        self.to_entry(&header, anchor_index, &record),
                    );
                }
            }
        }
        drop(lock);
        for (r, anchor) in requests.iter().zip(&anchors) {
            let Some(anchor) = anchor else { continue };
            match found.get(anchor) {
                Some(entry) => page.push(entry),
                None => {
                    let mut gone =
                        CsEntryChange::new(&self.settings.object_type, ObjectModification::Delete)
                            .with_anchor(&self.settings.anchor, anchor.clone());
                    gone.identifier = anchor.clone();
                    gone.dn = r.dn.clone();
                    page.push(&gone);
                }
            }
        }
        Ok(())
    }
}

impl CsvConnector {
    /// The file's advisory lock, held until the returned file is dropped.
    fn lock(&self) -> ConnectorResult<File> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.settings.lock_path())
            .map_err(|e| ConnectorError::connection(format!("cannot open lock file: {e}")))?;
        self.wait_for_lock(&lock)?;
        Ok(lock)
    }

    /// Takes the file's advisory lock, polling until `lock_wait` has passed; then a retryable
    /// Connection error that names the lock file.
    fn wait_for_lock(&self, lock: &File) -> ConnectorResult<()> {
        let deadline = std::time::Instant::now() + self.settings.lock_wait;
        loop {
            match lock.try_lock() {
                Ok(()) => return Ok(()),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(ConnectorError::connection(format!(
                        "{} is locked by another writer (waited {:.1} s); try again later",
                        self.settings.lock_path().display(),
                        self.settings.lock_wait.as_secs_f64()
                    )));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(ConnectorError::connection(format!("cannot lock: {e}")));
                }
            }
        }
    }
}

plugin_api::export_connector!(CsvConnector);

#[cfg(test)]
mod tests;
