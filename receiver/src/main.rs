//! `reference-receiver`: serves every provider at `/<provider>` until interrupted, then
//! prints the accepted events as JSON lines.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use hookspec_reference_receiver::{start, Fault, KeyServer, ReceiverConfig, Secrets};

/// The hookspec reference webhook receiver.
#[derive(Debug, Parser)]
#[command(name = "reference-receiver", version)]
struct Args {
    /// Address to listen on; port 0 picks a free one (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Providers to mount, comma-separated, or `all`.
    #[arg(long, default_value = "all", value_delimiter = ',')]
    providers: Vec<String>,
    /// Expected `Authorization: Basic` credentials, `USER:PASS`.
    #[arg(long, value_name = "USER:PASS")]
    basic: Option<String>,
    /// Expected `Authorization: Bearer` token.
    #[arg(long)]
    bearer: Option<String>,
    /// An HMAC signing secret; repeat during a rotation.
    #[arg(long = "secret")]
    secrets: Vec<String>,
    /// An accepted client id for identifying headers; repeatable.
    #[arg(long = "client-id")]
    client_ids: Vec<String>,
    /// Base URL of the API serving JWT verification keys (Plaid's, or a local stand-in).
    #[arg(long)]
    keys_url: Option<String>,
    /// A credential field the key request carries, `NAME=VALUE` (Plaid: client_id, secret).
    #[arg(long = "keys-credential", value_name = "NAME=VALUE")]
    keys_credentials: Vec<String>,
    /// A source network accepted besides the providers' published addresses; repeatable.
    #[arg(long = "allow-ip", value_name = "CIDR")]
    allow_ips: Vec<ipnet::IpNet>,
    /// A proxy whose `X-Forwarded-For` is believed; repeatable. None by default.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Switch on a misbehaviour (for testing conformance suites); repeatable.
    #[arg(long = "fault", value_enum)]
    faults: Vec<Fault>,
}

fn split_pair(s: &str, sep: char, what: &str) -> anyhow::Result<(String, String)> {
    s.split_once(sep)
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| anyhow::anyhow!("{what} must look like A{sep}B"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = ReceiverConfig::all_providers();
    if args.providers != ["all"] {
        config.providers = args.providers;
    }
    config.secrets = Secrets {
        basic: args
            .basic
            .as_deref()
            .map(|b| split_pair(b, ':', "--basic"))
            .transpose()?,
        bearer: args.bearer,
        hmac_secrets: args.secrets,
        client_ids: args.client_ids,
        key_server: match args.keys_url {
            Some(base_url) => Some(KeyServer {
                base_url,
                credentials: args
                    .keys_credentials
                    .iter()
                    .map(|c| split_pair(c, '=', "--keys-credential"))
                    .collect::<anyhow::Result<_>>()?,
            }),
            None => None,
        },
    };
    config.allow_ips = args.allow_ips;
    config.trusted_proxies = args.trusted_proxies;
    config.faults = args.faults;
    let providers = config.providers.join(", ");
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let running = start(config, listener).await?;
    println!("listening on {} ({providers})", running.url());
    tokio::signal::ctrl_c().await?;
    let log = running.log.clone();
    running.shutdown(Duration::from_secs(2)).await;
    for event in log.events() {
        println!("{}", serde_json::to_string(&event)?);
    }
    Ok(())
}
