//! # plugin-api: the ecma-host connector ABI and SDK
//!
//! Connectors for ecma-host are dynamic libraries. This crate is the contract between the host
//! and them, mirroring Microsoft's ECMA2 call model (`IMAExtensible2*`): capabilities,
//! configuration parameters per page and their validation, schema, partitions, the import
//! triple (open / get entries in pages / close, full and delta with a watermark), the export
//! triple (open / put entries with a result per entry / close), passwords and test connection.
//!
//! * Connector authors implement [`sdk::Connector`] (plain Rust: `Result`, `String`, `Vec`) and
//!   call [`export_connector!`] once. They never see abi_stable.
//! * The host loads libraries with [`loader::load_plugin`] (feature `loader`) and talks to
//!   them through the plain traits in [`host`].
//! * Their tests drive the connector through [`host::InProcessPlugin`] and run the connector
//!   kit (`kit`, feature `kit`). The connector guide (`docs/connector-guide.md` in this crate)
//!   explains every call, the page writer, and what Entra sees for each error. Minimum Rust
//!   version: 1.95.
//! * `abi` holds the FFI-safe types (abi_stable), hidden from these docs: connectors and the
//!   host never name them. `VERSIONING.md` says what may change in it.

// Without the loader, some host-side conversions are unused.
#![cfg_attr(not(feature = "loader"), allow(dead_code))]

// Not part of the documented API: `export_connector!`'s expansion reaches the root module
// through `__private`, and the loader is in this crate.
#[doc(hidden)]
pub mod abi;
mod export;
pub mod host;
#[cfg(feature = "kit")]
pub mod kit;
#[cfg(feature = "loader")]
pub mod loader;
pub mod model;
pub mod page;
pub mod sdk;

pub use model::PLUGIN_API_VERSION;

/// Everything a connector author needs.
pub mod prelude {
    pub use crate::model::*;
    pub use crate::page::{
        ChangeView, EntryView, EntryWriter, Name, NameId, PackedImportPage, PackedPage, PageStatus,
        PageWriter, ValueRef,
    };
    pub use crate::sdk::{Connector, HostServices};
}

#[doc(hidden)]
pub mod __private {
    pub use crate::abi::ConnectorModRef;
    pub use crate::export::root_module;
    pub use abi_stable::library::{
        __call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
    };
}
