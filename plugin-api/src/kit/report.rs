//! What the kit found: one line per check, and for each failure what the connector did.

use std::fmt;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// What the connector did, and what the kit expected instead.
    Failed(String),
    /// Why the check did not apply (a capability the connector does not declare).
    Skipped(String),
}

/// One check of the battery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
}

/// Every check the kit ran against one connector and configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The connector's name, as it reports it.
    pub connector: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub(crate) fn new(connector: &str) -> Self {
        Self {
            connector: connector.to_owned(),
            checks: Vec::new(),
        }
    }

    pub(crate) fn record(&mut self, name: &'static str, outcome: Result<(), String>) {
        self.checks.push(Check {
            name,
            outcome: match outcome {
                Ok(()) => Outcome::Passed,
                Err(why) => Outcome::Failed(why),
            },
        });
    }

    pub(crate) fn skip(&mut self, name: &'static str, why: impl Into<String>) {
        self.checks.push(Check {
            name,
            outcome: Outcome::Skipped(why.into()),
        });
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The outcome of the check called `name` (checks are named in [`super::CHECKS`]).
    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.outcome)
    }

    /// Panics with the whole report when a check failed: what a connector's test calls.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "{self}");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed = self.failures().count();
        writeln!(
            f,
            "connector kit, connector '{}': {} checks, {failed} failed",
            self.connector,
            self.checks.len()
        )?;
        for c in &self.checks {
            match &c.outcome {
                Outcome::Passed => writeln!(f, "  ok      {}", c.name)?,
                Outcome::Skipped(why) => writeln!(f, "  skipped {}: {why}", c.name)?,
                Outcome::Failed(why) => {
                    writeln!(f, "  FAILED  {}:", c.name)?;
                    for line in why.lines() {
                        writeln!(f, "          {line}")?;
                    }
                }
            }
        }
        Ok(())
    }
}
