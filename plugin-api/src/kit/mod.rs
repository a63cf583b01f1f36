//! The connector kit (feature `kit`): a standard battery of checks any connector must pass,
//! run against a real target through the same calls the host makes.
//!
//! ```ignore
//! use plugin_api::host::InProcessPlugin;
//! use plugin_api::kit::{Kit, Sample};
//! use plugin_api::prelude::*;
//!
//! let plugin = InProcessPlugin::<MyConnector>::new()?;
//! let sample = Sample::new("User", "name", |key, text| {
//!     CsEntryChange::new("User", ObjectModification::Add)
//!         .with_anchor("id", key)
//!         .with_change(AttributeChange::add("name", [Value::from(text)]))
//! });
//! Kit::new(&plugin, config, sample).run().assert_passed();
//! ```
//!
//! What it checks, each reported on its own line with what the connector did when it fails:
//! the configuration validates on every page and a missing required parameter does not;
//! every object type has an anchor; a call the capabilities do not declare says
//! `Unsupported`, and a declared one works (delta import, passwords, partitions); full
//! imports in pages of 1, 2 and the default size read every object once; Add, Update
//! (attribute replace), Replace (whole object) and Delete are seen by a re-import; hostile
//! values ([`HOSTILE_VALUES`]) read back unchanged; an Add of an existing object and an
//! Update or Delete of a missing one get the export codes the host maps to 409 and 404; no
//! call panics. The kit creates its own objects (through [`Sample`]) and deletes them at the
//! end; objects already in the target are read but never changed.

mod contract;
mod report;
mod round_trip;
mod session;

pub use report::{Check, Outcome, Report};
pub use round_trip::HOSTILE_VALUES;

use crate::host::ConnectorPlugin;
use crate::model::*;

use session::Session;

/// The names of the checks, in the order they run.
pub const CHECKS: [&str; 11] = [
    PARAMETERS, SCHEMA, UNDECLARED, PARTITIONS, DELTA, ADD, PAGING, PASSWORD, MODIFY, HOSTILE,
    MISTAKES,
];

pub const PARAMETERS: &str = "parameters validate";
pub const SCHEMA: &str = "schema: an anchor per object type";
pub const UNDECLARED: &str = "undeclared calls say Unsupported";
pub const PARTITIONS: &str = "declared partitions are listed";
pub const DELTA: &str = "declared delta import works";
pub const ADD: &str = "Add creates objects";
pub const PAGING: &str = "full import in pages of 1, 2 and the default size reads each object once";
pub const PASSWORD: &str = "declared set_password works";
pub const MODIFY: &str = "Update, Replace and Delete round-trip through a re-import";
pub const HOSTILE: &str = "hostile values survive";
pub const MISTAKES: &str = "existing and missing objects get their export codes";

/// Builds the `Add` of a new object from a unique key and a text value (see [`Sample::build`]).
pub type BuildAdd = Box<dyn Fn(&str, &str) -> CsEntryChange>;

/// How the kit makes objects of one type: the connector-specific part of the battery.
pub struct Sample {
    /// The object type the kit creates.
    pub object_type: String,
    /// A string attribute (single-valued, or compared by its first value) the kit writes its
    /// values into, hostile ones included, and updates.
    pub text_attribute: String,
    /// Builds the `Add` of a new object: `key` is unique per object and made of ASCII letters
    /// and digits (safe in an anchor, an RDN or a file name); `text` is the value of
    /// `text_attribute`. Set the anchor (or the DN) the target names the object by, and
    /// every attribute the target requires.
    pub build: BuildAdd,
}

impl Sample {
    pub fn new(
        object_type: &str,
        text_attribute: &str,
        build: impl Fn(&str, &str) -> CsEntryChange + 'static,
    ) -> Self {
        Self {
            object_type: object_type.to_owned(),
            text_attribute: text_attribute.to_owned(),
            build: Box::new(build),
        }
    }
}

/// The battery, for one connector and one configuration.
pub struct Kit<'p> {
    plugin: &'p dyn ConnectorPlugin,
    config: ConfigParameters,
    sample: Sample,
}

impl<'p> Kit<'p> {
    /// `plugin`: an [`InProcessPlugin`](crate::host::InProcessPlugin) in a connector's own
    /// tests, or a library loaded the way the host loads it.
    pub fn new(plugin: &'p dyn ConnectorPlugin, config: ConfigParameters, sample: Sample) -> Self {
        Self {
            plugin,
            config,
            sample,
        }
    }

    /// Runs every check and reports each; it stops early only when the schema or the
    /// capabilities cannot be read, or no object can be created.
    pub fn run(&self) -> Report {
        let mut report = Report::new(&self.plugin.info().name);
        let schema = match self.plugin.schema(&self.config) {
            Ok(schema) => schema,
            Err(e) => {
                report.record(
                    SCHEMA,
                    Err(format!("schema() returned {}", session::said(&e))),
                );
                return report;
            }
        };
        let s = Session {
            plugin: self.plugin,
            config: &self.config,
            schema,
        };
        let sample = &self.sample;
        report.record(PARAMETERS, contract::parameters(&s));
        report.record(
            SCHEMA,
            contract::schema(&s, &sample.object_type, &sample.text_attribute),
        );
        let caps = match self.plugin.capabilities(&self.config) {
            Ok(caps) => caps,
            Err(e) => {
                report.record(
                    UNDECLARED,
                    Err(format!("capabilities() returned {}", session::said(&e))),
                );
                return report;
            }
        };
        report.record(UNDECLARED, contract::undeclared(&s, &caps));
        if caps.support_partitions {
            report.record(PARTITIONS, contract::partitions(&s));
        } else {
            report.skip(PARTITIONS, "support_partitions is not declared");
        }
        if caps.support_import && caps.delta_import {
            report.record(DELTA, contract::delta(&s));
        } else {
            report.skip(DELTA, "delta_import is not declared");
        }
        if !(caps.support_import && caps.support_export) {
            for name in [ADD, PAGING, PASSWORD, MODIFY, HOSTILE, MISTAKES] {
                report.skip(name, "needs support_import and support_export");
            }
            return report;
        }
        let token = run_token();
        let keys: Vec<String> = (0..4).map(|i| format!("{token}n{i}")).collect();
        let basics: Vec<(String, String)> = keys[..3]
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), format!("kit value {i}")))
            .collect();
        let created = match round_trip::add(&s, sample, &basics) {
            Ok(created) => {
                report.record(ADD, Ok(()));
                created
            }
            Err(why) => {
                report.record(ADD, Err(why));
                for name in [PAGING, PASSWORD, MODIFY, HOSTILE, MISTAKES] {
                    report.skip(name, "no object could be created");
                }
                return report;
            }
        };
        report.record(PAGING, round_trip::paging(&s, &caps, &created));
        if caps.support_password {
            report.record(PASSWORD, round_trip::password(&s, &created.objects[0].0));
        } else {
            report.skip(PASSWORD, "support_password is not declared");
        }
        report.record(
            MODIFY,
            round_trip::modify(&s, &caps, sample, &created, &keys),
        );
        let hostile_values: Vec<(String, String)> = HOSTILE_VALUES
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{token}h{i}"), (*v).to_owned()))
            .collect();
        let hostile = round_trip::add(&s, sample, &hostile_values);
        match &hostile {
            Ok(h) => report.record(HOSTILE, round_trip::hostile(&s, &caps, sample, h)),
            Err(why) => report.record(HOSTILE, Err(why.clone())),
        }
        report.record(
            MISTAKES,
            round_trip::mistakes(&s, sample, &keys[0], "kit again", &keys[3]),
        );
        round_trip::clean_up(&s, &created);
        if let Ok(h) = &hostile {
            round_trip::clean_up(&s, h);
        }
        report
    }
}

/// Letters and digits unique to this run, so that runs against one target never collide.
fn run_token() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static RUNS: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "kit{:x}p{:x}r{}",
        nanos,
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}
