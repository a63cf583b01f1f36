//! The command line: `ecma-host <command>`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
pub use crate::diagnose::about::version_text;
pub use crate::diagnose::plugins::render_plugin_list;
pub use crate::logging::{init_logging, init_logging_with};
use crate::plugins::PluginRegistry;
use crate::runtime::{ServeOptions, base_url, build_slots, start};

/// A cross-platform ECMA Connector Host: serves SCIM 2.0 to Microsoft Entra provisioning and
/// drives connector plugins that talk to the target systems.
#[derive(Debug, Parser)]
#[command(name = "ecma-host", version = version_text(), propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the connector plugins found in plugin folders and the files that failed to load.
    Plugins {
        /// A folder to scan for plugin libraries (repeatable). Default: $ECMA_HOST_PLUGINS_DIR or ./plugins.
        #[arg(long = "dir", value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// A plugin library file to load (repeatable).
        #[arg(long = "file", value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Also log loading details to stderr.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Run the host: import every application into its cache and serve SCIM over HTTPS.
    Serve {
        #[arg(long, short, env = "ECMA_HOST_CONFIG", value_name = "FILE")]
        config: PathBuf,
        /// Serve plain HTTP instead of HTTPS (local testing only; Entra requires HTTPS).
        /// Refused unless the listen address is a loopback one.
        #[arg(long)]
        insecure_http: bool,
        /// Allow --insecure-http on an address other machines reach: bearer tokens and
        /// personal data cross the network unencrypted.
        #[arg(long, requires = "insecure_http")]
        insecure_http_on_network: bool,
        /// The read-only status page: a loopback address and port, or "off"
        /// (default 127.0.0.1:8586; skipped with a warning when that port is taken).
        #[arg(long, value_name = "ADDR|off")]
        status_page: Option<String>,
    },
    /// Show what the running host's applications are doing: state, cache sizes, last imports
    /// and their changes, watermarks, next autosync, exports since start.
    Status {
        /// Only this application.
        app: Option<String>,
        #[arg(long, short, env = "ECMA_HOST_CONFIG", value_name = "FILE")]
        config: PathBuf,
        /// JSON for scripts (fields are only ever added).
        #[arg(long)]
        json: bool,
    },
    /// Validate the configuration file and each application's parameters with its connector.
    CheckConfig {
        /// The configuration file (or --config; default: $ECMA_HOST_CONFIG, else
        /// /etc/ecma-host/ecma-host.toml).
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        #[arg(long, short, env = "ECMA_HOST_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Write one archive (tar.gz) to attach to a support request: version, the configuration
    /// with its secrets removed, plugins, what the running host reports, recent log lines,
    /// certificate expiry.
    Diagnose {
        /// The configuration file (default: $ECMA_HOST_CONFIG, else /etc/ecma-host/ecma-host.toml).
        #[arg(long, short, env = "ECMA_HOST_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
        /// The archive to write (default: ecma-host-diagnose-HOST-TIME.tar.gz here).
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The host's log file, when it logs to one (default: the systemd journal's
        /// ecma-host.service, when journalctl is there).
        #[arg(long, value_name = "FILE")]
        log_file: Option<PathBuf>,
        /// How many of the last log lines to include.
        #[arg(long, default_value_t = 500, value_name = "N")]
        log_lines: usize,
    },
    /// Do what Entra's "Test connection" does, against the running host.
    TestConnection {
        /// The application name.
        app: String,
        #[arg(long, short, env = "ECMA_HOST_CONFIG", value_name = "FILE")]
        config: PathBuf,
        /// Base URL of the running host (default: https://localhost:PORT).
        #[arg(long)]
        url: Option<String>,
        /// CA certificate to trust (default: the generated certificate in the state directory).
        #[arg(long, value_name = "PEM")]
        ca: Option<PathBuf>,
    },
    /// Import one application now on the running host (its cache changes); waits while
    /// another import of the application runs. With --offline: in this process, without a host.
    Import {
        app: String,
        #[arg(long, short, env = "ECMA_HOST_CONFIG", value_name = "FILE")]
        config: PathBuf,
        /// Force a full import.
        #[arg(long, conflicts_with = "delta")]
        full: bool,
        /// Force a delta import (fails when no watermark exists).
        #[arg(long)]
        delta: bool,
        /// Read everything but change no cache and no watermark.
        #[arg(long)]
        dry_run: bool,
        /// Import in this process, with a cache of its own that ends with it: it does not
        /// touch a running host (and refuses to run while one owns the state directory).
        #[arg(long)]
        offline: bool,
    },
    /// Generate the self-signed TLS certificate in the state directory.
    GenCert {
        #[arg(long, default_value = "state", value_name = "DIR")]
        state_dir: PathBuf,
        /// Host name for the certificate (default: this machine's name).
        #[arg(long)]
        hostname: Option<String>,
        /// Replace an existing certificate.
        #[arg(long)]
        force: bool,
    },
    /// Show a connector's parameter pages and, with an application's configuration, the
    /// object types and attributes it discovers (what Microsoft's wizard shows).
    Describe {
        /// The connector's name (as listed by `ecma-host plugins`).
        connector: String,
        /// A configuration with an application on this connector: its parameters fill the
        /// pages and the connector reads the target's schema.
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The application (default: the configuration's one application on this connector).
        #[arg(long, requires = "config")]
        app: Option<String>,
        /// Without --config: a folder to scan for plugins (repeatable; default as `plugins`).
        #[arg(long = "dir", value_name = "DIR", conflicts_with = "config")]
        dirs: Vec<PathBuf>,
        /// Without --config: a plugin library file (repeatable).
        #[arg(long = "file", value_name = "FILE", conflicts_with = "config")]
        files: Vec<PathBuf>,
    },
    /// Generate a standalone connector crate: it builds outside this repository, and its test
    /// runs the connector kit.
    NewConnector {
        /// The connector's name (the crate is called after it).
        name: String,
        /// Where to create the crate's folder.
        #[arg(long, default_value = ".", value_name = "DIR")]
        dir: PathBuf,
    },
    /// Translate a Microsoft ECMA2Host configuration export (the wizard's XML) into an
    /// ecma-host configuration, with a report of what could not be carried.
    Migrate {
        /// The exported XML file.
        file: PathBuf,
        #[arg(long, default_value = "ecma-host.toml", value_name = "FILE")]
        out: PathBuf,
        #[arg(long, default_value = "migrate-report.md", value_name = "FILE")]
        report: PathBuf,
        /// Replace the output files when they exist.
        #[arg(long)]
        force: bool,
    },
    /// Start a demo: a host with sample users in an embedded database, printing the URL and token.
    Demo {
        /// Folder for the demo's data, configuration and state.
        #[arg(long, default_value = "ecma-host-demo", value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, default_value_t = 8585)]
        port: u16,
        /// Set up the demo and print how to start it, without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Serve one plugin library over the worker protocol on stdin/stdout (the host starts
    /// this for applications with `isolation = "process"`; not for people).
    #[command(hide = true)]
    Worker {
        /// The connector library.
        #[arg(long, value_name = "FILE")]
        plugin: PathBuf,
        /// The host's `allow_insecure_plugin_paths`.
        #[arg(long)]
        allow_insecure_plugin_paths: bool,
    },
}

/// Where the package puts the configuration (the default of `check-config` and `diagnose`).
pub const DEFAULT_CONFIG: &str = "/etc/ecma-host/ecma-host.toml";

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plugins {
            dirs,
            files,
            verbose,
        } => {
            init_logging(if verbose { "debug" } else { "off" });
            let dirs = if dirs.is_empty() && files.is_empty() {
                vec![default_plugins_dir()]
            } else {
                dirs
            };
            let registry = PluginRegistry::discover(&dirs, &files);
            print!("{}", render_plugin_list(&registry));
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            config,
            insecure_http,
            insecure_http_on_network,
            status_page,
        } => serve(
            &config,
            &ServeOptions {
                insecure_http,
                insecure_http_on_network,
                status_page,
            },
        ),
        Command::Status { app, config, json } => status(&config, app.as_deref(), json),
        Command::CheckConfig { file, config } => crate::check_config::check_config(
            &file
                .or(config)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG)),
        ),
        Command::Diagnose {
            config,
            out,
            log_file,
            log_lines,
        } => {
            init_logging("off");
            let written = crate::diagnose::run(&crate::diagnose::Request {
                config: config.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG)),
                out,
                log_file,
                log_lines,
            })?;
            println!("{}", written.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::TestConnection {
            app,
            config,
            url,
            ca,
        } => test_connection(&app, &config, url, ca),
        Command::Import {
            app,
            config,
            full,
            delta,
            dry_run,
            offline,
        } => {
            let mode = if full {
                crate::app::ImportMode::Full
            } else if delta {
                crate::app::ImportMode::Delta
            } else {
                crate::app::ImportMode::Auto
            };
            if offline {
                import(&app, &config, mode, dry_run)
            } else {
                import_on_host(&app, &config, mode, dry_run)
            }
        }
        Command::GenCert {
            state_dir,
            hostname,
            force,
        } => gen_cert(&state_dir, hostname, force),
        Command::Describe {
            connector,
            config,
            app,
            dirs,
            files,
        } => describe(&connector, config.as_deref(), app.as_deref(), dirs, files),
        Command::Migrate {
            file,
            out,
            report,
            force,
        } => migrate(&file, &out, &report, force),
        Command::NewConnector { name, dir } => {
            let root = crate::new_connector::new_connector(&name, &dir)?;
            println!("created {}", root.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker {
            plugin,
            allow_insecure_plugin_paths,
        } => {
            // Plain lines on stderr, which the host logs (at warn) under the application's
            // name with its own time stamps: warnings and errors only, since the environment
            // is cleared and RUST_LOG is not seen.
            let _ = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::WARN)
                .without_time()
                .with_ansi(false)
                .with_target(false)
                .with_writer(std::io::stderr)
                .try_init();
            Ok(crate::worker::serve(
                &plugin,
                crate::plugins::PathPolicy::from_allow_insecure(allow_insecure_plugin_paths),
            ))
        }
        Command::Demo {
            dir,
            port,
            no_serve,
        } => match crate::demo::run(&dir, port, no_serve)? {
            Some(config) => serve(&config, &ServeOptions::default()),
            None => Ok(ExitCode::SUCCESS),
        },
    }
}

fn load_config(path: &std::path::Path) -> anyhow::Result<Config> {
    Config::load(path).with_context(|| format!("configuration {}", path.display()))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// How long shutdown waits for connector threads once the server has stopped.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// `ecma-host serve`.
pub fn serve(path: &std::path::Path, options: &ServeOptions) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    init_logging_with(&config.host.log_level, config.host.log_format);
    for warning in config.secret_file_warnings() {
        tracing::warn!("{warning}");
    }
    let registry = Arc::new(config.host.plugin_registry());
    let scheme = if options.insecure_http {
        "http"
    } else {
        "https"
    };
    let slots = build_slots(&config).map_err(|errors| {
        anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    if slots.is_empty() {
        anyhow::bail!("no application could be started (none configured)");
    }
    // Nothing to serve at all: every application names a connector that is not loaded.
    if config
        .apps
        .iter()
        .all(|a| registry.get(&a.connector).is_none())
    {
        let reasons: Vec<String> = config
            .apps
            .iter()
            .map(|a| format!("app '{}': {}", a.name, registry.not_loaded(&a.connector)))
            .collect();
        anyhow::bail!("no application could be started: {}", reasons.join("; "));
    }
    for name in slots.keys() {
        tracing::info!(app = %name, url = %base_url(&config, scheme, name), "application endpoint");
    }
    let rt = runtime()?;
    let result = rt.block_on(async {
        let host = start(&config, slots, registry, options).await?;
        host.wait().await
    });
    // A connector call stuck in a hung target holds a blocking thread that may never return;
    // dropping the runtime would wait for it forever. Shutdown is bounded instead.
    rt.shutdown_timeout(SHUTDOWN_GRACE);
    result.context("the host stopped with an error")?;
    Ok(ExitCode::SUCCESS)
}

/// `ecma-host test-connection APP`: the request Entra's test sends.
pub fn test_connection(
    app: &str,
    path: &std::path::Path,
    url: Option<String>,
    ca: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    let app_cfg = config
        .apps
        .iter()
        .find(|a| a.name == app)
        .with_context(|| format!("no application named '{app}' in {}", path.display()))?;
    let token = crate::config::resolve_token(app_cfg)?;
    let base = url.unwrap_or_else(|| format!("https://localhost:{}", config.host.port));
    // Plain HTTP (a host started with --insecure-http) has no certificate to trust.
    let ca = match ca {
        Some(ca) => Some(ca),
        None if base.starts_with("http://") => None,
        None => Some(crate::tls::generated_paths(&config.host.state_dir).0),
    };
    let filter_attr = app_cfg
        .object_types
        .iter()
        .find(|o| o.scim == crate::config::ScimKind::User)
        .and_then(|o| o.query_attributes.first().cloned())
        .unwrap_or_else(|| "PLACEHOLDER".to_owned());
    let probe = uuid::Uuid::new_v4();
    let target = format!(
        "{}/ecma2host_{app}/scim/Users?filter={filter_attr}+eq+%22{probe}%22",
        base.trim_end_matches('/')
    );
    let outcome = crate::probe::get(&target, token.expose(), ca.as_deref())?;
    println!("GET {target}\n-> {} {}", outcome.status, outcome.body);
    let ok = outcome.status == 200
        && serde_json::from_str::<serde_json::Value>(&outcome.body)
            .ok()
            .and_then(|v| v.get("totalResults").and_then(|t| t.as_u64()))
            .is_some();
    println!(
        "{}",
        if ok {
            "test connection: OK"
        } else {
            "test connection: FAILED"
        }
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Said when no host runs: how to import without one.
const OFFLINE_HINT: &str = ", or import without it with `ecma-host import APP --offline` (a cache of its own that ends with the command)";

/// `ecma-host status [APP]`: asks the running host.
pub fn status(path: &std::path::Path, app: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    let client = crate::admin::client::AdminClient::new(&config.host.state_dir, "");
    let report = runtime()?.block_on(client.status(app))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::admin::text::render(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// `ecma-host import APP`: the running host imports into its own cache; the progress shown
/// is what it reports while it reads.
pub fn import_on_host(
    app: &str,
    path: &std::path::Path,
    mode: crate::app::ImportMode,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    use crate::admin::api::ImportKind;
    let config = load_config(path)?;
    let client = Arc::new(crate::admin::client::AdminClient::new(
        &config.host.state_dir,
        OFFLINE_HINT,
    ));
    let kind = match mode {
        crate::app::ImportMode::Auto => ImportKind::Auto,
        crate::app::ImportMode::Full => ImportKind::Full,
        crate::app::ImportMode::Delta => ImportKind::Delta,
    };
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        // Also the check that a host runs and has the application, before any waiting.
        let before = client.status(Some(app)).await?;
        if before.applications.first().is_some_and(|a| a.importing) {
            eprintln!("an import of '{app}' is running on the host; this one starts when it ends");
        }
        let bar = spinner();
        let poller = {
            let (client, bar, app) = (client.clone(), bar.clone(), app.to_owned());
            tokio::spawn(async move {
                loop {
                    if let Ok(r) = client.status(Some(&app)).await
                        && let Some(read) = r.applications.first().and_then(|a| a.objects_read)
                    {
                        bar.set_message(format!("{read} objects read"));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                }
            })
        };
        let outcome = client.import(app, kind, dry_run).await;
        poller.abort();
        bar.finish_and_clear();
        outcome
    })?;
    println!("{}", crate::admin::text::import_outcome(&outcome));
    Ok(ExitCode::SUCCESS)
}

/// The progress display of an import (hidden when stderr is not a terminal).
fn spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("importing");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// `ecma-host import APP --offline`.
pub fn import(
    app: &str,
    path: &std::path::Path,
    mode: crate::app::ImportMode,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let config = load_config(path)?;
    init_logging("warn");
    eprintln!("offline import: in this process only; a running host's cache is not touched");
    // The import writes watermarks: not while a running host owns the state directory.
    let _state_lock = crate::state::StateLock::acquire(&config.host.state_dir)?;
    let registry = config.host.plugin_registry();
    let app_cfg = config
        .apps
        .iter()
        .find(|a| a.name == app)
        .with_context(|| format!("no application named '{app}'"))?;
    let application = std::sync::Arc::new(crate::app::Application::new(
        app_cfg,
        &config.host,
        &registry,
        &base_url(&config, "https", app),
    )?);
    let bar = spinner();
    let progress = application.clone();
    let ticker_bar = bar.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_ticker = stop.clone();
    let ticker = std::thread::spawn(move || {
        while !stop_ticker.load(std::sync::atomic::Ordering::Relaxed) {
            ticker_bar.set_message(format!("{} objects read", progress.progress()));
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    });
    let rt = runtime()?;
    let result = rt.block_on(application.import(mode, dry_run));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = ticker.join();
    bar.finish_and_clear();
    let summary = result?;
    let report = crate::admin::report::ImportReport::from(&crate::app::ImportRecord::of(
        String::new(),
        &summary,
        None,
    ));
    println!(
        "{} import of '{app}'{}: {}, {} ms",
        if summary.full { "full" } else { "delta" },
        if dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        },
        crate::admin::text::counts(&report),
        summary.millis
    );
    Ok(ExitCode::SUCCESS)
}

/// `ecma-host describe CONNECTOR`.
pub fn describe(
    connector: &str,
    config: Option<&std::path::Path>,
    app: Option<&str>,
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
) -> anyhow::Result<ExitCode> {
    init_logging("warn");
    let config = config.map(load_config).transpose()?;
    let registry = match &config {
        Some(c) => c.host.plugin_registry(),
        None if dirs.is_empty() && files.is_empty() => {
            PluginRegistry::discover(&[default_plugins_dir()], &[])
        }
        None => PluginRegistry::discover(&dirs, &files),
    };
    let plugin = registry
        .get(connector)
        .with_context(|| registry.not_loaded(connector))?;
    let plugin = plugin.plugin.as_ref();
    let Some(config) = config else {
        let params = plugin_api::model::ConfigParameters::new();
        print!(
            "{}",
            crate::describe::render_pages(&crate::describe::pages(plugin, &params))
        );
        return Ok(ExitCode::SUCCESS);
    };
    let mut on_connector = config.apps.iter().filter(|a| a.connector == connector);
    let app_cfg = match app {
        Some(name) => config
            .apps
            .iter()
            .find(|a| a.name == name)
            .with_context(|| format!("no application named '{name}'"))?,
        None => {
            let first = on_connector
                .next()
                .with_context(|| format!("no application uses connector '{connector}'"))?;
            anyhow::ensure!(
                on_connector.next().is_none(),
                "several applications use connector '{connector}': name one with --app"
            );
            first
        }
    };
    anyhow::ensure!(
        app_cfg.connector == connector,
        "application '{}' uses connector '{}', not '{connector}'",
        app_cfg.name,
        app_cfg.connector
    );
    let params = match crate::app::validate_with_connector(
        app_cfg,
        plugin,
        crate::app::Validation::AllProblems,
    ) {
        Ok(p) => p,
        Err(problems) => {
            for p in problems {
                println!("{p}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    print!(
        "{}",
        crate::describe::render_pages(&crate::describe::pages(plugin, &params))
    );
    let schema = plugin.schema(&params).map_err(|e| {
        anyhow::anyhow!(
            "app '{}': reading the schema failed: {}",
            app_cfg.name,
            e.message
        )
    })?;
    println!("Schema discovered for application '{}':\n", app_cfg.name);
    print!("{}", crate::describe::render_schema(&schema));
    Ok(ExitCode::SUCCESS)
}

/// `ecma-host migrate`.
pub fn migrate(
    file: &std::path::Path,
    out: &std::path::Path,
    report: &std::path::Path,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let m = crate::migrate::migrate_file(file, out, report, force)?;
    let carried = m.apps.iter().filter(|a| a.connector.is_some()).count();
    let attention: usize = m.apps.iter().map(|a| a.notes.len() + a.unknown.len()).sum();
    println!(
        "{}: {carried} of {} connector(s) carried\nwrote {} and {} ({attention} item(s) to review)",
        file.display(),
        m.apps.len(),
        out.display(),
        report.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `ecma-host gen-cert`.
pub fn gen_cert(
    state_dir: &std::path::Path,
    hostname: Option<String>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let (cert, _) = crate::tls::generated_paths(state_dir);
    if cert.exists() && !force {
        anyhow::bail!("{} exists; use --force to replace it", cert.display());
    }
    let host = hostname.unwrap_or_else(crate::tls::hostname);
    let (cert, key) = crate::tls::generate_self_signed(state_dir, &host)?;
    println!(
        "certificate: {}\nkey:         {}\nvalid for two years for {host}, localhost, 127.0.0.1",
        cert.display(),
        key.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn default_plugins_dir() -> PathBuf {
    std::env::var_os("ECMA_HOST_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_PLUGINS_DIR))
}
