//! The receiver under test, run by the suite (`--receiver-cmd`): started through the
//! shell, waited for until it accepts connections, its output kept for the report, and
//! its end (an exit or a signal) told apart from a receiver that merely stopped answering.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Lines of output kept (the last ones).
const KEPT_LINES: usize = 200;

/// A running receiver process.
pub struct ReceiverProcess {
    command: String,
    child: Child,
    output: Arc<Mutex<VecDeque<String>>>,
    url: String,
}

/// The environment variable holding the port a started receiver listens on.
pub const PORT_VAR: &str = "HOOKSPEC_RECEIVER_PORT";

/// The port of the first `http://<host>:<port>` in `line`.
fn announced_port(line: &str, host: &str) -> Option<u16> {
    let prefix = format!("http://{host}:");
    let (_, rest) = line.split_once(&prefix)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|p| *p != 0)
}

/// `url` with its port replaced by `port`.
fn with_port(url: &str, port: u16) -> String {
    let mut parsed = url::Url::parse(url).expect("an http URL, checked already");
    parsed.set_port(Some(port)).expect("http URLs have ports");
    let text = parsed.to_string();
    // `Url` adds a `/` path to a bare base URL; the suite appends `/<provider>`.
    if url.ends_with('/') {
        text
    } else {
        text.trim_end_matches('/').to_owned()
    }
}

impl ReceiverProcess {
    /// Starts `command` with `sh -c` and waits up to `ready_timeout` until something
    /// accepts connections at `url`'s host and port. Fails, with what the process printed,
    /// when it exits first or never gets there.
    ///
    /// The command finds the port in `HOOKSPEC_RECEIVER_PORT`. Port 0 in `url` lets the
    /// receiver pick one: it binds port 0 and prints its URL (`http://<host>:<port>`, with
    /// `url`'s host) on a line of its output, and that URL is the one played. Nothing
    /// then has to guess a free port ahead of the receiver.
    pub async fn start(command: &str, url: &str, ready_timeout: Duration) -> Result<Self, String> {
        let mut uri = crate::http::endpoint_uri(url).map_err(|e| format!("--url {e}"))?;
        let port = uri.port_u16().unwrap_or(80);
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .env(PORT_VAR, port.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the receiver `{command}`: {e}"))?;
        let output = Arc::new(Mutex::new(VecDeque::new()));
        let printed = Arc::new(tokio::sync::Notify::new());
        if let Some(out) = child.stdout.take() {
            keep_lines(out, "stdout", output.clone(), printed.clone());
        }
        if let Some(err) = child.stderr.take() {
            keep_lines(err, "stderr", output.clone(), printed.clone());
        }
        let mut process = ReceiverProcess {
            command: command.to_owned(),
            child,
            output,
            url: url.to_owned(),
        };
        let host = uri.host().unwrap_or_default().to_owned();
        let deadline = tokio::time::Instant::now() + ready_timeout;
        let mut announced = port != 0;
        loop {
            if let Some(end) = process.ended() {
                return Err(format!(
                    "the receiver `{command}` {end} before it accepted connections; its output:\n{}",
                    process.output().join("\n")
                ));
            }
            if !announced {
                if let Some(port) = process
                    .output()
                    .iter()
                    .find_map(|l| announced_port(l, &host))
                {
                    process.url = with_port(url, port);
                    uri = crate::http::endpoint_uri(&process.url)?;
                    announced = true;
                }
            }
            if announced && crate::http::accepts_connections(&uri, Duration::from_millis(500)).await
            {
                return Ok(process);
            }
            if tokio::time::Instant::now() >= deadline {
                let waited_for = if announced {
                    format!("accept connections at {}", process.url)
                } else {
                    format!("print the URL it listens at (http://{host}:<port>)")
                };
                return Err(format!(
                    "the receiver `{command}` did not {waited_for} within {}; its output:\n{}",
                    crate::suite::humanize(ready_timeout),
                    process.output().join("\n")
                ));
            }
            // Woken early by new output; polled anyway, since connecting may succeed with
            // nothing printed.
            let _ = tokio::time::timeout(Duration::from_millis(50), printed.notified()).await;
        }
    }

    /// The URL it accepts connections at (`--url`, with the port it announced if that
    /// was 0).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How the process ended (`exited with status 3`, `was killed by signal 9`), or
    /// `None` while it runs.
    pub fn ended(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok()??;
        Some(describe(status))
    }

    /// What it printed, the last lines, each prefixed `stdout: ` or `stderr: `.
    pub fn output(&self) -> Vec<String> {
        self.output
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The command it was started with.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Stops it (if it still runs) and gives a moment for its last output to be read.
    pub async fn stop(&mut self) -> Vec<String> {
        let _ = self.child.kill().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.output()
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "ended".to_owned(),
    }
}

fn keep_lines(
    stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    label: &'static str,
    into: Arc<Mutex<VecDeque<String>>>,
    printed: Arc<tokio::sync::Notify>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut kept = into.lock().unwrap_or_else(|p| p.into_inner());
            if kept.len() == KEPT_LINES {
                kept.pop_front();
            }
            kept.push_back(format!("{label}: {line}"));
            drop(kept);
            printed.notify_waiters();
        }
    });
}

/// Restarts after which a receiver that keeps dying is left down: each death already
/// fails its case, and a receiver that dies on every delivery tells nothing more.
pub const MAX_RESTARTS: usize = 5;

/// The receiver process of a run with `--restart`: started again each time it dies, with
/// each death and every process's output kept for the report.
pub struct Supervisor {
    url: String,
    ready_timeout: Duration,
    state: tokio::sync::Mutex<Supervised>,
}

struct Supervised {
    current: ReceiverProcess,
    /// How each earlier process ended, in words, for the report's notes.
    deaths: Vec<String>,
    /// Output of the processes that ended, with a line between processes.
    earlier_output: Vec<String>,
    /// Whether the current process's end is in `deaths` already (it was not replaced).
    current_noted: bool,
}

/// What a supervised run leaves for the report.
pub struct Finished {
    /// One note per death, restarted or not.
    pub notes: Vec<String>,
    /// Every process's output, oldest first.
    pub output: Vec<String>,
    /// Whether any process of the run died or ended on its own.
    pub died: bool,
}

impl Supervisor {
    /// Supervises `process`. A restarted process must accept connections where the
    /// first one did (the run plays one URL), so it is given that port.
    pub fn new(process: ReceiverProcess, ready_timeout: Duration) -> Supervisor {
        Supervisor {
            url: process.url().to_owned(),
            ready_timeout,
            state: tokio::sync::Mutex::new(Supervised {
                current: process,
                deaths: Vec::new(),
                earlier_output: Vec::new(),
                current_noted: false,
            }),
        }
    }

    /// The URL the supervised receiver accepts connections at.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Records how the current process ended (killing it if it still runs but stopped
    /// accepting connections) and starts the command again, unless it has been
    /// restarted [`MAX_RESTARTS`] times already.
    pub async fn restart(&self, after_case: &str) -> Result<(), String> {
        let mut state = self.state.lock().await;
        let command = state.current.command().to_owned();
        let end = match state.current.ended() {
            Some(end) => end,
            None => {
                let _ = state.current.child.kill().await;
                "stopped accepting connections and was killed".to_owned()
            }
        };
        if state.current_noted {
            return Err("it could not be restarted before".to_owned());
        }
        state.current_noted = true;
        let restarts = state.deaths.len();
        if restarts >= MAX_RESTARTS {
            state.deaths.push(format!(
                "the receiver process `{command}` {end} after {after_case}; not restarted \
                 again after {MAX_RESTARTS} restarts"
            ));
            return Err(format!("{MAX_RESTARTS} restarts already"));
        }
        match ReceiverProcess::start(&command, &self.url, self.ready_timeout).await {
            Ok(next) => {
                let lines = state.current.output();
                state.earlier_output.extend(lines);
                state.deaths.push(format!(
                    "the receiver process `{command}` {end} after {after_case}; restarted \
                     ({} of at most {MAX_RESTARTS})",
                    restarts + 1
                ));
                state
                    .earlier_output
                    .push(format!("hookspec: restarted after {after_case}"));
                state.current = next;
                state.current_noted = false;
                Ok(())
            }
            Err(why) => {
                state.deaths.push(format!(
                    "the receiver process `{command}` {end} after {after_case}; starting it \
                     again failed: {why}"
                ));
                Err("starting it again failed".to_owned())
            }
        }
    }

    /// Stops the current process and gives what the run leaves for the report. When the
    /// current process ended and no restart noted it, its end is a note too, after
    /// `last_died` (the last case that saw a death), if any.
    pub async fn finish(&self, last_died: Option<&str>) -> Finished {
        let mut state = self.state.lock().await;
        let mut notes = std::mem::take(&mut state.deaths);
        let mut died = !notes.is_empty();
        if let Some(end) = state.current.ended() {
            died = true;
            if !state.current_noted {
                let when = last_died.map_or_else(
                    || "during the run".to_owned(),
                    |case| format!("after {case}"),
                );
                notes.push(format!(
                    "the receiver process `{}` {end} {when}",
                    state.current.command()
                ));
            }
        }
        let mut output = std::mem::take(&mut state.earlier_output);
        output.extend(state.current.stop().await);
        Finished {
            notes,
            output,
            died,
        }
    }
}
