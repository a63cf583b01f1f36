//! Whether a plugin path may be trusted: loading a library runs its code as the host, so the
//! file and every folder above it, up to `/`, must be out of reach of other users.
//!
//! A path is trusted when each of its components is owned by root or by the host's own
//! (effective) user and is not writable by group or others. Symbolic links are followed: the
//! link itself must be owned by root or the host's user, and its target is checked the same
//! way, so a link cannot lead out of the checked chain.
//!
//! One exception, the rule systemd applies to "safe transitions": a root-owned folder with the
//! sticky bit (`/tmp`) may be writable by everyone, because the sticky bit stops other users
//! from renaming or removing the entries in it they do not own; the entry below it on the path
//! is checked as usual (an attacker who created it would own it, and is refused). Anything else
//! is refused unless the configuration sets `allow_insecure_plugin_paths`.

use std::path::{Component, Path, PathBuf};

/// How strictly plugin paths are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathPolicy {
    /// The rules above (the default).
    #[default]
    Strict,
    /// `allow_insecure_plugin_paths = true`: only the file's own readability is required; the
    /// host logs a warning for every path the strict rules would refuse.
    AllowInsecure,
}

impl PathPolicy {
    pub fn from_allow_insecure(allow: bool) -> Self {
        if allow {
            PathPolicy::AllowInsecure
        } else {
            PathPolicy::Strict
        }
    }
}

/// Symbolic links followed before a path counts as a loop (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Checks `path` (a plugin file or a plugins folder) and every folder above it. The error is
/// one line naming the offending path and why it is refused.
pub fn check(path: &Path) -> Result<(), String> {
    let owner = Owner::current();
    let mut links = 0;
    check_chain(path, owner, &mut links)
}

/// The users whose files the host trusts: root and itself.
#[derive(Debug, Clone, Copy)]
struct Owner {
    euid: u32,
}

impl Owner {
    #[cfg(unix)]
    fn current() -> Self {
        Self {
            euid: effective_uid(),
        }
    }
    #[cfg(not(unix))]
    fn current() -> Self {
        Self { euid: 0 }
    }
    fn trusts(&self, uid: u32) -> bool {
        uid == 0 || uid == self.euid
    }
}

/// The process's effective uid. `/proc/self` belongs to it on Linux; elsewhere, a file this
/// process creates does.
#[cfg(unix)]
fn effective_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    if let Ok(m) = std::fs::metadata("/proc/self") {
        return m.uid();
    }
    tempfile_owner().unwrap_or(0)
}

#[cfg(unix)]
fn tempfile_owner() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let probe = std::env::temp_dir().join(format!(
        ".ecma-host-uid-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .ok()?;
    let uid = file.metadata().ok().map(|m| m.uid());
    let _ = std::fs::remove_file(&probe);
    uid
}

/// Walks `path` from `/` down, one component at a time, without following the last link of a
/// prefix (`symlink_metadata`); a link's target is walked the same way before going on.
fn check_chain(path: &Path, owner: Owner, links: &mut usize) -> Result<(), String> {
    let absolute =
        std::path::absolute(path).map_err(|e| format!("cannot resolve {}: {e}", path.display()))?;
    let mut prefix = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::Prefix(p) => prefix.push(p.as_os_str()),
            Component::RootDir => prefix.push(component.as_os_str()),
            Component::CurDir => continue,
            Component::ParentDir => {
                prefix.pop();
            }
            Component::Normal(name) => prefix.push(name),
        }
        check_one(&prefix, owner, links)?;
    }
    Ok(())
}

fn check_one(path: &Path, owner: Owner, links: &mut usize) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.file_type().is_symlink() {
        check_owner(path, "symbolic link", &meta, owner)?;
        *links += 1;
        if *links > MAX_LINKS {
            return Err(format!(
                "refusing to load: too many symbolic links under {}",
                path.display()
            ));
        }
        let target = std::fs::read_link(path)
            .map_err(|e| format!("cannot read the link {}: {e}", path.display()))?;
        // A relative target is relative to the folder holding the link.
        let target = match path.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
        return check_chain(&target, owner, links);
    }
    let kind = if meta.is_dir() { "folder" } else { "file" };
    check_owner(path, kind, &meta, owner)?;
    check_mode(path, kind, &meta)
}

#[cfg(unix)]
fn check_owner(
    path: &Path,
    kind: &str,
    meta: &std::fs::Metadata,
    owner: Owner,
) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if owner.trusts(meta.uid()) {
        return Ok(());
    }
    Err(format!(
        "refusing to load: {kind} is owned by uid {}, not by root or the host's user (uid {}): {}; another user could replace it (run `chown root {}` or move the plugin)",
        meta.uid(),
        owner.euid,
        path.display(),
        path.display()
    ))
}

#[cfg(not(unix))]
fn check_owner(_: &Path, _: &str, _: &std::fs::Metadata, _: Owner) -> Result<(), String> {
    Ok(())
}

#[cfg(unix)]
fn check_mode(path: &Path, kind: &str, meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mode = meta.permissions().mode();
    if mode & 0o022 == 0 {
        return Ok(());
    }
    // The sticky bit keeps other users from renaming or removing what they do not own; the
    // entry below is checked on its own.
    if meta.is_dir() && mode & 0o1000 != 0 && meta.uid() == 0 {
        return Ok(());
    }
    Err(format!(
        "refusing to load: {kind} is writable by other users (mode {:o}): {}; run `chmod go-w {}`",
        mode & 0o7777,
        path.display(),
        path.display()
    ))
}

#[cfg(not(unix))]
fn check_mode(_: &Path, _: &str, _: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A temporary folder under the crate's target directory (not `/tmp`, which is no private
    /// place) with mode 0755.
    fn private_dir() -> tempfile::TempDir {
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-tmp");
        std::fs::create_dir_all(&base).unwrap();
        // Messages name absolute paths without `..`.
        let base = base.canonicalize().unwrap();
        let dir = tempfile::tempdir_in(&base).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_file_in_a_private_folder_is_trusted() {
        let dir = private_dir();
        let file = dir.path().join("lib.so");
        std::fs::write(&file, b"x").unwrap();
        chmod(&file, 0o644);
        check(&file).unwrap();
    }

    #[test]
    fn a_writable_folder_anywhere_above_is_named() {
        let dir = private_dir();
        let middle = dir.path().join("middle");
        let inner = middle.join("inner");
        std::fs::create_dir_all(&inner).unwrap();
        chmod(&inner, 0o755);
        let file = inner.join("lib.so");
        std::fs::write(&file, b"x").unwrap();
        chmod(&file, 0o644);
        chmod(&middle, 0o775);
        let err = check(&file).unwrap_err();
        assert!(
            err.contains("folder is writable by other users (mode 775)")
                && err.contains(&middle.display().to_string())
                && !err.contains("inner"),
            "{err}"
        );
        chmod(&middle, 0o755);
        check(&file).unwrap();
    }

    #[test]
    fn a_link_is_followed_and_its_target_checked() {
        let dir = private_dir();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        let real = open.join("lib.so");
        std::fs::write(&real, b"x").unwrap();
        chmod(&real, 0o644);
        let safe = dir.path().join("safe");
        std::fs::create_dir(&safe).unwrap();
        chmod(&safe, 0o755);
        let link = safe.join("lib.so");
        std::os::unix::fs::symlink("../open/lib.so", &link).unwrap();
        chmod(&open, 0o755);
        check(&link).unwrap();
        chmod(&open, 0o777);
        let err = check(&link).unwrap_err();
        assert!(err.contains(&open.display().to_string()), "{err}");
    }

    #[test]
    fn a_sticky_folder_is_passed_only_when_root_owns_it() {
        let dir = private_dir();
        let sticky = dir.path().join("sticky");
        std::fs::create_dir(&sticky).unwrap();
        let file = sticky.join("lib.so");
        std::fs::write(&file, b"x").unwrap();
        chmod(&file, 0o644);
        chmod(&sticky, 0o1777);
        let owned_by_root = std::fs::metadata(&sticky)
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap();
        if owned_by_root {
            check(&file).unwrap();
        } else {
            assert!(check(&file).is_err());
        }
        chmod(&sticky, 0o777);
        assert!(check(&file).unwrap_err().contains("mode 777"));
    }
}
