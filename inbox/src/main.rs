//! `hookspec-inbox`: look into an inbox and act on it — list, show, retry dead letters,
//! replay handled deliveries, purge, and count.

use std::io::Write as _;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use hookspec_inbox::{AnyStore, Filter, State, Store, StoredDelivery};

/// Operate a hookspec inbox.
#[derive(Debug, Parser)]
#[command(name = "hookspec-inbox", version)]
struct Cli {
    /// The store: `sqlite://PATH`, `postgres://USER@HOST/DB` or `nats://HOST:PORT`.
    #[arg(long, env = "HOOKSPEC_INBOX")]
    store: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Deliveries matching the filter, oldest first.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// `text` (one line each) or `json` (one object per line).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// One delivery in full: headers, body and history.
    Show {
        /// Its id, as `list` shows it.
        id: u64,
    },
    /// Dead letters matching the filter become pending again, attempts reset.
    Retry {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Handled (done or dead) deliveries matching the filter are handled again.
    Replay {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Deletes deliveries matching the filter; at least one filter, or `--all`.
    Purge {
        #[command(flatten)]
        filter: FilterArgs,
        /// Only deliveries received longer ago than this (`7d`, `12h`): retention.
        #[arg(long, value_parser = humantime::parse_duration)]
        older_than: Option<Duration>,
        /// Purge everything the other filters match, even with no filter.
        #[arg(long)]
        all: bool,
    },
    /// Counts per state and the age of the oldest pending delivery.
    Stats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
struct FilterArgs {
    /// Only this provider.
    #[arg(long)]
    provider: Option<String>,
    /// Only this event.
    #[arg(long)]
    event: Option<String>,
    /// Only these states (`pending`, `processing`, `done`, `dead`); repeatable.
    #[arg(long = "state", value_parser = parse_state)]
    states: Vec<State>,
    /// Received at or after: RFC 3339 (`2026-11-30T10:00:00Z`) or an age (`2h`).
    #[arg(long, value_parser = parse_time)]
    since: Option<SystemTime>,
    /// Received before: RFC 3339 or an age.
    #[arg(long, value_parser = parse_time)]
    until: Option<SystemTime>,
}

impl FilterArgs {
    fn filter(&self) -> Filter {
        Filter {
            provider: self.provider.clone(),
            event: self.event.clone(),
            states: self.states.clone(),
            since: self.since,
            until: self.until,
            id: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.filter() == Filter::default()
    }
}

fn parse_state(s: &str) -> Result<State, String> {
    State::parse(s)
        .ok_or_else(|| format!("{s:?} is not a state: pending, processing, done or dead"))
}

fn parse_time(s: &str) -> Result<SystemTime, String> {
    if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        return Ok(t);
    }
    let age = humantime::parse_duration(s)
        .map_err(|_| format!("{s:?} is neither an RFC 3339 time nor an age such as 2h"))?;
    SystemTime::now()
        .checked_sub(age)
        .ok_or_else(|| format!("{s} ago is before the epoch"))
}

fn line(d: &StoredDelivery) -> String {
    format!(
        "{:>8}  {:<10}  {}  {:<12} {:<36} {}  attempts={}{}",
        d.id,
        d.state,
        humantime::format_rfc3339_millis(d.delivery.received_at),
        d.delivery.provider,
        d.delivery.event,
        d.delivery.idempotency_key,
        d.attempts,
        d.last_error
            .as_deref()
            .map(|e| format!("  last_error={e}"))
            .unwrap_or_default()
    )
}

fn json(d: &StoredDelivery) -> serde_json::Value {
    let ms = |t: SystemTime| hookspec_inbox::store::to_ms(t);
    serde_json::json!({
        "id": d.id,
        "state": d.state.as_str(),
        "provider": d.delivery.provider,
        "event": d.delivery.event,
        "idempotency_key": d.delivery.idempotency_key,
        "received_at_ms": ms(d.delivery.received_at),
        "peer": d.delivery.peer.map(|p| p.to_string()),
        "attempts": d.attempts,
        "next_attempt_at_ms": ms(d.next_attempt_at),
        "last_error": d.last_error,
        "done_at_ms": d.done_at.map(ms),
        "headers": d.delivery.headers,
        "body": String::from_utf8_lossy(&d.delivery.body),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let store = AnyStore::open(&cli.store)
        .await
        .with_context(|| format!("opening the inbox at {}", cli.store))?;
    let out = &mut std::io::stdout().lock();
    match cli.command {
        Command::List {
            filter,
            limit,
            format,
        } => {
            for d in store.list(&filter.filter(), limit).await? {
                match format {
                    Format::Text => writeln!(out, "{}", line(&d))?,
                    Format::Json => writeln!(out, "{}", json(&d))?,
                }
            }
        }
        Command::Show { id } => {
            let filter = Filter {
                id: Some(id),
                ..Filter::default()
            };
            let found = store.list(&filter, 1).await?;
            let d = found
                .first()
                .with_context(|| format!("no delivery {id} in the inbox"))?;
            writeln!(out, "{}", serde_json::to_string_pretty(&json(d))?)?;
        }
        Command::Retry { filter } => {
            let n = store
                .requeue(&filter.filter().in_states(&[State::Dead]))
                .await?;
            writeln!(out, "{n} dead letters pending again")?;
        }
        Command::Replay { filter } => {
            let handled = filter.filter().in_states(&[State::Done, State::Dead]);
            let n = store.requeue(&handled).await?;
            writeln!(out, "{n} deliveries to be handled again")?;
        }
        Command::Purge {
            filter,
            older_than,
            all,
        } => {
            if filter.is_empty() && older_than.is_none() && !all {
                anyhow::bail!("purge needs a filter, --older-than or --all");
            }
            let mut f = filter.filter();
            if let Some(age) = older_than {
                let before = SystemTime::now()
                    .checked_sub(age)
                    .context("--older-than reaches before the epoch")?;
                f.until = Some(f.until.map_or(before, |u| u.min(before)));
            }
            let n = store.purge(&f).await?;
            writeln!(out, "{n} deliveries purged")?;
        }
        Command::Stats => {
            let stats = store.stats().await?;
            for state in State::ALL {
                writeln!(out, "{:<10} {}", state.as_str(), stats.count(state))?;
            }
            match stats.oldest_pending {
                Some(t) => {
                    let age = SystemTime::now().duration_since(t).unwrap_or_default();
                    writeln!(
                        out,
                        "oldest pending: {} ({} ago)",
                        humantime::format_rfc3339_millis(t),
                        humantime::format_duration(Duration::from_secs(age.as_secs()))
                    )?;
                }
                None => writeln!(out, "oldest pending: none")?,
            }
        }
    }
    Ok(())
}
