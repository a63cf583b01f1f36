//! A worker kept running: started on first use, restarted after it dies (with backoff), its
//! deaths logged and counted. The host side of one worker slot, used by `ProcessPlugin` for
//! module calls and by each `ProcessInstance`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use plugin_api::model::{
    ConfigParameters, ConnectorError, ConnectorInfo, ConnectorResult, CsEntryChange,
    OpenExportRequest,
};
use plugin_api::sdk::HostServices;

use super::messages::{CallId, Feature, HostMessage};
use super::process::{Ending, Lost, Reply, WorkerProcess, WorkerSpec};

/// The wait before the first restart after a death; it doubles with each death in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub struct Supervised {
    spec: Arc<WorkerSpec>,
    logs: HostServices,
    /// For an instance worker: the configuration `create_instance` is sent with after each
    /// start.
    instance: Option<ConfigParameters>,
    process: Option<WorkerProcess>,
    /// Whether the running worker has its instance.
    created: bool,
    /// Deaths since the last successful call.
    deaths: u32,
    not_before: Option<Instant>,
}

impl Supervised {
    pub fn new(
        spec: Arc<WorkerSpec>,
        logs: HostServices,
        instance: Option<ConfigParameters>,
    ) -> Self {
        Self {
            spec,
            logs,
            instance,
            process: None,
            created: false,
            deaths: 0,
            not_before: None,
        }
    }

    /// Starts the worker now (and creates its instance), so that setup reports a worker that
    /// cannot start, or a connector that refuses the configuration, at once.
    pub fn start(&mut self) -> ConnectorResult<&ConnectorInfo> {
        self.ready(&|| false)?;
        Ok(self.process.as_ref().expect("ready started it").info())
    }

    /// The pid of the running worker, if any.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(WorkerProcess::pid)
    }

    /// Whether the worker, started first when needed, announced `feature`.
    pub fn offers(
        &mut self,
        feature: Feature,
        cancelled: &dyn Fn() -> bool,
    ) -> ConnectorResult<bool> {
        self.ready(cancelled)?;
        Ok(self
            .process
            .as_ref()
            .expect("ready started it")
            .offers(feature))
    }

    /// One call, on a worker that is started (or restarted) first when needed.
    pub fn call(
        &mut self,
        build: impl FnOnce(CallId) -> HostMessage,
        cancelled: &dyn Fn() -> bool,
    ) -> ConnectorResult<Reply> {
        self.on_process(cancelled, |process| process.call(build, cancelled))
    }

    /// The `export` call (see [`WorkerProcess::export`]), like [`Self::call`].
    pub fn export(
        &mut self,
        request: OpenExportRequest,
        entries: Vec<CsEntryChange>,
        cancelled: &dyn Fn() -> bool,
    ) -> ConnectorResult<Reply> {
        self.on_process(cancelled, |process| {
            process.export(request, entries, cancelled)
        })
    }

    /// `f` on a worker that is started first when needed; a worker lost in it is handled
    /// (logged, counted, restarted later) and reported as the call's error.
    fn on_process(
        &mut self,
        cancelled: &dyn Fn() -> bool,
        f: impl FnOnce(&mut WorkerProcess) -> Result<Reply, Lost>,
    ) -> ConnectorResult<Reply> {
        self.ready(cancelled)?;
        let process = self.process.as_mut().expect("ready started it");
        match f(process) {
            Ok(Reply::Error(e)) => Err(e),
            Ok(reply) => {
                self.deaths = 0;
                Ok(reply)
            }
            Err(lost) => Err(self.lost(lost)),
        }
    }

    /// A running worker with its instance, or why there is none.
    fn ready(&mut self, cancelled: &dyn Fn() -> bool) -> ConnectorResult<()> {
        if let Some(process) = self.process.as_mut()
            && let Some(ending) = process.has_ended()
        {
            // Died between calls (a connector's own thread crashed it, say).
            self.lost(Lost::Ended(ending));
        }
        if self.process.is_none() {
            if let Some(at) = self.not_before
                && Instant::now() < at
            {
                let wait = at.saturating_duration_since(Instant::now());
                return Err(ConnectorError::connection(format!(
                    "the connector worker died and restarts in {:.1} s",
                    wait.as_secs_f64()
                )));
            }
            let process =
                WorkerProcess::start(&self.spec, self.logs.clone()).map_err(|reason| {
                    self.backoff();
                    ConnectorError::connection(reason)
                })?;
            tracing::debug!(app = %self.spec.app, connector = %self.spec.connector, pid = process.pid(), "connector worker started");
            self.process = Some(process);
            self.created = false;
        }
        if !self.created
            && let Some(config) = &self.instance
        {
            let config = config.clone();
            let process = self.process.as_mut().expect("started above");
            match process.call(|id| HostMessage::CreateInstance { id, config }, cancelled) {
                Ok(Reply::Value(_)) => self.created = true,
                Ok(Reply::Error(e)) => return Err(e),
                Ok(Reply::Page(_)) => {
                    return Err(self.lost(Lost::Broken(
                        "answered create_instance with an import page".into(),
                    )));
                }
                Err(lost) => return Err(self.lost(lost)),
            }
        }
        Ok(())
    }

    /// The worker is gone: log it, count it, wait before the next start, and say so to the
    /// caller (a retryable error: Entra gets a 503 with `Retry-After`).
    fn lost(&mut self, lost: Lost) -> ConnectorError {
        let pid = self.pid().unwrap_or(0);
        self.process = None;
        self.created = false;
        self.backoff();
        let (app, connector) = (&self.spec.app, &self.spec.connector);
        let (ending, error) = match lost {
            Lost::Ended(ending) => (
                ending,
                ConnectorError::connection(format!("the connector worker died: {ending}")),
            ),
            Lost::Broken(why) => (
                Ending::Protocol,
                ConnectorError::internal(format!("the connector worker broke the protocol: {why}")),
            ),
        };
        tracing::error!(app = %app, connector = %connector, pid, reason = ending.label(), "connector worker {ending}; the next call starts a new one");
        metrics::counter!(
            "ecma_worker_restarts_total",
            "app" => app.clone(),
            "reason" => ending.label()
        )
        .increment(1);
        error
    }

    fn backoff(&mut self) {
        let wait = FIRST_BACKOFF
            .saturating_mul(1u32 << self.deaths.min(16))
            .min(MAX_BACKOFF);
        self.deaths = self.deaths.saturating_add(1);
        self.not_before = Some(Instant::now() + wait);
    }
}
