//! The state directory: owned by one host at a time, and written so that a crash or a full
//! disk never leaves a half-written file behind.
//!
//! * [`StateLock`]: an exclusive lock on `state_dir/host.lock`, held for the life of the
//!   process; a second host on the same directory refuses to start and names the first.
//! * [`write_atomic`]: a unique temporary file in the same directory, written, fsynced, renamed
//!   over the target, and the directory fsynced, so a reader sees the old file or the new one.
//! * [`write_private_atomic`]: the same for keys, with mode 0600 set on the file before it
//!   takes the target's name, whatever the old file's mode was.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Why the state directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot use the state directory {dir}: {source}")]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the state directory {dir} is in use by another ecma-host ({holder}); two hosts on one state directory would overwrite each other's watermarks"
    )]
    InUse { dir: PathBuf, holder: String },
}

/// Held while the host runs; dropping it releases the directory.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    pub path: PathBuf,
}

impl StateLock {
    /// Takes the directory (creating it), or says who has it.
    pub fn acquire(dir: &Path) -> Result<Self, StateError> {
        let io = |source| StateError::Io {
            dir: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join("host.lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StateError::InUse {
                    dir: dir.to_owned(),
                    holder: if holder.is_empty() {
                        "a process that did not say who it is".to_owned()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        // Who holds it, for the message a second host prints.
        let me = format!("pid {} on {}", std::process::id(), crate::tls::hostname());
        file.set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(me.as_bytes()))
            .and_then(|_| file.flush())
            .map_err(io)?;
        Ok(Self { _file: file, path })
    }
}

/// Replaces `path` with `bytes` atomically and durably; the file gets mode 0600 on Unix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, Privacy::Default)
}

/// Replaces `path` (a private key, say) with `bytes` atomically and durably, readable by its
/// owner only: the new file is set to 0600 explicitly (a default ACL or a file system that
/// ignores the creation mode cannot widen it) and checked before it replaces the old one, so
/// the secret is never readable by others, not even for a moment, even when the old file was.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, Privacy::OwnerOnly)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Privacy {
    /// Created 0600 (state files: nothing else needs them).
    Default,
    /// 0600 enforced and verified (keys).
    OwnerOnly,
}

fn write_replacing(path: &Path, bytes: &[u8], privacy: Privacy) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique: two writers (or a crashed earlier one) never share a temporary file.
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        if privacy == Privacy::OwnerOnly {
            enforce_owner_only(&f)?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable only once the directory is.
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(unix)]
fn enforce_owner_only(f: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    let mode = f.metadata()?.permissions().mode() & 0o777;
    if mode != 0o600 {
        return Err(std::io::Error::other(format!(
            "the file system kept mode {mode:o} instead of 600"
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn enforce_owner_only(_f: &File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_directory_is_refused_and_names_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path()).unwrap();
        let err = StateLock::acquire(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StateError::InUse { .. }), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(first);
        StateLock::acquire(dir.path()).expect("free again once released");
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apps/hr/watermarks.json");
        write_atomic(&path, b"{\"User\":\"1\"}").unwrap();
        write_atomic(&path, b"{\"User\":\"2\"}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"User\":\"2\"}");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_private_write_replaces_a_readable_file_with_an_owner_only_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("tls/key.pem");
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        std::fs::write(&key, b"old key").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private_atomic(&key, b"new key").unwrap();
        assert_eq!(std::fs::read(&key).unwrap(), b"new key");
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let names: Vec<_> = std::fs::read_dir(key.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary left behind: {names:?}");
        // A new file (no old one) is private too.
        let fresh = dir.path().join("tls/cert-key.pem");
        write_private_atomic(&fresh, b"k").unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
