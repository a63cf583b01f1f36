//! What a list request is answered from: a backend's candidates in a stable order, each turned
//! into a resource only when the engine needs it. A backend that keeps compact records (not
//! JSON trees) renders a page of an unfiltered listing, not the whole store.

use std::sync::Arc;

use crate::resource::StoredResource;

/// The candidates of one resource type.
pub struct Candidates<'a> {
    len: usize,
    items: Box<dyn Iterator<Item = Arc<StoredResource>> + Send + 'a>,
}

impl<'a> Candidates<'a> {
    /// `len` candidates that `items` yields in order. A backend that renders on demand makes
    /// `Iterator::nth` skip without rendering: the engine skips to a page with it.
    pub fn new(len: usize, items: impl Iterator<Item = Arc<StoredResource>> + Send + 'a) -> Self {
        Self {
            len,
            items: Box::new(items),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every candidate, rendered.
    pub fn all(self) -> impl Iterator<Item = Arc<StoredResource>> + 'a {
        self.items
    }

    /// At most `take` candidates after the first `skip` (those are not rendered).
    pub fn window(
        mut self,
        skip: usize,
        take: usize,
    ) -> impl Iterator<Item = Arc<StoredResource>> + 'a {
        let first = if skip > 0 && take > 0 {
            self.items.nth(skip)
        } else if take > 0 {
            self.items.next()
        } else {
            None
        };
        first.into_iter().chain(self.items).take(take)
    }
}

impl From<Vec<Arc<StoredResource>>> for Candidates<'static> {
    fn from(v: Vec<Arc<StoredResource>>) -> Self {
        Self::new(v.len(), v.into_iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Meta;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_window_renders_only_what_it_yields() {
        let rendered = Arc::new(AtomicUsize::new(0));
        let counter = rendered.clone();
        struct Lazy {
            next: usize,
            end: usize,
            rendered: Arc<AtomicUsize>,
        }
        impl Iterator for Lazy {
            type Item = Arc<StoredResource>;
            fn next(&mut self) -> Option<Self::Item> {
                self.nth(0)
            }
            fn nth(&mut self, n: usize) -> Option<Self::Item> {
                self.next += n;
                if self.next >= self.end {
                    return None;
                }
                self.rendered.fetch_add(1, Ordering::Relaxed);
                let id = self.next;
                self.next += 1;
                Some(Arc::new(StoredResource::new(
                    serde_json::json!({ "id": id.to_string() }),
                    Meta::default(),
                )))
            }
        }
        let c = Candidates::new(
            1000,
            Lazy {
                next: 0,
                end: 1000,
                rendered: counter,
            },
        );
        let ids: Vec<String> = c
            .window(500, 3)
            .map(|s| s.id().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(ids, ["500", "501", "502"]);
        assert_eq!(rendered.load(Ordering::Relaxed), 3);
    }
}
