//! The connector model in plain Rust: what connector authors and the host work with.
//!
//! These types mirror ECMA2 (`Microsoft.MetadirectoryServices`): capabilities, configuration
//! parameters, schema, the `CSEntryChange` change model, import and export run steps. They never
//! cross the library boundary themselves; `crate::abi` holds their FFI-safe twins and the
//! conversions between the two.
//!
//! One file per concept; everything is re-exported here, so `plugin_api::model::X` names each.

mod capabilities;
mod entries;
mod errors;
mod export;
mod log;
mod parameters;
mod passwords;
mod run;
mod schema;
mod values;
mod wire;

pub use capabilities::*;
pub use entries::*;
pub use errors::*;
pub use export::*;
pub use log::*;
pub use parameters::*;
pub use passwords::*;
pub use run::*;
pub use schema::*;
pub use values::*;
pub(crate) use wire::Wire;

/// The version of this crate, which is the plugin ABI version (see `VERSIONING.md`).
pub const PLUGIN_API_VERSION: &str = env!("CARGO_PKG_VERSION");
