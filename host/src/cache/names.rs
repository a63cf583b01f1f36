//! Attribute names interned per object type: a cached record stores a small number for each
//! name, not the name (a million users would otherwise hold a million copies of "userName").
//!
//! The table only grows, so a number written into any snapshot's record stays valid for as
//! long as the cache lives. Readers load the table without a lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

#[derive(Default)]
pub struct Names {
    table: ArcSwap<Table>,
    /// Held while numbering a name the table does not have yet.
    writer: Mutex<()>,
}

#[derive(Default, Clone)]
struct Table {
    list: Vec<Arc<str>>,
    by_name: HashMap<Arc<str>, u32>,
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.table.load().list.iter())
            .finish()
    }
}

impl Names {
    /// The number of `name` (exact case), numbering it if it is new.
    pub fn number(&self, name: &str) -> u32 {
        if let Some(&n) = self.table.load().by_name.get(name) {
            return n;
        }
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut table = Table::clone(&self.table.load());
        if let Some(&n) = table.by_name.get(name) {
            return n;
        }
        let name: Arc<str> = Arc::from(name);
        let n = table.list.len() as u32;
        table.list.push(name.clone());
        table.by_name.insert(name, n);
        self.table.store(Arc::new(table));
        n
    }

    /// The names as they are now: every number written so far resolves in it.
    pub fn table(&self) -> NameTable {
        NameTable(self.table.load_full())
    }
}

/// The names at one moment, for decoding records.
#[derive(Clone)]
pub struct NameTable(Arc<Table>);

impl NameTable {
    pub fn name(&self, number: u32) -> &str {
        self.0.list.get(number as usize).map_or("", |n| n)
    }

    /// Every name, in number order.
    pub fn all(&self) -> Vec<String> {
        self.0.list.iter().map(|n| n.to_string()).collect()
    }

    /// The numbers whose name is `name` in any case (a record may hold either spelling).
    pub fn numbers_ignoring_case(&self, name: &str) -> Vec<u32> {
        (0..self.0.list.len() as u32)
            .filter(|&n| self.0.list[n as usize].eq_ignore_ascii_case(name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_case_exact() {
        let names = Names::default();
        let a = names.number("userName");
        let b = names.number("mail");
        assert_ne!(a, b);
        assert_eq!(names.number("userName"), a);
        let c = names.number("USERNAME");
        assert_ne!(c, a, "a record keeps the connector's spelling");
        let table = names.table();
        assert_eq!(table.name(a), "userName");
        assert_eq!(table.name(c), "USERNAME");
        assert_eq!(table.numbers_ignoring_case("username"), [a, c]);
    }
}
