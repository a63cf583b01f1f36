//! An application as the server sees it from the first second: registered with its endpoint
//! and token, then set up in the background (validation and schema discovery need the
//! target), retried with capped exponential backoff while the target cannot be reached, then
//! running. Until it runs, its endpoint answers 503 with `Retry-After` and the reason, so a
//! target that is down never keeps the port closed, never takes other applications down and
//! never drops its application for good.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::app::{AppError, Application};
use crate::config::{AppConfig, HostConfig, Secret};
use crate::plugins::PluginRegistry;

/// The first wait after a failed setup; it doubles up to the application's maximum.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// Where an application is in its life.
pub enum SlotState {
    /// The first setup attempt is running.
    Starting,
    /// The last setup attempt failed; the next one starts at `retry_at`.
    Retrying {
        reason: String,
        attempts: u32,
        retry_at: Instant,
    },
    /// The configuration cannot work as it is (its connector is not loaded); no retry.
    Failed { reason: String },
    /// Set up: imports and serves (it may still be running its first import).
    Running(Arc<Application>),
}

/// One configured application, whatever its state.
pub struct AppSlot {
    pub name: String,
    token: Secret,
    state: ArcSwap<SlotState>,
}

/// What `/readyz` and the SCIM endpoint say about an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppStatus {
    Starting,
    Retrying {
        reason: String,
        retry_in_secs: u64,
    },
    Failed {
        reason: String,
    },
    Importing,
    /// Set up, but the first import failed and is being retried.
    ImportRetrying {
        reason: String,
    },
    Ready,
}

impl AppStatus {
    /// One word for dashboards (`/readyz`'s `state`).
    pub fn label(&self) -> &'static str {
        match self {
            AppStatus::Starting => "starting",
            AppStatus::Retrying { .. } | AppStatus::ImportRetrying { .. } => "retrying",
            AppStatus::Failed { .. } => "failed",
            AppStatus::Importing => "importing",
            AppStatus::Ready => "ready",
        }
    }
    /// Why it is not ready, when there is a reason.
    pub fn reason(&self) -> Option<&str> {
        match self {
            AppStatus::Retrying { reason, .. }
            | AppStatus::ImportRetrying { reason }
            | AppStatus::Failed { reason } => Some(reason),
            _ => None,
        }
    }
}

impl AppSlot {
    /// A slot for a configuration whose token resolves (a token that does not is a
    /// configuration error, reported before anything starts).
    pub fn new(name: String, token: Secret) -> Self {
        Self {
            name,
            token,
            state: ArcSwap::from_pointee(SlotState::Starting),
        }
    }

    /// Constant-time comparison of a presented bearer token with this application's token.
    pub fn token_matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let a = presented.as_bytes();
        let b = self.token.expose().as_bytes();
        // Length is not secret (Microsoft requires >= 12); content is compared in constant time.
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }

    /// The application, once set up.
    pub fn app(&self) -> Option<Arc<Application>> {
        match &**self.state.load() {
            SlotState::Running(app) => Some(app.clone()),
            _ => None,
        }
    }

    pub fn status(&self) -> AppStatus {
        match &**self.state.load() {
            SlotState::Starting => AppStatus::Starting,
            SlotState::Retrying {
                reason, retry_at, ..
            } => AppStatus::Retrying {
                reason: reason.clone(),
                retry_in_secs: retry_at.saturating_duration_since(Instant::now()).as_secs(),
            },
            SlotState::Failed { reason } => AppStatus::Failed {
                reason: reason.clone(),
            },
            SlotState::Running(app) if app.is_ready() => AppStatus::Ready,
            SlotState::Running(app) => match app.last_error() {
                Some(reason) if !app.is_importing() => AppStatus::ImportRetrying { reason },
                _ => AppStatus::Importing,
            },
        }
    }

    fn set(&self, state: SlotState) {
        self.state.store(Arc::new(state));
    }
}

/// What a supervisor needs to set an application up.
pub struct SetupContext {
    pub config: AppConfig,
    pub host: HostConfig,
    pub registry: Arc<PluginRegistry>,
    pub base_url: String,
}

/// Sets the application up, retrying with capped exponential backoff until it works (or its
/// connector turns out not to be loaded), then runs its autosync until shutdown.
pub async fn supervise(
    slot: Arc<AppSlot>,
    ctx: SetupContext,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let ctx = Arc::new(ctx);
    let max_wait = Duration::from_secs(ctx.config.setup_retry_max_secs.max(1));
    let mut wait = FIRST_RETRY.min(max_wait);
    let mut attempts = 0u32;
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(reason) = ctx.registry.can_launch(&ctx.config.launch(&ctx.host)) {
            tracing::error!(app = %slot.name, "application not started: {reason}");
            slot.set(SlotState::Failed { reason });
            return;
        }
        attempts += 1;
        let attempt = ctx.clone();
        // Setup calls the connector (validation, schema), which may block for as long as
        // the target takes to refuse: on a blocking thread, never on the reactor.
        let built = tokio::task::spawn_blocking(move || {
            Application::new(
                &attempt.config,
                &attempt.host,
                &attempt.registry,
                &attempt.base_url,
            )
        })
        .await;
        let failure = match built {
            Ok(Ok(app)) => {
                let app = Arc::new(app);
                if attempts > 1 {
                    tracing::info!(app = %slot.name, attempts, "application set up after retries");
                }
                slot.set(SlotState::Running(app.clone()));
                app.autosync(shutdown).await;
                return;
            }
            Ok(Err(e)) => setup_reason(&e),
            Err(e) => format!("the setup task failed: {e}"),
        };
        tracing::warn!(
            app = %slot.name,
            attempts,
            retry_in_secs = wait.as_secs(),
            "cannot set the application up yet; retrying: {failure}"
        );
        metrics::counter!("ecma_app_setup_failures_total", "app" => slot.name.clone()).increment(1);
        slot.set(SlotState::Retrying {
            reason: failure,
            attempts,
            retry_at: Instant::now() + wait,
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        wait = (wait * 2).min(max_wait);
    }
}

/// The reason without the `app 'x':` prefix the slot already carries.
fn setup_reason(e: &AppError) -> String {
    match e {
        AppError::Setup { message, .. } => message.clone(),
        AppError::Connector { source, .. } => {
            format!("cannot reach the target: {}", source.message)
        }
    }
}
