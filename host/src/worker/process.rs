//! One worker child process as the host sees it: spawning it with a clean environment, the
//! handshake, one call at a time over its pipes, its log lines, and how it ended.
//!
//! A thread per worker reads its stdout, so the calling thread never blocks in a read: it waits
//! on a channel in short steps, and can notice meanwhile that the host gave up on the call
//! (`HostServices::is_cancelled`), send `cancel`, and kill the worker when the call still runs
//! [`CANCEL_GRACE`] later. That is how the watchdog's abandoned call ends a hung worker instead
//! of leaving a thread stuck in it.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, BufWriter};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use plugin_api::model::{ConnectorInfo, CsEntryChange, LogLevel, OpenExportRequest, Schema};
use plugin_api::sdk::HostServices;

use super::framing::{Frame, PageFrame, read_frame, write_json};
use super::messages::{CallId, Feature, HostMessage, PROTOCOL_VERSION, WorkerMessage};

/// How long a call may go on after the host sent `cancel` before the worker is killed.
pub const CANCEL_GRACE: Duration = Duration::from_secs(2);
/// How long a new worker has to answer `hello` (it loads the connector first).
const HELLO_TIMEOUT: Duration = Duration::from_secs(20);
/// How often a waiting call looks at the cancellation flag.
const POLL: Duration = Duration::from_millis(25);
/// Variables a worker gets from the host's environment; everything else is left behind.
const PASSED_ENV: [&str; 8] = [
    "PATH",
    "LANG",
    "LC_ALL",
    "TZ",
    "HOME",
    "TMPDIR",
    "ODBCSYSINI",
    "ODBCINI",
];

/// What to run, and for whom (log lines and metrics carry the application).
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub app: String,
    /// The connector name the application configured: the worker must report it.
    pub connector: String,
}

impl WorkerSpec {
    /// The command line as one string, for messages.
    pub fn display(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Why a worker is gone: the label of `ecma_worker_restarts_total` and the log line's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Signal(i32),
    Exit(i32),
    /// Killed by the host after a cancelled call did not end.
    Hung,
    /// Killed by the host after it broke the protocol.
    Protocol,
}

impl Ending {
    fn of(status: ExitStatus) -> Self {
        match (status.signal(), status.code()) {
            (Some(sig), _) => Ending::Signal(sig),
            (None, Some(code)) => Ending::Exit(code),
            (None, None) => Ending::Exit(-1),
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Ending::Signal(_) => "signal",
            Ending::Exit(_) => "exit",
            Ending::Hung => "hung",
            Ending::Protocol => "protocol",
        }
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Signal(sig) => write!(f, "killed by signal {sig} ({})", signal_name(*sig)),
            Ending::Exit(code) => write!(f, "exited with status {code}"),
            Ending::Hung => write!(
                f,
                "killed by the host: a cancelled call did not end within {} s",
                CANCEL_GRACE.as_secs()
            ),
            Ending::Protocol => write!(f, "killed by the host: it broke the worker protocol"),
        }
    }
}

/// The usual names of the signals a crashing or killed process dies of (Linux numbering).
fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => "unknown signal",
    }
}

/// What the reader thread hands the calling thread.
enum Incoming {
    Message(WorkerMessage),
    Page(PageFrame),
    /// The worker broke the framing or sent JSON that is no message.
    Broken(String),
    /// stdout ended (the worker exited or closed it).
    Closed,
}

/// A call's answer.
pub enum Reply {
    Value(serde_json::Value),
    Page(PageFrame),
    Error(plugin_api::model::ConnectorError),
}

/// Why a call got no answer; the worker is gone (or must be) in every case.
pub enum Lost {
    Ended(Ending),
    /// The protocol was broken: what was wrong.
    Broken(String),
}

/// A running worker that has answered `hello`.
pub struct WorkerProcess {
    /// Always present; taken only by `drop`, which hands it to a reaper thread.
    child: Option<Child>,
    /// Buffered so that a frame leaves in one write: the worker's reader wakes once per frame,
    /// not once for the length and again for the body.
    stdin: Option<BufWriter<ChildStdin>>,
    incoming: Receiver<Incoming>,
    next_id: CallId,
    info: ConnectorInfo,
    /// What the worker announced in its `hello`.
    features: Vec<Feature>,
    /// The schema this worker holds for `export` calls that carry none: the last one it was
    /// sent in an `export` that it answered with a result. `None` after any other answer, so
    /// the next `export` sends its schema again whatever the worker did with the failed one.
    export_schema: Option<Schema>,
}

impl WorkerProcess {
    /// Starts the worker and shakes hands. Log messages go to `logs` from then on.
    pub fn start(spec: &WorkerSpec, logs: HostServices) -> Result<Self, String> {
        let mut command = Command::new(&spec.program);
        command
            .args(&spec.args)
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in PASSED_ENV {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start connector worker '{}': {e}", spec.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, incoming) = channel();
        let pid = child.id();
        spawn_reader(stdout, tx, logs, pid)?;
        spawn_stderr_logger(stderr, spec, pid)?;
        let mut worker = Self {
            stdin: child
                .stdin
                .take()
                .map(|s| BufWriter::with_capacity(64 * 1024, s)),
            child: Some(child),
            incoming,
            next_id: 1,
            info: ConnectorInfo {
                name: String::new(),
                version: String::new(),
                vendor: String::new(),
                description: String::new(),
                api_version: String::new(),
            },
            features: Vec::new(),
            export_schema: None,
        };
        match worker.handshake(spec) {
            Ok((info, features)) => {
                worker.info = info;
                worker.features = features;
                Ok(worker)
            }
            Err(reason) => {
                worker.kill();
                Err(reason)
            }
        }
    }

    fn handshake(&mut self, spec: &WorkerSpec) -> Result<(ConnectorInfo, Vec<Feature>), String> {
        let hello = HostMessage::Hello {
            protocol: PROTOCOL_VERSION,
            host: format!("ecma-host {}", env!("CARGO_PKG_VERSION")),
        };
        let who = format!("connector worker '{}'", spec.display());
        if self.send(&hello).is_err() {
            return Err(format!(
                "{who} exited before the handshake: {}",
                self.ended()
            ));
        }
        let answer = match self.incoming.recv_timeout(HELLO_TIMEOUT) {
            Ok(Incoming::Message(m)) => m,
            Ok(Incoming::Page(_)) => {
                return Err(format!("{who} answered the handshake with an import page"));
            }
            Ok(Incoming::Broken(why)) => {
                return Err(format!("{who} broke the protocol in its handshake: {why}"));
            }
            Ok(Incoming::Closed) | Err(RecvTimeoutError::Disconnected) => {
                return Err(format!(
                    "{who} exited before the handshake: {}",
                    self.ended()
                ));
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "{who} did not answer the handshake within {} s",
                    HELLO_TIMEOUT.as_secs()
                ));
            }
        };
        let WorkerMessage::Hello {
            protocol,
            connector,
            error,
            features,
        } = answer
        else {
            return Err(format!("{who} did not start with a hello message"));
        };
        if protocol != PROTOCOL_VERSION {
            return Err(format!(
                "{who} speaks worker protocol version {protocol}; this host speaks version {PROTOCOL_VERSION}"
            ));
        }
        if let Some(error) = error {
            return Err(format!("{who} cannot serve: {error}"));
        }
        let info = connector.ok_or_else(|| format!("{who} did not say which connector it runs"))?;
        if info.name != spec.connector {
            return Err(format!(
                "{who} runs connector '{}', but the application names connector '{}'",
                info.name, spec.connector
            ));
        }
        Ok((info, features))
    }

    pub fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    /// Whether the worker announced `feature` in its `hello`.
    pub fn offers(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }

    /// The `export` call (only for a worker that offers [`Feature::Export`]): the schema goes
    /// along only when the worker does not hold it already.
    pub fn export(
        &mut self,
        request: OpenExportRequest,
        entries: Vec<CsEntryChange>,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Reply, Lost> {
        if !self.offers(Feature::Export) {
            // Only a worker restarted from an executable replaced meanwhile gets here: the
            // caller asked the one before; the next attempt asks this one.
            return Ok(Reply::Error(plugin_api::model::ConnectorError::connection(
                "the restarted connector worker does not offer the export call; try again",
            )));
        }
        let held = self.export_schema.take();
        let (schema, keep) = match held {
            Some(held) if held == request.schema => (None, held),
            // A new schema is cloned once, to be held on; the common case sends none.
            _ => (Some(request.schema.clone()), request.schema),
        };
        let reply = self.call(
            |id| HostMessage::Export {
                id,
                batch_size: request.batch_size,
                partition: request.partition,
                schema,
                entries,
            },
            cancelled,
        )?;
        if matches!(reply, Reply::Value(_)) {
            self.export_schema = Some(keep);
        }
        Ok(reply)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn send(&mut self, message: &HostMessage) -> std::io::Result<()> {
        let json = serde_json::to_vec(message).map_err(std::io::Error::other)?;
        match self.stdin.as_mut() {
            Some(stdin) => write_json(stdin, &json),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// Sends the call `build(id)` and waits for its answer, sending `cancel` once `cancelled()`
    /// turns true and killing the worker when the call goes on [`CANCEL_GRACE`] after that.
    pub fn call(
        &mut self,
        build: impl FnOnce(CallId) -> HostMessage,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Reply, Lost> {
        let id = self.next_id;
        self.next_id += 1;
        if self.send(&build(id)).is_err() {
            return Err(Lost::Ended(self.ended()));
        }
        let mut kill_at: Option<Instant> = None;
        loop {
            match self.incoming.recv_timeout(POLL) {
                Ok(Incoming::Message(WorkerMessage::Result { id: got, value })) if got == id => {
                    return Ok(Reply::Value(value));
                }
                Ok(Incoming::Message(WorkerMessage::Error {
                    id: got,
                    kind,
                    message,
                })) if got == id => {
                    return Ok(Reply::Error(plugin_api::model::ConnectorError::new(
                        kind, message,
                    )));
                }
                Ok(Incoming::Page(page)) if page.id == id => return Ok(Reply::Page(page)),
                Ok(Incoming::Message(other)) => {
                    return Err(self.broken(format!(
                        "expected the answer to call {id}, got {}",
                        describe(&other)
                    )));
                }
                Ok(Incoming::Page(page)) => {
                    return Err(self.broken(format!(
                        "expected the answer to call {id}, got an import page for call {}",
                        page.id
                    )));
                }
                Ok(Incoming::Broken(why)) => return Err(self.broken(why)),
                Ok(Incoming::Closed) | Err(RecvTimeoutError::Disconnected) => {
                    return Err(Lost::Ended(self.ended()));
                }
                Err(RecvTimeoutError::Timeout) => match kill_at {
                    None if cancelled() => {
                        // A worker that cannot take the message is killed by the deadline.
                        let _ = self.send(&HostMessage::Cancel { id });
                        kill_at = Some(Instant::now() + CANCEL_GRACE);
                    }
                    Some(at) if Instant::now() >= at => {
                        self.kill();
                        return Err(Lost::Ended(Ending::Hung));
                    }
                    _ => {}
                },
            }
        }
    }

    fn broken(&mut self, why: String) -> Lost {
        self.kill();
        Lost::Broken(why)
    }

    /// Whether the process has ended (without waiting).
    pub fn has_ended(&mut self) -> Option<Ending> {
        let child = self.child.as_mut()?;
        child.try_wait().ok().flatten().map(Ending::of)
    }

    /// How the worker ended, once its stdout closed: it normally exits at once; one that
    /// closed stdout and lingers is killed.
    fn ended(&mut self) -> Ending {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            if let Some(ending) = self.has_ended() {
                return ending;
            }
            if Instant::now() >= deadline {
                self.kill();
                return self.has_ended().unwrap_or(Ending::Signal(9));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for WorkerProcess {
    /// Closes the worker's stdin (it exits on end of input) and reaps it on another thread,
    /// killing it if it has not exited a few seconds later: dropping never waits.
    fn drop(&mut self) {
        // Without flushing: every frame was flushed when sent, and a hung worker's full pipe
        // must not block the drop.
        drop(self.stdin.take().map(|stdin| stdin.into_parts().0));
        if self.has_ended().is_some() {
            return;
        }
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("worker-reaper".into())
            .spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(3);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = child.try_wait() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let _ = child.kill();
                let _ = child.wait();
            });
    }
}

/// Reads the worker's stdout: log messages go to `logs` at once (also while a call runs),
/// everything else to the calling thread.
fn spawn_reader(
    stdout: std::process::ChildStdout,
    tx: Sender<Incoming>,
    logs: HostServices,
    pid: u32,
) -> Result<(), String> {
    std::thread::Builder::new()
        .name(format!("worker-{pid}-out"))
        .spawn(move || {
            let mut stdout = BufReader::with_capacity(64 * 1024, stdout);
            loop {
                let incoming = match read_frame(&mut stdout) {
                    Ok(None) => Incoming::Closed,
                    // A pipe error is the worker going away as much as an end of file is.
                    Err(super::framing::FrameError::Io(_)) => Incoming::Closed,
                    Err(e) => Incoming::Broken(e.to_string()),
                    Ok(Some(Frame::Page(page))) => Incoming::Page(page),
                    Ok(Some(Frame::Json(json))) => {
                        match serde_json::from_slice::<WorkerMessage>(&json) {
                            Ok(WorkerMessage::Log {
                                level,
                                target,
                                message,
                            }) => {
                                let target = if target.is_empty() {
                                    "connector"
                                } else {
                                    &target
                                };
                                logs.log(LogLevel::from(level), target, &message);
                                continue;
                            }
                            Ok(message) => Incoming::Message(message),
                            Err(e) => Incoming::Broken(format!("a message that is not valid: {e}")),
                        }
                    }
                };
                let last = matches!(incoming, Incoming::Closed | Incoming::Broken(_));
                if tx.send(incoming).is_err() || last {
                    return;
                }
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start a thread for a connector worker: {e}"))
}

/// Logs the worker's stderr line by line under the application's name: where a runtime's last
/// words before a crash go, and any output of a connector that does not log through the host.
fn spawn_stderr_logger(
    stderr: std::process::ChildStderr,
    spec: &WorkerSpec,
    pid: u32,
) -> Result<(), String> {
    let (app, connector) = (spec.app.clone(), spec.connector.clone());
    std::thread::Builder::new()
        .name(format!("worker-{pid}-err"))
        .spawn(move || {
            let mut lines = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                match lines.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        let text = text.trim_end();
                        if !text.is_empty() {
                            tracing::warn!(target: "plugin", app = %app, connector = %connector, pid, "worker stderr: {text}");
                        }
                    }
                }
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start a thread for a connector worker: {e}"))
}

/// A message named for an error, without its contents (which may hold secrets).
fn describe(message: &WorkerMessage) -> String {
    match message {
        WorkerMessage::Hello { .. } => "a second hello".to_owned(),
        WorkerMessage::Result { id, .. } => format!("a result for call {id}"),
        WorkerMessage::Error { id, .. } => format!("an error for call {id}"),
        WorkerMessage::Log { .. } => "a log line".to_owned(),
    }
}

/// How a call waits for its answer, against a scripted worker: log lines logged on the way,
/// an answer in pieces, a worker stalled inside its answer, a worker that exits.
#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::{Arc, Mutex};

    use plugin_api::sdk::HostCallbacks;

    use super::*;

    /// A worker in Python speaking the protocol, whose answer to every call is what `mode`
    /// says: `pieces` logs, then sends its result in two pieces 150 ms apart (split inside the
    /// length field); `stall` sends half of its result and never the rest; `exit` logs and
    /// exits with status 3.
    const WORKER: &str = r#"
import json, struct, sys, time
inp, out = sys.stdin.buffer, sys.stdout.buffer
def frame(message):
    data = json.dumps(message).encode()
    return struct.pack("<I", len(data) + 1) + b"\x01" + data
def send(data):
    out.write(data)
    out.flush()
def read():
    head = inp.read(4)
    if len(head) < 4:
        return None
    return json.loads(inp.read(struct.unpack("<I", head)[0])[1:])
mode = sys.argv[1]
read()
send(frame({"type": "hello", "protocol": 1, "connector": {"name": "scripted", "version": "1",
    "vendor": "tests", "description": "", "api_version": "1"}}))
while (message := read()) is not None:
    if message["type"] == "cancel":
        continue
    answer = frame({"type": "result", "id": message["id"], "value": {"mode": mode}})
    if mode == "pieces":
        send(frame({"type": "log", "level": "warn", "target": "scripted", "message": "working"}))
        send(answer[:2])
        time.sleep(0.15)
        send(answer[2:])
    elif mode == "stall":
        send(answer[: len(answer) // 2])
        time.sleep(60)
    else:
        send(frame({"type": "log", "level": "error", "message": "giving up"}))
        sys.exit(3)
"#;

    #[derive(Default)]
    struct Collected(Mutex<Vec<(LogLevel, String, String)>>);

    impl HostCallbacks for Collected {
        fn log(&self, level: LogLevel, target: &str, message: &str) {
            let line = (level, target.to_owned(), message.to_owned());
            self.0.lock().unwrap().push(line);
        }
        fn is_cancelled(&self) -> bool {
            false
        }
    }

    fn start(mode: &str) -> (WorkerProcess, Arc<Collected>) {
        let spec = WorkerSpec {
            program: "python3".into(),
            args: vec!["-c".into(), WORKER.into(), mode.into()],
            app: "tests".into(),
            connector: "scripted".into(),
        };
        let logs = Arc::new(Collected::default());
        let worker = WorkerProcess::start(&spec, HostServices::new(logs.clone()))
            .unwrap_or_else(|e| panic!("the scripted worker starts: {e}"));
        (worker, logs)
    }

    #[test]
    fn an_answer_in_pieces_is_read_whole_with_the_log_lines_before_it_while_watching_cancel() {
        let (mut worker, logs) = start("pieces");
        for round in 0..2 {
            let looks = Cell::new(0);
            let reply = worker.call(|id| HostMessage::TestConnection { id }, &|| {
                looks.set(looks.get() + 1);
                false
            });
            let Ok(Reply::Value(value)) = reply else {
                panic!("round {round}: a value");
            };
            assert_eq!(value, serde_json::json!({"mode": "pieces"}));
            // The calling thread looked at the cancellation flag while the answer came in
            // (150 ms between its pieces, 25 ms steps), however the pipe is read.
            assert!(
                looks.get() >= 3,
                "round {round}: looked {} times",
                looks.get()
            );
            assert_eq!(
                logs.0.lock().unwrap().len(),
                round + 1,
                "each call's log line was logged by the time it returned"
            );
        }
        assert_eq!(
            logs.0.lock().unwrap()[0],
            (LogLevel::Warn, "scripted".to_owned(), "working".to_owned())
        );
    }

    #[test]
    fn a_worker_stalled_inside_its_answer_is_killed_after_cancel() {
        let (mut worker, _) = start("stall");
        let started = Instant::now();
        let reply = worker.call(|id| HostMessage::TestConnection { id }, &|| {
            started.elapsed() > Duration::from_millis(200)
        });
        assert!(matches!(reply, Err(Lost::Ended(Ending::Hung))));
        let took = started.elapsed();
        assert!(
            took >= CANCEL_GRACE && took < CANCEL_GRACE + Duration::from_secs(2),
            "killed {took:?} after the call started"
        );
        assert!(worker.has_ended().is_some(), "the worker is gone");
    }

    #[test]
    fn a_worker_that_exits_during_a_call_is_reported_with_its_status_and_last_log_line() {
        let (mut worker, logs) = start("exit");
        let reply = worker.call(|id| HostMessage::TestConnection { id }, &|| false);
        assert!(matches!(reply, Err(Lost::Ended(Ending::Exit(3)))));
        let logged = logs.0.lock().unwrap();
        assert_eq!(
            logged.as_slice(),
            [(
                LogLevel::Error,
                "connector".to_owned(),
                "giving up".to_owned()
            )]
        );
    }
}
