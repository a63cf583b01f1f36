//! Connectors in their own process (`isolation = "process"`, `connector_command`): the worker
//! protocol and both of its sides. `plugin-api/docs/worker-protocol.md` is the reference.
//!
//! One job per file: frames on the pipes (`framing.rs`), the JSON messages (`messages.rs`),
//! the worker side that serves a plugin library (`serve.rs`, `ecma-host worker`; its stdin in
//! `inbound.rs`), and on the
//! host side one worker process and its pipes (`process.rs`), keeping a worker running
//! across deaths (`supervised.rs`) and the plugin-api traits answered by workers
//! (`plugin.rs`).

mod framing;
mod inbound;
mod messages;
mod plugin;
mod process;
mod serve;
mod supervised;

pub use framing::MAX_FRAME;
pub use messages::PROTOCOL_VERSION;
pub use plugin::{ProcessInstance, ProcessPlugin};
pub use process::WorkerSpec;
pub use serve::run as serve;
