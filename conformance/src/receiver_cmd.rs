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
}

impl ReceiverProcess {
    /// Starts `command` with `sh -c` and waits up to `ready_timeout` until something
    /// accepts connections at `url`'s host and port. Fails, with what the process printed,
    /// when it exits first or never gets there.
    pub async fn start(command: &str, url: &str, ready_timeout: Duration) -> Result<Self, String> {
        let uri = crate::http::endpoint_uri(url).map_err(|e| format!("--url {e}"))?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the receiver `{command}`: {e}"))?;
        let output = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(out) = child.stdout.take() {
            keep_lines(out, "stdout", output.clone());
        }
        if let Some(err) = child.stderr.take() {
            keep_lines(err, "stderr", output.clone());
        }
        let mut process = ReceiverProcess {
            command: command.to_owned(),
            child,
            output,
        };
        let deadline = tokio::time::Instant::now() + ready_timeout;
        loop {
            if let Some(end) = process.ended() {
                return Err(format!(
                    "the receiver `{command}` {end} before it accepted connections; its output:\n{}",
                    process.output().join("\n")
                ));
            }
            if crate::http::accepts_connections(&uri, Duration::from_millis(500)).await {
                return Ok(process);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "the receiver `{command}` did not accept connections at {url} within {}; its output:\n{}",
                    crate::suite::humanize(ready_timeout),
                    process.output().join("\n")
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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
    pub async fn stop(mut self) -> Vec<String> {
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
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut kept = into.lock().unwrap_or_else(|p| p.into_inner());
            if kept.len() == KEPT_LINES {
                kept.pop_front();
            }
            kept.push_back(format!("{label}: {line}"));
        }
    });
}
