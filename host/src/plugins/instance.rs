//! One connector instance as the host calls it: created lazily from a configuration, called
//! on tokio's blocking pool one call at a time (an ECMA2 instance is single-threaded), and
//! watched.
//!
//! The watchdog: every call has a time limit by kind ([`CallLimits`]). A call that outlives it
//! is answered with a retryable Connection error (503 + `Retry-After` for SCIM requests), its
//! instance is poisoned and abandoned to the thread that is stuck in it (that thread drops it
//! whenever, if ever, the call returns), and the next call gets a fresh instance. Nothing
//! waits for a stuck thread: not later calls, not other applications, not shutdown. A panic
//! also drops the instance; the next call creates a new one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use plugin_api::host::{ConnectorInstance, ConnectorPlugin};
use plugin_api::model::{ConfigParameters, ConnectorError, ConnectorResult, ErrorKind};
use plugin_api::sdk::HostServices;
use tokio::sync::Semaphore;

use super::callbacks::TracingHost;

/// What a connector call does, for its time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// Opening, reading a page of, or closing an import.
    Import,
    /// One export (open, put, close).
    Export,
    /// Setting or changing a password.
    Password,
    /// Test connection and other short checks.
    Check,
}

impl CallKind {
    /// Its name in metrics.
    pub fn label(self) -> &'static str {
        match self {
            CallKind::Import => "import",
            CallKind::Export => "export",
            CallKind::Password => "password",
            CallKind::Check => "check",
        }
    }
}

/// Time limits per kind of call. Defaults sit well below Entra's 60 s per request, so a hung
/// target gives Entra a 503 it retries, never a timeout of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    pub import: Duration,
    pub export: Duration,
    pub password: Duration,
    pub check: Duration,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self {
            import: Duration::from_secs(45),
            export: Duration::from_secs(25),
            password: Duration::from_secs(25),
            check: Duration::from_secs(20),
        }
    }
}

impl CallLimits {
    pub fn of(&self, kind: CallKind) -> Duration {
        match kind {
            CallKind::Import => self.import,
            CallKind::Export => self.export,
            CallKind::Password => self.password,
            CallKind::Check => self.check,
        }
    }
}

/// One instance and the flag its calls see as `HostServices::is_cancelled`. Replaced whole
/// when a call hangs: the stuck thread keeps the old one.
struct Generation {
    instance: Mutex<Option<Box<dyn ConnectorInstance>>>,
    cancelled: Arc<AtomicBool>,
    services: HostServices,
}

impl Generation {
    fn new(connector: &str, application: &str, cancelled: bool) -> Arc<Self> {
        let cancelled = Arc::new(AtomicBool::new(cancelled));
        let services = HostServices::new(Arc::new(TracingHost {
            connector: connector.to_owned(),
            application: application.to_owned(),
            cancelled: cancelled.clone(),
        }));
        Arc::new(Self {
            instance: Mutex::new(None),
            cancelled,
            services,
        })
    }
}

struct Shared {
    plugin: Arc<dyn ConnectorPlugin>,
    config: ConfigParameters,
    application: String,
    connector: String,
    limits: CallLimits,
    /// One call at a time; waiting callers wait here, not on the blocking pool.
    limit: Semaphore,
    current: Mutex<Arc<Generation>>,
    /// Set by [`ManagedInstance::cancel`]: calls of later generations start cancelled too.
    cancelled: AtomicBool,
}

/// What to do when an abandoned call returns after all ([`ManagedInstance::call_noting_late_return`]).
pub type LateReturn = Box<dyn FnOnce() + Send>;

/// A connector instance the host calls; cheap to clone (clones share the instance).
#[derive(Clone)]
pub struct ManagedInstance {
    shared: Arc<Shared>,
}

impl ManagedInstance {
    pub fn new(
        plugin: Arc<dyn ConnectorPlugin>,
        config: ConfigParameters,
        application: &str,
        limits: CallLimits,
    ) -> Self {
        let connector = plugin.info().name.clone();
        let current = Mutex::new(Generation::new(&connector, application, false));
        Self {
            shared: Arc::new(Shared {
                plugin,
                config,
                application: application.to_owned(),
                connector,
                limits,
                limit: Semaphore::new(1),
                current,
                cancelled: AtomicBool::new(false),
            }),
        }
    }

    fn generation(&self) -> Arc<Generation> {
        self.shared
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks running and future calls to stop (they see `HostServices::is_cancelled`).
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::Relaxed);
        self.generation().cancelled.store(true, Ordering::Relaxed);
    }

    /// Runs `f` on the instance on a blocking thread, within the time limit of `kind`.
    pub async fn call<R, F>(&self, kind: CallKind, f: F) -> ConnectorResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn ConnectorInstance) -> ConnectorResult<R> + Send + 'static,
    {
        self.call_noting_late_return(kind, f, None).await
    }

    /// [`Self::call`], and `late` runs if the call was abandoned (its time limit passed, or
    /// the instance was cancelled) and its thread returns after all: whatever the call did
    /// to the target is done by then. An export abandoned while the target was frozen may
    /// still land when the target resumes, after the host re-read the object and found it
    /// unchanged; `late` lets the caller read it again then.
    pub async fn call_noting_late_return<R, F>(
        &self,
        kind: CallKind,
        f: F,
        late: Option<LateReturn>,
    ) -> ConnectorResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn ConnectorInstance) -> ConnectorResult<R> + Send + 'static,
    {
        let _permit = self
            .shared
            .limit
            .acquire()
            .await
            .map_err(|_| ConnectorError::internal("connector instance closed"))?;
        let generation = self.generation();
        let this = self.clone();
        let running = generation.clone();
        let task = tokio::task::spawn_blocking(move || {
            // The connector's own time, apart from the host's: what a slow target costs.
            let started = std::time::Instant::now();
            let result = this.run_on(&running, f);
            metrics::histogram!(
                "ecma_connector_call_duration_seconds",
                "app" => this.shared.application.clone(),
                "kind" => kind.label()
            )
            .record(started.elapsed().as_secs_f64());
            if running.cancelled.load(Ordering::Relaxed)
                && let Some(late) = late
            {
                late();
            }
            result
        });
        let limit = self.shared.limits.of(kind);
        match tokio::time::timeout(limit, task).await {
            Ok(Ok(r)) => r,
            // The plugin's own panics are caught inside the plugin; this is a host-side bug.
            Ok(Err(e)) => Err(ConnectorError::new(
                ErrorKind::Panicked,
                format!("connector call failed: {e}"),
            )),
            Err(_) => Err(self.abandon(&generation, kind, limit)),
        }
    }

    /// Runs `f` on the calling thread (which must be allowed to block), without a time limit.
    pub fn call_blocking<R>(
        &self,
        f: impl FnOnce(&mut dyn ConnectorInstance) -> ConnectorResult<R>,
    ) -> ConnectorResult<R> {
        self.run_on(&self.generation(), f)
    }

    fn run_on<R>(
        &self,
        generation: &Generation,
        f: impl FnOnce(&mut dyn ConnectorInstance) -> ConnectorResult<R>,
    ) -> ConnectorResult<R> {
        let mut slot = generation
            .instance
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(
                self.shared
                    .plugin
                    .create_instance(&self.shared.config, generation.services.clone())?,
            );
        }
        let instance = slot.as_mut().expect("instance was just created");
        let result = f(instance.as_mut());
        if let Err(e) = &result
            && e.kind == ErrorKind::Panicked
        {
            tracing::error!(
                app = %self.shared.application,
                connector = %self.shared.connector,
                "connector panicked, recreating the instance: {}",
                e.message
            );
            *slot = None;
        }
        result
    }

    /// A call outlived its limit: leave its instance to the stuck thread and start afresh.
    fn abandon(&self, stuck: &Arc<Generation>, kind: CallKind, limit: Duration) -> ConnectorError {
        stuck.cancelled.store(true, Ordering::Relaxed);
        {
            let mut current = self
                .shared
                .current
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if Arc::ptr_eq(&current, stuck) {
                *current = Generation::new(
                    &self.shared.connector,
                    &self.shared.application,
                    self.shared.cancelled.load(Ordering::Relaxed),
                );
            }
        }
        metrics::counter!(
            "ecma_connector_abandoned_calls_total",
            "app" => self.shared.application.clone(),
            "kind" => format!("{kind:?}")
        )
        .increment(1);
        tracing::error!(
            app = %self.shared.application,
            connector = %self.shared.connector,
            ?kind,
            limit_secs = limit.as_secs_f64(),
            "connector call did not return in time; its thread is abandoned and the instance replaced"
        );
        ConnectorError::connection(format!(
            "the connector did not answer within {} s ({kind:?} call); the call was abandoned and the connector instance replaced",
            limit.as_secs_f64()
        ))
    }

    /// Drops the instance (closing its connections) unless a call is using it, in which case
    /// the call's thread drops it when it returns; never waits. A later call creates a new one.
    pub fn close(&self) {
        let fresh = Generation::new(
            &self.shared.connector,
            &self.shared.application,
            self.shared.cancelled.load(Ordering::Relaxed),
        );
        let old = std::mem::replace(
            &mut *self
                .shared
                .current
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
            fresh,
        );
        if let Ok(mut slot) = old.instance.try_lock() {
            slot.take();
        }
    }

    pub fn plugin(&self) -> &Arc<dyn ConnectorPlugin> {
        &self.shared.plugin
    }
    pub fn config(&self) -> &ConfigParameters {
        &self.shared.config
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use plugin_api::host::InProcessPlugin;
    use plugin_api::prelude::*;

    use super::{CallKind, CallLimits, ManagedInstance};

    /// A connector that logs through the host and panics on demand.
    struct Chatty;

    impl Connector for Chatty {
        fn info() -> ConnectorInfo {
            ConnectorInfo {
                name: "chatty".into(),
                version: "1".into(),
                vendor: "tests".into(),
                description: String::new(),
                api_version: String::new(),
            }
        }
        fn schema(_: &ConfigParameters) -> ConnectorResult<Schema> {
            Ok(Schema::default())
        }
        fn create(_: &ConfigParameters, host: HostServices) -> ConnectorResult<Self> {
            host.warn("hello from inside the connector");
            Ok(Chatty)
        }
        fn test_connection(&mut self) -> ConnectorResult<()> {
            panic!("boom")
        }
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plugin_log_lines_reach_tracing_with_the_connector_name_and_panics_recreate() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let plugin = Arc::new(InProcessPlugin::<Chatty>::new().unwrap());
            let managed =
                ManagedInstance::new(plugin, ConfigParameters::new(), "hr", CallLimits::default());
            let err = managed.call_blocking(|i| i.test_connection()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Panicked);
            // The panicked instance was dropped: the next call creates (and logs) a new one.
            let _ = managed.call_blocking(|i| i.test_connection());
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let hellos: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("hello from inside the connector"))
            .collect();
        assert_eq!(hellos.len(), 2, "{text}");
        assert!(
            hellos[0].contains("WARN")
                && hellos[0].contains("connector=chatty")
                && hellos[0].contains("app=hr"),
            "{text}"
        );
        assert!(text.contains("recreating the instance"), "{text}");
    }

    static SLEEPY_INSTANCES: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);

    /// A connector whose first instance hangs in test_connection; later ones answer at once.
    struct Sleepy {
        number: usize,
    }

    impl Connector for Sleepy {
        fn info() -> ConnectorInfo {
            ConnectorInfo {
                name: "sleepy".into(),
                version: "1".into(),
                vendor: "tests".into(),
                description: String::new(),
                api_version: String::new(),
            }
        }
        fn schema(_: &ConfigParameters) -> ConnectorResult<Schema> {
            Ok(Schema::default())
        }
        fn create(_: &ConfigParameters, _: HostServices) -> ConnectorResult<Self> {
            let number = SLEEPY_INSTANCES.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            Ok(Sleepy { number })
        }
        fn test_connection(&mut self) -> ConnectorResult<()> {
            if self.number == 1 {
                std::thread::sleep(std::time::Duration::from_secs(3));
            }
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hung_call_is_abandoned_within_its_limit_and_the_next_call_gets_a_new_instance() {
        let plugin = Arc::new(InProcessPlugin::<Sleepy>::new().unwrap());
        let limits = CallLimits {
            check: std::time::Duration::from_millis(200),
            ..CallLimits::default()
        };
        let managed = ManagedInstance::new(plugin, ConfigParameters::new(), "hr", limits);
        let started = std::time::Instant::now();
        let err = managed
            .call(CallKind::Check, |i| i.test_connection())
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
        assert!(err.message.contains("did not answer"), "{}", err.message);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // The stuck thread still holds instance 1; this call runs on instance 2 at once.
        let started = std::time::Instant::now();
        managed
            .call(CallKind::Check, |i| i.test_connection())
            .await
            .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(
            SLEEPY_INSTANCES.load(std::sync::atomic::Ordering::SeqCst),
            2
        );
        // Closing never waits for a stuck call either.
        let started = std::time::Instant::now();
        managed.close();
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
    }

    /// A connector whose every check takes 600 ms.
    struct Slow;

    impl Connector for Slow {
        fn info() -> ConnectorInfo {
            ConnectorInfo {
                name: "slow".into(),
                version: "1".into(),
                vendor: "tests".into(),
                description: String::new(),
                api_version: String::new(),
            }
        }
        fn schema(_: &ConfigParameters) -> ConnectorResult<Schema> {
            Ok(Schema::default())
        }
        fn create(_: &ConfigParameters, _: HostServices) -> ConnectorResult<Self> {
            Ok(Slow)
        }
        fn test_connection(&mut self) -> ConnectorResult<()> {
            std::thread::sleep(std::time::Duration::from_millis(600));
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_call_that_returns_after_all_runs_its_late_hook() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let plugin = Arc::new(InProcessPlugin::<Slow>::new().unwrap());
        let limits = CallLimits {
            check: std::time::Duration::from_millis(100),
            ..CallLimits::default()
        };
        let managed = ManagedInstance::new(plugin.clone(), ConfigParameters::new(), "hr", limits);
        let late_returns = Arc::new(AtomicUsize::new(0));
        let hook = |n: &Arc<AtomicUsize>| -> super::LateReturn {
            let n = n.clone();
            Box::new(move || {
                n.fetch_add(1, Ordering::SeqCst);
            })
        };
        let err = managed
            .call_noting_late_return(
                CallKind::Check,
                |i| i.test_connection(),
                Some(hook(&late_returns)),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connection, "{err:?}");
        assert_eq!(late_returns.load(Ordering::SeqCst), 0, "still running");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while late_returns.load(Ordering::SeqCst) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the late hook never ran"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // A call that ends in time does not run it.
        let patient =
            ManagedInstance::new(plugin, ConfigParameters::new(), "hr", CallLimits::default());
        patient
            .call_noting_late_return(
                CallKind::Check,
                |i| i.test_connection(),
                Some(hook(&late_returns)),
            )
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(late_returns.load(Ordering::SeqCst), 1);
    }
}
