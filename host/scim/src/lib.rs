//! SCIM 2.0 protocol engine (placeholder docs, filled in below).
#![forbid(unsafe_code)]

mod coerce;
pub mod engine;
pub mod error;
pub mod filter;
mod json;
pub mod patch;
pub mod query;
pub mod resource;
pub mod schema;
pub mod testing;

pub use engine::*;
pub use error::{ERROR_URN, ScimError, ScimType};
pub use filter::*;
pub use patch::*;
pub use query::*;
pub use resource::*;
pub use schema::*;

/// Media type of every SCIM response (RFC 7644 §8.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
