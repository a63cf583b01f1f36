//! The queue of what is to be read again from the target (see [`super::reread`]): objects
//! by type and anchor or DN, or the whole target.

/// One object to read again: its type, and what the host knows to find it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ReReadTarget {
    pub type_idx: usize,
    /// The anchor value (the SCIM id), when known; a create whose anchor the target generates
    /// has none.
    pub anchor: Option<String>,
    /// The DN, when known.
    pub dn: String,
}

/// What is waiting to be read again.
#[derive(Debug, Default)]
pub(super) struct PendingReReads {
    pub objects: Vec<ReReadTarget>,
    /// The whole target must be read (the objects concerned cannot be named).
    pub whole: bool,
}

/// Past this many objects one whole import is cheaper than the single reads (and the queue
/// stays small through a long outage).
const MOST_OBJECTS: usize = 500;

impl PendingReReads {
    pub fn add(&mut self, target: ReReadTarget) {
        if self.whole || self.objects.contains(&target) {
            return;
        }
        if self.objects.len() >= MOST_OBJECTS {
            self.add_whole();
            return;
        }
        self.objects.push(target);
    }

    pub fn add_whole(&mut self) {
        self.whole = true;
        self.objects.clear();
    }

    /// Everything pending, leaving the queue empty.
    pub fn take(&mut self) -> Self {
        std::mem::take(self)
    }

    /// Puts back what a failed attempt took.
    pub fn restore(&mut self, objects: Vec<ReReadTarget>, whole: bool) {
        self.whole |= whole;
        for o in objects {
            self.add(o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(i: usize) -> ReReadTarget {
        ReReadTarget {
            type_idx: 0,
            anchor: Some(i.to_string()),
            dn: String::new(),
        }
    }

    #[test]
    fn repeated_objects_are_read_once_and_a_long_queue_becomes_one_import() {
        let mut q = PendingReReads::default();
        q.add(target(1));
        q.add(target(1));
        assert_eq!(q.objects.len(), 1);
        for i in 0..MOST_OBJECTS + 1 {
            q.add(target(i));
        }
        assert!(q.whole && q.objects.is_empty());
        let taken = q.take();
        assert!(taken.whole && !q.whole);
        q.restore(vec![target(7)], false);
        assert_eq!((q.objects.len(), q.whole), (1, false));
    }
}
