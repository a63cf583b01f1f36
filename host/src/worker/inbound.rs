//! The worker's side of its stdin: the main thread reads its next call itself, so a call
//! starts as soon as its frame arrives (no hand-over from a reader thread, which costs a
//! thread wake-up per call), and a watcher thread reads what comes while a call runs, which
//! can only be `cancel`.
//!
//! Who reads: the main thread, between calls, holding the input; the watcher, during a call,
//! only bytes that have already arrived (so it never blocks in a read while the main thread
//! wants the input back). The main thread marks the call finished before it writes the
//! answer, and the host sends its next call only after the answer: so the watcher never reads
//! a call.

use std::fs::File;
use std::io::BufReader;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use super::framing::{Frame, read_frame};
use super::messages::HostMessage;

/// How often the watcher looks for `cancel`. The host gives a cancelled call seconds to end,
/// so a tenth of a second is prompt enough, and the thread sleeps in between.
const WATCH: Duration = Duration::from_millis(100);

struct Input {
    reader: BufReader<File>,
    /// A call runs: the watcher may read.
    busy: bool,
}

impl Input {
    /// Reads one message; `None` at the end of input. A frame that breaks the protocol ends
    /// the worker (exit status 2): nothing after it can be understood.
    fn read(&mut self) -> Option<HostMessage> {
        let message = match read_frame(&mut self.reader) {
            Ok(None) => return None,
            Ok(Some(Frame::Json(json))) => serde_json::from_slice::<HostMessage>(&json)
                .map_err(|e| format!("a message that is not valid: {e}")),
            Ok(Some(Frame::Page(_))) => Err("an import page from the host".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        match message {
            Ok(HostMessage::Hello { .. }) => fail("the host sent a second hello"),
            Ok(message) => Some(message),
            Err(why) => fail(&format!("the host broke the protocol: {why}")),
        }
    }

    /// Reads up to the next call; `None` at the end of input.
    fn read_call(&mut self, cancelled: &AtomicBool) -> Option<HostMessage> {
        loop {
            match self.read()? {
                // A late cancel, for a call that ended meanwhile: cancellation is sticky for
                // the worker's life all the same (the host replaces the worker).
                HostMessage::Cancel { .. } => cancelled.store(true, Ordering::Relaxed),
                call => return Some(call),
            }
        }
    }

    /// Whether a read would find something now.
    fn has_data(&self) -> bool {
        !self.reader.buffer().is_empty()
            || rustix::io::ioctl_fionread(self.reader.get_ref().as_fd()).is_ok_and(|n| n > 0)
    }
}

fn fail(why: &str) -> ! {
    eprintln!("ecma-host worker: {why}");
    std::process::exit(2);
}

/// What [`Inbound::next`] found.
pub enum Next {
    Call(HostMessage),
    /// The host closed stdin.
    End,
    /// The previous call's answer could not be written: the host is gone.
    AnswerFailed,
}

/// The host's calls, one at a time.
pub struct Inbound {
    input: Arc<Mutex<Input>>,
    cancelled: Arc<AtomicBool>,
}

impl Inbound {
    /// Starts the watcher; `cancelled` is set when a `cancel` comes.
    pub fn start(reader: BufReader<File>, cancelled: Arc<AtomicBool>) -> std::io::Result<Self> {
        let input = Arc::new(Mutex::new(Input {
            reader,
            busy: false,
        }));
        let watched = Arc::downgrade(&input);
        let flag = cancelled.clone();
        std::thread::Builder::new()
            .name("worker-cancel".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(WATCH);
                    let Some(input) = watched.upgrade() else {
                        return;
                    };
                    let mut input = match input.try_lock() {
                        Ok(input) => input,
                        Err(TryLockError::Poisoned(p)) => p.into_inner(),
                        // The main thread holds it: it is between calls.
                        Err(TryLockError::WouldBlock) => continue,
                    };
                    while input.busy && input.has_data() {
                        match input.read() {
                            Some(HostMessage::Cancel { .. }) => {
                                flag.store(true, Ordering::Relaxed);
                            }
                            Some(_) => fail("the host sent a call while another one ran"),
                            // The host closed stdin: the main thread sees it after the call.
                            None => break,
                        }
                    }
                }
            })?;
        Ok(Self { input, cancelled })
    }

    /// Marks the running call finished, lets `answer` write its answer (false: it could not),
    /// then waits on this thread for the next call.
    pub fn next(&self, answer: impl FnOnce() -> bool) -> Next {
        let mut input = self.lock();
        input.busy = false;
        if !answer() {
            return Next::AnswerFailed;
        }
        match input.read_call(&self.cancelled) {
            Some(call) => {
                input.busy = true;
                Next::Call(call)
            }
            None => Next::End,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Input> {
        self.input.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::OwnedFd;
    use std::time::Instant;

    use super::super::framing::write_json;
    use super::*;

    #[test]
    fn calls_come_one_at_a_time_and_a_cancel_during_one_is_seen() {
        let (reader, mut host) = std::io::pipe().unwrap();
        let input = BufReader::new(File::from(OwnedFd::from(reader)));
        let cancelled = Arc::new(AtomicBool::new(false));
        let inbound = Inbound::start(input, cancelled.clone()).unwrap();
        write_json(&mut host, br#"{"type":"test_connection","id":1}"#).unwrap();
        assert!(matches!(
            inbound.next(|| true),
            Next::Call(HostMessage::TestConnection { id: 1 })
        ));
        // Call 1 runs (this thread does not read): the watcher takes the cancel.
        write_json(&mut host, br#"{"type":"cancel","id":1}"#).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cancelled.load(Ordering::Relaxed) {
            assert!(Instant::now() < deadline, "the cancel was not seen");
            std::thread::sleep(Duration::from_millis(10));
        }
        write_json(&mut host, br#"{"type":"test_connection","id":2}"#).unwrap();
        let mut answered = false;
        let next = inbound.next(|| {
            answered = true;
            true
        });
        assert!(answered, "the answer goes out before the next call is read");
        assert!(matches!(
            next,
            Next::Call(HostMessage::TestConnection { id: 2 })
        ));
        drop(host);
        assert!(matches!(inbound.next(|| true), Next::End));
        assert!(matches!(inbound.next(|| false), Next::AnswerFailed));
    }
}
