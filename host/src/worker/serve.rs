//! `ecma-host worker --plugin FILE`: the worker side of the protocol for any connector built
//! against plugin-api. It loads the library under the host's path rules, answers `hello`, and
//! serves calls from stdin on the main thread while a watcher takes `cancel` messages
//! (`inbound.rs`).
//!
//! File descriptor 1 is pointed at stderr before the plugin is loaded, and the protocol writes
//! to a private copy of the original stdout: a connector (or a C driver it loads) that prints
//! cannot corrupt the frames.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use plugin_api::host::{ConnectorInstance, ConnectorPlugin};
use plugin_api::model::{ConnectorError, ConnectorResult, LogLevel, Schema};
use plugin_api::page::PackedImportPage;
use plugin_api::sdk::{HostCallbacks, HostServices};

use super::framing::{Frame, PageFrame, read_frame, write_json, write_page};
use super::inbound::{Inbound, Next};
use super::messages::{CallId, Feature, HostMessage, PROTOCOL_VERSION, WorkerMessage};
use crate::plugins::{PathPolicy, PluginRegistry};

type Out = Arc<Mutex<BufWriter<File>>>;

/// Runs the worker until the host closes stdin. Exit status: 0 at the end of input, 1 when
/// the handshake fails, 2 when the host breaks the protocol or the pipes fail.
pub fn run(plugin: &Path, policy: PathPolicy) -> ExitCode {
    let (input, out) = match protocol_pipes() {
        Ok(pipes) => pipes,
        Err(e) => {
            eprintln!("ecma-host worker: cannot set up its pipes: {e}");
            return ExitCode::from(2);
        }
    };
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let out: Out = Arc::new(Mutex::new(BufWriter::with_capacity(64 * 1024, out)));
    match read_hello(&mut input) {
        Ok(protocol) if protocol == PROTOCOL_VERSION => {}
        Ok(other) => {
            let error = format!(
                "this worker speaks worker protocol version {PROTOCOL_VERSION}; the host speaks version {other}"
            );
            eprintln!("ecma-host worker: {error}");
            send(&out, &hello(None, Some(error)));
            return ExitCode::from(1);
        }
        Err(why) => {
            eprintln!("ecma-host worker: {why}");
            return ExitCode::from(2);
        }
    }
    let registry = PluginRegistry::discover_with(&[], &[plugin.to_owned()], policy);
    let loaded = match (registry.failures().first(), registry.plugins().next()) {
        (None, Some((_, p))) => p.plugin.clone(),
        (Some(failure), _) => {
            send(&out, &hello(None, Some(failure.reason.clone())));
            return ExitCode::from(1);
        }
        (None, None) => {
            send(
                &out,
                &hello(None, Some(format!("no connector in {}", plugin.display()))),
            );
            return ExitCode::from(1);
        }
    };
    if !send(&out, &hello(Some(loaded.info().clone()), None)) {
        return ExitCode::from(2);
    }
    let cancelled = Arc::new(AtomicBool::new(false));
    let calls = match Inbound::start(input, cancelled.clone()) {
        Ok(calls) => calls,
        Err(e) => {
            eprintln!("ecma-host worker: cannot start its cancel watcher: {e}");
            return ExitCode::from(2);
        }
    };
    let services = HostServices::new(Arc::new(PipeHost {
        out: out.clone(),
        cancelled,
    }));
    let mut server = Server {
        plugin: loaded,
        services,
        instance: None,
        export_schema: None,
    };
    let mut answer: Option<Answer> = None;
    loop {
        let write = || match answer.take() {
            None => true,
            Some(Answer::Json(message)) => send(&out, &message),
            Some(Answer::Page(page)) => {
                let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
                write_page(&mut *out, &page).is_ok()
            }
        };
        match calls.next(write) {
            Next::Call(call) => {
                let Some(id) = call.call_id() else { continue };
                answer = Some(server.answer(id, call));
            }
            Next::End => return ExitCode::SUCCESS,
            Next::AnswerFailed => return ExitCode::from(2),
        }
    }
}

/// The protocol's own copies of stdin and stdout; fd 1 then points at stderr and fd 0 at
/// /dev/null, for whatever else in the process reads or prints.
fn protocol_pipes() -> std::io::Result<(File, File)> {
    let input = File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    let output = File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    rustix::stdio::dup2_stdout(std::io::stderr())?;
    rustix::stdio::dup2_stdin(File::open("/dev/null")?)?;
    Ok((input, output))
}

fn read_hello(input: &mut impl std::io::Read) -> Result<u32, String> {
    match read_frame(input) {
        Ok(Some(Frame::Json(json))) => match serde_json::from_slice::<HostMessage>(&json) {
            Ok(HostMessage::Hello { protocol, .. }) => Ok(protocol),
            Ok(_) => Err("the host did not start with hello".into()),
            Err(e) => Err(format!("the host's first message is not valid: {e}")),
        },
        Ok(Some(Frame::Page(_))) => Err("the host did not start with hello".into()),
        Ok(None) => Err("the host closed the pipe before hello".into()),
        Err(e) => Err(format!("reading the host's hello: {e}")),
    }
}

fn hello(
    connector: Option<plugin_api::model::ConnectorInfo>,
    error: Option<String>,
) -> WorkerMessage {
    // Features only with a connector: a worker that cannot serve offers nothing.
    let features = if connector.is_some() {
        vec![Feature::Export]
    } else {
        Vec::new()
    };
    WorkerMessage::Hello {
        protocol: PROTOCOL_VERSION,
        connector,
        error,
        features,
    }
}

fn send(out: &Out, message: &WorkerMessage) -> bool {
    let Ok(json) = serde_json::to_vec(message) else {
        return false;
    };
    let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
    write_json(&mut *out, &json).is_ok()
}

/// A connector's log lines and cancellation, over the pipe.
struct PipeHost {
    out: Out,
    cancelled: Arc<AtomicBool>,
}

impl HostCallbacks for PipeHost {
    fn log(&self, level: LogLevel, target: &str, message: &str) {
        send(
            &self.out,
            &WorkerMessage::Log {
                level: level.into(),
                target: target.to_owned(),
                message: message.to_owned(),
            },
        );
    }
    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

enum Answer {
    Json(WorkerMessage),
    Page(PageFrame),
}

/// The loaded connector and the worker's one instance.
struct Server {
    plugin: Arc<dyn ConnectorPlugin>,
    services: HostServices,
    instance: Option<Box<dyn ConnectorInstance>>,
    /// The schema of the last `export` that carried one, for those that do not.
    export_schema: Option<Schema>,
}

impl Server {
    fn answer(&mut self, id: CallId, call: HostMessage) -> Answer {
        match self.dispatch(id, call) {
            Ok(answer) => answer,
            Err(e) => Answer::Json(WorkerMessage::of_error(id, e)),
        }
    }

    fn dispatch(&mut self, id: CallId, call: HostMessage) -> ConnectorResult<Answer> {
        use HostMessage as M;
        let plugin = self.plugin.clone();
        match call {
            M::Hello { .. } | M::Cancel { .. } => Err(ConnectorError::internal("not a call")),
            M::Capabilities { config, .. } => result(id, plugin.capabilities(&config)),
            M::ConfigParameters {
                config,
                page,
                page_number,
                ..
            } => result(id, plugin.config_parameters(&config, page, page_number)),
            M::ValidateConfig {
                config,
                page,
                page_number,
                ..
            } => result(id, plugin.validate_config(&config, page, page_number)),
            M::Schema { config, .. } => result(id, plugin.schema(&config)),
            M::Partitions { config, .. } => result(id, plugin.partitions(&config)),
            M::CreateInstance { config, .. } => {
                if self.instance.is_some() {
                    return Err(ConnectorError::internal(
                        "this worker already has its connector instance",
                    ));
                }
                self.instance = Some(plugin.create_instance(&config, self.services.clone())?);
                result(id, Ok(()))
            }
            M::TestConnection { .. } => result(id, self.instance()?.test_connection()),
            M::OpenImport {
                import_type,
                page_size,
                custom_data,
                partition,
                schema,
                ..
            } => {
                let request = plugin_api::model::OpenImportRequest {
                    import_type,
                    page_size,
                    custom_data,
                    partition,
                    schema,
                };
                result(id, self.instance()?.open_import(request))
            }
            M::GetImportPage { .. } => page(id, self.instance()?.get_import_page()?),
            M::CloseImport { reason, .. } => {
                result(id, self.instance()?.close_import(reason.into()))
            }
            M::OpenExport {
                batch_size,
                partition,
                schema,
                ..
            } => {
                let request = plugin_api::model::OpenExportRequest {
                    batch_size,
                    partition,
                    schema,
                };
                result(id, self.instance()?.open_export(request))
            }
            M::PutExportEntries { entries, .. } => {
                result(id, self.instance()?.put_export_entries(entries))
            }
            M::CloseExport { reason, .. } => {
                result(id, self.instance()?.close_export(reason.into()))
            }
            M::Export {
                batch_size,
                partition,
                schema,
                entries,
                ..
            } => {
                let schema = match schema {
                    Some(schema) => self.export_schema.insert(schema).clone(),
                    None => self.export_schema.clone().ok_or_else(|| {
                        ConnectorError::internal(
                            "an export without a schema came before any export with one",
                        )
                    })?,
                };
                let request = plugin_api::model::OpenExportRequest {
                    batch_size,
                    partition,
                    schema,
                };
                result(id, self.instance()?.export(request, entries))
            }
            M::SetPassword {
                target,
                password,
                options,
                ..
            } => result(
                id,
                self.instance()?
                    .set_password(target.into(), password.into(), options.into()),
            ),
            M::ChangePassword {
                target,
                old_password,
                new_password,
                ..
            } => result(
                id,
                self.instance()?.change_password(
                    target.into(),
                    old_password.into(),
                    new_password.into(),
                ),
            ),
            M::GetFullObjects { requests, .. } => {
                page(id, self.instance()?.get_full_objects(requests)?)
            }
        }
    }

    fn instance(&mut self) -> ConnectorResult<&mut (dyn ConnectorInstance + 'static)> {
        self.instance
            .as_deref_mut()
            .ok_or_else(|| ConnectorError::internal("an instance call came before create_instance"))
    }
}

fn result<T: serde::Serialize>(id: CallId, r: ConnectorResult<T>) -> ConnectorResult<Answer> {
    let value = serde_json::to_value(r?)
        .map_err(|e| ConnectorError::internal(format!("cannot encode the result: {e}")))?;
    Ok(Answer::Json(WorkerMessage::Result { id, value }))
}

/// A page for the pipe, in the bytes the connector wrote (no decoding, no packing again).
fn page(id: CallId, p: PackedImportPage) -> ConnectorResult<Answer> {
    // As the connector packed it: the host checks the page when it reads it, as it does a
    // page from a library it loaded itself.
    Ok(Answer::Page(PageFrame {
        id,
        entries: p.entries.len() as u32,
        more_to_import: p.more_to_import,
        custom_data: p.custom_data,
        bytes: p.entries.as_bytes().to_vec(),
    }))
}
