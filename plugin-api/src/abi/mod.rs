//! The FFI-safe twins of [`crate::model`] and the root module every plugin exports.
//!
//! **Layout rules** (see `VERSIONING.md`): every type here is checked structurally by abi_stable
//! when a plugin loads. Never rename, reorder or retype a field; append only, and bump the
//! crate's minor version when you do. Enumerations travel as plain integers (`u8`/`u16`) so
//! that a newer side can add values without a layout change; unknown values map to a safe
//! default on the receiving side (each model type's `Wire` conversion, next to the type).
//!
//! One file per concept, each FFI type next to its conversions to and from the model and their
//! round-trip tests; `module.rs` holds the root module and the trait objects that use them.
//!
//! Nothing outside this crate names these types: connector authors use [`crate::sdk`], the
//! host uses [`crate::loader`]; the code [`export_connector!`](crate::export_connector)
//! generates reaches the root module through `__private`.

mod capabilities;
mod entries;
mod error;
mod export;
mod import;
mod module;
mod parameters;
mod password;
mod schema;
#[cfg(test)]
mod testing;

pub use capabilities::*;
pub use entries::*;
pub use error::*;
pub use export::*;
pub use import::*;
pub use module::*;
pub use parameters::*;
pub use password::*;
pub use schema::*;
