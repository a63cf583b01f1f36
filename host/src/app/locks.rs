//! The application's write locks: one per object, and one per object type for creates.
//!
//! One layer: the object lock is held by the SCIM engine around a whole PUT, PATCH or DELETE
//! (read, apply, export, cache update; through `Backend::write_guard`, also inside `/Bulk`),
//! and by a delta import around each entry it applies, so neither builds on a stale record.
//! The backend's `update` and `delete` rely on it and take no lock of their own. Creates have
//! no object yet: they are serialised per object type so that the uniqueness check and the
//! export cannot interleave with another create.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LockKey {
    /// One object of one connector object type, by SCIM id.
    Object { object_type: String, id: String },
    /// Every create of one connector object type.
    Creates { object_type: String },
}

/// Locks by key, created on first use and dropped when nobody holds or waits for them.
#[derive(Default)]
pub(super) struct ObjectLocks {
    locks: Mutex<HashMap<LockKey, Arc<AsyncMutex<()>>>>,
}

impl ObjectLocks {
    /// Waits for, and holds, the lock of one object.
    pub(super) async fn object(&self, object_type: &str, id: &str) -> OwnedMutexGuard<()> {
        self.acquire(LockKey::Object {
            object_type: object_type.to_owned(),
            id: id.to_owned(),
        })
        .await
    }

    /// Waits for, and holds, the create lock of one object type.
    pub(super) async fn creates(&self, object_type: &str) -> OwnedMutexGuard<()> {
        self.acquire(LockKey::Creates {
            object_type: object_type.to_owned(),
        })
        .await
    }

    async fn acquire(&self, key: LockKey) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            // A lock only this map refers to is neither held nor awaited: forget it.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks.entry(key).or_default().clone()
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_object_is_held_by_one_writer_and_others_are_free() {
        let locks = ObjectLocks::default();
        let held = locks.object("User", "1").await;
        // Another object and the create lock are independent.
        let _other = locks.object("User", "2").await;
        let _creates = locks.creates("User").await;
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            locks.object("User", "1"),
        )
        .await;
        assert!(waiting.is_err(), "a second writer of User 1 must wait");
        drop(held);
        let again =
            tokio::time::timeout(std::time::Duration::from_secs(5), locks.object("User", "1"))
                .await;
        assert!(again.is_ok(), "released locks are acquired again");
    }

    #[tokio::test]
    async fn unused_locks_are_forgotten() {
        let locks = ObjectLocks::default();
        for id in 0..100 {
            drop(locks.object("User", &id.to_string()).await);
        }
        let _last = locks.object("User", "last").await;
        assert_eq!(locks.locks.lock().unwrap().len(), 1);
    }
}
