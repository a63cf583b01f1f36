//! `persist_cache`: the application's cache kept in its state directory, so that a restart
//! serves at once and catches up with a delta instead of reading the whole target again.
//!
//! Written after every import that changed the cache (full or delta), with the watermarks it
//! matches, streamed to a private temporary file and renamed over the old one. Loaded once,
//! before the first import; the file is used only when it is whole (its checksum), of this
//! format, for the same connector, object types and anchors, and for exactly the watermarks
//! the state directory holds. Anything else is a warning and a full import, as without it.
//!
//! Layout: the magic and format version, a JSON header (what it was made for, and per object
//! type its attribute names, object count and watermark), the objects of each type (packed
//! bytes, `meta`, `active`), and a CRC-32 of all that.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Application;
use crate::cache::{CacheEntry, EntryMeta};

const MAGIC: &[u8; 9] = b"ECMACACHE";
const FORMAT: u8 = 1;
pub(super) const CACHE_FILE: &str = "cache.bin";
/// A header larger than this is not one this host wrote.
const MAX_HEADER: u32 = 64 * 1024 * 1024;
/// Nor is an object larger than this.
const MAX_OBJECT: u32 = 1024 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Header {
    made_for: String,
    types: Vec<TypeHeader>,
}

#[derive(Serialize, Deserialize)]
struct TypeHeader {
    object_type: String,
    names: Vec<String>,
    count: u64,
    watermark: Option<String>,
}

/// Why a cache file was not used.
#[derive(Debug, thiserror::Error)]
pub(super) enum Unusable {
    #[error("there is none yet")]
    Missing,
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("it is not a cache file of this version of ecma-host")]
    Format,
    #[error("it is damaged (checksum)")]
    Checksum,
    #[error(
        "it was written for another connector, other connector parameters or other object types"
    )]
    OtherApplication,
    #[error(
        "its watermarks are not the ones in the state directory (written before a later import)"
    )]
    Stale,
}

/// A writer that checksums what passes through.
struct Summing<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that checksums what passes through.
struct Checked<R> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

fn read_u32(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64(r: &mut impl Read) -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

impl Application {
    fn cache_file(&self) -> PathBuf {
        self.state_dir.join(CACHE_FILE)
    }

    /// What a cache file must have been written for: the connector and its parameters (a
    /// checksum of them as configured, secrets by reference only: another file or database
    /// is another target), and each object type with its anchor (ids are anchors).
    fn made_for(&self) -> String {
        let types: Vec<String> = self
            .types
            .iter()
            .map(|t| format!("{}({})", t.object_type, t.anchor))
            .collect();
        let parameters = crc32fast::hash(format!("{:?}", self.config.parameters).as_bytes());
        format!(
            "{} parameters:{parameters:08x} {}",
            self.config.connector,
            types.join(" ")
        )
    }

    /// Writes the cache file (after an import, with the import lock held, so the watermarks
    /// are the ones the caches match). Failures are a warning: the next start imports.
    pub(super) fn persist_cache(&self) {
        let started = std::time::Instant::now();
        let path = self.cache_file();
        match self.write_cache_file(&path) {
            Ok(bytes) => tracing::info!(
                app = %self.name,
                bytes,
                ms = started.elapsed().as_millis() as u64,
                "cache written to {}",
                path.display()
            ),
            Err(e) => tracing::warn!(
                app = %self.name,
                "cannot write the cache to {}: {e}; the next start reads the whole target",
                path.display()
            ),
        }
    }

    fn write_cache_file(&self, path: &Path) -> std::io::Result<u64> {
        let snaps: Vec<_> = self.caches.iter().map(|c| c.snapshot()).collect();
        let marks = self
            .watermarks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let header = Header {
            made_for: self.made_for(),
            types: self
                .types
                .iter()
                .zip(&snaps)
                .map(|(t, s)| TypeHeader {
                    object_type: t.object_type.clone(),
                    names: s.names().table().all(),
                    count: s.len() as u64,
                    watermark: marks.get(&t.object_type).cloned(),
                })
                .collect(),
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        // Created 0600 in the same directory, renamed over the old file when complete.
        let tmp = tempfile::Builder::new()
            .prefix(".cache.")
            .tempfile_in(dir)?;
        {
            let mut out = Summing {
                inner: BufWriter::with_capacity(1 << 20, tmp.as_file()),
                crc: crc32fast::Hasher::new(),
            };
            out.write_all(MAGIC)?;
            out.write_all(&[FORMAT])?;
            let header = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
            out.write_all(&(header.len() as u32).to_le_bytes())?;
            out.write_all(&header)?;
            for s in &snaps {
                for e in s.iter() {
                    let packed = e.packed();
                    out.write_all(&(packed.len() as u32).to_le_bytes())?;
                    out.write_all(packed)?;
                    out.write_all(&e.meta.created_ms.to_le_bytes())?;
                    out.write_all(&e.meta.modified_ms.to_le_bytes())?;
                    out.write_all(&e.meta.version.to_le_bytes())?;
                    out.write_all(&[match e.active {
                        None => 0,
                        Some(false) => 1,
                        Some(true) => 2,
                    }])?;
                }
            }
            let Summing {
                inner: mut file,
                crc,
            } = out;
            file.write_all(&crc.finalize().to_le_bytes())?;
            file.flush()?;
        }
        tmp.as_file().sync_all()?;
        let size = tmp.as_file().metadata()?.len();
        tmp.persist(path).map_err(|e| e.error)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(size)
    }

    /// Loads the cache file into the (empty) caches: `Ok(objects)` when it was used, else
    /// why not (the caches are left empty).
    pub(super) fn load_cache_file(&self) -> Result<u64, Unusable> {
        let path = self.cache_file();
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Missing),
            Err(e) => return Err(e.into()),
        };
        let mut r = Checked {
            inner: BufReader::with_capacity(1 << 20, file),
            crc: crc32fast::Hasher::new(),
        };
        let eof_is_format = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Unusable::Format,
            _ => Unusable::Io(e),
        };
        let mut magic = [0u8; 10];
        r.read_exact(&mut magic).map_err(eof_is_format)?;
        if &magic[..9] != MAGIC || magic[9] != FORMAT {
            return Err(Unusable::Format);
        }
        let header_len = read_u32(&mut r).map_err(eof_is_format)?;
        if header_len > MAX_HEADER {
            return Err(Unusable::Format);
        }
        let mut header = vec![0u8; header_len as usize];
        r.read_exact(&mut header).map_err(eof_is_format)?;
        let header: Header = serde_json::from_slice(&header).map_err(|_| Unusable::Format)?;
        if header.made_for != self.made_for() || header.types.len() != self.types.len() {
            return Err(Unusable::OtherApplication);
        }
        {
            let marks = self.watermarks.lock().unwrap_or_else(|p| p.into_inner());
            for (t, h) in self.types.iter().zip(&header.types) {
                if h.object_type != t.object_type {
                    return Err(Unusable::OtherApplication);
                }
                if marks.get(&t.object_type) != h.watermark.as_ref() {
                    return Err(Unusable::Stale);
                }
            }
        }
        let mut loaded = Vec::with_capacity(self.types.len());
        let mut objects = 0u64;
        for (cache, h) in self.caches.iter().zip(&header.types) {
            // The numbers in the records are positions in this list.
            for (n, name) in h.names.iter().enumerate() {
                if cache.names().number(name) as usize != n {
                    return Err(Unusable::Format);
                }
            }
            let mut entries = Vec::with_capacity(h.count.min(1 << 24) as usize);
            for _ in 0..h.count {
                let len = read_u32(&mut r).map_err(eof_is_format)?;
                if len > MAX_OBJECT {
                    return Err(Unusable::Format);
                }
                let mut packed = vec![0u8; len as usize];
                r.read_exact(&mut packed).map_err(eof_is_format)?;
                let meta = EntryMeta {
                    created_ms: read_u64(&mut r).map_err(eof_is_format)? as i64,
                    modified_ms: read_u64(&mut r).map_err(eof_is_format)? as i64,
                    version: read_u64(&mut r).map_err(eof_is_format)?,
                };
                let mut active = [0u8; 1];
                r.read_exact(&mut active).map_err(eof_is_format)?;
                let active = match active[0] {
                    0 => None,
                    1 => Some(false),
                    2 => Some(true),
                    _ => return Err(Unusable::Format),
                };
                entries.push(std::sync::Arc::new(CacheEntry::from_parts(
                    packed.into_boxed_slice(),
                    meta,
                    active,
                )));
            }
            objects += h.count;
            loaded.push(entries);
        }
        let computed = r.crc.clone().finalize();
        let stored = read_u32(&mut r.inner).map_err(eof_is_format)?;
        if computed != stored {
            return Err(Unusable::Checksum);
        }
        // Whole and current: only now does it replace what the caches hold.
        for (cache, entries) in self.caches.iter().zip(loaded) {
            let mut next = cache.empty_snapshot();
            next.fill(entries);
            cache.begin_full_import();
            cache.finish_full_import(next);
        }
        Ok(objects)
    }
}

impl Application {
    /// After a successful import: writes the cache file when the import changed the cache
    /// or moved a watermark (the file must match the watermarks to be used).
    pub(super) fn persist_after_import(&self, summary: &super::ImportSummary) {
        let marks = self
            .watermarks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let changed = summary.added + summary.changed + summary.deleted > 0;
        let mut last = self
            .persisted_marks
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !changed && last.as_ref() == Some(&marks) {
            return;
        }
        off_reactor(|| self.persist_cache());
        *last = Some(marks);
    }

    /// Before the first import: serves the cache file if it can be used (the first import is
    /// then the catch-up: a delta where the connector has one). Returns whether it was used.
    pub(super) fn load_persisted_cache(&self) -> bool {
        if !self.config.persist_cache {
            return false;
        }
        let started = std::time::Instant::now();
        let path = self.cache_file();
        match off_reactor(|| self.load_cache_file()) {
            Ok(objects) => {
                *self
                    .persisted_marks
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(
                    self.watermarks
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone(),
                );
                self.ready.store(true, std::sync::atomic::Ordering::Release);
                tracing::info!(
                    app = %self.name,
                    objects,
                    ms = started.elapsed().as_millis() as u64,
                    "serving the cache kept in {}; catching up with the target now",
                    path.display()
                );
                true
            }
            Err(Unusable::Missing) => {
                tracing::info!(app = %self.name, "no cache file yet; a full import fills the cache");
                false
            }
            Err(why) => {
                tracing::warn!(
                    app = %self.name,
                    "the cache file {} is not used: {why}; a full import fills the cache",
                    path.display()
                );
                false
            }
        }
    }
}

/// Runs `f` (a second or two of file work for a million objects) without holding up the
/// reactor thread's other tasks, where the runtime allows it.
fn off_reactor<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}
